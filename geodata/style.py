"""The one style table: outcome -> colour, munition class -> symbol.

The map page, the legend, the attribute table's swatches and every export read
it, so a colour means the same thing everywhere. Categories keep a fixed order
(from :mod:`geodata.schema`) so colours stay stable when the data changes.
Colours are the Okabe-Ito palette, readable with the common colour-vision
deficiencies.
"""
from __future__ import annotations

from dataclasses import dataclass

from geodata.schema import MUNITION_CLASSES, OUTCOMES


@dataclass(frozen=True)
class OutcomeStyle:
    label: str
    colour: str  # "#rrggbb"


@dataclass(frozen=True)
class ClassStyle:
    label: str
    shape: str  # shape name drawn by the map page: circle, triangle, square, diamond, star, ...
    marker: str  # matplotlib marker for the same shape


OUTCOME_STYLE: dict[str, OutcomeStyle] = {
    "impact": OutcomeStyle("Impact", "#D55E00"),
    "intercepted": OutcomeStyle("Intercepted", "#009E73"),
    "deviated": OutcomeStyle("Deviated / exploded in the air", "#E69F00"),
    "debris": OutcomeStyle("Debris", "#CC79A7"),
    "unknown": OutcomeStyle("Unknown", "#7F7F7F"),
}

CLASS_STYLE: dict[str, ClassStyle] = {
    "ballistic missile": ClassStyle("Ballistic missile", "triangle", "^"),
    "cruise missile": ClassStyle("Cruise missile", "diamond", "D"),
    "air-launched missile": ClassStyle("Air-launched missile", "triangle-down", "v"),
    "loitering munition": ClassStyle("Drone (loitering munition)", "circle", "o"),
    "guided bomb": ClassStyle("Guided bomb", "square", "s"),
    "surface-to-air missile": ClassStyle("S-300/S-400 (ground mode)", "star", "*"),
    "rocket artillery": ClassStyle("Rocket artillery", "pentagon", "p"),
    "decoy": ClassStyle("Decoy", "cross", "X"),
    "unknown": ClassStyle("Unknown munition", "hexagon", "h"),
}

#: Symbol sizes (pixels at screen, points in print) by geo_precision: uncertain
#: locations are drawn hollow with a halo, never as if exact.
PRECISION_HALO_M: dict[str, float] = {"exact": 0.0, "settlement": 3000.0, "region": 30000.0}

assert tuple(OUTCOME_STYLE) == OUTCOMES
assert tuple(CLASS_STYLE) == MUNITION_CLASSES


def outcome_colour(outcome: str) -> str:
    return OUTCOME_STYLE.get(outcome, OUTCOME_STYLE["unknown"]).colour


def as_json() -> dict:
    """The style table for the map page's JavaScript."""
    return {
        "outcomes": {k: {"label": v.label, "colour": v.colour} for k, v in OUTCOME_STYLE.items()},
        "classes": {k: {"label": v.label, "shape": v.shape} for k, v in CLASS_STYLE.items()},
        "halo_m": PRECISION_HALO_M,
    }
