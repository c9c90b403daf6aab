"""Timing helpers shared by the benchmark scripts (run as ``python benchmarks/NAME.py``)."""
from __future__ import annotations

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
