"""The app on a team database: time to the first map, a filter change, a zoom into a city, and memory.

    python benchmarks/bench_db_app.py URI [--limit N] [--size 1600x1000]

Opens the main window (offscreen) on ``URI`` with the point limit ``--limit`` (default the app's,
:data:`geodata.db.POINT_LIMIT`), and reports, each until the database's answer is in the state and,
for points, drawn by the page:

1. open: from ``open_files([URI])`` to the first map (points when the table fits the limit, else the
   server's cells);
2. a filter change (ballistic and cruise missiles);
3. a zoom into Kharkiv (zoom 13);
4. the filter cleared there (every event);
5. one zoom step closer (zoom 14).

After each, the time until the server's summary, facet counts and timeline bars for the filter have
come too ("counts"); the next step starts once they have, as a person reads the map first. A database
small enough to be held in memory is filtered in the app like a file: its steps end when the map has
drawn what the filter keeps. Then the
peak resident memory of the app and its web renderer processes together, sampled every
0.1 s (``/proc``, Linux). Fill a database first with ``benchmarks/bench_db.py --fill-only``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from appwindow import main_window, wait_for
from timing import tree_rss_mb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("uri")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--size", default="1600x1000")
    args = parser.parse_args(argv)
    if args.limit is not None:
        os.environ["MAPVIEWER_POINT_LIMIT"] = str(args.limit)

    from PySide6.QtCore import QTimer

    from geodata import FilterState
    from mapviewer.files.database import point_limit

    app, window, _settings = main_window(args.size)
    peak = [tree_rss_mb(os.getpid())]
    sampler = QTimer()
    sampler.timeout.connect(lambda: peak.append(tree_rss_mb(os.getpid())))
    sampler.start(100)
    failures: list[str] = []
    window.load_failed.connect(lambda _p, message: failures.append(message))

    def settled() -> bool:
        database = window.database
        return (database.uri is not None and not database.busy and window.map_view.page_ready
                and window.state.view is not None)

    def wait(condition) -> float:
        return wait_for(app, condition, failures)

    wait(lambda: window.map_view.page_ready)
    idle = tree_rss_mb(os.getpid())
    start = time.perf_counter()
    window.open_files([args.uri])
    wait(settled)
    opened = time.perf_counter() - start
    database = window.database
    print(f"limit {point_limit():,}; {database.total:,} events, "
          f"{'in memory' if not database.partial else 'on the server'}")
    print(f"open to first map: {opened:.2f} s ({database.shown_kind}: "
          f"{len(database.cells) if database.cells is not None else len(window.state.frame):,})")

    state = window.state

    def answered() -> bool:  # the map's answer for the filter and place asked, drawn when points
        if not database.partial:  # held in memory: filtered here, as a file's rows
            return settled() and window.map_view.drawn_count == int(state.mask.sum())
        fetched = database._fetched
        return (settled() and fetched is not None and fetched[0] == state.filter
                and (database.shown_kind == "cells" or window.map_view.drawn_count == len(state.frame)))

    def counted() -> bool:  # held in memory, the panels count the frame at once
        return settled() and (not database.partial or (
            database.summary_for == state.filter and database._panels_job is None
            and not database._timeline_running and database._timeline_wanted is None))

    def step(name: str, act, zoom: float | None = None) -> None:
        start = time.perf_counter()
        act()
        time.sleep(0.01)
        wait(lambda: answered() and (zoom is None or abs(state.view[2] - zoom) < 0.01))
        seconds = time.perf_counter() - start
        shown = (f"{len(database.cells):,} cells" if database.shown_kind == "cells" else
                 f"{len(state.frame):,} points")
        wait(counted)
        print(f"{name}: {seconds:.2f} s ({shown}); counts {time.perf_counter() - start:.2f} s", flush=True)

    wait(counted)
    step("filter change", lambda: state.set_filter(FilterState(munitions={"ballistic missile", "cruise missile"})))
    step("zoom into Kharkiv", lambda: state.request_view(49.99, 36.23, 13), 13)
    step("filter cleared in the city", lambda: state.set_filter(FilterState()))
    step("zoom one step closer", lambda: state.request_view(49.99, 36.23, 14), 14)
    for _ in range(20):  # a moment for the renderer to settle
        app.processEvents()
        time.sleep(0.05)
    print(f"memory (app and renderer): idle {idle:,.0f} MB, peak {max(peak):,.0f} MB, "
          f"now {tree_rss_mb(os.getpid()):,.0f} MB")
    sampler.stop()
    window.close()
    window.map_view.release()
    return 0


if __name__ == "__main__":
    sys.exit(main())
