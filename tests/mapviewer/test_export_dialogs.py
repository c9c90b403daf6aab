"""File menu exports: the rows, figure and view a user sees end up in the files."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtWidgets import QDialog

import geodata
from geodata import FilterState
from mapviewer import export_dialogs
from mapviewer.views import load_view

WEB_WAIT = 60000


@pytest.fixture
def window(make_main_window, loaded_state):
    return make_main_window(state=loaded_state)


def answer_save(monkeypatch, path, chosen=""):
    monkeypatch.setattr(export_dialogs, "ask_save_path", lambda *args: (str(path), chosen))


def test_file_menu_has_the_export_entries(window):
    texts = [a.text().replace("&", "") for a in window.file_menu.actions()]
    for wanted in ("Export view as PNG...", "Export view as PDF...", "Export figure...", "Export data...",
                   "Export HTML map...", "Save view...", "Open view..."):
        assert wanted in texts
    assert texts.index("Open view...") < texts.index("Quit")


@pytest.mark.parametrize("label, suffix", [("Excel workbook (*.xlsx)", ".xlsx"), ("CSV (*.csv)", ".csv")])
def test_export_data_writes_exactly_the_rows_shown(window, tmp_path, monkeypatch, label, suffix):
    window.state.set_filter(FilterState(outcomes={"impact"}))
    answer_save(monkeypatch, tmp_path / "shown", label)  # no suffix typed: the chosen format adds it
    window.export_actions["Export data"].trigger()
    back = geodata.read_incidents(str(tmp_path / f"shown{suffix}")).frame
    assert list(back["event_id"]) == ["N-1", "N-2", "N-4", "S-3"]
    assert "dataset" not in back.columns and "source_row" not in back.columns
    assert "4 rows" in window.statusBar().currentMessage()


def test_export_figure_uses_title_page_and_filters(window, tmp_path, monkeypatch):
    window.state.set_filter(FilterState(munitions={"KN-23"}))
    monkeypatch.setattr(export_dialogs.FigureDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    monkeypatch.setattr(export_dialogs.FigureDialog, "choice", lambda self: ("Morning brief", "slide-16:9", "svg"))
    answer_save(monkeypatch, tmp_path / "brief.svg")
    window.export_actions["Export figure"].trigger()
    text = (tmp_path / "brief.svg").read_text(encoding="utf-8")
    assert "Morning brief" in text
    assert "KN-23 · all outcomes" in text
    assert "4 events shown" in text


def test_write_errors_become_a_message_not_a_crash(window, tmp_path, monkeypatch):
    window.show_messages = False
    answer_save(monkeypatch, tmp_path / "missing folder" / "rows.csv", "CSV (*.csv)")
    window.export_actions["Export data"].trigger()
    assert "does not exist" in window.statusBar().currentMessage()


def test_save_view_then_open_view(window, tmp_path, monkeypatch, qtbot):
    data = tmp_path / "night.csv"
    from geodata.writers import write_csv

    write_csv(window.state.frame.drop(columns=export_dialogs.APP_COLUMNS, errors="ignore"), data)
    window.state.clear()
    with qtbot.waitSignal(window.loader.idle, timeout=WEB_WAIT):
        window.open_files([str(data)])
    wanted = FilterState(outcomes={"intercepted"})
    window.state.set_filter(wanted)
    answer_save(monkeypatch, tmp_path / "views" / "brief")
    (tmp_path / "views").mkdir()
    window.export_actions["Save view"].trigger()
    document = json.loads((tmp_path / "views" / "brief.json").read_text(encoding="utf-8"))
    assert document["data"] == ["../night.csv"]
    assert load_view(tmp_path / "views" / "brief.json").filter == wanted

    window.state.set_filter(FilterState())
    monkeypatch.setattr(export_dialogs, "ask_open_path", lambda *args: str(tmp_path / "views" / "brief.json"))
    window.export_actions["Open view"].trigger()
    assert window.state.filter == wanted
    assert list(window.state.visible["event_id"]) == ["S-1", "S-2", "C-1"]


def test_export_view_png_is_the_drawn_map(window, tmp_path, monkeypatch, qtbot):
    view = window.map_view
    if not hasattr(view, "incidents_drawn"):
        pytest.skip("no web map in this installation")
    qtbot.waitUntil(lambda: view.page_ready and view.drawn_count == len(window.state.frame), timeout=WEB_WAIT)
    monkeypatch.setattr(export_dialogs.ViewImageDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    monkeypatch.setattr(export_dialogs.ViewImageDialog, "choice", lambda self: (640, 480, 1))
    answer_save(monkeypatch, tmp_path / "view.png")
    window.export_actions["Export view as PNG"].trigger()
    from matplotlib.image import imread

    image = imread(tmp_path / "view.png")
    assert image.shape[:2] == (480, 640)
    colours = np.unique((image[..., :3] * 255).round().reshape(-1, 3), axis=0)
    assert len(colours) > 20  # a drawn map, not a blank grab
    assert view.minimumWidth() == 0  # the view got its size back
