"""The overview: counts over the whole table, kept with it, for what is asked most with no filter.

Opening the store at country zoom with no filter asks for every event in cells; on 10 million
events that is a scan of the whole table (tens of seconds on a small server). The overview holds
every event counted per 0.01-degree cell and outcome, and per value of each facet (munition,
outcome, class, oblast), so the unfiltered map, ``count`` and ``plan``, and the lists of values
with their totals in the filter panel, answer at once. Each import rebuilds it in its own
transaction just before commit (one pass over the table) and marks it with its commit number:
it is used only while no later import exists.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from geodata.schema import OUTCOMES

__all__ = ["BASE_E7", "E7", "FACET_SETS", "Overview", "cell_sql", "facet_totals", "load", "refresh"]

#: Grid unit: 1e-7 degree (about 1 cm). Cells are whole multiples of it, so they nest exactly.
E7 = 10_000_000
#: The overview's cell size: 0.01 degree.
BASE_E7 = 100_000
#: Packed cell counts: x and y cell numbers, outcome (index in OUTCOMES), events; big-endian.
_CELL = np.dtype([("gx", ">i4"), ("gy", ">i4"), ("outcome", ">i2"), ("n", ">i8")])


def cell_sql(axis: str, size: str) -> str:
    """SQL for the cell number along one axis (``ST_X(e.geom)``), cells of ``size`` grid units.

    Coordinates are first rounded to whole grid units, so a point on a cell edge (30.52) falls in
    the cell starting there, whatever the floating-point error of the multiplication.
    """
    return f"floor(round({axis} * {E7}) / {size})::bigint"


#: GROUPING SETS of the facets: (munition, with the class of events that name none), outcome,
#: class, oblast.
FACET_SETS = "(munition, nm_class), (outcome), (munition_class), (admin1)"
_COLUMNS = ("munition, CASE WHEN munition IS NULL THEN coalesce(munition_class, 'unknown') END AS nm_class, "
            "outcome, munition_class, admin1")


def _totals_query(cells: bool) -> str:
    cell_columns = (f"CASE WHEN geom IS NOT NULL THEN {cell_sql('ST_X(geom)', str(BASE_E7))} END AS gx, "
                    f"{cell_sql('ST_Y(geom)', str(BASE_E7))} AS gy, (coalesce(array_position(%(outcomes)s::text[], "
                    f"outcome), {len(OUTCOMES)}) - 1) AS oc, ") if cells else "NULL::bigint AS gx, NULL::bigint AS gy, "
    sets = f"(gx, gy, oc), {FACET_SETS}" if cells else FACET_SETS
    return (f"SELECT GROUPING(munition), GROUPING(outcome), GROUPING(munition_class), GROUPING(admin1), "
            f"gx, gy, {'oc' if cells else 'NULL::integer'}, munition, nm_class, outcome, munition_class, admin1, "
            f"count(*) FROM (SELECT {cell_columns}{_COLUMNS} FROM mapviewer_events) t GROUP BY GROUPING SETS ({sets})")


def _split(rows: list[tuple]) -> tuple[np.ndarray, dict[str, list]]:
    """The packed cell counts and the facet totals from the rows of :func:`_totals_query`."""
    cells: list[tuple[int, int, int, int]] = []
    facets: dict[str, list] = {"munitions": [], "outcomes": [], "munition_classes": [], "admin1": []}
    for g_mun, g_out, g_cls, g_adm, gx, gy, oc, munition, nm_class, outcome, munition_class, admin1, n in rows:
        if g_mun and g_out and g_cls and g_adm:  # the cell set
            if gx is not None:
                cells.append((gx, gy, oc, n))
        elif not g_mun:
            facets["munitions"].append([munition, nm_class, int(n)])
        elif not g_out:
            facets["outcomes"].append([outcome, int(n)])
        elif not g_cls:
            facets["munition_classes"].append([munition_class, int(n)])
        else:
            facets["admin1"].append([admin1, int(n)])
    return np.array(cells, dtype=_CELL), facets


def facet_totals(conn) -> dict[str, list]:
    """Events per value of each facet over the whole table: from the overview, else counted."""
    known = load(conn, cells=False)
    if known is not None:
        return known.facets
    return _split(conn.execute(_totals_query(cells=False)).fetchall())[1]


def refresh(conn, seq: int) -> None:
    """Rebuild the overview for the table as this transaction sees it, as of import ``seq``."""
    cells, facets = _split(conn.execute(_totals_query(cells=True), {"outcomes": list(OUTCOMES)}).fetchall())
    total = sum(n for _, n in facets["outcomes"])
    conn.execute(
        "INSERT INTO mapviewer_overview AS o (only_row, seq, total, cells, facets) VALUES (true, %s, %s, %s, %s) "
        "ON CONFLICT (only_row) DO UPDATE SET seq = EXCLUDED.seq, total = EXCLUDED.total, cells = EXCLUDED.cells, "
        "facets = EXCLUDED.facets", [seq, total, cells.tobytes(), json.dumps(facets)])


@dataclass
class Overview:
    """Counts per 0.01-degree cell (``gx``, ``gy``) and outcome code (index in OUTCOMES), the
    number of events, and the facet totals (as :func:`facet_totals`)."""

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


def load(conn, *, cells: bool = True) -> Overview | None:
    """The overview when it counts the table as it is (no import since), else None."""
    row = conn.execute(
        f"SELECT o.seq, o.total, {'o.cells' if cells else 'NULL'}, o.facets FROM mapviewer_overview o "
        "WHERE o.seq = (SELECT coalesce(max(seq), 0) FROM mapviewer_imports)", binary=True).fetchone()
    if row is None:
        return None
    seq, total, packed, facets = row
    return Overview(int(seq), int(total), np.frombuffer(packed or b"", dtype=_CELL), facets)
