"""Places as shapely points or as latitude/longitude columns (geodata.points): both forms give the same answers."""
from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geodata import FilterState, read_incidents
from geodata.fingerprint import row_hashes
from geodata.multisource import make_multisource
from geodata.points import LAT, LON, has_geometry, lon_lat, with_geometry, without_geometry
from geodata.sample import sample_path
from geodata.strikes import count_strikes
from geodata.writers import write_incidents


@pytest.fixture(scope="module")
def sample():
    return read_incidents(sample_path()).frame, read_incidents(sample_path(), geometry=False).frame


def test_a_reader_gives_either_form_of_the_same_rows(sample, tmp_path):
    heavy, light = sample
    assert has_geometry(heavy) and not has_geometry(light) and not isinstance(light, gpd.GeoDataFrame)
    columns = list(light.columns)
    assert columns[columns.index(LAT) + 1] == LON and columns.index(LAT) == list(heavy.columns).index("geometry")
    pd.testing.assert_frame_equal(without_geometry(heavy), light)
    assert with_geometry(light).geometry.geom_equals(heavy.geometry).all()
    # the same from a CSV, whose latitude/longitude columns are read, not kept as extra columns
    path = tmp_path / "events.csv"
    write_incidents(heavy, path)
    from_csv = read_incidents(path, geometry=False)
    assert from_csv.report.rows_loaded == len(heavy)
    pd.testing.assert_frame_equal(without_geometry(read_incidents(path).frame), from_csv.frame)


def test_coordinates_filters_and_hashes_agree(sample):
    heavy, light = sample
    np.testing.assert_array_equal(np.column_stack(lon_lat(heavy)), np.column_stack(lon_lat(light)))
    kharkiv = FilterState(bbox=(35.5, 49.5, 37.0, 50.5))
    assert 0 < kharkiv.mask(light).sum() < len(light)
    np.testing.assert_array_equal(kharkiv.mask(heavy), kharkiv.mask(light))
    np.testing.assert_array_equal(row_hashes(heavy), row_hashes(light))


def test_a_row_without_a_place_stays_without_one():
    frame = pd.DataFrame({"event_id": ["a", "b"], LAT: [50.0, np.nan], LON: [36.2, np.nan]})
    shaped = with_geometry(frame)
    assert list(shaped.columns) == ["event_id", "geometry"] and shaped.crs == "EPSG:4326"
    assert shaped.geometry.iloc[1] is None and (shaped.geometry.iloc[0].x, shaped.geometry.iloc[0].y) == (36.2, 50.0)
    back = without_geometry(shaped)
    assert back[LAT].iloc[0] == 50.0 and np.isnan(back[LAT].iloc[1])


def test_columns_of_those_names_beside_a_geometry_are_never_overwritten():
    frame = gpd.GeoDataFrame({LAT: ["their own text"]}, geometry=gpd.points_from_xy([36.2], [50.0]), crs="EPSG:4326")
    assert without_geometry(frame) is frame
    lon, lat = lon_lat(frame)
    assert (lon[0], lat[0]) == (36.2, 50.0)


def test_each_form_exports_the_same_files(sample, tmp_path):
    heavy, light = sample
    for suffix in (".csv", ".geojson", ".gpkg"):
        write_incidents(heavy.head(50), tmp_path / f"heavy{suffix}")
        write_incidents(light.head(50), tmp_path / f"light{suffix}")
    for suffix in (".csv", ".geojson"):
        assert (tmp_path / f"heavy{suffix}").read_bytes() == (tmp_path / f"light{suffix}").read_bytes()
    back = gpd.read_file(tmp_path / "light.gpkg")
    assert len(back) == 50 and back.geometry.geom_equals(heavy.head(50).geometry.reset_index(drop=True)).all()
    assert json.loads((tmp_path / "light.geojson").read_text())["features"][0]["geometry"]["type"] == "Point"


def test_strikes_of_reports_without_points_are_the_same_strikes():
    data = make_multisource(120, seed=3)
    heavy = gpd.GeoDataFrame(pd.concat([f.assign(dataset=k) for k, f in data.frames.items()], ignore_index=True),
                             geometry="geometry", crs="EPSG:4326")
    light = without_geometry(heavy)
    a, b = count_strikes(heavy), count_strikes(light)
    np.testing.assert_array_equal(a.strike_of, b.strike_of)
    assert not has_geometry(b.frame) and list(b.frame.columns) == list(without_geometry(a.frame).columns)
    pd.testing.assert_frame_equal(without_geometry(a.frame), b.frame)
