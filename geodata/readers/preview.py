"""The first rows of a file as text, and which header probably holds each canonical column.

Used to let a person map a partner's own column names before reading. Detection
(format, encoding, delimiter, header row, usual header names) is the readers' own,
so the preview shows the file exactly as :func:`geodata.read_incidents` will read it.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geodata.errors import DataError
from geodata.readers import detect_format
from geodata.readers.columns import NAMES, MissingColumnsError, header_key, map_headers
from geodata.readers.files import check_file, read_head
from geodata.readers.textfile import decode_head, looks_binary
from geodata.readers.excel import read_sheet

#: The columns a person may map, in the order a mapping form shows them.
MAPPABLE: tuple[str, ...] = (
    "event_id", "occurred_at", "time", "latitude", "longitude", "coordinates", "location", "admin1", "geo_precision",
    "munition", "outcome", "killed", "injured", "source", "source_url", "notes",
)
VECTOR_FORMATS = ("geojson", "gpkg", "shapefile")

@dataclass
class Preview:
    """The head of a file as the readers see it.

    ``headers`` are the file's column names (made unique, as the readers do); ``rows`` the
    first records as text, each as long as ``headers``; ``row_numbers`` their row numbers in
    the file (as in load reports); ``suggested`` maps a canonical column name (see
    :data:`MAPPABLE`) to the header that probably holds it. ``encoding`` and ``delimiter``
    are None for files that are not delimited text. ``has_geometry``: the file carries its
    own point geometry, so no latitude/longitude columns are needed.
    """

    headers: list[str]
    rows: list[list[str]]
    encoding: str | None
    delimiter: str | None
    suggested: dict[str, str]
    format: str = "csv"
    has_geometry: bool = False
    row_numbers: list[int] = field(default_factory=list)


def preview_table(path: str | Path, *, encoding: str | None = None, delimiter: str | None = None,
                  nrows: int = 20) -> Preview:
    """The first ``nrows`` records of ``path`` with suggested column names.

    ``encoding``/``delimiter`` override detection for delimited text. Raises DataError when
    the file cannot be read.
    """
    p = check_file(path)
    fmt = detect_format(p)
    if fmt == "xlsx":
        return _preview_excel(p, nrows)
    if fmt in VECTOR_FORMATS:
        return _preview_vector(p, fmt, nrows)
    head = read_head(p)
    if looks_binary(head):
        raise DataError(f"{p}: {fmt} files have a fixed layout and need no column mapping")
    return _preview_text(p, head, fmt, encoding, delimiter, nrows)


def suggest_columns(headers: list[str], *, coordinates: bool = True) -> dict[str, str]:
    """``{canonical: header}``: the readers' own choice first, then word stems for the rest."""
    auto = map_headers(headers, path="", coordinates=coordinates)
    suggested = {target: header for header, target in auto.items() if target in MAPPABLE}
    taken = set(suggested.values())
    for header in headers:
        if header in taken:
            continue
        words = [w for w in re.split(r"[^\w№]+", header_key(header).replace("_", " ")) if w]
        for target, names in NAMES.items():
            stems = names.stems
            if not stems or target in suggested or (not coordinates and target in ("latitude", "longitude")):
                continue
            if any(w.startswith(stem) for w in words for stem in stems):
                suggested[target] = header
                taken.add(header)
                break
    if "time" in suggested and "occurred_at" not in suggested:
        suggested["occurred_at"] = suggested.pop("time")  # a lone time column holds date and time
    return {t: suggested[t] for t in MAPPABLE if t in suggested}


def needs_mapping(error: BaseException | None) -> bool:
    """True when a read failed because the coordinate or date columns were not found
    (a :class:`~geodata.readers.columns.MissingColumnsError`): a column mapping form can fix it."""
    return isinstance(error, MissingColumnsError)


def _preview_text(p: Path, head: bytes, fmt: str, encoding: str | None, delimiter: str | None,
                  nrows: int) -> Preview:
    text_head = decode_head(p, head, encoding=encoding, delimiter=delimiter)
    enc, text, delim, headers = text_head.encoding, text_head.text, text_head.delimiter, text_head.header
    rows: list[list[str]] = []
    numbers: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    # numbered as the readers number records: the header is row 1, blank lines are not records
    try:
        next(reader, None)
        for number, record in enumerate(reader, start=2):
            if len(rows) >= nrows:
                break
            if not any(f.strip() for f in record):
                continue
            rows.append(_fit(record, len(headers)))
            numbers.append(number)
    except csv.Error:
        pass  # text the reader cannot split (it names the row when reading): show the records before it
    return Preview(headers, rows, enc, delim, suggest_columns(headers), fmt, False, numbers)


def _preview_excel(p: Path, nrows: int) -> Preview:
    headers, records, numbers = read_sheet(p, max_rows=nrows)
    rows = [_fit([_text(v) for v in r], len(headers)) for r in records]
    return Preview(headers, rows, None, None, suggest_columns(headers), "xlsx", False, numbers)


def _preview_vector(p: Path, fmt: str, nrows: int) -> Preview:
    import pyogrio  # GDAL: loaded when a vector file is previewed, not with the package

    source = f"/vsizip/{p}" if fmt == "shapefile" and zipfile.is_zipfile(p) else str(p)
    try:
        table = pyogrio.read_dataframe(source, max_features=nrows, read_geometry=False, datetime_as_string=True)
    except Exception as exc:  # GDAL errors have many types; all mean "cannot read this file"
        raise DataError(f"{p}: cannot be read as {fmt}: {str(exc).splitlines()[0] if str(exc) else exc}") from exc
    headers = [str(c) for c in table.columns if c != "geometry"]
    rows = [[_text(v) for v in r] for r in table[headers].itertuples(index=False)]
    return Preview(headers, rows, None, None, suggest_columns(headers, coordinates=False), fmt, True,
                   list(range(1, len(rows) + 1)))


def _text(value: object) -> str:
    return "" if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)) else str(value)


def _fit(record: list[str], width: int) -> list[str]:
    """A record cut or padded to the header's width (the reader reports such rows; this only shows them)."""
    return (list(record) + [""] * width)[:width]


__all__ = ["MAPPABLE", "Preview", "needs_mapping", "preview_table", "suggest_columns"]
