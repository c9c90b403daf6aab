"""The main window: opening files, failures, the load report, remembered settings."""
from __future__ import annotations

import os

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
    # Row 4 (header is row 1) has no date; row 5 no usable coordinates: both are rejected.
    path.write_text(HEADER + GOOD_ROWS + "A-3,,50.4,30.5,Kyiv,Shahed-136,intercepted,,\n"
                    "A-4,2025-09-30 02:00,,,Kyiv,Shahed-136,impact,,\n", encoding="utf-8")
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

    from mapviewer.loader import Loader

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
    qtbot.wait(50)
    assert loaded == []  # the cancelled read is thrown away
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
    from mapviewer.views import ViewSpec, save_view

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
