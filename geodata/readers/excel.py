"""Excel workbooks (.xlsx) through openpyxl: the first sheet (or ``sheet=``), header in row 1."""
from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from geodata.errors import DataError
from geodata.readers.columns import map_headers, require, unique_headers
from geodata.readers.common import check_file, finish
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
    try:
        from openpyxl import load_workbook
    except ImportError as exc:  # pragma: no cover - openpyxl is a declared dependency
        raise DataError(f"{path}: reading Excel files needs openpyxl (pip install openpyxl)") from exc
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for damaged workbooks
        raise DataError(f"{path}: not a readable Excel workbook ({type(exc).__name__}: {exc})") from exc
    try:
        if sheet is None:
            ws = wb.worksheets[0]
        elif isinstance(sheet, int):
            ws = wb.worksheets[sheet]
        else:
            ws = wb[sheet]
    except (IndexError, KeyError) as exc:
        raise DataError(f"{path}: no sheet {sheet!r} (sheets: {', '.join(wb.sheetnames)})") from exc
    try:
        raw_header, header_row, records, rows, skipped = _scan(ws, max_rows)
    finally:
        wb.close()
    if raw_header is None:
        raise DataError(f"{path}: the sheet {ws.title!r} has no header row (no row with two or more column names)")
    width = max([len(raw_header)] + [len(r) for r in records])
    header = unique_headers(raw_header + [None] * (width - len(raw_header)))
    records = [r + [None] * (width - len(r)) for r in records]
    return header, records, rows, skipped


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
    from openpyxl import load_workbook

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
    """Read a worksheet into a checked canonical frame."""
    p = check_file(path)
    header, records, rows, skipped = read_sheet_titled(p, sheet)
    table = pd.DataFrame(records or None, columns=header, dtype=object)
    table = table.infer_objects()
    report = LoadReport(str(p), format_name)
    if skipped:
        report.add(None, None, "above the header, not records: " + "; ".join(skipped), "warning")
    row_numbers = np.asarray(rows, dtype=np.int64)
    if transform is not None:
        table, row_numbers = transform(table, row_numbers, report)
    mapping = map_headers(list(table.columns), path=str(p), columns=columns, lat=lat, lon=lon)
    require(mapping, list(table.columns), path=str(p))
    options.pop("encoding", None)
    return finish(table, row_numbers, mapping, report, path=p, tz=tz, dayfirst=dayfirst, **options)


def _read(path: str | Path, **options: object) -> LoadResult:
    options.pop("encoding", None)
    return read_excel(path, **options)


def _register() -> None:
    from geodata.readers import register

    register("xlsx", is_xlsx, _read)


_register()
