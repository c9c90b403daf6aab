"""Counts over every matching event, made on the server (GROUP BY): facet counts, the summary, what
a filter chooses from, ``inspect``, the timeline's bins, and the events new since an import."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from geodata.db import overview
from geodata.db.connect import Source, session, uri_of
from geodata.db.schema import check_ready
from geodata.db.sqlfilter import Params, extra_columns, instant, snapshot, tag_columns, where_sql
from geodata.filters import FACETS, FilterState, no_munition
from geodata.schema import DEFAULT_TZ, MUNITION_CLASSES, OUTCOMES

__all__ = ["catalogue", "facet_counts", "inspect", "latest_seq", "new_since", "summary", "timeline_counts"]


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
        tags = tag_columns(extra_columns(conn))
        totals = overview.facet_totals(conn)
        for f in fields:
            column = FACETS[f]
            others = state.replace(**{f: None})
            if others.is_empty:
                kept = totals[f]
            else:
                p = Params()
                where = where_sql(p, others, tags=tags)
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
        rows = _whole_table_summary(conn) if filter_state is None or filter_state.is_empty else None
        if rows is None:
            p = Params()
            where = where_sql(p, filter_state, tags=tag_columns(extra_columns(conn)))
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


def _whole_table_summary(conn) -> list[tuple] | None:
    """The summary query's rows for the whole table, from the overview (None when it is not up to
    date or was made before it kept the summary): on 10 million events the scan takes seconds."""
    known = overview.load(conn, cells=False)
    if known is None or "summary" not in known.facets:
        return None
    first, last = conn.execute("SELECT min(occurred_at), max(occurred_at) FROM mapviewer_events").fetchone()
    rows: list[tuple] = [(0, 1, munition, outcome, None, n, k, kn, i, i_n, None, None)
                         for munition, outcome, n, k, kn, i, i_n in known.facets["summary"]]
    rows += [(1, 0, None, None, munition_class, n, 0, 0, 0, 0, None, None)
             for munition_class, n in known.facets["munition_classes"]]
    figures = np.array([r[5:10] for r in rows if r[0] == 0], dtype=np.int64).reshape(-1, 5).sum(axis=0)
    rows.append((1, 1, None, None, None, known.total, *figures[1:].tolist(), first, last))
    return rows


def catalogue(uri: Source) -> dict[str, Any]:
    """What a filter can choose from, over the whole table: ``munitions``, a list of
    ``(munition, munition_class, events)`` (either may be None), most events first, and the span of
    the event times, ``first`` and ``last`` (UTC Timestamps, None when no event has a time).

    The pairs come from the overview (counted from the table when it is out of date), the span
    from the index on the event time: no pass over the table."""
    with session(uri) as conn:
        check_ready(conn, uri)
        with conn.transaction():
            snapshot(conn)
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
        p = Params()
        where = where_sql(p, filter_state, tags=tag_columns(extra_columns(conn)))
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
            snapshot(conn)
            lo, hi = conn.execute("SELECT min(occurred_at), max(latest_at) FROM mapviewer_events").fetchone()
            if lo is None:
                empty = np.zeros((0, k))
                return Histogram(unit, by, categories, np.zeros(1, dtype=np.int64), empty, empty.copy())
            edges = bin_edges(pd.Timestamp(lo).value, pd.Timestamp(hi).value, unit, tz)
            p = Params()
            where = where_sql(p, filter_state, tags=tag_columns(extra_columns(conn)))
            zone, first = p(tz, "text"), p(instant(edges[0] // 1000), "timestamptz")
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
        p = Params()
        where = where_sql(p, filter_state, tags=tag_columns(extra_columns(conn)))
        query = sql.SQL("SELECT count(*) FROM mapviewer_events e WHERE e.import_id IN (SELECT import_id FROM "
                        "mapviewer_imports WHERE seq > {}) AND {}").format(p(int(since), "bigint"), where)
        return int(conn.execute(query, p.bind).fetchone()[0])
