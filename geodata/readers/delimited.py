"""CSV/TSV files: encoding and delimiter detection, Arrow's reader with an exact fallback."""
from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from geodata.errors import DataError
from geodata.readers import register
from geodata.readers.columns import map_headers, require, unique_headers
from geodata.readers.common import check_file, finish
from geodata.report import LoadReport, LoadResult
from geodata.schema import DEFAULT_TZ

HEAD_BYTES = 1 << 20
DELIMITERS = (",", ";", "\t", "|")
# Canonical columns read as text whatever they look like (ids keep leading zeros; dates are ours to parse).
_TEXT_TARGETS = {"event_id", "occurred_at", "time", "time_precision", "location", "admin1", "geo_precision",
                 "munition", "munition_class", "outcome", "source", "source_url", "notes"}
# Of those, the ones whose values repeat across rows (a few places, munitions, outcome words):
# read as a dictionary, so checks and name resolution run once per distinct value.
_REPEATED_TARGETS = {"time_precision", "location", "admin1", "geo_precision", "munition", "munition_class",
                     "outcome", "source"}
_DICTIONARY = pa.dictionary(pa.int32(), pa.string())

#: A hook that turns a table with the file's headers (and its row numbers) into one the header
#: mapping understands; it may set rows aside itself, accounting for them in the report.
Transform = Callable[[pd.DataFrame, np.ndarray, LoadReport], tuple[pd.DataFrame, np.ndarray]]


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    with open(path, "rb") as f:
        return f.read(size)


def looks_binary(head: bytes) -> bool:
    """NUL bytes (outside UTF-16 text) mean this is not a text table."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    return b"\x00" in head[:65536]


def detect_encoding(path: Path, head: bytes, *, whole: bool = False) -> str:
    """UTF-8 (with or without BOM), UTF-16 (with BOM) or Windows-1251.

    Judged from the head unless ``whole``; a UTF-8 guess is confirmed by Arrow's reader,
    which rejects invalid UTF-8 (the caller then asks again with ``whole=True``).
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        if whole:
            with open(path, "rb") as f:
                while chunk := f.read(1 << 24):
                    decoder.decode(chunk)
            decoder.decode(b"", final=True)
        else:
            decoder.decode(head, final=False)  # a character cut at the end of the head is fine
        return "utf-8"
    except UnicodeDecodeError:
        pass
    # Windows-1251 leaves one byte (0x98) undefined: a file that still fails is caught when decoded
    return "cp1251"


def head_text(head: bytes, encoding: str) -> str:
    """The decoded head, cut at the last complete line."""
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)
    if len(head) >= HEAD_BYTES and "\n" in text:
        text = text[: text.rindex("\n") + 1]
    return text


def sniff_delimiter(text: str) -> str:
    """The delimiter giving the most columns, consistently, over the first records."""
    best, best_score = ",", (0, 0.0)
    lines = text.split("\n")[:200]
    sample = "\n".join(lines)
    for delim in DELIMITERS:
        try:
            counts = [len(r) for r in csv.reader(io.StringIO(sample, newline=""), delimiter=delim) if r]
        except csv.Error:
            continue
        if len(counts) > 1 and len(lines) >= 200:
            counts = counts[:-1]  # the last line may be cut short
        if not counts or counts[0] < 2:
            continue
        common, freq = Counter(counts).most_common(1)[0]
        score = (int(freq / len(counts) >= 0.9), float(common))
        if score > best_score:
            best, best_score = delim, score
    return best


def parse_header(text: str, delimiter: str, path: Path) -> list[str]:
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            if any(field.strip() for field in record):
                return unique_headers(record)
            break
    except csv.Error as exc:
        raise DataError(f"{path}: the header row cannot be read ({exc})") from exc
    raise DataError(f"{path}: the first line is empty: expected a header row with column names")


@dataclass(frozen=True)
class TextHead:
    """The start of a text table as the reader sees it."""

    encoding: str
    text: str  # the decoded head, cut at the last complete line
    delimiter: str
    header: list[str]  # made unique, never empty


def decode_head(p: Path, head: bytes, *, encoding: str | None = None, delimiter: str | None = None) -> TextHead:
    """Encoding, decoded head, delimiter and header of a text table (``encoding``/``delimiter`` override
    detection). Raises DataError for binary content, an unknown encoding or delimiter, no text or no header."""
    if looks_binary(head):
        raise DataError(f"{p}: binary content, not a text table (CSV/TSV) or another supported format")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1
                                  or delimiter in '"\r\n'):
        raise DataError(f"{p}: delimiter must be one character other than a quote or line break, not {delimiter!r}")
    enc = encoding or detect_encoding(p, head)
    try:
        text = head_text(head, enc)
    except LookupError as exc:
        raise DataError(f"{p}: unknown encoding {enc!r}") from exc
    if not text.strip():
        raise DataError(f"{p}: no text in the file")
    delim = delimiter or sniff_delimiter(text)
    return TextHead(enc, text, delim, parse_header(text, delim, p))


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
    """Read a delimited text file into a checked canonical frame."""
    p = check_file(path)
    head = read_head(p)
    text_head = decode_head(p, head, encoding=encoding, delimiter=delimiter)
    enc, text, delim, header = text_head.encoding, text_head.text, text_head.delimiter, text_head.header
    report = LoadReport(str(p), format_name)
    if enc == "cp1251":
        report.add(None, None, "file is not UTF-8: read as Windows-1251 (Cyrillic)", "warning")

    # no quote in the first megabyte: the file does not quote, so no value holds a line break
    # (if one did after all, Arrow finds records of the wrong length and the exact reader takes over)
    quoted = '"' in text
    table, rows = _read_arrow(p, enc, delim, header, columns, lat, lon, transform, quoted, encoding is not None)
    if table is None and encoding is None and enc == "utf-8":
        # Arrow may have stopped at invalid UTF-8 past the head: judge the whole file
        whole = detect_encoding(p, head, whole=True)
        if whole != enc:
            return read_delimited(p, format_name=format_name, tz=tz, columns=columns, encoding=whole,
                                  delimiter=delim, dayfirst=dayfirst, lat=lat, lon=lon, transform=transform,
                                  **options)
    if table is None:
        table, rows = _read_exact(p, enc, delim, header, report)
    if transform is not None:
        table, rows = transform(table, rows, report)
    mapping = map_headers(list(table.columns), path=str(p), columns=columns, lat=lat, lon=lon)
    require(mapping, list(table.columns), path=str(p))
    return finish(table, rows, mapping, report, path=p, tz=tz, dayfirst=dayfirst, **options)


def _drop_blank(table: pd.DataFrame, rows: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Blank lines are not records: drop them, keeping every other row's number."""
    if not len(table.columns) or not table.iloc[:, 0].isna().any():
        return table, rows  # a blank line has an empty first field: nothing to look for
    blank = table.isna().all(axis=1).to_numpy()
    if blank.any():
        return table[~blank].reset_index(drop=True), rows[~blank]
    return table, rows


def _read_arrow(p, enc, delim, header, columns, lat, lon, transform, quoted: bool, given: bool = False):
    """Arrow's multithreaded reader; None when it cannot split the file into whole records.

    Any record with the wrong number of fields makes Arrow fail, and the exact reader
    takes over (it names those rows). ``quoted`` says whether the file uses quotes: only
    then can a value hold a line break, which Arrow handles more slowly.
    """
    column_types: dict[str, pa.DataType] = {}
    if transform is None:
        mapping = map_headers(header, path=str(p), columns=columns, lat=lat, lon=lon)
        column_types = {h: _DICTIONARY if t in _REPEATED_TARGETS else pa.string()
                        for h, t in mapping.items() if t in _TEXT_TARGETS}
    else:  # a transform expects plain text columns
        column_types = {h: pa.string() for h in header}
    source: object = str(p)
    if enc not in ("utf-8", "utf-8-sig"):
        try:
            source = io.BytesIO(p.read_bytes().decode(enc).encode("utf-8"))
        except UnicodeDecodeError as exc:
            # detected: not UTF-8 and the Windows-1251 guess failed too (or a BOM named an encoding)
            tried = "UTF-8 nor Windows-1251" if enc == "cp1251" and not given else repr(enc)
            raise DataError(f"{p}: the text is not {tried} (byte {exc.start} cannot be decoded); "
                            "name its encoding: mapviewer inspect --encoding NAME, "
                            "read_incidents(..., encoding=NAME)") from exc
    try:
        table = pacsv.read_csv(
            source,
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=delim, newlines_in_values=quoted, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types=column_types,
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None, None
    frame = table.to_pandas()
    frame.columns = header
    rows = np.arange(len(frame), dtype=np.int64) + 2  # the header is row 1
    return _drop_blank(frame, rows)


def _read_exact(p: Path, enc: str, delim: str, header: list[str], report: LoadReport):
    """Python's csv module, record by record: rows with the wrong field count are rejected by number."""
    width = len(header)
    records: list[list[str]] = []
    rows: list[int] = []
    with open(p, encoding=enc, newline="", errors="replace") as f:
        reader = _records(csv.reader(f, delimiter=delim), p)
        next(reader, None)
        for number, record in enumerate(reader, start=2):
            if not any(field.strip() for field in record):
                continue
            if len(record) > width and not any(x.strip() for x in record[width:]):
                record = record[:width]  # trailing delimiters only
            if len(record) != width:
                report.rows_read += 1
                report.rows_rejected += 1
                report.add(number, None, f"expected {width} fields, found {len(record)}")
                continue
            records.append(record)
            rows.append(number)
    frame = pd.DataFrame(records, columns=header, dtype="str") if records else pd.DataFrame(
        {h: pd.Series(dtype="str") for h in header})
    frame = frame.where(frame != "")
    return frame, np.asarray(rows, dtype=np.int64)


def _records(reader, path: Path):
    """Records of a csv reader; a malformed text stops with DataError rather than csv.Error."""
    try:
        yield from reader
    except csv.Error as exc:
        raise DataError(f"{path}: the text cannot be split into records (line {reader.line_num}: {exc})") from exc


def _sniff(path: Path, head: bytes) -> bool:
    return bool(head.strip()) and not looks_binary(head)


def _read(path: str | Path, **options: object) -> LoadResult:
    return read_delimited(path, format_name="csv", **options)


def _register() -> None:
    register("csv", _sniff, _read, generic=True)


_register()
