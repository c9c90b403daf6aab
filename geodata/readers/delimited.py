"""CSV/TSV files: Arrow's reader when it can, the bounded record reader of textfile otherwise."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from geodata.readers import register
from geodata.readers.columns import map_headers, require
from geodata.readers.common import finish
from geodata.readers.files import check_file, read_head
from geodata.readers.textfile import (
    CUT_SHORT,
    MAX_CELL_CHARS,
    TextHead,
    decode_head,
    detect_encoding,
    ends_with_line_break,
    fast_path_safe,
    looks_binary,
    note_encoding,
    read_records,
)
from geodata.report import LoadReport, LoadResult
from geodata.schema import DEFAULT_TZ

# Canonical columns read as text whatever they look like (ids keep leading zeros; dates are ours to parse).
_TEXT_TARGETS = {"event_id", "occurred_at", "time", "time_precision", "location", "admin1", "geo_precision",
                 "munition", "munition_class", "outcome", "source", "source_url", "notes"}
# Of those, the ones checked value by value whose values repeat across rows (munitions, outcome
# words, precisions): read as a dictionary, so checks and name resolution run once per distinct
# value. Text that is only passed on (places, sources) stays plain: the frame needs it as text.
_REPEATED_TARGETS = {"time_precision", "geo_precision", "munition", "munition_class", "outcome"}
_DICTIONARY = pa.dictionary(pa.int32(), pa.string())
# Arrow reads in blocks and fails on a row that spans more than two: with blocks of half the cell
# limit, every value Arrow accepts is within it, and a longer one goes to read_records, which
# rejects that row by number.
_ARROW_BLOCK = MAX_CELL_CHARS // 2

#: A hook that turns a table with the file's headers (and its row numbers) into one the header
#: mapping understands; it may set rows aside itself, accounting for them in the report.
Transform = Callable[[pd.DataFrame, np.ndarray, LoadReport], tuple[pd.DataFrame, np.ndarray]]


def read_delimited(
    path: str | Path,
    *,
    format_name: str = "csv",
    tz: str = DEFAULT_TZ,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    dayfirst: bool | None = None,
    lat: str | None = None,
    lon: str | None = None,
    transform: Transform | None = None,
    **options: object,
) -> LoadResult:
    """Read a delimited text file into a checked canonical frame.

    Arrow reads the file when it can (multithreaded); a file it cannot split into whole records,
    or one holding a NUL byte or a quoted value left open, is read record by record by
    :func:`~geodata.readers.textfile.read_records`, which names each row it rejects.
    """
    p = check_file(path)
    head = read_head(p)
    text_head = decode_head(p, head, encoding=encoding, delimiter=delimiter)
    enc, delim, header = text_head.encoding, text_head.delimiter, text_head.header
    report = LoadReport(str(p), format_name)
    table = rows = None
    rejected: list[int] = []
    # no quote in the first megabyte: the file does not quote, so no value holds a line break
    # (if one did after all, Arrow finds records of the wrong length and the exact reader takes over)
    quoted = '"' in text_head.text
    if enc != "utf-16" and fast_path_safe(p, quoted=quoted):
        table, rows = _read_arrow(p, enc, delim, header, columns, lat, lon, transform, quoted)
        if table is None and encoding is None and enc == "utf-8":
            # Arrow may have stopped at invalid UTF-8 past the head: judge the whole file
            enc = detect_encoding(p, head, whole=True)
            if enc != "utf-8":
                table, rows = _read_arrow(p, enc, delim, header, columns, lat, lon, transform, quoted)
        if table is not None and len(rows) and not ends_with_line_break(p):
            report.add(int(rows[-1]), None, CUT_SHORT["no-newline"], "warning")
    if table is None:
        text_head = TextHead(enc, text_head.text, delim, header)
        table, rows, rejected = _read_exact(p, text_head, report, given=encoding is not None)
    note_encoding(report, enc)
    if transform is not None:
        table, rows = transform(table, rows, report)
    mapping = map_headers(list(table.columns), path=str(p), columns=columns, lat=lat, lon=lon)
    require(mapping, list(table.columns), path=str(p))
    return finish(table, rows, mapping, report, path=p, tz=tz, dayfirst=dayfirst, rejected=rejected, **options)


def _drop_blank(table: pd.DataFrame, rows: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Blank lines are not records: drop them, keeping every other row's number."""
    if not len(table.columns) or not table.iloc[:, 0].isna().any():
        return table, rows  # a blank line has an empty first field: nothing to look for
    blank = table.isna().all(axis=1).to_numpy()
    if blank.any():
        return table[~blank].reset_index(drop=True), rows[~blank]
    return table, rows


def _read_arrow(p, enc, delim, header, columns, lat, lon, transform, quoted: bool):
    """Arrow's multithreaded reader; (None, None) when it cannot split the file into whole records.

    Any record with the wrong number of fields, or too long for its blocks, makes Arrow fail,
    and the exact reader takes over (it names those rows). ``quoted`` says whether the file uses
    quotes: only then can a value hold a line break, which Arrow handles more slowly.
    """
    column_types: dict[str, pa.DataType] = {}
    if transform is None:
        mapping = map_headers(header, path=str(p), columns=columns, lat=lat, lon=lon)
        column_types = {h: _DICTIONARY if t in _REPEATED_TARGETS else pa.string()
                        for h, t in mapping.items() if t in _TEXT_TARGETS}
    else:  # a transform expects plain text columns
        column_types = {h: pa.string() for h in header}
    try:
        table = pacsv.read_csv(
            str(p),
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, block_size=_ARROW_BLOCK,
                                           encoding="utf8" if enc in ("utf-8", "utf-8-sig") else enc),
            parse_options=pacsv.ParseOptions(delimiter=delim, newlines_in_values=quoted, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types=column_types,
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, UnicodeDecodeError):
        return None, None
    frame = table.to_pandas()
    frame.columns = header
    rows = np.arange(len(frame), dtype=np.int64) + 2  # the header is row 1
    return _drop_blank(frame, rows)


def _read_exact(p: Path, head: TextHead, report: LoadReport, *, given: bool):
    """Record by record, within bounds: rows with the wrong field count, a NUL byte or a value over
    the length limit are rejected by number (see read_records)."""
    records, rows, rejected = read_records(p, head, report, given=given)
    header = head.header
    frame = pd.DataFrame(records, columns=header, dtype="str") if records else pd.DataFrame(
        {h: pd.Series(dtype="str") for h in header})
    frame = frame.where(frame != "")
    return frame, np.asarray(rows, dtype=np.int64), rejected


def _sniff(path: Path, head: bytes) -> bool:
    return bool(head.strip()) and not looks_binary(head)


def _read(path: str | Path, **options: object) -> LoadResult:
    return read_delimited(path, format_name="csv", **options)


def _register() -> None:
    register("csv", _sniff, _read, generic=True)


_register()
