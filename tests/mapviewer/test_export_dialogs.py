"""File menu exports: the rows, figure and view a user sees end up in the files."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtWidgets import QDialog

import geodata
from geodata import FilterState
from mapviewer.dialogs import export as export_dialogs
from mapviewer.files.views import load_view

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
    # the dialog opens next time on the same title and page, and a saved view keeps them
    assert (window.figure_title, window.figure_page) == ("Morning brief", "slide-16:9")
    again = export_dialogs.FigureDialog(window, window.figure_title, window.figure_page)
    assert again.title_edit.text() == "Morning brief" and again.page_box.currentText() == "slide-16:9"


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


# -- map view image: the same area as on screen, sharper at scale 2, legend unfolded ---------------
def page_value(qtbot, view, expression: str):
    """The JSON value of ``expression`` in the map page."""
    out: list = []
    view.run_js(f"JSON.stringify({expression})", out.append)
    qtbot.waitUntil(lambda: bool(out), timeout=WEB_WAIT)
    return None if out[0] in (None, "", "undefined") else json.loads(out[0])


BOUNDS = ("(function(){var b = mapviewer.state.map.getBounds();"
          "return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()];})()")
FOLDED = "mapviewer.legendFolded()"


@pytest.fixture
def drawn_window(window, qtbot):
    view = window.map_view
    qtbot.waitUntil(lambda: view.page_ready and view.drawn_count == len(window.state.frame), timeout=WEB_WAIT)
    window.statusBar()  # there once a file was opened in the app (its first message would add it mid-test)
    size = "[mapviewer.state.map.getSize().x, mapviewer.state.map.getSize().y]"
    qtbot.waitUntil(lambda: page_value(qtbot, view, size) == [view.width(), view.height()], timeout=WEB_WAIT)
    qtbot.waitUntil(lambda: page_value(qtbot, view, "mapviewer.drawnCount()") == len(window.state.frame),
                    timeout=WEB_WAIT)
    return window


@pytest.fixture
def grabs(drawn_window, qtbot, monkeypatch):
    """What the page showed each time the export grabbed the view: map bounds, legend folded or not."""
    seen: list[dict] = []
    view = drawn_window.map_view
    real_grab = type(view).grab

    def grab(self, *args):
        seen.append({"bounds": page_value(qtbot, self, BOUNDS), "folded": page_value(qtbot, self, FOLDED)})
        return real_grab(self, *args)

    monkeypatch.setattr(type(view), "grab", grab)
    return seen


def layout_sizes(window):
    return (window.map_view.size(), window.size(), window.map_splitter.sizes(), window.map_view.zoomFactor())


def fold_legend_as_a_person_would(qtbot, view):
    view.run_js("if (!mapviewer.legendFolded()) document.querySelector('.mv-legend-title').click()")
    qtbot.waitUntil(lambda: page_value(qtbot, view, FOLDED) is True, timeout=WEB_WAIT)


def test_view_png_at_scale_2_is_the_same_area_with_twice_the_pixels(drawn_window, grabs, tmp_path, monkeypatch,
                                                                     qtbot):
    from PySide6.QtGui import QColor, QImage

    from geodata.style import outcome_colour

    window, view = drawn_window, drawn_window.map_view
    fold_legend_as_a_person_would(qtbot, view)
    before = layout_sizes(window)
    on_screen = page_value(qtbot, view, BOUNDS)
    w, h = view.width(), view.height()
    frame = window.state.frame
    points = {p: page_value(qtbot, view, f"mapviewer.screenPoint({p})") for p in range(len(frame))}
    images = {}
    monkeypatch.setattr(export_dialogs.ViewImageDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    for scale in (1, 2):
        monkeypatch.setattr(export_dialogs.ViewImageDialog, "choice", lambda self, s=scale: (w, h, s))
        answer_save(monkeypatch, tmp_path / f"view{scale}.png")
        window.export_actions["Export view as PNG"].trigger()
        images[scale] = QImage(str(tmp_path / f"view{scale}.png"))
        assert grabs[-1]["bounds"] == pytest.approx(on_screen, abs=1e-6)  # what the user sees, not a part
        assert grabs[-1]["folded"] is False  # the picture explains itself
        assert layout_sizes(window) == before  # the map pane, window and panels keep their sizes
    assert (images[1].width(), images[1].height()) == (w, h)
    assert (images[2].width(), images[2].height()) == (2 * w, 2 * h)
    # Each event's symbol is at the same place relative to the picture, in its outcome colour.
    matched = 0
    for p, point in points.items():
        colour = QColor(outcome_colour(str(frame["outcome"].iloc[p]))).rgb()
        if point is None or images[1].pixelColor(round(point[0]), round(point[1])).rgb() != colour:
            continue  # covered by another symbol
        assert images[2].pixelColor(round(2 * point[0]), round(2 * point[1])).rgb() == colour
        matched += 1
    assert matched >= 3
    assert page_value(qtbot, view, FOLDED) is True  # the person's fold is kept on screen
    assert page_value(qtbot, view, BOUNDS) == pytest.approx(on_screen, abs=1e-6)


def test_view_pdf_holds_a_sharper_image_of_the_area_on_screen(drawn_window, grabs, tmp_path, monkeypatch, qtbot):
    import re

    window, view = drawn_window, drawn_window.map_view
    before = layout_sizes(window)
    on_screen = page_value(qtbot, view, BOUNDS)
    answer_save(monkeypatch, tmp_path / "view.pdf")
    window.export_actions["Export view as PDF"].trigger()
    pdf = (tmp_path / "view.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    sizes = {(int(a), int(b)) for a, b in re.findall(rb"/Width (\d+)\s*/Height (\d+)", pdf)}
    scale = export_dialogs.PDF_SCALE
    assert sizes == {(scale * view.width(), scale * view.height())}  # the whole view, at print density
    assert grabs[-1]["bounds"] == pytest.approx(on_screen, abs=1e-6)
    assert grabs[-1]["folded"] is False
    assert layout_sizes(window) == before


def test_a_screenshot_keeps_the_legend_open(window):
    from mapviewer.app import _ScreenshotJob

    _ScreenshotJob(window, "window.png")
    assert window.map_view.legend_open


def test_exported_html_map_is_titled_with_the_filters_and_fingerprint(window, tmp_path, monkeypatch):
    window.state.set_filter(FilterState(outcomes={"impact"}))
    answer_save(monkeypatch, tmp_path / "map.html")
    window.export_actions["Export HTML map"].trigger()
    page = (tmp_path / "map.html").read_text(encoding="utf-8")
    heading = json.loads(page.split('"heading":', 1)[1].split("}", 1)[0] + "}")
    assert heading["title"] == "Strike events"
    assert "impact" in heading["subtitle"] and "all outcomes" not in heading["subtitle"]
    assert len(heading["fingerprint"]) == 12
    assert "4 events" in window.statusBar().currentMessage()
