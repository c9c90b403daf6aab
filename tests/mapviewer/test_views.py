"""Saved views: JSON round trip, relative paths, clear messages, applying to the app."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil

import pytest

from geodata import FilterState
from geodata.errors import DataError
from mapviewer.files.views import ViewSpec, load_view, save_view, view_from_state


@pytest.fixture
def project(tmp_path):
    """A folder with data files and a views subfolder, as a team would share it."""
    (tmp_path / "data").mkdir()
    (tmp_path / "views").mkdir()
    for name in ("night.csv", "month.gpkg"):
        (tmp_path / "data" / name).write_text("x", encoding="utf-8")
    return tmp_path


def spec_for(project) -> ViewSpec:
    return ViewSpec(
        data=(str(project / "data" / "night.csv"), str(project / "data" / "month.gpkg")),
        filter=FilterState(start=dt.date(2025, 9, 29), end=dt.datetime(2025, 9, 30, 6, 30),
                           munitions={"KN-23", "Kh-101"}, outcomes={"impact"},
                           munition_classes={"ballistic missile", "cruise missile"}, admin1={"Kyiv Oblast"},
                           text="Bucha", bbox=(29.0, 49.5, 32.0, 51.5), min_casualties=1),
        basemap="offline",
        center=(50.45, 30.52),
        zoom=9.0,
    )


def test_round_trip_keeps_every_field(project):
    spec = spec_for(project)
    path = project / "views" / "brief.json"
    save_view(path, spec)
    assert load_view(path) == spec


def test_data_paths_are_stored_relative_to_the_view_file(project):
    path = project / "views" / "brief.json"
    save_view(path, spec_for(project))
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["data"] == ["../data/night.csv", "../data/month.gpkg"]
    assert document["filter"]["munitions"] == ["KN-23", "Kh-101"]
    assert document["filter"]["start"] == "2025-09-29"
    assert document["center"] == [50.45, 30.52] and document["zoom"] == 9.0


def test_a_moved_folder_still_opens(project, tmp_path_factory):
    save_view(project / "views" / "brief.json", spec_for(project))
    moved = tmp_path_factory.mktemp("elsewhere") / "team"
    shutil.copytree(project, moved)
    spec = load_view(moved / "views" / "brief.json")
    assert spec.data == (str(moved / "data" / "night.csv"), str(moved / "data" / "month.gpkg"))


def test_missing_data_file_names_both_files(project):
    path = project / "views" / "brief.json"
    save_view(path, spec_for(project))
    (project / "data" / "month.gpkg").unlink()
    with pytest.raises(DataError) as info:
        load_view(path)
    message = str(info.value)
    assert "brief.json" in message and "month.gpkg" in message and "not found" in message
    assert "\n" not in message


@pytest.mark.parametrize("content, words", [
    ("{not json", "not valid JSON"),
    ('{"type": "FeatureCollection", "features": []}', "not a saved view"),
    ('{"mapviewer_view": 99}', "version"),
    ('{"mapviewer_view": 1, "filter": {"colour": "red"}}', "unknown filter field"),
    ('{"mapviewer_view": 1, "filter": {"start": "last tuesday"}}', "not a date"),
    ('{"mapviewer_view": 1, "center": "Kyiv"}', "center"),
])
def test_bad_view_files_give_one_line_messages(tmp_path, content, words):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=words) as info:
        load_view(path)
    assert "bad.json" in str(info.value)


def test_view_from_state_and_apply_view(qtbot, make_main_window, tmp_path, frame):
    from geodata.writers import write_csv
    from mapviewer.files.views import apply_view

    data = tmp_path / "night.csv"
    write_csv(frame, data)
    view_file = tmp_path / "brief.json"
    wanted = FilterState(munitions={"KN-23"}, outcomes={"impact"})
    save_view(view_file, ViewSpec(data=(str(data),), filter=wanted, basemap="offline", center=(50.4, 30.4), zoom=10))

    window = make_main_window()
    with qtbot.waitSignal(window.loader.idle, timeout=60000):
        apply_view(window, load_view(view_file))
    state = window.state
    assert [d.path for d in state.datasets] == [str(data)]
    assert state.filter == wanted
    assert list(state.visible["event_id"]) == ["N-1", "N-2", "N-4"]
    assert state.view == (50.4, 30.4, 10.0)

    again = view_from_state(state)
    assert again.data == (str(data),) and again.filter == wanted and again.center == (50.4, 30.4)


def test_a_saved_view_keeps_open_wave_reports(qtbot, make_main_window, tmp_path, waves_csv):
    from mapviewer.files.views import apply_view

    window = make_main_window()
    with qtbot.waitSignal(window.loader.idle, timeout=60000):
        window.open_files([waves_csv])
    assert [d.path for d in window.state.wave_datasets] == [waves_csv]
    view_file = tmp_path / "waves-view.json"
    save_view(view_file, view_from_state(window.state))
    assert load_view(view_file).data == (waves_csv,)

    other = make_main_window()
    with qtbot.waitSignal(other.loader.idle, timeout=60000):
        apply_view(other, load_view(view_file))
    assert [d.path for d in other.state.wave_datasets] == [waves_csv]
    assert other.state.waves is not None and len(other.state.waves) == len(window.state.waves)


def test_tags_title_and_page_are_saved_and_restored(project):
    from geodata.filters import NO_TAG

    tags = frozenset({("tag_type_of_area_affected", "Residential"), ("tag_type_of_area_affected", NO_TAG)})
    spec = dataclasses.replace(spec_for(project), filter=FilterState(tags=tags),
                               title="Kyiv, night of 29 September", page="slide-16:9")
    path = project / "views" / "brief.json"
    save_view(path, spec)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["filter"]["tags"] == [["tag_type_of_area_affected", NO_TAG],
                                          ["tag_type_of_area_affected", "Residential"]]
    assert document["title"] == "Kyiv, night of 29 September" and document["page"] == "slide-16:9"
    again = load_view(path)
    assert again == spec and again.filter.tags == tags
    assert again.title == "Kyiv, night of 29 September" and again.page == "slide-16:9"


@pytest.mark.parametrize("fields, field, words", [
    ({"filter": {"min_casualties": "abc"}}, "filter.min_casualties", "whole number"),
    ({"filter": {"min_casualties": -1}}, "filter.min_casualties", "whole number"),
    ({"filter": {"min_casualties": True}}, "filter.min_casualties", "whole number"),
    ({"filter": {"bbox": ["a", 1, 2, 3]}}, "filter.bbox", "west, south, east, north"),
    ({"filter": {"bbox": [32, 49, 29, 51]}}, "filter.bbox", "not an area"),
    ({"filter": {"bbox": [29, 49, 32, 95]}}, "filter.bbox", "not an area"),
    ({"filter": {"tz": "Nowhere"}}, "filter.tz", "unknown time zone"),
    ({"filter": {"tz": 3}}, "filter.tz", "time zone"),
    ({"filter": {"tz": "Europe"}}, "filter.tz", "unknown time zone"),
    ({"filter": {"text": ["Bucha"]}}, "filter.text", "must be text"),
    ({"filter": {"tags": ["Residential"]}}, "filter.tags", "column, value"),
    ({"zoom": True}, "zoom", "number from 0"),
    ({"zoom": 99}, "zoom", "number from 0"),
    ({"center": [150, 30]}, "center", "latitude must be between -90 and 90"),
    ({"center": [50, True]}, "center", "latitude, longitude"),
    ({"basemap": {"name": "osm"}}, "basemap", "must be text"),
    ({"title": 42}, "title", "must be text"),
    ({"page": "A0-poster"}, "page", "unknown page"),
])
def test_a_wrong_value_names_the_view_file_and_the_field(tmp_path, fields, field, words):
    path = tmp_path / "brief.json"
    path.write_text(json.dumps({"mapviewer_view": 1} | fields), encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_view(path)
    message = str(info.value)
    assert "brief.json" in message and f"[{field}]" in message and words in message
    assert "\n" not in message


def test_a_malformed_view_is_one_line_from_the_batch_cli(tmp_path, capsys):
    from mapviewer.cli.export import run_export

    data = tmp_path / "night.csv"
    data.write_text("event_id,occurred_at,latitude,longitude,munition,outcome\n"
                    "A-1,2025-09-30 01:40,50.29,30.30,KN-23,impact\n", encoding="utf-8")
    view = tmp_path / "brief.json"
    view.write_text(json.dumps({"mapviewer_view": 1, "data": ["night.csv"],
                                "filter": {"min_casualties": "abc"}}), encoding="utf-8")
    code = run_export(["--view", str(view), "--format", "csv", "-o", str(tmp_path / "out.csv")])
    err = capsys.readouterr().err
    assert code != 0
    assert len(err.strip().splitlines()) == 1 and "brief.json" in err and "min_casualties" in err
    assert "Traceback" not in err and not (tmp_path / "out.csv").exists()


def test_a_saved_view_replaces_the_open_files_and_sets_the_title(qtbot, make_main_window, tmp_path, frame,
                                                                 waves_csv):
    from geodata.writers import write_csv
    from mapviewer.files.views import apply_view

    data = tmp_path / "night.csv"
    write_csv(frame, data)
    other = tmp_path / "other.csv"
    write_csv(frame.iloc[:2], other)
    view_file = tmp_path / "brief.json"
    save_view(view_file, ViewSpec(data=(str(data),), title="Kyiv brief", page="A4-portrait"))

    window = make_main_window()
    with qtbot.waitSignal(window.loader.idle, timeout=60000):
        window.open_files([str(other), waves_csv])
    assert len(window.state.frame) == 2 and window.state.wave_datasets
    with qtbot.waitSignal(window.loader.idle, timeout=60000):
        apply_view(window, load_view(view_file))
    state = window.state
    # The colleague gets the same picture: only the view's file, none of what was open before.
    assert [d.path for d in state.all_datasets] == [str(data)]
    assert state.waves is None and len(state.frame) == len(frame)
    assert set(state.frame["dataset"]) == {str(data)}
    assert window.table.model.rowCount() == len(frame)
    assert window.figure_title == "Kyiv brief" and window.figure_page == "A4-portrait"
    saved_again = view_from_state(state)
    assert saved_again.title == "Kyiv brief" and saved_again.page == "A4-portrait"
