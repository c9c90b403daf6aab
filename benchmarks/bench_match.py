"""Matching speed and memory: two sources of 100,000 and of 1,000,000 reports each.

    python benchmarks/bench_match.py [--sizes 100000 1000000] [--runs 5] [--days 1095]

Targets: 100k x 100k under 3 s, 1M x 1M under 60 s and 2 GB. For each size, two sources
(``cir.csv`` and ``bellingcat.csv`` of :mod:`geodata.multisource`, each telling 70% of the
strikes) are generated over ``--days`` days and written as GeoParquet to a temporary
folder; a fresh Python process then loads them (as an app holds its open files) and times
``match_reports``: wall-clock median and CPU median over ``--runs`` runs, the first run
apart (it also loads the gazetteer's settlements). Memory: the process's resident set with
the frames loaded, and its peak while matching (Linux /proc). Also printed: precision and
recall of matched pairs against the known truth, and the time to list the groups with their
reasons (``to_json``) and to merge one row per strike (``merge_reports``).

The strikes are far denser than in the tests' generator (``--days 1095``: some 130 strikes a
day for 100k, 1,300 for 1M, on the same towns), so many more reports are toss-ups and the
quality figures are lower than on realistic data; the point here is speed and memory.
"""
from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

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


def child(folder: Path, runs: int) -> None:
    """Load the frames written by ``run`` and time the matching (prints one JSON line)."""
    import geopandas as gpd

    from geodata.match import match_reports, merge_reports
    from geodata.multisource import MultiSource, pair_quality

    keys = json.loads((folder / "keys.json").read_text())
    frames = {k: gpd.read_parquet(folder / f"{k}.parquet") for k in keys}
    truth = {k: np.load(folder / f"{k}.npy") for k in keys}
    gc.collect()
    loaded = _status("VmRSS")
    exact_peak = _reset_peak()
    wall, cpu, result = [], [], None
    for _ in range(runs):
        result = None
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        result = match_reports(frames)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    peak = _status("VmHWM")
    quality = pair_quality(MultiSource(frames, truth, None), result.strike)
    t0 = time.perf_counter()
    result.to_json()
    groups_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    merged = merge_reports(frames, result)
    merge_s = time.perf_counter() - t0
    print(json.dumps({
        "wall": wall, "cpu": cpu, "loaded_mb": loaded, "peak_mb": peak, "exact_peak": exact_peak,
        "records": result.records, "events": result.events, "matched": result.matched,
        "tossups": len(result.possible), "precision": quality.precision, "recall": quality.recall,
        "groups_s": groups_s, "merge_s": merge_s, "merged_rows": len(merged),
    }))


def run(size: int, runs: int, days: int) -> None:
    from geodata.multisource import make_multisource

    start = time.perf_counter()
    data = make_multisource(int(size / 0.7), days=days, seed=7, sources=("cir.csv", "bellingcat.csv"),
                            coverage={"cir.csv": 0.7, "bellingcat.csv": 0.7})
    sizes = {k: len(f) for k, f in data.frames.items()}
    print(f"\n{size:,} a side: generated {sizes} ({len(data.strikes):,} strikes over {days} days) "
          f"in {time.perf_counter() - start:.0f} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-match-") as tmp:
        folder = Path(tmp)
        for key, frame in data.frames.items():
            frame.to_parquet(folder / f"{key}.parquet")
            np.save(folder / f"{key}.npy", data.truth[key])
        (folder / "keys.json").write_text(json.dumps(list(data.frames)))
        del data
        out = subprocess.run([sys.executable, __file__, "--child", str(folder), "--runs", str(runs)],
                             check=True, capture_output=True, text=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    later = r["wall"][1:] or r["wall"]
    median = statistics.median(later)
    target = TARGET_S.get(size)
    verdict = "" if target is None else f" (target < {target:.0f} s: {'met' if median < target else 'NOT met'})"
    print(f"  first run {r['wall'][0]:.2f} s (loads the settlement index)")
    print(f"  match_reports: median {median:.2f} s, CPU median {statistics.median(r['cpu'][1:] or r['cpu']):.2f} s"
          f" over {len(later)} runs{verdict}")
    print(f"  memory: {r['loaded_mb']:,.0f} MB with the frames loaded, peak while matching {r['peak_mb']:,.0f} MB"
          f" (matching's own {r['peak_mb'] - r['loaded_mb']:,.0f} MB; target < {MEMORY_TARGET_MB} MB:"
          f" {'met' if r['peak_mb'] < MEMORY_TARGET_MB else 'NOT met'}"
          f"{'' if r['exact_peak'] else '; peak over the whole process'})")
    print(f"  {r['records']:,} reports -> {r['events']:,} strikes ({r['matched']:,} matched; {r['tossups']:,} "
          f"toss-ups left apart); pairs: precision {r['precision']:.2%}, recall {r['recall']:.2%}")
    print(f"  groups with reasons (to_json): {r['groups_s']:.2f} s; merge_reports: {r['merge_s']:.2f} s "
          f"({r['merged_rows']:,} rows)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--days", type=int, default=1095, help="days the strikes spread over (default 3 years)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.runs)
        return 0
    for size in args.sizes:
        run(size, args.runs if size <= 200_000 else max(2, min(args.runs, 3)), args.days)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
