"""Attack waves: how many of each munition were launched, intercepted, did not reach, hit.

A wave is one row of an Air Force attack report: one munition model over a time
window, with counts and the places it was aimed at. Waves are not points, so
they live in their own table beside the incidents frame; the funnel joins them
with the geolocated events of the same window and munition.

The waves table (index = row number in the file, header = row 1):

- ``wave_id``: "<file stem>-<row>"
- ``occurred_at``: time_start in UTC, ``time_end`` (UTC), ``time_precision``
  exact/day. A date range keeps a wave whose window [time_start, time_end]
  overlaps it (:func:`wave_mask`), so a night from 29 Sep 22:00 to 30 Sep 07:00
  belongs to both days.
- ``munition``: canonical catalogue name when the model names one munition, the
  canonical names joined with " / " when it names several ("Kh-101 / Kh-555"),
  else the model text verbatim (reported). When only some parts of a
  several-munition model are known ("X-101/X-555/Foo"), the known parts are kept
  and the unknown ones stay in the label as written ("Kh-101 / Kh-555 / Foo",
  only "Foo" reported). ``munition_names``: tuple of the canonical names;
  ``munition_class``: their class when they share one, else unknown
- ``launched``, ``intercepted`` (the report's "destroyed"), ``not_reached``
  (not_reach_goal), ``still_attacking``: nullable Int64
- ``impact`` = launched - intercepted - not_reached - still_attacking (an empty
  not_reached or still_attacking counts as 0, as the reports leave them empty when
  none; drones still in the air have not hit anything yet); missing when launched
  or intercepted is missing, and missing (with a warning) when the counts are
  inconsistent (it would be negative)
- ``launch_places``: tuple of the launch_place text split on " and ";
  ``launch_areas``: the gazetteer names they resolve to (launch areas, oblasts,
  countries); ``launch_unresolved``: the parts no gazetteer entry matched (each
  reported)
- ``target_admin1``: tuple of oblasts the target text resolves to through the
  gazetteer (a bare name shared by a city and its oblast, "Kharkiv", is read as
  the oblast: target lists name regions); ``target_places``: tuple of every
  resolved place name; ``target_unresolved``: tuple of the parts no gazetteer
  entry matched (each reported, never guessed). A wave aimed at "Ukraine" or at
  nothing resolvable adds to no oblast (:func:`unplaced_launches` counts those).
- every other input column, kept under its own name.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geodata.filters import FilterState
from geodata.munitions import Munition, resolve_munition
from geodata.readers import airforce
from geodata.report import LoadReport
from geodata.schema import MUNITION_CLASS_DTYPE, TIME_PRECISION_DTYPE

FUNNEL_COLUMNS = ("munition_class", "waves", "launched", "intercepted", "not_reached", "still_attacking",
                  "impacts", "geolocated", "geolocated_impacts")


@dataclass
class WavesResult:
    """A waves table and the report of how it was read (rows_read == loaded + rejected)."""

    frame: pd.DataFrame
    report: LoadReport


def read_waves(path: str | Path, *, tz: str | None = None, encoding: str | None = None) -> WavesResult:
    """Read an Air Force attack-waves file into a waves table (see the module docstring)."""
    path = Path(path)
    raw, report, rejected = airforce.parse(path, tz=tz, encoding=encoding)
    total = len(raw)
    kept = raw.loc[~raw.index.isin(sorted(rejected))].copy()
    frame = _build(kept, report, path.stem)
    report.rows_read = total
    report.rows_loaded = len(frame)
    report.rows_rejected = total - len(frame)
    report.problems.sort(key=lambda p: (p.row is not None, p.row or 0))  # file-level first, then by row
    report.check()
    return WavesResult(frame, report)


def _build(raw: pd.DataFrame, report: LoadReport, stem: str) -> pd.DataFrame:
    rows = list(raw.index)
    out = pd.DataFrame(index=raw.index)
    out["wave_id"] = [f"{stem}-{r}" for r in rows]
    out["occurred_at"] = raw["time_start"]
    out["time_end"] = raw["time_end"]
    out["time_precision"] = pd.Categorical(raw["time_precision"], dtype=TIME_PRECISION_DTYPE)
    munitions = [_resolve_model(m, row, report) for m, row in zip(raw["model"], rows)]
    out["munition"] = [m[0] for m in munitions]
    out["munition_names"] = [m[1] for m in munitions]
    out["munition_class"] = pd.Categorical([m[2] for m in munitions], dtype=MUNITION_CLASS_DTYPE)
    out["model"] = raw["model"]
    out["launched"] = raw["launched"]
    out["intercepted"] = raw["destroyed"]
    out["not_reached"] = raw["not_reach_goal"]
    out["still_attacking"] = raw["still_attacking"]
    out["impact"] = _impacts(out, report)
    places = raw["launch_place"] if "launch_place" in raw.columns else pd.Series("", index=raw.index)
    out["launch_places"] = [_split_and(p) for p in places]
    launches = [_resolve_launch(p, row, report) for p, row in zip(out["launch_places"], rows)]
    out["launch_areas"] = [r[0] for r in launches]
    out["launch_unresolved"] = [r[1] for r in launches]
    targets = raw["target"] if "target" in raw.columns else pd.Series("", index=raw.index)
    resolved = [_resolve_targets(t, row, report) for t, row in zip(targets, rows)]
    out["target_admin1"] = [r[0] for r in resolved]
    out["target_places"] = [r[1] for r in resolved]
    out["target_unresolved"] = [r[2] for r in resolved]
    used = {"time_start", "time_end", "time_precision", "model", "destroyed", "not_reach_goal",
            "launched", "still_attacking"}
    for name in raw.columns:
        if name not in used and name not in out.columns:
            values = raw[name].astype("str")
            out[name] = values.where(values.str.strip() != "")  # empty cells are missing, as elsewhere
    return out


def _impacts(out: pd.DataFrame, report: LoadReport) -> pd.Series:
    launched = out["launched"]
    intercepted = out["intercepted"]
    not_reached = out["not_reached"].fillna(0)
    still = out["still_attacking"].fillna(0)
    impact = launched - intercepted - not_reached - still
    bad = (impact < 0).fillna(False)
    for row in out.index[bad.to_numpy(dtype=bool)]:
        extra = f" + still attacking {still[row]}" if still[row] else ""
        report.add(int(row), "launched", f"inconsistent counts: destroyed {intercepted[row]} + did not reach "
                   f"{not_reached[row]}{extra} exceed launched {launched[row]}; impacts left missing", "warning")
    for row in out.index[launched.isna().to_numpy(dtype=bool)]:
        report.add(int(row), "launched", "launched is missing; impacts left missing", "warning")
    return impact.mask(bad)


def _resolve_model(model: str, row: int, report: LoadReport) -> tuple[str, tuple[str, ...], str]:
    """(munition, canonical names, class) of a model text such as "Shahed-136/131" or "X-101/X-555"."""
    whole = resolve_munition(model)
    if whole is not None:
        return whole.name, (whole.name,), whole.munition_class
    parts = [p.strip() for p in re.split(r"\s*/\s*|\s*,\s*|\s+and\s+", model) if p.strip()]
    found: list[Munition] = []
    missing: list[str] = []
    prefix = re.match(r"^(.*?[A-Za-zА-Яа-яІіЇїЄє][\s-]?)\d", parts[0]) if parts else None
    for part in parts:
        m = resolve_munition(part)
        if m is None and prefix and part[:1].isdigit():  # "Shahed-136/131": 131 is Shahed-131
            m = resolve_munition(prefix.group(1) + part)
        if m is None:
            missing.append(part)
        elif m not in found:
            found.append(m)
    if not found:
        report.add(row, "model", f"model '{model}' is not in the munition catalogue; kept as written, "
                   "class unknown", "warning")
        return model, (), "unknown"
    names = tuple(m.name for m in found)
    classes = {m.munition_class for m in found}
    if missing:
        # The known parts still count (and match geolocated events); the unknown ones stay in the label.
        report.add(row, "model", f"model part(s) {', '.join(repr(p) for p in missing)} of '{model}' not in the "
                   f"munition catalogue; the wave is counted under {' / '.join(names)} and kept as written",
                   "warning")
    return " / ".join(names + tuple(missing)), names, classes.pop() if len(classes) == 1 else "unknown"


def _split_and(text: object) -> tuple[str, ...]:
    value = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    return tuple(p.strip() for p in re.split(r"\s+and\s+", value) if p.strip())


def _resolve_launch(places: tuple[str, ...], row: int, report: LoadReport) -> tuple[tuple, tuple]:
    """(resolved place names, unresolved parts) of a wave's launch places, through the gazetteer."""
    from geodata.gazetteer import resolve_parts

    names: list[str] = []
    unresolved: list[str] = []
    for text in places:
        for part, place in resolve_parts(text):
            if place is None:
                unresolved.append(part)
                report.add(row, "launch_place", f"launch place '{part}' is not in the gazetteer (or names several "
                           "places); kept as text", "warning")
            elif place.name not in names:
                names.append(place.name)
    return tuple(names), tuple(unresolved)


def _resolve_targets(text: object, row: int, report: LoadReport) -> tuple[tuple, tuple, tuple]:
    """(oblasts, place names, unresolved parts) of a target text, through the gazetteer.

    Lists (" and ", ";", ",") and nesting names ("Dnipropetrovsk oblast, Kryvyi Rih
    Raion") are split by the gazetteer; a macro-region stands for the oblasts inside it;
    a country or a place outside Ukraine's oblasts names no oblast. A bare name shared
    by a city and its oblast ("Kharkiv", "Vinnitsa") is read as the oblast: target lists
    name regions.
    """
    from geodata.gazetteer import resolve_parts  # the basemap part's offline gazetteer

    admin1: list[str] = []
    names: list[str] = []
    unresolved: list[str] = []
    value = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    for part, place in resolve_parts(value, prefer_oblast=True):
        if place is None:
            unresolved.append(part)
            report.add(row, "target", f"target '{part}' is not in the gazetteer (or names several places); "
                       "kept as text", "warning")
            continue
        if place.name not in names:
            names.append(place.name)
        for oblast in _place_oblasts(place):
            if oblast not in admin1:
                admin1.append(oblast)
    return tuple(admin1), tuple(names), tuple(unresolved)


def _place_oblasts(place: Any) -> list[str]:
    """The oblasts a gazetteer place stands for: its own, or every oblast inside a macro-region."""
    if place.kind == "macro-region" and place.geometry is not None:
        return _oblasts_within(place.geometry.wkb)
    return [place.admin1] if place.admin1 else []


@lru_cache(maxsize=32)
def _oblasts_within(wkb: bytes) -> list[str]:
    import shapely

    from geodata.basemap import oblasts

    area = shapely.from_wkb(wkb)
    frame = oblasts()
    inside = [area.contains(geom.representative_point()) for geom in frame.geometry]
    return [str(name) for name, ok in zip(frame["name"], inside) if ok]


# -- filtering and the funnel ------------------------------------------------------------------


def wave_mask(waves: pd.DataFrame, state: FilterState | None) -> np.ndarray:
    """Rows of the waves table the filter keeps: date range, munitions, classes.

    A wave is kept when its window [time_start, time_end] overlaps the date range
    (a night wave belongs to the evening's day and to the morning's day alike); a
    wave with no start is kept only when no date range is set. A wave of several
    munitions ("Kh-101 / Kh-555") is kept when any of them is selected. Outcome,
    place, text and casualty filters do not apply to waves.
    """
    if state is None or len(waves) == 0:
        return np.ones(len(waves), dtype=bool)
    keep = _overlaps(waves, state)
    if state.munitions is not None:
        wanted = state.munitions
        keep &= np.array([bool(set(names) & wanted) or m in wanted
                          for names, m in zip(waves["munition_names"], waves["munition"])], dtype=bool)
    if state.munition_classes is not None:
        keep &= waves["munition_class"].isin(list(state.munition_classes)).to_numpy(dtype=bool)
    return keep


def _overlaps(waves: pd.DataFrame, state: FilterState) -> np.ndarray:
    """Waves whose window overlaps the state's date range (all when it sets none)."""
    if state.start is None and state.end is None:
        return np.ones(len(waves), dtype=bool)
    starts = waves["occurred_at"].array.as_unit("ns").asi8
    ends = waves["time_end"].array.as_unit("ns").asi8 if "time_end" in waves.columns else starts
    ends = np.where(ends == _NAT_NS, starts, ends)  # no end known: the window is its start
    keep = starts != _NAT_NS
    if state.start is not None:
        keep &= ends >= _bound_ns(state.start, state.tz, end=False)
    if state.end is not None:
        keep &= starts <= _bound_ns(state.end, state.tz, end=True)
    return keep


def _bound_ns(value: Any, tz: str, *, end: bool) -> int:
    """A date-range bound as inclusive UTC nanoseconds, read as FilterState reads it: a bare date
    (or date-only text) is its whole day in ``tz``; a datetime without a zone is in ``tz``."""
    whole_day = (len(value.strip()) <= 10 if isinstance(value, str)
                 else isinstance(value, dt.date) and not isinstance(value, dt.datetime))
    if whole_day:
        day = pd.Timestamp(value).date() + dt.timedelta(days=1 if end else 0)
        # calendar arithmetic, then localise: a clock-change day lasts 23 or 25 hours
        ts = pd.Timestamp(day).tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
        return ts.as_unit("ns").value - (1 if end else 0)
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    return ts.as_unit("ns").value


def wave_funnel(waves: pd.DataFrame, events: pd.DataFrame | None = None,
                filter_state: FilterState | None = None) -> pd.DataFrame:
    """Per munition, for the waves the filter keeps: launched, intercepted, did not reach, impacts,
    and how many geolocated events of the same munition fall within those waves' windows.

    Returns a frame indexed by munition (largest launch count first) with columns
    FUNNEL_COLUMNS. ``geolocated`` counts events of ``events`` kept by the same
    filter (its date range aside: a kept wave's whole window counts, also the part
    outside the range) whose munition is one of the wave's and whose time falls in
    a wave's window (a day-precision event counts when its day overlaps the window;
    month-precision events are never matched); each event counts once per
    munition. ``geolocated_impacts`` counts those with outcome "impact". Missing
    counts are left out of the sums (an empty not_reached or still_attacking
    counts as 0).
    """
    keep = wave_mask(waves, filter_state)
    chosen = waves.loc[keep]
    table = pd.DataFrame(index=pd.Index([], name="munition"), columns=list(FUNNEL_COLUMNS))
    if chosen.empty:
        return table
    # An empty not_reach_goal means none (as in the impact formula); other empty counts stay
    # unknown, and a munition whose counts are all unknown shows a missing sum, not 0.
    still = chosen["still_attacking"] if "still_attacking" in chosen.columns else pd.Series(0, index=chosen.index)
    chosen = chosen.assign(not_reached=chosen["not_reached"].fillna(0), still_attacking=still.fillna(0))
    grouped = chosen.groupby("munition", sort=False, observed=True)
    sums = grouped[["launched", "intercepted", "not_reached", "still_attacking", "impact"]].sum(min_count=1)
    table = pd.DataFrame({
        "munition_class": grouped["munition_class"].first().astype(str),
        "waves": grouped.size(),
        "launched": sums["launched"].astype("Int64"),
        "intercepted": sums["intercepted"].astype("Int64"),
        "not_reached": sums["not_reached"].astype("Int64"),
        "still_attacking": sums["still_attacking"].astype("Int64"),
        "impacts": sums["impact"].astype("Int64"),
    })
    table.index.name = "munition"
    geolocated = {m: 0 for m in table.index}
    geolocated_impacts = dict(geolocated)
    if events is not None and len(events):
        # The filter's mask is applied inside the index: copying the filtered frame costs more.
        # The date range already chose the waves; their whole windows count.
        keep_events = filter_state.mask(events, skip="date") if filter_state is not None else None
        index = _EventIndex(events, keep_events)
        starts = chosen["occurred_at"].array.as_unit("ns").asi8
        ends = chosen["time_end"].array.as_unit("ns").asi8
        names_of = chosen["munition_names"].to_numpy()
        for munition, rows in grouped.indices.items():
            names = {n for tup in names_of[rows] for n in tup}
            geolocated[munition], geolocated_impacts[munition] = index.count(names, starts[rows], ends[rows])
    table["geolocated"] = pd.Series(geolocated, dtype="Int64")
    table["geolocated_impacts"] = pd.Series(geolocated_impacts, dtype="Int64")
    return table.sort_values("launched", ascending=False, kind="stable", na_position="last")


_DAY_NS = 86_400 * 10**9
_NAT_NS = np.iinfo(np.int64).min  # what NaT is stored as


class _EventIndex:
    """Events' start times (ns) sorted once per (munition, day precision or not), for window counts.

    Only the events ``keep`` marks are indexed (all when None). Events with no
    time or month precision are left out too (never matched). An
    exact event matches a window [lo, hi] when lo <= t <= hi; a day-precision
    event (its whole day, [t, t + 1 day)) when lo - 1 day < t <= hi.
    """

    def __init__(self, events: pd.DataFrame, keep: np.ndarray | None = None) -> None:
        times = events["occurred_at"].array.as_unit("ns").asi8
        if "time_precision" in events.columns:
            is_day = _equals(events["time_precision"], "day")
            usable = ~_equals(events["time_precision"], "month")
        else:
            is_day = np.zeros(len(events), dtype=bool)
            usable = np.ones(len(events), dtype=bool)
        if "outcome" in events.columns:
            impact = _equals(events["outcome"], "impact")
        else:
            impact = np.zeros(len(events), dtype=bool)  # no outcomes: no known impacts
        codes, uniques = events["munition"].factorize()
        self._codes = {str(name): i for i, name in enumerate(uniques)}
        usable &= (codes >= 0) & ~events["occurred_at"].isna().to_numpy()
        if keep is not None:
            usable &= np.asarray(keep, dtype=bool)
        # Key 2 * munition + day: each key's events are one contiguous run, sorted by time.
        keys = codes[usable].astype(np.int64) * 2 + is_day[usable]
        order = np.lexsort((times[usable], keys))
        self._keys = keys[order]
        self._times = times[usable][order]
        self._impact = impact[usable][order]

    def count(self, names: set[str], starts: np.ndarray, ends: np.ndarray) -> tuple[int, int]:
        """(events, of which impacts) of munitions ``names`` inside any window [starts[i], ends[i]] (ns),
        each event counted once however many windows it falls in."""
        # A window with a missing start or end (an ambiguous clock time at the autumn change)
        # matches nothing, as a comparison with NaT is false.
        known = (starts != _NAT_NS) & (ends != _NAT_NS)
        starts, ends = starts[known], ends[known]
        day_starts = starts - (_DAY_NS - 1)
        total = impacts = 0
        for name in names:
            code = self._codes.get(name)
            if code is None:
                continue
            for is_day, lows in ((0, starts), (1, day_starts)):
                key = 2 * code + is_day
                a, b = np.searchsorted(self._keys, [key, key + 1])
                if a == b:
                    continue
                times = self._times[a:b]
                left = np.searchsorted(times, lows, side="left")
                right = np.searchsorted(times, ends, side="right")
                some = left < right
                if not some.any():
                    continue
                # Coverage of sorted positions by the windows' [left, right) runs: +1 at each
                # start, -1 at each end; a position covered at least once is one event counted.
                n = b - a
                depth = np.cumsum(np.bincount(left[some], minlength=n + 1)
                                  - np.bincount(right[some], minlength=n + 1))
                covered = depth[:n] > 0
                total += int(covered.sum())
                impacts += int((covered & self._impact[a:b]).sum())
        return total, impacts


def _equals(column: pd.Series, value: str) -> np.ndarray:
    """Boolean per row: the cell equals ``value`` (a missing cell does not)."""
    return (column == value).fillna(False).to_numpy(dtype=bool)


def target_counts(waves: pd.DataFrame, filter_state: FilterState | None = None) -> dict[str, int]:
    """Launches aimed at each oblast by the waves the filter keeps (for oblast shading).

    A wave aimed at several oblasts counts its launches toward each of them;
    waves whose target resolved to no oblast are left out.
    """
    counts: dict[str, int] = {}
    chosen = waves.loc[wave_mask(waves, filter_state)]
    for oblasts, launched in zip(chosen["target_admin1"], chosen["launched"]):
        if pd.isna(launched):
            continue
        for oblast in oblasts:
            counts[oblast] = counts.get(oblast, 0) + int(launched)
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def unplaced_launches(waves: pd.DataFrame | None, filter_state: FilterState | None = None) -> int:
    """Launches of the kept waves that add to no oblast (aimed at "Ukraine", abroad, or at
    text the gazetteer cannot place): the oblast shading leaves them out, so views say how many."""
    if waves is None or len(waves) == 0:
        return 0
    chosen = waves.loc[wave_mask(waves, filter_state)]
    none = np.array([len(t) == 0 for t in chosen["target_admin1"]], dtype=bool)
    return int(chosen["launched"][none].fillna(0).sum())
