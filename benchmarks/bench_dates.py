"""Date parsing speed: geodata.timeparse.parse_times on 1,000,000 values of each date layout.

Usage: python benchmarks/bench_dates.py [--rows N] [--repeat K]
ISO 8601 and DD.MM.YYYY columns take Arrow's native parsers; DD/MM/YYYY, DD-MM-YYYY (order
decided from the data), two-digit years and month names are read by regular expressions,
vectorised. Median of K runs per layout.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from geodata.timeparse import parse_times

LAYOUTS = ("%Y-%m-%d %H:%M", "%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y", "%d/%m/%Y %H:%M", "%d-%m-%Y", "%d %B %Y",
           "%b %d, %Y")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    minutes = rng.integers(0, 2 * 365 * 24 * 60, args.rows).astype("timedelta64[m]")
    when = pd.DatetimeIndex(np.datetime64("2023-01-01T00:00") + minutes)
    print(f"rows: {args.rows:,}  runs: {args.repeat} (median)")
    for layout in LAYOUTS:
        values = pd.Series(when.strftime(layout))
        runs = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            parsed = parse_times(values, tz="Europe/Kyiv")
            runs.append(time.perf_counter() - t0)
        assert not parsed.bad.any(), layout
        print(f"{layout:16s} {statistics.median(runs):6.3f} s")


if __name__ == "__main__":
    main()
