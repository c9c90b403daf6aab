"""Importing a file into the store: checked rows, one transaction per file, nothing added twice."""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geodata.db import overview
from geodata.db.connect import Source, session, uri_of, write_denied
from geodata.db.schema import CHANNEL, LOCK_COMMIT, LOCK_DATASET, STORED_TZ, check_ready, latest_sql
from geodata.points import lon_lat
from geodata.report import LoadReport, load_summary
from geodata.db.overview import totals_sql
from geodata.schema import CANONICAL_COLUMNS, DEFAULT_TZ, OUTCOMES

__all__ = ["ImportResult", "import_file", "import_frame", "latest_sql", "load_summary", "refresh_overview"]

#: Staging columns, all text: the content hash is taken over these exact strings.
_STAGE = ("source_row", "event_id", "us", "time_precision", "x", "y", "location", "admin1", "geo_precision",
          "munition", "munition_class", "outcome", "killed", "injured", "source", "source_url", "notes", "extra")
_TEXT = ("event_id", "time_precision", "location", "admin1", "geo_precision", "munition", "munition_class",
         "outcome", "source", "source_url", "notes")
_CONTENT = _STAGE[2:]  # everything but the row number and the identity


_VALUES = ("occurred_at", "time_precision", "latest_at", "geom", "location", "admin1", "geo_precision", "munition",
           "munition_class", "outcome", "killed", "injured", "source", "source_url", "notes", "extra", "source_row",
           "content_hash")
#: The staged rows with their typed values and content hash; changed events updated, new ones
#: inserted (both under the import's lock on its source, so nobody else writes them meanwhile);
#: then what that changed, counted as the overview counts (+1 a row written, -1 the row replaced).
_WRITE = f"""
WITH s AS (
    SELECT st.event_id, st.t AS occurred_at, st.time_precision, {latest_sql('st.t', 'st.time_precision', '%(tz)s')}
           AS latest_at, ST_SetSRID(ST_MakePoint(st.x::float8, st.y::float8), 4326) AS geom, st.location, st.admin1,
           st.geo_precision, st.munition, st.munition_class, st.outcome, st.killed::bigint AS killed,
           st.injured::bigint AS injured, st.source, st.source_url, st.notes,
           coalesce(jsonb_strip_nulls(st.extra::jsonb), '{{}}'::jsonb) AS extra, st.source_row::bigint AS source_row,
           decode(md5(ROW({', '.join('st.' + c for c in _CONTENT)})::text), 'hex') AS content_hash
    FROM (SELECT x.*, timestamptz 'epoch' + x.us::bigint * interval '1 microsecond' AS t
          FROM pg_temp.mapviewer_stage x) st
), upd AS (
    UPDATE mapviewer_events e SET {', '.join(f'{c} = s.{c}' for c in _VALUES)}, file_name = %(file)s,
        import_id = %(import)s
    FROM s, mapviewer_events old
    WHERE e.dataset = %(dataset)s AND e.event_id = s.event_id AND old.id = e.id AND e.content_hash <> s.content_hash
    RETURNING old.geom AS old_geom, old.outcome AS old_outcome, old.munition AS old_munition,
        old.munition_class AS old_class, old.admin1 AS old_admin1, old.killed AS old_killed,
        old.injured AS old_injured, e.geom, e.outcome, e.munition, e.munition_class, e.admin1, e.killed, e.injured
), ins AS (
    INSERT INTO mapviewer_events (dataset, event_id, {', '.join(_VALUES)}, file_name, import_id, first_import_id)
    SELECT %(dataset)s, s.event_id, {', '.join('s.' + c for c in _VALUES)}, %(file)s, %(import)s, %(import)s FROM s
    WHERE NOT EXISTS (SELECT 1 FROM mapviewer_events x WHERE x.dataset = %(dataset)s AND x.event_id = s.event_id)
    ORDER BY s.source_row
    ON CONFLICT (dataset, event_id) DO NOTHING
    RETURNING geom, outcome, munition, munition_class, admin1, killed, injured
), changes AS (
    SELECT old_geom AS geom, old_outcome AS outcome, old_munition AS munition, old_class AS munition_class,
           old_admin1 AS admin1, old_killed AS killed, old_injured AS injured, -1 AS d FROM upd
    UNION ALL SELECT geom, outcome, munition, munition_class, admin1, killed, injured, 1 FROM upd
    UNION ALL SELECT geom, outcome, munition, munition_class, admin1, killed, injured, 1 FROM ins
)
SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM upd), t.* FROM ({totals_sql('changes', weight='d')}) t
"""


@dataclass
class ImportResult:
    """What one file's import did.

    ``report`` is the file's load report (``rows_read == rows_loaded + rows_rejected``; rows the
    database cannot hold are rejected in it too). Of the rows loaded, ``inserted`` were new
    events, ``updated`` changed events already present, ``unchanged`` were present as they are,
    and ``duplicates`` repeated the event id of an earlier row of the file (the first is kept).
    ``source`` is the name events are identified under (with their ``event_id``); ``seq`` is
    the import's commit number (see :func:`geodata.db.new_since`).
    """

    report: LoadReport
    source: str
    database: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    import_id: int | None = None
    seq: int | None = None
    summary: dict[str, Any] = field(default_factory=dict, repr=False)

    def as_json(self) -> dict[str, Any]:
        """``mapviewer inspect --json``'s keys for the file, then ``source, database, inserted,
        updated, unchanged, duplicates``."""
        out = dict(self.summary)
        out.update(rows_read=self.report.rows_read, rows_loaded=self.report.rows_loaded,
                   rows_rejected=self.report.rows_rejected, problems=[p.to_dict() for p in self.report.problems])
        out.update(source=self.source, database=self.database, inserted=self.inserted, updated=self.updated,
                   unchanged=self.unchanged, duplicates=self.duplicates)
        return out


def _text_array(values: Any):
    import pyarrow as pa

    array = pa.array(values, from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    return array.cast(pa.string())


def _extras_json(frame: pd.DataFrame, extras: list[str]) -> list[str | None]:
    """One JSON object per row holding the extra columns (missing values left out later)."""
    if not extras:
        return [None] * len(frame)
    part = frame[extras].copy()
    for name in extras:
        column = part[name]
        if pd.api.types.is_float_dtype(column.dtype):  # JSON has no infinities
            part[name] = column.where(np.isfinite(column.to_numpy(dtype=float, na_value=np.nan)))
        elif column.dtype == object or isinstance(column.dtype, pd.CategoricalDtype):
            part[name] = column.astype(object).where(column.notna(), None).map(
                lambda v: v if v is None or isinstance(v, (str, int, float, bool)) else str(v))
    text = part.to_json(orient="records", lines=True, date_format="iso", date_unit="us", force_ascii=False,
                        default_handler=str)
    lines = text.split("\n")
    return lines[:len(frame)]


def _staging_table(frame: pd.DataFrame, extras: list[str]):
    """The frame's rows as an Arrow table of text (the staging table's columns)."""
    import pyarrow as pa

    times = frame["occurred_at"].array
    us = times.as_unit("us").asi8 if len(times) else np.zeros(0, dtype=np.int64)
    x, y = lon_lat(frame)
    columns = {
        "source_row": pa.array(np.asarray(frame.index, dtype=np.int64)).cast(pa.string()),
        "us": pa.array(us, mask=np.asarray(pd.isna(times))).cast(pa.string()),
        "x": pa.array(x, mask=np.isnan(x)).cast(pa.string()),
        "y": pa.array(y, mask=np.isnan(y)).cast(pa.string()),
        "killed": _text_array(frame["killed"]),
        "injured": _text_array(frame["injured"]),
        "extra": pa.array(_extras_json(frame, extras), type=pa.string()),
    }
    for name in _TEXT:
        columns[name] = _text_array(frame[name])
    return pa.table({name: columns[name] for name in _STAGE})


def _unstorable(table, report: LoadReport, rows: np.ndarray) -> np.ndarray:
    """Rows holding a NUL character (PostgreSQL text cannot hold one): rejected in the report."""
    import pyarrow.compute as pc

    bad = np.zeros(table.num_rows, dtype=bool)
    for name in (*_TEXT, "extra"):
        hit = pc.match_substring(table[name], "\\u0000" if name == "extra" else "\x00")
        hit = hit.to_numpy(zero_copy_only=False)
        hit = np.asarray(pd.array(hit, dtype="boolean").fillna(False), dtype=bool)
        for i in np.flatnonzero(hit & ~bad):
            column = "extra column" if name == "extra" else name
            report.add(int(rows[i]), None if name == "extra" else name,
                       f"holds a NUL character ({column}), which the database cannot store: not imported")
        bad |= hit
    return bad


def import_file(uri: Source, path: str | Path, *, source_name: str | None = None,
                **read_options: Any) -> ImportResult:
    """Read ``path`` with :func:`geodata.read_incidents` and write its rows into ``uri``.

    One transaction per file. An event is identified by (``source``, ``event_id``), where
    ``source`` is ``source_name`` or, when not given, the file's stem ("strikes" for
    ``strikes.csv``): importing the same file again (or a newer version under the same name)
    updates the events that changed and adds none twice. Rejected rows never reach the
    database. Each stored event keeps the file's name, its row number there, and the import
    (time, database user). After commit, listeners on :data:`CHANNEL` receive a JSON payload
    (``seq``, ``source``, ``file``, ``inserted``, ``updated``, ``by``).
    """
    from geodata.readers import read_incidents

    with session(uri, writing=True) as conn:
        _check_writable(conn, uri)
        result = read_incidents(path, **read_options)
        source = source_name.strip() if source_name and source_name.strip() else Path(path).stem
        done = import_frame(conn, result.frame, result.report, source=source, file_name=Path(path).name,
                            tz=str(read_options.get("tz") or DEFAULT_TZ))
    done.database = uri_of(uri)
    return done


def _check_writable(conn, uri: Source) -> None:
    check_ready(conn, uri)
    allowed = conn.execute("SELECT has_table_privilege('mapviewer_events', 'INSERT, UPDATE') "
                           "AND has_table_privilege('mapviewer_imports', 'INSERT, UPDATE')").fetchone()[0]
    if not allowed:
        from geodata.errors import DataError

        raise DataError(write_denied(uri_of(uri), conn.info.user))


def import_frame(uri: Source, frame: pd.DataFrame, report: LoadReport, *, source: str, file_name: str,
                 tz: str = DEFAULT_TZ, update_overview: bool = True) -> ImportResult:
    """Write an already read and checked canonical frame (``read_incidents``' frame and report,
    e.g. after a column mapping) into ``uri``: as :func:`import_file` does, under ``source``.

    ``update_overview=False`` leaves the overview (:mod:`geodata.db.overview`) stale, for bulk
    loads in many parts: call :func:`refresh_overview` once at the end.
    """
    shown = uri_of(uri)
    with session(uri, writing=True) as conn:
        _check_writable(conn, uri)
        extras = [str(c) for c in frame.columns if c not in CANONICAL_COLUMNS]
        table = _staging_table(frame, extras)
        rows = np.asarray(frame.index, dtype=np.int64)
        bad = _unstorable(table, report, rows)
        if bad.any():
            report.rows_loaded -= int(bad.sum())
            report.rows_rejected += int(bad.sum())
        repeated = frame["event_id"].duplicated(keep="first").to_numpy() & ~bad
        if repeated.any():
            listed = ", ".join(map(str, rows[repeated][:10])) + (" ..." if repeated.sum() > 10 else "")
            report.add(None, "event_id", f"{int(repeated.sum())} rows repeat the event id of an earlier row: the "
                       f"database keeps the first row of each id (not stored: rows {listed})", "warning")
        summary = load_summary(report, frame[~bad] if bad.any() else frame, tz)
        keep = ~(bad | repeated)
        if not keep.all():
            table = table.filter(keep)
        import pyarrow.csv as pacsv

        buffer = io.BytesIO()
        pacsv.write_csv(table, buffer)
        data = buffer.getbuffer()

        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [LOCK_DATASET, source])
            import_id = conn.execute(
                "INSERT INTO mapviewer_imports (dataset, file_name, format, extra_columns, rows_read, rows_loaded, "
                "rows_rejected) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING import_id",
                [source, file_name, report.format, extras, report.rows_read, report.rows_loaded,
                 report.rows_rejected]).fetchone()[0]
            conn.execute("CREATE TEMP TABLE mapviewer_stage (" + ", ".join(f"{c} text" for c in _STAGE)
                         + ") ON COMMIT DROP")
            with conn.cursor().copy("COPY pg_temp.mapviewer_stage FROM STDIN (FORMAT csv, HEADER true)") as copy:
                step = 1 << 20
                for start in range(0, len(data), step):
                    copy.write(data[start:start + step])
            rows = conn.execute(_WRITE, {"dataset": source, "file": file_name, "import": import_id,
                                         "tz": STORED_TZ, "outcomes": list(OUTCOMES)}).fetchall()
            inserted, updated = int(rows[0][0]), int(rows[0][1])
            unchanged = table.num_rows - inserted - updated
            conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", [LOCK_COMMIT])  # seq in commit order
            seq = conn.execute(
                "UPDATE mapviewer_imports SET seq = nextval('mapviewer_import_order'), inserted = %s, updated = %s, "
                "unchanged = %s, rows_loaded = %s, rows_rejected = %s WHERE import_id = %s RETURNING seq",
                [inserted, updated, unchanged, report.rows_loaded, report.rows_rejected, import_id]).fetchone()[0]
            if update_overview:
                overview.apply(conn, seq, [row[2:] for row in rows])
            if inserted or updated:
                payload = {"seq": seq, "source": source[:200], "file": file_name[:200], "inserted": inserted,
                           "updated": updated, "by": conn.info.user}
                conn.execute("SELECT pg_notify(%s, %s)", [CHANNEL, json.dumps(payload)])
        del data
        buffer.close()
    report.check()
    return ImportResult(report=report, source=source, database=shown, inserted=inserted, updated=updated,
                        unchanged=unchanged, duplicates=int(repeated.sum()), import_id=int(import_id), seq=int(seq),
                        summary=summary)


def refresh_overview(uri: Source) -> None:
    """Count the table afresh for the overview (after a bulk load with ``update_overview=False``)."""
    with session(uri, writing=True) as conn:
        _check_writable(conn, uri)
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", [LOCK_COMMIT])  # no import ends meanwhile
            seq = conn.execute("SELECT coalesce(max(seq), 0) FROM mapviewer_imports").fetchone()[0]
            overview.refresh(conn, int(seq))
