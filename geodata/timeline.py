"""Events over time: histogram bins, stacked counts and playback frames (Qt-free).

The timeline panel, playback and the animation export all read this module.

Time precision
--------------
An event whose time is known only to the day (``time_precision == "day"``) or to
the month (``"month"``) is never counted as if it happened at one instant: its
count of 1 is spread uniformly over its span (its local day or local month in
the working time zone), and each bin receives the share of the span it covers.
At hour bins a day-precision event adds 1/24 to each hour of its day (1/23 or
1/25 on a daylight-saving day); at day bins a month-precision event adds 1/30
to each day of a 30-day month. Counts are therefore fractional;
:class:`Histogram` keeps the spread part apart (``spread``) so that it can be
drawn differently from exactly timed events.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geodata.errors import DataError
from geodata.filters import FilterState
from geodata.schema import DEFAULT_TZ, MUNITION_CLASSES, OUTCOMES

#: Bin units, finest first.
BIN_UNITS: tuple[str, ...] = ("hour", "day", "week", "month")

#: Nominal length of each unit in seconds (used to choose a unit for a span).
UNIT_SECONDS: dict[str, float] = {"hour": 3600.0, "day": 86400.0, "week": 7 * 86400.0, "month": 30.44 * 86400.0}

#: What the histogram can be stacked by: name -> (frame column, categories in fixed order).
STACKINGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "outcome": ("outcome", OUTCOMES),
    "class": ("munition_class", MUNITION_CLASSES),
}

_NS = 1_000_000_000
_HOUR_NS = 3600 * _NS


def choose_bin(span_seconds: float, max_bins: int = 400) -> str:
    """The finest unit that shows ``span_seconds`` in at most ``max_bins`` bins."""
    for unit in BIN_UNITS:
        if span_seconds / UNIT_SECONDS[unit] <= max_bins:
            return unit
    return BIN_UNITS[-1]


def _floor_local(ns: int, unit: str, tz: str) -> pd.Timestamp:
    """Start of the local ``unit`` (day, week or month) containing UTC time ``ns``."""
    local = pd.Timestamp(ns, unit="ns", tz="UTC").tz_convert(tz)
    day = local.date()
    if unit == "week":
        day = day - dt.timedelta(days=day.weekday())  # weeks start on Monday (ISO 8601)
    elif unit == "month":
        day = day.replace(day=1)
    # Local midnight; a zone that skips midnight starts the day at the first valid time.
    return pd.Timestamp(day).tz_localize(tz, ambiguous=True, nonexistent="shift_forward")


def bin_edges(lo_ns: int, hi_ns: int, unit: str, tz: str = DEFAULT_TZ) -> np.ndarray:
    """Bin edges (int64 UTC nanoseconds) of local ``unit`` bins covering [lo_ns, hi_ns].

    Day, week and month bins start at local midnight in ``tz`` (so a day bin may
    last 23 or 25 hours); hour bins are whole hours counted from local midnight.
    The last edge is strictly greater than ``hi_ns``.
    """
    if unit not in BIN_UNITS:
        raise ValueError(f"unknown bin unit {unit!r}; expected one of {', '.join(BIN_UNITS)}")
    if hi_ns < lo_ns:
        lo_ns, hi_ns = hi_ns, lo_ns
    if unit == "hour":
        first = _floor_local(lo_ns, "day", tz).value
        first += (lo_ns - first) // _HOUR_NS * _HOUR_NS
        count = (hi_ns - first) // _HOUR_NS + 2
        return first + _HOUR_NS * np.arange(count, dtype=np.int64)
    first = _floor_local(lo_ns, unit, tz)
    last = _floor_local(hi_ns, unit, tz)
    offset = {"day": pd.DateOffset(days=1), "week": pd.DateOffset(weeks=1), "month": pd.DateOffset(months=1)}[unit]
    local_days = pd.date_range(first.tz_localize(None), last.tz_localize(None) + offset,
                               freq={"day": "D", "week": "W-MON", "month": "MS"}[unit])
    edges = local_days.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    return edges.as_unit("ns").asi8.astype(np.int64)


@dataclass
class Histogram:
    """Stacked counts per bin.

    ``edges`` are int64 UTC nanoseconds (len B+1); ``counts`` is a (B, K) float
    array, one column per category in ``categories`` order; ``spread`` is the
    part of ``counts`` that comes from day- or month-precision events spread
    over their span (so ``counts - spread`` are exactly timed events).
    """

    unit: str
    by: str
    categories: tuple[str, ...]
    edges: np.ndarray
    counts: np.ndarray
    spread: np.ndarray

    @property
    def totals(self) -> np.ndarray:
        """Count per bin, all categories together."""
        return self.counts.sum(axis=1)

    def window(self, start_ns: int | None, end_ns: int | None) -> Histogram:
        """The bins that overlap [start_ns, end_ns)."""
        n = len(self.edges) - 1
        i0 = 0 if start_ns is None else max(0, int(np.searchsorted(self.edges, start_ns, "right")) - 1)
        i1 = n if end_ns is None else min(n, int(np.searchsorted(self.edges, end_ns, "left")))
        i1 = max(i0, i1)
        return Histogram(self.unit, self.by, self.categories, self.edges[i0:i1 + 1],
                         self.counts[i0:i1], self.spread[i0:i1])


@dataclass
class TimelineIndex:
    """Everything about a frame's times that does not depend on the filter.

    Build it once per frame (one pass over the times); per bin unit and
    stacking, one integer key per row is computed once and cached, so that
    :meth:`histogram` for a new mask is one boolean selection and one
    ``numpy.bincount`` (plus the spreading of day/month totals, which is small).
    """

    times: np.ndarray  # int64 UTC ns, per row
    tz: str
    valid: np.ndarray  # rows with a time
    precision: np.ndarray  # int8 per row: 0 exact, 1 day, 2 month
    codes: dict[str, np.ndarray]  # stacking name -> int8 category code per row
    day_edges: np.ndarray  # local midnights covering every valid row (int64 ns)
    day: np.ndarray  # int64 per row: local day number in day_edges (0 where invalid)
    month_edges: np.ndarray
    month_of_day: np.ndarray  # per local day: its month number in month_edges
    lo: int | None  # earliest time any event covers (ns), None when no events
    hi: int | None  # latest time any event covers (ns)
    _edges: dict[str, np.ndarray] = field(default_factory=dict)
    _keys: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, tz: str = DEFAULT_TZ) -> TimelineIndex:
        n = len(frame)
        if n and "occurred_at" in frame.columns:
            stamps = pd.to_datetime(frame["occurred_at"], utc=True)
            valid = ~stamps.isna().to_numpy()
            times = stamps.array.as_unit("ns").asi8.copy()
        else:
            valid = np.zeros(n, dtype=bool)
            times = np.zeros(n, dtype=np.int64)
        times[~valid] = times[valid].min() if valid.any() else 0  # harmless stand-in, never counted
        codes = {name: _category_codes(frame, column, cats, n) for name, (column, cats) in STACKINGS.items()}
        precision = _category_codes(frame, "time_precision", ("exact", "day", "month"), n, missing=0)
        if not valid.any():
            empty = np.zeros(1, dtype=np.int64)
            return cls(times, tz, valid, precision, codes, empty, np.zeros(n, dtype=np.int64), empty,
                       np.zeros(0, dtype=np.int64), None, None)
        t_lo, t_hi = int(times[valid].min()), int(times[valid].max())
        day_edges = bin_edges(t_lo, t_hi, "day", tz)
        day = _locate_days(day_edges, times).astype(np.int32)  # half the memory: a million rows, 4 MB
        month_edges = bin_edges(t_lo, t_hi, "month", tz)
        month_of_day = np.searchsorted(month_edges, day_edges[:-1], "right") - 1
        lo, hi = [], []
        for code, edges, index in ((0, None, None), (1, day_edges, day), (2, month_edges, None)):
            rows = valid & (precision == code)
            if not rows.any():
                continue
            if code == 0:
                lo.append(int(times[rows].min()))
                hi.append(int(times[rows].max()))
            elif code == 1:
                lo.append(int(day_edges[day[rows].min()]))
                hi.append(int(day_edges[day[rows].max() + 1]) - 1)
            else:
                months = month_of_day[day[rows]]
                lo.append(int(month_edges[months.min()]))
                hi.append(int(month_edges[months.max() + 1]) - 1)
        return cls(times, tz, valid, precision, codes, day_edges, day, month_edges, month_of_day, min(lo), max(hi))

    def edges(self, unit: str) -> np.ndarray:
        """Bin edges of ``unit`` covering every event's span (cached)."""
        cached = self._edges.get(unit)
        if cached is None:
            cached = self._edges[unit] = bin_edges(self.lo, self.hi, unit, self.tz)
        return cached

    def _row_keys(self, unit: str, by: str) -> np.ndarray:
        """Per row, where it is counted: exact rows in their bin, imprecise rows in their span.

        Key layout (times ``k`` categories): [bins | local days | local months | nowhere].
        """
        cached = self._keys.get((unit, by))
        if cached is not None:
            return cached
        k = len(STACKINGS[by][1])
        edges = self.edges(unit)
        n_bins, n_days, n_months = len(edges) - 1, len(self.day_edges) - 1, len(self.month_edges) - 1
        if unit == "hour":
            bin_of_row = (self.times - edges[0]) // _HOUR_NS
        else:
            # Bins start at local midnights: map each local day to its bin, then rows through their day.
            bin_of_day = np.searchsorted(edges, self.day_edges[:-1], "right") - 1
            bin_of_row = bin_of_day[np.clip(self.day, 0, n_days - 1)]
        code = self.codes[by].astype(np.int64)
        keys = bin_of_row * k + code
        days = n_bins * k + np.clip(self.day, 0, n_days - 1) * k + code
        months = (n_bins + n_days) * k + self.month_of_day[np.clip(self.day, 0, n_days - 1)] * k + code
        keys = np.where(self.precision == 1, days, np.where(self.precision == 2, months, keys))
        keys[~self.valid] = (n_bins + n_days + n_months) * k
        keys = keys.astype(np.int32 if keys.max() < 2**31 else np.int64)
        self._keys[(unit, by)] = keys
        return keys

    def histogram(self, mask: np.ndarray | None, unit: str, by: str = "outcome") -> Histogram:
        """Stacked counts of the rows where ``mask`` is true, in ``unit`` bins over the whole data span.

        Day- and month-precision events are spread over their span (see the
        module docstring). ``by`` is ``"outcome"`` or ``"class"``.
        """
        categories = STACKINGS[by][1]
        k = len(categories)
        if self.lo is None:
            empty = np.zeros((0, k))
            return Histogram(unit, by, categories, np.zeros(1, dtype=np.int64), empty, empty.copy())
        keys = self._row_keys(unit, by)
        edges = self.edges(unit)
        n_bins, n_days, n_months = len(edges) - 1, len(self.day_edges) - 1, len(self.month_edges) - 1
        total = (n_bins + n_days + n_months + 1) * k
        counts = np.bincount(keys if mask is None else keys[mask], minlength=total).astype(float)
        exact = counts[:n_bins * k].reshape(n_bins, k)
        spread = np.zeros_like(exact)
        seconds = (edges - edges[0]) / _NS
        parts = ((self.day_edges, counts[n_bins * k:(n_bins + n_days) * k]),
                 (self.month_edges, counts[(n_bins + n_days) * k:(n_bins + n_days + n_months) * k]))
        for span_edges, per_span in parts:
            if not per_span.any():
                continue
            # Cumulative count at each span edge, linear in time inside a span: a bin's
            # count is the difference of the cumulative at its two edges.
            cumulative = np.vstack([np.zeros(k), np.cumsum(per_span.reshape(-1, k), axis=0)])
            knots = (span_edges - edges[0]) / _NS
            for j in range(k):
                if cumulative[-1, j]:
                    spread[:, j] += np.diff(np.interp(seconds, knots, cumulative[:, j]))
        return Histogram(unit, by, categories, edges, exact + spread, spread)

    def event_times(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Sorted int64 UTC ns times of the valid rows where ``mask`` is true."""
        keep = self.valid if mask is None else self.valid & mask
        return np.sort(self.times[keep])


def _locate_days(day_edges: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Index of the local day holding each time (like searchsorted, several times faster).

    Local days last 24 hours give or take a daylight-saving hour, so a division
    lands on the right day or its neighbour; one comparison each way fixes it.
    """
    last = len(day_edges) - 2
    day = np.clip((times - day_edges[0]) // (24 * _HOUR_NS), 0, last)
    for _ in range(2):
        day -= (times < day_edges[day]) & (day > 0)
        day += (times >= day_edges[day + 1]) & (day < last)
    return day


def _category_codes(frame: pd.DataFrame, column: str, categories: tuple[str, ...], n: int,
                    missing: int | None = None) -> np.ndarray:
    """Codes of ``column`` in the fixed ``categories`` order; unknown or missing -> last (or ``missing``)."""
    fallback = len(categories) - 1 if missing is None else missing
    if n == 0 or column not in frame.columns:
        return np.full(n, fallback, dtype=np.int8)
    values = frame[column]
    if not (isinstance(values.dtype, pd.CategoricalDtype) and tuple(values.cat.categories) == categories):
        values = pd.Categorical(values.astype("string"), categories=list(categories))
    else:
        values = values.array
    codes = np.array(values.codes, dtype=np.int8)
    codes[codes < 0] = fallback
    return codes


# -- playback ---------------------------------------------------------------

def parse_duration(value: str | pd.Timedelta | dt.timedelta) -> pd.Timedelta:
    """A positive duration from ``"1d"``, ``"7d"``, ``"12h"``, ``"2w"``, ``"30min"`` or a timedelta."""
    if isinstance(value, (pd.Timedelta, dt.timedelta)):
        result = pd.Timedelta(value)
    else:
        match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(w|d|h|min|m|s)", str(value).strip().lower())
        if match is None:
            raise DataError(f"not a duration: {value!r} (expected e.g. 1d, 7d, 12h, 2w, 30min)")
        unit = {"w": "W", "d": "D", "h": "h", "min": "min", "m": "min", "s": "s"}[match.group(2)]
        result = pd.Timedelta(float(match.group(1)), unit=unit)
    if result <= pd.Timedelta(0):
        raise DataError(f"duration must be positive: {value!r}")
    return result


def _as_stamp(value, tz: str, end: bool = False) -> pd.Timestamp:
    """A tz-aware timestamp; a bare date is its local midnight (the next one for an ``end``)."""
    whole_day = (isinstance(value, dt.date) and not isinstance(value, dt.datetime)) or (
        isinstance(value, str) and len(value.strip()) <= 10)
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    ts = ts.tz_convert(tz)
    if whole_day and end:
        ts = (ts.tz_localize(None) + pd.DateOffset(days=1)).tz_localize(tz, ambiguous=True,
                                                                          nonexistent="shift_forward")
    return ts


def _shift(ts: pd.Timestamp, delta: pd.Timedelta, times: int, tz: str) -> pd.Timestamp:
    """``ts + times * delta``; whole-day deltas move by calendar days (local midnight stays midnight)."""
    if delta % pd.Timedelta(days=1) == pd.Timedelta(0):
        local = ts.tz_convert(tz).tz_localize(None) + pd.DateOffset(days=times * delta.days)
        return local.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    return ts + times * delta


def playback_frames(start, end, step, window=None, cumulative: bool = False, skip_empty: bool = False,
                    times: np.ndarray | None = None, *, tz: str = DEFAULT_TZ
                    ) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The windows a playback shows, as half-open ``(frame_start, frame_end)`` pairs.

    Frame k ends at ``start + (k+1) * step``; frames run until one reaches
    ``end`` (a bare date ``end`` includes that whole day). A frame shows the
    ``window`` before its end (clipped at ``start``), everything since ``start``
    when ``cumulative``, or just its own step when neither is given. With
    ``skip_empty``, frames holding none of ``times`` (int64 UTC ns or datetimes)
    are left out. Steps and windows of whole days follow the calendar in ``tz``.
    """
    step = parse_duration(step)
    window = None if window is None else parse_duration(window)
    first = _as_stamp(start, tz)
    stop = _as_stamp(end, tz, end=True)
    frames: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    k = 0
    frame_end = first
    while frame_end < stop:
        frame_end = _shift(first, step, k + 1, tz)
        if cumulative:
            frame_start = first
        else:
            frame_start = max(first, _shift(frame_end, window or step, -1, tz))
        frames.append((frame_start, frame_end))
        k += 1
    if skip_empty and times is not None:
        values = np.sort(_as_ns(times))
        frames = [(a, b) for a, b in frames
                  if np.searchsorted(values, b.value, "left") > np.searchsorted(values, a.value, "left")]
    return frames


def _as_ns(times) -> np.ndarray:
    if isinstance(times, np.ndarray) and times.dtype == np.int64:
        return times
    stamps = pd.to_datetime(pd.Series(times), utc=True).dropna()
    return stamps.array.as_unit("ns").asi8


def frame_filter(base: FilterState, frame_start: pd.Timestamp, frame_end: pd.Timestamp) -> FilterState:
    """``base`` with its date range set to the half-open window [frame_start, frame_end).

    Windows on local midnights become whole dates (how a person would type
    them); others become datetimes with an inclusive end just before ``frame_end``.
    """
    a = pd.Timestamp(frame_start).tz_convert(base.tz)
    b = pd.Timestamp(frame_end).tz_convert(base.tz)
    if a == a.normalize() and b == b.normalize():
        return base.replace(start=a.date(), end=(b - pd.Timedelta(hours=12)).date())
    return base.replace(start=a.tz_convert("UTC"), end=(b - pd.Timedelta(1, "ns")).tz_convert("UTC"))


def describe_window(frame_start: pd.Timestamp, frame_end: pd.Timestamp, tz: str = DEFAULT_TZ) -> str:
    """A half-open window as a person reads it, in ``tz``: ``2024-05-01 – 2024-05-07`` or with times."""
    a = pd.Timestamp(frame_start).tz_convert(tz)
    b = pd.Timestamp(frame_end).tz_convert(tz)
    if a == a.normalize() and b == b.normalize():
        first, last = a.date(), (b - pd.Timedelta(hours=12)).date()
        return first.isoformat() if first == last else f"{first.isoformat()} – {last.isoformat()}"
    return f"{a:%Y-%m-%d %H:%M} – {b:%Y-%m-%d %H:%M}"


def date_range_ns(filter_state: FilterState) -> tuple[int | None, int | None]:
    """The filter's date range as half-open int64 UTC ns bounds (None where open)."""
    lo = hi = None
    if filter_state.start is not None:
        lo = _as_stamp(filter_state.start, filter_state.tz).value
    if filter_state.end is not None:
        end = filter_state.end
        whole_day = (isinstance(end, dt.date) and not isinstance(end, dt.datetime)) or (
            isinstance(end, str) and len(end.strip()) <= 10)
        stamp = _as_stamp(end, filter_state.tz, end=True)
        hi = stamp.value if whole_day else stamp.value + 1  # end is inclusive
    return lo, hi
