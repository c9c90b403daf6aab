"""Where attack waves were aimed: launches per oblast, for shading oblasts on the map (Qt-free).

The waves table (:mod:`geodata.waves`) names the oblasts each wave was aimed at
(``target_admin1``, oblast names as in :func:`geodata.basemap.oblasts`). A wave
aimed at several oblasts (a macro-region such as "south") counts its launches
toward each of them; waves whose target resolved to no oblast are left out.
The same date and munition filters as the funnel apply (:func:`geodata.waves.wave_mask`).
"""
from __future__ import annotations

from functools import lru_cache

import geopandas as gpd
import pandas as pd

from geodata.filters import FilterState
from geodata.style import OUTCOME_STYLE
from geodata.waves import target_counts

__all__ = ["wave_shading", "wave_target_counts", "wave_target_layer"]


@lru_cache(maxsize=1)
def _oblast_codes() -> dict[str, str]:
    """Oblast name (English or Ukrainian, as the basemap spells it) -> ISO 3166-2 code."""
    from geodata.basemap import oblasts

    frame = oblasts()
    codes: dict[str, str] = {}
    for name, name_uk, code in zip(frame["name"], frame["name_uk"], frame["iso_code"]):
        codes[str(name)] = str(code)
        codes[str(name_uk)] = str(code)
    return codes


def wave_target_counts(waves: pd.DataFrame | None, filter_state: FilterState | None = None, *,
                       by: str = "iso_code") -> dict[str, int]:
    """Launches aimed at each oblast by the waves ``filter_state`` keeps.

    ``by="iso_code"``: keys are ISO 3166-2 codes ("UA-32") for oblasts the basemap
    knows, else the oblast name as the waves table gives it (so nothing counted is
    lost). ``by="name"``: keys are the basemap's English oblast names ("Kyiv Oblast"),
    the property the map page's oblast features carry. Largest count first. No
    waves (None or empty) gives an empty dict.
    """
    if by not in ("iso_code", "name"):
        raise ValueError(f"by must be 'iso_code' or 'name', not {by!r}")
    if waves is None or len(waves) == 0:
        return {}
    codes = _oblast_codes() if by == "iso_code" else {}
    out: dict[str, int] = {}
    for name, launched in target_counts(waves, filter_state).items():
        key = codes.get(name, name)
        out[key] = out.get(key, 0) + launched
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def wave_shading(waves: pd.DataFrame | None, filter_state: FilterState | None = None, *,
                 by: str = "name", max_opacity: float = 0.6) -> dict[str, dict[str, object]]:
    """Fill style per oblast for the map page: {key: {"launched", "fill", "fill_opacity"}}.

    Only oblasts some wave was aimed at are listed (others keep the basemap's
    style). The fill is the impact colour of the one style table; the opacity
    grows with the launch count, the most-targeted oblast at ``max_opacity``.
    Small enough to send to the page on every filter change (no geometry).
    """
    counts = wave_target_counts(waves, filter_state, by=by)
    top = max(counts.values(), default=0)
    colour = OUTCOME_STYLE["impact"].colour
    return {key: {"launched": n, "fill": colour,
                  "fill_opacity": round(max_opacity * (0.15 + 0.85 * n / top), 3) if top else 0.0}
            for key, n in counts.items() if n > 0}


def wave_target_layer(waves: pd.DataFrame | None, filter_state: FilterState | None = None) -> gpd.GeoDataFrame:
    """The basemap's oblast polygons with the launches aimed at each, for a choropleth.

    Columns: ``name``, ``name_uk``, ``iso_code``, ``launched`` (int, 0 when no
    wave was aimed there), ``share`` (launched / the largest count, 0..1, for the
    fill opacity), ``geometry``. Every oblast is present, so the layer can be
    redrawn in place when the filter changes.
    """
    from geodata.basemap import oblasts

    layer = oblasts()[["name", "name_uk", "iso_code", "geometry"]].copy()
    counts = wave_target_counts(waves, filter_state)
    layer["launched"] = [int(counts.get(str(code), 0)) for code in layer["iso_code"]]
    top = int(layer["launched"].max()) if len(layer) else 0
    layer["share"] = layer["launched"] / top if top else 0.0
    return layer[["name", "name_uk", "iso_code", "launched", "share", "geometry"]]
