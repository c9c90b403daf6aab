"""Memory of the app and its web renderer with a large file open, and how long the map takes.

    python benchmarks/bench_memory.py [FILE] [--size 1600x1000]
    python benchmarks/bench_memory.py --unique-text

Opens the main window (offscreen) on ``FILE`` (default ``benchmarks/data/bench_load_1000000.csv``,
written by ``bench_load.py``, whose source, link and notes repeat a few values; ``--unique-text``
opens a copy with a link and a note of its own on every row and five sources, as real records have,
written next to it the first time), waits until the map reports every event drawn, then prints the
resident memory of the app process and of the whole process tree (the app and its web renderer
processes), sampled every 0.1 s from ``/proc`` (Linux), with the peak while opening. Two measures:
the sum of resident sizes (RSS; a library page mapped by the app and by each web process counts
once per process, so this overstates) and the proportional set size (PSS; each shared page split
between the processes that map it: the memory the tree really takes).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from appwindow import main_window, wait_for
from timing import tree_pss_mb, tree_rss_mb

DEFAULT = Path(__file__).resolve().parent / "data" / "bench_load_1000000.csv"
UNIQUE_TEXT = DEFAULT.with_name("bench_memory_unique_text_1000000.csv")


def write_unique_text(source: Path, path: Path) -> None:
    """``source``'s rows with a link and a note of their own each, and five sources."""
    import numpy as np
    import pandas as pd

    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    n = len(frame)
    rng = np.random.default_rng(7)
    words = np.array(["night attack", "debris fell on a house", "air defence active", "fire at a warehouse",
                      "power line damaged", "windows broken", "no casualties reported", "school damaged"])
    first, second = words[rng.integers(0, len(words), n)], words[rng.integers(0, len(words), n)]
    frame["source_url"] = [f"https://t.me/monitor_{i % 40}/{100000 + i}" for i in range(n)]
    frame["notes"] = [f"{a}; {b} near building {i % 997}" for i, (a, b) in enumerate(zip(first, second))]
    frame["source"] = rng.choice(["Air Force", "CIR monitor", "regional administration", "local media", "police"], n)
    frame.to_csv(path, index=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default=str(DEFAULT))
    parser.add_argument("--size", default="1600x1000")
    parser.add_argument("--unique-text", action="store_true", help="a link and a note of its own on every row")
    args = parser.parse_args(argv)
    if args.unique_text:
        if not UNIQUE_TEXT.exists():
            write_unique_text(Path(args.file), UNIQUE_TEXT)
        args.file = str(UNIQUE_TEXT)

    from PySide6.QtCore import QTimer

    app, window, _settings = main_window(args.size)
    pid = os.getpid()
    peak = [tree_pss_mb(pid)]
    sampler = QTimer()
    sampler.timeout.connect(lambda: peak.append(tree_pss_mb(pid)))
    sampler.start(100)
    drawn: list[int] = []
    window.map_view.incidents_drawn.connect(drawn.append)

    def wait(condition) -> float:
        return wait_for(app, condition)

    wait(lambda: window.map_view.page_ready)
    idle = _measure(pid)
    start = time.perf_counter()
    window.open_files([args.file])
    wait(lambda: window.state.frame is not None and len(window.state.frame) > 0
         and bool(drawn) and drawn[-1] == int(window.state.mask.sum()))
    opened = time.perf_counter() - start
    for _ in range(40):  # a moment for the renderer to settle and collect
        app.processEvents()
        time.sleep(0.05)
    rows = len(window.state.frame)
    frame_mb = window.state.frame.memory_usage(deep=True).sum() / 1e6
    loaded = _measure(pid)
    print(f"{rows:,} events open and drawn in {opened:.1f} s; the frame itself {frame_mb:,.0f} MB")
    print(f"{'':<16} {'app RSS':>9} {'app+web RSS':>12} {'app PSS':>9} {'app+web PSS':>12}")
    for name, figures in (("empty map", idle), ("with the file", loaded)):
        print(f"{name:<16} " + " ".join(f"{v:>{w},.0f}" for v, w in zip(figures, (9, 12, 9, 12))) + " MB")
    print(f"peak app+web PSS while opening: {max(peak):,.0f} MB")
    sampler.stop()
    window.close()
    window.map_view.release()
    return 0


def _measure(pid: int) -> tuple[float, float, float, float]:
    """App RSS, tree RSS, app PSS, tree PSS, in MB."""
    with open(f"/proc/{pid}/statm") as handle:
        own_rss = int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    return own_rss, tree_rss_mb(pid), _pss_mb(pid), tree_pss_mb(pid)


def _pss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/smaps_rollup") as handle:
        for line in handle:
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1e3
    return 0.0


if __name__ == "__main__":
    sys.exit(main())
