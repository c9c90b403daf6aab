"""The main window: opening files, failures, the load report, remembered settings."""
from __future__ import annotations

import os

import pandas as pd
import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox

from geodata.report import LoadReport

LOAD_WAIT = 60000  # a read runs in a worker thread on a busy 2-core machine

HEADER = "event_id,occurred_at,latitude,longitude,location,munition,outcome,killed,notes\n"
GOOD_ROWS = (
    "A-1,2025-09-30 01:40,50.29,30.30,Boiarka,KN-23,impact,2,Father and son killed\n"
    "A-2,2025-09-30 01:41,50.38,30.35,Vyshneve,KN-23,deviated,,Exploded in the air\n"
)


@pytest.fixture
def good_csv(tmp_path):
    path = tmp_path / "night.csv"
    path.write_text(HEADER + GOOD_ROWS, encoding="utf-8")
    return str(path)


@pytest.fixture
def partly_bad_csv(tmp_path):
    path = tmp_path / "partner.csv"
    # Row 4 (header is row 1) has no date; row 5 no coordinates and no place name to place it by:
    # both are rejected.
    path.write_text(HEADER + GOOD_ROWS + "A-3,,50.4,30.5,Kyiv,Shahed-136,intercepted,,\n"
                    "A-4,2025-09-30 02:00,,,,Shahed-136,impact,,\n", encoding="utf-8")
    return str(path)


@pytest.fixture
def unreadable(tmp_path):
    path = tmp_path / "broken.gpkg"
    path.write_bytes(b"\x00\x01 this is not a GeoPackage \xff\xfe" * 20)
    return str(path)


def _open(window, qtbot, paths, signal=None):
    with qtbot.waitSignal(signal or window.loader.idle, timeout=LOAD_WAIT):
        window.open_files(paths)


def test_window_has_the_panels_and_menus(make_main_window, loaded_state):
    window = make_main_window(loaded_state)
    assert window.centralWidget().widget(0) is window.map_view
    assert window.centralWidget().widget(1) is window.timeline
    for dock in (window.filter_dock, window.table_dock, window.summary_dock):
        assert dock.isVisible()
    labels = [a.text() for a in window.file_menu.actions()]
    assert "&Open..." in labels and "Load &report..." in labels and "&Quit" in labels
    assert window.table.model.rowCount() == 8
    assert "night.csv" in window.windowTitle()


def test_opening_a_file_adds_its_rows_and_remembers_it(make_main_window, good_csv, qtbot, settings):
    window = make_main_window()
    _open(window, qtbot, [good_csv])
    assert len(window.state.frame) == 2
    assert window.table.model.rowCount() == 2
    assert set(window.state.frame["event_id"]) == {"A-1", "A-2"}
    assert window.recent_menu.actions()[0].text() == os.path.abspath(good_csv)
    assert settings.value("recent_files") in ([os.path.abspath(good_csv)], os.path.abspath(good_csv))
    assert window.report_dialog is None  # nothing rejected: no report pops up
    window.state.clear()
    with qtbot.waitSignal(window.loader.idle, timeout=LOAD_WAIT):
        window.recent_menu.actions()[0].trigger()
    assert len(window.state.frame) == 2


def test_opened_rows_hold_places_as_columns_and_repeated_text_once(make_main_window, qtbot):
    from geodata import read_incidents
    from geodata.points import lon_lat
    from geodata.sample import sample_path

    window = make_main_window()
    _open(window, qtbot, [str(sample_path())])
    frame, read = window.state.frame, read_incidents(sample_path()).frame
    assert "geometry" not in frame.columns and {"latitude", "longitude"} <= set(frame.columns)
    assert isinstance(frame["admin1"].dtype, pd.CategoricalDtype) and frame["event_id"].dtype == "str"
    assert frame["admin1"].astype("str").tolist() == read["admin1"].tolist()
    assert [list(a) for a in lon_lat(frame)] == [list(a) for a in lon_lat(read)]


def test_include_non_strike_events_is_remembered_and_keeps_those_rows(make_main_window, tmp_path, qtbot, settings):
    from tests.geodata.test_sources_cir import HEADER, ROWS

    cir = tmp_path / "cir_monitor.csv"
    cir.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    window = make_main_window()
    _open(window, qtbot, [str(cir)])
    strike_only = set(window.state.frame["event_id"])
    assert "CIR0002" not in strike_only  # the convoy: listed in the load report instead
    window.close_all()
    window.all_events_action.setChecked(True)
    _open(window, qtbot, [str(cir)])
    assert set(window.state.frame["event_id"]) == strike_only | {"CIR0002"}
    assert make_main_window(settings_=settings).all_events_action.isChecked()  # remembered


def test_bad_file_shows_a_message_and_keeps_the_data(make_main_window, loaded_state, unreadable, qtbot):
    window = make_main_window(loaded_state)
    with qtbot.waitSignal(window.load_failed, timeout=LOAD_WAIT) as blocker:
        window.open_files([unreadable])
    path, message = blocker.args
    assert "broken.gpkg" in message and "\n" not in message
    box = window.message_box
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert "broken.gpkg" in box.text()
    assert box.textFormat() == Qt.TextFormat.PlainText
    assert len(window.state.frame) == 8 and window.table.model.rowCount() == 8
    assert [d.path for d in window.state.datasets] == ["/data/night.csv"]


def test_rejected_rows_open_the_load_report(make_main_window, partly_bad_csv, qtbot):
    window = make_main_window()
    _open(window, qtbot, [partly_bad_csv])
    assert len(window.state.frame) == 2
    dialog = window.report_dialog
    assert dialog is not None and dialog.isVisible()
    model = dialog.model
    rejected = {model.data(model.index(r, 1)) for r in range(model.rowCount())
                if model.data(model.index(r, 3)) == "error"}
    assert rejected == {"4", "5"}
    assert "2 rejected" in dialog.summary_label.text()


def test_load_report_from_the_menu(make_main_window, loaded_state):
    window = make_main_window(loaded_state)
    report = LoadReport("/data/other.csv", "csv", rows_read=1, rows_loaded=0, rows_rejected=1)
    report.add(2, "occurred_at", "no usable date")
    window.state.datasets.append(type(window.state.datasets[0])("/data/other.csv", report))
    window.report_action.trigger()
    model = window.report_dialog.model
    assert model.rowCount() == 1 and model.data(model.index(0, 0)) == "other.csv"
    assert not window.report_dialog.table.isColumnHidden(0)  # two files: the file column shows


def test_dropping_a_file_opens_it(make_main_window, good_csv, qtbot):
    window = make_main_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(good_csv)])
    event = QDropEvent(QPoint(10, 10).toPointF(), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.loader.idle, timeout=LOAD_WAIT):
        window.dropEvent(event)
    assert len(window.state.frame) == 2


def test_layout_and_basemap_are_remembered(make_main_window, loaded_state, settings):
    window = make_main_window(loaded_state)
    window.state.set_basemap("OpenTopoMap")
    window.table_dock.hide()
    window.close()
    assert settings.value("basemap") == "OpenTopoMap"

    from mapviewer.state import AppState

    again = make_main_window(AppState())
    assert again.state.basemap == "OpenTopoMap"
    assert again.basemap_actions["OpenTopoMap"].isChecked()
    assert not again.table_dock.isVisible()


def test_custom_tile_template_is_checked(make_main_window, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    from mapviewer.mainwindow import is_tile_template

    window = make_main_window()
    assert is_tile_template("http://10.0.0.5:8080/tiles/{z}/{x}/{y}.png")
    assert not is_tile_template("javascript:alert(1)//{z}{x}{y}")
    monkeypatch.setattr(QInputDialog, "getText",
                        staticmethod(lambda *a, **k: ("http://tiles.local/{z}/{x}/{y}.png", True)))
    window.custom_tiles_action.trigger()
    assert window.state.basemap == "http://tiles.local/{z}/{x}/{y}.png"
    assert window.custom_tiles_action.isChecked()


def test_a_slow_read_shows_progress_and_can_be_cancelled(make_main_window, loaded_state, good_csv, qtbot):
    import threading

    from mapviewer.files.loader import Loader

    window = make_main_window(loaded_state)
    release = threading.Event()

    def slow_reader(path):  # stands in for a large file that takes a while to read
        release.wait(30)
        from geodata import read_incidents

        return read_incidents(path)

    loader = Loader(window, reader=slow_reader, parent=window)
    loaded = []
    loader.loaded.connect(lambda *args: loaded.append(args))
    try:
        loader.open_files([good_csv])
        qtbot.waitUntil(lambda: loader._progress is not None and loader._progress.isVisible(), timeout=10000)
        assert "night.csv" in loader._progress.labelText()
        from PySide6.QtWidgets import QPushButton

        (cancel_button,) = loader._progress.findChildren(QPushButton)
        assert cancel_button.text() == "Cancel"
        with qtbot.waitSignal(loader.cancelled, timeout=5000):
            cancel_button.click()
        assert not loader.busy
    finally:
        release.set()
        loader.wait_stray()
    with qtbot.assertNotEmitted(loader.loaded, wait=200):  # the cancelled read is thrown away
        pass
    assert loaded == []
    assert len(window.state.frame) == 8


def test_files_dropped_on_the_map_reach_the_window(make_main_window, qtbot):
    from PySide6.QtWidgets import QWidget

    window = make_main_window()
    qtbot.waitUntil(lambda: bool(window.map_view.findChildren(QWidget)), timeout=30000)
    assert not any(child.acceptDrops() for child in window.map_view.findChildren(QWidget))
    assert window.acceptDrops()
    # Nor does a text field (search, go to date) take a dropped file as text.
    assert [c for c in window.findChildren(QWidget) if c.acceptDrops() and c.isVisible()] == []


def test_a_waves_report_names_the_window_and_has_a_load_report(make_main_window, good_csv, waves_csv, qtbot):
    window = make_main_window()
    assert not window.report_action.isEnabled()
    _open(window, qtbot, [waves_csv])
    assert len(window.state.frame) == 0 and len(window.state.waves) == 3  # waves, not points
    assert "missile_attacks_daily.csv" in window.windowTitle()
    assert window.report_action.isEnabled()
    window.report_action.trigger()
    assert "missile_attacks_daily.csv (airforce_waves): 3 rows read, 3 loaded" in window.report_dialog.summary_label.text()

    _open(window, qtbot, [good_csv])
    assert window.windowTitle().endswith("night.csv, missile_attacks_daily.csv")
    window.report_action.trigger()
    text = window.report_dialog.summary_label.text()
    assert "night.csv (csv)" in text and "missile_attacks_daily.csv (airforce_waves)" in text


def _save_view(tmp_path, data_path, **filter_fields):
    from geodata import FilterState
    from mapviewer.files.views import ViewSpec, save_view

    path = tmp_path / "views" / "night view.json"
    path.parent.mkdir()
    save_view(path, ViewSpec(data=(data_path,), filter=FilterState(**filter_fields), basemap="OpenTopoMap"))
    return str(path)


def test_open_dialog_lists_every_format_and_opens_a_saved_view(make_main_window, good_csv, tmp_path,
                                                               qtbot, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from mapviewer.mainwindow import OPEN_FILTER

    first = OPEN_FILTER.split(";;")[0]
    for suffix in ("csv", "tsv", "txt", "xlsx", "geojson", "json", "gpkg", "shp", "zip"):
        assert f"*.{suffix}" in first
    assert "Saved views (*.json)" in OPEN_FILTER.split(";;")

    view = _save_view(tmp_path, good_csv, outcomes=frozenset({"impact"}))
    window = make_main_window()
    seen = {}

    def choose(parent, caption, folder, filters):
        seen["filters"] = filters
        return [view], filters.split(";;")[0]

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(choose))
    with qtbot.waitSignal(window.loader.idle, timeout=LOAD_WAIT):
        window.open_action.trigger()
    assert seen["filters"] == OPEN_FILTER
    assert window.state.basemap == "OpenTopoMap"
    assert window.state.filter.outcomes == frozenset({"impact"})
    assert len(window.state.frame) == 2 and int(window.state.mask.sum()) == 1  # the view's file, filtered
    assert [d.path for d in window.state.datasets] == [good_csv]


def test_dropping_a_saved_view_opens_the_view(make_main_window, good_csv, tmp_path, qtbot):
    view = _save_view(tmp_path, good_csv, munitions=frozenset({"KN-23"}))
    window = make_main_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(view)])
    event = QDropEvent(QPoint(10, 10).toPointF(), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.loader.idle, timeout=LOAD_WAIT):
        window.dropEvent(event)
    assert window.state.filter.munitions == frozenset({"KN-23"})
    assert len(window.state.frame) == 2
    assert view not in window.loader.pending and view not in {d.path for d in window.state.datasets}


def test_a_bad_saved_view_is_a_message(make_main_window, tmp_path, loaded_state, qtbot):
    view = tmp_path / "old.json"
    view.write_text('{"mapviewer_view": 99}', encoding="utf-8")
    window = make_main_window(loaded_state)
    window.show_messages = False
    window.open_files([str(view)])
    assert "old.json" in window.statusBar().currentMessage()
    assert "version" in window.statusBar().currentMessage()
    assert len(window.state.frame) == 8 and not window.loader.busy


# -- closing files, the shipped sample ---------------------------------------------
@pytest.fixture
def other_csv(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text(HEADER + "B-1,2025-08-01 03:00,49.84,24.03,Lviv,Kh-101,intercepted,,Shot down\n",
                    encoding="utf-8")
    return str(path)


def _close_entries(window):
    return {a.text(): a for a in window.close_menu.actions()}


def test_close_file_closes_the_chosen_file_of_either_kind(make_main_window, good_csv, other_csv, waves_csv,
                                                          qtbot, settings):
    window = make_main_window()
    assert not window.close_menu.isEnabled() and not window.close_all_action.isEnabled()
    _open(window, qtbot, [good_csv, other_csv, waves_csv])
    recent = settings.value("recent_files")
    entries = _close_entries(window)
    assert set(entries) == {"night.csv (events)", "other.csv (events)", "missile_attacks_daily.csv (attack waves)"}
    window.state.set_selection([0, 1, 2])

    entries["night.csv (events)"].trigger()
    state = window.state
    assert [d.path for d in state.datasets] == [os.path.abspath(other_csv)]
    assert list(state.frame["event_id"]) == ["B-1"] and len(state.mask) == 1
    assert len(state.selection) == 0  # row positions changed: nothing stays selected
    assert window.table.model.rowCount() == 1
    assert window.filter_panel.count_label.text() == "1 of 1 events"
    assert "night.csv" not in window.windowTitle()
    assert set(_close_entries(window)) == {"other.csv (events)", "missile_attacks_daily.csv (attack waves)"}

    _close_entries(window)["missile_attacks_daily.csv (attack waves)"].trigger()
    assert state.waves is None and state.wave_datasets == []
    assert len(state.frame) == 1
    tree = window.filter_panel.munition_tree
    munitions = {tree.topLevelItem(i).child(j).text(0)
                 for i in range(tree.topLevelItemCount()) for j in range(tree.topLevelItem(i).childCount())}
    assert munitions == {"Kh-101"}  # KN-23 and the Shaheds came from the closed files
    assert settings.value("recent_files") == recent  # closing forgets nothing


def test_close_all_empties_the_window(make_main_window, good_csv, waves_csv, qtbot, settings):
    window = make_main_window()
    _open(window, qtbot, [good_csv, waves_csv])
    window.state.set_filter(window.state.filter.replace(outcomes=frozenset({"impact"})))
    assert window.close_all_action.isEnabled()
    window.close_all_action.trigger()
    state = window.state
    assert state.all_datasets == [] and len(state.frame) == 0 and state.waves is None
    assert state.filter.is_empty
    assert window.table.model.rowCount() == 0
    assert window.windowTitle() == "Strike map viewer"
    assert not window.close_menu.isEnabled() and not window.report_action.isEnabled()
    assert window.recent_menu.actions()[0].text() in {os.path.abspath(good_csv), os.path.abspath(waves_csv)}


def test_a_users_file_replaces_the_shipped_sample(make_main_window, good_csv, other_csv, qtbot):
    from geodata.sample import sample_path

    window = make_main_window()
    _open(window, qtbot, [str(sample_path())])
    assert len(window.state.frame) > 1000
    window.state.set_filter(window.state.filter.replace(munitions=frozenset({"Shahed-136"})))
    _open(window, qtbot, [good_csv])
    state = window.state
    assert [d.path for d in state.datasets] == [os.path.abspath(good_csv)]
    assert set(state.frame["event_id"]) == {"A-1", "A-2"}
    assert state.filter.is_empty and int(state.mask.sum()) == 2  # a filter set on the sample is gone too
    assert "sample" in window.statusBar().currentMessage()
    # Once the user's data are open, another file of theirs is added, not swapped in.
    _open(window, qtbot, [other_csv])
    assert len(state.datasets) == 2 and len(state.frame) == 3


def test_a_file_that_fails_leaves_the_sample_open(make_main_window, unreadable, qtbot):
    from geodata.sample import sample_path

    window = make_main_window()
    window.show_messages = False
    _open(window, qtbot, [str(sample_path())])
    rows = len(window.state.frame)
    _open(window, qtbot, [unreadable])
    assert [d.path for d in window.state.datasets] == [str(sample_path())] and len(window.state.frame) == rows


def test_the_sample_wave_report_opens_with_the_sample_and_is_replaced_with_it(
        make_main_window, good_csv, waves_csv, qtbot, monkeypatch):
    import geodata.sample
    from mapviewer.files.loader import is_sample_file, sample_files

    # Stands in for the synthetic Air Force report while the install may not ship one yet.
    monkeypatch.setattr(geodata.sample, "sample_waves_path", lambda: waves_csv, raising=False)
    assert sample_files() == [str(geodata.sample.sample_path()), waves_csv]
    assert is_sample_file(waves_csv) and not is_sample_file(good_csv)
    window = make_main_window()
    _open(window, qtbot, sample_files())
    assert window.state.datasets and [d.path for d in window.state.wave_datasets] == [waves_csv]
    _open(window, qtbot, [good_csv])
    assert [d.path for d in window.state.all_datasets] == [os.path.abspath(good_csv)]
    assert window.state.waves is None


def test_the_shipped_sample_includes_the_synthetic_wave_report(make_main_window, qtbot):
    import geodata.sample
    from mapviewer.files.loader import sample_files

    waves = os.path.abspath(geodata.sample.sample_waves_path())
    assert os.path.isfile(waves)
    assert sample_files() == [os.path.abspath(geodata.sample.sample_path()), waves]
    window = make_main_window()
    _open(window, qtbot, sample_files())  # what `mapviewer` with no file opens
    assert [d.path for d in window.state.wave_datasets] == [waves] and len(window.state.waves) > 0
    assert len(window.state.frame) > 1000


def test_a_screenshot_of_a_waves_report_alone_does_not_wait_for_events(make_main_window, waves_csv, qtbot,
                                                                        tmp_path):
    from mapviewer.app import _ScreenshotJob

    window = make_main_window(show=True)
    job = _ScreenshotJob(window, str(tmp_path / "out.png"))  # not started: the test only asks when it is ready
    _open(window, qtbot, [waves_csv])
    assert window.state.datasets == [] and window.state.wave_datasets
    qtbot.waitUntil(job._ready, timeout=120000)


def test_files_given_with_a_saved_view_are_added_to_the_views_files(make_main_window, good_csv, other_csv,
                                                                     tmp_path, qtbot):
    view = _save_view(tmp_path, good_csv)
    window = make_main_window()
    _open(window, qtbot, [other_csv, view])  # as `mapviewer other.csv "night view.json"` does
    assert sorted(d.path for d in window.state.datasets) == sorted([good_csv, os.path.abspath(other_csv)])
