"""The tables of the shared incident store, ``init`` and ``status``."""
from __future__ import annotations

from typing import Any

from geodata.db import decisions
from geodata.db.connect import Source, TABLES_MISSING, session, uri_of
from geodata.db.overview import FACET_KEYS
from geodata.errors import DataError
from geodata.schema import DEFAULT_TZ

__all__ = ["CHANNEL", "READ_ONLY_GRANTS", "SCHEMA", "SCHEMA_VERSION", "STORED_TZ", "WRITER_GRANTS", "init", "status"]

SCHEMA_VERSION = "1"
#: The zone whose local days and months ``latest_at`` is computed in (the working zone).
STORED_TZ = DEFAULT_TZ
#: LISTEN/NOTIFY channel told about every import (payload: JSON, see ``geodata.db.store``).
CHANNEL = "mapviewer_events"

#: Every table and index; each statement is harmless to run again.
SCHEMA = """
CREATE TABLE IF NOT EXISTS mapviewer_meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);
-- One row per imported file (one transaction each).
CREATE TABLE IF NOT EXISTS mapviewer_imports (
    import_id     bigserial PRIMARY KEY,
    dataset       text NOT NULL,              -- the events' identity namespace (--source-name or file stem)
    file_name     text NOT NULL,
    format        text NOT NULL,
    extra_columns text[] NOT NULL DEFAULT '{}',  -- the file's non-canonical columns, in file order
    imported_at   timestamptz NOT NULL DEFAULT now(),
    imported_by   text NOT NULL DEFAULT current_user,
    rows_read     integer NOT NULL DEFAULT 0,
    rows_loaded   integer NOT NULL DEFAULT 0,
    rows_rejected integer NOT NULL DEFAULT 0,
    inserted      integer NOT NULL DEFAULT 0,
    updated       integer NOT NULL DEFAULT 0,
    unchanged     integer NOT NULL DEFAULT 0,
    seq           bigint UNIQUE               -- commit order: taken under a lock just before commit
);
CREATE SEQUENCE IF NOT EXISTS mapviewer_import_order;
-- One row per event: canonical columns, the file's other columns (extra), and where it came from.
CREATE TABLE IF NOT EXISTS mapviewer_events (
    id              bigserial PRIMARY KEY,
    dataset         text NOT NULL,
    event_id        text NOT NULL,
    occurred_at     timestamptz,
    time_precision  text,                     -- exact, day or month
    latest_at       timestamptz,              -- latest instant it may have happened (end of its local day/month)
    geom            geometry(Point, 4326),
    location        text,
    admin1          text,
    geo_precision   text,
    munition        text,
    munition_class  text,
    outcome         text,
    killed          bigint,
    injured         bigint,
    source          text,
    source_url      text,
    notes           text,
    extra           jsonb NOT NULL DEFAULT '{}',
    file_name       text NOT NULL,
    source_row      bigint,                   -- the row number a person sees in that file
    import_id       bigint NOT NULL REFERENCES mapviewer_imports,  -- the import that last wrote it
    first_import_id bigint NOT NULL REFERENCES mapviewer_imports,
    content_hash    bytea NOT NULL,
    UNIQUE (dataset, event_id)
);
CREATE INDEX IF NOT EXISTS mapviewer_events_geom ON mapviewer_events USING gist (geom);
CREATE INDEX IF NOT EXISTS mapviewer_events_occurred_at ON mapviewer_events (occurred_at);
CREATE INDEX IF NOT EXISTS mapviewer_events_latest_at ON mapviewer_events (latest_at);
CREATE INDEX IF NOT EXISTS mapviewer_events_munition ON mapviewer_events (munition);
CREATE INDEX IF NOT EXISTS mapviewer_events_munition_class ON mapviewer_events (munition_class);
CREATE INDEX IF NOT EXISTS mapviewer_events_outcome ON mapviewer_events (outcome);
CREATE INDEX IF NOT EXISTS mapviewer_events_admin1 ON mapviewer_events (admin1);
CREATE INDEX IF NOT EXISTS mapviewer_events_import ON mapviewer_events (import_id);
-- Counts over the whole table as of import seq (geodata.db.overview): events per 0.01-degree cell and
-- outcome (packed: int4 x cell, int4 y cell, int2 outcome, int8 events, big-endian) and per facet value.
CREATE TABLE IF NOT EXISTS mapviewer_overview (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    seq      bigint NOT NULL,
    total    bigint NOT NULL,
    cells    bytea NOT NULL,
    facets   jsonb NOT NULL
);
INSERT INTO mapviewer_meta (key, value) VALUES ('schema_version', '1') ON CONFLICT (key) DO NOTHING;
""" + decisions.SCHEMA

_TABLES = ("mapviewer_meta", "mapviewer_imports", "mapviewer_events", "mapviewer_overview", decisions.TABLE)
#: Tables added after the first release: a database set up without them still opens ('db init' adds them).
_LATER_TABLES = (decisions.TABLE,)
_INDEXES = tuple(line.split()[5] for line in SCHEMA.splitlines() if line.startswith("CREATE INDEX"))

#: What an administrator runs for a role that may only read (open, inspect, export).
READ_ONLY_GRANTS = ("GRANT USAGE ON SCHEMA public TO {role}; "
                    "GRANT SELECT ON mapviewer_meta, mapviewer_imports, mapviewer_events, mapviewer_overview, "
                    "mapviewer_match_decisions TO {role};")
#: What an administrator runs for a role that may also import.
WRITER_GRANTS = (READ_ONLY_GRANTS + " GRANT INSERT, UPDATE ON mapviewer_imports, mapviewer_events, "
                 "mapviewer_overview TO {role}; GRANT INSERT ON mapviewer_match_decisions TO {role}; "
                 "GRANT USAGE ON SEQUENCE mapviewer_imports_import_id_seq, mapviewer_events_id_seq, "
                 "mapviewer_import_order, mapviewer_match_decisions_decision_id_seq TO {role};")

# Advisory lock name spaces (first key of pg_advisory_xact_lock(int, int)).
LOCK_INIT, LOCK_DATASET, LOCK_COMMIT = 0x6D760001, 0x6D760002, 0x6D760003


def _postgis_version(conn) -> str | None:
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'postgis'").fetchone()
    return row[0] if row else None


def _missing(conn) -> list[str]:
    """Tables and indexes of :data:`SCHEMA` the database lacks."""
    names = [*_TABLES, *_INDEXES]
    found = conn.execute("SELECT n FROM unnest(%s::text[]) AS n WHERE to_regclass(n) IS NOT NULL", [names]).fetchall()
    present = {r[0] for r in found}
    return [n for n in names if n not in present]


def init(uri: Source) -> list[str]:
    """Set up ``uri`` for events: PostGIS, tables and indexes. Running it again is harmless.

    Returns the lines to print. Raises DataError with one line when PostGIS is missing and the
    user may not create it (naming the statement an administrator must run), or when the user
    may not create tables.
    """
    from psycopg import errors as pgerrors

    lines: list[str] = []
    with session(uri) as conn:
        shown = uri_of(uri)
        user = conn.info.user
        if _postgis_version(conn) is None:
            try:
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", [LOCK_INIT])
                    conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            except pgerrors.InsufficientPrivilege:
                raise DataError(f"{shown}: PostGIS is not enabled in this database and the user {user} may not "
                                "enable it: an administrator must run: CREATE EXTENSION postgis;") from None
            except (pgerrors.UndefinedFile, pgerrors.FeatureNotSupported):
                raise DataError(f"{shown}: PostGIS is not installed on the server: an administrator must install "
                                "it (Debian: postgresql-15-postgis-3) and run: CREATE EXTENSION postgis;") from None
            lines.append("enabled the PostGIS extension")
        missing = _missing(conn)
        if missing:
            try:
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", [LOCK_INIT])
                    conn.execute(SCHEMA)
            except pgerrors.InsufficientPrivilege:
                raise DataError(f"{shown}: the database user {user} may not create tables here: ask the "
                                "database owner to run 'mapviewer db init' once") from None
            lines.append(f"created {', '.join(missing)}")
        else:
            lines.append("tables and indexes already present: nothing to do")
        stale = conn.execute(
            "SELECT has_table_privilege('mapviewer_overview', 'INSERT, UPDATE') AND NOT EXISTS (SELECT 1 FROM "
            "mapviewer_overview WHERE seq = (SELECT coalesce(max(seq), 0) FROM mapviewer_imports) "
            "AND facets ?& %s)", [list(FACET_KEYS)]).fetchone()[0]
        if stale:
            from geodata.db import overview

            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", [LOCK_COMMIT])
                seq = conn.execute("SELECT coalesce(max(seq), 0) FROM mapviewer_imports").fetchone()[0]
                overview.refresh(conn, int(seq))
            lines.append("counted the events per map cell (the overview)")
        version = conn.execute("SELECT value FROM mapviewer_meta WHERE key = 'schema_version'").fetchone()
        if version and version[0] != SCHEMA_VERSION:
            raise DataError(f"{shown}: its tables are of schema version {version[0]}; this program knows "
                            f"version {SCHEMA_VERSION}")
        ctype = conn.execute("SELECT datctype FROM pg_database WHERE datname = current_database()").fetchone()[0]
        lines.append(f"ready: {shown} (PostgreSQL {conn.info.server_version // 10000}, "
                     f"PostGIS {_postgis_version(conn)})")
        if ctype in ("C", "POSIX"):
            lines.append(f"note: the database's character type is {ctype}: text search ignores letter case "
                         "only for Latin letters (create the database with a UTF-8 locale, e.g. C.UTF-8)")
        lines.append("read-only users: " + READ_ONLY_GRANTS.format(role="ROLE"))
    return lines


def status(uri: Source) -> dict[str, Any]:
    """What the database holds: events, sources (events each), the newest import, versions.

    Keys: ``database``, ``user``, ``events``, ``sources`` ({name: events}), ``imports``,
    ``newest_import`` (``at`` ISO 8601 UTC, ``by``, ``file``, ``source``, ``seq``; None when
    nothing was imported), ``seq`` (newest import's commit number, 0 when none; see
    :func:`geodata.db.new_since`), ``writable`` (whether this user may import),
    ``server_version``, ``postgis_version``, ``missing_tables`` (tables a newer version added that
    this database lacks until ``db init`` runs again; empty when none).
    """
    with session(uri) as conn:
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            missing = _missing(conn)
            if [name for name in missing if name not in _LATER_TABLES]:
                shown = uri_of(uri)
                raise DataError(f"{shown}: {TABLES_MISSING.format(uri=shown)}")
            events = conn.execute("SELECT count(*) FROM mapviewer_events").fetchone()[0]
            sources = conn.execute("SELECT dataset, count(*) FROM mapviewer_events GROUP BY dataset "
                                   "ORDER BY count(*) DESC, dataset").fetchall()
            imports = conn.execute("SELECT count(*) FROM mapviewer_imports WHERE seq IS NOT NULL").fetchone()[0]
            newest = conn.execute(
                "SELECT imported_at, imported_by, file_name, dataset, seq FROM mapviewer_imports "
                "WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1").fetchone()
            writable = conn.execute(
                "SELECT has_table_privilege('mapviewer_events', 'INSERT, UPDATE') "
                "AND has_table_privilege('mapviewer_imports', 'INSERT, UPDATE')").fetchone()[0]
            server = conn.execute("SHOW server_version").fetchone()[0]
            postgis = conn.execute("SELECT postgis_lib_version()").fetchone()[0]
        return {
            "database": uri_of(uri),
            "user": conn.info.user,
            "events": int(events),
            "sources": {name: int(n) for name, n in sources},
            "imports": int(imports),
            "newest_import": None if newest is None else {
                "at": newest[0].isoformat(), "by": newest[1], "file": newest[2], "source": newest[3],
                "seq": int(newest[4])},
            "seq": 0 if newest is None else int(newest[4]),
            "writable": bool(writable),
            "server_version": server,
            "postgis_version": postgis,
            "missing_tables": [name for name in missing if name in _LATER_TABLES],
        }


def check_ready(conn, source: Source) -> None:
    """DataError when the tables are missing (before anything slow is done)."""
    if conn.execute("SELECT to_regclass('mapviewer_events') IS NULL OR to_regclass('mapviewer_imports') IS NULL"
                    ).fetchone()[0]:
        shown = uri_of(source)
        raise DataError(f"{shown}: {TABLES_MISSING.format(uri=shown)}")


def latest_sql(time: str, precision: str, tz: str) -> str:
    """SQL for the latest instant an event may have happened: its time when exact, else the last
    microsecond of its local day or month in zone ``tz`` (an SQL expression or placeholder)."""
    def end_of(unit: str) -> str:
        return (f"greatest({time}, ((date_trunc('{unit}', {time} AT TIME ZONE {tz}) + interval '1 {unit}') "
                f"AT TIME ZONE {tz}) - interval '1 microsecond')")

    return f"CASE {precision} WHEN 'day' THEN {end_of('day')} WHEN 'month' THEN {end_of('month')} ELSE {time} END"
