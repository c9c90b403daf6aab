"""The one style table: outcome -> colour, munition class -> symbol.

The map page, the legend, the attribute table's swatches and every export read
it, so a colour means the same thing everywhere. Categories keep a fixed order
(from :mod:`geodata.schema`) so colours stay stable when the data changes.
Outcome colours are the Okabe-Ito palette, readable with the common
colour-vision deficiencies; munition classes also have colours (for charts that
stack by class, such as the timeline), from Paul Tol's palettes and distinct
from every outcome colour, so a colour never means both an outcome and a class.
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
    colour: str  # "#rrggbb" where classes are told apart by colour (timeline bars); never an outcome colour
    plural: str  # the class in running text: "ballistic missiles", "loitering munitions (drones)"


OUTCOME_STYLE: dict[str, OutcomeStyle] = {
    "impact": OutcomeStyle("Impact", "#D55E00"),
    "intercepted": OutcomeStyle("Intercepted", "#009E73"),
    "deviated": OutcomeStyle("Deviated / exploded in the air", "#E69F00"),
    "debris": OutcomeStyle("Debris", "#CC79A7"),
    "unknown": OutcomeStyle("Unknown", "#7F7F7F"),
}

CLASS_STYLE: dict[str, ClassStyle] = {
    "ballistic missile": ClassStyle("Ballistic missile", "triangle", "^", "#0072B2", "ballistic missiles"),
    "cruise missile": ClassStyle("Cruise missile", "diamond", "D", "#56B4E9", "cruise missiles"),
    "air-launched missile": ClassStyle("Air-launched missile", "triangle-down", "v", "#332288",
                                       "air-launched missiles"),
    "loitering munition": ClassStyle("Drone (loitering munition)", "circle", "o", "#882255",
                                     "loitering munitions (drones)"),
    "guided bomb": ClassStyle("Guided bomb", "square", "s", "#44AA99", "guided bombs"),
    "surface-to-air missile": ClassStyle("S-300/S-400 (ground mode)", "star", "*", "#999933",
                                         "surface-to-air missiles"),
    "rocket artillery": ClassStyle("Rocket artillery", "pentagon", "p", "#DDCC77", "rocket artillery"),
    "decoy": ClassStyle("Decoy", "cross", "X", "#AA4499", "decoys"),
    "unknown": ClassStyle("Unknown munition", "hexagon", "h", "#BBBBBB", "unknown munitions"),
}

#: Other words people use for a class ("drones" in the legend's own words).
CLASS_SYNONYMS: dict[str, str] = {"drone": "loitering munition", "drones": "loitering munition",
                                  "uav": "loitering munition", "uavs": "loitering munition"}

#: Symbol sizes (pixels at screen, points in print) by geo_precision: uncertain
#: locations are drawn hollow with a halo, never as if exact.
PRECISION_HALO_M: dict[str, float] = {"exact": 0.0, "settlement": 3000.0, "region": 30000.0}

#: The neutral colours: basemap water, land and borders, place names, and the greys of text and
#: legend furniture. The map page and the print figure both read them here.
NEUTRAL: dict[str, str] = {
    "water": "#dbe6ee",
    "land": "#ecebe6",  # neighbouring countries
    "home": "#fbfbf9",  # Ukraine, lighter: the events' country stands out
    "border": "#7d7d7d",
    "home_border": "#4d4d4d",
    "oblast_border": "#7a7a9a",
    "region_border": "#a8a8a8",
    "country_label": "#9a9a9a",
    "oblast_label": "#8c8c8c",
    "place": "#2b2b2b",
    "place_dot": "#444444",
    "ink": "#222222",  # north arrow
    "text": "#333333",  # subtitle, notes, scale bar
    "muted": "#555555",  # legend symbols drawn without an outcome colour, frames, footer
}

assert tuple(OUTCOME_STYLE) == OUTCOMES
assert tuple(CLASS_STYLE) == MUNITION_CLASSES


def outcome_colour(outcome: str) -> str:
    return OUTCOME_STYLE.get(outcome, OUTCOME_STYLE["unknown"]).colour


def munition_class_named(name: str) -> str | None:
    """The munition class a person means by ``name``, or None.

    Accepts the class name, its plural, the legend label and its first words
    ("Drone", "drones", "loitering munitions", "Ballistic missile"), any case.
    """
    key = " ".join(name.strip().lower().split())
    if key in CLASS_SYNONYMS:
        return CLASS_SYNONYMS[key]
    for munition_class, style in CLASS_STYLE.items():
        label = style.label.lower()
        names = {munition_class, munition_class + "s", style.plural.lower(), style.plural.split(" (")[0].lower(),
                 label, label.split(" (")[0]}
        if key in names or key.rstrip("s") in names:
            return munition_class
    return None


def as_json() -> dict:
    """The style table for the map page's JavaScript."""
    return {
        "outcomes": {k: {"label": v.label, "colour": v.colour} for k, v in OUTCOME_STYLE.items()},
        "classes": {k: {"label": v.label, "shape": v.shape} for k, v in CLASS_STYLE.items()},
        "halo_m": PRECISION_HALO_M,
        "neutral": NEUTRAL,
    }
