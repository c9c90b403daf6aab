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
     "title": "Kyiv, night of 29 September", "page": "slide-16:9"}

Every field is checked when read: a wrong type or a value out of range is a
:class:`~geodata.errors.DataError` naming the view file and the field.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import os
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geodata.errors import DataError
from geodata.filters import FilterState
from geodata.writers import atomic_path

if TYPE_CHECKING:
    from mapviewer.state import AppState

VIEW_VERSION = 1
_SET_FIELDS = ("munitions", "outcomes", "munition_classes", "admin1")
#: The map's zoom levels (mapviewer.map.page.MAX_ZOOM is 18; a little room for other tile servers).
MAX_ZOOM = 24


@dataclass(frozen=True)
class ViewSpec:
    """What a saved view holds. ``data`` are absolute paths once loaded; ``center`` is (lat, lon).

    ``title`` is the figure title and ``page`` the figure's page preset (names
    of ``mapviewer.export.figure.PAGES``), None when the view does not say.
    """

    data: tuple[str, ...] = ()
    filter: FilterState = field(default_factory=FilterState)
    basemap: str = "offline"
    center: tuple[float, float] | None = None
    zoom: float | None = None
    title: str | None = None
    page: str | None = None


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
        "data": [_relative(p, folder) for p in spec.data],
        # Where the files were when saved: found again when the view file alone is moved or copied.
        "data_absolute": [os.path.abspath(p) for p in spec.data],
        "filter": filter_to_dict(spec.filter),
        "basemap": spec.basemap,
        "center": list(spec.center) if spec.center is not None else None,
        "zoom": spec.zoom,
    }
    if spec.title is not None:
        document["title"] = spec.title
    if spec.page is not None:
        document["page"] = spec.page
    with atomic_path(target) as tmp:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(document, handle, ensure_ascii=False, indent=2)
            handle.write("\n")
    return target


def load_view(path: str | os.PathLike, *, check_files: bool = True) -> ViewSpec:
    """Read a saved view; relative data paths resolve against the view file's folder.

    Raises :class:`DataError` for a file that is not a view, and (with
    ``check_files``) for a data file that is missing, naming both files.
    """
    where = str(path)
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except FileNotFoundError:
        raise DataError(f"{where}: saved view not found") from None
    except OSError as exc:
        raise DataError(f"{where}: cannot read the saved view: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{where}: not a saved view (not valid JSON: {exc})") from None
    if not isinstance(document, dict) or "mapviewer_view" not in document:
        raise DataError(f"{where}: not a saved view (no 'mapviewer_view' key)")
    if document["mapviewer_view"] != VIEW_VERSION:
        raise DataError(f"{where}: saved view version {document['mapviewer_view']!r} is not supported "
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
        absolute = os.path.normpath(folder / Path(listed).expanduser())
        if not os.path.isfile(absolute) and fallback and os.path.isfile(fallback):
            absolute = os.path.normpath(fallback)
        if check_files and not os.path.isfile(absolute):
            raise DataError(f"{where}: data file not found: {absolute} (listed as {listed!r})")
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
    return ViewSpec(
        data=tuple(resolved),
        filter=filter_from_dict(document.get("filter") or {}, where),
        basemap=basemap or "offline",
        center=center,
        zoom=float(zoom) if zoom is not None else None,
        title=_optional_text(document, "title", where),
        page=_page(document, where),
    )


def view_from_state(state: AppState) -> ViewSpec:
    """The current view of the app: open files, filter, basemap, map centre and zoom, figure title and page."""
    lat_lon_zoom = state.view
    return ViewSpec(
        data=tuple(d.path for d in state.all_datasets),
        filter=state.filter,
        basemap=state.basemap,
        center=(lat_lon_zoom[0], lat_lon_zoom[1]) if lat_lon_zoom else None,
        zoom=lat_lon_zoom[2] if lat_lon_zoom else None,
        title=getattr(state, "figure_title", None) or None,
        page=getattr(state, "figure_page", None) or None,
    )


def apply_view(window, spec: ViewSpec) -> None:
    """Show ``spec`` in ``window``: its files replace the open ones; then set filter, basemap, view and title.

    Open files the view does not list are closed (and reads of other files
    still queued are dropped), so the picture is the one saved. Files are read
    in the background by the window's loader; the filter is set now (it applies
    to the rows as they arrive, since the state re-masks on every data change).
    """
    state = window.state
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
    state.set_basemap(spec.basemap)
    if spec.center is not None and spec.zoom is not None:
        state.request_view(spec.center[0], spec.center[1], spec.zoom)
