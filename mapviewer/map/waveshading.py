"""Where attack waves were aimed, as fill styles for the map's oblasts (Qt-free).

The counts come from :func:`geodata.waves.target_counts` (launches aimed at each
oblast by the waves the date and munition filters keep, keyed by the basemap's
English oblast names, the property the page's oblast features carry). Launches
aimed at no oblast (at "Ukraine" as a whole, abroad, or at text the gazetteer
cannot place) cannot be shaded: :func:`unplaced_note` says how many, for the
shading's legend and the waves panel.
"""
from __future__ import annotations

import pandas as pd

from geodata.filters import FilterState
from geodata.style import OUTCOME_STYLE
from geodata.waves import target_counts, unplaced_launches


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


def unplaced_note(waves: pd.DataFrame | None, filter_state: FilterState | None = None) -> str:
    """'N launches not placed on an oblast (...)' for the kept waves' launches the shading
    leaves out, or '' when every launch is placed (plain text)."""
    count = unplaced_launches(waves, filter_state)
    if count <= 0:
        return ""
    return (f"{count:,} {'launch' if count == 1 else 'launches'} not placed on an oblast (aimed at Ukraine "
            "as a whole, abroad, or at places not found)")
