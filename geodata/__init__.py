"""The Qt-free data layer: read, check, filter and summarise strike-event records."""
from __future__ import annotations

from geodata.errors import DataError
from geodata.filters import FilterState, facet_counts
from geodata.readers import read_incidents
from geodata.report import LoadReport, LoadResult, Problem
from geodata.schema import CANONICAL_COLUMNS, MUNITION_CLASSES, OUTCOMES
from geodata.stats import summarize

__all__ = [
    "CANONICAL_COLUMNS",
    "MUNITION_CLASSES",
    "OUTCOMES",
    "DataError",
    "FilterState",
    "LoadReport",
    "LoadResult",
    "Problem",
    "facet_counts",
    "read_incidents",
    "summarize",
]
