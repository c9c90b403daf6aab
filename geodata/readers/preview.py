"""The first rows of a file as text, and which header probably holds each canonical column.

Used to let a person map a partner's own column names before reading. Detection
(format, encoding, delimiter, header row, usual header names) is the readers' own,
so the preview shows the file exactly as :func:`geodata.read_incidents` will read it.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from geodata.errors import DataError
from geodata.readers import detect_format
from geodata.readers.columns import header_key, map_headers
from geodata.readers.common import check_file
from geodata.readers.delimited import (
    detect_encoding,
    head_text,
    looks_binary,
    parse_header,
    read_head,
    sniff_delimiter,
)

#: The columns a person may map, in the order a mapping form shows them.
MAPPABLE: tuple[str, ...] = (
    "event_id", "occurred_at", "time", "latitude", "longitude", "location", "admin1", "geo_precision",
    "munition", "outcome", "killed", "injured", "source", "source_url", "notes",
)
VECTOR_FORMATS = ("geojson", "gpkg", "shapefile")

# Word beginnings that suggest a column when the exact usual names (the readers' own) do not
# match: partner headers are often phrases ("Дата події", "Кількість загиблих", "Широта, °").
# Order matters: the first column whose stem matches a header takes it.
_STEMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("event_id", ("id", "ід", "№", "номер")),
    ("occurred_at", ("дата", "date", "день")),
    ("time", ("час", "время", "time")),
    ("latitude", ("широт", "latitude", "lat")),
    ("longitude", ("довгот", "долгот", "longitude", "lon", "lng")),
    ("source_url", ("url", "посилан", "ссылк", "link", "http")),
    ("location", ("населен", "пункт", "місто", "город", "село", "місце", "место", "адрес", "location",
                  "place", "settlement", "city", "town", "locality")),
    ("admin1", ("област", "oblast", "регіон", "регион", "region", "province")),
    ("geo_precision", ("точніст", "точност", "precision", "accuracy")),
    ("munition", ("боєприпас", "боеприпас", "засіб", "засоб", "зброя", "озброєн", "оружи", "ракет", "дрон",
                  "бпла", "munition", "weapon", "missile")),
    ("outcome", ("результат", "наслід", "последств", "outcome", "result", "status", "статус")),
    ("killed", ("загин", "загибл", "погиб", "вбит", "убит", "killed", "dead", "death", "fatalit")),
    ("injured", ("поранен", "ранен", "постражд", "пострад", "injur", "wound")),
    ("source", ("джерел", "источник", "source")),
    ("notes", ("примітк", "примечан", "коментар", "комментар", "опис", "note", "comment", "descript")),
)


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
        for target, stems in _STEMS:
            if target in suggested or (not coordinates and target in ("latitude", "longitude")):
                continue
            if any(w.startswith(stem) for w in words for stem in stems):
                suggested[target] = header
                taken.add(header)
                break
    if "time" in suggested and "occurred_at" not in suggested:
        suggested["occurred_at"] = suggested.pop("time")  # a lone time column holds date and time
    return {t: suggested[t] for t in MAPPABLE if t in suggested}


def needs_mapping(message: str) -> bool:
    """True when a read failed because the coordinate or date columns were not found.

    Matches the readers' DataError text ("... name them with columns=" / "name it with
    columns="), the case a column mapping form can fix.
    """
    return "with columns=" in message and (" column found" in message)


def _preview_text(p: Path, head: bytes, fmt: str, encoding: str | None, delimiter: str | None,
                  nrows: int) -> Preview:
    enc = encoding or detect_encoding(p, head)
    try:
        text = head_text(head, enc)
    except LookupError as exc:
        raise DataError(f"{p}: unknown encoding {enc!r}") from exc
    if not text.strip():
        raise DataError(f"{p}: no text in the file")
    delim = delimiter or sniff_delimiter(text)
    headers = parse_header(text, delim, p)
    rows: list[list[str]] = []
    numbers: list[int] = []
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    next(reader, None)
    # numbered as the readers number records: the header is row 1, blank lines are not records
    for number, record in enumerate(reader, start=2):
        if len(rows) >= nrows:
            break
        if not any(f.strip() for f in record):
            continue
        rows.append(_fit(record, len(headers)))
        numbers.append(number)
    return Preview(headers, rows, enc, delim, suggest_columns(headers), fmt, False, numbers)


def _preview_excel(p: Path, nrows: int) -> Preview:
    from geodata.readers.excel import read_sheet

    headers, records, numbers = read_sheet(p)
    rows = [_fit([_text(v) for v in r], len(headers)) for r in records[:nrows]]
    return Preview(headers, rows, None, None, suggest_columns(headers), "xlsx", False, numbers[:nrows])


def _preview_vector(p: Path, fmt: str, nrows: int) -> Preview:
    import zipfile

    import pyogrio

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
    import pandas as pd

    return "" if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)) else str(value)


def _fit(record: list[str], width: int) -> list[str]:
    """A record cut or padded to the header's width (the reader reports such rows; this only shows them)."""
    return (list(record) + [""] * width)[:width]


__all__ = ["MAPPABLE", "Preview", "needs_mapping", "preview_table", "suggest_columns"]
