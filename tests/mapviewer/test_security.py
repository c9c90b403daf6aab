"""Record text is data: hostile files run nothing and show their text as text, everywhere.

Every text field of the hostile files (values and column names) holds markup, script,
formulas, entities, line separators and very long strings. The map page is the real
QtWebEngine page; ``window.__pwned`` is what any payload that ran would set.
"""
from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QLabel, QMessageBox

from geodata import read_incidents
from mapviewer.map.view import MapView
from mapviewer.state import AppState
from tests.qt_helpers import RequestRecorder, ready_map_view

WAIT = 60000  # generous: two shared cores, WebEngine start-up

PAYLOADS = {
    "script": "<script>window.__pwned=1</script>",
    "img": '<img src=x onerror="window.__pwned=1">',
    "svg": '"><svg onload="window.__pwned=1">',
    "close": "</script><script>window.__pwned=1</script>",
    "separators": "line\u2028separator\u2029paragraph",
    "entities": "&amp; &lt;b&gt; &#60;",
    "rich": '<b>bold</b> <a href="https://evil.example/">link</a>',
    "formula": '=HYPERLINK("http://evil.example/","click")',
}
LONG = "L" * 20000
HOSTILE_COLUMNS = ['<img src=x onerror="window.__pwned=1">', '=HYPERLINK("http://evil.example/")', "</script>"]
FIELDS = ["event_id", "location", "admin1", "munition", "source", "notes"]


def _records() -> list[dict]:
    records = []
    for i, text in enumerate(PAYLOADS.values()):
        record = {name: text for name in FIELDS}
        record["event_id"] = f"{text}-{i}"
        record["notes"] = f"{text} {LONG}" if i == 0 else text
        record["source_url"] = "javascript:window.__pwned=1"
        record.update({name: text for name in HOSTILE_COLUMNS})
        record.update(date=f"2025-09-{10 + i:02d} 03:00", outcome="impact",
                      latitude=48.0 + 0.5 * i, longitude=26.0 + 1.5 * i)
        records.append(record)
    return records


@pytest.fixture
def hostile_csv(tmp_path) -> str:
    records = _records()
    path = tmp_path / "hostile.csv"
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    return str(path)


@pytest.fixture
def hostile_geojson(tmp_path) -> str:
    features = []
    for record in _records():
        lat, lon = record.pop("latitude"), record.pop("longitude")
        features.append({"type": "Feature", "properties": record,
                         "geometry": {"type": "Point", "coordinates": [lon, lat]}})
    path = tmp_path / "hostile.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    encoding="utf-8")
    return str(path)


@pytest.fixture
def hostile(hostile_csv):
    return read_incidents(hostile_csv)


def _plain(rich: str) -> str:
    """What a Qt rich-text tooltip shows a person."""
    doc = QTextDocument()
    doc.setHtml(rich)
    return doc.toPlainText()


def _lines(text: str) -> str:
    """``text`` as a text document lays it out (line and paragraph separators become line ends)."""
    return text.replace("\u2028", "\n").replace("\u2029", "\n")


@pytest.mark.parametrize("kind", ["csv", "geojson"])
def test_hostile_files_load_with_every_text_kept_verbatim(kind, hostile_csv, hostile_geojson):
    result = read_incidents(hostile_csv if kind == "csv" else hostile_geojson)
    frame = result.frame
    assert len(frame) == len(PAYLOADS)
    for name in HOSTILE_COLUMNS:
        assert name in frame.columns
    assert set(frame["munition"]) == set(PAYLOADS.values())
    assert frame["notes"].iloc[0].endswith(LONG)
    assert set(frame["source_url"]) == {"javascript:window.__pwned=1"}


# -- the live map page -----------------------------------------------------------------------
@pytest.fixture
def view(qtbot):
    view = ready_map_view(qtbot)
    yield view
    view.release()


def js(qtbot, target, expression: str):
    """Evaluate ``expression`` in the page and return its JSON value."""
    out: list = []
    target.run_js(f"JSON.stringify({expression})", out.append)
    qtbot.waitUntil(lambda: bool(out), timeout=WAIT)
    return None if out[0] in (None, "", "undefined") else json.loads(out[0])


def mouse(target, x: float, y: float, kind: str) -> None:
    target.run_js(
        "(function(){var c = document.querySelector('.leaflet-container'), r = c.getBoundingClientRect();"
        f"var o = {{bubbles: true, cancelable: true, clientX: r.left + {x}, clientY: r.top + {y}, button: 0}};"
        + ("c.dispatchEvent(new MouseEvent('mousedown', o)); c.dispatchEvent(new MouseEvent('mouseup', o));"
           if kind == "click" else "")
        + f"c.dispatchEvent(new MouseEvent('{kind}', o));}})()"
    )


def _point(qtbot, target, position: int):
    target.run_js(f"mapviewer.setView({48.0 + 0.5 * position}, {26.0 + 1.5 * position}, 12)")
    qtbot.waitUntil(lambda: js(qtbot, target, f"mapviewer.screenPoint({position})") is not None, timeout=WAIT)
    return js(qtbot, target, f"mapviewer.screenPoint({position})")


NO_MARKUP = ("document.querySelectorAll('.leaflet-popup-content img, .leaflet-popup-content script,"
             " .leaflet-popup-content svg, .leaflet-popup-content b, .leaflet-tooltip img, .leaflet-tooltip script,"
             " .leaflet-tooltip svg, .leaflet-tooltip b').length")
POPUP_TEXT = "(document.querySelector('.leaflet-popup-content table') ? " \
             "document.querySelector('.leaflet-popup-content').textContent : '')"
POPUP_LINKS = "[...document.querySelectorAll('.leaflet-popup-content a')].map(a => a.getAttribute('href'))"


def test_hovering_and_clicking_hostile_records_runs_nothing(qtbot, view, hostile, monkeypatch):
    opened: list[str] = []
    monkeypatch.setattr("mapviewer.map.view.QDesktopServices.openUrl", lambda url: opened.append(url.toString()) or True)
    state = view._state
    frame = hostile.frame
    with qtbot.waitSignal(view.incidents_drawn, timeout=WAIT, check_params_cb=lambda n: n == len(frame)):
        state.add_dataset("hostile.csv", frame, hostile.report)
    for position, text in enumerate(PAYLOADS.values()):
        x, y = _point(qtbot, view, position)
        mouse(view, x, y, "mousemove")
        qtbot.waitUntil(lambda: text in (js(qtbot, view, "(document.querySelector('.mv-tooltip') || {})"
                                                         ".textContent || ''")), timeout=WAIT)
        view.run_js("mapviewer.state.map.closePopup()")
        mouse(view, x, y, "click")
        qtbot.waitUntil(lambda: state.selection.tolist() == [position], timeout=WAIT)
        qtbot.waitUntil(lambda: f"{text}-{position}" in (js(qtbot, view, POPUP_TEXT) or ""), timeout=WAIT)
        popup = js(qtbot, view, POPUP_TEXT)
        # Every field and every column name shows as the literal text.
        assert popup.count(text) >= len(FIELDS) + len(HOSTILE_COLUMNS)
        for name in HOSTILE_COLUMNS:
            assert name in popup
        assert js(qtbot, view, NO_MARKUP) == 0
        # Only http(s) addresses become links: never the javascript: source_url.
        links = js(qtbot, view, POPUP_LINKS)
        assert all(link.startswith(("http://", "https://")) for link in links), links
        assert "javascript:window.__pwned=1" in popup
    assert LONG in js(qtbot, view, "mapviewer.state.details[0].map(f => f[1]).join(' ')")
    legend = js(qtbot, view, "document.querySelector('.mv-legend').textContent")
    assert f"{len(frame)} events" in legend
    # Clicking the links that are there opens them outside, and the page stays put.
    view.run_js("document.querySelectorAll('.leaflet-popup-content a').forEach(a => a.click())")
    qtbot.wait(300)
    assert all(QUrl(u).scheme() in ("http", "https") for u in opened)
    assert view.url().scheme() == "file"
    assert js(qtbot, view, "typeof window.__pwned") == "undefined"


def test_a_page_calling_the_bridge_with_bogus_values_changes_nothing(qtbot, view, hostile, monkeypatch):
    opened: list[str] = []
    monkeypatch.setattr("mapviewer.map.view.QDesktopServices.openUrl", lambda url: opened.append(url.toString()) or True)
    state = view._state
    frame = hostile.frame
    with qtbot.waitSignal(view.incidents_drawn, timeout=WAIT, check_params_cb=lambda n: n == len(frame)):
        state.add_dataset("hostile.csv", frame, hostile.report)
    state.set_selection([1])
    qtbot.waitUntil(lambda: js(qtbot, view, "!!mapviewer.state.bridge") is True, timeout=WAIT)
    drawn = view.drawn_count
    view.run_js("""(function () {
        var b = mapviewer.state.bridge, big = [];
        for (var i = 0; i < 1000000; i++) big.push(i);
        b.selectPositions([1e300]); b.selectPositions([-1]); b.selectPositions([2.5]); b.selectPositions(['3']);
        b.selectPositions([NaN]); b.selectPositions([Infinity]); b.selectPositions(big);
        b.selectPositions('not a list'); b.selectPositions([[4]]); b.selectPositions([{}]);
        b.viewChanged(NaN, 1e308, -5); b.viewChanged(95, 30, 6); b.viewChanged(50, 30, 1e9);
        b.incidentsDrawn(-7);
        b.openLink('javascript:window.__pwned=1'); b.openLink('file:///etc/passwd');
        b.openLink('https://' + 'x'.repeat(100000) + '.example/'); b.openLink('http://');
        b.setClassShown('<img src=x onerror=1>', false); b.setClassShown('x'.repeat(100000), false);
        b.setClassShown(null, false); b.setClassShown({}, false); b.setClassShown(7, false);
        b.deleteLater();
        b.selectPositions([5]);  /* a real click, after the junk: still handled */
    })()""")
    qtbot.waitUntil(lambda: state.selection.tolist() == [5], timeout=WAIT)
    assert view.drawn_count == drawn
    assert opened == []
    assert state.filter.munition_classes is None  # no bogus class reached the filter
    view_now = state.view
    assert view_now is None or (-90 <= view_now[0] <= 90 and 0 <= view_now[2] <= 18)
    # The bridge survived its deleteLater call and still carries the page's reports.
    view.run_js("mapviewer.state.bridge.viewChanged(49.5, 31.25, 7)")
    qtbot.waitUntil(lambda: state.view == (49.5, 31.25, 7.0), timeout=WAIT)
    assert js(qtbot, view, "typeof window.__pwned") == "undefined"


def test_script_in_the_page_could_not_read_local_files(qtbot, view, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET", encoding="utf-8")
    url = QUrl.fromLocalFile(str(secret)).toString()
    view.run_js(f"window.__read = 'pending'; fetch('{url}').then(r => r.text())"
                ".then(t => { window.__read = t; }, () => { window.__read = 'refused'; });"
                f"var x = new XMLHttpRequest(); try {{ x.open('GET', '{url}', false); x.send();"
                " window.__xhr = x.responseText; } catch (e) { window.__xhr = 'refused'; }")
    qtbot.waitUntil(lambda: js(qtbot, view, "window.__read") != "pending", timeout=WAIT)
    assert js(qtbot, view, "[window.__read, window.__xhr]") == ["refused", "refused"]
    assert js(qtbot, view, "mapviewer.ready") is True  # the page itself still works


def test_the_standalone_export_of_hostile_records_runs_nothing(qtbot, tmp_path, hostile, open_in_browser):
    from mapviewer.map.page import write_standalone_html

    path = write_standalone_html(hostile.frame, tmp_path / "export.html", title=PAYLOADS["close"])
    raw = path.read_text(encoding="utf-8")
    assert "\u2028" not in raw and "\u2029" not in raw  # literal separators break older JS engines
    assert "<script>window.__pwned" not in raw and "<img src=x" not in raw
    target = open_in_browser(path)
    assert js(qtbot, target, "mapviewer.count()") == len(hostile.frame)
    assert target.page.title() == PAYLOADS["close"]
    for position, text in enumerate(PAYLOADS.values()):
        x, y = _point(qtbot, target, position)
        target.run_js("mapviewer.state.map.closePopup()")
        mouse(target, x, y, "click")
        qtbot.waitUntil(lambda: f"{text}-{position}" in (js(qtbot, target, POPUP_TEXT) or ""), timeout=WAIT)
        assert js(qtbot, target, NO_MARKUP) == 0
        links = js(qtbot, target, POPUP_LINKS)
        assert all(link.startswith(("http://", "https://")) for link in links), links
    assert js(qtbot, target, "typeof window.__pwned") == "undefined"


# -- Qt widgets --------------------------------------------------------------------------------
def test_widgets_show_hostile_text_as_plain_text(qtbot, make_main_window, hostile):
    from mapviewer.dialogs.report import ReportDialog

    state = AppState()
    window = make_main_window(state, show=False)
    state.add_dataset(hostile.report.path, hostile.frame, hostile.report)
    model = window.table.model
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    for name in HOSTILE_COLUMNS:
        assert name in headers
    texts = {model.data(model.index(r, c)) for r in range(model.rowCount()) for c in range(model.columnCount())}
    for text in PAYLOADS.values():
        assert text in texts
    for r in range(model.rowCount()):
        for c in range(model.columnCount()):
            tip = model.data(model.index(r, c), Qt.ItemDataRole.ToolTipRole)
            if tip:  # rich text whose visible text is the cell, never its markup
                assert _plain(tip) == _lines(model.data(model.index(r, c)))
    # Filter panel and summary list the munition names from the data, as plain item text.
    tree = window.filter_panel.munition_tree
    names = {tree.topLevelItem(i).child(j).text(0)
             for i in range(tree.topLevelItemCount()) for j in range(tree.topLevelItem(i).childCount())}
    assert set(PAYLOADS.values()) <= names
    summary = window.summary.munitions
    assert set(PAYLOADS.values()) <= {summary.topLevelItem(i).text(0) for i in range(summary.topLevelItemCount())}
    # Every label in the main window that can hold data is plain text.
    for label in window.findChildren(QLabel):
        if any(marker in label.text() for marker in ("<script", "<img", "<b>", "<svg")):
            assert label.textFormat() == Qt.TextFormat.PlainText, label.text()
    # The report dialog quotes the cells in its problem messages as they are.
    dialog = ReportDialog([hostile.report])
    qtbot.addWidget(dialog)
    messages = [dialog.model.data(dialog.model.index(r, 4)) for r in range(dialog.model.rowCount())]
    assert any(PAYLOADS["img"] in m for m in messages)
    assert dialog.summary_label.textFormat() == Qt.TextFormat.PlainText


def test_error_boxes_show_quoted_data_as_plain_text(qtbot, monkeypatch):
    from mapviewer.panels.timeline import TimelinePanel

    shown: list[tuple] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append((box.text(), box.textFormat())) or 0)
    panel = TimelinePanel(AppState())
    qtbot.addWidget(panel)
    monkeypatch.setattr(panel, "_end_export", lambda: None)
    panel._on_export_finished(f"cannot write {PAYLOADS['rich']}")
    assert shown == [(f"cannot write {PAYLOADS['rich']}", Qt.TextFormat.PlainText)]
    assert panel.message.textFormat() == Qt.TextFormat.PlainText  # it quotes typed dates and file names


def test_column_mapping_tooltips_show_cell_text_literally(qtbot, hostile_csv):
    from mapviewer.dialogs.mapping import ColumnMappingDialog

    dialog = ColumnMappingDialog(hostile_csv)
    qtbot.addWidget(dialog)
    combo = dialog.combos["notes"]
    index = combo.findData("munition")
    tip = combo.itemData(index, Qt.ItemDataRole.ToolTipRole)
    assert _plain(tip).startswith(PAYLOADS["script"])
    assert PAYLOADS["img"] in _plain(combo.itemData(combo.findData(HOSTILE_COLUMNS[0]), Qt.ItemDataRole.ToolTipRole))


# -- exports --------------------------------------------------------------------------------
def test_spreadsheet_exports_never_hold_a_formula_not_even_in_the_header(tmp_path, hostile):
    import openpyxl

    from geodata.writers import write_incidents

    write_incidents(hostile.frame, tmp_path / "out.csv")
    with open(tmp_path / "out.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    for row in rows:  # header included
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row), row
    assert "'" + HOSTILE_COLUMNS[1] in rows[0]

    write_incidents(hostile.frame, tmp_path / "out.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert HOSTILE_COLUMNS[1] in [c.value for c in next(sheet.iter_rows())]  # kept exactly, as text


def test_geojson_and_geopackage_exports_keep_hostile_text_exactly(tmp_path, hostile):
    import geopandas as gpd

    from geodata.writers import write_incidents

    write_incidents(hostile.frame, tmp_path / "out.geojson")
    features = json.loads((tmp_path / "out.geojson").read_text(encoding="utf-8"))["features"]
    assert [f["properties"]["munition"] for f in features] == list(hostile.frame["munition"])
    assert features[0]["properties"][HOSTILE_COLUMNS[2]] == PAYLOADS["script"]
    write_incidents(hostile.frame, tmp_path / "out.gpkg")
    back = gpd.read_file(tmp_path / "out.gpkg")
    assert list(back["notes"]) == list(hostile.frame["notes"])


@pytest.mark.parametrize("fmt", ["svg", "pdf"])
def test_figures_print_dollar_signs_and_markup_literally(tmp_path, hostile, fmt):
    from geodata.filters import FilterState
    from mapviewer.export.figure import render_figure

    title = r"Costs $\frac$ <script>window.__pwned=1</script>"
    munitions = {r"$x^2$ & $\frac$", PAYLOADS["script"]}
    frame = hostile.frame.copy()
    frame.loc[frame.index[0], "munition"] = r"$x^2$ & $\frac$"
    out = tmp_path / f"figure.{fmt}"
    render_figure(frame, filter_state=FilterState(munitions=munitions), title=title, out=out, dpi=60)
    assert out.stat().st_size > 0
    if fmt == "svg":
        svg = out.read_text(encoding="utf-8")
        root = ET.fromstring(svg)  # still well-formed XML
        texts = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
        assert r"Costs $\frac$ <script>" in texts  # the title as typed
        assert r"$x^2$" in texts  # a munition name in the filter line, not typeset
        assert not list(root.iter("{http://www.w3.org/2000/svg}script"))


@pytest.mark.parametrize("renderer", ["scatter", "figure"])
def test_animation_titles_with_dollar_signs_draw(hostile, renderer):
    from mapviewer.export.animation import animation_images

    count, images = animation_images(hostile.frame, title=r"Costs $\frac$ and $x^2$", step="1d", dpi=30,
                                     renderer=renderer, workers=1)
    first = next(iter(images))
    assert count >= 1 and first.ndim == 3 and first.shape[2] == 3


# -- mapviewer inspect ------------------------------------------------------------------------
def test_inspect_prints_hostile_text_without_terminal_control_codes(tmp_path, capsys):
    from mapviewer.cli.main import main

    path = tmp_path / "escapes.csv"
    path.write_text("date,latitude,longitude,munition,outcome\n"
                    "2025-09-10,50.4,30.5,\x1b]0;owned\x07\x1b[2J<script>x</script>,impact\n"
                    "2025-09-11,50.4,30.5,невідомо\x9b2J\u202etxt.exe,impact\n", encoding="utf-8")
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert not set(out) & {"\x1b", "\x07", "\x9b", "\u202e"}
    assert "\\x1b]0;owned\\x07\\x1b[2J<script>x</script>" in out  # shown, escaped, never interpreted
    assert "невідомо\\x9b2J\\u202etxt.exe" in out  # C1 CSI and a right-to-left override, letters kept
    assert main(["inspect", str(path), "--json"]) == 0
    raw = capsys.readouterr().out
    assert not set(raw) & {"\x1b", "\x07", "\x9b", "\u202e"} and "невідомо" in raw
    summary = json.loads(raw)  # still valid JSON that gives back the file's text exactly
    assert "\x1b]0;owned\x07\x1b[2J<script>x</script>" in summary["counts"]["munition"]
    assert "невідомо\x9b2J\u202etxt.exe" in summary["counts"]["munition"]


def test_command_line_errors_quoting_the_file_print_no_control_codes(tmp_path, capsys):
    from mapviewer.cli.main import main

    path = tmp_path / "nodate.csv"
    path.write_text("foo\x1b[2J,latitude,longitude\n1,50,30\n", encoding="utf-8")
    assert main(["export", str(path), "--format", "csv", "-o", str(tmp_path / "out.csv")]) != 0
    assert main(["inspect", str(path)]) != 0
    err = capsys.readouterr().err
    assert "\x1b" not in err
    assert err.count("foo\\x1b[2J") == 2  # the column name is still named, escaped
    from mapviewer.cli.terminal import fail  # what `mapviewer FILE` prints when the file cannot be opened

    fail("nodate.csv: the file's columns: foo\x1b[2J")
    assert capsys.readouterr().err == "mapviewer: error: nodate.csv: the file's columns: foo\\x1b[2J\n"


# -- direction and control characters in widgets --------------------------------------------------
REVERSED = "\u202eevil"  # shown as it is, it reads "live"
ESCAPED = "\\u202eevil"


def test_widgets_show_direction_and_control_characters_escaped(qtbot, make_main_window, tmp_path):
    from PySide6.QtGui import QGuiApplication

    from geodata.report import LoadReport, Problem
    from mapviewer.dialogs.report import ReportDialog
    from tests.factories import canonical_frame

    frame = canonical_frame([30.5, 31.0], [50.4, 50.5], munition=[REVERSED, "KN-23"], munition_class="unknown",
                            notes=["\x1b]0;owned\x07", "fine"], admin1=["\u2066Kyiv\u2069", "Kyiv"],
                            **{"\u202eextra": ["x", "y"]})
    path = str(tmp_path / "night\u202ecod.csv")
    report = LoadReport(path=path, format="csv", rows_read=2, rows_loaded=2,
                        problems=[Problem(row=2, column="munition", message=f"munition {REVERSED} not known",
                                          severity="warning")])
    state = AppState()
    window = make_main_window(state, show=False)
    state.add_dataset(path, frame, report)

    tree = window.filter_panel.munition_tree
    names = [tree.topLevelItem(i).child(j).text(0)
             for i in range(tree.topLevelItemCount()) for j in range(tree.topLevelItem(i).childCount())]
    assert ESCAPED in names
    summary = window.summary.munitions
    assert ESCAPED in [summary.topLevelItem(i).text(0) for i in range(summary.topLevelItemCount())]
    model = window.table.model
    column = model.columns.index("munition")
    cells = [model.data(model.index(r, c)) for r in range(model.rowCount()) for c in range(model.columnCount())]
    assert ESCAPED in cells and "\\x1b]0;owned\\x07" in cells and "\\u2066Kyiv\\u2069" in cells
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert "\\u202eextra" in headers
    tips = [_plain(model.data(model.index(r, column), Qt.ItemDataRole.ToolTipRole)) for r in range(model.rowCount())]
    assert ESCAPED in tips
    assert "\\u202e" in window.windowTitle() and "night" in window.windowTitle()
    texts = cells + headers + names + tips + [window.windowTitle()]
    assert not any(ch in t for t in texts if t for ch in ("\u202e", "\u2066", "\x1b", "\x07"))
    # The data stay as they are: copied rows carry the file's text.
    window.table.view.selectAll()
    window.table.copy_selection()
    assert REVERSED in QGuiApplication.clipboard().text()

    dialog = ReportDialog([report])
    qtbot.addWidget(dialog)
    messages = [dialog.model.data(dialog.model.index(r, 4)) for r in range(dialog.model.rowCount())]
    assert messages == [f"munition {ESCAPED} not known"]
    assert "\\u202e" in dialog.summary_label.text() and "\u202e" not in dialog.summary_label.text()
    menu = [a.text() for a in window.close_menu.actions()]
    assert any("\\u202e" in t for t in menu) and not any("\u202e" in t for t in menu)


def test_the_presentation_title_from_a_view_is_plain_text(qtbot, make_main_window):
    window = make_main_window(show=False)
    window.state.figure_title = PAYLOADS["img"] + REVERSED  # as a shared saved view can set it
    window.set_presenting(True)
    try:
        label = window.title_label
        assert label.textFormat() == Qt.TextFormat.PlainText
        assert label.text() == PAYLOADS["img"] + ESCAPED
    finally:
        window.set_presenting(False)


# -- a GUI error path that cannot hang -------------------------------------------------------------
def _failures():
    from jinja2 import TemplateError

    return [RuntimeError("writer crashed"), ValueError("bad value in column"), TemplateError("unexpected '}'")]


@pytest.mark.parametrize("action,target", [("Export data", "geodata.writers.write_incidents"),
                                           ("Export HTML map", "mapviewer.map.page.write_standalone_html"),
                                           ("Save view", "mapviewer.files.views.save_view")])
@pytest.mark.parametrize("error", _failures(), ids=lambda e: type(e).__name__)
def test_any_failure_in_an_export_ends_the_busy_cursor_and_says_what_failed(
        qtbot, make_main_window, loaded_state, monkeypatch, tmp_path, action, target, error):
    from PySide6.QtGui import QGuiApplication

    from mapviewer.dialogs import export as dialogs

    window = make_main_window(loaded_state, show=False)
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(window, "show_error", lambda title, text, detail="": shown.append((title, text)))
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a, **k: (str(tmp_path / "out"), ""))
    busy: list[bool] = []

    def failing(*args, **kwargs):
        busy.append(QGuiApplication.overrideCursor() is not None)  # the export runs under the busy cursor
        raise error

    monkeypatch.setattr(target, failing)
    window.export_actions[action].trigger()
    assert busy == [True]
    assert QGuiApplication.overrideCursor() is None  # the busy cursor ended
    assert len(shown) == 1 and shown[0][0] == action
    assert type(error).__name__ in shown[0][1] and str(error) in shown[0][1]
    assert not list(tmp_path.iterdir())  # no half-written file left


def test_any_failure_while_opening_ends_in_a_message(qtbot, make_main_window, monkeypatch, hostile_csv):
    window = make_main_window(show=False)
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(window, "show_error", lambda title, text, detail="": shown.append((title, text)))

    def broken(*args, **kwargs):
        raise RuntimeError("state refused the rows")

    monkeypatch.setattr(window.state, "add_dataset", broken)
    with qtbot.waitSignal(window.loader.idle, timeout=WAIT):
        window.open_files([hostile_csv])
    assert shown == [("Cannot open file", f"{hostile_csv}: cannot read this file (RuntimeError: state refused the rows)")]
    assert not window.loader.busy

    monkeypatch.setattr("mapviewer.dialogs.mapping.ColumnMappingDialog.__init__", broken)
    assert window.open_with_mapping(hostile_csv) is None
    assert shown[-1][0] == "Cannot open file" and "RuntimeError" in shown[-1][1]


# -- tile servers: contacted only with the person's consent --------------------------------------
TILES = "http://tiles.example.test/{z}/{x}/{y}.png"
TILE_HOST = "tiles.example.test"


def test_tile_urls_hold_only_leaflets_placeholders_and_name_their_server():
    from geodata.errors import DataError
    from mapviewer.map.page import basemap_spec, tile_host

    assert tile_host(basemap_spec(TILES)) == TILE_HOST
    assert tile_host(basemap_spec("https://{s}.tiles.example.test:8443/{z}/{x}/{y}.png")) == "tiles.example.test:8443"
    assert tile_host(basemap_spec("OpenStreetMap.Mapnik")) == "tile.openstreetmap.org"
    assert tile_host(basemap_spec("offline")) is None
    assert tile_host(basemap_spec("file:///srv/tiles/{z}/{x}/{y}.png")) is None  # local files: no server
    for bad in ("http://x.test/{z}/{x}/{y}.png?{attribution}", "http://x.test/{z}/{x}/{y}{constructor}",
                "http://{z}.x.test/{z}/{x}/{y}.png"):
        with pytest.raises(DataError, match="tile URL"):
            basemap_spec(bad)


def test_a_tile_server_named_by_a_view_is_contacted_only_after_the_person_agrees(qtbot, settings):
    from PySide6.QtWebEngineCore import QWebEngineSettings

    from mapviewer.map.tileaccess import ALLOWED_KEY, TileConsent

    remote = QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls
    state = AppState()
    view = MapView(state)
    recorder = RequestRecorder()
    view.profile.setUrlRequestInterceptor(recorder)  # sees every request the page makes, before any filter
    asked: list[tuple] = []
    view.tile_consent = TileConsent(settings, ask=lambda host, label, done: asked.append((host, label, done)))
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    with qtbot.waitSignal(view.ready, timeout=WAIT):
        pass
    try:
        state.set_basemap(TILES)  # as a saved view does
        assert [(host, label) for host, label, _ in asked] == [(TILE_HOST, TILES)]
        # Still unanswered: the page shows the offline basemap and cannot reach any server.
        assert js(qtbot, view, "!!mapviewer.state.tiles") is False
        assert view.shown_basemap == "offline" and not view.page().settings().testAttribute(remote)
        assert not any(TILE_HOST in u for u in recorder.urls)

        asked[0][2](True)
        qtbot.waitUntil(lambda: any(u.startswith(f"http://{TILE_HOST}/") for u in recorder.urls), timeout=WAIT)
        assert view.shown_basemap == TILES and view.page().settings().testAttribute(remote)
        assert settings.value(ALLOWED_KEY) in ([TILE_HOST], TILE_HOST)  # remembered for this server
        # Even now the page reaches nothing else: no other host, no fetch, no script.
        recorder.urls.clear()
        view.run_js("fetch('http://tiles.example.test/data.json').catch(function () {});"
                    "var s = document.createElement('script'); s.src = 'http://tiles.example.test/x.js';"
                    "document.head.appendChild(s);"
                    "new Image().src = 'http://other.example.test/last.png';")
        qtbot.waitUntil(lambda: "http://other.example.test/last.png" in view._tile_filter.blocked, timeout=WAIT)
        assert "http://tiles.example.test/x.js" in view._tile_filter.blocked or not any(
            u.endswith("x.js") for u in recorder.urls)
        assert not any(u.endswith("data.json") for u in recorder.urls)  # the page's policy forbids fetch

        # Back to the offline basemap: no network at all again.
        state.set_basemap("offline")
        assert view.shown_basemap == "offline" and not view.page().settings().testAttribute(remote)
        assert js(qtbot, view, "!!mapviewer.state.tiles") is False
    finally:
        view.release()


def _view_file(tmp_path, data: str, basemap: str) -> str:
    from mapviewer.files.views import ViewSpec, save_view

    path = tmp_path / "shared view.json"
    save_view(path, ViewSpec(data=(data,), basemap=basemap))
    return str(path)


def test_views_ask_once_per_server_and_menu_choices_agree(qtbot, make_main_window, settings, tmp_path,
                                                          monkeypatch, hostile_csv):
    from mapviewer.map.tileaccess import ALLOWED_KEY, REFUSED_KEY

    answers = {"reply": False}
    asked: list[tuple[str, str]] = []

    def ask(parent, host, label, done):
        asked.append((host, label))
        done(answers["reply"])
        return True

    monkeypatch.setattr("mapviewer.mainwindow.ask_tile_server", ask)
    window = make_main_window(show=False)
    errors: list[str] = []
    monkeypatch.setattr(window, "show_error", lambda title, text, detail="": errors.append(text))
    view = _view_file(tmp_path, hostile_csv, "OpenTopoMap")
    host = "a.tile.opentopomap.org"

    assert window.open_view(view)  # the person says no
    assert asked == [(host, "OpenTopoMap")]
    qtbot.waitUntil(lambda: window.state.basemap == "offline")  # the menu says what the map shows
    assert window.map_view.shown_basemap == "offline" and window.basemap_actions["offline"].isChecked()
    assert settings.value("basemap") == "offline"
    assert settings.value(REFUSED_KEY) in ([host], host) and errors == []
    assert window.open_view(view)  # remembered: not asked again, and told why the tiles are missing
    qtbot.waitUntil(lambda: window.state.basemap == "offline")
    assert len(asked) == 1
    assert len(errors) == 1 and host in errors[0] and "not loaded" in errors[0]

    window.basemap_actions["OpenTopoMap"].trigger()  # picking it in the menu is agreeing to it
    assert len(asked) == 1
    assert window.state.basemap == "OpenTopoMap" and window.map_view.shown_basemap == "OpenTopoMap"
    assert settings.value(ALLOWED_KEY) in ([host], host) and not settings.value(REFUSED_KEY)

    # A custom server typed in the menu agrees too; one named by another view is asked about.
    answers["reply"] = True
    other = _view_file(tmp_path, hostile_csv, TILES)
    assert window.open_view(other)
    assert asked[-1] == (TILE_HOST, TILES) and window.map_view.shown_basemap == TILES
    again = make_main_window(show=False)  # the next session: both servers are remembered, nobody is asked
    assert again.state.basemap == TILES and again.map_view.shown_basemap == TILES
    assert len(asked) == 2


def test_screenshot_runs_contact_no_new_tile_server(qtbot, make_main_window, monkeypatch, tmp_path, hostile_csv):
    monkeypatch.setattr("mapviewer.mainwindow.ask_tile_server",
                        lambda *a: pytest.fail("a screenshot run has no one to ask"))
    window = make_main_window(show=False)
    window.show_messages = False
    errors: list[str] = []
    monkeypatch.setattr(window, "show_error", lambda title, text, detail="": errors.append(text))
    window.open_view(_view_file(tmp_path, hostile_csv, TILES))
    assert window.map_view.shown_basemap == "offline"
    assert len(errors) == 1 and TILE_HOST in errors[0]  # reported: the run says why the map has no tiles


def test_html_exports_with_an_online_basemap_say_which_server_the_page_contacts(tmp_path, hostile_csv, capsys):
    from mapviewer.cli.export import run_export

    view = _view_file(tmp_path, hostile_csv, "OpenStreetMap.Mapnik")
    out = tmp_path / "map.html"
    assert run_export(["--view", view, "--format", "html", "-o", str(out)]) == 0
    line = capsys.readouterr().out
    assert "tile.openstreetmap.org" in line and line.count("\n") == 1
    page = out.read_text(encoding="utf-8")
    start = page.index("mapviewer.init(")
    config, _ = json.JSONDecoder().raw_decode(page, page.index("}, ", start) + 3)
    assert config["basemap"]["url"].startswith("https://tile.openstreetmap.org/")
    assert run_export(["--view", view, "--format", "csv", "-o", str(tmp_path / "rows.csv")]) == 0
    assert "tile" not in capsys.readouterr().out  # only the page contacts a server
    offline = _view_file(tmp_path, hostile_csv, "offline")
    assert run_export(["--view", offline, "--format", "html", "-o", str(out)]) == 0
    assert "tiles" not in capsys.readouterr().out
