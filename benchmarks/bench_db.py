"""Team database at scale: the map's interactions on N events in PostGIS, side by side with pulling the table.

    python benchmarks/bench_db.py [--rows 10000000] [--repeat 5] [--uri URI] [--dir DIR] [--reuse]

Without ``--uri`` a throwaway cluster is started with ``tests/pgcluster.py`` (in ``--dir``, default a
temporary directory, removed at the end unless ``--dir`` is given) and stopped at the end. The
database is filled with ``--rows`` synthetic events: one year of events per million (1M
events from ``geodata.sample``, copied back one more year for each further million, points
jittered by about 500 m, ids made unique), the oldest year first, as a store that grows every day
is laid out; each part written with ``geodata.db.import_frame`` (COPY into a staging table, then
one INSERT ... SELECT), the secondary indexes and the overview built once at the end.
``--reuse`` skips the fill when the database already holds the rows.

Then, on one open connection, the median of ``--repeat`` runs of each interaction of the app:

1. open at country zoom: ``geodata.db.view`` over Ukraine, no filter (0.25-degree cells);
2. a filter change at country zoom (ballistic and cruise missiles, last 90 days): ``view``, points
   or cells, whichever it finds (the lean columns a map needs);
3. zoom into a city (Kharkiv) with that filter: ``view`` (points, every column; then lean);

and the same filter change done by pulling the whole table into GeoPandas (``geodata.db.read``,
the fastest pull there is: COPY into Arrow) and masking there (run once above 2M rows).
Targets: every interaction under 1 s and at least 20 times faster than pulling all.
Facets, summary and timeline over the whole table are timed too (they scan every matching row).
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from geodata import FilterState, db
from geodata.db.schema import _INDEXES
from geodata.report import LoadReport
from geodata.sample import make_sample

CHUNK = 1_000_000
UKRAINE = (22.0, 44.0, 40.5, 52.5)
KHARKIV = (36.10, 49.90, 36.45, 50.10)
CELL_DEG = 0.25
TZ = "Europe/Kyiv"
LEAN = ["munition", "munition_class", "outcome", "geo_precision"]
SERVER_SETTINGS = {"shared_buffers": "1GB", "work_mem": "64MB", "effective_cache_size": "4GB",
                   "max_parallel_workers_per_gather": "2", "maintenance_work_mem": "512MB"}
TARGET_S, TARGET_SPEEDUP = 1.0, 20.0


def _pgcluster():
    path = Path(__file__).resolve().parents[1] / "tests" / "pgcluster.py"
    spec = importlib.util.spec_from_file_location("pgcluster", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fill(conn, rows: int) -> None:
    """``rows`` synthetic events into an empty, initialised database: one year of events per million,
    the oldest year imported first (as a store that grows every day is laid out)."""
    import shapely

    started = time.perf_counter()
    base = make_sample(seed=1, n=min(rows, CHUNK), days=365)
    print(f"generated {len(base):,} base events in {time.perf_counter() - started:.1f} s", flush=True)
    for name in _INDEXES:  # built once at the end: far faster than keeping them up to date row by row
        conn.execute(f"DROP INDEX IF EXISTS {name}")
    rng = np.random.default_rng(7)
    x0, y0 = base.geometry.x.to_numpy(), base.geometry.y.to_numpy()
    local = base["occurred_at"].dt.tz_convert(TZ).dt.tz_localize(None)
    chunks = -(-rows // CHUNK)
    done = 0
    for k in range(chunks):
        n = min(CHUNK, rows - done)
        years_back = chunks - 1 - k
        part = base.iloc[:n].copy()
        if years_back:
            shifted = (local.iloc[:n] - pd.DateOffset(years=years_back)).dt.tz_localize(
                TZ, ambiguous=np.ones(n, dtype=bool), nonexistent="shift_forward")
            part["occurred_at"] = shifted.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
            part["geometry"] = pd.Series(shapely.points(x0[:n] + rng.normal(0, 0.007, n),
                                                        y0[:n] + rng.normal(0, 0.0045, n)), index=part.index)
            part = part.set_geometry("geometry", crs="EPSG:4326")
        part["event_id"] = pd.array(np.char.add(f"Y{years_back:02d}-", base["event_id"].to_numpy(dtype=str)[:n]),
                                    dtype="str")
        part.index = pd.RangeIndex(done + 1, done + n + 1, name="row")
        report = LoadReport(path="synthetic", format="synthetic", rows_read=n, rows_loaded=n)
        chunk_start = time.perf_counter()
        db.import_frame(conn, part, report, source="bench", file_name="synthetic", update_overview=False)
        done += n
        print(f"  {done:,} events stored ({time.perf_counter() - chunk_start:.1f} s for this part)", flush=True)
    index_start = time.perf_counter()
    db.init(conn)  # the indexes again, and the overview
    conn.execute("VACUUM ANALYZE mapviewer_events")
    print(f"indexes, overview and statistics in {time.perf_counter() - index_start:.1f} s; "
          f"fill took {time.perf_counter() - started:.0f} s", flush=True)


def timed(fn, repeat: int) -> tuple[float, object]:
    runs, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), result


def draw(conn, state: FilterState, view, columns=None, limit=None):
    """What the app does for a view: points when few enough match, else cells."""
    how, got = db.view(conn, state, view, CELL_DEG, columns=columns, limit=limit)
    if how == "cells":
        return f"{len(got):,} cells of {int(got['count'].sum()):,} events"
    return f"{len(got.frame):,} points"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--uri", help="an existing database to fill (its mapviewer tables are emptied)")
    parser.add_argument("--dir", help="directory for the throwaway cluster (kept)")
    parser.add_argument("--reuse", action="store_true", help="keep the events already there when the count matches")
    parser.add_argument("--fill-only", action="store_true", help="fill the database and stop")
    args = parser.parse_args(argv)

    cluster = None
    directory = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="bench-db-"))
    uri = args.uri
    if uri is None:
        cluster = _pgcluster()
        uri = cluster.start(directory, SERVER_SETTINGS)
        print(f"throwaway server: {uri} ({', '.join(f'{k}={v}' for k, v in SERVER_SETTINGS.items())})")
    try:
        conn = db.connect(uri)
        db.init(conn)
        held = db.status(conn)["events"]
        if not (args.reuse and held == args.rows):
            conn.execute("TRUNCATE mapviewer_events, mapviewer_imports")
            fill(conn, args.rows)
        size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('mapviewer_events')), "
                            "pg_size_pretty(pg_relation_size('mapviewer_events'))").fetchone()
        print(f"{args.rows:,} events; table and indexes {size[0]} (table {size[1]})\n")
        if not args.fill_only:
            report(conn, args.rows, args.repeat)
        conn.close()
    finally:
        if cluster is not None:
            cluster.stop(directory)
            if not args.dir:
                shutil.rmtree(directory, ignore_errors=True)
    return 0


def report(conn, rows: int, repeat: int) -> None:
    newest = conn.execute("SELECT max(occurred_at) FROM mapviewer_events").fetchone()[0]
    last_day = pd.Timestamp(newest).tz_convert("Europe/Kyiv").date()
    everything = FilterState()
    missiles = FilterState(munition_classes={"ballistic missile", "cruise missile"},
                           start=last_day - dt.timedelta(days=89), end=last_day)
    lines: list[tuple[str, float, str]] = []

    def run(name: str, fn) -> float:
        seconds, what = timed(fn, repeat)
        lines.append((name, seconds, str(what)))
        print(f"  {name:<52} {seconds:7.3f} s   {what}", flush=True)
        return seconds

    print(f"median of {repeat} runs on one open connection:")
    interactions = {
        "open at country zoom": run("open at country zoom (all events)", lambda: draw(conn, everything, UKRAINE)),
        "filter change at country zoom": run("filter change at country zoom (missiles, 90 days)",
                                             lambda: draw(conn, missiles, UKRAINE, columns=LEAN)),
        "zoom into a city": run("zoom into Kharkiv with the filter", lambda: draw(conn, missiles, KHARKIV)),
    }
    run("  same, lean columns for drawing", lambda: draw(conn, missiles, KHARKIV, columns=LEAN))
    run("zoom into Kharkiv, no filter", lambda: draw(conn, everything, KHARKIV, LEAN))
    run("KN-23 over all history, country zoom", lambda: draw(conn, FilterState(munitions={"KN-23"}), UKRAINE, LEAN))
    run("  (a new connection, for scale)", lambda: db.connect(conn.info.dsn).close())
    run("count of the filter, whole table", lambda: db.count(conn, missiles))
    run("facet counts, whole table, filter on", lambda: len(db.facet_counts(conn, missiles)))
    run("summary, whole table, filter on", lambda: db.summary(conn, missiles).total)
    run("timeline (day bins), whole table, filter on",
        lambda: f"{db.timeline_counts(conn, missiles, 'day').counts.sum():,.0f} events")

    pulls = 1 if rows > 2_000_000 else repeat

    def pull_all():
        frame = db.read(conn).frame
        kept = missiles.mask(frame)
        return f"{int(kept.sum()):,} of {len(frame):,} rows kept"

    print(f"pulling the whole table into GeoPandas and filtering there ({pulls} run{'s' if pulls > 1 else ''}):")
    pull_seconds, what = timed(pull_all, pulls)
    print(f"  {'pull all + mask':<52} {pull_seconds:7.3f} s   {what}\n")
    print(f"{'interaction':<40} {'seconds':>8} {'x faster than pull':>19}  targets (< {TARGET_S:g} s, "
          f">= {TARGET_SPEEDUP:g}x)")
    for name, seconds in interactions.items():
        speedup = pull_seconds / seconds
        ok = "met" if seconds < TARGET_S and speedup >= TARGET_SPEEDUP else "MISSED"
        print(f"{name:<40} {seconds:8.3f} {speedup:18.0f}x  {ok}")


if __name__ == "__main__":
    sys.exit(main())
