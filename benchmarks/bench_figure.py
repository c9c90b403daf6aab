"""Print figure of 100k events: A4 landscape at 300 dpi, PNG (target: under 5 s).

Run: ``python benchmarks/bench_figure.py [--events 100000] [--runs 5]``. Prints the
median and the spread of full render-and-save times (basemap cached after the
first run, as in a session that exports several figures), plus the first run.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from geodata.sample import make_sample
from mapviewer.export.figure import render_figure


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--page", default="A4-landscape")
    parser.add_argument("--format", default="png", choices=("png", "pdf", "svg"))
    args = parser.parse_args()

    frame = make_sample(n=args.events)
    print(f"{len(frame):,} events, page {args.page}, 300 dpi, {args.format.upper()}")
    times = []
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / f"figure.{args.format}"
        for run in range(args.runs):
            start = time.perf_counter()
            render_figure(frame, title="Benchmark", page=args.page, dpi=300, out=out)
            times.append(time.perf_counter() - start)
            print(f"run {run + 1}: {times[-1]:.2f} s")
        size = out.stat().st_size
    print(f"first run {times[0]:.2f} s (basemap loaded); median {statistics.median(times):.2f} s, "
          f"min {min(times):.2f} s, max {max(times):.2f} s; file {size / 1e6:.1f} MB; target < 5 s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
