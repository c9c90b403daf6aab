"""Small helpers shared by the public-source readers (TimeMap, CIR, Air Force).

Each reader turns its file into a *raw* frame: canonical column names, the row
number a person sees as index, typed ``occurred_at``/``time_precision`` where the
source's own date convention is known, and text elsewhere. Problems specific to
the source are recorded here; generic checks (coordinates, munition names,
duplicates) are left to :func:`geodata.normalize.build_frame`.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from geodata.errors import DataError
from geodata.gazetteer import resolve_parts
from geodata.normalize import REGION_BBOX, build_frame
from geodata.report import LoadReport, LoadResult
from geodata.timeparse import localize, zone_offset_minutes

#: First plausible year of an event in these collections (war in Donbas).
FIRST_YEAR = 2014

_DMY = re.compile(r"^\s*(\d{1,2})[./-](\d{1,2})[./-](\d{4})(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
                  r"\s*(Z|UTC|[+-]\d{2}:?\d{2})?)?\s*$")
_HM = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")


def text(value: object) -> str:
    """A cell as stripped text ('' for missing)."""
    if value is None:
        return ""
    if isinstance(value, float) and np.isnan(value):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    return str(value).strip()


def last_year() -> int:
    """Latest plausible year: next year (files may be dated ahead by a time zone)."""
    return dt.date.today().year + 1


def decide_dayfirst(values: Iterable[str], default: bool) -> tuple[bool, bool]:
    """Day/month order of ``A/B/YYYY`` dates from the data.

    Returns ``(dayfirst, ambiguous)``: a first part above 12 proves day first, a
    second part above 12 proves month first; with neither, ``default`` is used
    and ``ambiguous`` is True.
    """
    day_first_seen = month_first_seen = False
    for value in values:
        m = _DMY.match(value)
        if not m:
            continue
        a, b = int(m.group(1)), int(m.group(2))
        day_first_seen |= a > 12
        month_first_seen |= b > 12
    if day_first_seen and not month_first_seen:
        return True, False
    if month_first_seen and not day_first_seen:
        return False, False
    return default, not (day_first_seen or month_first_seen)


def parse_dates(
    dates: Sequence[str],
    times: Sequence[str] | None,
    rows: Sequence[int],
    report: LoadReport,
    *,
    column: str,
    dayfirst: bool,
    tz: str,
    time_column: str | None = None,
) -> tuple[pd.Series, pd.Series, set[int]]:
    """Parse ``A/B/YYYY`` or ISO dates (with optional separate times) in ``tz``.

    Returns UTC timestamps, time precision ("exact" with a time, else "day") and
    the rows whose date is unusable (each reported as an error naming the value).
    A year outside FIRST_YEAR..next year is reported as a probable typo, never
    corrected.
    """
    out: list[pd.Timestamp | None] = []
    precision: list[str | None] = []
    bad: set[int] = set()
    top = last_year()
    for i, (raw, row) in enumerate(zip(dates, rows)):
        raw_time = text(times[i]) if times is not None else ""
        parsed = _parse_one(raw, dayfirst)
        if parsed is None:
            bad.add(row)
            out.append(None)
            precision.append(None)
            expected = "DD/MM/YYYY" if dayfirst else "MM/DD/YYYY"
            report.add(row, column, f"date '{raw}' is not a date (expected {expected} or YYYY-MM-DD)"
                       if raw else "date is missing")
            continue
        stamp, has_time = parsed
        if not FIRST_YEAR <= stamp.year <= top:
            bad.add(row)
            out.append(None)
            precision.append(None)
            report.add(row, column, f"date '{raw}' has year {stamp.year}, outside {FIRST_YEAR}..{top} "
                       "(a typo?); row not loaded")
            continue
        if raw_time and not has_time:
            m = _HM.match(raw_time)
            if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
                stamp = stamp.replace(hour=int(m.group(1)), minute=int(m.group(2)), second=int(m.group(3) or 0))
                has_time = True
            else:
                report.add(row, time_column or column, f"time '{raw_time}' is not HH:MM; the day is kept",
                           "warning")
        out.append(stamp)
        precision.append("exact" if has_time else "day")
    index = pd.Index(list(rows), name="row")
    zoned = [t is not None and t.tzinfo is not None for t in out]
    local = [None if z else t for t, z in zip(out, zoned)]
    stamps = localize_rows(local, index, tz, report, time_column or column)
    if any(zoned):  # times written with a zone are already instants
        stamps[zoned] = [t for t, z in zip(out, zoned) if z]
    return stamps, pd.Series(precision, index=index, dtype="object"), bad


def localize_rows(values: Sequence[pd.Timestamp | None], index: pd.Index, tz: str, report: LoadReport,
                  column: str) -> pd.Series:
    """Wall-clock times in ``tz`` as UTC (indexed by row); a time the clock change skips or
    repeats is read as summer time and reported (warning)."""
    naive = pd.DatetimeIndex(pd.to_datetime(pd.Series(list(values), dtype="object"), errors="coerce"))
    utc, shifted = localize(naive, tz)
    for i in np.flatnonzero(shifted):
        report.add(index[i], column, f"local time {naive[i]} is skipped or repeated by the clock change "
                   f"in {tz}; read as {utc[i].isoformat()}", "warning")
    return pd.Series(utc.as_unit("ns"), index=index)  # the incidents frame's unit


def _parse_one(raw: str, dayfirst: bool) -> tuple[pd.Timestamp, bool] | None:
    """A local (naive) or, with a zone written, UTC-aware timestamp and whether it has a time."""
    m = _ISO.match(raw)
    try:
        if m:
            y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if m.group(4) is not None:
                h, mi, s = int(m.group(4)), int(m.group(5)), int(m.group(6) or 0)
                stamp = pd.Timestamp(dt.datetime(y, mo, d, h, mi, s))
                zone = m.group(7)
                if zone:
                    stamp = (stamp - pd.Timedelta(minutes=zone_offset_minutes(zone))).tz_localize("UTC")
                return stamp, True
            return pd.Timestamp(dt.datetime(y, mo, d)), False
        m = _DMY.match(raw)
        if m:
            a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
            d, mo = (a, b) if dayfirst else (b, a)
            if m.group(4) is not None:
                h, mi, sec = int(m.group(4)), int(m.group(5)), int(m.group(6) or 0)
                return pd.Timestamp(dt.datetime(y, mo, d, h, mi, sec)), True
            return pd.Timestamp(dt.datetime(y, mo, d)), False
    except ValueError:  # 31/02, hour 25 ...
        return None
    return None


def parse_float(
    values: Sequence[object], rows: Sequence[int], report: LoadReport, column: str
) -> tuple[np.ndarray, set[int]]:
    """Numbers from cells that may hold text; free text is reported (error), never guessed."""
    out = np.full(len(values), np.nan)
    bad: set[int] = set()
    for i, (value, row) in enumerate(zip(values, rows)):
        raw = text(value)
        if not raw:
            bad.add(row)
            report.add(row, column, f"{column} is missing")
            continue
        try:
            number = float(raw.replace(",", ".")) if raw.count(",") == 1 and "." not in raw else float(raw)
        except ValueError:
            bad.add(row)
            report.add(row, column, f"{column} '{raw}' is not a number")
            continue
        if not np.isfinite(number):
            bad.add(row)
            report.add(row, column, f"{column} '{raw}' is not a number")
            continue
        out[i] = number
    return out, bad


def parse_point(
    lat_values: Sequence[object],
    lon_values: Sequence[object],
    rows: Sequence[int],
    report: LoadReport,
    *,
    lat_column: str = "latitude",
    lon_column: str = "longitude",
    places: Sequence[str] | None = None,
    place_column: str = "location",
    locate: Callable[[str], object | None] | None = None,
) -> tuple[np.ndarray, np.ndarray, set[int], dict[int, object]]:
    """Latitude and longitude from cells that may hold text.

    A row with both cells empty is placed from its place name (``places``) through the
    gazetteer (``locate``, default :func:`strict_place`) when that name resolves to
    one place (a warning says so and the precision is the place's);
    otherwise it gets one error. Returns lat, lon, the rows without usable
    coordinates, and the gazetteer Place of each placed row.
    """
    locate = locate or strict_place
    both_empty = [not text(a) and not text(b) for a, b in zip(lat_values, lon_values)]
    lat = np.full(len(rows), np.nan)
    lon = np.full(len(rows), np.nan)
    placed: dict[int, object] = {}
    bad: set[int] = set()
    for i, (row, empty) in enumerate(zip(rows, both_empty)):
        if not empty:
            continue
        name = text(places[i]) if places is not None else ""
        place = locate(name) if name else None
        if place is None:
            bad.add(row)
            shown = name.strip(" ,")
            why = f"; place '{shown}' is not in the gazetteer (or names several places)" if shown else ""
            report.add(row, lat_column, f"no coordinates ({lat_column} and {lon_column} empty){why}")
            continue
        lat[i], lon[i] = place.lat, place.lon
        placed[row] = place
        report.add(row, place_column, f"no coordinates: placed at '{place.name}' ({place.kind}) from the "
                   f"gazetteer, location precision {place.geo_precision}", "warning")
    keep = [i for i, empty in enumerate(both_empty) if not empty]
    pick = lambda seq: [seq[i] for i in keep]  # noqa: E731
    lat_part, bad_lat = parse_float(pick(list(lat_values)), pick(list(rows)), report, lat_column)
    lon_part, bad_lon = parse_float(pick(list(lon_values)), pick(list(rows)), report, lon_column)
    lat[keep], lon[keep] = lat_part, lon_part
    return lat, lon, bad | bad_lat | bad_lon, placed


def apply_places(raw: pd.DataFrame, placed: dict[int, object]) -> None:
    """Give rows placed from the gazetteer the place's precision and oblast (where empty)."""
    rows = list(placed)
    if "geo_precision" not in raw.columns:
        raw["geo_precision"] = pd.Series(None, index=raw.index, dtype="object")
    raw.loc[rows, "geo_precision"] = [placed[r].geo_precision for r in rows]
    if "admin1" not in raw.columns:
        raw["admin1"] = pd.Series(None, index=raw.index, dtype="object")
    for row in rows:
        if not text(raw.at[row, "admin1"]) and placed[row].admin1:
            raw.at[row, "admin1"] = placed[row].admin1


def strict_place(name: str):
    """The one place ``name`` names, every part of it known; None otherwise (never a guess:
    "Zzyzx, Kharkiv" is not placed at Kharkiv)."""
    parts = resolve_parts(name)
    places = {(p.kind, p.name, p.admin1): p for _, p in parts if p is not None}
    if not parts or any(p is None for _, p in parts) or len(places) != 1:
        return None
    return next(iter(places.values()))


def check_region(
    lat: np.ndarray,
    lon: np.ndarray,
    rows: Sequence[int],
    report: LoadReport,
    column: str = "latitude",
) -> set[int]:
    """Rows whose point lies far outside the region (reported as errors naming the point).

    A point that falls in the region once latitude and longitude are swapped is
    left to build_frame, which swaps it back and says so.
    """
    west, south, east, north = REGION_BBOX
    bad: set[int] = set()
    for y, x, row in zip(lat, lon, rows):
        if np.isnan(y) or np.isnan(x):
            continue
        inside = south <= y <= north and west <= x <= east
        swapped_inside = south <= x <= north and west <= y <= east
        if not inside and not swapped_inside:
            bad.add(row)
            report.add(row, column, f"point ({y:g}, {x:g}) is far outside Ukraine and its neighbours "
                       f"(lat {south:g}..{north:g}, lon {west:g}..{east:g}); row not loaded")
    return bad


def finish(
    raw: pd.DataFrame,
    report: LoadReport,
    rejected: set[int],
    *,
    tz: str,
    id_prefix: str,
    labels: dict[str, str] | None = None,
):
    """Hand the rows this reader accepted to build_frame and account for the rest.

    ``raw`` holds every row read (index = row number); rows in ``rejected`` were
    already reported as errors by the reader and are not passed on, so build_frame
    never reports them a second time. Problems end file-level first, then by row.
    """
    keep = ~raw.index.isin(sorted(rejected))
    passed = raw.loc[keep]
    west, south, east, north = REGION_BBOX
    frame = build_frame(passed, report, rows=list(passed.index), tz=tz, id_prefix=id_prefix,
                        labels=labels, region=(south, west, north, east))
    dropped = int((~keep).sum())
    report.rows_read += dropped
    report.rows_rejected += dropped
    report.problems.sort(key=lambda p: (p.row is not None, p.row or 0))
    report.check()
    return LoadResult(frame, report)


def _decode_head(head: bytes) -> str:
    """The first bytes of a file as text (UTF-8, else Windows-1251), for sniffing."""
    for enc in ("utf-8-sig", "cp1251"):
        try:
            return head.decode(enc)
        except UnicodeDecodeError as exc:
            if enc == "utf-8-sig" and exc.start > len(head) - 4:  # a character cut by the head's end
                return head[:exc.start].decode(enc)
    return head.decode("utf-8", errors="replace")


def header_of(head: bytes) -> set[str]:
    """Lower-case column names of a CSV's first line."""
    lines = _decode_head(head).lstrip("\ufeff").splitlines()
    if not lines:
        return set()
    return {c.strip().lower() for c in next(csv.reader([lines[0]]), [])}


def read_csv_rows(path: Path, encoding: str | None) -> pd.DataFrame:
    """A CSV as text cells indexed by row number (header = row 1); blank lines dropped, not renumbered.

    UTF-8 (with or without BOM) is tried first, then Windows-1251, unless ``encoding`` is given.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not data.strip():
        raise DataError(f"{path}: file is empty")
    tried = [encoding] if encoding else ["utf-8-sig", "cp1251"]
    for enc in tried:
        try:
            content = data.decode(enc)
            break
        except (UnicodeDecodeError, LookupError) as exc:
            last = exc
    else:
        raise DataError(f"{path}: cannot be decoded as {' or '.join(tried)} ({last})")
    try:
        table = pd.read_csv(io.StringIO(content.lstrip("\ufeff")), dtype=str, keep_default_na=False,
                            skip_blank_lines=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    table = table.fillna("")  # blank lines come as missing cells
    table.columns = [str(c).strip() for c in table.columns]
    table.index = pd.RangeIndex(2, len(table) + 2, name="row")
    blank = (table.apply(lambda c: c.str.strip()) == "").all(axis=1)
    return table.loc[~blank]
