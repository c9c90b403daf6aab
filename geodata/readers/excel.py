"""Excel workbooks (.xlsx) through openpyxl: the first sheet with usable columns (or ``sheet=``).

The header is the first row naming two or more columns. Formula cells are read as the value
Excel saved with them; a formula with no saved value (a workbook written by a program that
does not calculate) is reported per cell rather than read silently as empty.
"""
from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geodata.errors import DataError
from geodata.readers import register
from geodata.readers.columns import MissingColumnsError, map_headers, require, unique_headers
from geodata.readers.common import finish
from geodata.readers.files import check_file
from geodata.report import LoadReport, LoadResult
from geodata.schema import DEFAULT_TZ


def is_xlsx(path: Path, head: bytes) -> bool:
    """A zip holding a workbook part."""
    if not head.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(path) as z:
            return any(n.startswith("xl/workbook") for n in z.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def _cell_value(cell) -> object:
    value = getattr(cell, "value", None)
    fmt = getattr(cell, "number_format", None) or ""
    if isinstance(value, dt.datetime) and value.time() == dt.time(0) and "h" not in fmt.lower():
        return value.date()  # a date cell without a time format: day precision
    if isinstance(value, str):
        return value if value.strip() else None
    return value


def read_sheet(
    path: Path, sheet: str | int | None = None, *, max_rows: int | None = None
) -> tuple[list[str], list[list[object]], list[int]]:
    """Headers, records and their sheet row numbers (only the first ``max_rows`` records when given).

    The header is the first row naming two or more columns (title rows above it are
    not records). Blank rows are not records (their numbers are skipped). Cells beyond
    the last header get their own columns (``column_N``) rather than being dropped.
    """
    header, records, rows, _titles = read_sheet_titled(path, sheet, max_rows=max_rows)
    return header, records, rows


def read_sheet_titled(
    path: Path, sheet: str | int | None = None, *, max_rows: int | None = None
) -> tuple[list[str], list[list[object]], list[int], list[str]]:
    """:func:`read_sheet` plus the title lines found above the header."""
    data = read_book(path, sheet, max_rows=max_rows)
    return data.header, data.records, data.rows, data.titles


#: Whether a sheet's header names the columns a reader needs: None when it does, else why not.
Usable = Callable[[list[str]], "str | None"]


@dataclass
class SheetData:
    """One sheet as read: header, records and their row numbers, and what was noticed on the way."""

    sheet: str
    header: list[str]
    records: list[list[object]]
    rows: list[int]
    titles: list[str]  # lines above the header
    sheets: list[str] = field(default_factory=list)  # every sheet of the workbook, in order
    passed: list[tuple[str, str]] = field(default_factory=list)  # (sheet, why) passed over before this one
    unsaved: list[tuple[int, str]] = field(default_factory=list)  # (row, column): formula with no saved value


def read_book(
    path: Path, sheet: str | int | None = None, *, max_rows: int | None = None, usable: Usable | None = None
) -> SheetData:
    """Read one sheet: ``sheet`` when given, else the first one ``usable`` accepts (the first sheet
    when ``usable`` is None or accepts none; ``passed`` then says why each was passed over)."""
    try:
        from openpyxl import load_workbook  # loaded when a workbook is read, not with the package
    except ImportError as exc:  # pragma: no cover - openpyxl is a declared dependency
        raise DataError(f"{path}: reading Excel files needs openpyxl (pip install openpyxl)") from exc
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for damaged workbooks
        raise DataError(f"{path}: not a readable Excel workbook ({type(exc).__name__}: {exc})") from exc
    try:
        try:
            if sheet is None:
                ws = wb.worksheets[0]
            elif isinstance(sheet, int):
                ws = wb.worksheets[sheet]
            else:
                ws = wb[sheet]
        except (IndexError, KeyError) as exc:
            raise DataError(f"{path}: no sheet {sheet!r} (sheets: {', '.join(wb.sheetnames)})") from exc
        passed: list[tuple[str, str]] = []
        if sheet is None and usable is not None and len(wb.worksheets) > 1:
            ws, passed = _first_usable(wb.worksheets, usable)
        raw_header, header_row, records, rows, skipped = _scan(ws, max_rows)
        unsaved = _unsaved_formulas(path, wb, ws, rows, records) if raw_header is not None else []
        names = [w.title for w in wb.worksheets]
    finally:
        wb.close()
    if raw_header is None:
        listed = f" (sheets: {'; '.join(f'{n!r}: {why}' for n, why in passed)})" if len(passed) > 1 else ""
        raise DataError(f"{path}: the sheet {ws.title!r} has no header row (no row with two or more column "
                        f"names){listed}")
    width = max([len(raw_header)] + [len(r) for r in records])
    header = unique_headers(raw_header + [None] * (width - len(raw_header)))
    records = [r + [None] * (width - len(r)) for r in records]
    return SheetData(ws.title, header, records, rows, skipped, names, passed,
                     [(row, header[col] if col < width else f"column_{col + 1}") for row, col in unsaved])


def _first_usable(sheets: list, usable: Usable) -> tuple[object, list[tuple[str, str]]]:
    """The first sheet whose header ``usable`` accepts (else the first sheet) and why the others before
    it were passed over."""
    passed: list[tuple[str, str]] = []
    for ws in sheets:
        raw_header, *_ = _scan(ws, 0)
        if raw_header is None:
            why: str | None = "no header row"
        else:
            why = usable(unique_headers(raw_header))
        if why is None:
            return ws, passed
        passed.append((ws.title, why))
    return sheets[0], passed


# A formula element in the sheet's XML (<f>, <f t="shared" .../>, or with a namespace prefix)
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")


def _has_formulas(wb, ws) -> bool:
    """Whether the sheet's XML holds any formula (most data exports hold none: no second pass)."""
    try:
        source = wb._archive.open(ws._worksheet_path)  # openpyxl's read-only sheet part
    except (AttributeError, KeyError, OSError):
        return True  # cannot tell: look cell by cell
    tail = b""
    with source:
        while chunk := source.read(1 << 20):
            if _FORMULA_TAG.search(tail + chunk):
                return True
            tail = chunk[-32:]
    return False


def _unsaved_formulas(path: Path, wb, ws, rows: list[int], records: list[list[object]]) -> list[tuple[int, int]]:
    """(row, column index) of the record cells that hold a formula but no value saved with it."""
    if not records or not _has_formulas(wb, ws):
        return []
    from openpyxl import load_workbook  # loaded when a workbook is read, not with the package

    by_row = dict(zip(rows, records))
    found: list[tuple[int, int]] = []
    # the values read came with data_only=True; the formulas themselves need a second reading
    formulas = load_workbook(path, read_only=True, data_only=False)
    try:
        for row_number, cells in enumerate(formulas[ws.title].iter_rows(min_row=1, max_row=rows[-1]), start=1):
            record = by_row.get(row_number)
            if record is None:
                continue
            for col, cell in enumerate(cells):
                if getattr(cell, "data_type", None) == "f" and (col >= len(record) or record[col] is None):
                    found.append((row_number, col))
    finally:
        formulas.close()
    return found


def _scan(ws, max_rows: int | None = None) -> tuple[list[object] | None, int, list[list[object]], list[int], list[str]]:
    """The header (first row naming two or more columns), the records below it (at most
    ``max_rows``), their row numbers, and what stood above the header (titles)."""
    header: list[object] | None = None
    header_row = 0
    records: list[list[object]] = []
    rows: list[int] = []
    skipped: list[str] = []
    for row_number, cells in enumerate(ws.iter_rows(min_row=1), start=1):
        values = [_cell_value(c) for c in cells]
        while values and values[-1] is None:
            values.pop()
        if not values:
            continue
        if header is None:
            if sum(v is not None for v in values) >= 2:
                header, header_row = values, row_number
            else:
                skipped.append(f"row {row_number}: {' '.join(str(v) for v in values if v is not None)!r}")
            continue
        if max_rows is not None and len(records) >= max_rows:
            break  # the rest of the sheet is never read
        records.append(values)
        rows.append(row_number)
    return header, header_row, records, rows, skipped


def read_sheet_header(path: Path, sheet: str | int | None = None) -> list[str]:
    """Row 1 of the sheet (cheap: used to recognise exports by their headers)."""
    from openpyxl import load_workbook  # loaded when a workbook is read, not with the package

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0] if sheet is None else (wb.worksheets[sheet] if isinstance(sheet, int) else wb[sheet])
        first = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())
        return [str(v) for v in first if v is not None]
    finally:
        wb.close()


def read_excel(
    path: str | Path,
    *,
    format_name: str = "xlsx",
    tz: str = DEFAULT_TZ,
    columns: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
    lat: str | None = None,
    lon: str | None = None,
    dayfirst: bool | None = None,
    transform: Callable[[pd.DataFrame, np.ndarray, LoadReport], tuple[pd.DataFrame, np.ndarray]] | None = None,
    **options: object,
) -> LoadResult:
    """Read a worksheet into a checked canonical frame.

    Without ``sheet``, the first sheet whose columns place events (a date column, and
    coordinates or a location) is read, and the report says which sheets were passed over.
    """
    p = check_file(path)

    def usable(header: list[str]) -> str | None:
        try:
            targets = set(map_headers(header, path=str(p), columns=columns, lat=lat, lon=lon).values())
        except DataError:
            return "the column mapping does not fit its columns"
        missing = []
        if "occurred_at" not in targets:
            missing.append("no date column")
        if not ({"latitude", "longitude"} <= targets or targets & {"wkt", "location"}):
            missing.append("no coordinates or location")
        return " and ".join(missing) or None

    # a transform (ACLED) recognised the workbook by its first sheet: read that one
    data = read_book(p, sheet, usable=usable if transform is None else None)
    table = pd.DataFrame(data.records or None, columns=data.header, dtype=object)
    table = table.infer_objects()
    report = LoadReport(str(p), format_name)
    found = not data.passed or data.sheet != data.passed[0][0]
    if sheet is None and transform is None and len(data.sheets) > 1 and found:
        # the workbook holds more than the events read: say which sheet they came from
        skipped = "".join(f"; skipped {name!r} ({why})" for name, why in data.passed)
        others = [n for n in data.sheets if n != data.sheet and n not in dict(data.passed)]
        unread = f"; not read: {', '.join(repr(n) for n in others)}" if others else ""
        report.add(None, None, f"sheet {data.sheet!r} read (the first with a date and coordinates or a location)"
                   f"{skipped}{unread}; choose another with the sheet option", "warning")
    if data.titles:
        report.add(None, None, "above the header, not records: " + "; ".join(data.titles), "warning")
    for row, column in data.unsaved:
        report.add(row, column, "formula with no saved value (save the file in Excel first); read as empty",
                   "warning")
    row_numbers = np.asarray(data.rows, dtype=np.int64)
    if transform is not None:
        table, row_numbers = transform(table, row_numbers, report)
    mapping = map_headers(list(table.columns), path=str(p), columns=columns, lat=lat, lon=lon)
    try:
        require(mapping, list(table.columns), path=str(p))
    except MissingColumnsError as exc:
        if len(data.passed) < 2:
            raise
        sheets = "; ".join(f"{name!r}: {why}" for name, why in data.passed)
        raise MissingColumnsError(f"{exc}; no sheet of the workbook has them ({sheets}); "
                                  "choose one with the sheet option", exc.missing, exc.headers) from exc
    options.pop("encoding", None)
    return finish(table, row_numbers, mapping, report, path=p, tz=tz, dayfirst=dayfirst, **options)


def _read(path: str | Path, **options: object) -> LoadResult:
    options.pop("encoding", None)
    return read_excel(path, **options)


def _register() -> None:
    register("xlsx", is_xlsx, _read)


_register()
