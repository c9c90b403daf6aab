"""Where attack waves were aimed, as fill styles for the map's oblasts (Qt-free).

The counts come from :func:`geodata.waves.target_counts` (launches aimed at each
oblast by the waves the date and munition filters keep, keyed by the basemap's
English oblast names, the property the page's oblast features carry).
"""
from __future__ import annotations

import pandas as pd

from geodata.filters import FilterState
from geodata.style import OUTCOME_STYLE
from geodata.waves import target_counts


def wave_shading(waves: pd.DataFrame | None, filter_state: FilterState | None = None, *,
                 max_opacity: float = 0.6) -> dict[str, dict[str, object]]:
    """Fill style per oblast name for the map page: {name: {"launched", "fill", "fill_opacity"}}.

    Only oblasts some wave was aimed at are listed (others keep the basemap's
    style). The fill is the impact colour of the one style table; the opacity
    grows with the launch count, the most-targeted oblast at ``max_opacity``.
    Small enough to send to the page on every filter change (no geometry).
    """
    if waves is None or len(waves) == 0:
        return {}
    counts = target_counts(waves, filter_state)
    top = max(counts.values(), default=0)
    colour = OUTCOME_STYLE["impact"].colour
    return {name: {"launched": n, "fill": colour,
                   "fill_opacity": round(max_opacity * (0.15 + 0.85 * n / top), 3) if top else 0.0}
            for name, n in counts.items() if n > 0}
