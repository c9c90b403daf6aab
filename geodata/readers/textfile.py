"""Text tables (CSV/TSV): encoding, delimiter and header from the head, then records read within bounds.

Every text table (the generic CSV reader, the CIR monitor, the Air Force wave reports) is decoded
here, by :func:`decode_text`: UTF-8 (with or without BOM), UTF-16 (with BOM) or Windows-1251.

Limits, so that one damaged or hostile line cannot stop a file or fill the memory:

* a cell holds at most :data:`MAX_CELL_CHARS` characters (1,000,000: about 500 printed pages of
  notes); a row at most :data:`MAX_ROW_CHARS` (8,000,000). Beyond either, only that row is rejected,
  naming its row and column; the rest of the file loads.
* the file is decoded in blocks of 1 MB and a row over the limit is skipped without being kept, so
  memory stays bounded whatever one line holds (a 2 GB line costs a scan, not 2 GB).
* a NUL byte (binary data) rejects its row, not the file.
* a file that ends inside a quoted value, or without a line break after its last row, may have been
  cut short (a copy interrupted, a download stopped): that row is loaded with a warning naming it.
"""
from __future__ import annotations

import codecs
import csv
import io
import mmap
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geodata.errors import DataError
from geodata.readers.columns import unique_headers
from geodata.readers.files import HEAD_BYTES, check_file, read_head
from geodata.report import LoadReport

#: Longest cell read, in characters; a longer one rejects its row (and only that row).
MAX_CELL_CHARS = 1_000_000
#: Longest row read, in characters (all its cells and delimiters).
MAX_ROW_CHARS = 8_000_000
DELIMITERS = (",", ";", "\t", "|")
_BLOCK = 1 << 20
_CONTROL = bytes(range(0, 9)) + bytes(range(14, 27)) + bytes(range(28, 32))  # not tab, line breaks, ESC
_NOT_CONTROL = bytes(b for b in range(256) if b not in _CONTROL)


def cell_text(value: object) -> str:
    """A cell as stripped text ('' for missing)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and np.isnan(value):
        return ""
    return str(value).strip()


# --- encoding ------------------------------------------------------------------------------


def looks_binary(head: bytes) -> bool:
    """Whether the first bytes are binary data rather than text.

    A NUL byte on the first line (a text table's header never holds one) or many control
    bytes say binary; a stray NUL further down is a damaged row, which the reader rejects by row.
    """
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    end = head.find(b"\n", 0, 4096)
    if b"\x00" in head[: end if end >= 0 else 4096]:
        return True
    sample = head[:65536]
    return len(sample.translate(None, _NOT_CONTROL)) * 100 > len(sample)


def detect_encoding(path: Path, head: bytes, *, whole: bool = False) -> str:
    """UTF-8 (with or without BOM), UTF-16 (with BOM) or Windows-1251.

    Judged from the head unless ``whole``; a UTF-8 guess is confirmed by the reader, which
    rejects invalid UTF-8 (the caller then asks again with ``whole=True``).
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        if whole:
            for _ in decode_text(path, "utf-8"):
                pass
        else:
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False)  # a character cut at the end is fine
        return "utf-8"
    except (UnicodeDecodeError, DataError):
        pass
    # Windows-1251 leaves one byte (0x98) undefined: a file that still fails is caught when decoded
    return "cp1251"


def decode_text(path: Path, encoding: str, *, given: bool = False) -> Iterator[str]:
    """The text of a file, block by block, line breaks as ``\\n`` (``\\r\\n`` and ``\\r`` too).

    The one decoding of text tables. DataError names the first byte that cannot be decoded and
    how to name the encoding (``given``: the user named this one, so no other is suggested).
    """
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
    except LookupError:
        raise DataError(f"{path}: unknown encoding {encoding!r}") from None
    lines = io.IncrementalNewlineDecoder(decoder, translate=True)
    offset = 0
    with open(path, "rb") as f:
        while True:
            data = f.read(_BLOCK)
            pending = len(decoder.getstate()[0])
            try:
                text = lines.decode(data, final=not data)
            except UnicodeDecodeError as exc:
                tried = "UTF-8 nor Windows-1251" if encoding == "cp1251" and not given else repr(encoding)
                raise DataError(f"{path}: the text is not {tried} (byte {offset - pending + exc.start} cannot be "
                                "decoded); name its encoding: mapviewer inspect --encoding NAME, "
                                "read_incidents(..., encoding=NAME)") from None
            if text:
                yield text
            if not data:
                return
            offset += len(data)


def head_text(head: bytes, encoding: str) -> str:
    """The decoded head, cut at the last complete line."""
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)
    if len(head) >= HEAD_BYTES and "\n" in text:
        text = text[: text.rindex("\n") + 1]
    return text


def note_encoding(report: LoadReport, encoding: str) -> None:
    """Say in the report when the text was not UTF-8 (the usual encoding)."""
    if encoding == "cp1251":
        report.add(None, None, "file is not UTF-8: read as Windows-1251 (Cyrillic)", "warning")


# --- head: delimiter and header ------------------------------------------------------------


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


def header_of(head: bytes) -> set[str]:
    """Lower-case column names of a CSV's first line (for recognising a format by its header)."""
    lines = head_text(head, detect_encoding(Path(), head)).lstrip("\ufeff").splitlines()
    if not lines:
        return set()
    return {c.strip().lower() for c in next(csv.reader([lines[0]]), [])}


# --- the whole file ------------------------------------------------------------------------


def ends_with_line_break(path: Path) -> bool:
    """Whether the file's last byte is a line break (a file cut short usually is not)."""
    with open(path, "rb") as f:
        f.seek(-1, io.SEEK_END)
        return f.read(1) in (b"\n", b"\r")


def fast_path_safe(path: Path, *, quoted: bool) -> bool:
    """Whether a bulk reader may read this (ASCII-compatible) file as it is: it holds no NUL byte
    and, when it uses quotes, an even number of them (an odd count means a quoted value is left
    open, e.g. a file cut short). Otherwise :func:`read_records` reads it and names the rows.

    The file is looked at through a window of 64 MB at a time, so memory stays bounded.
    """
    window = 64 << 20  # a multiple of mmap.ALLOCATIONGRANULARITY
    quotes = 0
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        for offset in range(0, size, window):
            with mmap.mmap(f.fileno(), min(window, size - offset), offset=offset, access=mmap.ACCESS_READ) as data:
                if data.find(b"\x00") >= 0:
                    return False
                if quoted:
                    view = np.frombuffer(data, np.uint8)
                    quotes += int(np.count_nonzero(view == 34))
                    del view  # the map cannot close while an array looks at it
    return quotes % 2 == 0


_START, _FIELD, _QUOTED, _QUOTE = range(4)  # splitter states: field start, unquoted, quoted, quote seen


def _split_records(chunks: Iterator[str], delimiter: str, limit: int) -> Iterator[tuple[str, str]]:
    """Records of decoded text (line breaks as ``\\n``), each as ``(text, status)``.

    ``status`` is "ok"; "long" when the record runs past ``limit`` characters (``text`` is then
    its first ``limit`` characters: the rest is skipped, never kept); "open-quote" or "no-newline"
    for a last record the file ends inside a quoted value or without a line break. Quotes count
    as the csv module counts them: only at the start of a field, doubled inside a quoted value.
    """
    parts: list[str] = []
    size = 0
    long = False
    state = _START

    def take(piece: str) -> None:
        nonlocal size, long, parts
        size += len(piece)
        if long:
            return
        parts.append(piece)
        if size > limit:
            parts = ["".join(parts)[:limit]]
            long = True

    for chunk in chunks:
        n = len(chunk)
        i = 0
        q = -1  # the next quote at or after i, n when there is none (-1: not looked for yet)
        while i < n:
            if q < i:
                q = chunk.find('"', i)
                q = n if q < 0 else q
            if state == _QUOTED:
                if q >= n:
                    take(chunk[i:])
                    break
                take(chunk[i:q + 1])
                i, state = q + 1, _QUOTE
                continue
            if state != _FIELD and chunk[i] == '"':  # a quote opens a field, or doubles one inside it
                take('"')
                i, state = i + 1, _QUOTED
                continue
            state = _FIELD
            k = chunk.find("\n", i)
            end = n if k < 0 else k
            while q < end and not (q > i and chunk[q - 1] == delimiter):  # inside unquoted text: literal
                q = chunk.find('"', q + 1)
                q = n if q < 0 else q
            if q < end:  # a quoted field starts before the line ends
                take(chunk[i:q + 1])
                i, state = q + 1, _QUOTED
                continue
            take(chunk[i:end])
            if k < 0:
                if chunk.endswith(delimiter):
                    state = _START  # the next block begins a field
                break
            yield "".join(parts), "long" if long else "ok"
            parts, size, long, state = [], 0, False, _START
            i = k + 1
    if size:
        yield "".join(parts), "long" if long else ("open-quote" if state == _QUOTED else "no-newline")


#: Warnings for a last row the file may have been cut inside (by how the file ends).
CUT_SHORT = {
    "open-quote": "the file ends inside a quoted value: this row is cut short (its last value is incomplete)",
    "no-newline": "the file ends without a line break after this row: it may be cut short (check its last value)",
}


def read_records(path: Path, head: TextHead, report: LoadReport, *,
                 given: bool = False) -> tuple[list[list[str]], list[int], list[int]]:
    """Every record after the header, within the limits (see the module docstring).

    Returns the records (each as long as the header), their row numbers (header = row 1, blank
    lines skipped but counted) and the rows rejected, each reported as an error naming row and
    column: a wrong number of fields, a cell or row over the limit, a NUL byte. ``given``: the
    encoding was named by the user.
    """
    header, delimiter = head.header, head.delimiter
    width = len(header)
    flagged: dict[int, tuple[str, str]] = {}  # record number -> (status, text) of records needing a look
    number = 0

    def lines() -> Iterator[str]:
        nonlocal number
        for text, status in _split_records(decode_text(path, head.encoding, given=given), delimiter, MAX_ROW_CHARS):
            number += 1
            if status != "ok" or "\x00" in text or len(text) > MAX_CELL_CHARS:
                flagged[number] = (status, text)
            yield "" if status == "long" else text

    def column(index: int) -> str:
        return header[index] if 0 <= index < width else f"column_{index + 1}"

    records: list[list[str]] = []
    rows: list[int] = []
    rejected: list[int] = []

    def reject(row: int, col: str | None, message: str) -> None:
        rejected.append(row)
        report.add(row, col, message)

    reader = csv.reader(lines(), delimiter=delimiter)
    # the csv module's own limit (131,072 characters a field) would stop the whole file: the limits
    # here are checked per row instead, on records already cut to MAX_ROW_CHARS
    limit = csv.field_size_limit(MAX_ROW_CHARS + 1)
    try:
        next(reader, None)  # the header, already read from the head
        for record in reader:
            row = number
            status, text = flagged.pop(row, ("ok", ""))
            if status == "long":
                start = next(csv.reader([text], delimiter=delimiter), [""])
                reject(row, column(len(start) - 1), f"the row is longer than {MAX_ROW_CHARS:,} characters (this "
                       f"value runs past the limit of {MAX_CELL_CHARS:,} for one cell): row not loaded")
                continue
            if not any(field.strip() for field in record):
                continue
            if status in CUT_SHORT:
                report.add(row, None, CUT_SHORT[status], "warning")
            if text and "\x00" in text:
                at = next(i for i, field in enumerate(record) if "\x00" in field)
                reject(row, column(at), "the value holds a NUL byte (binary data, not text): row not loaded")
                continue
            if len(record) > width and not any(x.strip() for x in record[width:]):
                record = record[:width]  # trailing delimiters only
            if len(record) != width:
                reject(row, None, f"expected {width} fields, found {len(record)}")
                continue
            if text and len(text) > MAX_CELL_CHARS:
                at = next((i for i, field in enumerate(record) if len(field) > MAX_CELL_CHARS), None)
                if at is not None:
                    reject(row, column(at), f"the value is {len(record[at]):,} characters long, over the limit of "
                           f"{MAX_CELL_CHARS:,} for one cell: row not loaded")
                    continue
            records.append(record)
            rows.append(row)
    except csv.Error as exc:  # not expected from whole records; said on one line all the same
        raise DataError(f"{path}: the text cannot be split into records (row {number}: {exc})") from None
    finally:
        csv.field_size_limit(limit)
    return records, rows, rejected


def read_text_table(path: str | Path, report: LoadReport, *,
                    encoding: str | None = None) -> tuple[pd.DataFrame, set[int]]:
    """A text table as text cells ('' when empty) indexed by row number (header = row 1).

    Blank lines are dropped, not renumbered. Rows rejected while reading (reported) are in the
    table with empty cells, and their numbers in the returned set, so a reader can account for
    every row it read. The delimiter is sniffed; UTF-8 is tried first, then Windows-1251, unless
    ``encoding`` is given.
    """
    p = check_file(path)
    first = read_head(p)
    head = decode_head(p, first, encoding=encoding)
    if encoding is None and head.encoding == "utf-8":  # the head may be UTF-8 and a later line not
        head = TextHead(detect_encoding(p, first, whole=True), head.text, head.delimiter, head.header)
    note_encoding(report, head.encoding)
    records, rows, rejected = read_records(p, head, report, given=encoding is not None)
    table = pd.DataFrame(records, columns=head.header, dtype="str") if records else pd.DataFrame(
        {h: pd.Series(dtype="str") for h in head.header})
    table.index = pd.Index(rows, name="row", dtype="int64")
    if rejected:
        table = table.reindex(sorted(rows + rejected), fill_value="")
    return table, set(rejected)


__all__ = [
    "CUT_SHORT", "DELIMITERS", "MAX_CELL_CHARS", "MAX_ROW_CHARS", "TextHead", "cell_text", "decode_head",
    "decode_text", "detect_encoding", "ends_with_line_break", "fast_path_safe", "head_text", "header_of",
    "looks_binary", "note_encoding", "parse_header", "read_records", "read_text_table", "sniff_delimiter",
]
