"""Matching speed and memory: two sources of 100,000 and of 1,000,000 reports each.

    python benchmarks/bench_match.py [--sizes 100000 1000000] [--runs 5] [--days 1095]

Targets: 100k x 100k under 3 s, 1M x 1M under 60 s and 2 GB. For each size, two sources
(``cir.csv``, ``bellingcat.csv`` of :mod:`geodata.multisource`, each telling 70% of the
strikes) are generated over ``--days`` days, then ``match_reports`` is timed (wall-clock
median and CPU median over ``--runs`` runs, the first run separately: it also loads the
gazetteer's settlements). Peak memory is the process's peak resident set while matching
(the generated frames included: the peak is reset after generating them, on Linux), and
the frames' own share is said. Precision and recall of matched pairs against the known
truth are printed, and the time to list the groups (``to_json``) and to merge one row per
strike (``merge_reports``).
"""
from __future__ import annotations

import argparse
import gc
import statistics
import time
from pathlib import Path

from geodata.match import match_reports, merge_reports
from geodata.multisource import make_multisource, pair_quality

TARGET_S = {100_000: 3.0, 1_000_000: 60.0}
MEMORY_TARGET_MB = 2048


def _status(field: str) -> float:
    """A VmHWM/VmRSS figure of this process in MB (0 where /proc is missing)."""
    status = Path("/proc/self/status")
    if not status.exists():
        return 0.0
    for line in status.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _reset_peak() -> bool:
    """Reset the peak resident set (Linux: writing 5 to clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def run(size: int, runs: int, days: int) -> None:
    start = time.perf_counter()
    data = make_multisource(int(size / 0.7), days=days, seed=7, sources=("cir.csv", "bellingcat.csv"),
                            coverage={"cir.csv": 0.7, "bellingcat.csv": 0.7})
    sizes = {k: len(f) for k, f in data.frames.items()}
    print(f"\n{size:,} a side: generated {sizes} ({len(data.strikes):,} strikes over {days} days) "
          f"in {time.perf_counter() - start:.0f} s")
    gc.collect()
    frames_mb = _status("VmRSS")
    exact_peak = _reset_peak()
    wall, cpu, result = [], [], None
    for i in range(runs):
        result = None
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        result = match_reports(data.frames)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        if i == 0:
            print(f"  first run {wall[0]:.2f} s (loads the settlement index)")
    peak = _status("VmHWM")
    later = wall[1:] or wall
    target = TARGET_S.get(size)
    verdict = "" if target is None else (" (target < %.0f s: %s)" % (target, "met" if statistics.median(later) < target
                                                                   else "NOT met"))
    print(f"  match_reports: median {statistics.median(later):.2f} s, CPU median {statistics.median(cpu[1:] or cpu):.2f}"
          f" s over {len(later)} runs{verdict}")
    print(f"  peak RSS while matching {peak:,.0f} MB ({'peak reset after generating' if exact_peak else 'whole run'};"
          f" frames and interpreter {frames_mb:,.0f} MB; target < {MEMORY_TARGET_MB} MB: "
          f"{'met' if peak < MEMORY_TARGET_MB else 'NOT met'})")
    q = pair_quality(data, result.strike)
    print(f"  {result.records:,} reports -> {result.events:,} strikes ({result.matched:,} matched; "
          f"{len(result.possible):,} toss-ups left apart); pairs: precision {q.precision:.2%}, recall {q.recall:.2%}")
    t0 = time.perf_counter()
    result.to_json()
    print(f"  groups with reasons (to_json): {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    merged = merge_reports(data.frames, result)
    print(f"  merge_reports: {time.perf_counter() - t0:.2f} s ({len(merged):,} rows)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--days", type=int, default=1095, help="days the strikes spread over (default 3 years)")
    args = parser.parse_args(argv)
    for size in args.sizes:
        run(size, args.runs if size <= 200_000 else max(2, min(args.runs, 3)), args.days)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
