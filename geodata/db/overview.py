"""The overview: counts over the whole table, kept with it, for what is asked most with no filter.

Opening the store at country zoom with no filter asks for every event in cells; on 10 million
events that is a scan of the whole table (tens of seconds on a small server). The overview holds
every event counted per 0.01-degree cell and outcome, and per value of each facet (munition,
outcome, class, oblast, and munition with its class), and per munition and outcome with their
casualty figures, so the unfiltered map, ``count`` and ``plan``, the lists of values with their
totals in the filter panel, what a filter chooses from (``catalogue``) and the summary of the whole
table answer at once. Each import rebuilds it in its own
transaction just before commit, from the rows it wrote and the rows those replaced (so an import
costs what its own rows cost, not a pass over the table), and marks it with its commit number:
it is used only while no later import exists.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from geodata.schema import OUTCOMES

__all__ = ["BASE_E7", "E7", "FACET_KEYS", "Overview", "apply", "cell_sql", "facet_totals", "load", "refresh", "split",
           "totals_sql"]

#: Grid unit: 1e-7 degree (about 1 cm). Cells are whole multiples of it, so they nest exactly.
E7 = 10_000_000
#: The overview's cell size: 0.01 degree.
BASE_E7 = 100_000
#: Packed cell counts: x and y cell numbers, outcome (index in OUTCOMES), events; big-endian.
_CELL = np.dtype([("gx", ">i4"), ("gy", ">i4"), ("outcome", ">i2"), ("n", ">i8")])
#: The overview's lists of values with their totals: the filter's facets, then munition and class pairs,
#: then munition and outcome pairs with their casualty figures (the summary of the whole table).
FACET_KEYS = ("munitions", "outcomes", "munition_classes", "admin1", "pairs", "summary")
#: How many leading values of an entry name it; the numbers after them are added up.
_NAMED_BY = {"munitions": 2, "outcomes": 1, "munition_classes": 1, "admin1": 1, "pairs": 2, "summary": 2}


def cell_sql(axis: str, size: str) -> str:
    """SQL for the cell number along one axis (``ST_X(e.geom)``), cells of ``size`` grid units.

    Coordinates are first rounded to whole grid units, so a point on a cell edge (30.52) falls in
    the cell starting there, whatever the floating-point error of the multiplication.
    """
    return f"floor(round({axis} * {E7}) / {size})::bigint"


_FACET_COLUMNS = ("munition, CASE WHEN munition IS NULL THEN coalesce(munition_class, 'unknown') END AS nm_class, "
                  "outcome, munition_class, admin1")


def totals_sql(relation: str = "mapviewer_events", *, cells: bool = True, weight: str | None = None) -> str:
    """SQL counting ``relation`` (rows with ``geom``, ``outcome``, ``munition``, ``munition_class``,
    ``admin1``) per 0.01-degree cell and outcome (with ``cells``), per facet value, and in all:
    ``count(*)``, or ``sum(weight)`` (an import's changes: +1 for a row written, -1 for the row it
    replaced). Takes the parameter ``%(outcomes)s``; rows as :func:`split` reads them. Munitions
    are counted twice: with the class of those naming none (the filter's facet), and with their class
    (``pairs``: what a filter chooses from)."""
    if weight is None:
        amount, figures = "count(*)", "sum(killed), count(killed), sum(injured), count(injured)"
    else:
        amount = f"sum({weight})"
        figures = ", ".join(f"sum({weight} * {c}), sum(CASE WHEN {c} IS NOT NULL THEN {weight} ELSE 0 END)"
                            for c in ("killed", "injured"))
    cell_columns = (f"CASE WHEN geom IS NOT NULL THEN {cell_sql('ST_X(geom)', str(BASE_E7))} END AS gx, "
                    f"{cell_sql('ST_Y(geom)', str(BASE_E7))} AS gy, " if cells else
                    "NULL::bigint AS gx, NULL::bigint AS gy, ")
    return (f"SELECT GROUPING(gx, munition, outcome, munition_class, admin1), gx, gy, oc, munition, nm_class, "
            f"outcome, munition_class, admin1, {amount}, {figures} FROM (SELECT {cell_columns}"
            f"(coalesce(array_position(%(outcomes)s::text[], outcome), {len(OUTCOMES)}) - 1) AS oc, "
            f"{_FACET_COLUMNS}, killed, injured{', ' + weight if weight else ''} FROM {relation}) t "
            f"GROUP BY GROUPING SETS ((gx, gy, oc), (munition, nm_class), (munition, munition_class), (outcome), "
            f"(munition_class), (admin1), (munition, outcome), ())")


def split(rows: list[tuple]) -> tuple[np.ndarray, dict[str, list], int]:
    """The packed cell counts, the facet totals and the grand total from :func:`totals_sql`'s rows."""
    cells: list[tuple[int, int, int, int]] = []
    facets: dict[str, list] = {name: [] for name in FACET_KEYS}
    total = 0
    # GROUPING bits (gx, munition, outcome, munition_class, admin1): 1 = not grouped in this set
    sets = {0b01111: "cells", 0b10111: "munitions", 0b10101: "pairs", 0b11011: "outcomes",
            0b11101: "munition_classes", 0b11110: "admin1", 0b10011: "summary", 0b11111: "all"}
    for grouping, gx, gy, oc, munition, nm_class, outcome, munition_class, admin1, n, *figures in rows:
        kind, n = sets[grouping], int(n or 0)
        if kind == "summary":  # events, killed, events with killed given, injured, events with injured given
            facets[kind].append([munition, outcome, n, *(int(v or 0) for v in figures)])
        elif kind == "cells":
            if gx is not None:
                cells.append((gx, gy, oc, n))
        elif kind == "munitions":
            facets[kind].append([munition, nm_class, n])
        elif kind == "pairs":
            facets[kind].append([munition, munition_class, n])
        elif kind == "all":
            total = n
        else:
            facets[kind].append([{"outcomes": outcome, "munition_classes": munition_class, "admin1": admin1}[kind], n])
    return np.array(cells, dtype=_CELL), facets, total


def facet_totals(conn) -> dict[str, list]:
    """Events per value of each facet over the whole table: from the overview, else counted."""
    known = load(conn, cells=False)
    if known is not None and set(FACET_KEYS) <= set(known.facets):
        return known.facets
    return split(conn.execute(totals_sql(cells=False), {"outcomes": list(OUTCOMES)}).fetchall())[1]


def _store(conn, seq: int, total: int, cells: np.ndarray, facets: dict[str, list]) -> None:
    conn.execute(
        "INSERT INTO mapviewer_overview AS o (only_row, seq, total, cells, facets) VALUES (true, %s, %s, %s, %s) "
        "ON CONFLICT (only_row) DO UPDATE SET seq = EXCLUDED.seq, total = EXCLUDED.total, cells = EXCLUDED.cells, "
        "facets = EXCLUDED.facets", [seq, total, np.asarray(cells).astype(_CELL).tobytes(), json.dumps(facets)])


def refresh(conn, seq: int) -> None:
    """Rebuild the overview for the table as this transaction sees it, as of import ``seq``."""
    cells, facets, total = split(conn.execute(totals_sql(), {"outcomes": list(OUTCOMES)}).fetchall())
    _store(conn, seq, total, cells, facets)


def apply(conn, seq: int, changes: list[tuple]) -> None:
    """Bring the overview to import ``seq`` by its changes (:func:`totals_sql` rows with
    weights); rebuilt from the table when it was not up to date with the import before."""
    row = conn.execute(
        "SELECT o.total, o.cells, o.facets FROM mapviewer_overview o WHERE o.seq = (SELECT coalesce(max(seq), 0) "
        "FROM mapviewer_imports WHERE seq < %s) FOR UPDATE", [seq], binary=True).fetchone()
    if row is None or not set(FACET_KEYS) <= set(row[2]):  # none, or made by an older version
        refresh(conn, seq)
        return
    total, packed, facets = row
    delta_cells, delta_facets, delta_total = split(changes)
    both = np.concatenate([np.frombuffer(packed or b"", dtype=_CELL), delta_cells])
    if len(both):
        key = ((both["gx"].astype(np.int64) + (1 << 20)) << 24 | (both["gy"].astype(np.int64) + (1 << 20))) << 4
        key |= both["outcome"].astype(np.int64)
        keys, where = np.unique(key, return_inverse=True)
        n = np.bincount(where.reshape(-1), weights=both["n"].astype(np.int64), minlength=len(keys)).astype(np.int64)
        first = np.zeros(len(keys), dtype=np.int64)
        first[where.reshape(-1)[::-1]] = np.arange(len(both))[::-1]  # a row of each key
        both = both[first][n != 0].copy()
        both["n"] = n[n != 0]
    merged: dict[str, list] = {}
    for name in FACET_KEYS:
        width = _NAMED_BY[name]
        counts: dict[tuple, list[int]] = {}
        for entry in [*facets.get(name, []), *delta_facets[name]]:
            added = counts.setdefault(tuple(entry[:width]), [0] * (len(entry) - width))
            for i, value in enumerate(entry[width:]):
                added[i] += int(value)
        merged[name] = [[*k, *v] for k, v in counts.items() if v[0]]  # v[0]: events; none left, gone
    _store(conn, seq, int(total) + delta_total, both, merged)


@dataclass
class Overview:
    """Counts per 0.01-degree cell (``gx``, ``gy``) and outcome code (index in OUTCOMES), the
    number of events, and the facet totals (as :func:`facet_totals`, and ``pairs``: rows of
    munition, munition class, events)."""

    seq: int
    total: int
    cells: np.ndarray  # of _CELL
    facets: dict[str, Any]

    def cell_counts(self, size_e7: int, ranges: tuple[int, int, int, int] | None) -> np.ndarray:
        """Rows (ix, iy, count, count per outcome...) of cells of ``size_e7`` (a multiple of
        :data:`BASE_E7`), those with ix in [ranges[0], ranges[1]] and iy in [ranges[2], ranges[3]]."""
        k = size_e7 // BASE_E7
        ix = np.floor_divide(self.cells["gx"].astype(np.int64), k)
        iy = np.floor_divide(self.cells["gy"].astype(np.int64), k)
        outcome, n = self.cells["outcome"].astype(np.int64), self.cells["n"].astype(np.int64)
        if ranges is not None:
            keep = (ix >= ranges[0]) & (ix <= ranges[1]) & (iy >= ranges[2]) & (iy <= ranges[3])
            ix, iy, outcome, n = ix[keep], iy[keep], outcome[keep], n[keep]
        width = len(OUTCOMES)
        if not len(ix):
            return np.zeros((0, 3 + width), dtype=np.int64)
        span = iy.max() - iy.min() + 1
        keys, where = np.unique((ix - ix.min()) * span + (iy - iy.min()), return_inverse=True)
        per = np.bincount(where * width + outcome, weights=n, minlength=len(keys) * width)
        per = per.reshape(len(keys), width).astype(np.int64)
        cx, cy = keys // span + ix.min(), keys % span + iy.min()
        return np.column_stack([cx, cy, per.sum(axis=1), per]).astype(np.int64)

    def count(self, size_e7: int, ranges: tuple[int, int, int, int] | None) -> int:
        if ranges is None:
            return self.total
        return int(self.cell_counts(size_e7, ranges)[:, 2].sum())


#: The overview last read from each database (host, port, name), with the version of its row (the
#: transaction that wrote it): read again only when an import has rewritten it. Megabytes of cells
#: on a big table, asked for by every unfiltered view.
_KEPT: dict[tuple, tuple[str, Overview]] = {}


def load(conn, *, cells: bool = True) -> Overview | None:
    """The overview when it counts the table as it is (no import since), else None. One made by
    an older version may lack ``pairs`` (the next import or ``mapviewer db init`` adds them)."""
    info = conn.info
    where = (info.host, info.port, info.dbname)
    kept = _KEPT.get(where)
    row = conn.execute(
        "SELECT o.xmin::text, o.xmin::text = %(kept)s, o.seq, o.total, "
        f"CASE WHEN o.xmin::text = %(kept)s THEN NULL ELSE {'o.cells' if cells else 'NULL'} END, "
        "CASE WHEN o.xmin::text = %(kept)s THEN NULL ELSE o.facets END FROM mapviewer_overview o "
        "WHERE o.seq = (SELECT coalesce(max(seq), 0) FROM mapviewer_imports)",
        {"kept": kept[0] if kept else ""}, binary=True).fetchone()
    if row is None:
        return None
    version, same, seq, total, packed, facets = row
    if same and kept is not None:
        return kept[1]
    found = Overview(int(seq), int(total), np.frombuffer(packed or b"", dtype=_CELL), facets)
    if cells:
        _KEPT[where] = (version, found)
    return found
