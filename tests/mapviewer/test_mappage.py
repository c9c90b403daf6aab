"""The map page built with folium: offline assets, basemaps, the compact incident form."""
from __future__ import annotations

import base64
import re

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geodata.errors import DataError
from geodata.points import without_geometry
from geodata.schema import (
    CANONICAL_COLUMNS,
    GEO_PRECISION_DTYPE,
    MUNITION_CLASS_DTYPE,
    MUNITION_CLASSES,
    OUTCOME_DTYPE,
    OUTCOMES,
    TIME_PRECISION_DTYPE,
)
from mapviewer.map import page as mappage
REMOTE_ASSET = re.compile(r"<(script|link)\b[^>]*(src|href)\s*=\s*[\"']?(https?:)?//", re.I)


def small_frame(n: int = 12) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(1)
    frame = gpd.GeoDataFrame(
        {
            "event_id": pd.array([f"E-{i}" for i in range(n)], dtype="string"),
            "occurred_at": pd.date_range("2025-09-01", periods=n, freq="7h", tz="UTC"),
            "time_precision": pd.Categorical(["exact", "day"] * (n // 2), dtype=TIME_PRECISION_DTYPE),
            "geometry": gpd.points_from_xy(rng.uniform(24, 38, n), rng.uniform(46, 51, n), crs="EPSG:4326"),
            "location": pd.array([f"Place {i % 4}" for i in range(n)], dtype="string"),
            "admin1": pd.array(["Kyiv Oblast"] * n, dtype="string"),
            "geo_precision": pd.Categorical(["exact", "settlement", "region"] * (n // 3), dtype=GEO_PRECISION_DTYPE),
            "munition": pd.array(["Shahed-136", "KN-23", None, "Kh-101"] * (n // 4), dtype="string"),
            "munition_class": pd.Categorical(
                [MUNITION_CLASSES[i % len(MUNITION_CLASSES)] for i in range(n)], dtype=MUNITION_CLASS_DTYPE),
            "outcome": pd.Categorical([OUTCOMES[i % len(OUTCOMES)] for i in range(n)], dtype=OUTCOME_DTYPE),
            "killed": pd.array([1, None] * (n // 2), dtype="Int64"),
            "injured": pd.array([None] * n, dtype="Int64"),
            "source": pd.array(["Air Force"] * n, dtype="string"),
            "source_url": pd.array([f"https://example.org/{i}" for i in range(n)], dtype="string"),
            "notes": pd.array(["<script>window.pwned=1</script>"] * n, dtype="string"),
        },
        geometry="geometry",
        crs="EPSG:4326",
    )
    return frame[list(CANONICAL_COLUMNS)]


def test_live_page_loads_nothing_over_the_network():
    page = mappage.build_page(live=True)
    assert not REMOTE_ASSET.search(page)
    sources = re.findall(r"<script[^>]*src=\"([^\"]+)\"", page) + re.findall(r"<link[^>]*href=\"([^\"]+)\"", page)
    assert any(s.endswith("/leaflet.js") for s in sources)
    assert any(s.endswith("/viewer.js") for s in sources)
    assert all(s.startswith(("file:///", "qrc:///")) for s in sources), sources
    assert not re.search(r"jquery|bootstrap|font-?awesome", " ".join(sources), re.I)


def test_standalone_file_carries_assets_and_data_inline(tmp_path):
    frame = small_frame()
    out = mappage.write_standalone_html(frame, tmp_path / "map.html", title="Night <of> 29 Sep")
    page = out.read_text(encoding="utf-8")
    assert not REMOTE_ASSET.search(page)
    assert not re.search(r"<script[^>]*\bsrc=", page)  # every script inline
    assert not re.search(r"<link[^>]*stylesheet", page)
    assert "file://" not in page and "qrc:" not in page
    assert "<title>Night &lt;of&gt; 29 Sep</title>" in page
    assert "L.Map" in page or "L.map" in page  # Leaflet itself is in the file
    # Record text sits in the page as data that cannot close the script element holding it.
    assert "<script>window.pwned" not in page
    assert "\\u003cscript>window.pwned=1\\u003c/script>" in page


def test_standalone_title_box_text_is_data_in_the_page(tmp_path):
    hostile = "</script><script>window.pwned=1</script>"
    page = mappage.write_standalone_html(small_frame(), tmp_path / "map.html", title="Night " + hostile,
                                         subtitle="impact " + hostile, fingerprint="abc123def456").read_text("utf-8")
    assert hostile not in page
    assert '"subtitle":"impact \\u003c/script>\\u003cscript>window.pwned=1\\u003c/script>"' in page
    assert '"fingerprint":"abc123def456"' in page
    assert "Natural Earth" in page and "GeoNames" in page  # the basemap credits travel with the page
    untitled = mappage.write_standalone_html(small_frame(), tmp_path / "plain.html").read_text("utf-8")
    assert '"heading":null' in untitled


def test_element_needing_an_unknown_asset_fails_loudly():
    fmap = folium.Map(tiles=None)
    folium.plugins.Fullscreen().add_to(fmap)  # its script only exists on a CDN
    urls = {name: path.as_uri() for name, path in mappage.asset_files().items()}
    with pytest.raises(mappage.AssetError, match="Fullscreen"):
        mappage.localise_assets(fmap, urls)


def test_asset_lists_are_rewritten_per_instance_not_on_the_class():
    before = list(folium.Map.default_js)
    mappage.build_page(live=False)
    assert folium.Map.default_js == before
    assert folium.plugins.HeatMap.default_js[0][1].startswith("https://")


def test_remote_asset_check_catches_cdn_links():
    with pytest.raises(mappage.AssetError):
        mappage.check_offline('<script src="https://cdn.example/leaflet.js"></script>')
    with pytest.raises(mappage.AssetError):
        mappage.check_offline('<link rel="stylesheet" href="//cdn.example/x.css"/>')
    mappage.check_offline('<a href="https://leafletjs.com">Leaflet</a>')  # a link is not an asset


def test_basemap_specs():
    assert mappage.basemap_spec("offline") == {"id": "offline"}
    osm = mappage.basemap_spec("OpenStreetMap.Mapnik")
    assert osm["url"].startswith("https://") and "{z}" in osm["url"] and osm["attribution"]
    local = mappage.basemap_spec("http://10.0.0.5:8080/tiles/{z}/{x}/{y}.png")
    assert local["url"] == "http://10.0.0.5:8080/tiles/{z}/{x}/{y}.png" and not local["trusted_attribution"]
    with pytest.raises(DataError, match="unknown basemap"):
        mappage.basemap_spec("No.Such.Provider")
    with pytest.raises(DataError, match="must start with"):
        mappage.basemap_spec("javascript:alert(1)//{z}/{x}/{y}")


def test_offline_basemap_has_country_outlines_and_oblasts():
    countries, oblasts, labels = mappage._basemap_geojson()
    assert '"Ukraine"' in countries
    assert len(labels) >= 24  # oblasts, Kyiv city, Crimea, Sevastopol
    assert oblasts.count('"Feature"') == len(labels)


def _decode(text: str, dtype: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=dtype)


def test_encoded_incidents_round_trip():
    frame = small_frame()
    positions = np.array([1, 4, 7, 10])
    data = mappage.encode_incidents(frame, positions, total=len(frame))
    assert data["n"] == 4 and data["total"] == len(frame)
    assert _decode(data["pos"], "<i4").tolist() == positions.tolist()
    rows = frame.iloc[positions]
    assert np.allclose(_decode(data["lat"], "<f4"), rows.geometry.y, atol=1e-4)
    assert np.allclose(_decode(data["lon"], "<f4"), rows.geometry.x, atol=1e-4)
    outcomes = [OUTCOMES[c] for c in _decode(data["outcome"], "u1")]
    assert outcomes == list(rows["outcome"])
    classes = [MUNITION_CLASSES[c] for c in _decode(data["cls"], "u1")]
    assert classes == list(rows["munition_class"])
    mun = _decode(data["mun"], "<i4")
    assert [data["munitions"][c] if c >= 0 else None for c in mun] == [
        None if pd.isna(m) else m for m in rows["munition"]]
    minutes = _decode(data["t"], "<i4")
    # minutes of Kyiv wall-clock time, as the tooltip shows them
    assert pd.to_datetime(minutes[0], unit="m") == rows["occurred_at"].iloc[0].tz_convert("Europe/Kyiv").tz_localize(None)
    assert sum(data["counts"]["outcomes"].values()) == 4
    assert data["counts"]["classes"][classes[0]] >= 1


def test_record_details_are_every_field_as_text_under_readable_labels():
    frame = small_frame()
    frame["Shelter"] = "school basement"  # an extra input column keeps its own name
    details = mappage.record_details(frame, [3])
    fields = dict(details["3"])
    expected = {mappage.FIELD_LABELS[c] for c in CANONICAL_COLUMNS if c != "geometry"} | {"Coordinates", "Shelter"}
    assert set(fields) == expected
    assert fields["Notes"] == "<script>window.pwned=1</script>"  # text, escaped by the page
    assert fields["Killed"] == ""  # missing stays missing, never 0
    assert fields["Source URL"] == "https://example.org/3"
    assert fields["Shelter"] == "school basement"
    when = frame["occurred_at"].iloc[3].tz_convert("Europe/Kyiv")
    assert fields["Time (Kyiv)"] == f"{when:%Y-%m-%d %H:%M}"


def test_record_details_and_rows_are_the_same_for_places_held_as_columns():
    frame = small_frame()
    light = without_geometry(frame)  # as the app holds its rows
    assert mappage.record_details(light, [0, 3]) == mappage.record_details(frame, [0, 3])
    fields = dict(mappage.record_details(light, [3])["3"])
    point = frame.geometry.iloc[3]
    assert fields["Coordinates"] == f"{point.y:.5f}, {point.x:.5f}" and "latitude" not in fields
    heavy, columns = mappage.IncidentEncoder(frame).binary(), mappage.IncidentEncoder(light).binary()
    assert heavy == columns


def test_record_details_name_the_file_and_row_on_one_line():
    frame = small_frame()
    frame["dataset"] = "/data/briefing/incidents.gpkg"
    frame["source_row"] = range(100, 100 + len(frame))
    fields = mappage.record_details(frame, [2])["2"]
    assert fields[-1] == ["File", "incidents.gpkg, row 102", "/data/briefing/incidents.gpkg"]
    assert not any(f[0] in ("dataset", "source_row") for f in fields)


def test_filter_mask_payload_names_the_kept_rows():
    frame = small_frame()
    encoder = mappage.IncidentEncoder(frame)
    mask = np.zeros(len(frame), dtype=bool)
    mask[[0, 3, 8, 11]] = True
    data = encoder.mask_payload(mask)
    bits = np.unpackbits(np.frombuffer(base64.b64decode(data["bits"]), dtype="u1"), bitorder="little")
    assert np.flatnonzero(bits[: len(frame)]).tolist() == [0, 3, 8, 11]
    assert data["n"] == 4 and data["total"] == len(frame)
    assert data["counts"]["outcomes"] == {o: int((frame["outcome"][mask] == o).sum()) for o in OUTCOMES}


@pytest.mark.parametrize("filter_kwargs,expected", [
    ({}, ""),
    ({"outcomes": {"impact"}}, ""),  # not a date filter
    ({"start": "2025-09-29", "end": "2025-09-30"}, "2025-09-29 – 2025-09-30"),
    ({"start": "2025-09-30", "end": "2025-09-30"}, "2025-09-30"),
    ({"start": "2025-09-29"}, "from 2025-09-29"),
    ({"end": "2025-09-30"}, "until 2025-09-30"),
    # A UTC instant is shown in the working zone (Kyiv is UTC+3 in summer).
    ({"start": pd.Timestamp("2025-09-29 22:00", tz="UTC"), "end": pd.Timestamp("2025-09-29 23:00", tz="UTC")},
     "2025-09-30 01:00 – 2025-09-30 02:00 (Kyiv time)"),
    ({"start": "2025-09-29", "end": "2025-09-30", "tz": "UTC"}, "2025-09-29 – 2025-09-30"),
])
def test_date_caption_in_the_working_time_zone(filter_kwargs, expected):
    import datetime as dt

    from geodata.filters import FilterState

    kwargs = {k: dt.date.fromisoformat(v) if isinstance(v, str) else v for k, v in filter_kwargs.items() if k != "tz"}
    if "tz" in filter_kwargs:
        kwargs["tz"] = filter_kwargs["tz"]
    assert mappage.date_caption(FilterState(**kwargs)) == expected


def test_the_page_carries_place_names_for_the_offline_basemap_and_credits_them():
    import json

    from geodata import gazetteer

    page = mappage.build_page(live=False)
    match = re.search(r'"places":(\[\[.*?\]\])', page)
    assert match, "no place names in the page config"
    places = json.loads(match.group(1))
    expected = gazetteer.settlements(mappage.PLACE_MIN_POPULATION)
    assert len(places) == len(expected) > 500
    assert [p[0] for p in places[:3]] == ["Kyiv", "Kharkiv", "Odesa"]
    assert all(p[3] >= 5_000 for p in places) and "Bucha" in {p[0] for p in places}
    pops = [p[3] for p in places]
    assert pops == sorted(pops, reverse=True)  # largest first: the page places names greedily in this order
    assert "place names: GeoNames (CC BY 4.0)" in mappage.BASEMAP_CREDITS["places"][0]
