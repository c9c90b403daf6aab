"""The events matching a filter, read from the store as a canonical frame (found by one query, then
streamed out with ``COPY`` into Arrow; see :func:`read`)."""
from __future__ import annotations

import io
import json
import select
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geodata.db.connect import Source, session, uri_of
from geodata.db.schema import check_ready
from geodata.db.sqlfilter import Params, extra_columns, snapshot, tag_columns, where_sql
from geodata.filters import FilterState
from geodata.report import LoadReport, LoadResult
from geodata.schema import (CANONICAL_COLUMNS, GEO_PRECISION_DTYPE, MUNITION_CLASS_DTYPE, OUTCOME_DTYPE,
                            TIME_PRECISION_DTYPE)

__all__ = ["PROVENANCE_COLUMNS", "DbLoadResult", "read", "read_at_most"]


@dataclass
class DbLoadResult(LoadResult):
    """Rows read from a database: ``frame`` and ``report`` as for a file, plus ``seq``, the newest
    import the read saw (pass it to :func:`new_since`), and ``database`` (no password)."""

    seq: int = 0
    database: str = ""


_CATEGORIES = {"time_precision": TIME_PRECISION_DTYPE, "geo_precision": GEO_PRECISION_DTYPE,
               "munition_class": MUNITION_CLASS_DTYPE, "outcome": OUTCOME_DTYPE}
PROVENANCE_COLUMNS = ("import_source", "import_file", "imported_at", "imported_by")
_IDS = "mapviewer.ids"
_BATCH = 1_000_000  # events per COPY (their ids travel as one parameter)
_ROW_COLUMNS = ("source_row", "event_id", "us", "time_precision", "x", "y", "location", "admin1", "geo_precision",
                "munition", "munition_class", "outcome", "killed", "injured", "source", "source_url", "notes")
_SELECT = {
    "us": "round(date_part('epoch', e.occurred_at) * 1000000)::bigint",
    "x": "ST_X(e.geom)",
    "y": "ST_Y(e.geom)",
    "extra": "e.extra::text",
    "import_source": "e.dataset",
    "import_file": "e.file_name",
    "imported_us": "round(date_part('epoch', i.imported_at) * 1000000)::bigint",
    "imported_by": "i.imported_by",
}
_INTEGERS = ("source_row", "us", "killed", "injured", "imported_us")


def read(uri: Source, filter_state: FilterState | None = None, *, limit: int | None = None,
         bbox: Iterable[float] | None = None, columns: Iterable[str] | None = None,
         provenance: bool = False) -> DbLoadResult:
    """The events matching ``filter_state`` (and inside ``bbox``, the view), as a canonical frame.

    Same columns and dtypes as :func:`geodata.read_incidents` gives for a file, then the extra
    columns of every imported file (text or numbers); the index is each event's row number in
    the file it came from. ``columns`` keeps only those canonical and extra columns
    (``event_id``, ``occurred_at``, ``time_precision`` and ``geometry`` always come). With
    ``provenance``, :data:`PROVENANCE_COLUMNS` follow (source name, file name, import time and
    database user). Rows come in the order they were first stored; ``limit`` keeps the first
    ones. The report counts the rows read (none is rejected).

    Two steps in one snapshot: the filter, with its values as bind parameters, finds the
    events' ids; then ``COPY`` streams those rows out (COPY takes no bind parameters: the ids
    travel as one parameter set with ``set_config`` just before, and the statement reads them
    once; an index lookup by id, whatever the filter was).
    """
    return read_at_most(uri, filter_state, limit=limit, bbox=bbox, columns=columns, provenance=provenance)


def read_at_most(uri: Source, filter_state: FilterState | None, *, limit: int | None = None,
                 bbox: Iterable[float] | None = None, columns: Iterable[str] | None = None,
                 provenance: bool = False, cap: int | None = None) -> DbLoadResult | None:
    """:func:`read`; with ``cap``, None (and nothing fetched) when more than ``cap`` events match."""
    from psycopg import sql

    wanted = None if columns is None else {*columns, "event_id", "occurred_at", "time_precision", "geometry"}
    with session(uri) as conn:
        check_ready(conn, uri)
        with conn.transaction():
            seq = snapshot(conn)
            extras = extra_columns(conn)
            kept_extras = [c for c in extras if wanted is None or c in wanted]
            p = Params()
            where = where_sql(p, filter_state, bbox=bbox, tags=tag_columns(extras))
            inner = sql.SQL("SELECT e.id FROM mapviewer_events e WHERE {}").format(where)
            if limit is not None:
                inner = sql.SQL("{} ORDER BY e.id LIMIT {}").format(inner, p(max(0, int(limit)), "bigint"))
            elif cap is not None:
                inner = sql.SQL("{} LIMIT {}").format(inner, p(int(cap) + 1, "bigint"))
            found = conn.execute(sql.SQL("SELECT string_agg(int8send(s.id), ''::bytea) FROM ({}) s").format(inner),
                                 p.bind, binary=True).fetchone()[0]
            ids = np.sort(np.frombuffer(found or b"", dtype=">i8").astype(np.int64))
            if cap is not None and limit is None and len(ids) > cap:
                return None
            names = [c for c in _ROW_COLUMNS if wanted is None or c in ("source_row", "us", "x", "y") or c in wanted]
            if kept_extras:
                names.append("extra")
            if provenance:
                names += ["import_source", "import_file", "imported_us", "imported_by"]
            listing = sql.SQL(", ").join(sql.SQL(_SELECT.get(n) or f"e.{n}") for n in names)
            join = sql.SQL(" LEFT JOIN mapviewer_imports i ON i.import_id = e.import_id" if provenance else "")
            copy = sql.SQL("COPY (SELECT {} FROM mapviewer_events e{} WHERE e.id = ANY((SELECT current_setting({}, "
                           "true)::bigint[])::bigint[]) ORDER BY e.id) TO STDOUT (FORMAT csv)").format(
                listing, join, sql.Literal(_IDS)).as_bytes(conn)
            data = io.BytesIO()
            for start in range(0, len(ids), _BATCH):
                batch = ids[start:start + _BATCH]
                conn.execute("SELECT set_config(%s, %s, true)", [_IDS, "{" + ",".join(map(str, batch.tolist())) + "}"])
                _copy_out(conn, copy, data)
    frame = _frame(data, names, kept_extras, wanted)
    shown = uri_of(uri)
    report = LoadReport(path=shown, format="postgresql", rows_read=len(frame), rows_loaded=len(frame))
    return DbLoadResult(frame=frame, report=report, seq=seq, database=shown)


def _copy_out(conn, statement: bytes, sink: io.BytesIO) -> None:
    """Write the rows a ``COPY ... TO STDOUT`` sends into ``sink``, read straight from libpq.

    psycopg's own COPY reader spends several microseconds of Python per row; this loop keeps a
    million rows at about a second less. The connection must be idle (it is, between statements).
    """
    import psycopg
    from psycopg import pq

    pgconn = conn.pgconn
    pgconn.send_query(statement)
    while True:
        pgconn.consume_input()
        if not pgconn.is_busy():
            break
        select.select([pgconn.socket], [], [])
    result = pgconn.get_result()
    write = sink.write
    if result is not None and result.status == pq.ExecStatus.COPY_OUT:
        while True:
            n, row = pgconn.get_copy_data(1)
            if n > 0:
                write(row)
            elif n == 0:
                select.select([pgconn.socket], [], [])
                pgconn.consume_input()
            else:
                break
        result = pgconn.get_result()
    failure = None
    while result is not None:  # the command's end (and any error) and nothing after it
        if result.status == pq.ExecStatus.FATAL_ERROR and failure is None:
            failure = result
        result = pgconn.get_result()
    if failure is not None:
        state = (failure.error_field(pq.DiagnosticField.SQLSTATE) or b"").decode()
        message = (failure.error_field(pq.DiagnosticField.MESSAGE_PRIMARY) or b"").decode("utf-8", "replace")
        raise psycopg.errors.lookup(state)(message) if state else psycopg.OperationalError(message)


def _frame(data: io.BytesIO, names: list[str], extras: list[str], wanted: set[str] | None):
    """The canonical GeoDataFrame from COPY's CSV (NULL unquoted, empty text quoted)."""
    import geopandas as gpd
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import shapely

    types = {n: (pa.int64() if n in _INTEGERS else pa.float64() if n in ("x", "y") else pa.string()) for n in names}
    if data.tell():
        data.seek(0)
        table = pacsv.read_csv(data, read_options=pacsv.ReadOptions(column_names=names),
                               convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True,
                                                                    quoted_strings_can_be_null=False))
    else:
        table = pa.table({n: pa.array([], type=t) for n, t in types.items()})
    col = {n: table[n].combine_chunks() for n in names}
    out: dict[str, Any] = {}
    for name in CANONICAL_COLUMNS:
        if wanted is not None and name not in wanted:
            continue
        if name == "geometry":
            x = col["x"].to_numpy(zero_copy_only=False)
            y = col["y"].to_numpy(zero_copy_only=False)
            points = shapely.points(x, y)
            points[np.isnan(x) | np.isnan(y)] = None
            out[name] = gpd.array.GeometryArray(points, crs="EPSG:4326")
        elif name == "occurred_at":
            out[name] = _times(col["us"])
        elif name in _CATEGORIES:
            out[name] = _categorical(col[name], _CATEGORIES[name])
        elif name in ("killed", "injured"):
            out[name] = _integers(col[name])
        else:
            out[name] = pd.array(col[name], dtype="str")
    if extras:
        out.update(_extras(col["extra"], extras))
    if "import_source" in col:
        out["import_source"] = pd.array(col["import_source"], dtype="str")
        out["import_file"] = pd.array(col["import_file"], dtype="str")
        out["imported_at"] = _times(col["imported_us"])
        out["imported_by"] = pd.array(col["imported_by"], dtype="str")
    index = pd.Index(col["source_row"].to_numpy(zero_copy_only=False), name="row")
    return gpd.GeoDataFrame(out, index=index, geometry="geometry", crs="EPSG:4326")


def _times(us) -> pd.arrays.DatetimeArray:
    import pyarrow as pa

    stamps = us.cast(pa.timestamp("us", tz="UTC")).to_pandas()
    return pd.Series(stamps).astype("datetime64[ns, UTC]").array


def _integers(values) -> pd.arrays.IntegerArray:
    import pyarrow.compute as pc

    missing = values.is_null().to_numpy(zero_copy_only=False)
    return pd.arrays.IntegerArray(pc.fill_null(values, 0).to_numpy(zero_copy_only=False).astype(np.int64), missing)


def _categorical(values, dtype: pd.CategoricalDtype) -> pd.Categorical:
    """Text to a fixed categorical, once per distinct value."""
    import pyarrow.compute as pc

    encoded = values.dictionary_encode()
    labels = encoded.dictionary.to_pylist()
    lookup = np.array([dtype.categories.get_loc(v) if v in dtype.categories else -1 for v in labels] + [-1])
    indices = pc.fill_null(encoded.indices, len(labels)).to_numpy(zero_copy_only=False)
    return pd.Categorical.from_codes(lookup[indices], dtype=dtype)


def _extras(values, extras: list[str]) -> dict[str, Any]:
    """The extra columns from each row's JSON object (text columns as text, numbers as numbers)."""
    records = [json.loads(v) if v and v != "{}" else {} for v in values.to_pylist()]
    part = pd.DataFrame.from_records(records, columns=extras) if records else pd.DataFrame(columns=extras)
    out = {}
    for name in extras:
        column = part[name]
        present = column.dropna()
        if column.dtype == object and (present.map(type) == str).all():
            out[name] = column.astype("str").array
        else:
            out[name] = column.to_numpy()
    return out
