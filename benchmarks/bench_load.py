"""Load speed: read_incidents on a 1,000,000-row CSV against the floor, measured in the same run.

Usage: python benchmarks/bench_load.py [--rows N] [--repeat K]
The file (local times, munition aliases, mixed outcome words) is made once in benchmarks/data/
(git-ignored) and reused. The floor is what any checked load must do at least: pyarrow's bare
read of the file plus ``shapely.points`` for its coordinates (a GeoDataFrame needs one shapely
Point per row). Each run times the bare read, the points and read_incidents one after another,
so all three see the same machine load; the ratio is the median of the per-run ratios.
read_incidents makes the points in a second thread while it checks the other columns, so on a
machine with a free core part of the checks is hidden behind them, and with Python's cyclic
garbage collector paused (a million new objects set it off again and again); the second ratio
printed gives the floor the same pause, the strictest comparison. Each timed call also frees
its result (about 0.09 s for a million points).
"""
from __future__ import annotations

import argparse
import gc
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.csv as pacsv
import shapely

from geodata import read_incidents

DATA = Path(__file__).parent / "data"

_PLACES = [  # (location, oblast, lat, lon)
    ("Kyiv", "Kyiv City", 50.45, 30.52), ("Kharkiv", "Kharkiv Oblast", 49.99, 36.23),
    ("Odesa", "Odesa Oblast", 46.48, 30.72), ("Dnipro", "Dnipropetrovsk Oblast", 48.46, 35.05),
    ("Zaporizhzhia", "Zaporizhzhia Oblast", 47.84, 35.14), ("Lviv", "Lviv Oblast", 49.84, 24.03),
    ("Sumy", "Sumy Oblast", 50.91, 34.80), ("Mykolaiv", "Mykolaiv Oblast", 46.97, 31.99),
]
_MUNITIONS = ["Shahed-136", "Geran-2", "Kh-101", "KN-23", "Iskander-M", "Kalibr", "KAB", "S-300", "Kh-59", "Gerbera"]
_OUTCOMES = ["intercepted", "impact", "deviated", "debris", "shot down", "hit"]


def make_csv(path: Path, rows: int, seed: int = 1) -> None:
    """A CSV shaped like a real verification spreadsheet (local times, aliases, mixed outcomes)."""
    rng = np.random.default_rng(seed)
    place = rng.integers(0, len(_PLACES), rows)
    lat = np.array([p[2] for p in _PLACES])[place] + rng.normal(0, 0.08, rows)
    lon = np.array([p[3] for p in _PLACES])[place] + rng.normal(0, 0.12, rows)
    start = np.datetime64("2023-01-01T00:00")
    when = start + rng.integers(0, 2 * 365 * 24 * 60, rows).astype("timedelta64[m]")
    frame = pd.DataFrame({
        "event_id": [f"ev-{i:07d}" for i in range(rows)],
        "occurred_at": pd.DatetimeIndex(when).strftime("%Y-%m-%d %H:%M"),
        "latitude": lat.round(5),
        "longitude": lon.round(5),
        "location": np.array([p[0] for p in _PLACES])[place],
        "admin1": np.array([p[1] for p in _PLACES])[place],
        "geo_precision": rng.choice(["exact", "settlement", "region"], rows, p=[0.6, 0.3, 0.1]),
        "munition": rng.choice(_MUNITIONS, rows),
        "outcome": rng.choice(_OUTCOMES, rows),
        "killed": np.where(rng.random(rows) < 0.9, 0, rng.integers(1, 5, rows)),
        "injured": np.where(rng.random(rows) < 0.8, 0, rng.integers(1, 12, rows)),
        "source": "synthetic benchmark",
        "source_url": "https://example.org/report",
        "notes": rng.choice(["", "night attack", "debris fell on a house", "air defence active"], rows),
    })
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    path = DATA / f"bench_load_{args.rows}.csv"  # own name: make_data.py writes incidents_*.csv
    if not path.exists():
        print(f"making {path} ...")
        make_csv(path, args.rows)
    result = read_incidents(path)  # warm-up, and a check that the file loads whole
    assert result.report.rows_loaded == args.rows, result.report.to_text()[:2000]
    xs, ys = result.frame.geometry.x.to_numpy(), result.frame.geometry.y.to_numpy()
    del result
    bare, full, points, quiet = [], [], [], []
    for _ in range(args.repeat):  # interleaved, so all of them see the same machine load
        bare.append(_timed(lambda: pacsv.read_csv(path)))
        points.append(_timed(lambda: shapely.points(xs, ys)))
        quiet.append(_timed(lambda: _without_collector(lambda: shapely.points(xs, ys))))
        full.append(_timed(lambda: read_incidents(path)))
    floor = [b + q for b, q in zip(bare, points)]
    strict = [b + q for b, q in zip(bare, quiet)]
    ratios = [f / fl for f, fl in zip(full, floor)]
    strict_ratios = [f / fl for f, fl in zip(full, strict)]
    median = statistics.median
    print(f"rows: {args.rows:,}  file: {path.stat().st_size / 1e6:.0f} MB  runs: {args.repeat} (medians)")
    print(f"pyarrow.csv.read_csv (bare):   {median(bare):.3f} s")
    print(f"shapely.points (coordinates):  {median(points):.3f} s "
          f"({median(quiet):.3f} s with the garbage collector paused, as read_incidents makes them)")
    print(f"floor (the two together):      {median(floor):.3f} s")
    print(f"read_incidents (checked):      {median(full):.3f} s")
    print(f"ratio to the floor: {median(ratios):.2f}x (median of per-run ratios; target: at most 1.3x; "
          f"runs {', '.join(f'{r:.2f}' for r in ratios)})")
    print(f"ratio to the floor with its points made with the collector paused too: {median(strict_ratios):.2f}x")


def _without_collector(fn):
    """``fn()`` with Python's cyclic garbage collector paused, as read_incidents makes its points."""
    gc.disable()
    try:
        return fn()
    finally:
        gc.enable()


if __name__ == "__main__":
    main()
