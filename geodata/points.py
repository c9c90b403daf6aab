"""Where each event is: a frame's points as a geometry column, or as latitude and longitude columns.

The readers give a GeoDataFrame: each point a shapely object, about 210 bytes an event (a million
events: 210 MB). The app keeps its rows with two float columns instead, ``latitude`` and ``longitude``
where ``geometry`` was (16 bytes an event), and makes shapely points only where a GIS format needs
them (GeoPackage). Code that reads coordinates takes either form through :func:`lon_lat`; the tabular
writers already write these two columns in that place.
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

#: The two columns that stand for ``geometry`` in a frame without shapely points.
LAT, LON = "latitude", "longitude"


def has_geometry(frame: pd.DataFrame) -> bool:
    """True when ``frame`` holds its points as a shapely geometry column."""
    return isinstance(frame, gpd.GeoDataFrame) and frame._geometry_column_name in frame.columns


def lon_lat(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude of each row (float64; NaN where a row has no point)."""
    if has_geometry(frame):
        geoms = np.asarray(frame.geometry.array, dtype=object)
        return shapely.get_x(geoms).astype(float), shapely.get_y(geoms).astype(float)
    if LAT in frame.columns and LON in frame.columns:
        return (frame[LON].to_numpy(dtype=float, na_value=np.nan),
                frame[LAT].to_numpy(dtype=float, na_value=np.nan))
    return np.full(len(frame), np.nan), np.full(len(frame), np.nan)


def has_point(frame: pd.DataFrame) -> np.ndarray:
    """Per row, whether it has a place."""
    lon, lat = lon_lat(frame)
    return np.isfinite(lon) & np.isfinite(lat)


def without_geometry(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``latitude`` and ``longitude`` columns where its geometry was (a plain DataFrame).

    A frame that already has columns of those names besides its geometry is returned as it is (so
    nothing is overwritten); so is a frame without geometry.
    """
    if not has_geometry(frame) or LAT in frame.columns or LON in frame.columns:
        return frame
    lon, lat = lon_lat(frame)
    name = frame._geometry_column_name
    columns: dict[object, object] = {}
    for column in frame.columns:
        if column == name:
            columns[LAT], columns[LON] = lat, lon
        else:
            columns[column] = frame[column].array
    return pd.DataFrame(columns, index=frame.index, copy=False)


def points_of(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Shapely points of the coordinates (an object array; None where a coordinate is missing)."""
    ok = np.isfinite(lon) & np.isfinite(lat)
    points = np.full(len(lon), None, dtype=object)
    points[ok] = shapely.points(lon[ok], lat[ok])
    return points


def with_geometry(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """``frame`` with a point ``geometry`` (EPSG:4326) where its latitude and longitude columns were."""
    if has_geometry(frame):
        return frame
    points = points_of(*lon_lat(frame))
    columns: dict[object, object] = {}
    for column in frame.columns:
        if column == LAT:
            columns["geometry"] = points
        elif column != LON:
            columns[column] = frame[column].array
    if "geometry" not in columns:
        columns["geometry"] = points
    return gpd.GeoDataFrame(columns, index=frame.index, geometry="geometry", crs="EPSG:4326")
