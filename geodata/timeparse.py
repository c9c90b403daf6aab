"""Date/time columns into UTC instants with a precision, vectorised.

Accepted text: ISO 8601 (``2024-06-02``, ``2024-06-02T01:30``, ``2024-06-02 01:30:15+03:00``,
``...Z``), ``YYYY-MM`` (month precision), ``DD.MM.YYYY``, ``DD/MM/YYYY``, ``MM/DD/YYYY``,
``DD-MM-YYYY`` and ``MM-DD-YYYY``, English month names (``2 June 2024``, ``June 2, 2024``,
``2 Jun 2024``), each optionally followed by ``HH:MM[:SS]``. The day/month order of dates
written with ``/`` or ``-`` is decided once per file from the data (``.`` is always day first).
A two-digit year is read as 20YY (said once per file). Times written without a zone are local
times in ``tz``.

:func:`check_times` is what every reader uses: it parses, joins a separate time-of-day column,
and words every finding the same way for every format (dates that cannot be read are errors;
dates before 2014 or in the future are kept with a warning, as are local times a clock change
skips or repeats).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: precision codes used in ``ParsedTimes.precision`` (index into schema.TIME_PRECISIONS)
EXACT, DAY, MONTH, NONE = 0, 1, 2, -1

#: Events before this day are older than the war these files record (kept, with a warning).
FIRST_DAY = "2014-01-01"

_ISO = (
    r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})(?:[-/.](?P<d>\d{1,2})"
    r"(?:(?:T|\s+)(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d{1,9}))?)?)?)?"
    r"\s*(?P<z>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$"
)
_CLOCK = r"(?:(?:T|,?\s+)(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?$"
# both separators are captured: "02-06.2024" is not a date (RE2 has no back-references)
_NUMERIC_DATE = r"^(?P<a>\d{1,2})(?P<sep>[-./])(?P<b>\d{1,2})(?P<sep2>[-./])(?P<y>\d{2}(?:\d{2})?)" + _CLOCK
# "2 June 2024", "02 Jun 2024", "June 2, 2024", "Jun 2nd 2024"
_NAMED_DATE = (
    r"^(?:(?P<d1>\d{1,2})(?:st|nd|rd|th)?\s+(?P<mon1>[A-Za-z]{3,9})\.?,?"
    r"|(?P<mon2>[A-Za-z]{3,9})\.?\s+(?P<d2>\d{1,2})(?:st|nd|rd|th)?,?)"
    r"\s+(?P<y>\d{2}(?:\d{2})?)" + _CLOCK
)
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
_MONTH_NAMES = pa.array(list(_MONTHS) + [m[:3] for m in _MONTHS] + ["sept"])
_MONTH_NUMBERS = np.array(list(range(1, 13)) * 2 + [9], np.int64)
_NS = {"H": 3_600_000_000_000, "M": 60_000_000_000, "S": 1_000_000_000}


@dataclass
class ParsedTimes:
    """Result of :func:`parse_times`, aligned with the input."""

    utc: pd.DatetimeIndex  # tz-aware UTC, NaT where not parsed
    precision: np.ndarray  # int8 codes EXACT/DAY/MONTH, NONE where not parsed
    bad: np.ndarray  # bool: a value was present but is not a date we can read
    reasons: dict[int, str] = field(default_factory=dict)  # position -> why, for bad values
    notes: list[str] = field(default_factory=list)  # file-level warnings (e.g. day/month order)
    shifted: np.ndarray | None = None  # bool: local time fell in a DST gap or overlap


def _field(struct: pa.StructArray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """An integer field of an extract_regex result and where it is present."""
    col = struct.field(name)
    present = pc.and_(pc.is_valid(col), pc.not_equal(col, "")).fill_null(False)
    values = pc.cast(pc.if_else(present, col, "0"), pa.int64())
    return values.to_numpy(zero_copy_only=False), present.to_numpy(zero_copy_only=False)


def _days(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Days since 1970-01-01 of (y, m, d) and whether the date exists."""
    # years outside 1678-2261 do not fit datetime64[ns]
    ok = (m >= 1) & (m <= 12) & (d >= 1) & (d <= 31) & (y >= 1678) & (y <= 2261)
    months = np.where(ok, (y - 1970) * 12 + m - 1, 0).astype("datetime64[M]")
    days = months.astype("datetime64[D]") + np.where(ok, d - 1, 0).astype("timedelta64[D]")
    ok &= days.astype("datetime64[M]") == months  # 31/02 rolls into March: not a date
    return days.astype(np.int64), ok


# Bytes that may begin (first) or end (last) whitespace in UTF-8: ASCII spaces and the lead or
# trailing bytes of Unicode spaces (NBSP, U+2000..U+205F, U+3000). A superset: only a reason to look.
_MAY_OPEN_SPACE = np.zeros(256, bool)
_MAY_OPEN_SPACE[[9, 10, 11, 12, 13, 32, 0xC2, 0xE1, 0xE2, 0xE3]] = True
_MAY_CLOSE_SPACE = np.zeros(256, bool)
_MAY_CLOSE_SPACE[[9, 10, 11, 12, 13, 32]] = True
_MAY_CLOSE_SPACE[0x80:] = True


def is_clean_text(arr: pa.Array | pa.ChunkedArray) -> bool:
    """Whether no text value is empty or has a space at either end (so trimming would change
    nothing), judged from the first and last byte of each value without copying any string."""
    for chunk in arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]:
        if pa.types.is_large_string(chunk.type):
            width = np.int64
        elif pa.types.is_string(chunk.type):
            width = np.int32
        else:
            return False
        if chunk.null_count == len(chunk):
            continue
        _, offsets, data = chunk.buffers()
        ends = np.frombuffer(offsets, width)[chunk.offset:chunk.offset + len(chunk) + 1]
        starts, ends = ends[:-1], ends[1:]
        filled = ends > starts
        if not filled.all():
            if not chunk.null_count or (~filled & chunk.is_valid().to_numpy(zero_copy_only=False)).any():
                return False  # an empty text value
            starts, ends = starts[filled], ends[filled]
        text = np.frombuffer(data, np.uint8)
        if _MAY_OPEN_SPACE.take(text.take(starts)).any() or _MAY_CLOSE_SPACE.take(text.take(ends - 1)).any():
            return False
    return True


def _as_text(values: pd.Series) -> pa.Array:
    """Any date column (text, datetimes, Excel dates) as an Arrow string array."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    elif pd.api.types.is_datetime64_any_dtype(values.dtype):
        values = values.dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    elif values.dtype == object:

        def text(v: object) -> object:
            if isinstance(v, dt.datetime):
                return v.isoformat()
            if isinstance(v, dt.date):
                return v.isoformat()  # a date cell: day precision
            if v is None or (isinstance(v, float) and np.isnan(v)):
                return None
            return str(v)

        values = values.map(text)
    try:
        arr = pa.array(values.array if hasattr(values, "array") else values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        arr = pa.array(values.astype(str).where(values.notna(), None), from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = pc.cast(arr, pa.string())
    return arr if is_clean_text(arr) else pc.utf8_trim_whitespace(arr)


def parse_times(values: pd.Series, *, tz: str, dayfirst: bool | None = None,
                default_dayfirst: bool = True) -> ParsedTimes:
    """Parse a date/time column into UTC instants and precisions.

    ``dayfirst`` forces the order of slash dates (True: DD/MM/YYYY); None decides it
    from the data (a first number above 12 means day first, a second one above 12
    means month first) and, when the data cannot tell, reads them in ``default_dayfirst``
    order (day first unless a source is known to write month first) and says so.
    """
    text = _as_text(values)
    n = len(text)
    if is_clean_text(text):  # no blank text: the missing values are the nulls
        empty = text.is_null().to_numpy(zero_copy_only=False)
    else:
        empty_arr = pc.or_(pc.is_null(text), pc.equal(text, "")).fill_null(True)
        empty = empty_arr.to_numpy(zero_copy_only=False)
        text = pc.if_else(empty_arr, pa.scalar(None, text.type), text)
    fast = _parse_uniform_iso(text, empty)
    if fast is not None:
        ns, has_zone, precision = fast
        good = ~empty
        reasons: dict[int, str] = {}
        notes: list[str] = []
    else:
        ns, has_zone, precision, good, reasons, notes = _parse_general(text, empty, dayfirst, default_dayfirst)
    utc_ns = np.full(n, np.iinfo(np.int64).min, np.int64)
    zoned = good & has_zone
    naive = good & ~has_zone
    shifted = np.zeros(n, bool)
    if naive.all():  # the usual file: every value a local time (no copies of a million of them)
        utc, shifted = localize(pd.DatetimeIndex(ns.view("datetime64[ns]")), tz)
        utc = utc.as_unit("ns")
    else:
        utc_ns[zoned] = ns[zoned]
        if naive.any():
            utc_local, odd = localize(pd.DatetimeIndex(ns[naive].view("datetime64[ns]")), tz)
            utc_ns[naive] = utc_local.as_unit("ns").asi8
            shifted[np.flatnonzero(naive)[odd]] = True
        utc = pd.DatetimeIndex(utc_ns.view("datetime64[ns]")).tz_localize("UTC")
    precision = np.where(good, precision, NONE).astype(np.int8)
    return ParsedTimes(utc, precision, ~empty & ~good, reasons, notes, shifted)


def localize(local: pd.DatetimeIndex, tz: str) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Wall-clock times in ``tz`` as UTC instants (NaT stays NaT).

    A time the clock skips (spring gap) or repeats (autumn overlap) is read as
    summer time; the returned mask marks those, for the caller to report.
    """
    loc = local.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    odd = np.asarray(loc.isna()) & ~np.asarray(local.isna())
    if odd.any():
        fixed = local[odd].tz_localize(tz, ambiguous=np.ones(int(odd.sum()), bool), nonexistent="shift_forward")
        values = loc.tz_convert("UTC").as_unit("ns").asi8.copy()
        values[odd] = fixed.tz_convert("UTC").as_unit("ns").asi8
        return pd.DatetimeIndex(values.view("datetime64[ns]")).tz_localize("UTC"), odd
    return loc.tz_convert("UTC"), odd


def _parse_uniform_iso(text: pa.Array, empty: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Fast path: every value in one layout Arrow parses natively (ISO 8601 with or without a
    zone, or DD.MM.YYYY [HH:MM[:SS]]); None when the column needs reading value by value."""
    # bytes, not characters: read from the offsets, and the same count for the ASCII text a cast accepts
    lengths = pc.binary_length(text).fill_null(0).to_numpy(zero_copy_only=False)
    sample = text.slice(0, 2000).drop_null()
    for zoned in (False, True):
        kind = pa.timestamp("ns", "UTC" if zoned else None)
        try:
            pc.cast(sample, kind)  # a failing cast of a whole column is slow: try the head first
            ts = pc.cast(text, kind)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        ns = ts.cast(pa.int64()).fill_null(np.iinfo(np.int64).min).to_numpy(zero_copy_only=False)
        if zoned:
            precision = np.full(len(text), EXACT, np.int8)
        else:  # "2024-06-02" is a day; anything longer carries a time
            precision = np.where(lengths <= 10, DAY, EXACT).astype(np.int8)
        return ns, np.full(len(text), zoned), precision
    # DD.MM.YYYY (always day first), the partner-spreadsheet habit, one layout for the whole column
    for layout, precision_code in (("%d.%m.%Y %H:%M", EXACT), ("%d.%m.%Y %H:%M:%S", EXACT), ("%d.%m.%Y", DAY)):
        if pc.strptime(sample, layout, "s", error_is_null=True).null_count:
            continue
        ts = pc.strptime(text, layout, "s", error_is_null=True)
        if ts.null_count != int(empty.sum()):
            return None  # some value has another layout (or is not a date): read value by value
        if pc.any(pc.less(pc.year(ts), 1000)).as_py():
            return None  # Arrow's %Y takes "22" as the year 22: a two-digit year, read on the slow path
        # Arrow's strptime rolls 31.02 over into March: the day written must be the day read
        day = pc.cast(pc.list_element(pc.split_pattern(text, ".", max_splits=1), 0), pa.int64())
        if pc.any(pc.not_equal(day, pc.day(ts))).as_py():
            return None
        ns = pc.multiply(ts.cast(pa.int64()), 1_000_000_000).fill_null(np.iinfo(np.int64).min)
        return ns.to_numpy(zero_copy_only=False), np.zeros(len(text), bool), np.full(len(text), precision_code, np.int8)
    return None


def _extract(text: pa.Array, where: np.ndarray, pattern: str, start: str) -> tuple[pa.StructArray | None, np.ndarray]:
    """``extract_regex`` over the values in ``where`` that begin like ``start``, and where it matched.

    A regex with captures costs several times a plain match: the cheap test ``start`` picks the
    values worth it, and the others are made null, which the capturing kernel skips.
    """
    n = len(text)
    if not where.any():
        return None, np.zeros(n, bool)
    worth = where & pc.match_substring_regex(text, start).fill_null(False).to_numpy(zero_copy_only=False)
    if not worth.any():
        return None, np.zeros(n, bool)
    values = text if worth.all() else pc.if_else(pa.array(worth), text, pa.scalar(None, text.type))
    struct = pc.extract_regex(values, pattern)
    return struct, struct.is_valid().to_numpy(zero_copy_only=False)


def _text_field(struct: pa.StructArray, name: str) -> pa.Array:
    """A text field of an extract_regex result, "" where absent."""
    return struct.field(name).fill_null("")


def _parse_general(text: pa.Array, empty: np.ndarray, dayfirst: bool | None, default_dayfirst: bool = True):
    """Slow path: mixed ISO, numeric and month-name dates, read component by component."""
    n = len(text)
    notes: list[str] = []
    iso, iso_ok = _extract(text, ~empty, _ISO, r"^\d{4}[-/.]")
    left = ~empty & ~iso_ok
    num, num_ok = _extract(text, left, _NUMERIC_DATE, r"^\d{1,2}[-/.]")
    if num is not None:
        num_ok &= pc.equal(_text_field(num, "sep"), _text_field(num, "sep2")).to_numpy(zero_copy_only=False)
    left &= ~num_ok
    named, named_ok = _extract(text, left, _NAMED_DATE, r"^(?:\d{1,2}[a-z]{0,2}\s+)?[A-Za-z]{3}")

    y = np.zeros(n, np.int64)
    m = np.zeros(n, np.int64)
    d = np.ones(n, np.int64)
    has_day = np.zeros(n, bool)
    short_year = np.zeros(n, bool)  # written with two digits: read as 20YY
    clock = {k: np.zeros(n, np.int64) for k in ("H", "M", "S")}
    has_time = np.zeros(n, bool)
    frac = np.zeros(n, np.int64)
    offset_min = np.zeros(n, np.int64)
    has_zone = np.zeros(n, bool)

    def take_clock(struct: pa.StructArray, ok: np.ndarray) -> None:
        nonlocal has_time
        for k in clock:
            v, present = _field(struct, k)
            clock[k] = np.where(ok & present, v, clock[k])
            if k == "H":
                has_time = has_time | (ok & present)

    def take_year(struct: pa.StructArray, ok: np.ndarray) -> None:
        v, _ = _field(struct, "y")
        short = ok & (pc.utf8_length(_text_field(struct, "y")).to_numpy(zero_copy_only=False) == 2)
        y[ok] = np.where(short, 2000 + v, v)[ok]
        short_year[short] = True

    if iso_ok.any():
        iy, _ = _field(iso, "y")
        im, _ = _field(iso, "m")
        iday, iday_ok = _field(iso, "d")
        y[iso_ok], m[iso_ok] = iy[iso_ok], im[iso_ok]
        d[iso_ok & iday_ok] = iday[iso_ok & iday_ok]
        has_day |= iso_ok & iday_ok
        take_clock(iso, iso_ok)
        fcol = pc.utf8_rpad(pc.if_else(iso_ok, iso.field("f"), ""), 9, "0")
        frac = np.where(iso_ok, pc.cast(fcol, pa.int64()).to_numpy(zero_copy_only=False), 0)
        zoned = iso_ok & (pc.not_equal(iso.field("z"), "").fill_null(False).to_numpy(zero_copy_only=False))
        if zoned.any():
            # few distinct zone spellings: convert each once
            codes, uniques = pd.factorize(iso.field("z").to_numpy(zero_copy_only=False)[zoned])
            offset_min[zoned] = np.array([zone_offset_minutes(z) for z in uniques], np.int64)[codes]
            has_zone |= zoned

    if num_ok.any():
        a, _ = _field(num, "a")
        b, _ = _field(num, "b")
        sep = _text_field(num, "sep")
        # DD.MM.YYYY is always day first; '/' and '-' follow one order for the whole file
        ordered = num_ok & pc.not_equal(sep, ".").to_numpy(zero_copy_only=False)
        order_dayfirst = default_dayfirst if dayfirst is None else dayfirst
        if dayfirst is None and ordered.any():
            seps = sorted(pc.unique(pc.filter(sep, pa.array(ordered))).to_pylist())
            order_dayfirst = _day_month_order(a, b, ordered, seps, notes, default_dayfirst)
        first_is_day = ~ordered | order_dayfirst
        take_year(num, num_ok)
        d[num_ok] = np.where(first_is_day, a, b)[num_ok]
        m[num_ok] = np.where(first_is_day, b, a)[num_ok]
        has_day |= num_ok
        take_clock(num, num_ok)

    if named is not None:
        mon1, mon2 = _text_field(named, "mon1"), _text_field(named, "mon2")
        month_word = pc.cast(pc.utf8_lower(pc.binary_join_element_wise(mon1, mon2, pa.scalar("", mon1.type))),
                             pa.string())
        index = pc.index_in(month_word, value_set=_MONTH_NAMES)
        named_ok &= index.is_valid().to_numpy(zero_copy_only=False)
        if named_ok.any():
            d1, d1_ok = _field(named, "d1")
            d2, _ = _field(named, "d2")
            take_year(named, named_ok)
            m[named_ok] = _MONTH_NUMBERS[index.fill_null(0).to_numpy(zero_copy_only=False)][named_ok]
            d[named_ok] = np.where(d1_ok, d1, d2)[named_ok]
            has_day |= named_ok
            take_clock(named, named_ok)

    matched = iso_ok | num_ok | named_ok
    days, date_ok = _days(y, m, d)
    time_ok = (clock["H"] < 24) & (clock["M"] < 60) & (clock["S"] < 60)
    good = matched & date_ok & time_ok
    if (good & short_year).any():
        i = int(np.flatnonzero(good & short_year)[0])
        notes.append(f"two-digit years are read as 20YY (e.g. {text[i].as_py()!r} as "
                     f"{int(y[i]):04d}-{int(m[i]):02d}-{int(d[i]):02d})")
    ns = days * 86_400_000_000_000 + frac
    for k, unit in _NS.items():
        ns = ns + clock[k] * unit
    ns = np.where(has_zone, ns - offset_min * 60_000_000_000, ns)
    ns = np.where(good, ns, np.iinfo(np.int64).min)  # int64 min is NaT
    precision = np.where(has_time, EXACT, np.where(has_day, DAY, MONTH)).astype(np.int8)
    reasons: dict[int, str] = {}
    for i in np.flatnonzero(~empty & ~good):
        if not matched[i]:
            reasons[i] = ("is not a date (expected e.g. 2024-06-02 01:30, 02.06.2024, 02/06/2024, 02-06-2024 "
                          "or 2 June 2024)")
        elif not date_ok[i]:
            reasons[i] = "is not a valid calendar date" + (
                "" if not (num_ok[i] or named_ok[i]) else f" (read as day {d[i]}, month {m[i]})"
            )
        else:
            reasons[i] = "has an impossible time of day"
    return ns, has_zone, precision, good, reasons, notes


def _day_month_order(a: np.ndarray, b: np.ndarray, ordered: np.ndarray, seps: list[str], notes: list[str],
                     default_dayfirst: bool = True) -> bool:
    """Whether the dates written with '/' or '-' are day first, judged from the whole file.

    A first number above 12 means day first, a second one above 12 month first; when the
    data cannot tell, ``default_dayfirst``, said in ``notes``.
    """
    shown = " or ".join(f"'{c}'" for c in seps)
    day_layout = " / ".join(f"DD{c}MM{c}YYYY" for c in seps)
    month_layout = " / ".join(f"MM{c}DD{c}YYYY" for c in seps)
    day_evidence = int((ordered & (a > 12) & (b <= 12)).sum())
    month_evidence = int((ordered & (b > 12) & (a <= 12)).sum())
    if day_evidence and month_evidence:
        order_dayfirst = day_evidence >= month_evidence
        notes.append(
            f"dates with {shown} are written both ways ({day_evidence} day first, {month_evidence} "
            f"month first); read as {day_layout if order_dayfirst else month_layout}, "
            "rows that do not fit are rejected"
        )
        return order_dayfirst
    if month_evidence:
        return False
    if day_evidence:
        return True
    if default_dayfirst:
        notes.append(f"day/month order of dates written with {shown} is ambiguous (no day above 12); "
                     f"read as {day_layout} (day first); pass dayfirst=False for {month_layout}")
    else:
        notes.append(f"day/month order of dates written with {shown} is ambiguous (no day above 12); "
                     f"read as {month_layout} (month first, as this source writes them); pass dayfirst=True "
                     f"for {day_layout}")
    return default_dayfirst


def zone_offset_minutes(zone: str) -> int:
    """Minutes east of UTC of a written zone: ``Z``, ``UTC``, ``GMT``, ``+03``, ``+0300``, ``+03:00``."""
    if zone in ("Z", "UTC", "GMT", ""):
        return 0
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    return sign * (int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) >= 4 else 0))


# --- one set of rules and messages for every reader ----------------------------------------------

# A time of day on its own: "01:30", "1:30:15", "01:30:15.250" (Excel time cells read as text too).
_CLOCK_ONLY = r"^(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,]\d+)?)?$"


@dataclass
class TimeProblem:
    """One finding of :func:`check_times` about the value at ``position``.

    ``part`` says which input it is about: "date" (the date column) or "time" (the separate
    time-of-day column). ``error`` values are not read; ``warning`` values are kept.
    """

    position: int
    part: str
    message: str
    severity: str


@dataclass
class CheckedTimes:
    """Result of :func:`check_times`, aligned with the input."""

    utc: pd.DatetimeIndex  # tz-aware UTC, NaT where not read
    precision: np.ndarray  # int8 codes EXACT/DAY/MONTH, NONE where not read
    empty: np.ndarray  # bool: no value at all (the caller says what a missing date means)
    bad: np.ndarray  # bool: a value that is not a date we can read (an error in ``problems``)
    problems: list[TimeProblem]
    notes: list[str]  # file-level findings (day/month order, two-digit years)


def check_times(
    values: pd.Series,
    *,
    tz: str,
    dayfirst: bool | None = None,
    default_dayfirst: bool = True,
    clock: pd.Series | None = None,
    name: str = "date",
    implausible: str = "warning",
) -> CheckedTimes:
    """Read a date column as every reader does, with its findings worded once for all formats.

    ``clock`` is a separate time-of-day column: where it holds a time, the date and time are read
    together; where it holds something else, the day is kept with a warning. ``name`` is how
    messages call the value ("date", "time_start"). Dates before :data:`FIRST_DAY` or in the
    future are kept with a warning (a mistyped year is the user's to correct, never guessed);
    ``implausible="error"`` rejects them instead (attack waves: a wave in the wrong century would
    stretch every wave count and timeline).
    """
    kept = "kept" if implausible == "warning" else "not loaded"
    problems: list[TimeProblem] = []
    if clock is not None:
        values, odd_clock = _with_clock(values, clock)
        for i in np.flatnonzero(odd_clock):
            problems.append(TimeProblem(int(i), "time", f"time {str(clock.iloc[i]).strip()!r} is not a time of day "
                                        "(HH:MM): the day alone is kept", "warning"))
    parsed = parse_times(values, tz=tz, dayfirst=dayfirst, default_dayfirst=default_dayfirst)

    def shown(i: int) -> str:
        return str(values.iloc[i]).strip()

    for i in np.flatnonzero(parsed.bad):
        problems.append(TimeProblem(int(i), "date", f"{name} {shown(i)!r} {parsed.reasons.get(i, 'cannot be read')}",
                                    "error"))
    if parsed.shifted is not None:
        for i in np.flatnonzero(parsed.shifted):
            problems.append(TimeProblem(int(i), "date", f"local time {shown(i)!r} is skipped or repeated by the clock "
                                        f"change in {tz}; read as {parsed.utc[i].isoformat()}", "warning"))
    first = pd.Timestamp(FIRST_DAY, tz=tz)
    last = pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=1)
    early = np.asarray(parsed.utc < first)  # NaT compares False
    late = np.asarray(parsed.utc > last)
    for i in np.flatnonzero(early):
        problems.append(TimeProblem(int(i), "date", f"{name} {shown(i)!r} is before {FIRST_DAY}: {kept}; check the "
                                    "year", implausible))
    for i in np.flatnonzero(late):
        problems.append(TimeProblem(int(i), "date", f"{name} {shown(i)!r} is in the future (after "
                                    f"{last:%Y-%m-%d %H:%M} UTC): {kept}; check the date", implausible))
    bad = parsed.bad | ((early | late) if implausible == "error" else False)
    empty = (parsed.precision < 0) & ~parsed.bad
    return CheckedTimes(parsed.utc, parsed.precision, empty, bad, problems, parsed.notes)


def _with_clock(dates: pd.Series, clock: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Dates joined with their time of day where the clock cell holds one, and where it holds
    something else (the date is then read alone)."""
    day, hour = pc.cast(_as_text(dates), pa.string()), pc.cast(_as_text(clock), pa.string())
    parts = pc.extract_regex(hour, _CLOCK_ONLY)
    present = pc.and_(pc.is_valid(hour), pc.not_equal(hour, "")).fill_null(False).to_numpy(zero_copy_only=False)
    ok = parts.is_valid().to_numpy(zero_copy_only=False)
    if ok.any():
        h, _ = _field(parts, "H")
        m, _ = _field(parts, "M")
        sec, _ = _field(parts, "S")
        ok &= (h < 24) & (m < 60) & (sec < 60)
    joined = pc.if_else(pa.array(ok), pc.binary_join_element_wise(day, hour, pa.scalar(" ")), day)
    return pd.Series(joined.to_pandas().to_numpy(), index=dates.index, dtype="str"), present & ~ok
