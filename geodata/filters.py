"""Filters as descriptions: a frozen FilterState turns into a boolean mask.

Views keep the full frame as the truth and read ``frame[state.mask(frame)]`` on
demand; nothing filtered is ever kept as a copy.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd

from geodata.schema import DEFAULT_TZ

def _frozen(values: Iterable[str] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(values)


def _bound(value, tz: str, unit: str, end: bool) -> int | None:
    """A date bound as an inclusive integer UTC time in ``unit``.

    A bare date (or a date-only string) covers its whole day in ``tz``.
    """
    if value is None:
        return None
    whole_day = (isinstance(value, dt.date) and not isinstance(value, dt.datetime)) or (
        isinstance(value, str) and len(value.strip()) <= 10
    )
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize(tz)
    if whole_day:
        ts = ts.normalize()
        if end:
            return (ts + pd.Timedelta(days=1)).tz_convert("UTC").as_unit(unit).value - 1
    return ts.tz_convert("UTC").as_unit(unit).value


@dataclass(frozen=True)
class FilterState:
    """What the user asked to see. ``None`` means no constraint on that field.

    ``start``/``end`` are dates or datetimes; a bare date means that whole day in
    the working time zone ``tz``, and ``end`` is inclusive. ``munitions`` are
    canonical munition names, ``outcomes`` outcome values, ``munition_classes``
    class names, ``admin1`` oblast names. ``text`` matches location, munition,
    notes and source case-insensitively. ``bbox`` is (west, south, east, north)
    in degrees. ``min_casualties`` keeps events with killed + injured at least it.
    """

    start: dt.date | dt.datetime | None = None
    end: dt.date | dt.datetime | None = None
    munitions: frozenset[str] | None = None
    outcomes: frozenset[str] | None = None
    munition_classes: frozenset[str] | None = None
    admin1: frozenset[str] | None = None
    text: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    min_casualties: int | None = None
    tz: str = DEFAULT_TZ

    def __post_init__(self) -> None:
        for name in ("munitions", "outcomes", "munition_classes", "admin1"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        if self.text is not None and not self.text.strip():
            object.__setattr__(self, "text", None)

    def replace(self, **changes) -> FilterState:
        return dataclasses.replace(self, **changes)

    @property
    def is_empty(self) -> bool:
        """True when nothing is constrained."""
        return all(
            getattr(self, f.name) is None for f in dataclasses.fields(self) if f.name != "tz"
        )

    def mask(self, frame: pd.DataFrame, *, skip: str | None = None) -> np.ndarray:
        """Boolean mask over ``frame``'s rows; ``skip`` names one field to leave out (facets)."""
        n = len(frame)
        keep = np.ones(n, dtype=bool)
        if n == 0:
            return keep
        if skip != "date" and (self.start is not None or self.end is not None):
            times = frame["occurred_at"].array  # tz-aware DatetimeArray in UTC
            values = times.asi8
            keep &= ~times.isna()
            lo = _bound(self.start, self.tz, times.unit, end=False)
            hi = _bound(self.end, self.tz, times.unit, end=True)
            if lo is not None:
                keep &= values >= lo
            if hi is not None:
                keep &= values <= hi
        for field_name, column in (
            ("munitions", "munition"),
            ("outcomes", "outcome"),
            ("munition_classes", "munition_class"),
            ("admin1", "admin1"),
        ):
            wanted = getattr(self, field_name)
            if wanted is None or skip == field_name:
                continue
            keep &= _isin(frame[column], wanted)
        if self.text is not None and skip != "text":
            needle = self.text.strip().lower()
            hit = np.zeros(n, dtype=bool)
            for column in ("location", "munition", "notes", "source", "admin1", "event_id"):
                if column in frame.columns:
                    hit |= (
                        frame[column].astype("string").str.lower().str.contains(needle, regex=False)
                        .fillna(False).to_numpy(dtype=bool)
                    )
            keep &= hit
        if self.bbox is not None and skip != "bbox":
            west, south, east, north = self.bbox
            x = frame.geometry.x.to_numpy()
            y = frame.geometry.y.to_numpy()
            keep &= (x >= west) & (x <= east) & (y >= south) & (y <= north)
        if self.min_casualties is not None and skip != "casualties":
            total = frame["killed"].fillna(0).to_numpy(dtype=float) + frame["injured"].fillna(0).to_numpy(dtype=float)
            keep &= total >= self.min_casualties
        return keep


def _isin(column: pd.Series, wanted: frozenset[str]) -> np.ndarray:
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = column.cat.categories
        wanted_codes = np.flatnonzero(categories.isin(list(wanted)))
        return np.isin(column.cat.codes.to_numpy(), wanted_codes)
    return column.isin(list(wanted)).to_numpy(dtype=bool)


def facet_counts(frame: pd.DataFrame, state: FilterState, field_name: str) -> dict[str, int]:
    """For each value of a facet, how many rows match every other criterion.

    ``field_name`` is one of ``munitions``, ``outcomes``, ``munition_classes``,
    ``admin1``. Every category of a categorical column is listed, zero or not.
    """
    column = {"munitions": "munition", "outcomes": "outcome",
              "munition_classes": "munition_class", "admin1": "admin1"}[field_name]
    keep = state.mask(frame, skip=field_name)
    values = frame[column][keep]
    counts = values.value_counts(sort=False, dropna=True)
    return {str(k): int(v) for k, v in counts.items()}
