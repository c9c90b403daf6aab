"""Timing helpers shared by the benchmark scripts (run as ``python benchmarks/NAME.py``)."""
from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

import numpy as np


def times(fn: Callable[[], object], runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds per run (CPU time shows less of a busy machine)."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


def line(name: str, measured: tuple[list[float], list[float]], width: int = 46) -> str:
    """One result line: median and p90 wall-clock time, median CPU time, number of runs."""
    wall, cpu = measured
    return (f"{name:<{width}} median {statistics.median(wall):8.2f} ms   p90 {np.percentile(wall, 90):8.2f} ms"
            f"   CPU median {statistics.median(cpu):8.2f} ms   ({len(wall)} runs)")


def tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and every process below it, in MB (Linux ``/proc``).

    Pages shared between the processes (libraries) count once per process: an upper bound.
    """
    total = 0
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/statm") as handle:
                total += int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            continue
    return total / 1e6


def tree_pss_mb(pid: int) -> float:
    """Proportional set size of ``pid`` and every process below it, in MB (Linux ``smaps_rollup``).

    Unlike a sum of resident sizes, a page shared by several processes of the tree (the Qt and
    Chromium libraries are mapped by the app and each web process) is counted once in all.
    """
    total = 0
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            continue
    return total / 1e6


def tree_pids(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                children.setdefault(int(handle.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children.get(p, [])
    return found
