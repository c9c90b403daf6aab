"""Readers: every supported file shape into one canonical frame.

Each format is registered as ``(name, sniff(path, head) -> bool, read(path, **options) ->
LoadResult)``. :func:`detect_format` asks the specific formats first, in registration
order, and the generic text table (``csv``) last; ``format=`` forces one.
"""
from __future__ import annotations

import importlib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from geodata.errors import DataError
from geodata.memory import release_unused
from geodata.readers.columns import MissingColumnsError
from geodata.readers.files import check_file, read_head
from geodata.readers.textfile import looks_binary
from geodata.report import LoadResult
from geodata.schema import DEFAULT_TZ
from geodata.uri import is_uri

Sniff = Callable[[Path, bytes], bool]
Read = Callable[..., LoadResult]


@dataclass(frozen=True)
class Format:
    """One registered file format."""

    name: str
    sniff: Sniff
    read: Read
    generic: bool = False  # asked last: it accepts almost any text


FORMATS: dict[str, Format] = {}
_HEAD = 1 << 16
# Modules that register formats when imported; ACLED before Excel (an ACLED export may be a
# workbook), the source-specific exports (TimeMap, CIR, Air Force) after the built-in formats.
_MODULES = ("geodata.readers.acled", "geodata.readers.delimited", "geodata.readers.excel", "geodata.readers.vector",
            "geodata.readers.timemap", "geodata.readers.cir", "geodata.readers.airforce")
_loaded = False
# Other names a user may give format=.
_FORMAT_ALIASES = {"tsv": "csv", "txt": "csv", "excel": "xlsx", "shp": "shapefile", "geopackage": "gpkg",
                   "json": "geojson"}


def register(name: str, sniff: Sniff, read: Read, *, generic: bool = False) -> None:
    """Add (or replace) a format in the registry."""
    FORMATS[name] = Format(name, sniff, read, generic)


def _ensure_loaded() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in _MODULES:
        importlib.import_module(module)


def formats() -> list[Format]:
    """Registered formats in detection order: the order of ``_MODULES`` (whatever order the modules
    happened to be imported in), formats registered from elsewhere after them, the generic one last."""
    _ensure_loaded()

    def rank(fmt: Format) -> tuple[bool, int]:
        module = getattr(fmt.read, "__module__", "")
        return fmt.generic, _MODULES.index(module) if module in _MODULES else len(_MODULES)

    return sorted(FORMATS.values(), key=rank)


def detect_format(path: str | Path) -> str:
    """The name of the format of ``path``, judged from its content."""
    p = check_file(path)
    head = read_head(p, _HEAD)
    for fmt in formats():
        if fmt.generic and head.startswith(b"PK\x03\x04"):
            # a zip no specific format claimed: its bytes are not a text table
            raise DataError(f"{p}: {_zip_trouble(p)}: damaged or not an Excel workbook "
                            "(save it again as .xlsx, or as CSV)")
        try:
            if fmt.sniff(p, head):
                return fmt.name
        except DataError:
            raise
        except Exception:  # a sniffer that chokes on foreign content simply does not claim it
            continue
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2: Excel 97-2003
        raise DataError(f"{p}: an old Excel .xls or a password-protected workbook: "
                        "save it as .xlsx without a password (or as CSV)")
    what = "binary content" if looks_binary(head) else "content"
    raise DataError(f"{p}: {what} not in a format this program reads "
                    "(CSV/TSV, Excel .xlsx, GeoJSON, GeoPackage, Shapefile, ACLED)")


def _zip_trouble(p: Path) -> str:
    """What is wrong with a file that starts like a zip archive (as .xlsx files do)."""
    try:
        with zipfile.ZipFile(p) as z:
            names = z.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return "zip content that cannot be opened"
    return "a zip archive holding no workbook" + ("" if names else " (it is empty)")


def read_incidents(
    path: str | Path,
    *,
    format: str | None = None,
    tz: str = DEFAULT_TZ,
    columns: dict[str, str] | None = None,
    encoding: str | None = None,
    all_events: bool = False,
    **options: object,
) -> LoadResult:
    """Read an incident file into a checked canonical frame and its load report.

    ``format`` forces a registered format instead of detecting it; ``tz`` is the working
    time zone for times written without one; ``columns`` maps the file's headers to
    canonical names; ``encoding`` overrides text encoding detection. ``all_events``: a
    source that sets non-strike rows aside (the CIR monitor) loads them too; other
    formats have no such rows. Readers accept
    further options (``delimiter``, ``dayfirst``, ``lat``, ``lon``, ``sheet`` ...).
    Raises DataError when the file cannot be read at all.

    ``path`` may also name a database (``postgresql://user@host:port/dbname``): its events are
    read with :func:`geodata.db.read`, which takes the options ``filter_state``, ``bbox``,
    ``limit`` and ``provenance``.
    """
    if is_uri(path):  # the database package (psycopg) loads only then, in _read_database
        return _read_database(str(path), format=format, tz=tz, columns=columns, encoding=encoding, **options)
    _ensure_loaded()
    try:
        check_file(path)  # a folder, a pipe or a device is said so before any reader opens it
        name = _FORMAT_ALIASES.get(format.lower(), format.lower()) if format else detect_format(path)
        fmt = FORMATS.get(name)
        if fmt is None:
            raise DataError(f"{path}: unknown format {name!r} (known: {', '.join(sorted(FORMATS))})")
        _check_tz(tz, path)
        try:
            if all_events and name == "cir":
                options["all_events"] = True
            result = fmt.read(path, tz=tz, columns=columns, encoding=encoding, **options)
            release_unused()  # the reader's freed buffers: hundreds of MB for a million rows
            return result
        except (OSError, UnicodeError, ValueError) as exc:
            if isinstance(exc, DataError):
                raise
            # last line of defence: a damaged file must not surface as a traceback
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DataError(f"{path}: cannot be read as {name}: {reason}") from exc
    except DataError as exc:
        message = str(exc)
        if "\n" in message or "\r" in message:  # header text quoted in a message may hold line breaks
            # the same exception (kind and attributes, e.g. MissingColumnsError.missing), on one line
            exc.args = (" ".join(message.split()),) + exc.args[1:]
        raise


def _read_database(uri: str, *, format: str | None, tz: str, columns: dict[str, str] | None,
                   encoding: str | None, **options: object) -> LoadResult:
    """A database's events (the stored times are instants: ``tz`` only has to be a zone)."""
    from geodata.db.connect import display_uri  # the database package (psycopg) loads only when used
    from geodata.db.rows import read

    shown = display_uri(uri)
    _check_tz(tz, shown)
    if columns or encoding or (format and format.lower() not in ("postgresql", "postgres")):
        raise DataError(f"{shown}: a database has no file format, column mapping or encoding to choose")
    return read(uri, **options)


def _check_tz(tz: str, path: str | Path) -> None:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise DataError(f"{path}: unknown time zone {tz!r}") from exc


__all__ = ["FORMATS", "Format", "MissingColumnsError", "detect_format", "formats", "read_incidents", "register"]
