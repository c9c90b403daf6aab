"""TimeMap exports (Bellingcat flat API export, native three-file export): small files written here."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from geodata.errors import DataError
from geodata.readers import timemap

FLAT = [
    {"id": "CIV0001", "date": "02/24/2022", "latitude": "49.85005", "longitude": "36.659031",
     "location": "Chuhuiv", "description": "Apartment block hit.",
     "sources": [{"id": "s1", "path": "https://example.org/a", "description": "Video of the block"},
                 {"id": "s2", "path": "https://example.org/b", "description": "Photo"}],
     "filters": [{"key": "Type of area affected", "value": "Residential"},
                 {"key": "Weapon System", "value": "Cruise missile"}]},
    # empty location, string coordinates, a day above 12 in the second place (MM/DD)
    {"id": "CIV0002", "date": "03/13/2022", "latitude": "46.4825", "longitude": "30.7233", "location": "",
     "description": "Port area", "sources": [],
     "filters": [{"key": "Weapon System", "value": "HE rocket artillery"},
                 {"key": "Type of area affected", "value": "Industrial"},
                 {"key": "Type of area affected", "value": "Residential"}]},
    # no coordinates at all
    {"id": "CIV0003", "date": "03/14/2022", "latitude": "", "longitude": "", "location": "Somewhere",
     "description": "No point", "sources": [], "filters": []},
    {"id": "CIV0004", "date": "03/15/2022", "latitude": "50.0", "longitude": "36.2", "location": "Kharkiv",
     "description": "Cluster strike", "sources": [],
     "filters": [{"key": "Weapon System", "value": "Cluster munitions"}]},
    # a point far outside the region
    {"id": "CIV0005", "date": "03/16/2022", "latitude": "5.0", "longitude": "36.2", "location": "Typo",
     "description": "", "sources": [], "filters": []},
]


def write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def flat_file(tmp_path: Path) -> Path:
    return write_json(tmp_path / "ukraine_export.json", FLAT)


def test_flat_export_raw_layer(flat_file: Path) -> None:
    raw, report, rejected = timemap.parse(flat_file)
    assert list(raw.index) == [1, 2, 3, 4, 5]  # first event is row 1
    assert raw.loc[1, "event_id"] == "CIV0001"
    # string coordinates become numbers
    assert raw.loc[2, "latitude"] == pytest.approx(46.4825)
    assert raw.loc[2, "longitude"] == pytest.approx(30.7233)
    assert raw.loc[2, "occurred_at"] == "03/13/2022"  # as written: read_incidents reads the dates
    assert pd.isna(raw.loc[2, "location"])
    assert raw.loc[1, "source_url"] == "https://example.org/a | https://example.org/b"
    assert raw.loc[1, "munition_class"] == "cruise missile"
    assert raw.loc[2, "munition_class"] == "rocket artillery"
    assert raw.loc[4, "munition_class"] == "unknown"
    assert raw.loc[4, "tag_weapon_system"] == "Cluster munitions"  # text kept
    assert raw.loc[2, "tag_type_of_area_affected"] == "Industrial | Residential"
    assert rejected == {3, 5}
    messages = {(p.row, p.column): p.message for p in report.problems}
    assert messages[(3, "latitude")].startswith("no coordinates (latitude and longitude empty)")
    assert "'Somewhere' is not in the gazetteer" in messages[(3, "latitude")]
    assert "far outside" in messages[(5, "latitude")]


def test_flat_export_day_first_dates_are_detected(tmp_path: Path) -> None:
    from geodata import read_incidents

    events = [dict(FLAT[0], date="24/02/2022"), dict(FLAT[3], date="05/03/2022")]
    frame = read_incidents(write_json(tmp_path / "events.json", events)).frame
    assert frame.loc[2, "occurred_at"].tz_convert("Europe/Kyiv").date().isoformat() == "2022-03-05"


def test_ambiguous_dates_are_read_month_first_as_timemap_writes_them(tmp_path: Path) -> None:
    from geodata import read_incidents

    events = [dict(FLAT[0], date="03/04/2022"), dict(FLAT[3], date="03/05/2022")]
    result = read_incidents(write_json(tmp_path / "events.json", events))
    assert [d.month for d in result.frame["occurred_at"].dt.tz_convert("Europe/Kyiv")] == [3, 3]
    [note] = [p for p in result.report.warnings if "ambiguous" in p.message]
    assert note.column == "date" and "MM/DD/YYYY (month first" in note.message
    forced = read_incidents(tmp_path / "events.json", dayfirst=True).frame
    assert [d.month for d in forced["occurred_at"].dt.tz_convert("Europe/Kyiv")] == [4, 5]


def test_a_mistyped_year_is_kept_with_a_warning_as_in_any_file(tmp_path: Path) -> None:
    from geodata import read_incidents

    result = read_incidents(write_json(tmp_path / "events.json", [dict(FLAT[0], date="02/24/2202")]))
    assert result.report.rows_loaded == 1
    [year] = [p for p in result.report.problems if p.column == "date"]
    assert year.severity == "warning" and "'02/24/2202' is in the future" in year.message


def test_sniff_recognises_both_shapes_and_nothing_else(flat_file: Path, tmp_path: Path) -> None:
    assert timemap.sniff(flat_file, flat_file.read_bytes()[:4096])
    native = _native(tmp_path)
    assert timemap.sniff(native, native.read_bytes()[:4096])
    geojson = b'{"type": "FeatureCollection", "features": []}'
    assert not timemap.sniff(tmp_path / "x.json", geojson)
    assert not timemap.sniff(tmp_path / "x.csv", b"id,date,latitude,longitude\n1,2,3,4\n")


def test_bad_json_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[{"id": "A", "date": ', encoding="utf-8")
    with pytest.raises(DataError, match="broken.json.*not valid JSON"):
        timemap.parse(path)


def _native(folder: Path, *, with_associations: bool = True, with_sources: bool = True) -> Path:
    events = [
        {"id": "E1", "date": "24/02/2022", "time": "05:30", "location": "Kyiv", "latitude": "50.45",
         "longitude": "30.52", "description": "Strike on a depot", "graphic": "FALSE",
         "associations": ["WS_CRUISE", "AREA_RES", "NARR_1"], "sources": ["SRC1", "SRC2"]},
        {"id": "E2", "date": "25/02/2022", "time": "", "location": "", "latitude": "49.99",
         "longitude": "36.23", "description": "Bodies visible", "graphic": "TRUE",
         "associations": ["WS_BALLISTIC"], "sources": ["SRC2"]},
    ]
    associations = [
        {"id": "WS_CRUISE", "title": "", "mode": "FILTER", "filter_paths": ["Weapon System", "Cruise missile"]},
        {"id": "WS_BALLISTIC", "title": "", "mode": "FILTER",
         "filter_paths": ["Weapon System", "Ballistic missile"]},
        {"id": "AREA_RES", "title": "", "mode": "FILTER",
         "filter_paths": ["Type of area affected", "Residential"]},
        {"id": "NARR_1", "title": "Night of 24 February", "mode": "NARRATIVE", "filter_paths": []},
    ]
    sources = {
        "SRC1": {"id": "SRC1", "title": "Telegram post", "paths": ["https://t.me/example/1", "media/1.jpg"],
                 "type": "Telegram", "url": "", "date": "24/02/2022"},
        "SRC2": {"id": "SRC2", "title": "News report", "paths": [], "type": "Web",
                 "url": "https://news.example/2", "date": ""},
    }
    write_json(folder / "ua_events.json", events)
    if with_associations:
        write_json(folder / "ua_associations.json", associations)
    if with_sources:
        write_json(folder / "ua_sources.json", sources)
    return folder / "ua_events.json"


def test_native_export_finds_its_siblings(tmp_path: Path) -> None:
    raw, report, rejected = timemap.parse(_native(tmp_path))
    assert rejected == set()
    assert raw.loc[1, "munition_class"] == "cruise missile"
    assert raw.loc[2, "munition_class"] == "ballistic missile"
    assert raw.loc[1, "tag_type_of_area_affected"] == "Residential"
    assert raw.loc[1, "narrative"] == "Night of 24 February"
    assert raw.loc[1, "source_url"] == "https://t.me/example/1 | https://news.example/2"
    assert raw.loc[1, "source"] == "Telegram post | News report"
    assert raw["graphic"].tolist() == [False, True]
    assert (raw.loc[1, "occurred_at"], raw.loc[1, "time"]) == ("24/02/2022", "05:30")
    assert report.errors == []


def test_native_export_with_missing_siblings_keeps_ids_and_says_so(tmp_path: Path) -> None:
    raw, report, rejected = timemap.parse(_native(tmp_path, with_associations=False, with_sources=False))
    assert rejected == set()
    assert raw.loc[1, "association_ids"] == "WS_CRUISE | AREA_RES | NARR_1"
    assert raw.loc[1, "source_ids"] == "SRC1 | SRC2"
    file_warnings = [p.message for p in report.warnings if p.row is None]
    assert any("ua_associations.json" in m and "not found" in m for m in file_warnings)
    assert any("ua_sources.json" in m and "not found" in m for m in file_warnings)
    assert (raw["munition_class"] == "unknown").all()


def test_opening_the_associations_file_says_which_file_to_open(tmp_path: Path) -> None:
    _native(tmp_path)
    with pytest.raises(DataError, match="associations file; open the events file"):
        timemap.parse(tmp_path / "ua_associations.json")


# -- through the registry: what a user opening the file gets -------------------------------------


def test_flat_export_loads_through_read_incidents(flat_file: Path) -> None:
    from geodata import read_incidents
    from geodata.readers import detect_format

    assert detect_format(flat_file) == "timemap"
    result = read_incidents(flat_file)
    frame, report = result.frame, result.report
    assert (report.format, report.rows_read, report.rows_loaded, report.rows_rejected) == ("timemap", 5, 3, 2)
    assert list(frame.index) == [1, 2, 4]
    assert frame.crs.to_epsg() == 4326
    assert frame.loc[2, "geometry"].x == pytest.approx(30.7233)
    assert frame.loc[1, "munition_class"] == "cruise missile"
    assert frame.loc[4, "munition_class"] == "unknown"
    assert frame.loc[2, "time_precision"] == "day"
    assert frame.loc[1, "source_url"] == "https://example.org/a | https://example.org/b"
    # filter tags stay as columns the filter panel can offer
    assert frame.loc[1, "tag_type_of_area_affected"] == "Residential"
    assert frame.loc[4, "tag_weapon_system"] == "Cluster munitions"
    # each rejected row is listed once, by row number
    assert sorted(p.row for p in report.errors) == [3, 5]


def test_native_export_loads_through_read_incidents_with_graphic_flag(tmp_path: Path) -> None:
    from geodata import read_incidents

    result = read_incidents(_native(tmp_path))
    frame = result.frame
    assert result.report.rows_loaded == 2
    assert frame["graphic"].tolist() == [False, True]
    # a date with a time is exact; 05:30 Kyiv (UTC+2) is 03:30 UTC
    assert frame.loc[1, "occurred_at"] == pd.Timestamp("2022-02-24 03:30", tz="UTC")
    assert frame.loc[1, "time_precision"] == "exact"
    assert frame.loc[2, "time_precision"] == "day"
    assert "time" not in frame.columns  # it completed the date


def test_a_time_that_is_not_a_time_keeps_the_day_with_a_warning(tmp_path: Path) -> None:
    from geodata import read_incidents

    events = json.loads(_native(tmp_path).read_text(encoding="utf-8"))
    events[0]["time"] = "dawn"
    result = read_incidents(write_json(tmp_path / "ua_events.json", events))
    assert result.report.rows_loaded == 2 and result.frame.loc[1, "time_precision"] == "day"
    [said] = [p for p in result.report.warnings if p.row == 1 and p.column == "time"]
    assert "'dawn' is not a time of day" in said.message


def test_inspect_names_the_format(flat_file: Path, capsys) -> None:
    from mapviewer.cli.main import main

    assert main(["inspect", str(flat_file), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["format"] == "timemap"
    assert summary["rows_read"] == summary["rows_loaded"] + summary["rows_rejected"] == 5


def test_event_without_coordinates_is_placed_at_its_named_location(tmp_path: Path) -> None:
    from geodata import read_incidents

    events = [dict(FLAT[0], id="P1", latitude="", longitude="", location="Kharkiv"),
              dict(FLAT[0], id="P2", latitude="", longitude="", location="Chuhuiv, south of Kharkiv")]
    result = read_incidents(write_json(tmp_path / "events.json", events))
    frame, report = result.frame, result.report
    assert list(frame["event_id"]) == ["P1"]
    assert frame.loc[1, "geo_precision"] == "settlement"
    assert frame.loc[1, "admin1"] == "Kharkiv Oblast"
    assert any(p.row == 1 and p.column == "location" and "placed at 'Kharkiv'" in p.message for p in report.warnings)
    # a description the gazetteer cannot place as one place is rejected, not guessed
    assert any(p.row == 2 and "is not in the gazetteer" in p.message for p in report.errors)


def test_a_stray_value_in_the_array_is_one_rejected_row(tmp_path: Path) -> None:
    from geodata import read_incidents

    report = read_incidents(write_json(tmp_path / "events.json", [FLAT[0], "oops", FLAT[1]])).report
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (3, 2, 1)
    assert [(p.row, p.message) for p in report.errors] == [(2, "event is not a JSON object")]


def test_opening_the_sources_file_says_which_file_to_open(tmp_path: Path) -> None:
    from geodata import read_incidents
    from geodata.readers import detect_format

    _native(tmp_path)
    sources = tmp_path / "ua_sources.json"
    assert detect_format(sources) == "timemap"  # not read as a CSV with garbled columns
    with pytest.raises(DataError, match=r"ua_sources\.json: this is a TimeMap sources file; open the events file"):
        read_incidents(sources)
    # the same as an array of sources
    listed = write_json(tmp_path / "sources.json", list(json.loads(sources.read_text(encoding="utf-8")).values()))
    with pytest.raises(DataError, match="TimeMap sources file"):
        read_incidents(listed)


def _munition_notes(report) -> list[str]:
    return [p.message for p in report.problems if p.row is None and p.column == "munition"]


def test_the_munition_note_speaks_of_timemap_and_the_weapon_system_read(tmp_path: Path, flat_file: Path) -> None:
    from geodata import read_incidents

    for path in (flat_file, _native(tmp_path)):
        [note] = _munition_notes(read_incidents(path).report)
        assert "no munition column" not in note
        assert "class comes from the Weapon System filter" in note
    # without the associations file no weapon system was read, and the note says so
    bare = tmp_path / "bare"
    bare.mkdir()
    [note] = _munition_notes(read_incidents(_native(bare, with_associations=False)).report)
    assert "no Weapon System filter was read" in note
