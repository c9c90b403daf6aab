"""Saved views: a small JSON file with data paths, filters, basemap, centre and zoom.

Data paths are stored relative to the view file when they can be (so a folder
of data and views can be moved or shared) and resolved against the view file
when read; the absolute paths as saved are kept too, for a view file moved or
copied on its own. This module imports no Qt: the batch CLI reads views too.

Example::

    {"mapviewer_view": 1,
     "data": ["incidents.gpkg"],
     "filter": {"start": "2025-06-01", "end": "2025-06-30", "munitions": ["KN-23"],
                "outcomes": null, "munition_classes": null, "admin1": null, "text": null,
                "bbox": null, "min_casualties": null, "tz": "Europe/Kyiv",
                "tags": [["tag_type_of_area_affected", "Residential"]]},
     "basemap": "offline", "center": [50.45, 30.52], "zoom": 9,
     "title": "Kyiv, night of 29 September", "page": "slide-16:9",
     "match_decisions": "strike-matches.json",
     "sources": [{"size": 48213, "modified": "2025-10-01T14:03:00+00:00", "sha256": "9f2c..."}],
     "rows": {"method": "rows-1", "count": 120, "digest": "4be1...", "pairs": "..."}}

Every field is checked when read: a wrong type or a value out of range is a
:class:`~geodata.errors.DataError` naming the view file and the field. A view
file is read only when it is a regular file of at most :data:`VIEW_MAX_BYTES`
(a named pipe, a device or a folder is refused with a message, never waited on).

A view saved by the app records what it was made from (:mod:`geodata.fingerprint`):
each data file's size, time and SHA-256 (``sources``) and a hash of the rows it
showed (``rows``; per-row hashes up to 50,000 rows). :func:`view_changes` compares
them with the data now: the app asks before showing a view whose rows changed
(:func:`ask_open_anyway`), ``mapviewer export --view`` warns (or fails with
``--strict``). Views without these fields (older ones, hand-written ones) are
not checked.

``match_decisions`` names the analyst's decisions on matched reports (confirm, split, join;
:mod:`mapviewer.matching`), relative to the view file like the data: applied again when the
view is opened.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import json
import math
import os
import stat
import sys
import weakref
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from geodata.db.connect import display_uri
from geodata.errors import DataError
from geodata.filters import FilterState
from geodata.fingerprint import (
    RowChanges,
    RowsFingerprint,
    SourceFingerprint,
    compare_rows,
    rows_fingerprint,
    rows_fingerprint_from_dict,
    source_change,
    source_fingerprint,
    sources_from_list,
)
from geodata.uri import is_uri
from geodata.writers import atomic_path
from mapviewer.map.basemapfiles import BasemapRef, archive_ref, refs_from_json, refs_to_json

if TYPE_CHECKING:
    from mapviewer.state import AppState

VIEW_VERSION = 1
#: Largest view file read: a view is a few KB, about 600 KB with the hashes of 50,000 rows.
VIEW_MAX_BYTES = 10 * 1024 * 1024
_SET_FIELDS = ("munitions", "outcomes", "munition_classes", "admin1")
#: The map's zoom levels (mapviewer.map.page.MAX_ZOOM is 18; a little room for other tile servers).
MAX_ZOOM = 24


@dataclass(frozen=True)
class ViewSpec:
    """What a saved view holds. ``data`` are absolute paths once loaded; ``center`` is (lat, lon).

    ``title`` is the figure title and ``page`` the figure's page preset (names
    of ``mapviewer.export.figure.PAGES``), None when the view does not say.
    ``sources`` (one per data file, or none) and ``rows`` are the fingerprints
    of the data when the view was saved; ``notes`` are messages from reading
    the file (a title cut to length) and ``path`` the view file read; neither is saved.
    """

    data: tuple[str, ...] = ()
    filter: FilterState = field(default_factory=FilterState)
    basemap: str = "offline"
    center: tuple[float, float] | None = None
    zoom: float | None = None
    title: str | None = None
    page: str | None = None
    sources: tuple[SourceFingerprint, ...] = ()
    rows: RowsFingerprint | None = None
    #: Tile archives drawn under the events (path and fingerprint); None: the view does not say.
    basemaps: tuple[BasemapRef, ...] | None = None
    #: The analyst's decisions on matched reports (a JSON file, see mapviewer.matching); None: the default.
    decisions: str | None = None
    notes: tuple[str, ...] = field(default=(), compare=False)
    path: str | None = field(default=None, compare=False)


def _date_text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def _date_value(value, where: str):
    if value is None:
        return None
    if not isinstance(value, str):
        raise DataError(f"{where}: a date must be text like 2025-06-30, not {value!r}")
    try:
        if len(value.strip()) <= 10:
            return dt.date.fromisoformat(value.strip())
        return dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise DataError(f"{where}: not a date: {value!r} (use 2025-06-30 or 2025-06-30T22:00)") from None


def filter_to_dict(state: FilterState) -> dict[str, Any]:
    """A FilterState as plain JSON values (sets become sorted lists, dates ISO text)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(state):
        value = getattr(state, f.name)
        if f.name in ("start", "end"):
            value = _date_text(value)
        elif f.name in _SET_FIELDS and value is not None:
            value = sorted(value)
        elif f.name == "bbox" and value is not None:
            value = list(value)
        elif f.name == "tags" and value is not None:
            value = [list(pair) for pair in sorted(value)]
        out[f.name] = value
    return out


def filter_from_dict(values: dict[str, Any], where: str = "view") -> FilterState:
    """The inverse of :func:`filter_to_dict`; unknown keys are a :class:`DataError`."""
    if not isinstance(values, dict):
        raise DataError(f"{where}: 'filter' must be an object")
    known = {f.name for f in dataclasses.fields(FilterState)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise DataError(f"{where}: unknown filter field(s): {', '.join(unknown)}")
    kwargs: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        at = f"{where} [filter.{name}]"
        if name in ("start", "end"):
            kwargs[name] = _date_value(value, at)
        elif name in _SET_FIELDS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise DataError(f"{at}: must be a list of names")
            kwargs[name] = frozenset(value)
        elif name == "bbox":
            if not (isinstance(value, list) and len(value) == 4 and all(_is_number(v) for v in value)):
                raise DataError(f"{at}: must be [west, south, east, north] in degrees, not {_shown(value)}")
            west, south, east, north = (float(v) for v in value)
            if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
                raise DataError(f"{at}: [{west}, {south}, {east}, {north}] is not an area: need "
                                "-180 <= west < east <= 180 and -90 <= south < north <= 90")
            kwargs[name] = (west, south, east, north)
        elif name == "min_casualties":
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
                raise DataError(f"{at}: must be a whole number of 0 or more, not {_shown(value)}")
            kwargs[name] = value
        elif name == "tz":
            kwargs[name] = _time_zone(value, at)
        elif name == "tags":
            if not (isinstance(value, list) and all(
                    isinstance(p, list) and len(p) == 2 and all(isinstance(v, str) for v in p) for p in value)):
                raise DataError(f'{at}: must be a list of [column, value] pairs like '
                                f'["tag_type_of_area_affected", "Residential"]')
            kwargs[name] = frozenset((c, v) for c, v in value)
        else:  # text
            if not isinstance(value, str):
                raise DataError(f"{at}: must be text, not {_shown(value)}")
            kwargs[name] = value
    return FilterState(**kwargs)


def _is_number(value: Any) -> bool:
    """A finite JSON number (true/false are not numbers here, though Python says so)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _shown(value: Any) -> str:
    """A value as JSON text, cut short: for messages."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:39] + "…"


def _time_zone(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DataError(f"{where}: must be a time zone name like Europe/Kyiv, not {_shown(value)}")
    try:
        zoneinfo.ZoneInfo(value.strip())
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a folder: OSError
        raise DataError(f"{where}: unknown time zone {_shown(value)} (use a name like Europe/Kyiv or UTC)") from None
    return value.strip()


def _optional_text(document: dict, key: str, where: str) -> str | None:
    value = document.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise DataError(f"{where} [{key}]: must be text, not {_shown(value)}")
    return value


def _page(document: dict, where: str) -> str | None:
    page = _optional_text(document, "page", where)
    if page is None:
        return None
    from mapviewer.export.figure import PAGES, page_size  # lazily: matplotlib loads only for a view that names a page

    try:
        page_size(page)  # names and the short forms the export CLI takes ("A4", "16:9")
    except DataError:
        raise DataError(f"{where} [page]: unknown page {_shown(page)}; use one of {', '.join(PAGES)}") from None
    return next((name for name in PAGES if name.lower() == page.lower()), page)


def _relative(path: str, folder: Path) -> str:
    """``path`` relative to ``folder`` when possible (same drive), with forward slashes."""
    absolute = os.path.abspath(path)
    try:
        return Path(os.path.relpath(absolute, folder)).as_posix()
    except ValueError:  # another drive on Windows: only an absolute path works
        return absolute


def save_view(path: str | os.PathLike, spec: ViewSpec) -> Path:
    """Write ``spec`` as JSON at ``path`` (atomically), data paths relative to it."""
    target = Path(path)
    folder = Path(os.path.abspath(target)).parent
    document = {
        "mapviewer_view": VIEW_VERSION,
        # a database by its address, never with a password
        "data": [display_uri(p) if is_uri(p) else _relative(p, folder) for p in spec.data],
        # Where the files were when saved: found again when the view file alone is moved or copied.
        "data_absolute": [display_uri(p) if is_uri(p) else os.path.abspath(p) for p in spec.data],
        "filter": filter_to_dict(spec.filter),
        "basemap": spec.basemap,
        "center": list(spec.center) if spec.center is not None else None,
        "zoom": spec.zoom,
    }
    if spec.title is not None:
        document["title"] = spec.title
    if spec.page is not None:
        document["page"] = spec.page
    if spec.sources and len(spec.sources) == len(spec.data):
        document["sources"] = [s.to_dict() for s in spec.sources]
    # a database's rows change as colleagues import (and the app holds only those of its view): not fingerprinted
    if spec.rows is not None and not any(is_uri(p) for p in spec.data):
        document["rows"] = spec.rows.to_dict()
    if spec.basemaps is not None:
        document["basemaps"] = refs_to_json(spec.basemaps, folder)
    if spec.decisions is not None:
        document["match_decisions"] = _relative(spec.decisions, folder)
    with atomic_path(target) as tmp:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(document, handle, ensure_ascii=False, indent=2)
            handle.write("\n")
    return target


def _what_it_is(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def not_a_file(path: str | os.PathLike) -> str | None:
    """Why ``path`` cannot be read as a file, in words ("not found", "a named pipe (FIFO)", ...), or None.

    Never opens the path: safe on a FIFO or a device.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "the link points to nothing" if os.path.islink(path) else "not found"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symbolic link that loops back on itself"
        return f"cannot be read ({exc.strerror or exc})"
    return None if stat.S_ISREG(mode) else _what_it_is(mode)


def read_view_text(path: str | os.PathLike) -> str:
    """The text of a view file, read only if it is a regular file of at most :data:`VIEW_MAX_BYTES`.

    The file is opened without blocking and checked on the open handle, so a
    named pipe (or a file swapped for one) is refused, never waited on.
    """
    where = str(path)
    problem = not_a_file(path)
    if problem == "not found":
        raise DataError(f"{where}: saved view not found")
    if problem is not None:
        raise DataError(f"{where}: not a saved view: {problem}, not a file")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise DataError(f"{where}: cannot read the saved view: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        mode, size = os.fstat(fd).st_mode, os.fstat(fd).st_size
        if not stat.S_ISREG(mode):
            raise DataError(f"{where}: not a saved view: {_what_it_is(mode)}, not a file")
        too_big = DataError(f"{where}: not a saved view: {size / 1e6:,.1f} MB is more than a view holds "
                            f"(at most {VIEW_MAX_BYTES // (1024 * 1024)} MB)")
        if size > VIEW_MAX_BYTES:
            raise too_big
        try:
            data = handle.read(VIEW_MAX_BYTES + 1)
        except OSError as exc:
            raise DataError(f"{where}: cannot read the saved view: {exc.strerror or exc}") from None
    if len(data) > VIEW_MAX_BYTES:  # it grew while read
        raise too_big
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{where}: not a saved view (not UTF-8 text: {exc.reason} at byte {exc.start})") from None


def load_view(path: str | os.PathLike, *, check_files: bool = True) -> ViewSpec:
    """Read a saved view; relative data paths resolve against the view file's folder.

    Raises :class:`DataError` for a file that is not a view, and (with
    ``check_files``) for a data file that is missing, naming both files.
    A title longer than the figure takes is cut, with a message in ``notes``.
    """
    where = str(path)
    text = read_view_text(path)
    try:
        document = json.loads(text)
    except RecursionError:
        raise DataError(f"{where}: not a saved view (its JSON is nested too deeply)") from None
    except ValueError as exc:  # JSONDecodeError, or a number too long to read
        raise DataError(f"{where}: not a saved view (not valid JSON: {exc})") from None
    if not isinstance(document, dict) or "mapviewer_view" not in document:
        raise DataError(f"{where}: not a saved view (no 'mapviewer_view' key)")
    if document["mapviewer_view"] != VIEW_VERSION:
        raise DataError(f"{where}: saved view version {_shown(document['mapviewer_view'])} is not supported "
                        f"(this version reads {VIEW_VERSION})")
    folder = Path(os.path.abspath(path)).parent
    data = document.get("data") or []
    if not isinstance(data, list) or not all(isinstance(p, str) for p in data):
        raise DataError(f"{where} [data]: must be a list of file paths")
    saved_at = document.get("data_absolute")
    if not (isinstance(saved_at, list) and len(saved_at) == len(data) and all(isinstance(p, str) for p in saved_at)):
        saved_at = [None] * len(data)
    resolved = []
    for listed, fallback in zip(data, saved_at):
        if is_uri(listed):  # a database: nothing to resolve or check here
            resolved.append(listed)
            continue
        absolute = os.path.normpath(folder / Path(listed).expanduser())
        if not os.path.isfile(absolute) and fallback and os.path.isfile(fallback):
            absolute = os.path.normpath(fallback)
        problem = not_a_file(absolute) if check_files else None
        if problem == "not found":
            raise DataError(f"{where}: data file not found: {absolute} (listed as {listed!r})")
        if problem is not None:
            raise DataError(f"{where}: data file {absolute} (listed as {listed!r}) is {problem}, not a file")
        resolved.append(absolute)
    center = document.get("center")
    if center is not None:
        if not (isinstance(center, list) and len(center) == 2 and all(_is_number(v) for v in center)):
            raise DataError(f"{where} [center]: must be [latitude, longitude], not {_shown(center)}")
        center = (float(center[0]), float(center[1]))
        if not (-90 <= center[0] <= 90 and -180 <= center[1] <= 180):
            raise DataError(f"{where} [center]: [{center[0]}, {center[1]}] is not a place: the latitude must be "
                            "between -90 and 90 and the longitude between -180 and 180")
    zoom = document.get("zoom")
    if zoom is not None and not (_is_number(zoom) and 0 <= zoom <= MAX_ZOOM):
        raise DataError(f"{where} [zoom]: must be a number from 0 to {MAX_ZOOM}, not {_shown(zoom)}")
    basemap = document.get("basemap")
    if basemap is not None and not isinstance(basemap, str):
        raise DataError(f"{where} [basemap]: must be text, not {_shown(basemap)}")
    notes = []
    title = _optional_text(document, "title", where)
    if title is not None:
        from mapviewer.export.figure import cap_title

        title, cut = cap_title(title)
        if cut:
            notes.append(f"{where} [title]: {cut}")
    sources = ()
    if document.get("sources") is not None:
        sources = sources_from_list(document["sources"], len(data), f"{where} [sources]")
    rows = None
    if document.get("rows") is not None:
        rows = rows_fingerprint_from_dict(document["rows"], f"{where} [rows]")
    decisions = _optional_text(document, "match_decisions", where)
    if decisions is not None:  # read when the data are matched; a file not there yet means no decisions yet
        decisions = os.path.normpath(folder / Path(decisions).expanduser())
    return ViewSpec(
        data=tuple(resolved),
        filter=filter_from_dict(document.get("filter") or {}, where),
        basemap=basemap or "offline",
        center=center,
        zoom=float(zoom) if zoom is not None else None,
        title=title,
        page=_page(document, where),
        sources=sources,
        rows=rows,
        basemaps=refs_from_json(document["basemaps"], f"{where} [basemaps]", folder)
        if document.get("basemaps") is not None else None,
        notes=tuple(notes),
        path=where,
        decisions=decisions,
    )


def view_from_state(state: AppState) -> ViewSpec:
    """The current view of the app: open files, filter, basemap, map centre and zoom, figure title and page,
    with the fingerprints of the files and of the rows shown (see :func:`view_changes`)."""
    lat_lon_zoom = state.view
    data = tuple(d.path for d in state.all_datasets)
    return ViewSpec(
        data=data,
        filter=state.filter,
        basemap=state.basemap,
        center=(lat_lon_zoom[0], lat_lon_zoom[1]) if lat_lon_zoom else None,
        zoom=lat_lon_zoom[2] if lat_lon_zoom else None,
        title=getattr(state, "figure_title", None) or None,
        page=getattr(state, "figure_page", None) or None,
        sources=tuple(_fingerprint_or_none(p) for p in data),
        rows=rows_fingerprint(state.visible_reports),  # the reports, whether or not each strike is counted once
        basemaps=tuple(archive_ref(a) for a in getattr(state, "basemap_files", ())),
        decisions=_decisions_file(state),
    )


def _decisions_file(state: AppState) -> str | None:
    """The match decisions file the view refers to: the one chosen, else the default one when it exists."""
    from geodata.strikes import decisions_path_for

    if state.decisions_path:
        return state.decisions_path
    path = decisions_path_for(d.path for d in state.datasets)
    return path if path is not None and os.path.isfile(path) else None


def _fingerprint_or_none(path: str) -> SourceFingerprint:
    """The file's fingerprint; an empty one when it cannot be read now (moved since it was opened)."""
    try:
        return source_fingerprint(path)
    except DataError:
        return SourceFingerprint()


# -- noticing change ------------------------------------------------------------

@dataclass(frozen=True)
class ViewChanges:
    """What differs from when a view was saved.

    ``files``: one phrase per data file whose bytes changed ("night.csv changed: ...");
    ``rows``: how the rows the view shows differ (None when the view has no rows
    fingerprint or no rows were given to compare).
    """

    files: tuple[str, ...] = ()
    rows: RowChanges | None = None

    @property
    def rows_changed(self) -> bool:
        return self.rows is not None and not self.rows.same

    def __bool__(self) -> bool:
        return bool(self.files) or self.rows_changed

    def parts(self) -> list[str]:
        """The differences, one phrase each: the files, then the rows shown."""
        return list(self.files) + ([f"rows shown: {self.rows.words()}"] if self.rows is not None else [])

    def words(self, view: str | os.PathLike) -> str:
        """One line: "brief.json: the data changed since the view was saved: night.csv changed: ...; rows ..."."""
        return f"{view}: the data changed since the view was saved: {'; '.join(self.parts())}"


def view_changes(spec: ViewSpec, frame: pd.DataFrame | None = None) -> ViewChanges:
    """Compare the data now with the fingerprints ``spec`` was saved with.

    ``frame`` holds every row read from the view's data (not yet filtered: the
    view's own filter picks the rows it shows); without it only the files are
    compared. A view saved without fingerprints shows no change.
    """
    files = []
    for path, saved in zip(spec.data, getattr(spec, "sources", ())):
        change = source_change(saved, path)
        if change:
            files.append(f"{os.path.basename(path) if not is_uri(path) else path} {change}")
    rows = None
    if getattr(spec, "rows", None) is not None and frame is not None:
        shown = frame[spec.filter.mask(frame)] if len(frame) else frame
        rows = compare_rows(spec.rows, shown)
    return ViewChanges(tuple(files), rows)


def ask_open_anyway(window, title: str, text: str) -> bool:
    """Ask whether to show a view whose data changed: True for "Open anyway", False for "Cancel".

    Tests replace this function. With no screen to ask on (the offscreen
    platform of a ``--screenshot`` run) the view opens and the text goes to stderr.
    """
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    if _nobody_to_ask():
        print(f"mapviewer: {' '.join(text.split())}", file=sys.stderr)
        return True
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.NoButton, window)
    box.setTextFormat(Qt.TextFormat.PlainText)  # file names are data, never markup
    open_anyway = box.addButton("Open anyway", QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(open_anyway)
    box.setEscapeButton(cancel)
    box.exec()
    return box.clickedButton() is open_anyway


def _nobody_to_ask() -> bool:
    """True on a platform with no screen (offscreen, minimal): a question would wait for ever."""
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.platformName() in ("offscreen", "minimal")


@dataclass(frozen=True)
class _Before:
    """What the window showed before a view was applied: restored when the user cancels."""

    paths: tuple[str, ...]
    filter: FilterState
    basemap: str
    view: tuple[float, float, float] | None
    title: str
    page: str | None


#: Per window, the change check of the view applied last (a newer view drops an older view's check).
_PENDING_CHECKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def apply_view(window, spec: ViewSpec, name: str | None = None) -> None:
    """Show ``spec`` in ``window``: its files replace the open ones; then set filter, basemap, view and title.

    Open files the view does not list are closed (and reads of other files
    still queued are dropped), so the picture is the one saved. Files are read
    in the background by the window's loader; the filter is set now (it applies
    to the rows as they arrive, since the state re-masks on every data change).

    Once the files are read, the data are compared with the view's
    fingerprints (:func:`view_changes`). When the rows the view shows changed,
    :func:`ask_open_anyway` says how; "Cancel" puts back the files, filter,
    basemap, map view and title shown before. A data file that changed without
    changing the rows shown is said in the status bar. ``name`` (default: the
    view file ``spec`` was read from) is used in the messages.
    """
    state = window.state
    before = _Before(tuple(d.path for d in state.all_datasets), state.filter, state.basemap, state.view,
                     getattr(state, "figure_title", ""), getattr(state, "figure_page", None))
    wanted = {os.path.abspath(p) for p in spec.data}
    if window.loader.busy and not set(map(os.path.abspath, window.loader.pending)) <= wanted:
        window.loader.cancel()
    for dataset in list(state.all_datasets):
        if os.path.abspath(dataset.path) not in wanted:
            state.close_dataset(dataset.path)
    opened = {os.path.abspath(d.path) for d in state.all_datasets} | set(map(os.path.abspath, window.loader.pending))
    missing = [p for p in spec.data if os.path.abspath(p) not in opened]
    if missing:
        window.open_files(missing)
    if spec.title is not None:
        state.figure_title = spec.title
    if spec.page is not None:
        state.figure_page = spec.page
    state.set_filter(spec.filter)
    state.set_decisions_path(spec.decisions)  # the view's match decisions (None: the default file)
    state.set_basemap(spec.basemap)
    if spec.basemaps is not None:
        from mapviewer.dialogs.basemaps import show_basemap_refs  # Qt: only with a window

        show_basemap_refs(window, spec.basemaps, "the view was saved")
    if spec.center is not None and spec.zoom is not None:
        state.request_view(spec.center[0], spec.center[1], spec.zoom)
    if spec.notes:
        window.statusBar().showMessage("; ".join(spec.notes), 10000)
    _check_when_read(window, spec, before, name or spec.path or "the saved view")


def _check_when_read(window, spec: ViewSpec, before: _Before, name: str) -> None:
    """Compare the view's data with its fingerprints once the loader has read its files."""
    _PENDING_CHECKS.pop(window, None)
    if not spec.sources and spec.rows is None:
        return
    token = object()
    _PENDING_CHECKS[window] = token
    connected = window.loader.busy

    def check() -> None:
        if window.loader.busy:  # more files queued since: wait for those too
            return
        if connected:
            window.loader.idle.disconnect(check)
        if _PENDING_CHECKS.get(window) is not token:
            return
        del _PENDING_CHECKS[window]
        _on_view_read(window, spec, before, name)

    if connected:
        window.loader.idle.connect(check)
    else:  # all open already: once the caller has said the view is open, not before
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, check)


def _on_view_read(window, spec: ViewSpec, before: _Before, name: str) -> None:
    state = window.state
    frame = state.reports  # every report, whether or not each strike is counted once
    if "dataset" in frame.columns:
        frame = frame[frame["dataset"].isin(list(spec.data)).to_numpy(dtype=bool)]
    try:
        changes = view_changes(spec, frame)
    except DataError as exc:
        window.statusBar().showMessage(str(exc), 10000)
        return
    if not changes:
        return
    base = os.path.basename(name)
    if not changes.rows_changed:
        window.statusBar().showMessage(f"{'; '.join(changes.files)} since {base} was saved; "
                                       "the rows the view shows are the same", 15000)
        return
    text = (f"The data of the view {base} changed since it was saved:\n\n"
            + "\n".join(f"• {part}" for part in changes.parts())
            + "\n\nOpen the view anyway?")
    if ask_open_anyway(window, "Saved view: data changed", text):
        window.statusBar().showMessage(f"Opened {base}; its data changed since it was saved: "
                                       + "; ".join(changes.parts()), 15000)
        return
    _restore(window, spec, before)
    window.statusBar().showMessage(f"Did not open {base}: its data changed since it was saved", 10000)


def _restore(window, spec: ViewSpec, before: _Before) -> None:
    """Put back what ``before`` showed: close the view's own files, reopen the earlier ones."""
    state = window.state
    for dataset in list(state.all_datasets):
        if dataset.path not in before.paths:
            state.close_dataset(dataset.path)
    open_now = {d.path for d in state.all_datasets}
    again = [p for p in before.paths if p not in open_now]
    if again:
        window.open_files(again)
    state.figure_title = before.title
    state.figure_page = before.page
    state.set_filter(before.filter)
    state.set_basemap(before.basemap)
    if before.view is not None:
        state.request_view(*before.view)
