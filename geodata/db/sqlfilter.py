"""A :class:`geodata.FilterState` as the SQL ``WHERE`` condition of a query on the store.

The condition is built with :mod:`psycopg.sql`; every value (dates, names, the search text, box
corners) travels as a bind parameter, never as SQL text, so the server also plans each query
knowing the values (and picks the right index).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from geodata.db.schema import STORED_TZ, latest_sql
from geodata.filters import FACETS, NO_MUNITION, NO_TAG, TAG_PREFIX, TEXT_COLUMNS, FilterState, _bound, no_munition
from geodata.schema import MUNITION_CLASSES

__all__ = ["Params", "extra_columns", "instant", "snapshot", "tag_columns", "unfiltered", "where_sql"]

_TYPES = frozenset({"timestamptz", "text", "text[]", "float8", "bigint", "boolean"})
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


class Params:
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


def instant(us: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=int(us))


def _box(p: Params, box: Iterable[float]):
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


def where_sql(p: Params, state: FilterState | None, *, bbox: Iterable[float] | None = None, skip: str | None = None,
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
            conds.append(sql.SQL("e.occurred_at >= {}").format(p(instant(lo), "timestamptz")))
        if hi is not None:
            # the whole day or month an imprecise event may lie in must be inside the range
            latest = (sql.SQL("e.latest_at") if state.tz == STORED_TZ else
                      sql.SQL(latest_sql("e.occurred_at", "e.time_precision", "{tz}")).format(tz=p(state.tz, "text")))
            conds.append(sql.SQL("{} <= {}").format(latest, p(instant(hi), "timestamptz")))
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


def extra_columns(conn) -> list[str]:
    """The non-canonical columns of every import, in import order then file order."""
    seen: dict[str, None] = {}
    for (names,) in conn.execute("SELECT extra_columns FROM mapviewer_imports ORDER BY import_id"):
        for name in names or ():
            seen.setdefault(name, None)
    return list(seen)


def tag_columns(extras: list[str]) -> list[str]:
    return [c for c in extras if c.startswith(TAG_PREFIX)]


def snapshot(conn) -> int:
    """Begin a consistent read-only view; return the newest import's commit number in it."""
    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    return int(conn.execute("SELECT coalesce(max(seq), 0) FROM mapviewer_imports").fetchone()[0])



def unfiltered(state: FilterState | None) -> bool:
    return state is None or state.is_empty
