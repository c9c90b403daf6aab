"""Counting each strike once, as the app does it off the GUI thread: match, merge, strike rows.

    python benchmarks/bench_strikes.py [--reports 100000] [--runs 3]

Three sources of :mod:`geodata.multisource` (about ``--reports`` reports in all) are put in one
frame as the app holds open files (a ``dataset`` column), and
:func:`geodata.strikes.count_strikes` is timed (wall-clock median over ``--runs``; the first
run also loads the gazetteer's settlements and is shown apart), with its parts: matching
(:func:`geodata.match.match_reports`) and the rest (one row per strike). Then the groups the
Matches panel lists (sorted by confidence) and the filter on the strike rows.
"""
from __future__ import annotations

import argparse
import statistics
import time

import geopandas as gpd
import pandas as pd

from geodata import FilterState
from geodata.match import match_reports
from geodata.multisource import make_multisource
from geodata.strikes import count_strikes, strike_counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    data = make_multisource(int(args.reports / 2.0), days=1095, seed=11)  # about 2 reports per strike
    frames = [f.assign(dataset=f"/data/{key}") for key, f in data.frames.items()]
    reports = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs="EPSG:4326")
    print(f"{len(reports):,} reports in {len(frames)} sources ({len(data.strikes):,} true strikes)")
    total, matching = [], []
    strikes = None
    for i in range(args.runs):
        t0 = time.perf_counter()
        match_reports(data.frames)
        matching.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        strikes = count_strikes(reports)
        total.append(time.perf_counter() - t0)
        if i == 0:
            print(f"  first run: count_strikes {total[0]:.2f} s (loads the settlement index)")
    later, match_later = total[1:] or total, matching[1:] or matching
    n, m, k = strike_counts(strikes.frame)
    print(f"  count_strikes: median {statistics.median(later):.2f} s (matching {statistics.median(match_later):.2f} s, "
          f"strike rows {statistics.median(later) - statistics.median(match_later):.2f} s): "
          f"{n:,} strikes from {m:,} reports ({k:,} matched)")
    t0 = time.perf_counter()
    listed = sorted(strikes.result.groups, key=lambda g: g.confidence)
    print(f"  groups for the Matches panel: {len(listed):,} in {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    shown = FilterState(outcomes=frozenset({"impact"})).mask(strikes.frame)
    print(f"  a filter on the strike rows: {int(shown.sum()):,} shown in {time.perf_counter() - t0:.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
