"""Ukrainian Air Force daily attack reports ("Massive Missile Attacks on Ukraine" shape).

Columns: ``time_start, time_end, model, launch_place, target, target_main,
launched, destroyed, not_reach_goal, still_attacking, border_crossing, is_shahed,
carrier, "affected region", ...``. One row is one wave of one model over a time
window, not a point: such a file is opened with :func:`geodata.waves.read_waves`.

The format is registered for detection, but :func:`read` (what read_incidents
calls) raises :class:`WavesFileError`, a DataError saying the file holds attack
waves and how to open it: returning an empty frame would look like a file whose
rows all vanished, and turning waves into points would invent locations.
Callers that can show waves (the app, ``mapviewer inspect``) catch WavesFileError
and call read_waves instead.

Traps handled: times written as a date only or date + HH:MM with stray spaces
(read in the working zone, default Europe/Kyiv, by the one date reader,
:func:`geodata.timeparse.check_times`), counts written as floats ("57.0"), a column
name with a space ("affected region").
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geodata.errors import DataError
from geodata.readers import register
from geodata.readers.textfile import cell_text, header_of, read_text_table
from geodata.report import LoadReport
from geodata.schema import DEFAULT_TZ, TIME_PRECISIONS
from geodata.timeparse import DAY, EXACT, MONTH, check_times, localize

NAME = "airforce_waves"

COUNT_COLUMNS = ("launched", "destroyed", "not_reach_goal", "still_attacking")


class WavesFileError(DataError):
    """The file holds attack waves (time window x munition), not geolocated points."""


def sniff(path: str | Path, head: bytes) -> bool:
    """True when the header names the wave report's columns (time_start, model, launched ...)."""
    header = header_of(head)
    return {"time_start", "model", "launched"} <= header and bool(header & {"destroyed", "not_reach_goal"})


def read(path: str | Path, **options: Any):
    """Refuse to read waves as points: raise WavesFileError naming the file and the way to open it."""
    raise WavesFileError(
        f"{path}: an Air Force attack-waves file (format {NAME}): each row is a wave of one munition over "
        "a time window, not a point on the map; open it as waves (geodata.waves.read_waves)")


def parse(path: str | Path, *, tz: str | None = None, encoding: str | None = None,
          **_ignored: Any) -> tuple[pd.DataFrame, LoadReport, set[int]]:
    """Every wave row (index = row number, header = row 1) with typed times and counts.

    Columns added: ``time_start``/``time_end`` (UTC), ``time_precision`` (exact when
    time_start has a time, else day), ``launched``, ``destroyed``,
    ``not_reach_goal``, ``still_attacking`` (nullable Int64). A date-only start is
    that day's beginning, a date-only end that day's end; a missing or earlier end
    closes the window at the end of the start's day (reported when earlier).
    Rows with no usable time_start or no model are rejected (errors), as are rows the
    text reader could not read, and rows whose start is before 2014 or in the future (a mistyped year).
    """
    path = Path(path)
    tz = tz or DEFAULT_TZ
    report = LoadReport(path=str(path), format=NAME)
    table, unread = read_text_table(path, report, encoding=encoding)
    lower = {c.lower(): c for c in table.columns}
    if "time_start" not in lower or "model" not in lower:
        raise DataError(f"{path}: not an Air Force waves file: no time_start or model column")
    rows = table.index.to_numpy()
    col = lambda name: table[lower[name]] if name in lower else pd.Series("", index=table.index)  # noqa: E731

    rejected = set(unread)
    # a wave dated before 2014 or in the future is rejected (incidents keep theirs, with a warning):
    # one wave in the wrong century would stretch every count by day and the timeline
    start = check_times(col("time_start"), tz=tz, name="time_start", implausible="error")
    end = check_times(col("time_end"), tz=tz, name="time_end")
    for column, checked in (("time_start", start), ("time_end", end)):
        for note in checked.notes:
            report.add(None, column, note, "warning")
    for i in np.flatnonzero(start.empty):
        if rows[i] not in rejected:
            rejected.add(int(rows[i]))
            report.add(int(rows[i]), "time_start", "time_start is missing")
    for p in start.problems:
        row = int(rows[p.position])
        if row not in unread:
            report.add(row, "time_start", p.message, p.severity)
            if p.severity == "error":
                rejected.add(row)
    begin = start.utc
    day_end = _end_of(begin, np.maximum(start.precision, DAY), tz)  # the end of the start's day (or month)
    finish = np.where(end.precision == EXACT, end.utc.asi8, _end_of(end.utc, end.precision, tz).asi8)
    finish = pd.DatetimeIndex(finish.view("datetime64[ns]")).tz_localize("UTC")
    for p in end.problems:
        row = int(rows[p.position])
        if row in rejected:
            continue
        if p.severity == "error":
            report.add(row, "time_end", f"{p.message}; the window ends with time_start's day", "warning")
        else:
            report.add(row, "time_end", p.message, "warning")
    early = np.asarray(finish < begin)  # NaT compares False
    for i in np.flatnonzero(early):
        if rows[i] not in rejected:
            report.add(int(rows[i]), "time_end", f"time_end {cell_text(col('time_end').iloc[i])!r} is before "
                       f"time_start {cell_text(col('time_start').iloc[i])!r}; the window ends with time_start's day",
                       "warning")
    use_day_end = early | np.asarray(finish.isna())
    windows_end = pd.DatetimeIndex(np.where(use_day_end, day_end.asi8, finish.asi8).view("datetime64[ns]"))
    for row, model in zip(rows, col("model")):
        if not cell_text(model) and row not in rejected:
            rejected.add(int(row))
            report.add(int(row), "model", "model is missing: a wave without a munition cannot be counted")

    raw = table.copy()
    # The typed columns take the canonical (lower-case) names; other columns keep theirs.
    raw = raw.rename(columns={lower[c]: c for c in ("time_start", "time_end", "model", *COUNT_COLUMNS)
                              if c in lower})
    raw["time_start"] = pd.Series(begin.as_unit("ns"), index=table.index)
    raw["time_end"] = pd.Series(windows_end.tz_localize("UTC").as_unit("ns"), index=table.index)
    raw["time_end"] = raw["time_end"].where(raw["time_start"].notna())
    raw["time_precision"] = [TIME_PRECISIONS[c] if c >= 0 else None for c in start.precision]
    for name in COUNT_COLUMNS:
        raw[name] = _counts(col(name), rows.tolist(), report, name, rejected)
    raw["model"] = [cell_text(v) for v in col("model")]
    return raw, report, rejected


def _end_of(utc: pd.DatetimeIndex, precision: np.ndarray, tz: str) -> pd.DatetimeIndex:
    """The last second of the local day (DAY) or month (MONTH) each instant falls in; EXACT values
    stay as they are."""
    local = utc.tz_convert(tz).tz_localize(None)
    day = local.normalize()
    next_day = day + pd.Timedelta(days=1)
    next_month = (local.to_period("M") + 1).to_timestamp()
    naive = pd.DatetimeIndex(np.where(precision == MONTH, next_month.asi8, next_day.asi8).view("datetime64[ns]"))
    last = localize(naive - pd.Timedelta(seconds=1), tz)[0]
    return pd.DatetimeIndex(np.where(precision == EXACT, utc.as_unit("ns").asi8, last.as_unit("ns").asi8)
                            .view("datetime64[ns]")).tz_localize("UTC")


def _counts(values: pd.Series, rows: list[int], report: LoadReport, column: str, rejected: set[int]) -> pd.Series:
    """Whole non-negative counts from cells like "57", "57.0"; anything else reported and left missing."""
    out: list[int | None] = []
    for value, row in zip(values, rows):
        raw = cell_text(value)
        if not raw:
            out.append(None)
            continue
        try:
            number = float(raw)
        except ValueError:
            number = float("nan")
        if not np.isfinite(number) or number < 0 or number != int(number):
            if row not in rejected:
                report.add(row, column, f"{column} '{raw}' is not a whole non-negative count; left missing",
                           "warning")
            out.append(None)
            continue
        out.append(int(number))
    return pd.Series(out, index=values.index, dtype="Int64")


def _register() -> None:
    register(NAME, sniff, read)


_register()
