"""Timeline timings: re-binning after a filter change with 1,000,000 events, and a 60-frame MP4.

Run: ``python benchmarks/bench_timeline.py [--events 1000000] [--mp4-events 100000] [--skip-mp4]
[--skip-rebin] [--workers N]``
Targets: re-binning (and the panel's redraw) under 100 ms; the MP4 under 60 s.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata import FilterState
from geodata.schema import (
    GEO_PRECISION_DTYPE,
    MUNITION_CLASS_DTYPE,
    OUTCOME_DTYPE,
    OUTCOMES,
    TIME_PRECISION_DTYPE,
)
from geodata.timeline import TimelineIndex

MUNITIONS = {"KN-23": "ballistic missile", "Shahed-136": "loitering munition", "Kh-101": "cruise missile",
             "KAB": "guided bomb", "S-300": "surface-to-air missile", "Gerbera": "decoy"}


def synthetic_frame(n: int, days: int, seed: int = 7) -> gpd.GeoDataFrame:
    """``n`` canonical events over ``days`` days in Ukraine's bounding box; 10 % dated to the day, 2 % to the month."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01", tz="Europe/Kyiv").value
    times = start + rng.integers(0, days * 86400, n) * 10**9
    names = list(MUNITIONS)
    munition = rng.choice(names, n)
    return gpd.GeoDataFrame({
        "event_id": pd.array([f"B-{i}" for i in range(n)], dtype="string"),
        "occurred_at": pd.to_datetime(times, utc=True),
        "time_precision": pd.Categorical(rng.choice(["exact", "day", "month"], n, p=[0.88, 0.1, 0.02]),
                                         dtype=TIME_PRECISION_DTYPE),
        "geometry": gpd.points_from_xy(rng.uniform(23, 39, n), rng.uniform(45.5, 51.5, n), crs="EPSG:4326"),
        "location": pd.array(["Somewhere"] * n, dtype="string"),
        "admin1": pd.array(rng.choice(["Kyiv Oblast", "Kharkiv Oblast", "Odesa Oblast"], n), dtype="string"),
        "geo_precision": pd.Categorical(["exact"] * n, dtype=GEO_PRECISION_DTYPE),
        "munition": pd.array(munition, dtype="string"),
        "munition_class": pd.Categorical([MUNITIONS[m] for m in munition], dtype=MUNITION_CLASS_DTYPE),
        "outcome": pd.Categorical(rng.choice(OUTCOMES, n, p=[0.3, 0.5, 0.1, 0.05, 0.05]), dtype=OUTCOME_DTYPE),
        "killed": pd.array([None] * n, dtype="Int64"),
        "injured": pd.array([None] * n, dtype="Int64"),
        "source": pd.array(["bench"] * n, dtype="string"),
        "source_url": pd.array([None] * n, dtype="string"),
        "notes": pd.array([""] * n, dtype="string"),
    }, geometry="geometry")


def _median_ms(fn, repeat: int = 7) -> float:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def bench_rebin(n: int) -> None:
    frame = synthetic_frame(n, days=730)
    print(f"{n:,} events over two years")
    t0 = time.perf_counter()
    index = TimelineIndex.from_frame(frame)
    print(f"  index (once per data load):            {(time.perf_counter() - t0) * 1000:8.1f} ms")
    for unit in ("hour", "day", "week", "month"):
        t0 = time.perf_counter()
        index.histogram(None, unit)
        print(f"  first {unit:5} histogram (bins cached):   {(time.perf_counter() - t0) * 1000:8.1f} ms")
    filters = [FilterState(outcomes={"impact"}), FilterState(munition_classes={"ballistic missile", "cruise missile"}),
               FilterState(munitions={"Shahed-136"}, outcomes={"intercepted", "impact"})]
    masks = [f.mask(frame, skip="date") for f in filters]
    mask_ms = _median_ms(lambda: [f.mask(frame, skip="date") for f in filters]) / len(filters)
    print(f"  filter mask (geodata.filters, per filter): {mask_ms:6.1f} ms")
    for unit in ("day", "hour"):
        for by in ("outcome", "class"):
            ms = _median_ms(lambda: [index.histogram(m, unit, by) for m in masks]) / len(masks)
            print(f"  re-bin after a filter change ({unit}, {by}): {ms:6.1f} ms")
    _bench_panel(frame)


def _bench_panel(frame: gpd.GeoDataFrame) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from geodata.report import LoadReport
    from mapviewer.state import AppState
    from mapviewer.panels.timeline import TimelinePanel

    app = QApplication.instance() or QApplication(sys.argv[:1])
    state = AppState()
    state.add_dataset("bench", frame, LoadReport("bench", "synthetic", len(frame), len(frame), 0))
    panel = TimelinePanel(state)
    panel.resize(1400, 220)
    panel.show()
    app.processEvents()
    panel.view.grab()  # first paint builds the unit's bins

    filters = [FilterState(outcomes={"impact"}), FilterState(outcomes={"intercepted"})]
    turn = [0]

    def change_filter() -> None:
        # What the panel does on state.filter_changed (the state's own mask is the filter work's cost).
        turn[0] += 1
        state.filter = filters[turn[0] % 2]
        panel._on_filter_changed()
        panel.view.repaint()

    print(f"  panel: filter change + repaint, 1400 px:  {_median_ms(change_filter):6.1f} ms")

    def date_change() -> None:
        turn[0] += 1
        state.filter = filters[0].replace(start=pd.Timestamp("2024-03-01").date(),
                                          end=pd.Timestamp(f"2024-03-{1 + turn[0] % 20:02d}").date())
        panel._on_filter_changed()
        panel.view.repaint()

    print(f"  panel: date change (playback frame), repaint: {_median_ms(date_change):4.1f} ms")
    panel.close()


def bench_mp4(n: int, frames: int = 60, workers: int | None = None) -> None:
    from mapviewer.export.animation import export_animation

    frame = synthetic_frame(n, days=frames)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "bench.mp4"
        t0 = time.perf_counter()
        count = export_animation(frame, out, filter_state=FilterState(), step="1d", window="7d", fmt="mp4",
                                 title="Benchmark", page="A4-landscape", dpi=100, workers=workers)
        seconds = time.perf_counter() - t0
        size = out.stat().st_size
    from mapviewer.export.animation import default_workers

    used = default_workers(count) if workers is None else workers
    print(f"MP4: {count} frames of {n:,} events (7-day window, A4 at 100 dpi, {used} process(es)): {seconds:.1f} s "
          f"({seconds / count * 1000:.0f} ms/frame, {size / 1e6:.1f} MB)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--mp4-events", type=int, default=100_000)
    parser.add_argument("--skip-mp4", action="store_true")
    parser.add_argument("--skip-rebin", action="store_true")
    parser.add_argument("--workers", type=int, default=None, help="drawing processes for the MP4 (default: automatic)")
    args = parser.parse_args()
    if not args.skip_rebin:
        bench_rebin(args.events)
    if not args.skip_mp4:
        bench_mp4(args.mp4_events, workers=args.workers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
