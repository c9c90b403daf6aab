"""The overview: every event counted per 0.01-degree cell and outcome, kept with the table.

Opening the store at country zoom with no filter asks for every event in cells; on 10 million
events that is a scan of the whole table (tens of seconds on a small server). The overview
holds the same counts for the unfiltered table (a few hundred thousand numbers at most), so
that view, and ``count`` and ``plan`` without a filter, answer from it at once. Each import
rebuilds it in its own transaction, just before commit (one pass over the table), and marks it
with its commit number: it is used only while no later import exists.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geodata.schema import OUTCOMES

__all__ = ["BASE_E7", "Overview", "cell_sql", "load", "refresh"]

#: Grid unit: 1e-7 degree (about 1 cm). Cells are whole multiples of it, so they nest exactly.
E7 = 10_000_000
#: The overview's cell size: 0.01 degree.
BASE_E7 = 100_000


def cell_sql(axis: str, size: str) -> str:
    """SQL for the cell number along one axis (``ST_X(e.geom)``), cells of ``size`` grid units.

    Coordinates are first rounded to whole grid units, so a point on a cell edge (30.52) falls in
    the cell starting there, whatever the floating-point error of the multiplication.
    """
    return f"floor(round({axis} * {E7}) / {size})::bigint"


_REFRESH = f"""
INSERT INTO mapviewer_overview AS o (only_row, seq, total, gx, gy, outcome, n)
SELECT true, %(seq)s, (SELECT count(*) FROM mapviewer_events), coalesce(array_agg(gx), '{{}}'),
       coalesce(array_agg(gy), '{{}}'), coalesce(array_agg(oc), '{{}}'), coalesce(array_agg(n), '{{}}')
FROM (SELECT {cell_sql('ST_X(geom)', str(BASE_E7))} AS gx, {cell_sql('ST_Y(geom)', str(BASE_E7))} AS gy,
             (coalesce(array_position(%(outcomes)s::text[], outcome), {len(OUTCOMES)}) - 1)::smallint AS oc,
             count(*) AS n
      FROM mapviewer_events WHERE geom IS NOT NULL GROUP BY 1, 2, 3) c
ON CONFLICT (only_row) DO UPDATE SET seq = EXCLUDED.seq, total = EXCLUDED.total, gx = EXCLUDED.gx,
    gy = EXCLUDED.gy, outcome = EXCLUDED.outcome, n = EXCLUDED.n
"""


def refresh(conn, seq: int) -> None:
    """Rebuild the overview for the table as this transaction sees it, as of import ``seq``."""
    conn.execute(_REFRESH, {"seq": seq, "outcomes": list(OUTCOMES)})


@dataclass
class Overview:
    """Counts per 0.01-degree cell (``gx``, ``gy``) and outcome code (index in OUTCOMES)."""

    seq: int
    total: int
    gx: np.ndarray
    gy: np.ndarray
    outcome: np.ndarray
    n: np.ndarray

    def cells(self, size_e7: int, ranges: tuple[int, int, int, int] | None) -> np.ndarray:
        """Rows (ix, iy, count, count per outcome...) of cells of ``size_e7`` (a multiple of
        :data:`BASE_E7`), those with ix in [ranges[0], ranges[1]] and iy in [ranges[2], ranges[3]]."""
        k = size_e7 // BASE_E7
        ix, iy = np.floor_divide(self.gx, k), np.floor_divide(self.gy, k)
        keep = np.ones(len(ix), dtype=bool)
        if ranges is not None:
            keep = (ix >= ranges[0]) & (ix <= ranges[1]) & (iy >= ranges[2]) & (iy <= ranges[3])
        ix, iy, outcome, n = ix[keep], iy[keep], self.outcome[keep], self.n[keep]
        keys, where = np.unique(np.stack([ix, iy], axis=1), axis=0, return_inverse=True) if len(ix) else (
            np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64))
        where = where.reshape(-1)
        per = np.zeros((len(keys), len(OUTCOMES)), dtype=np.int64)
        np.add.at(per, (where, outcome.astype(np.int64)), n)
        return np.column_stack([keys, per.sum(axis=1), per]).astype(np.int64)

    def count(self, size_e7: int, ranges: tuple[int, int, int, int] | None) -> int:
        return int(self.cells(size_e7, ranges)[:, 2].sum())


def load(conn) -> Overview | None:
    """The overview when it counts the table as it is (no import since), else None."""
    row = conn.execute(
        "SELECT o.seq, o.total, o.gx, o.gy, o.outcome, o.n FROM mapviewer_overview o "
        "WHERE o.seq = (SELECT coalesce(max(seq), 0) FROM mapviewer_imports)").fetchone()
    if row is None:
        return None
    seq, total, gx, gy, outcome, n = row
    return Overview(int(seq), int(total), np.asarray(gx, dtype=np.int64), np.asarray(gy, dtype=np.int64),
                    np.asarray(outcome, dtype=np.int64), np.asarray(n, dtype=np.int64))
