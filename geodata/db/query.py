"""Reading from the store with the filters pushed down: rows, counts, facets, summary, timeline, cells.

A :class:`geodata.FilterState` becomes one SQL ``WHERE`` clause built with :mod:`psycopg.sql`;
every value (dates, names, the search text, box corners) travels as a bind parameter, never as
SQL text, so the server also plans each query knowing the values (and picks the right index).

Rows are found by that query and then streamed out with ``COPY`` into Arrow (see :func:`read`).
"""
from __future__ import annotations

import datetime as dt
import io
import json
import select
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
import pandas as pd

from geodata.db import overview
from geodata.db.connect import Source, session, uri_of
from geodata.db.overview import BASE_E7, E7, cell_sql
from geodata.db.schema import STORED_TZ, check_ready, latest_sql
from geodata.filters import FACETS, NO_MUNITION, NO_TAG, TAG_PREFIX, TEXT_COLUMNS, FilterState, _bound, no_munition
from geodata.report import LoadReport, LoadResult
from geodata.schema import (CANONICAL_COLUMNS, DEFAULT_TZ, GEO_PRECISION_DTYPE, MUNITION_CLASS_DTYPE,
                            MUNITION_CLASSES, OUTCOME_DTYPE, OUTCOMES, TIME_PRECISION_DTYPE)

__all__ = ["POINT_LIMIT", "PROVENANCE_COLUMNS", "DbLoadResult", "aggregate", "catalogue", "count", "facet_counts", "inspect",
           "latest_seq", "new_since", "plan", "read", "summary", "timeline_counts"]

#: ATTENTION: the most events pulled to draw as points (the app's default too). Above it the map
#: shows the server's aggregation (:func:`aggregate`) until the view holds fewer. Each point costs
#: about 20 us from question to drawn (read with every column about 10 us, the app's frame and
#: the page the rest; benchmarks/bench_db_app.py on two cores): 30,000 keep a view under a second
#: on a busy machine (40,000 took 0.85-1.3 s, 80,000 1.2-1.7 s).
POINT_LIMIT = 30_000

_TYPES = frozenset({"timestamptz", "text", "text[]", "float8", "bigint", "boolean"})
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


class _Params:
    """The values of one statement: each becomes a ``%(pN)s`` bind parameter with its type."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def __call__(self, value: Any, pgtype: str):
        from psycopg import sql

        if pgtype not in _TYPES:
            raise ValueError(f"unexpected parameter type {pgtype!r}")
        self.values.append(value)
        return sql.SQL("{}::" + pgtype).format(sql.Placeholder(f"p{len(self.values) - 1}"))

    @property
    def bind(self) -> dict[str, Any]:
        return {f"p{i}": v for i, v in enumerate(self.values)}


def _instant(us: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=int(us))


def _box(p: _Params, box: Iterable[float]):
    """Points inside (edges included) ``box`` = (west, south, east, north) in degrees."""
    from psycopg import sql

    west, south, east, north = (float(v) for v in box)
    if not (west <= east and south <= north):  # also NaN: an empty box holds nothing
        return sql.SQL("FALSE")
    w, s, e, n = p(west, "float8"), p(south, "float8"), p(east, "float8"), p(north, "float8")
    # && finds candidates with the GiST index (its boxes are rounded outwards); the rest is exact.
    return sql.SQL("(e.geom && ST_MakeEnvelope({w}, {s}, {e}, {n}, 4326) AND ST_X(e.geom) BETWEEN {w} AND {e} "
                   "AND ST_Y(e.geom) BETWEEN {s} AND {n})").format(w=w, s=s, e=e, n=n)


def _tag_values(cell):
    """SQL rows (v) of the non-empty, trimmed values of a tag cell (``A | B``)."""
    from psycopg import sql

    return sql.SQL("SELECT regexp_replace(part, '^\\s+|\\s+$', '', 'g') AS v FROM unnest(string_to_array({}, '|')) "
                   "AS part WHERE regexp_replace(part, '^\\s+|\\s+$', '', 'g') <> ''").format(cell)


def _where(p: _Params, state: FilterState | None, *, bbox: Iterable[float] | None = None, skip: str | None = None,
           tags: Iterable[str] = ()):
    """The WHERE condition over ``mapviewer_events e`` that keeps what ``state.mask`` keeps.

    ``skip`` leaves out one constraint as :meth:`FilterState.mask` does; ``bbox`` (the view)
    is added to the filter's own box; ``tags`` are the tag columns the store holds.
    """
    from psycopg import sql

    tags = list(tags)
    conds = []
    if bbox is not None:
        conds.append(_box(p, bbox))
    if state is None:
        return sql.SQL(" AND ").join(conds) if conds else sql.SQL("TRUE")
    if skip != "date" and (state.start is not None or state.end is not None):
        lo = _bound(state.start, state.tz, "us", end=False)
        hi = _bound(state.end, state.tz, "us", end=True)
        if lo is not None:
            conds.append(sql.SQL("e.occurred_at >= {}").format(p(_instant(lo), "timestamptz")))
        if hi is not None:
            # the whole day or month an imprecise event may lie in must be inside the range
            latest = (sql.SQL("e.latest_at") if state.tz == STORED_TZ else
                      sql.SQL(latest_sql("e.occurred_at", "e.time_precision", "{tz}")).format(tz=p(state.tz, "text")))
            conds.append(sql.SQL("{} <= {}").format(latest, p(_instant(hi), "timestamptz")))
    for field_name, column in FACETS.items():
        wanted = getattr(state, field_name)
        if wanted is None or skip == field_name:
            continue
        cond = sql.SQL("e.{} = ANY({})").format(sql.Identifier(column), p(sorted(wanted), "text[]"))
        if field_name == "munitions":
            # as FilterState._munition_test: a named munition, or a named class ("KN-23 or any
            # cruise missile"; a missing class is "unknown"), or no munition named and the class
            # named by a no_munition() value
            names, named_classes = state.munition_terms()
            classes = [c for c in MUNITION_CLASSES if no_munition(c) in names]
            if NO_MUNITION in names:
                cond = sql.SQL("({} OR e.munition IS NULL)").format(cond)
            elif classes:
                cond = sql.SQL("({} OR (e.munition IS NULL AND coalesce(e.munition_class, 'unknown') = ANY({})))"
                               ).format(cond, p(classes, "text[]"))
            if named_classes:  # written so that the index on munition_class serves it
                of_class = sql.SQL("e.munition_class = ANY({})").format(p(sorted(named_classes), "text[]"))
                if "unknown" in named_classes:
                    of_class = sql.SQL("({} OR e.munition_class IS NULL)").format(of_class)
                cond = sql.SQL("({} OR {})").format(cond, of_class)
        conds.append(cond)
    if state.tags is not None and skip != "tags":
        for column in sorted({c for c, _ in state.tags}):
            if column not in tags:  # as the mask: a column the data lack constrains nothing
                continue
            allowed = sorted({v for c, v in state.tags if c == column})
            values = _tag_values(sql.SQL("e.extra ->> {}").format(p(column, "text")))
            conds.append(sql.SQL("(EXISTS (SELECT 1 FROM ({values}) t WHERE t.v = ANY({allowed})) OR "
                                 "({none} AND NOT EXISTS ({values})))").format(
                values=values, allowed=p(allowed, "text[]"), none=p(NO_TAG in allowed, "boolean")))
    if state.text is not None and skip != "text":
        needle = state.text.strip()
        pattern = p("%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%", "text")
        hits = [sql.SQL("e.{} ILIKE {}").format(sql.Identifier(c), pattern) for c in TEXT_COLUMNS]
        hits += [sql.SQL("e.extra ->> {} ILIKE {}").format(p(c, "text"), pattern) for c in tags]
        conds.append(sql.SQL("({})").format(sql.SQL(" OR ").join(hits)))
    if state.bbox is not None and skip != "bbox":
        conds.append(_box(p, state.bbox))
    if state.min_casualties is not None and skip != "casualties":
        conds.append(sql.SQL("coalesce(e.killed, 0) + coalesce(e.injured, 0) >= {}").format(
            p(float(state.min_casualties), "float8")))
    return sql.SQL(" AND ").join(conds) if conds else sql.SQL("TRUE")


def _extra_columns(conn) -> list[str]:
    """The non-canonical columns of every import, in import order then file order."""
    seen: dict[str, None] = {}
    for (names,) in conn.execute("SELECT extra_columns FROM mapviewer_imports ORDER BY import_id"):
        for name in names or ():
            seen.setdefault(name, None)
    return list(seen)


def _tags(extras: list[str]) -> list[str]:
    return [c for c in extras if c.startswith(TAG_PREFIX)]


def _snapshot(conn) -> int:
    """Begin a consistent read-only view; return the newest import's commit number in it."""
    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    return int(conn.execute("SELECT coalesce(max(seq), 0) FROM mapviewer_imports").fetchone()[0])


# -- rows ----------------------------------------------------------------------------------------

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
    return _read(uri, filter_state, limit=limit, bbox=bbox, columns=columns, provenance=provenance)


def _read(uri: Source, filter_state: FilterState | None, *, limit: int | None = None,
          bbox: Iterable[float] | None = None, columns: Iterable[str] | None = None, provenance: bool = False,
          cap: int | None = None) -> DbLoadResult | None:
    """:func:`read`; with ``cap``, None (and nothing fetched) when more than ``cap`` events match."""
    from psycopg import sql

    wanted = None if columns is None else {*columns, "event_id", "occurred_at", "time_precision", "geometry"}
    with session(uri) as conn:
        check_ready(conn, uri)
        with conn.transaction():
            seq = _snapshot(conn)
            extras = _extra_columns(conn)
            kept_extras = [c for c in extras if wanted is None or c in wanted]
            p = _Params()
            where = _where(p, filter_state, bbox=bbox, tags=_tags(extras))
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


# -- counts ----------------------------------------------------------------------------------------

def _unfiltered(state: FilterState | None) -> bool:
    return state is None or state.is_empty


def _cell_ranges(bbox: Iterable[float] | None, size_e7: int) -> tuple[int, int, int, int] | None:
    """The cell numbers (first and last along x, then y) of the cells of ``size_e7`` that ``bbox`` touches."""
    if bbox is None:
        return None
    west, south, east, north = (float(v) for v in bbox)
    if not (west <= east and south <= north):
        return (1, 0, 1, 0)  # none
    def cell(v: float) -> int:
        return int(np.floor(round(v * E7) / size_e7))

    return cell(west), cell(east), cell(south), cell(north)


def count(uri: Source, filter_state: FilterState | None = None, *, bbox: Iterable[float] | None = None) -> int:
    """How many events match ``filter_state`` (and lie in ``bbox``)."""
    from psycopg import sql

    with session(uri) as conn:
        if _unfiltered(filter_state) and bbox is None:
            known = overview.load(conn)
            if known is not None:
                return known.total
        p = _Params()
        where = _where(p, filter_state, bbox=bbox, tags=_tags(_extra_columns(conn)))
        query = sql.SQL("SELECT count(*) FROM mapviewer_events e WHERE {}").format(where)
        return int(conn.execute(query, p.bind).fetchone()[0])


def plan(uri: Source, filter_state: FilterState | None = None, bbox: Iterable[float] | None = None, *,
         limit: int | None = None) -> tuple[str, int]:
    """How to draw the view: ``("points", n)`` when at most ``limit`` (default :data:`POINT_LIMIT`)
    events match in ``bbox``, else ``("cells", n)`` with n > limit (draw :func:`aggregate`).

    Counting stops past the limit (n is then limit + 1). With no filter the overview decides at
    once (n then counts the events of the 0.01-degree cells the view touches).
    """
    from psycopg import sql

    limit = POINT_LIMIT if limit is None else int(limit)
    with session(uri) as conn:
        if _unfiltered(filter_state):
            known = overview.load(conn)
            if known is not None:
                n = known.count(BASE_E7, _cell_ranges(bbox, BASE_E7))
                if n > limit:
                    return ("cells", n)
        p = _Params()
        where = _where(p, filter_state, bbox=bbox, tags=_tags(_extra_columns(conn)))
        query = sql.SQL("SELECT count(*) FROM (SELECT 1 FROM mapviewer_events e WHERE {} LIMIT {}) s").format(
            where, p(limit + 1, "bigint"))
        n = int(conn.execute(query, p.bind).fetchone()[0])
    return ("points", n) if n <= limit else ("cells", n)


def aggregate(uri: Source, filter_state: FilterState | None, bbox: Iterable[float] | None,
              cell_deg: float) -> pd.DataFrame:
    """Matching events counted per square grid cell of ``cell_deg`` degrees, on the server.

    Cells are aligned on multiples of ``cell_deg`` from 0 (a point on an edge belongs to the cell
    it starts); the cells returned are those ``bbox`` touches (all when None), each counting all
    its matching events. One row per non-empty cell: ``lon``, ``lat`` (its centre), ``west``,
    ``south``, ``east``, ``north``, ``count`` and one count per outcome (``impact`` ...
    ``unknown``, in :data:`geodata.OUTCOMES` order; a missing outcome counts as unknown).
    With no filter and ``cell_deg`` a multiple of 0.01 the counts come from the overview.
    """
    from psycopg import sql

    size_e7 = int(round(float(cell_deg) * E7))
    if not size_e7 >= 1:
        raise ValueError("cell_deg must be positive")
    ranges = _cell_ranges(bbox, size_e7)
    table = None
    with session(uri) as conn:
        if _unfiltered(filter_state) and size_e7 % BASE_E7 == 0:
            known = overview.load(conn)
            if known is not None:
                table = known.cell_counts(size_e7, ranges)
        if table is None:
            p = _Params()
            where = _where(p, filter_state, tags=_tags(_extra_columns(conn)))
            size = p(size_e7, "bigint")
            ix = sql.SQL(cell_sql("ST_X(e.geom)", "{}")).format(size)
            iy = sql.SQL(cell_sql("ST_Y(e.geom)", "{}")).format(size)
            if ranges is not None:
                # the cells' envelope (its edges included: the points there belong to the next cells,
                # which are dropped below, once per cell instead of a test per event)
                x0, x1, y0, y1 = ranges
                degrees = size_e7 / E7
                where = sql.SQL("{} AND e.geom && ST_MakeEnvelope({}, {}, {}, {}, 4326)").format(
                    where, p(x0 * degrees, "float8"), p(y0 * degrees, "float8"), p((x1 + 1) * degrees, "float8"),
                    p((y1 + 1) * degrees, "float8"))
            known_outcomes = [o for o in OUTCOMES if o != "unknown"]
            per_outcome = [sql.SQL("count(*) FILTER (WHERE e.outcome = {})").format(p(o, "text"))
                           for o in known_outcomes]
            per_outcome.append(sql.SQL("count(*) FILTER (WHERE e.outcome IS NULL OR NOT e.outcome = ANY({}))").format(
                p(known_outcomes, "text[]")))
            query = sql.SQL("SELECT {ix}, {iy}, count(*), {outcomes} FROM mapviewer_events e "
                            "WHERE e.geom IS NOT NULL AND {where} GROUP BY 1, 2").format(
                ix=ix, iy=iy, outcomes=sql.SQL(", ").join(per_outcome), where=where)
            rows = conn.execute(query, p.bind).fetchall()
            table = np.array(rows, dtype=np.int64).reshape(len(rows), 3 + len(OUTCOMES))
            if ranges is not None:
                x0, x1, y0, y1 = ranges
                table = table[(table[:, 0] >= x0) & (table[:, 0] <= x1) & (table[:, 1] >= y0) & (table[:, 1] <= y1)]
    table = table[np.lexsort((table[:, 1], table[:, 0]))]
    size = size_e7 / E7
    ix, iy = table[:, 0], table[:, 1]
    out = pd.DataFrame({"lon": (ix * size_e7 + size_e7 / 2) / E7, "lat": (iy * size_e7 + size_e7 / 2) / E7,
                        "west": ix * size_e7 / E7, "south": iy * size_e7 / E7, "east": (ix + 1) * size_e7 / E7,
                        "north": (iy + 1) * size_e7 / E7, "count": table[:, 2]})
    for i, outcome in enumerate(OUTCOMES):
        out[outcome] = table[:, 3 + i]
    out.attrs["cell_deg"] = size
    return out


def view(uri: Source, filter_state: FilterState | None, bbox: Iterable[float] | None, cell_deg: float, *,
         limit: int | None = None, columns: Iterable[str] | None = None, cells: bool = True) -> tuple[str, Any]:
    """What the map draws for a view, in one call: ``("points", DbLoadResult)`` (as :func:`read`
    gives) when at most ``limit`` (default :data:`POINT_LIMIT`) events match in ``bbox``, else
    ``("cells", DataFrame)`` (as :func:`aggregate` gives; ``("cells", None)``, nothing counted, when
    ``cells`` is False). Cheaper than :func:`plan` then a read: the events are found once."""
    limit = POINT_LIMIT if limit is None else int(limit)
    with session(uri) as conn:
        if _unfiltered(filter_state):
            known = overview.load(conn)
            if known is not None and known.count(BASE_E7, _cell_ranges(bbox, BASE_E7)) > limit:
                return "cells", aggregate(conn, filter_state, bbox, cell_deg) if cells else None
        points = _read(conn, filter_state, bbox=bbox, columns=columns, cap=limit)
        if points is None:
            return "cells", aggregate(conn, filter_state, bbox, cell_deg) if cells else None
    if not isinstance(uri, str):
        return "points", points
    shown = uri_of(uri)  # name the address as given, not the connection
    points.report.path = points.database = shown
    return "points", points


def facet_counts(uri: Source, filter_state: FilterState | None = None,
                 field_name: str | None = None) -> dict[str, Any]:
    """For each value of a facet, how many events match every other criterion (GROUP BY on the server).

    With ``field_name`` (``munitions``, ``outcomes``, ``munition_classes``, ``admin1``), the same
    dict :func:`geodata.facet_counts` gives for the frame; without, ``{field_name: that dict}``
    for all four. One query per facet with every other criterion (so the indexes serve it);
    the values and their totals over the table (their order) come from the overview.
    """
    from psycopg import sql

    if field_name is not None and field_name not in FACETS:
        raise ValueError(f"unknown facet {field_name!r}; expected one of {', '.join(FACETS)}")
    state = filter_state or FilterState()
    fields = list(FACETS) if field_name is None else [field_name]
    result: dict[str, dict[str, int]] = {}
    with session(uri) as conn:
        tags = _tags(_extra_columns(conn))
        totals = overview.facet_totals(conn)
        for f in fields:
            column = FACETS[f]
            others = state.replace(**{f: None})
            if others.is_empty:
                kept = totals[f]
            else:
                p = _Params()
                where = _where(p, others, tags=tags)
                if f == "munitions":
                    query = sql.SQL("SELECT e.munition, CASE WHEN e.munition IS NULL THEN coalesce(e.munition_class, "
                                    "'unknown') END, count(*) FROM mapviewer_events e WHERE {} GROUP BY 1, 2"
                                    ).format(where)
                else:
                    query = sql.SQL("SELECT e.{}, count(*) FROM mapviewer_events e WHERE {} GROUP BY 1").format(
                        sql.Identifier(column), where)
                kept = [list(row) for row in conn.execute(query, p.bind).fetchall()]
            result[f] = _facet(f, kept, totals[f])
    return result[field_name] if field_name is not None else result


def _facet(field_name: str, kept: list[list], totals: list[list]) -> dict[str, int]:
    """One facet's counts in :func:`geodata.facet_counts`' order, from (value[, class], n) rows."""
    def by_value(rows: list[list]) -> tuple[dict[str, int], dict[str, int]]:
        named: dict[str, int] = {}
        missing: dict[str, int] = {}  # munitions: events naming none, by class
        for row in rows:
            value, n = row[0], int(row[-1])
            if value is not None:
                named[value] = named.get(value, 0) + n
            elif field_name == "munitions":
                missing[row[1]] = missing.get(row[1], 0) + n
        return named, missing

    counts, missing = by_value(kept)
    overall, missing_overall = by_value(totals)
    fixed = {"outcomes": OUTCOMES, "munition_classes": MUNITION_CLASSES}.get(field_name)
    if fixed is not None:
        return {v: counts.get(v, 0) for v in fixed}
    out = {v: counts.get(v, 0) for v in sorted(overall, key=lambda v: (-overall[v], v))}
    for munition_class in MUNITION_CLASSES:
        if munition_class in missing_overall:
            out[no_munition(munition_class)] = missing.get(munition_class, 0)
    return out


def summary(uri: Source, filter_state: FilterState | None = None, *, tz: str | None = None):
    """:func:`geodata.summarize` of the matching events, computed with GROUP BY on the server."""
    from psycopg import sql

    from geodata.stats import NO_MUNITION as NONE_NAMED
    from geodata.stats import Summary

    with session(uri) as conn:
        p = _Params()
        where = _where(p, filter_state, tags=_tags(_extra_columns(conn)))
        query = sql.SQL(
            "SELECT GROUPING(e.munition), GROUPING(e.munition_class), e.munition, e.outcome, e.munition_class, "
            "count(*), sum(e.killed), count(e.killed), sum(e.injured), count(e.injured), min(e.occurred_at), "
            "max(e.occurred_at) FROM mapviewer_events e WHERE {} "
            "GROUP BY GROUPING SETS ((e.munition, e.outcome), (e.munition_class), ())").format(where)
        rows = conn.execute(query, p.bind).fetchall()
    table: dict[str, np.ndarray] = {}
    by_class = dict.fromkeys(MUNITION_CLASSES, 0)
    total = killed = killed_n = injured = injured_n = 0
    first = last = None
    for g_mun, g_cls, munition, outcome, munition_class, n, k, kn, i, i_n, lo, hi in rows:
        if g_mun == 0:
            name = NONE_NAMED if munition is None else munition
            counts = table.setdefault(name, np.zeros(len(OUTCOMES), dtype=np.int64))
            counts[OUTCOMES.index(outcome) if outcome in OUTCOMES else OUTCOMES.index("unknown")] += n
        elif g_cls == 0:
            key = munition_class if munition_class in MUNITION_CLASSES else "unknown"
            by_class[key] += int(n)
        else:
            total, killed, killed_n, injured, injured_n = int(n), int(k or 0), int(kn), int(i or 0), int(i_n)
            first, last = (None if v is None else pd.Timestamp(v).tz_convert("UTC") for v in (lo, hi))
    names = sorted(table, key=lambda m: (-int(table[m].sum()), m))
    outcomes_by = {m: dict(zip(OUTCOMES, map(int, table[m]))) for m in names}
    unknown = OUTCOMES.index("unknown")
    known = {m: int(table[m].sum() - table[m][unknown]) for m in names}

    def rate(outcome: str) -> dict[str, float | None]:
        return {m: (outcomes_by[m][outcome] / known[m] if known[m] else None) for m in names}

    by_outcome = {o: int(sum(table[m][j] for m in names)) for j, o in enumerate(OUTCOMES)}
    return Summary(total=total, by_munition={m: int(table[m].sum()) for m in names}, by_outcome=by_outcome,
                   by_class=by_class, outcomes_by_munition=outcomes_by, known_outcome=known,
                   interception_rate=rate("intercepted"), deviation_rate=rate("deviated"), killed=killed,
                   injured=injured, killed_reported=killed_n, injured_reported=injured_n, date_min=first,
                   date_max=last, tz=tz or (filter_state.tz if filter_state else DEFAULT_TZ))


def catalogue(uri: Source) -> dict[str, Any]:
    """What a filter can choose from, over the whole table: ``munitions``, a list of
    ``(munition, munition_class, events)`` (either may be None), most events first, and the span of
    the event times, ``first`` and ``last`` (UTC Timestamps, None when no event has a time).

    The pairs come from the overview (counted from the table when it is out of date), the span
    from the index on the event time: no pass over the table."""
    with session(uri) as conn:
        check_ready(conn, uri)
        with conn.transaction():
            _snapshot(conn)
            pairs = overview.facet_totals(conn)["pairs"]
            first, last = conn.execute("SELECT min(occurred_at), max(occurred_at) FROM mapviewer_events").fetchone()
    rows = sorted(((m, c, int(n)) for m, c, n in pairs if int(n)), key=lambda r: (-r[2], r[0] is None, r[0] or "",
                                                                                 r[1] is None, r[1] or ""))
    return {"munitions": rows, "first": None if first is None else pd.Timestamp(first).tz_convert("UTC"),
            "last": None if last is None else pd.Timestamp(last).tz_convert("UTC")}


def inspect(uri: Source, filter_state: FilterState | None = None, *, tz: str | None = None) -> dict[str, Any]:
    """What ``mapviewer inspect URI --json`` prints: the same keys as for a file, over the rows the
    database holds (that match ``filter_state``); none is rejected, ``format`` is "postgresql"."""
    from psycopg import sql

    zone = tz or (filter_state.tz if filter_state else DEFAULT_TZ)
    with session(uri) as conn:
        check_ready(conn, uri)
        p = _Params()
        where = _where(p, filter_state, tags=_tags(_extra_columns(conn)))
        query = sql.SQL(
            "SELECT GROUPING(e.munition), GROUPING(e.outcome), GROUPING(e.munition_class), e.munition, e.outcome, "
            "e.munition_class, count(*), min(e.occurred_at), max(e.occurred_at) FROM mapviewer_events e WHERE {} "
            "GROUP BY GROUPING SETS ((e.munition), (e.outcome), (e.munition_class), ())").format(where)
        rows = conn.execute(query, p.bind).fetchall()
    counts: dict[str, dict[str, int]] = {"munition": {}, "outcome": {}, "munition_class": {}}
    n, first, last = 0, None, None
    for g_mun, g_out, g_cls, munition, outcome, munition_class, k, lo, hi in rows:
        for grouped, key, value in ((g_mun, "munition", munition), (g_out, "outcome", outcome),
                                    (g_cls, "munition_class", munition_class)):
            if grouped == 0 and value is not None and not (g_mun == g_out == g_cls == 0):
                counts[key][value] = int(k)
        if g_mun and g_out and g_cls:
            n, first, last = int(k), lo, hi
    ordered = {key: dict(sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))) for key, values in counts.items()}

    def local(value) -> str | None:
        return None if value is None else pd.Timestamp(value).tz_convert(zone).isoformat()

    return {"path": uri_of(uri), "format": "postgresql", "rows_read": n, "rows_loaded": n, "rows_rejected": 0,
            "problems": [], "counts": ordered, "date_min": local(first), "date_max": local(last)}


def timeline_counts(uri: Source, filter_state: FilterState | None = None, unit: str = "day", by: str = "outcome"):
    """:meth:`geodata.timeline.TimelineIndex.histogram` of the matching events, counted on the server.

    Bins cover every stored event's span (as for a frame holding the whole table); exactly timed
    events count in their bin, day- and month-dated ones are spread over their local day or
    month (``spread``), as the timeline does for files.
    """
    from psycopg import sql

    from geodata.timeline import BIN_UNITS, STACKINGS, Histogram, bin_edges

    if unit not in BIN_UNITS:
        raise ValueError(f"unknown bin unit {unit!r}; expected one of {', '.join(BIN_UNITS)}")
    column, categories = STACKINGS[by]
    tz = filter_state.tz if filter_state else DEFAULT_TZ
    k = len(categories)
    with session(uri) as conn:
        with conn.transaction():
            _snapshot(conn)
            lo, hi = conn.execute("SELECT min(occurred_at), max(latest_at) FROM mapviewer_events").fetchone()
            if lo is None:
                empty = np.zeros((0, k))
                return Histogram(unit, by, categories, np.zeros(1, dtype=np.int64), empty, empty.copy())
            edges = bin_edges(pd.Timestamp(lo).value, pd.Timestamp(hi).value, unit, tz)
            p = _Params()
            where = _where(p, filter_state, tags=_tags(_extra_columns(conn)))
            zone, first = p(tz, "text"), p(_instant(edges[0] // 1000), "timestamptz")
            if unit == "hour":  # whole hours counted from the first edge (local midnight)
                exact_start = sql.SQL("NULL::timestamp")
                hour = sql.SQL("floor(date_part('epoch', e.occurred_at - {}) / 3600)::bigint").format(first)
            else:
                exact_start = sql.SQL("date_trunc({}, e.occurred_at AT TIME ZONE {})").format(p(unit, "text"), zone)
                hour = sql.SQL("NULL::bigint")
            query = sql.SQL(
                "SELECT e.time_precision, CASE e.time_precision "
                "WHEN 'day' THEN date_trunc('day', e.occurred_at AT TIME ZONE {zone}) "
                "WHEN 'month' THEN date_trunc('month', e.occurred_at AT TIME ZONE {zone}) ELSE {exact} END, "
                "CASE WHEN e.time_precision IN ('day', 'month') THEN NULL ELSE {hour} END, e.{column}, count(*) "
                "FROM mapviewer_events e WHERE e.occurred_at IS NOT NULL AND {where} GROUP BY 1, 2, 3, 4").format(
                zone=zone, exact=exact_start, hour=hour, column=sql.Identifier(column), where=where)
            rows = conn.execute(query, p.bind).fetchall()
    n_bins = len(edges) - 1
    exact = np.zeros((n_bins, k))
    spread = np.zeros((n_bins, k))
    seconds = (edges - edges[0]) / 1e9
    for precision, start, hour, category, n in rows:
        j = categories.index(category) if category in categories else k - 1
        if precision not in ("day", "month"):
            b = int(hour) if unit == "hour" else int(np.searchsorted(edges, _local(start, tz), "right")) - 1
            if 0 <= b < n_bins:
                exact[b, j] += n
            continue
        s0 = _local(start, tz)
        following = pd.Timestamp(start) + (pd.offsets.Day(1) if precision == "day" else pd.offsets.MonthBegin(1))
        s1 = _local(following, tz)
        knots = np.array([s0 - edges[0], s1 - edges[0]]) / 1e9
        spread[:, j] += np.diff(np.interp(seconds, knots, [0.0, float(n)]))
    return Histogram(unit, by, categories, edges, exact + spread, spread)


def _local(value, tz: str) -> int:
    """A local wall-clock time (naive) in ``tz`` as int64 UTC nanoseconds."""
    return pd.Timestamp(value).tz_localize(tz, ambiguous=True, nonexistent="shift_forward").value


# -- live updates ----------------------------------------------------------------------------------

def latest_seq(uri: Source) -> int:
    """The newest import's commit number (0 when nothing was imported)."""
    with session(uri) as conn:
        check_ready(conn, uri)
        return int(conn.execute("SELECT coalesce(max(seq), 0) FROM mapviewer_imports").fetchone()[0])


def new_since(uri: Source, since: int, filter_state: FilterState | None = None) -> int:
    """How many events matching ``filter_state`` were added or changed by imports committed after
    ``since`` (a commit number: :attr:`DbLoadResult.seq`, :func:`latest_seq`, or a notification's
    ``seq``). Imports get commit numbers in commit order, so none is missed."""
    from psycopg import sql

    with session(uri) as conn:
        p = _Params()
        where = _where(p, filter_state, tags=_tags(_extra_columns(conn)))
        query = sql.SQL("SELECT count(*) FROM mapviewer_events e WHERE e.import_id IN (SELECT import_id FROM "
                        "mapviewer_imports WHERE seq > {}) AND {}").format(p(int(since), "bigint"), where)
        return int(conn.execute(query, p.bind).fetchone()[0])
