"""Filters as descriptions: a frozen FilterState turns into a boolean mask.

Views keep the full frame as the truth and read ``frame[state.mask(frame)]`` on
demand; nothing filtered is ever kept as a copy.

Speed: text columns are turned into integer codes once per column array (cached
while that array lives), so a mask over a million rows is a few array lookups.
The cache assumes columns are replaced, not edited in place, once masked (the app
builds a new frame when data change).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import weakref
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
import pandas as pd

from geodata.schema import DEFAULT_TZ

__all__ = ["FACETS", "TEXT_COLUMNS", "FilterState", "facet_counts"]

#: Facet name (FilterState field) -> frame column.
FACETS: dict[str, str] = {
    "munitions": "munition",
    "outcomes": "outcome",
    "munition_classes": "munition_class",
    "admin1": "admin1",
}
#: Columns the free-text search looks in.
TEXT_COLUMNS: tuple[str, ...] = ("location", "admin1", "munition", "notes", "source", "event_id")

def _frozen(values: Iterable[str] | None) -> frozenset[str] | None:
    if values is None:
        return None
    if isinstance(values, str):  # one value, not its letters
        return frozenset([values])
    return frozenset(values)


def _is_whole_day(value: Any) -> bool:
    """A bare date (or date-only text) means a whole day."""
    if isinstance(value, str):
        return len(value.strip()) <= 10
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


_NS_PER = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def _bound(value: Any, tz: str, unit: str, end: bool) -> int | None:
    """A date bound as an inclusive integer UTC time in ``unit``.

    A bare date (or a date-only string) covers its whole day in ``tz``: the day
    starts at local midnight and, for ``end``, lasts until the next local midnight
    (23 or 25 hours on clock-change days). A datetime without a zone is in ``tz``.
    """
    if value is None:
        return None
    if _is_whole_day(value):
        day = pd.Timestamp(value).date()
        if end:
            day += dt.timedelta(days=1)
        # Calendar arithmetic, then localise: adding 24 h would be wrong on clock-change days.
        ts = pd.Timestamp(day).tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
        ns = ts.as_unit("ns").value - (1 if end else 0)
    else:
        ts = pd.Timestamp(value)
        if ts.tzinfo is None:
            ts = ts.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
        ns = ts.as_unit("ns").value
    per = _NS_PER[unit]
    # Inclusive bounds in a coarser unit: round the start up and the end down.
    return ns // per if end else -(-ns // per)


# id(array) -> (weak reference to the array, its identity token, codes, labels)
_CODE_CACHE: dict[int, tuple[weakref.ref, int, np.ndarray, pd.Index]] = {}


def _token(array: Any) -> int:
    # Arrow-backed arrays swap their inner buffer on in-place edits; watching it catches those.
    return id(getattr(array, "_pa_array", array))


def _codes(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (-1 = missing) and their labels for a column, cached per array."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(), column.cat.categories
    array = column.array
    key = id(array)
    hit = _CODE_CACHE.get(key)
    if hit is not None and hit[0]() is array and hit[1] == _token(array):
        return hit[2], hit[3]
    codes, uniques = pd.factorize(array, use_na_sentinel=True)
    labels = pd.Index(uniques)
    try:
        ref = weakref.ref(array, lambda _ref, key=key: _CODE_CACHE.pop(key, None))
    except TypeError:  # not weakly referenceable: do not cache
        return codes, labels
    _CODE_CACHE[key] = (ref, _token(array), codes, labels)
    return codes, labels


def _lookup(codes: np.ndarray, labels_hit: np.ndarray) -> np.ndarray:
    """Rows whose code is marked in ``labels_hit``; code -1 (missing) never matches."""
    table = np.zeros(len(labels_hit) + 1, dtype=bool)
    table[:-1] = labels_hit
    # code -1 reads the extra False slot; take() is faster than indexing with small int codes
    return np.take(table, codes)


def _isin(column: pd.Series, wanted: frozenset[str]) -> np.ndarray:
    codes, labels = _codes(column)
    return _lookup(codes, labels.isin(list(wanted)))


def _contains(column: pd.Series, needle: str) -> np.ndarray:
    """Case-insensitive substring match, computed once per distinct value."""
    codes, labels = _codes(column)
    text = pd.Series(labels.astype(str), dtype=object).str.casefold()
    return _lookup(codes, text.str.contains(needle, regex=False).to_numpy(dtype=bool))


@dataclass(frozen=True)
class FilterState:
    """What the user asked to see. ``None`` means no constraint on that field.

    ``start``/``end`` are dates or datetimes; a bare date means that whole day in
    the working time zone ``tz`` (a strike at 01:00 Kyiv time on 2 June is in
    2 June), and ``end`` is inclusive; a datetime without a zone is read in
    ``tz``. ``munitions`` are munition names, ``outcomes`` outcome values,
    ``munition_classes`` class names, ``admin1`` oblast names. ``text`` matches
    any of ``TEXT_COLUMNS`` case-insensitively. ``bbox`` is (west, south, east,
    north) in degrees, edges included. ``min_casualties`` keeps events whose
    killed + injured is at least it (a missing figure counts as none reported).
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
        for name in FACETS:
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        if self.text is not None and not self.text.strip():
            object.__setattr__(self, "text", None)
        if self.bbox is not None:  # keep the state hashable whatever sequence was given
            object.__setattr__(self, "bbox", tuple(float(v) for v in self.bbox))

    def replace(self, **changes: Any) -> FilterState:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    @property
    def is_empty(self) -> bool:
        """True when nothing is constrained."""
        return all(
            getattr(self, f.name) is None for f in dataclasses.fields(self) if f.name != "tz"
        )

    def mask(self, frame: pd.DataFrame, *, skip: str | None = None) -> np.ndarray:
        """Boolean mask over ``frame``'s rows.

        ``skip`` names one constraint to leave out: a facet field name, ``"date"``,
        ``"text"``, ``"bbox"`` or ``"casualties"`` (for facet counts and timelines).
        """
        n = len(frame)
        keep = np.ones(n, dtype=bool)
        if n == 0:
            return keep
        if skip != "date" and (self.start is not None or self.end is not None):
            times = frame["occurred_at"].array  # tz-aware DatetimeArray in UTC
            values = times.asi8  # NaT is the smallest int64: never inside a range
            lo = _bound(self.start, self.tz, times.unit, end=False)
            hi = _bound(self.end, self.tz, times.unit, end=True)
            lo = np.iinfo(np.int64).min + 1 if lo is None else lo
            hi = np.iinfo(np.int64).max if hi is None else hi
            if hi < lo:
                keep[:] = False
            else:
                # lo <= v <= hi in one pass: v - lo wraps to a huge unsigned number below lo
                keep &= (values - np.int64(lo)).view(np.uint64) <= np.uint64(hi - lo)
        for field_name, column in FACETS.items():
            wanted = getattr(self, field_name)
            if wanted is None or skip == field_name:
                continue
            keep &= _isin(frame[column], wanted)
        if self.text is not None and skip != "text":
            needle = self.text.strip().casefold()
            hit = np.zeros(n, dtype=bool)
            for column in TEXT_COLUMNS:
                if column in frame.columns:
                    hit |= _contains(frame[column], needle)
            keep &= hit
        if self.bbox is not None and skip != "bbox":
            west, south, east, north = self.bbox
            x = frame.geometry.x.to_numpy()
            y = frame.geometry.y.to_numpy()
            keep &= (x >= west) & (x <= east) & (y >= south) & (y <= north)
        if self.min_casualties is not None and skip != "casualties":
            killed = pd.to_numeric(frame["killed"], errors="coerce").fillna(0).to_numpy(dtype=float)
            injured = pd.to_numeric(frame["injured"], errors="coerce").fillna(0).to_numpy(dtype=float)
            keep &= killed + injured >= self.min_casualties
        return keep


def facet_counts(frame: pd.DataFrame, state: FilterState, field_name: str) -> dict[str, int]:
    """For each value of a facet, how many rows match every other criterion.

    ``field_name`` is one of ``FACETS`` (``munitions``, ``outcomes``,
    ``munition_classes``, ``admin1``). Every category of a categorical column and
    every value present in ``frame`` is listed, zero or not (categories in their
    fixed order, other values most frequent in ``frame`` first).
    """
    if field_name not in FACETS:
        raise ValueError(f"unknown facet {field_name!r}; expected one of {', '.join(FACETS)}")
    codes, labels = _codes(frame[FACETS[field_name]])
    keep = state.mask(frame, skip=field_name)
    present = codes >= 0
    counts = np.bincount(codes[keep & present], minlength=len(labels))
    order = np.arange(len(labels))
    if not isinstance(frame[FACETS[field_name]].dtype, pd.CategoricalDtype):
        totals = np.bincount(codes[present], minlength=len(labels))
        order = np.lexsort((labels.astype(str).to_numpy(), -totals))
    return {str(labels[i]): int(counts[i]) for i in order}
