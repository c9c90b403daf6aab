"""Write exactly the given incident rows as CSV, GeoJSON, GeoPackage or XLSX.

Every write is atomic: the file is written under a temporary name in the
target's directory and renamed into place with :func:`os.replace`, so a failure
part-way leaves any earlier file at that path untouched and no temporary file
behind.

Spreadsheet formula injection: a text cell (or a column name) that begins with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return would run as a formula when a CSV or
XLSX file is opened in a spreadsheet program.

- CSV: such text is written with a leading apostrophe (``'=cmd|...``), the
  usual neutralisation; reading the CSV back shows the apostrophe.
- XLSX: such text is stored as a plain string cell (never a formula) carrying
  Excel's "quote prefix" flag, the spreadsheet's own form of a leading
  apostrophe; the stored value is unchanged, so a round trip gives it back
  exactly (except that XML turns a bare carriage return into a line feed).

Numbers (``killed``, ``injured`` and numeric extra columns) stay numbers.
Date-times (``occurred_at``) are written in CSV and XLSX as ISO-8601 text in the
working time zone with its UTC offset (``2022-03-13T00:00:00+02:00``, option ``tz``,
default Europe/Kyiv): a spreadsheet user sees the local date of a day-dated event, and
reading the file back gives the same instant. XLSX cells cannot hold a zone, so XLSX
gets the same text rather than an Excel date (an Excel date would lose the offset).
GeoJSON keeps UTC text (``2025-06-01T03:15:00Z``) and GeoPackage a UTC date-time
field. Points are written as ``latitude``/``longitude`` columns in CSV and XLSX.
"""
from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from geodata.errors import DataError
from geodata.points import LAT, LON, with_geometry
from geodata.schema import DEFAULT_TZ

#: Output formats and their usual file suffix.
FORMATS: dict[str, str] = {"csv": ".csv", "geojson": ".geojson", "gpkg": ".gpkg", "xlsx": ".xlsx"}
_SUFFIX_FORMAT = {".csv": "csv", ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".xlsx": "xlsx"}

#: First characters that make a spreadsheet treat a text cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")



def format_for_path(path: str | os.PathLike) -> str:
    """The output format implied by a file name's suffix (DataError when unknown)."""
    suffix = Path(path).suffix.lower()
    try:
        return _SUFFIX_FORMAT[suffix]
    except KeyError:
        raise DataError(
            f"{path}: cannot tell the output format from the suffix {suffix or '(none)'!r}; "
            f"use one of {', '.join(sorted(_SUFFIX_FORMAT))}"
        ) from None


def needs_neutralising(value: object) -> bool:
    """True when ``value`` is text a spreadsheet would run as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def neutralise(value: object) -> object:
    """Prefix formula-like text with an apostrophe; anything else is returned as is."""
    return "'" + value if needs_neutralising(value) else value


def write_incidents(frame: pd.DataFrame, path: str | os.PathLike, *, format: str | None = None,
                    tz: str = DEFAULT_TZ) -> Path:
    """Write exactly ``frame``'s rows to ``path`` (format from the suffix unless given).

    ``tz`` is the working time zone CSV and XLSX date-times are written in (with their offset).
    Returns the path written. Raises :class:`~geodata.errors.DataError` for an
    unknown format or time zone, or a path that cannot be written.
    """
    fmt = (format or format_for_path(path)).lower()
    writer = _WRITERS.get(fmt)
    if writer is None:
        raise DataError(f"{path}: unknown data format {fmt!r}; use one of {', '.join(FORMATS)}")
    _check_tz(tz, path)
    try:
        with atomic_path(path) as tmp:
            writer(_local_times(frame, tz) if fmt in _LOCAL_TIME_FORMATS else frame, tmp)
    except DataError as exc:
        if str(path) in str(exc):
            raise
        raise DataError(f"{path}: {exc}") from None
    return Path(path)


def _check_tz(tz: str, path: str | os.PathLike) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise DataError(f"{path}: unknown time zone {tz!r}") from exc


def write_csv(frame: pd.DataFrame, path: str | os.PathLike, *, tz: str = DEFAULT_TZ) -> Path:
    """Write CSV (UTF-8 with a byte-order mark so spreadsheets read Cyrillic correctly)."""
    return write_incidents(frame, path, format="csv", tz=tz)


def write_geojson(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a GeoJSON FeatureCollection (RFC 7946, WGS84 longitude/latitude)."""
    return write_incidents(frame, path, format="geojson")


def write_gpkg(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a GeoPackage with one point layer named ``incidents``."""
    return write_incidents(frame, path, format="gpkg")


def write_xlsx(frame: pd.DataFrame, path: str | os.PathLike, *, tz: str = DEFAULT_TZ) -> Path:
    """Write an Excel workbook with one sheet named ``incidents``."""
    return write_incidents(frame, path, format="xlsx", tz=tz)


# -- atomic replacement -------------------------------------------------------

@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path next to ``path``; on success rename it onto ``path``.

    The temporary name is unique (two writes to one path never share it) and
    hidden. On any failure, an interruption (Ctrl+C, or SIGTERM turned into an
    exception) included, the temporary file (and SQLite side files) is removed,
    an earlier file at ``path`` is left as it was, and the exception propagates;
    OS errors become :class:`DataError` naming ``path``, a full disk as "disk
    full while writing PATH" (also when a library's own error hides the cause).
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise DataError(f"{target}: cannot write: the folder {folder} does not exist")
    if target.is_dir():
        raise DataError(f"{target}: cannot write: it is a folder")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".part" + target.suffix)
    except OSError as exc:
        raise DataError(f"{target}: cannot write: {exc.strerror or exc}") from None
    os.close(fd)
    # Some writers (GDAL) refuse to open an existing empty file as a new dataset.
    os.unlink(tmp)
    try:
        yield tmp
        _set_default_mode(tmp, target)
        os.replace(tmp, target)
    except OSError as exc:
        if exc.errno in _NO_SPACE:
            raise DataError(f"disk full while writing {target}") from None
        raise DataError(f"{target}: cannot write: {exc.strerror or exc}") from None
    except Exception:
        # Some writers (GDAL, SQLite) report a full disk as a failed commit, without the OS error.
        if _out_of_space(folder):
            raise DataError(f"disk full while writing {target}") from None
        raise
    finally:
        for leftover in (tmp, tmp + "-journal", tmp + "-wal", tmp + "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover)


_NO_SPACE = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
#: Free space below which a failed write is taken for a full disk.
_NEARLY_FULL = 1 << 20


def _out_of_space(folder: Path) -> bool:
    """True when the file system holding ``folder`` has (almost) no space left for this user."""
    try:
        return shutil.disk_usage(folder).free < _NEARLY_FULL
    except OSError:
        return False


def _set_default_mode(tmp: str, target: Path) -> None:
    """Give the new file the old file's mode, or the usual mode for a new file."""
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    with contextlib.suppress(OSError):
        os.chmod(tmp, mode)


# -- tabular preparation ------------------------------------------------------

def _iso_text(series: pd.Series, tz: str | None = None) -> pd.Series:
    """Datetimes as ISO-8601 text, fractions only when present: in UTC (``2025-06-01T03:15:00Z``),
    or with ``tz`` as wall time in that zone with its offset (``2025-06-01T06:15:00+03:00``)."""
    times = pd.to_datetime(series, utc=True)
    ok = times.notna().to_numpy()
    if tz is not None:
        local = times.dt.tz_convert(tz)
        # the offset of each instant (summer and winter differ): wall time minus UTC, in minutes
        offsets = ((local.dt.tz_localize(None) - times.dt.tz_localize(None)).dt.total_seconds() // 60)
        offsets = offsets.fillna(0).to_numpy(dtype=np.int64)
        times = local
    base = times.dt.strftime("%Y-%m-%dT%H:%M:%S").astype(object).to_numpy()
    micros = (times.dt.microsecond.fillna(0).to_numpy(dtype=np.int64))
    if tz is None:
        zones = np.full(len(base), "Z", dtype=object)
    else:  # a zone has few distinct offsets: spell each once
        distinct, which = np.unique(offsets, return_inverse=True)
        zones = np.array([_offset_text(int(o)) for o in distinct], dtype=object)[which]
    text = [
        (b + (f".{m:06d}".rstrip("0") if m else "") + z) if good else None
        for b, m, z, good in zip(base, micros, zones, ok)
    ]
    return pd.Series(text, index=series.index, dtype=object)


def _offset_text(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}"


def _local_times(frame: pd.DataFrame, tz: str) -> pd.DataFrame:
    """``frame`` with its date-time columns as ISO text of wall time in ``tz`` with the offset."""
    names = [n for n in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[n].dtype)]
    if not names:
        return frame
    out = frame.copy(deep=False)
    for name in names:
        out[name] = _iso_text(frame[name], tz)
    return out


def _tabular(frame: pd.DataFrame) -> pd.DataFrame:
    """Plain columns: geometry split into latitude/longitude after it, datetimes as ISO UTC text."""
    out = {}
    for name in frame.columns:
        column = frame[name]
        if name == "geometry" or getattr(column, "dtype", None) == "geometry":
            geoms = frame.geometry if name == getattr(frame, "_geometry_column_name", None) else column
            ok = ~(geoms.isna() | geoms.is_empty)
            out[LAT] = pd.Series(np.where(ok, geoms.y.where(ok), np.nan), index=frame.index)
            out[LON] = pd.Series(np.where(ok, geoms.x.where(ok), np.nan), index=frame.index)
        elif pd.api.types.is_datetime64_any_dtype(column.dtype):
            out[name] = _iso_text(column)
        else:
            out[name] = column
    return pd.DataFrame(out, index=frame.index)


def _is_text_column(column: pd.Series) -> bool:
    return (
        pd.api.types.is_object_dtype(column.dtype)
        or pd.api.types.is_string_dtype(column.dtype)
        or isinstance(column.dtype, pd.CategoricalDtype)
    )


def _cell(value: object) -> object:
    """A Python scalar for a cell: missing values become None, numpy scalars plain numbers."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else _iso_text(pd.Series([value])).iloc[0]
    return value


# -- writers ------------------------------------------------------------------

def _write_csv(frame: pd.DataFrame, tmp: str) -> None:
    table = _tabular(frame)
    for name in table.columns:
        if _is_text_column(table[name]):
            table[name] = table[name].astype(object).map(neutralise, na_action="ignore")
    # Column names come from the input file too: the header row is neutralised like any cell.
    table.columns = [neutralise(str(c)) for c in table.columns]
    # float_format=None keeps the shortest text that reads back to the same float; CRLF line
    # ends (RFC 4180) make the csv module quote any field holding a bare CR or LF.
    table.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")


def _write_xlsx(frame: pd.DataFrame, tmp: str) -> None:
    from openpyxl import Workbook

    table = _tabular(frame)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("incidents")
    # Column names come from the input file too: a name like "=HYPERLINK(...)" stays text.
    _check_names([str(c) for c in table.columns])
    sheet.append([_text_cell(sheet, str(c)) for c in table.columns])
    columns = [table[c].astype(object).to_numpy() for c in table.columns]
    try:
        _append_rows(sheet, columns, [str(c) for c in table.columns])
    except BaseException:
        _discard(sheet)
        raise
    from zipfile import ZIP_DEFLATED, ZipFile

    from openpyxl.writer.excel import ExcelWriter

    # What Workbook.save does, with the archive closed whatever happens: after a failed write
    # (a full disk) openpyxl leaves it open, and its finaliser fails again when the program ends.
    with ZipFile(tmp, "w", ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(book, archive).write_data()


def _check_names(names: list[str]) -> None:
    """A column name with a character no Excel cell can hold is a DataError naming it, not openpyxl's error."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    bad = next((n for n in names if ILLEGAL_CHARACTERS_RE.search(n)), None)
    if bad is not None:
        raise DataError(f"column {bad!r}: a control character cannot be stored in an Excel cell; export this "
                        "selection as CSV or GeoJSON")
    long = next((n for n in names if len(n) > 32767), None)
    if long is not None:
        raise DataError(f"column {long[:40]!r}...: a column name is longer than Excel's limit of 32767 characters")


def _discard(sheet) -> None:
    """Close a half-written streaming sheet and remove openpyxl's own temporary file."""
    with contextlib.suppress(Exception):
        if sheet._rows is not None:
            sheet._rows.close()
        if sheet._writer is not None:
            sheet._writer.close()
            sheet._writer.cleanup()


def _text_cell(sheet, value: str) -> object:
    """``value`` as an XLSX cell that is never a formula."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if not needs_neutralising(value) or ILLEGAL_CHARACTERS_RE.search(value):
        return value  # (a value no cell can hold fails when its row is appended, with a message naming it)
    from openpyxl.cell import WriteOnlyCell

    # A string cell flagged with Excel's quote prefix: shown and kept as text.
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def _append_rows(sheet, columns: list[np.ndarray], names: list[str]) -> None:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.utils.exceptions import IllegalCharacterError

    for number, row in enumerate(zip(*columns), start=2):
        cells = []
        for name, value in zip(names, row):
            value = _cell(value)
            if isinstance(value, str) and len(value) > 32767:  # openpyxl would cut it without a word
                raise DataError(f"row {number} [{name}]: a text cell is longer than Excel's limit of 32767 characters")
            cells.append(_text_cell(sheet, value) if needs_neutralising(value) else value)
        try:
            sheet.append(cells)
        except IllegalCharacterError:
            column = next((n for n, v in zip(names, row) if isinstance(v, str) and ILLEGAL_CHARACTERS_RE.search(v)), "?")
            raise DataError(f"row {number} [{column}]: a control character cannot be stored in an Excel "
                            "cell; export this selection as CSV or GeoJSON") from None


def _json_value(value: object) -> object:
    value = _cell(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _write_geojson(frame: pd.DataFrame, tmp: str) -> None:
    table = _tabular(frame)
    lat = table.pop(LAT).to_numpy(dtype=float) if LAT in table else None
    lon = table.pop(LON).to_numpy(dtype=float) if LON in table else None
    names = [str(c) for c in table.columns]
    columns = [table[c].astype(object).to_numpy() for c in table.columns]
    with open(tmp, "w", encoding="utf-8") as out:
        out.write('{"type": "FeatureCollection", "features": [\n')
        for i, row in enumerate(zip(*columns)):
            if lat is not None and not (math.isnan(lat[i]) or math.isnan(lon[i])):
                geometry = {"type": "Point", "coordinates": [float(lon[i]), float(lat[i])]}
            else:
                geometry = None
            feature = {
                "type": "Feature",
                "properties": {n: _json_value(v) for n, v in zip(names, row)},
                "geometry": geometry,
            }
            out.write(("" if i == 0 else ",\n") + json.dumps(feature, ensure_ascii=False, allow_nan=False))
        out.write("\n]}\n")


def _write_gpkg(frame: pd.DataFrame, tmp: str) -> None:
    import pyogrio

    table = with_geometry(frame).copy()
    if table.crs is None:
        table = table.set_crs("EPSG:4326")
    for name in table.columns:
        column = table[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            table[name] = column.astype(object).where(column.notna(), None)
        elif pd.api.types.is_datetime64_any_dtype(column.dtype) and getattr(column.dtype, "tz", None) is not None:
            table[name] = column.dt.tz_convert("UTC")
    try:
        pyogrio.write_dataframe(table, tmp, layer="incidents", driver="GPKG")
    except pyogrio.errors.DataSourceError as exc:
        raise DataError(f"cannot write GeoPackage: {exc}") from None


#: Formats whose date-times are written as wall time in the working zone (``tz=``).
_LOCAL_TIME_FORMATS = ("csv", "xlsx")

_WRITERS: dict[str, Callable[[pd.DataFrame, str], None]] = {
    "csv": _write_csv,
    "geojson": _write_geojson,
    "gpkg": _write_gpkg,
    "xlsx": _write_xlsx,
}
