"""What the map draws for a view: the events as points when few enough match, else the server's grid
of counts (cells); the unfiltered map is answered from the overview."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from geodata.db import overview
from geodata.db.connect import Source, session, uri_of
from geodata.db.overview import BASE_E7, E7, cell_sql
from geodata.db.rows import read_at_most
from geodata.db.sqlfilter import Params, extra_columns, tag_columns, unfiltered, where_sql
from geodata.filters import FilterState
from geodata.schema import OUTCOMES

__all__ = ["POINT_LIMIT", "aggregate", "count", "plan", "view"]

#: ATTENTION: the most events pulled to draw as points (the app's default too). Above it the map
#: shows the server's aggregation (:func:`aggregate`) until the view holds fewer. Each point costs
#: about 20 us from question to drawn (read with every column about 10 us, the app's frame and
#: the page the rest; benchmarks/bench_db_app.py on two cores): 30,000 keep a view under a second
#: on a busy machine (40,000 took 0.85-1.3 s, 80,000 1.2-1.7 s).
POINT_LIMIT = 30_000


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
        if unfiltered(filter_state) and bbox is None:
            known = overview.load(conn)
            if known is not None:
                return known.total
        p = Params()
        where = where_sql(p, filter_state, bbox=bbox, tags=tag_columns(extra_columns(conn)))
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
        if unfiltered(filter_state):
            known = overview.load(conn)
            if known is not None:
                n = known.count(BASE_E7, _cell_ranges(bbox, BASE_E7))
                if n > limit:
                    return ("cells", n)
        p = Params()
        where = where_sql(p, filter_state, bbox=bbox, tags=tag_columns(extra_columns(conn)))
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
        if unfiltered(filter_state) and size_e7 % BASE_E7 == 0:
            known = overview.load(conn)
            if known is not None:
                table = known.cell_counts(size_e7, ranges)
        if table is None:
            p = Params()
            where = where_sql(p, filter_state, tags=tag_columns(extra_columns(conn)))
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
        if unfiltered(filter_state):
            known = overview.load(conn)
            if known is not None and known.count(BASE_E7, _cell_ranges(bbox, BASE_E7)) > limit:
                return "cells", aggregate(conn, filter_state, bbox, cell_deg) if cells else None
        points = read_at_most(conn, filter_state, bbox=bbox, columns=columns, cap=limit)
        if points is None:
            return "cells", aggregate(conn, filter_state, bbox, cell_deg) if cells else None
    if not isinstance(uri, str):
        return "points", points
    shown = uri_of(uri)  # name the address as given, not the connection
    points.report.path = points.database = shown
    return "points", points
