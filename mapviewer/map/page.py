"""The map page: a folium/Leaflet page that works with no network (Qt-free).

Every script and style sheet the page loads comes from an installed package
(Leaflet from ``django-js-lib-leaflet``, leaflet-heat from the folium wheel,
markercluster from ``xstatic-leaflet-markercluster``) or from the project's own
``resources/web`` files. Asset lists are rewritten on each element instance
(never on folium's shared class lists), and an asset with no local file is an
error, so a page that would be white offline is never produced.

The incident layer itself is drawn by ``resources/web/viewer.js`` from compact
arrays (:func:`encode_incidents`); the live app pushes them through the web
view, an exported page (:func:`write_standalone_html`) carries them inline.
"""
from __future__ import annotations

import base64
import functools
import html
import json
import logging
import re
from importlib import resources as importlib_resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

import numpy as np
import pandas as pd

from geodata import style
from geodata.errors import DataError
from geodata.points import LAT, LON, has_geometry, lon_lat
from geodata.schema import GEO_PRECISIONS, MUNITION_CLASSES, OUTCOMES, TIME_PRECISIONS

if TYPE_CHECKING:
    import geopandas as gpd

    from geodata.filters import FilterState

_log = logging.getLogger(__name__)

#: Where the map opens before any data arrives (Ukraine).
DEFAULT_CENTER: tuple[float, float] = (48.5, 31.5)
DEFAULT_ZOOM = 6
MAX_ZOOM = 18

#: Extent of the offline country outlines (west, south, east, north): enough
#: around Ukraine for context, small enough to keep the page light.
BASEMAP_EXTENT: tuple[float, float, float, float] = (5.0, 34.0, 62.0, 64.0)

#: Sources and terms of the offline basemap layers: (text, address), shown in the map's attribution line.
BASEMAP_CREDITS: dict[str, tuple[str, str]] = {
    "countries": ("Borders: Natural Earth (public domain)", "https://www.naturalearthdata.com/"),
    "oblasts": ("oblast outlines (approximate) and place names: GeoNames (CC BY 4.0)", "https://www.geonames.org/"),
    # The same text as the oblasts': the attribution line shows it once when both layers are on.
    "places": ("oblast outlines (approximate) and place names: GeoNames (CC BY 4.0)", "https://www.geonames.org/"),
}

#: Settlements smaller than this are not named on the offline basemap (the page picks by zoom).
PLACE_MIN_POPULATION = 5_000

#: Tile providers offered in menus (the user may name any other xyzservices provider).
SUGGESTED_PROVIDERS: tuple[str, ...] = (
    "OpenStreetMap.Mapnik",
    "OpenTopoMap",
    "Esri.WorldImagery",
    "Esri.WorldGrayCanvas",
)

#: Assets folium elements ask for that the page never loads (they need network
#: or jQuery; nothing the page uses depends on them).
_DROPPED_ASSETS = frozenset({
    "jquery", "bootstrap", "awesome_markers", "bootstrap_css", "glyphicons_css",
    "awesome_markers_font_css", "awesome_markers_css", "awesome_rotate_css",
})

_URL_IN_TAG = re.compile(r"<(script|link)\b[^>]*?(?:src|href)\s*=\s*[\"']?(https?:)?//", re.I)
_LOCAL_IN_TAG = re.compile(r"<(script|link|img)\b[^>]*?(?:src|href)\s*=\s*[\"']?file:", re.I)


#: What the page may not do at all (scripts, styles and images are its own, inline or local). The live
#: page may fetch one thing: its rows from the app (``mapdata:``, :mod:`mapviewer.map.framescheme`).
CSP = "connect-src {connect}; object-src 'none'; frame-src 'none'; form-action 'none'; base-uri 'none'"


class AssetError(RuntimeError):
    """An asset the page needs has no local file (a packaging problem, not a user error)."""


# -- assets --------------------------------------------------------------------------------
def _package_file(package: str, *parts: str) -> Path:
    path = importlib_resources.files(package)
    for part in parts:
        path = path.joinpath(part)
    return Path(str(path))


@functools.cache
def asset_files() -> dict[str, Path]:
    """Asset name (as folium elements name them) -> local file."""
    leaflet = _package_file("js_lib_leaflet", "static", "js_lib_leaflet")
    cluster = _package_file("xstatic.pkg.leaflet_markercluster", "data")
    web = _package_file("resources", "web")
    files = {
        "leaflet": leaflet / "leaflet.js",
        "leaflet_css": leaflet / "leaflet.css",
        "leaflet-heat.js": _package_file("folium", "templates", "leaflet_heat.min.js"),
        "markerclusterjs": cluster / "leaflet.markercluster.js",
        "markerclustercss": cluster / "MarkerCluster.css",
        "markerclusterdefaultcss": cluster / "MarkerCluster.Default.css",
        "viewer_js": web / "viewer.js",
        "viewer_css": web / "viewer.css",
    }
    missing = [f"{name} ({path})" for name, path in files.items() if not path.is_file()]
    if missing:
        raise AssetError("map assets missing from the installation: " + ", ".join(missing))
    return files


def _local_links(element: Any, attr: str, urls: dict[str, str]) -> list[tuple[str, str]]:
    links = []
    for name, url in getattr(element, attr):
        if name in _DROPPED_ASSETS:
            continue
        if name not in urls:
            raise AssetError(
                f"{type(element).__name__} needs {name!r} ({url}), which has no local file; "
                "the page would not work offline"
            )
        links.append((name, urls[name]))
    return links


def localise_assets(root: Any, urls: dict[str, str]) -> None:
    """Point every element's JS/CSS list at local files (on the instance, not the class)."""
    stack = [root]
    while stack:
        element = stack.pop()
        if hasattr(element, "default_js"):
            element.default_js = _local_links(element, "default_js", urls)
        if hasattr(element, "default_css"):
            element.default_css = _local_links(element, "default_css", urls)
        stack.extend(getattr(element, "_children", {}).values())


def check_offline(page_html: str) -> None:
    """Raise :class:`AssetError` if the page would load a script or style sheet over the network."""
    match = _URL_IN_TAG.search(page_html)
    if match:
        start = max(0, match.start() - 20)
        raise AssetError(f"map page loads a remote asset: {page_html[start:match.end() + 80]!r}")


# -- basemap data --------------------------------------------------------------------------
@functools.cache
def _basemap_geojson() -> tuple[str, str, list[list]]:
    """(countries GeoJSON, oblasts GeoJSON, oblast labels [name, lat, lon]) for the offline basemap."""
    from geodata import basemap

    countries = basemap.countries(bbox=BASEMAP_EXTENT, tolerance=0.02)
    try:
        oblasts = basemap.oblasts()
    except Exception as exc:  # the map must still open: show the country outlines only
        _log.warning("offline basemap: %s; showing country outlines only", exc)
        oblasts = None
    labels: list[list] = []
    oblast_json = json.dumps({"type": "FeatureCollection", "features": []})
    if oblasts is not None and len(oblasts):
        oblasts = oblasts.to_crs("EPSG:4326")
        oblasts = oblasts.set_geometry(oblasts.geometry.simplify(0.005, preserve_topology=True))
        points = oblasts.geometry.representative_point()
        labels = [[str(n), round(p.y, 4), round(p.x, 4)] for n, p in zip(oblasts["name"], points)]
        oblast_json = oblasts[["name", "geometry"]].to_json()
    return countries.to_crs("EPSG:4326")[["name", "geometry"]].to_json(), oblast_json, labels


@functools.cache
def _place_names() -> list[list]:
    """Settlements named on the offline basemap: [name, lat, lon, population], largest first."""
    from geodata import gazetteer

    try:
        found = gazetteer.settlements(PLACE_MIN_POPULATION)
    except Exception as exc:  # the map must still open: show it without place names
        _log.warning("offline basemap: %s; showing no place names", exc)
        return []
    return [[str(name), round(float(lat), 4), round(float(lon), 4), int(pop)] for name, lat, lon, pop in found]


# -- basemaps -------------------------------------------------------------------------------
def basemap_spec(name: str) -> dict[str, Any]:
    """What the page needs to show basemap ``name``.

    ``"offline"`` is the shipped vector basemap; a name such as
    ``"OpenStreetMap.Mapnik"`` is an xyzservices tile provider; a string with
    ``{z}``, ``{x}`` and ``{y}`` is a tile URL template (a local tile server).
    Raises :class:`DataError` for anything else.
    """
    name = name.strip()
    if name in ("", "offline"):
        return {"id": "offline"}
    if all(part in name for part in ("{z}", "{x}", "{y}")):
        if not re.match(r"(?i)^(https?|file)://", name):
            raise DataError(f"tile URL {name!r}: must start with http://, https:// or file://")
        unknown = sorted(set(re.findall(r"\{[^{}]*\}", name)) - _TILE_PLACEHOLDERS)
        if unknown:
            raise DataError(f"tile URL {name!r}: unknown placeholder {unknown[0]} "
                            "(a tile URL may hold {z}, {x}, {y}, {s}, {r} and {-y})")
        if "{" in _url_host(name).removeprefix("{s}."):
            raise DataError(f"tile URL {name!r}: the server name may hold {{s}} only at its start")
        return {"id": name, "name": "Custom tiles", "url": name, "attribution": "", "maxZoom": MAX_ZOOM,
                "trusted_attribution": False}
    import xyzservices

    try:
        provider = xyzservices.providers.query_name(name)
    except ValueError:
        raise DataError(f"unknown basemap {name!r}: use 'offline', a tile provider name such as "
                        "'OpenStreetMap.Mapnik' or a tile URL with {z}, {x} and {y}") from None
    if provider.requires_token():
        raise DataError(f"basemap {name!r} needs an API key, which this app does not store")
    return {
        "id": name,
        "name": provider.name,
        "url": provider.build_url(),
        "attribution": provider.html_attribution,
        "maxZoom": int(provider.get("max_zoom", MAX_ZOOM)),
        "trusted_attribution": True,  # attribution text comes from the xyzservices package
    }


#: What Leaflet fills in a tile URL; any other ``{name}`` would be filled from the layer's options.
_TILE_PLACEHOLDERS = frozenset({"{z}", "{x}", "{y}", "{s}", "{r}", "{-y}"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _url_host(url: str) -> str:
    """The host (and port, unless the scheme's default) a URL names, lower case ("" for none)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:  # a port that is no number: the URL names no usable server
        return host
    if host and port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        host += f":{port}"
    return host


def tile_host(spec: dict[str, Any]) -> str | None:
    """The server a basemap ``spec`` (from :func:`basemap_spec`) sends requests to, or None.

    None for the offline basemap and for tiles from local files. A leading ``{s}.`` (the
    tile server's subdomains) is left out: ``"tile.opentopomap.org"``. Loading tiles tells
    that server the viewer's address and the area looked at: the app asks before contacting it.
    """
    url = spec.get("url")
    if not url or not re.match(r"(?i)^https?://", url):
        return None
    return _url_host(url).removeprefix("{s}.") or None


# -- incident data --------------------------------------------------------------------------
def _b64(values: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype=dtype).tobytes()).decode("ascii")


def _codes(column: pd.Series, categories: Iterable[str], missing: int) -> np.ndarray:
    cats = list(categories)
    if isinstance(column.dtype, pd.CategoricalDtype) and list(column.cat.categories) == cats:
        codes = column.cat.codes.to_numpy()
    else:
        codes = pd.Categorical(column.astype("object"), categories=cats).codes
    return np.where(codes < 0, missing, codes)


def _dictionary(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    return codes, [str(u) for u in uniques]


class IncidentEncoder:
    """The per-row arrays viewer.js draws, for one frame.

    :meth:`payload` sends the rows once; a filter change then costs a bit mask and the
    legend's counts (:meth:`mask_payload`), for which only the outcome and class codes are kept.
    """

    def __init__(self, frame: gpd.GeoDataFrame) -> None:
        self.frame = frame
        self.outcome = _codes(frame["outcome"], OUTCOMES, OUTCOMES.index("unknown")).astype("u1")
        self.klass = _codes(frame["munition_class"], MUNITION_CLASSES, MUNITION_CLASSES.index("unknown")).astype("u1")
        self.unit = "strikes" if "reports" in frame.columns else "events"  # what the legend counts

    def payload(self, positions: np.ndarray | None = None, *, total: int | None = None,
                fit: bool = False) -> dict[str, Any]:
        """The rows at ``positions`` (all rows when None) in the form viewer.js takes (``setData``)."""
        meta, arrays = self._arrays(positions, total=total, fit=fit)
        return {**meta, **{name: _b64(values, values.dtype.str) for name, values in arrays.items()}}

    def binary(self) -> tuple[dict[str, Any], bytes]:
        """Every row as one block of bytes, and what viewer.js needs to read it (``loadFrame``).

        ``layout`` lists ``[name, type, offset, length]``: little-endian 32-bit arrays first, then
        the bytes, so every array starts at a multiple of its item size.
        """
        meta, arrays = self._arrays(None)
        layout, offset = [], 0
        for name, values in sorted(arrays.items(), key=lambda item: -item[1].itemsize):
            layout.append([name, values.dtype.str, offset, len(values)])
            offset += values.nbytes
        meta["layout"] = layout
        return meta, b"".join(arrays[name].tobytes() for name, *_ in layout)

    def _arrays(self, positions: np.ndarray | None, *, total: int | None = None,
                fit: bool = False) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        n_all = len(self.frame)
        positions = np.arange(n_all) if positions is None else np.asarray(positions, dtype=np.int64)
        rows = self.frame.iloc[positions] if len(positions) != n_all else self.frame
        outcome, klass = self.outcome[positions], self.klass[positions]
        # Kyiv wall-clock time, as the popup shows it: a day-precision event keeps its own date
        times = pd.to_datetime(rows["occurred_at"], utc=True).dt.tz_convert(_POPUP_TZ).dt.tz_localize(None).to_numpy()
        minutes = np.full(len(rows), np.iinfo(np.int32).min, dtype=np.int64)
        ok = ~np.isnat(times)
        minutes[ok] = times[ok].astype("datetime64[m]").astype(np.int64)
        munition, munitions = _dictionary(rows["munition"])
        location, locations = _dictionary(rows["location"])
        lon, lat = lon_lat(rows)
        arrays = {
            "pos": positions.astype("<i4"),
            "lat": lat.astype("<f4"),
            "lon": lon.astype("<f4"),
            "outcome": outcome.astype("u1"),
            "cls": klass.astype("u1"),
            "prec": _codes(rows["geo_precision"], GEO_PRECISIONS, 0).astype("u1"),
            "tprec": _codes(rows["time_precision"], TIME_PRECISIONS, 0).astype("u1"),
            "t": minutes.astype("<i4"),
            "mun": munition.astype("<i4"),
            "loc": location.astype("<i4"),
        }
        meta = {
            "n": int(len(positions)),
            "total": int(total if total is not None else n_all),
            "fit": bool(fit),
            "munitions": munitions,
            "locations": locations,
            "counts": _counts(outcome, klass),
            "unit": self.unit,
        }
        return meta, arrays

    def mask_payload(self, mask: np.ndarray, *, fit: bool = False) -> dict[str, Any]:
        """The rows a filter keeps as a bit mask over the frame sent with :meth:`payload` (all rows)."""
        mask = np.asarray(mask, dtype=bool)
        packed = np.packbits(mask, bitorder="little")
        outcome, klass = self.outcome[mask], self.klass[mask]
        return {
            "n": int(mask.sum()),
            "total": int(len(mask)),
            "fit": bool(fit),
            "bits": base64.b64encode(packed.tobytes()).decode("ascii"),
            "counts": _counts(outcome, klass),
            "unit": self.unit,
        }


def _counts(outcome: np.ndarray, klass: np.ndarray) -> dict[str, dict[str, int]]:
    return {
        "outcomes": dict(zip(OUTCOMES, np.bincount(outcome, minlength=len(OUTCOMES)).tolist())),
        "classes": dict(zip(MUNITION_CLASSES, np.bincount(klass, minlength=len(MUNITION_CLASSES)).tolist())),
    }


def encode_incidents(frame: gpd.GeoDataFrame, positions: np.ndarray | None = None, *, total: int | None = None,
                     fit: bool = False) -> dict[str, Any]:
    """The compact form of ``frame``'s rows at ``positions`` that viewer.js draws.

    Arrays are little-endian base64 so 100k points cost a few megabytes and no
    per-point JSON objects. ``pos`` are row positions in ``frame`` (the
    selection identity). ``counts`` feed the legend.
    """
    return IncidentEncoder(frame).payload(positions, total=total, fit=fit)


def _coordinates_text(rows: pd.DataFrame) -> list[str]:
    """Each row's place as "lat, lon" ("" where it has none)."""
    lon, lat = lon_lat(rows)
    return [f"{y:.5f}, {x:.5f}" if np.isfinite(x) and np.isfinite(y) else "" for x, y in zip(lon, lat)]


def _column_text(column: pd.Series) -> list[str]:
    if isinstance(column.dtype, pd.DatetimeTZDtype):  # shown in Kyiv time, as the label says
        return [t.strftime("%Y-%m-%d %H:%M") if not pd.isna(t) else "" for t in column.dt.tz_convert(_POPUP_TZ)]
    return ["" if _missing(v) else str(v) for v in column.astype("object")]


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and arrays are values, not missing
        return False


#: Popup labels of the canonical columns; extra input columns keep their own names.
FIELD_LABELS: dict[str, str] = {
    "event_id": "ID",
    "occurred_at": "Time (Kyiv)",
    "time_precision": "Time precision",
    "coordinates": "Coordinates",
    "location": "Location",
    "admin1": "Oblast",
    "geo_precision": "Location precision",
    "munition": "Munition",
    "munition_class": "Munition class",
    "outcome": "Outcome",
    "killed": "Killed",
    "injured": "Injured",
    "source": "Source",
    "source_url": "Source URL",
    "notes": "Notes",
}
#: The app's own columns naming where each event came from (see mapviewer.state.AppState).
_ORIGIN_COLUMNS = ("dataset", "source_row")
_POPUP_TZ = "Europe/Kyiv"


def record_details(frame: pd.DataFrame, positions: Iterable[int],
                   reports: Callable[[Any], pd.DataFrame | None] | None = None) -> dict[str, list[list]]:
    """Every field of the rows at ``positions`` as ``{position: [[label, text], ...]}`` for popups.

    Canonical columns get a readable label (:data:`FIELD_LABELS`), extra columns keep
    their names. The app's ``dataset``/``source_row`` become one last entry
    ``["File", "<file name>, row <n>", "<full path>"]`` (the page shows the path as a
    tooltip). Values are plain text; the page shows them as text nodes, never as HTML.

    A strike (a row of :class:`geodata.strikes.Strikes`, with a ``reports`` column) shows its
    casualties as a range over its reports ("2-4 (3 reports)") and, instead of the file entry,
    ``["Reports", "3 reports ...", [report, ...]]``: each report a list of ``[label, text]`` (file,
    source, time, place, munition as written, link, casualties), from ``reports(index label)``
    (the strike's report rows); without it, the report names alone.
    """
    positions = [int(p) for p in positions]
    rows = frame.iloc[positions]
    strike = "reports" in rows.columns
    place = rows.geometry.name if has_geometry(rows) else LAT if {LAT, LON} <= set(rows.columns) else None
    hidden = set(_ORIGIN_COLUMNS) | (set(_STRIKE_COLUMNS) if strike else set()) | ({LON} if place == LAT else set())
    shown = [c for c in rows.columns if c not in hidden]
    names = [FIELD_LABELS["coordinates"] if c == place else FIELD_LABELS.get(str(c), str(c)) for c in shown]
    # per column: vectorised
    columns = [_coordinates_text(rows) if c == place else _column_text(rows[c]) for c in shown] if len(rows) else []
    if strike and len(rows):
        for column in ("killed", "injured"):
            if column in shown and f"{column}_min" in rows.columns:
                columns[shown.index(column)] = _range_text(rows[f"{column}_min"], rows[f"{column}_max"], rows["reports"])
    paths = _column_text(rows["dataset"]) if "dataset" in rows.columns and len(rows) else None
    numbers = _column_text(rows["source_row"]) if "source_row" in rows.columns and len(rows) else None
    details: dict[str, list[list]] = {}
    for i, pos in enumerate(positions):
        fields: list[list] = [[name, col[i]] for name, col in zip(names, columns)]
        if strike:
            fields.append(_strike_reports(rows.iloc[i], rows.index[i], reports))
        elif paths is not None and paths[i]:
            where = Path(paths[i]).name or paths[i]
            if numbers is not None and numbers[i]:
                where += f", row {numbers[i]}"
            fields.append(["File", where, paths[i]])
        details[str(pos)] = fields
    return details


#: Columns of a strike row shown through its report list and casualty ranges instead.
_STRIKE_COLUMNS = ("killed_min", "killed_max", "injured_min", "injured_max", "reports", "report_ids", "sources",
                   "confidence")
_TIME_WORDS = {"exact": "", "day": " (day only)", "month": " (month only)"}
_PLACE_WORDS = {"exact": "exact point", "settlement": "settlement only", "region": "oblast only"}


def _range_text(lows: pd.Series, highs: pd.Series, counts: pd.Series) -> list[str]:
    """"2-4 (3 reports)" where a strike's reports give different figures, "3" where they agree."""
    out = []
    for lo, hi, n in zip(lows.astype("object"), highs.astype("object"), counts.astype("object")):
        if _missing(lo):
            out.append("")
        elif lo == hi:
            out.append(f"{int(lo)}")
        else:
            out.append(f"{int(lo)}-{int(hi)} ({int(n)} reports)")
    return out


def _strike_reports(row: pd.Series, label: Any, reports: Callable[[Any], pd.DataFrame | None] | None) -> list:
    """The entry listing a strike's reports: ``["Reports", summary, [[[label, text], ...], ...]]``."""
    count = 0 if _missing(row.get("reports")) else int(row["reports"])
    summary = f"{count} report{'s' if count != 1 else ''}"
    if count >= 2 and not _missing(row.get("confidence")):
        summary += f", matched with confidence {float(row['confidence']):.2f}"
    frame = reports(label) if reports is not None else None
    if frame is None:
        names = "" if _missing(row.get("report_ids")) else str(row["report_ids"])
        return ["Reports", summary, [[["Report", name]] for name in names.split("; ") if name]]
    listed = []
    times = _column_text(frame["occurred_at"]) if "occurred_at" in frame.columns else [""] * len(frame)
    for (_, report), when in zip(frame.iterrows(), times):
        def text(column: str) -> str:
            value = report.get(column)
            return "" if _missing(value) else str(value)

        # a database's events name the source they were imported from (its address names no source)
        file_name = text("import_source") or Path(text("dataset")).name or text("dataset")
        row_number = text("source_row")
        title = f"{file_name}: {text('event_id')}" if file_name else text("event_id")
        precision = text("time_precision")
        if when and precision in ("day", "month"):
            when = when[:10] if precision == "day" else when[:7]
        place = ", ".join(v for v in (text("location"), text("admin1")) if v)
        place_words = _PLACE_WORDS.get(text("geo_precision"), "")
        entry = [["Report", title + (f" (row {row_number})" if row_number else "")],
                 ["Source", text("source")],
                 ["Time (Kyiv)", (when + _TIME_WORDS.get(precision, "")) if when else "not given"],
                 ["Place", f"{place or 'not named'}" + (f" ({place_words})" if place_words else "")],
                 ["Munition as written", text("munition") or "not named"],
                 ["Outcome", text("outcome")],
                 ["Killed", text("killed")],
                 ["Injured", text("injured")],
                 ["Link", text("source_url")]]
        listed.append([pair for pair in entry if pair[1]])
    return ["Reports", summary, listed]


def date_caption(filter_state: FilterState | None) -> str:
    """The filter's date range as the map's caption, in its working time zone ("" when none).

    ``2025-09-29 – 2025-09-30`` for whole days; with times (and the zone) otherwise;
    ``from …`` or ``until …`` when one end is open.
    """
    from geodata.timeline import date_range_ns, describe_window

    if filter_state is None:
        return ""
    lo, hi = date_range_ns(filter_state)
    if lo is None and hi is None:
        return ""
    tz = filter_state.tz
    if lo is not None and hi is not None:
        text = describe_window(pd.Timestamp(lo, tz="UTC"), pd.Timestamp(hi, tz="UTC"), tz)
    elif lo is not None:
        a = pd.Timestamp(lo, tz="UTC").tz_convert(tz)
        text = "from " + (a.date().isoformat() if a == a.normalize() else f"{a:%Y-%m-%d %H:%M}")
    else:
        b = pd.Timestamp(hi, tz="UTC").tz_convert(tz)  # exclusive bound
        text = "until " + ((b - pd.Timedelta(hours=12)).date().isoformat() if b == b.normalize()
                           else f"{b - pd.Timedelta(1, 'ns'):%Y-%m-%d %H:%M}")
    if ":" in text:  # times are in the working zone: say which
        text += f" ({tz.rsplit('/', 1)[-1].replace('_', ' ')} time)"
    return text


# -- the page -------------------------------------------------------------------------------
def json_for_script(value: Any) -> str:
    """``value`` as a JavaScript literal safe inside a ``<script>`` element or a runJavaScript call."""
    # "<" escaped so record text can never close the <script> element it sits in; U+2028/U+2029
    # escaped because older JavaScript engines end a string literal at them (exported pages).
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def build_page(*, live: bool = True, title: str | None = None, data: dict | None = None,
               details: dict | None = None, inline: bool = False, heading: dict[str, str] | None = None,
               basemap: dict[str, Any] | None = None, archives: list[dict[str, Any]] | None = None) -> str:
    """The map page's HTML.

    ``live`` pages talk to the desktop app through QWebChannel and receive
    their incidents later; otherwise ``data`` (from :func:`encode_incidents`)
    and ``details`` (from :func:`record_details`) are embedded. ``inline``
    puts every asset's text into the page (a single self-contained file);
    otherwise assets are referenced as local file URLs. ``heading``
    (``title``, ``subtitle``, ``fingerprint``: plain text) is shown in a box at
    the top of the map when it has a title. ``basemap`` (from :func:`basemap_spec`) is
    shown instead of the offline outlines when the page opens. ``archives`` are tile archive layers
    with embedded tiles (:func:`mapviewer.map.basemapfiles.embedded_layers`), drawn over the basemap.
    """
    import folium
    from branca.element import Element, MacroElement
    from folium.elements import JSCSSMixin
    from jinja2 import Template

    files = asset_files()
    urls = {name: path.as_uri() for name, path in files.items()}

    fmap = folium.Map(location=list(DEFAULT_CENTER), zoom_start=DEFAULT_ZOOM, tiles=None, max_zoom=MAX_ZOOM,
                      min_zoom=2, control_scale=True, prefer_canvas=False, zoom_control=True,
                      zoom_snap=0.5)
    fmap.default_js = [("leaflet", "")]  # rewritten to the local file below
    fmap.default_css = [("leaflet_css", "")]
    # Text from records, titles and views never enters template source: the templates render with
    # fixed slot markers, and the text replaces them afterwards (:func:`_fill_slots`).
    slots = {
        "config": None,  # filled below, once config is complete
        "data": json_for_script(data),
        "details": json_for_script(details),
    }
    if title:
        slots["title"] = html.escape(title)
        fmap.get_root().header.add_child(Element(f"<title>{_slot('title')}</title>"), name="title")
    # Defence in depth: the page never fetches, posts or embeds, so even script that ever slipped
    # in could not read local files (fetch/XHR of file URLs) nor send them anywhere.
    policy = CSP.format(connect="mapdata:" if live else "'none'")
    fmap.get_root().header.add_child(Element(f'<meta http-equiv="Content-Security-Policy" content="{policy}">'),
                                     name="csp")

    folium.map.CustomPane("mv-basemap", z_index=250, pointer_events=False).add_to(fmap)
    folium.map.CustomPane("mv-labels", z_index=350, pointer_events=False).add_to(fmap)
    countries_json, oblasts_json, labels = _basemap_geojson()
    countries = folium.GeoJson(
        countries_json, name="Offline outlines", pane="mv-basemap", interactive=False, control=False,
        style_function=lambda f: {"color": style.NEUTRAL["border"], "weight": 0.8,
                                  "fillColor": style.NEUTRAL["home" if f["properties"]["name"] == "Ukraine" else "land"],
                                  "fillOpacity": 1.0},
    ).add_to(fmap)
    oblasts = folium.GeoJson(
        oblasts_json, name="Oblasts (approximate)", pane="mv-basemap", interactive=False, control=False,
        style_function=lambda f: {"color": style.NEUTRAL["oblast_border"], "weight": 0.9, "dashArray": "4 3",
                                  "fill": False},
    ).add_to(fmap)

    class _ViewerAssets(JSCSSMixin):
        """Loads the project's viewer code and leaflet-heat."""

    assets = _ViewerAssets()
    assets.default_js = [("leaflet-heat.js", ""), ("viewer_js", "")]
    assets.default_css = [("viewer_css", "")]
    fmap.add_child(assets)
    if live:
        fmap.get_root().header.add_child(
            Element('<script src="qrc:///qtwebchannel/qwebchannel.js"></script>'), name="qwebchannel")

    config = {
        "live": live,
        "style": style.as_json(),
        "outcomes": list(OUTCOMES),
        "classes": list(MUNITION_CLASSES),
        "precisions": list(GEO_PRECISIONS),
        "time_precisions": list(TIME_PRECISIONS),
        "labels": labels,
        "places": _place_names(),
        "maxZoom": MAX_ZOOM,
        "credits": {name: list(credit) for name, credit in BASEMAP_CREDITS.items()},
        "heading": heading,
        "basemap": basemap if basemap and basemap.get("id") != "offline" else None,
        "archives": archives or None,
    }
    slots["config"] = json_for_script(config)
    init = MacroElement()
    init._template = Template(
        "{% macro script(this, kwargs) %}\n"
        "mapviewer.init(" + fmap.get_name() + ", {countries: " + countries.get_name()
        + ", oblasts: " + oblasts.get_name() + "}, " + _slot("config") + ", "
        + _slot("data") + ", " + _slot("details") + ");\n"
        "{% endmacro %}"
    )
    fmap.add_child(init)  # last, so every layer it names exists

    localise_assets(fmap, urls)
    localise_assets(fmap.get_root(), urls)
    page = fmap.get_root().render()
    if inline:
        page = _inline_assets(page, files, urls)
    check_offline(page)  # the page's own tags, before any record text is in it
    return _fill_slots(page, slots)


_SLOT = re.compile(r"@@mapviewer-slot:(\w+)@@")


def _slot(name: str) -> str:
    return f"@@mapviewer-slot:{name}@@"


def _fill_slots(page: str, slots: dict[str, str]) -> str:
    """Put each slot's text into the rendered page, in one pass: text put in is never read again,
    so a record holding a slot marker or template syntax stays the text it is."""
    found = set(_SLOT.findall(page))
    if found != set(slots):
        raise AssetError(f"map page slots {sorted(found)} do not match {sorted(slots)}")
    return _SLOT.sub(lambda m: slots[m.group(1)], page)


def _css_with_data_images(path: Path) -> str:
    def embed(match: re.Match) -> str:
        target = path.parent / match.group(1)
        if not target.is_file():
            return match.group(0)
        data = base64.b64encode(target.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return re.sub(r"url\((images/[^)]+\.png)\)", embed, path.read_text(encoding="utf-8"))


def _inline_assets(page: str, files: dict[str, Path], urls: dict[str, str]) -> str:
    """Replace every local script/style link with the file's text."""
    for name, url in urls.items():
        path = files[name]
        if path.suffix == ".js":
            text = path.read_text(encoding="utf-8").replace("</script", "<\\/script")
            page = re.sub(rf'<script src="{re.escape(url)}"></script>', lambda m: f"<script>{text}</script>", page)
        else:
            text = _css_with_data_images(path)
            page = re.sub(rf'<link rel="stylesheet" href="{re.escape(url)}"\s*/?>', lambda m: f"<style>{text}</style>", page)
    leftover = _LOCAL_IN_TAG.search(page)
    if leftover:
        raise AssetError(f"standalone page still references a local file: {leftover.group(0)[:200]!r}")
    return page


@functools.cache
def _live_page() -> str:
    return build_page(live=True)


def write_page(path: str | Path) -> Path:
    """Write the live page to ``path`` (load it from a file URL: setHtml fails above 2 MB).

    The page is built once per process.
    """
    path = Path(path)
    path.write_text(_live_page(), encoding="utf-8")
    return path


def write_standalone_html(frame: gpd.GeoDataFrame, path: str | Path, *, title: str | None = None,
                          subtitle: str = "", fingerprint: str = "", basemap: str = "offline",
                          archives: list[dict[str, Any]] | None = None,
                          reports: Callable[[Any], pd.DataFrame | None] | None = None) -> Path:
    """One HTML file with the incidents of ``frame`` and every asset inlined.

    It opens in a browser with no network. When ``title`` is given the map shows
    it in a box at the top, with ``subtitle`` (the filters in words) and
    ``fingerprint`` (of the data and filters) under it; all three are plain text. Rows that
    are strikes (:mod:`geodata.strikes`: a ``reports`` column) add "N strikes from M reports" to
    the subtitle, and the box is shown with or without a title; ``reports(index label)`` gives a
    strike row's reports, listed in its popup as the app lists them (:func:`record_details`).
    ``basemap`` (a :func:`basemap_spec` name) is the background the page opens with; a tile
    server's (:func:`tile_host`) is contacted by whoever opens the page. ``archives`` are tile
    archive layers with their tiles embedded (:func:`mapviewer.map.basemapfiles.embedded_layers`).
    """
    from geodata.strikes import strikes_words

    spec = basemap_spec(basemap)
    data = encode_incidents(frame, fit=True)
    details = record_details(frame, range(len(frame)), reports)
    counted = strikes_words(frame)  # one row per strike: "N strikes from M reports" under the title
    if counted:
        subtitle = f"{subtitle} · {counted}" if subtitle else counted
    heading = {"title": title or "Strike events", "subtitle": subtitle or "", "fingerprint": fingerprint or ""}
    page = build_page(live=False, title=title or "Strike events", data=data, details=details, inline=True,
                      heading=heading if title or counted else None, basemap=spec, archives=archives)
    path = Path(path)
    path.write_text(page, encoding="utf-8")
    return path
