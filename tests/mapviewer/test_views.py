"""Saved views: JSON round trip, relative paths, clear messages, applying to the app."""
from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest

from geodata import FilterState
from geodata.errors import DataError
from mapviewer.views import ViewSpec, load_view, save_view, view_from_state


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
    from mapviewer.views import apply_view

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
    from mapviewer.views import apply_view

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
