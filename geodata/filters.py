"""Filters as descriptions: a frozen FilterState turns into a boolean mask.

Views keep the full frame as the truth and read ``frame[state.mask(frame)]`` on
demand; nothing filtered is ever kept as a copy.

Speed: text columns are turned into integer codes, and points into coordinate
arrays, once per column array (cached while that array lives), so a mask over a
million rows is a few array lookups. The cache assumes columns are replaced, not
edited in place (the app builds a new frame when data change); in-place edits of
Arrow-backed text columns are noticed, other in-place edits are not.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geodata.munitions import resolve_munition
from geodata.points import has_geometry, lon_lat
from geodata.schema import DEFAULT_TZ, MUNITION_CLASSES
from geodata.style import munition_class_named

__all__ = [
    "FACETS",
    "NO_MUNITION",
    "NO_TAG",
    "TAG_PREFIX",
    "TAG_SEPARATOR",
    "TEXT_COLUMNS",
    "FilterState",
    "facet_counts",
    "munition_term",
    "no_munition",
    "tag_columns",
    "tag_counts",
    "tag_values",
]

#: Facet name (FilterState field) -> frame column.
FACETS: dict[str, str] = {
    "munitions": "munition",
    "outcomes": "outcome",
    "munition_classes": "munition_class",
    "admin1": "admin1",
}
#: Columns the free-text search looks in (and every tag column, see ``TAG_PREFIX``).
TEXT_COLUMNS: tuple[str, ...] = ("location", "admin1", "munition", "notes", "source", "event_id")

#: ``munitions`` value for events that name no munition (TimeMap rows, an empty arms column), of any
#: class. Without it in the set, a munition filter leaves such events out.
NO_MUNITION = "(no munition named)"
#: Columns whose name starts with this hold a source's own filters as text (TimeMap "Type of area
#: affected" -> ``tag_type_of_area_affected``); several values in one cell are joined by ``TAG_SEPARATOR``.
TAG_PREFIX = "tag_"
TAG_SEPARATOR = " | "
#: ``tags`` value for events with no value in a tag column.
NO_TAG = "(not given)"


def no_munition(munition_class: str | None = None) -> str:
    """The ``munitions`` value for events that name no munition.

    With ``munition_class``, only those of that class (an event with no class
    counts as "unknown"): ``"(no munition named: cruise missile)"``; with None,
    those of any class (:data:`NO_MUNITION`).
    """
    return NO_MUNITION if munition_class is None else f"{NO_MUNITION[:-1]}: {munition_class})"


def tag_label(column: str) -> str:
    """A tag column for people: ``tag_type_of_area_affected`` -> "Type of area affected"."""
    words = column.removeprefix(TAG_PREFIX).replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else column


def tag_columns(frame: pd.DataFrame) -> list[str]:
    """The tag columns of ``frame`` (``tag_*``), in frame order."""
    return [str(c) for c in frame.columns if str(c).startswith(TAG_PREFIX)]


def tag_values(cell: Any) -> frozenset[str]:
    """The values one tag cell holds (``"Industrial | Residential"`` -> both); empty when missing."""
    if cell is None or (not isinstance(cell, str) and pd.isna(cell)):
        return frozenset()
    return frozenset(part.strip() for part in str(cell).split(TAG_SEPARATOR.strip()) if part.strip())


def _frozen(values: Iterable[str] | None) -> frozenset[str] | None:
    if values is None:
        return None
    if isinstance(values, str):  # one value, not its letters
        return frozenset([values])
    return frozenset(values)


def munition_term(name: str) -> str:
    """What a ``munitions`` entry means: a class name for a class ("drones" -> "loitering munition"),
    the catalogue name for a name or alias ("Hwasong-11" -> "KN-23"), else the text as it is (a name
    the catalogue lacks, a :func:`no_munition` value, a name the record doubts such as "KN-23?")."""
    if name.startswith(NO_MUNITION[:-1]) or "?" in name:
        return name
    munition_class = munition_class_named(name)
    if munition_class is not None:
        return munition_class
    found = resolve_munition(name)
    return found.name if found is not None else name


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


#: Once fewer than this share of rows remain, later tests look only at those rows.
_NARROW_BELOW = 0.125

# (id(array), kind) -> (weak reference to the array, its identity token, derived values)
_CACHE: dict[tuple[int, str], tuple[weakref.ref, int, Any]] = {}


def _token(array: Any) -> int:
    # Arrow-backed arrays swap their inner buffer on in-place edits; watching it catches those.
    return id(getattr(array, "_pa_array", array))


def _cached(array: Any, kind: str, compute: Callable[[], Any]) -> Any:
    """``compute()`` once per column array (while it lives), then from the cache."""
    key = (id(array), kind)
    hit = _CACHE.get(key)
    if hit is not None and hit[0]() is array and hit[1] == _token(array):
        return hit[2]
    value = compute()
    try:
        ref = weakref.ref(array, lambda _ref, key=key: _CACHE.pop(key, None))
    except TypeError:  # not weakly referenceable: do not cache
        return value
    _CACHE[key] = (ref, _token(array), value)
    return value


def _latest(frame: pd.DataFrame, tz: str) -> np.ndarray | None:
    """The latest instant each event may have happened, as integers in the unit of ``occurred_at``:
    its own time when exact, the last instant of its local day or month in ``tz`` when only the day
    or month is known. None when every event is exact (or the frame states no precision)."""
    if "time_precision" not in frame.columns:
        return None
    times = frame["occurred_at"].array
    precision = frame["time_precision"]
    codes, labels = _codes(precision)
    if not any(label in labels for label in ("day", "month")):
        return None
    values = times.asi8

    def compute() -> np.ndarray:
        latest = values.copy()
        for label, step in (("day", pd.offsets.Day(1)), ("month", pd.offsets.MonthBegin(1))):
            if label not in labels:
                continue
            rows = np.flatnonzero((codes == labels.get_loc(label)) & (values != np.iinfo(np.int64).min))
            local = pd.DatetimeIndex(times[rows]).tz_convert(tz).tz_localize(None)
            first = local.normalize() if label == "day" else local.to_period("M").to_timestamp()
            # Calendar arithmetic, then localise: the next local midnight or month start.
            following = (first + step).tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
            latest[rows] = np.maximum(values[rows], following.as_unit(times.unit).asi8 - 1)
        return latest

    # Kept with the precision column (one array object per frame); the times' buffer is part of the key
    # because a frame hands out a new wrapper around the same times on every access.
    buffer = values.__array_interface__["data"][0]
    return _cached(precision.array, f"latest:{tz}:{buffer}:{len(values)}:{times.unit}", compute)


def _codes(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (-1 = missing) and their labels for a column."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(), column.cat.categories
    array = column.array

    def factorize() -> tuple[np.ndarray, pd.Index]:
        codes, uniques = pd.factorize(array, use_na_sentinel=True)
        return codes, pd.Index(uniques)

    return _cached(array, "codes", factorize)


def _xy(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Point coordinates (reading them from shapely takes ~0.2 s per million; columns cost nothing)."""
    if not has_geometry(frame):
        return lon_lat(frame)
    return _cached(frame.geometry.array, "xy", lambda: lon_lat(frame))


def _table(labels_hit: np.ndarray) -> np.ndarray:
    """Lookup table over codes: one slot per label plus a last False slot that code -1 (missing) reads."""
    table = np.zeros(len(labels_hit) + 1, dtype=bool)
    table[:-1] = labels_hit
    return table


def _contains(column: pd.Series, needle: str, rows: np.ndarray | None = None) -> np.ndarray:
    """Case-insensitive substring match (Unicode case folding), once per distinct value."""
    codes, labels = _codes(column)
    if hasattr(labels.array, "__arrow_array__"):  # Arrow-backed text: no copy
        values = pa.array(labels.array)
    else:
        values = pa.array(labels.astype(str).tolist(), type=pa.string())
    hit = pc.match_substring(values, needle, ignore_case=True).to_numpy(zero_copy_only=False)
    # take() is faster than indexing with small integer codes
    return np.take(_table(hit.astype(bool)), codes if rows is None else codes[rows])


@dataclass(frozen=True)
class FilterState:
    """What the user asked to see. ``None`` means no constraint on that field.

    ``start``/``end`` are dates or datetimes; a bare date means that whole day in
    the working time zone ``tz`` (a strike at 01:00 Kyiv time on 2 June is in
    2 June), and ``end`` is inclusive; a datetime without a zone is read in
    ``tz``. An event known only to its day or month (``time_precision``) is kept
    when that whole day or month lies in the range, never placed in a narrower
    range it may not belong to (:meth:`straddling` counts those left out). ``munitions`` are munition
    names, aliases or class names, read by :func:`munition_term`: an event is kept when its munition is
    one of the names or its class one of the classes ("KN-23 or any cruise missile"). ``outcomes`` outcome values,
    ``munition_classes`` class names, ``admin1`` oblast names. ``text`` matches
    any of ``TEXT_COLUMNS`` case-insensitively. ``bbox`` is (west, south, east,
    north) in degrees, edges included. ``min_casualties`` keeps events whose
    killed + injured is at least it (a missing figure counts as none reported).

    Events with no munition name pass a ``munitions`` filter only when it holds
    :func:`no_munition` of their class (or :data:`NO_MUNITION`, any class).
    ``tags`` holds (tag column, value) pairs: each tag column named in it keeps
    the events with one of the named values in that column (:data:`NO_TAG` names
    events with none; a pair with an empty value names the column alone, so a
    column whose only pair has an empty value keeps nothing). Tag columns it does
    not name, and columns the frame lacks, are not constrained.
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
    tags: frozenset[tuple[str, str]] | None = None

    def __post_init__(self) -> None:
        for name in FACETS:
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        if self.munitions is not None:
            object.__setattr__(self, "munitions", frozenset(munition_term(str(m)) for m in self.munitions))
        if self.tags is not None:  # pairs given as lists (JSON) stay hashable
            object.__setattr__(self, "tags", frozenset((str(c), str(v)) for c, v in self.tags))
        if self.text is not None and not self.text.strip():
            object.__setattr__(self, "text", None)
        if self.bbox is not None:  # keep the state hashable whatever sequence was given
            object.__setattr__(self, "bbox", tuple(float(v) for v in self.bbox))

    def munition_terms(self) -> tuple[frozenset[str], frozenset[str]]:
        """``munitions`` split into (munition names, munition classes): the filter keeps either."""
        terms = self.munitions or frozenset()
        classes = frozenset(t for t in terms if t in MUNITION_CLASSES)
        return terms - classes, classes

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
        ``"text"``, ``"bbox"``, ``"casualties"`` or ``"tags"`` (for facet counts and timelines).
        """
        n = len(frame)
        rows: np.ndarray | None = None  # positions still kept, once few enough to list
        keep = np.ones(n, dtype=bool)
        for test in self._tests(frame, skip):
            if rows is None:
                keep &= test(None)
                # Once most rows are out, test only the survivors: far less memory to walk.
                if keep.sum() < n * _NARROW_BELOW:
                    rows = np.flatnonzero(keep)
            else:
                rows = rows[test(rows)]
        if rows is not None:
            keep = np.zeros(n, dtype=bool)
            keep[rows] = True
        return keep

    def straddling(self, frame: pd.DataFrame) -> np.ndarray:
        """Events kept by every other constraint whose day or month overlaps the date range without
        lying inside it: they may belong to the range, so the mask leaves them out, and views say so."""
        if self.start is None and self.end is None or len(frame) == 0:
            return np.zeros(len(frame), dtype=bool)
        latest = _latest(frame, self.tz)
        if latest is None:
            return np.zeros(len(frame), dtype=bool)
        unit = frame["occurred_at"].array.unit
        lo = _bound(self.start, self.tz, unit, end=False)
        hi = _bound(self.end, self.tz, unit, end=True)
        values = frame["occurred_at"].array.asi8
        overlaps = values != np.iinfo(np.int64).min
        inside = overlaps.copy()
        if lo is not None:
            overlaps &= latest >= lo
            inside &= values >= lo
        if hi is not None:
            overlaps &= values <= hi
            inside &= latest <= hi
        return overlaps & ~inside & self.mask(frame, skip="date")

    def _munition_test(self, frame: pd.DataFrame, codes: np.ndarray, table: np.ndarray,
                       pick: Callable) -> Callable[[np.ndarray | None], np.ndarray]:
        """Rows whose munition is named, whose class is named, or that name no munition and whose
        class is named by a :func:`no_munition` value."""
        names, classes = self.munition_terms()
        missing = _no_munition_table(frame, names)
        if classes:
            class_codes, class_labels = _codes(frame["munition_class"])
            class_table = _table(class_labels.isin(list(classes)))
            class_table[-1] = "unknown" in classes

        def test(rows: np.ndarray | None) -> np.ndarray:
            own = pick(codes, rows)
            hit = np.take(table, own)
            if missing is not None:
                hit = np.where(own < 0, np.take(missing[1], pick(missing[0], rows)), hit)
            if classes:
                hit |= np.take(class_table, pick(class_codes, rows))
            return hit

        return test

    def _tests(self, frame: pd.DataFrame, skip: str | None) -> list[Callable[[np.ndarray | None], np.ndarray]]:
        """One test per active constraint: row positions (None = all rows) -> bool per row."""
        tests: list[Callable[[np.ndarray | None], np.ndarray]] = []
        if len(frame) == 0:
            return tests

        def pick(values: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
            return values if rows is None else values[rows]

        if skip != "date" and (self.start is not None or self.end is not None):
            times = frame["occurred_at"].array  # tz-aware DatetimeArray in UTC
            values = times.asi8  # NaT is the smallest int64: never inside a range
            lo = _bound(self.start, self.tz, times.unit, end=False)
            hi = _bound(self.end, self.tz, times.unit, end=True)
            lo = np.iinfo(np.int64).min + 1 if lo is None else lo
            hi = np.iinfo(np.int64).max if hi is None else hi
            latest = _latest(frame, self.tz)
            if hi < lo:
                tests.append(lambda rows: np.zeros(len(values) if rows is None else len(rows), dtype=bool))
            elif latest is None:
                # lo <= v <= hi in one pass: v - lo wraps to a huge unsigned number below lo
                tests.append(lambda rows: (pick(values, rows) - np.int64(lo)).view(np.uint64)
                             <= np.uint64(hi - lo))
            else:
                # the whole span an event may lie in must be inside the range
                tests.append(lambda rows: ((pick(values, rows) - np.int64(lo)).view(np.uint64) <= np.uint64(hi - lo))
                             & ((pick(latest, rows) - np.int64(lo)).view(np.uint64) <= np.uint64(hi - lo)))
        for field_name, column in FACETS.items():
            wanted = getattr(self, field_name)
            if wanted is None or skip == field_name:
                continue
            codes, labels = _codes(frame[column])
            table = _table(labels.isin(list(wanted)))
            if field_name == "munitions":
                tests.append(self._munition_test(frame, codes, table, pick))
                continue
            tests.append(lambda rows, codes=codes, table=table: np.take(table, pick(codes, rows)))
        if self.tags is not None and skip != "tags":
            for column in sorted({c for c, _ in self.tags}):
                if column not in frame.columns:
                    continue
                codes, table = _tag_table(frame[column], {v for c, v in self.tags if c == column})
                tests.append(lambda rows, codes=codes, table=table: np.take(table, pick(codes, rows)))
        if self.text is not None and skip != "text":
            needle = self.text.strip()
            columns = [frame[c] for c in (*TEXT_COLUMNS, *tag_columns(frame)) if c in frame.columns]

            def text_test(rows: np.ndarray | None) -> np.ndarray:
                hit = np.zeros(len(frame) if rows is None else len(rows), dtype=bool)
                for column in columns:
                    hit |= _contains(column, needle, rows)
                return hit

            tests.append(text_test)
        if self.bbox is not None and skip != "bbox":
            west, south, east, north = self.bbox
            x, y = _xy(frame)

            def in_box(rows: np.ndarray | None) -> np.ndarray:
                xs, ys = pick(x, rows), pick(y, rows)
                return (xs >= west) & (xs <= east) & (ys >= south) & (ys <= north)

            tests.append(in_box)
        if self.min_casualties is not None and skip != "casualties":
            killed = pd.to_numeric(frame["killed"], errors="coerce").fillna(0).to_numpy(dtype=float)
            injured = pd.to_numeric(frame["injured"], errors="coerce").fillna(0).to_numpy(dtype=float)
            total = killed + injured
            tests.append(lambda rows: pick(total, rows) >= self.min_casualties)
        return tests


def _no_munition_table(frame: pd.DataFrame, wanted: frozenset[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """Class codes of ``frame`` and, per class, whether its events naming no munition are wanted
    (the last slot, code -1, is a missing class: "unknown"); None when no such value is wanted."""
    if NO_MUNITION in wanted:
        class_codes = np.zeros(len(frame), dtype=np.int64)
        return class_codes, np.ones(2, dtype=bool)
    wanted_classes = {c for c in MUNITION_CLASSES if no_munition(c) in wanted}
    if not wanted_classes:
        return None
    class_codes, labels = _codes(frame["munition_class"])
    table = _table(labels.isin(list(wanted_classes)))
    table[-1] = "unknown" in wanted_classes
    return class_codes, table


def _tag_table(column: pd.Series, allowed: set[str]) -> tuple[np.ndarray, np.ndarray]:
    """Codes of a tag column and, per distinct cell (last slot: missing), whether it holds an allowed value."""
    codes, labels = _codes(column)
    hit = [bool(values & allowed) if values else NO_TAG in allowed
           for values in (tag_values(label) for label in labels)]
    table = _table(np.array(hit, dtype=bool))
    table[-1] = NO_TAG in allowed
    return codes, table


def tag_counts(frame: pd.DataFrame, state: FilterState) -> dict[str, dict[str, int]]:
    """For each tag column, how many events of each value match every other criterion.

    A cell with several values counts once for each; :data:`NO_TAG` counts cells
    with none (listed only when the column has such cells). Values come most
    frequent in ``frame`` first, :data:`NO_TAG` last.
    """
    out: dict[str, dict[str, int]] = {}
    for column in tag_columns(frame):
        others = state
        if state.tags is not None:
            rest = frozenset(p for p in state.tags if p[0] != column)
            others = state.replace(tags=rest or None)
        keep = others.mask(frame)
        codes, labels = _codes(frame[column])
        totals = np.bincount(codes[codes >= 0], minlength=len(labels))
        kept = np.bincount(codes[keep & (codes >= 0)], minlength=len(labels))
        overall: dict[str, int] = {}
        counts: dict[str, int] = {}
        none_total, none_kept = int((codes < 0).sum()), int((keep & (codes < 0)).sum())
        for i, label in enumerate(labels):
            values = tag_values(label)
            if not values:
                none_total += int(totals[i])
                none_kept += int(kept[i])
            for value in values:
                overall[value] = overall.get(value, 0) + int(totals[i])
                counts[value] = counts.get(value, 0) + int(kept[i])
        ordered = {v: counts[v] for v in sorted(overall, key=lambda v: (-overall[v], v))}
        if none_total:
            ordered[NO_TAG] = none_kept
        out[column] = ordered
    return out


def facet_counts(frame: pd.DataFrame, state: FilterState, field_name: str) -> dict[str, int]:
    """For each value of a facet, how many rows match every other criterion.

    ``field_name`` is one of ``FACETS`` (``munitions``, ``outcomes``,
    ``munition_classes``, ``admin1``). Every category of a categorical column and
    every value present in ``frame`` is listed, zero or not (categories in their
    fixed order, other values most frequent in ``frame`` first). For ``munitions``,
    :func:`no_munition` of each class that has events naming no munition follows
    (classes in their fixed order).
    """
    if field_name not in FACETS:
        raise ValueError(f"unknown facet {field_name!r}; expected one of {', '.join(FACETS)}")
    column = frame[FACETS[field_name]]
    codes, labels = _codes(column)
    keep = state.mask(frame, skip=field_name)
    counts = np.bincount(codes[keep & (codes >= 0)], minlength=len(labels))
    if isinstance(column.dtype, pd.CategoricalDtype):
        order = np.arange(len(labels))
    else:
        def by_frequency() -> np.ndarray:
            totals = np.bincount(codes[codes >= 0], minlength=len(labels))
            return np.lexsort((labels.astype(str).to_numpy(), -totals))

        order = _cached(column.array, "order", by_frequency)
    out = {str(labels[i]): int(counts[i]) for i in order}
    if field_name == "munitions" and (codes < 0).any():
        missing = codes < 0
        classes = frame["munition_class"].astype(object).where(frame["munition_class"].notna(), "unknown")
        classes = classes.to_numpy()
        for munition_class in MUNITION_CLASSES:
            of_class = missing & (classes == munition_class)
            if of_class.any():
                out[no_munition(munition_class)] = int((of_class & keep).sum())
    return out
