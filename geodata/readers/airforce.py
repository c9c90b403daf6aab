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
(read in the working zone, default Europe/Kyiv), counts written as floats
("57.0"), a column name with a space ("affected region").
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geodata.errors import DataError
from geodata.readers import _sources_common as common
from geodata.readers import register
from geodata.report import LoadReport

NAME = "airforce_waves"

COUNT_COLUMNS = ("launched", "destroyed", "not_reach_goal", "still_attacking")
_TIME = re.compile(r"^\s*(\d{4})[-./](\d{1,2})[-./](\d{1,2})(?:\s*[T ]\s*(\d{1,2})\s*:\s*(\d{2})(?:\s*:\s*(\d{2}))?)?\s*$")


class WavesFileError(DataError):
    """The file holds attack waves (time window x munition), not geolocated points."""


def sniff(path: str | Path, head: bytes) -> bool:
    """True when the header names the wave report's columns (time_start, model, launched ...)."""
    header = common.header_of(head)
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
    Rows with no usable time_start or no model are rejected (errors).
    """
    path = Path(path)
    tz = tz or "Europe/Kyiv"
    table = common.read_csv_rows(path, encoding)
    lower = {c.lower(): c for c in table.columns}
    if "time_start" not in lower or "model" not in lower:
        raise DataError(f"{path}: not an Air Force waves file: no time_start or model column")
    report = LoadReport(path=str(path), format=NAME)
    rows = list(table.index)
    col = lambda name: table[lower[name]] if name in lower else pd.Series("", index=table.index)  # noqa: E731

    rejected: set[int] = set()
    starts: list[pd.Timestamp | None] = []
    ends: list[pd.Timestamp | None] = []
    precision: list[str | None] = []
    top = common.last_year()
    for row, raw_start, raw_end in zip(rows, col("time_start"), col("time_end")):
        start = _parse_time(common.text(raw_start))
        if start is None or not common.FIRST_YEAR <= start[0].year <= top:
            value = common.text(raw_start)
            rejected.add(row)
            report.add(row, "time_start", "time_start is missing" if not value else
                       f"time_start '{value}' is not a date (YYYY-MM-DD [HH:MM])" if start is None else
                       f"time_start '{value}' has year {start[0].year}, outside {common.FIRST_YEAR}..{top} "
                       "(a typo?)")
            starts.append(None), ends.append(None), precision.append(None)
            continue
        begin, has_time = start
        day_end = begin.normalize() + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
        end_text = common.text(raw_end)
        end = _parse_time(end_text)
        if end is None:
            if end_text:
                report.add(row, "time_end", f"time_end '{end_text}' is not a date; the window ends with "
                           "time_start's day", "warning")
            finish = day_end
        else:
            finish = end[0] if end[1] else end[0].normalize() + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
            if finish < begin:
                report.add(row, "time_end", f"time_end '{end_text}' is before time_start "
                           f"'{common.text(raw_start)}'; the window ends with time_start's day", "warning")
                finish = day_end
        starts.append(begin)
        ends.append(finish)
        precision.append("exact" if has_time else "day")
    for row, model in zip(rows, col("model")):
        if not common.text(model) and row not in rejected:
            rejected.add(row)
            report.add(row, "model", "model is missing: a wave without a munition cannot be counted")

    raw = table.copy()
    # The typed columns take the canonical (lower-case) names; other columns keep theirs.
    raw = raw.rename(columns={lower[c]: c for c in ("time_start", "time_end", "model", *COUNT_COLUMNS)
                              if c in lower})
    raw["time_start"] = common.localize_rows(starts, table.index, tz, report, "time_start")
    raw["time_end"] = common.localize_rows(ends, table.index, tz, report, "time_end")
    raw["time_precision"] = precision
    for name in COUNT_COLUMNS:
        raw[name] = _counts(col(name), rows, report, name, rejected)
    raw["model"] = [common.text(v) for v in col("model")]
    return raw, report, rejected


def _parse_time(value: str) -> tuple[pd.Timestamp, bool] | None:
    m = _TIME.match(value)
    if not m:
        return None
    try:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if m.group(4) is None:
            return pd.Timestamp(y, mo, d), False
        return pd.Timestamp(y, mo, d, int(m.group(4)), int(m.group(5)), int(m.group(6) or 0)), True
    except ValueError:  # 2024-02-31, 25:00
        return None


def _counts(values: pd.Series, rows: list[int], report: LoadReport, column: str, rejected: set[int]) -> pd.Series:
    """Whole non-negative counts from cells like "57", "57.0"; anything else reported and left missing."""
    out: list[int | None] = []
    for value, row in zip(values, rows):
        raw = common.text(value)
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
