"""GeoJSON, GeoPackage and Shapefile through pyogrio; the first feature is row 1."""
from __future__ import annotations

import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.errors import DataError
from geodata.readers import register
from geodata.readers.columns import map_headers, require
from geodata.readers.common import finish
from geodata.readers.files import check_file
from geodata.report import LoadReport, LoadResult
from geodata.schema import DEFAULT_TZ

_SHP_MAGIC = b"\x00\x00\x27\x0a"  # file code 9994, big-endian


def _is_gpkg(path: Path, head: bytes) -> bool:
    return head.startswith(b"SQLite format 3\x00")


def _is_geojson(path: Path, head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"{") and b'"type"' in text and b"Feature" in text


def _is_shapefile(path: Path, head: bytes) -> bool:
    if head.startswith(_SHP_MAGIC):
        return True
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                return any(n.lower().endswith(".shp") for n in z.namelist())
        except (zipfile.BadZipFile, OSError):
            return False
    return False


def read_vector(
    path: str | Path,
    *,
    format_name: str,
    tz: str = DEFAULT_TZ,
    columns: Mapping[str, str] | None = None,
    layer: str | int | None = None,
    dayfirst: bool | None = None,
    **options: object,
) -> LoadResult:
    """Read point features into a checked canonical frame (reprojected to EPSG:4326)."""
    import pyogrio  # GDAL: loaded when a vector file is read, not with the package

    p = check_file(path)
    source = f"/vsizip/{p}" if format_name == "shapefile" and zipfile.is_zipfile(p) else str(p)
    try:
        with warnings.catch_warnings(record=True) as caught:  # GDAL's remarks go in the report
            warnings.simplefilter("always")
            gdf = pyogrio.read_dataframe(source, layer=layer, datetime_as_string=True)
    except Exception as exc:  # pyogrio/GDAL errors have many types; all mean "cannot read this file"
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{p}: cannot be read as {format_name}: {first}") from exc
    if not isinstance(gdf, gpd.GeoDataFrame):  # GDAL found a table but no geometry (e.g. a damaged .shp)
        raise DataError(f"{p}: cannot be read as {format_name}: no geometry found")
    report = LoadReport(str(p), format_name)
    for w in caught:
        report.add(None, None, f"GDAL: {str(w.message).splitlines()[0]}", "warning")
    if gdf.crs is None:
        report.add(None, "geometry", "the file states no coordinate system: read as longitude/latitude (EPSG:4326)",
                   "warning")
    elif gdf.crs.to_epsg() != 4326:
        try:
            gdf = gdf.to_crs(4326)
        except Exception as exc:
            raise DataError(f"{p}: coordinates in {gdf.crs.name} cannot be converted to longitude/latitude") from exc
    headers = [c for c in gdf.columns if c != gdf.geometry.name]
    if not len(gdf) and not headers:  # nothing to map columns of: say so rather than list no columns
        raise DataError(f"{p}: no features (the {format_name} file holds no events)")
    mapping = map_headers(headers, path=str(p), columns=columns, coordinates=False)
    require(mapping, headers, path=str(p), coordinates=False)
    table = gdf.rename_geometry("geometry") if gdf.geometry.name != "geometry" else gdf
    rows = np.arange(len(table), dtype=np.int64) + 1
    return finish(pd.DataFrame(table), rows, mapping, report, path=p, tz=tz, dayfirst=dayfirst, **options)


def _reader(name: str):
    def read(path: str | Path, **options: object) -> LoadResult:
        options.pop("encoding", None)
        return read_vector(path, format_name=name, **options)

    return read


def _register() -> None:
    register("gpkg", _is_gpkg, _reader("gpkg"))
    register("geojson", _is_geojson, _reader("geojson"))
    register("shapefile", _is_shapefile, _reader("shapefile"))


_register()
