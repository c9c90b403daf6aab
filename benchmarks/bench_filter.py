"""Filter speed on 1,000,000 synthetic events (target: combined filter under 20 ms median).

    python benchmarks/bench_filter.py [--rows 1000000] [--runs 200]

Times ``FilterState.mask`` for a combined filter (date range + munitions +
outcomes): the first call on a frame (which also encodes the text columns once)
and the median and 90th percentile over many calls with varying filters, in
wall-clock time and in CPU time (the latter shows less of other programs on a
busy machine). Also times facet counts, a text search, a bounding box and
``summarize``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time

import numpy as np

from geodata import FilterState, facet_counts
from geodata.sample import make_sample
from geodata.stats import summarize
from timing import line, times  # benchmarks/timing.py

TARGET_MS = 20.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    frame = make_sample(seed=1, n=args.rows, days=730)
    print(f"generated {len(frame):,} events in {time.perf_counter() - start:.1f} s")

    rng = np.random.default_rng(0)
    munitions = sorted(frame["munition"].unique())
    first_day = frame["occurred_at"].min().tz_convert("Europe/Kyiv").date()

    def random_state() -> FilterState:
        begin = first_day + dt.timedelta(days=int(rng.integers(0, 500)))
        return FilterState(
            start=begin,
            end=begin + dt.timedelta(days=int(rng.integers(7, 200))),
            munitions=frozenset(rng.choice(munitions, size=int(rng.integers(1, 6)), replace=False)),
            outcomes=frozenset(rng.choice(["impact", "intercepted", "deviated", "debris"], size=2, replace=False)),
        )

    states = [random_state() for _ in range(args.runs)]
    start = time.perf_counter()
    kept = states[0].mask(frame).sum()
    cold = (time.perf_counter() - start) * 1000
    print(f"{'combined filter, first call on the frame':<46} {cold:7.2f} ms   (keeps {kept:,} rows)")
    it = iter(states * 2)
    combined = times(lambda: next(it).mask(frame), args.runs)
    print(line("combined filter (date + munitions + outcomes)", combined))
    state = states[0]
    print(line("facet counts, munitions", times(lambda: facet_counts(frame, state, "munitions"), 50)))
    print(line("facet counts, outcomes", times(lambda: facet_counts(frame, state, "outcomes"), 50)))
    print(line("text search 'kharkiv'", times(lambda: FilterState(text="kharkiv").mask(frame), 20)))
    box = FilterState(bbox=(30.0, 50.0, 31.0, 51.0))
    print(line("bounding box", times(lambda: box.mask(frame), 20)))
    sub = frame[state.mask(frame)]
    print(line(f"summarize ({len(sub):,} filtered rows)", times(lambda: summarize(sub), 20)))
    print(line(f"summarize (all {len(frame):,} rows)", times(lambda: summarize(frame), 10)))
    median = statistics.median(combined[0])
    verdict = "met" if median < TARGET_MS else "NOT met"
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"target: combined filter median under {TARGET_MS:.0f} ms on {len(frame):,} events: {verdict} "
          f"({median:.2f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
