"""The canonical incident schema: column names, categories and their fixed order."""
from __future__ import annotations

import pandas as pd

#: Outcomes in their fixed order (colours and legends follow this order).
OUTCOMES: tuple[str, ...] = ("impact", "intercepted", "deviated", "debris", "unknown")

#: Munition classes in their fixed order.
MUNITION_CLASSES: tuple[str, ...] = (
    "ballistic missile",
    "cruise missile",
    "air-launched missile",
    "loitering munition",
    "guided bomb",
    "surface-to-air missile",
    "rocket artillery",
    "decoy",
    "unknown",
)

TIME_PRECISIONS: tuple[str, ...] = ("exact", "day", "month")
GEO_PRECISIONS: tuple[str, ...] = ("exact", "settlement", "region")

#: Canonical columns, in order; extra input columns follow them.
CANONICAL_COLUMNS: tuple[str, ...] = (
    "event_id",
    "occurred_at",
    "time_precision",
    "geometry",
    "location",
    "admin1",
    "geo_precision",
    "munition",
    "munition_class",
    "outcome",
    "killed",
    "injured",
    "source",
    "source_url",
    "notes",
)

#: Working time zone: times written without a zone are read in it, dates are filtered in it.
DEFAULT_TZ = "Europe/Kyiv"

OUTCOME_DTYPE = pd.CategoricalDtype(list(OUTCOMES), ordered=False)
MUNITION_CLASS_DTYPE = pd.CategoricalDtype(list(MUNITION_CLASSES), ordered=False)
TIME_PRECISION_DTYPE = pd.CategoricalDtype(list(TIME_PRECISIONS), ordered=False)
GEO_PRECISION_DTYPE = pd.CategoricalDtype(list(GEO_PRECISIONS), ordered=False)
