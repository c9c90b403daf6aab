"""Filter panel, attribute table, summary and load report, each over a real AppState."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from geodata import FilterState
from geodata.report import LoadReport

WAIT = 5000


def _item(tree, text):
    """The checklist entry whose label is ``text`` (class nodes and their munitions)."""
    for i in range(tree.topLevelItemCount()):
        top = tree.topLevelItem(i)
        if top.text(0) == text:
            return top
        for j in range(top.childCount()):
            if top.child(j).text(0) == text:
                return top.child(j)
    raise LookupError(text)


@pytest.fixture
def panel(qtbot, loaded_state):
    from mapviewer.panels.filters import FilterPanel

    widget = FilterPanel(loaded_state)
    qtbot.addWidget(widget)
    widget.show()
    return widget


@pytest.fixture
def table(qtbot, loaded_state):
    from mapviewer.panels.table import IncidentTable

    widget = IncidentTable(loaded_state)
    qtbot.addWidget(widget)
    widget.resize(900, 300)
    widget.show()
    return widget


def _untick(panel, tree, text, qtbot):
    with qtbot.waitSignal(panel.state.filter_changed, timeout=WAIT):
        _item(tree, text).setCheckState(0, Qt.CheckState.Unchecked)


# -- filter panel ---------------------------------------------------------------
def test_unticking_an_outcome_filters_the_state(panel, qtbot):
    state = panel.state
    _untick(panel, panel.outcome_list, "Intercepted", qtbot)
    assert state.filter.outcomes == frozenset({"impact", "deviated", "debris", "unknown"})
    assert int(state.mask.sum()) == 5
    assert "intercepted" not in set(state.visible["outcome"])


def test_unticking_a_class_drops_all_its_munitions(panel, qtbot):
    _untick(panel, panel.munition_tree, "Ballistic missile", qtbot)
    # A class node is the class filter (the map's class layer boxes set the same field).
    assert "ballistic missile" not in panel.state.filter.munition_classes
    assert _item(panel.munition_tree, "KN-23").checkState(0) == Qt.CheckState.Unchecked
    assert set(panel.state.visible["munition"]) == {"Shahed-136", "Kh-101"}
    # The class node shows a mixed state when only some of its munitions are ticked.
    _item(panel.munition_tree, "KN-23").setCheckState(0, Qt.CheckState.Checked)
    assert _item(panel.munition_tree, "Ballistic missile").checkState(0) == Qt.CheckState.Checked
    assert _item(panel.munition_tree, "Cruise missile").checkState(0) == Qt.CheckState.Checked


def test_munitions_are_grouped_by_class(panel):
    tree = panel.munition_tree
    groups = {tree.topLevelItem(i).text(0): [tree.topLevelItem(i).child(j).text(0)
                                             for j in range(tree.topLevelItem(i).childCount())]
              for i in range(tree.topLevelItemCount())}
    assert groups == {"Ballistic missile": ["KN-23"], "Cruise missile": ["Kh-101"],
                      "Drone (loitering munition)": ["Shahed-136"]}


def test_facet_counts_are_shown_and_follow_other_filters(panel, qtbot):
    assert _item(panel.munition_tree, "KN-23").text(1) == "4"
    assert _item(panel.munition_tree, "Shahed-136").text(1) == "3"
    assert _item(panel.outcome_list, "Intercepted").text(1) == "3"
    _untick(panel, panel.outcome_list, "Impact", qtbot)
    # Munition counts follow the outcome filter...
    assert _item(panel.munition_tree, "KN-23").text(1) == "1"
    assert _item(panel.munition_tree, "Shahed-136").text(1) == "2"
    assert _item(panel.munition_tree, "Ballistic missile").text(1) == "1"
    # ...while outcome counts ignore it, so the unticked entry still says what ticking it would add.
    assert _item(panel.outcome_list, "Impact").text(1) == "4"
    assert panel.count_label.text() == "4 of 8 events"


def test_last_24_hours_is_relative_to_the_newest_event(panel, qtbot):
    assert "newest event" in panel.preset_buttons["24 h"].toolTip()
    with qtbot.waitSignal(panel.state.filter_changed, timeout=WAIT):
        panel.preset_buttons["24 h"].click()
    newest = panel.state.frame["occurred_at"].max()
    assert pd.Timestamp(panel.state.filter.start) == newest - pd.Timedelta(hours=24)
    assert set(panel.state.visible["event_id"]) == {"N-1", "N-2", "N-3", "N-4"}
    assert panel.start_edit.date().toPython() == dt.date(2025, 9, 29)  # Kyiv date of the start
    assert panel.preset_buttons["24 h"].isChecked() and not panel.preset_buttons["All"].isChecked()
    with qtbot.waitSignal(panel.state.filter_changed, timeout=WAIT):
        panel.preset_buttons["All"].click()
    assert panel.state.filter.start is None and int(panel.state.mask.sum()) == 8


def test_date_edits_and_slider_set_the_range(panel, qtbot):
    with qtbot.waitSignal(panel.state.filter_changed, timeout=WAIT):
        panel.end_edit.setDate(dt.date(2025, 9, 25))
    assert panel.state.filter.end == dt.date(2025, 9, 25)
    assert set(panel.state.visible["munition"]) == {"Shahed-136", "Kh-101"}
    first = dt.date(2025, 8, 1)
    assert panel.slider.value()[1] == (dt.date(2025, 9, 25) - first).days
    with qtbot.waitSignal(panel.state.filter_changed, timeout=WAIT):
        panel.slider.setValue(((dt.date(2025, 9, 1) - first).days, panel.slider.maximum()))
    assert panel.state.filter.start == dt.date(2025, 9, 1) and panel.state.filter.end is None
    assert panel.start_edit.date().toPython() == dt.date(2025, 9, 1)
    assert int(panel.state.mask.sum()) == 7
    # An end before the start pulls the start along: one day, never an inverted range.
    with qtbot.waitSignal(panel.state.filter_changed, timeout=WAIT):
        panel.end_edit.setDate(dt.date(2025, 8, 1))
    assert panel.start_edit.date().toPython() == panel.end_edit.date().toPython() == dt.date(2025, 8, 1)
    assert list(panel.state.visible["event_id"]) == ["C-1"]


def test_text_search_and_reset(panel, qtbot):
    with qtbot.waitSignal(panel.state.filter_changed, timeout=WAIT):
        panel.search.setText("lviv")
    assert list(panel.state.visible["event_id"]) == ["C-1"]
    _untick(panel, panel.outcome_list, "Impact", qtbot)
    with qtbot.waitSignal(panel.state.filter_changed, timeout=WAIT):
        panel.reset_button.click()
    assert panel.state.filter.is_empty and int(panel.state.mask.sum()) == 8
    assert panel.search.text() == ""
    assert _item(panel.outcome_list, "Impact").checkState(0) == Qt.CheckState.Checked


def test_quick_changes_are_debounced_into_one_filter(panel, qtbot):
    emitted = []
    panel.state.filter_changed.connect(lambda: emitted.append(panel.state.filter))
    for text in ("k", "ky", "kyi"):
        panel.search.setText(text)
    qtbot.waitUntil(lambda: len(emitted) >= 1, timeout=WAIT)
    with qtbot.assertNotEmitted(panel.state.filter_changed, wait=400):  # longer than the debounce
        pass
    assert [f.text for f in emitted] == ["kyi"]


def test_a_filter_set_elsewhere_shows_in_the_panel(panel):
    panel.state.set_filter(FilterState(munitions={"KN-23"}, outcomes={"impact"}))
    assert _item(panel.munition_tree, "KN-23").checkState(0) == Qt.CheckState.Checked
    assert _item(panel.munition_tree, "Shahed-136").checkState(0) == Qt.CheckState.Unchecked
    assert _item(panel.outcome_list, "Deviated / exploded in the air").checkState(0) == Qt.CheckState.Unchecked
    assert panel.count_label.text() == "3 of 8 events"


# -- table ------------------------------------------------------------------------
def test_table_rows_follow_the_filter(table, loaded_state):
    assert table.model.rowCount() == 8
    loaded_state.set_filter(FilterState(outcomes={"intercepted"}))
    assert table.model.rowCount() == int(loaded_state.mask.sum()) == 3
    ids = {table.model.cell_text(r, "event_id") for r in range(3)}
    assert ids == {"S-1", "S-2", "C-1"}


def _select_rows(table, rows):
    from PySide6.QtCore import QItemSelection, QItemSelectionModel

    selection = QItemSelection()
    for row in rows:
        selection.select(table.model.index(row, 0), table.model.index(row, table.model.columnCount() - 1))
    table.view.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)


def test_selecting_rows_sets_the_state_selection_after_sorting(table, loaded_state):
    column = list(table.model._columns).index("location")
    table.view.sortByColumn(column, Qt.SortOrder.AscendingOrder)
    assert table.model.cell_text(0, "location") == "Boiarka"
    _select_rows(table, [0])
    assert list(loaded_state.selection) == [0]  # Boiarka is the first row of the frame
    locations = [table.model.cell_text(r, "location") for r in range(8)]
    lviv = locations.index("Lviv")
    _select_rows(table, [0, lviv])
    assert list(loaded_state.selection) == [0, 7]


def test_state_selection_selects_and_scrolls_to_rows(qtbot, loaded_state, frame):
    from mapviewer.panels.table import IncidentTable

    big = pd.concat([frame] * 50, ignore_index=True)  # 400 rows: most are off screen
    loaded_state.add_dataset("/data/big.csv", big, LoadReport("/data/big.csv", "csv"))
    table = IncidentTable(loaded_state)
    qtbot.addWidget(table)
    table.resize(800, 250)
    table.show()
    table.view.sortByColumn(list(table.model._columns).index("event_id"), Qt.SortOrder.DescendingOrder)
    loaded_state.set_selection([350, 5])
    rows = table.selected_rows()
    assert sorted(table.model.positions[rows]) == [5, 350]
    index = table.model.index(min(rows), 0)
    assert table.view.viewport().rect().intersects(table.view.visualRect(index))  # scrolled to it
    assert "2 selected" in table.selection_label.text()
    # Rows hidden by the filter drop out of the table selection.
    loaded_state.set_filter(FilterState(outcomes={"impact"}))
    assert all(table.model.cell_text(r, "outcome") == "impact" for r in table.selected_rows())


def test_zoom_to_selection_asks_the_state(table, loaded_state, qtbot):
    assert not table.zoom_action.isEnabled()
    loaded_state.set_selection([1])
    assert table.zoom_action.isEnabled()
    with qtbot.waitSignal(loaded_state.zoom_to_selection_requested, timeout=WAIT):
        table.zoom_action.trigger()


def test_copy_puts_selected_rows_as_tsv(table, loaded_state, qtbot):
    loaded_state.set_selection([0, 2])
    table.view.setFocus()
    qtbot.keyClick(table.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    lines = QGuiApplication.clipboard().text().splitlines()
    header = lines[0].split("\t")
    assert header[:2] == ["ID", "Time"]
    assert [line.split("\t")[0] for line in lines[1:]] == ["N-1", "N-3"]
    assert lines[1].split("\t")[header.index("Location")] == "Boiarka"
    assert lines[1].split("\t")[header.index("Time")] == "2025-09-30 01:40"  # shown in Kyiv time


def test_record_text_is_shown_as_plain_text(table):
    model = table.model
    row = next(r for r in range(model.rowCount()) if model.cell_text(r, "event_id") == "S-3")
    index = model.index(row, list(model._columns).index("notes"))
    assert model.data(index) == "<script>window.hacked=1</script><b>bold</b>"
    tooltip = model.data(index, Qt.ItemDataRole.ToolTipRole)
    assert "<script>" not in tooltip and "&lt;script&gt;" in tooltip


def test_outcome_cells_have_the_style_colour(table):
    from geodata.style import OUTCOME_STYLE

    model = table.model
    column = list(model._columns).index("outcome")
    colours = {model.cell_text(r, "outcome"): model.data(model.index(r, column), Qt.ItemDataRole.DecorationRole).name()
               for r in range(model.rowCount())}
    assert colours["impact"].lower() == OUTCOME_STYLE["impact"].colour.lower()
    assert colours["intercepted"].lower() == OUTCOME_STYLE["intercepted"].colour.lower()


def test_large_table_sorts_by_time(qtbot, qapp):
    from geodata.sample import make_sample
    from mapviewer.state import AppState
    from mapviewer.panels.table import IncidentTableModel

    state = AppState()
    sample = make_sample(n=20000)
    state.add_dataset("/data/sample.gpkg", sample, LoadReport("/data/sample.gpkg", "gpkg"))
    model = IncidentTableModel(state)
    assert model.rowCount() == 20000
    model.sort(list(model._columns).index("occurred_at"), Qt.SortOrder.DescendingOrder)
    times = state.frame["occurred_at"].array.asi8[model.positions]
    assert (np.diff(times) <= 0).all()
    assert model.cell_text(0, "occurred_at") >= model.cell_text(19999, "occurred_at")


# -- summary ------------------------------------------------------------------------
def test_summary_counts_rates_and_casualties(qtbot, loaded_state):
    from mapviewer.panels.summary import SummaryPanel

    panel = SummaryPanel(loaded_state)
    qtbot.addWidget(panel)
    assert panel.headline.text() == "8 of 8 events shown"
    outcomes = {panel.outcomes.topLevelItem(i).text(0): panel.outcomes.topLevelItem(i).text(1)
                for i in range(panel.outcomes.topLevelItemCount())}
    assert outcomes["Impact"] == "4" and outcomes["Intercepted"] == "3"
    munitions = {panel.munitions.topLevelItem(i).text(0): [panel.munitions.topLevelItem(i).text(c) for c in (1, 2, 3)]
                 for i in range(panel.munitions.topLevelItemCount())}
    assert munitions["KN-23"] == ["4", "0%", "25%"]
    assert munitions["Shahed-136"] == ["3", "67%", "0%"]
    assert "Intercepted: 3 of 8" in panel.details.text()
    assert "Killed: 2 (figures given for 3 of 8 events)" in panel.details.text()

    loaded_state.set_filter(FilterState(munitions={"KN-23"}))
    assert panel.headline.text() == "4 of 8 events shown"
    assert panel.munitions.topLevelItemCount() == 1


def test_summary_says_how_many_events_dated_only_to_their_month_the_range_leaves_out(qtbot, qapp):
    from mapviewer.state import AppState
    from mapviewer.panels.summary import SummaryPanel
    from tests.mapviewer.conftest import canonical_frame

    frame = canonical_frame()
    frame.loc[frame.index[-1], ["occurred_at", "time_precision"]] = [pd.Timestamp("2025-08-31T21:00:00Z"), "month"]
    state = AppState()
    state.add_dataset("/data/night.csv", frame, LoadReport(path="/data/night.csv", format="csv"))
    panel = SummaryPanel(state)
    qtbot.addWidget(panel)
    assert "Not shown" not in panel.details.text()
    state.set_filter(FilterState(start=dt.date(2025, 9, 20), end=dt.date(2025, 9, 30)))  # C-1: some day in September
    assert panel.headline.text() == "7 of 8 events shown"
    assert "Not shown: 1 event dated only to a day or month" in panel.details.text()
    state.set_filter(FilterState(start=dt.date(2025, 9, 1), end=dt.date(2025, 9, 30)))
    assert panel.headline.text() == "8 of 8 events shown" and "Not shown" not in panel.details.text()


def test_events_two_open_files_share_are_reported_and_said_to_count_twice(qtbot, qapp):
    from mapviewer.state import AppState
    from mapviewer.panels.summary import SummaryPanel
    from tests.mapviewer.conftest import canonical_frame

    night = canonical_frame()
    partner = canonical_frame().iloc[[0, 2, 7]].copy()  # N-1, N-3 and C-1 again, as a partner exported them
    partner.loc[partner.index[2], "occurred_at"] = pd.Timestamp("2025-08-02T03:00:00Z")  # C-1 on another day
    state = AppState()
    state.add_dataset("/data/night.csv", night, LoadReport(path="/data/night.csv", format="csv"))
    panel = SummaryPanel(state)
    qtbot.addWidget(panel)
    assert "more than once" not in panel.details.text()
    report = LoadReport(path="/data/partner.csv", format="csv")
    state.add_dataset("/data/partner.csv", partner, report)
    assert panel.headline.text() == "11 of 11 events shown"
    assert "Counted more than once: 2 events shown from two open files" in panel.details.text()
    said = [p.message for p in report.warnings if p.column == "event_id"]
    assert len(said) == 1 and "2 events with the same id and time as in night.csv" in said[0]
    assert "(rows 2, 4)" in said[0]  # the partner file's own row numbers (a spreadsheet's, header = 1)
    state.set_filter(FilterState(munitions={"Kh-101"}))
    assert "more than once" not in panel.details.text()  # only C-1, on two different days
    state.close_dataset("/data/partner.csv")
    state.set_filter(FilterState())
    assert "more than once" not in panel.details.text()


# -- load report ------------------------------------------------------------------------
@pytest.fixture
def report():
    report = LoadReport(path="/data/partner.csv", format="csv", rows_read=5, rows_loaded=3, rows_rejected=2)
    report.add(3, "occurred_at", "no usable date: 'yesterday'")
    report.add(5, "latitude", "latitude 95.0 is outside -90..90")
    report.add(4, "outcome", "unrecognised outcome 'boom' read as unknown", "warning")
    return report


def test_report_dialog_lists_rejected_rows(qtbot, report, tmp_path):
    from mapviewer.dialogs.report import ReportDialog

    dialog = ReportDialog([report])
    qtbot.addWidget(dialog)
    model = dialog.model
    rows = [[model.data(model.index(r, c)) for c in range(1, 5)] for r in range(model.rowCount())]
    assert ["3", "occurred_at", "error", "no usable date: 'yesterday'"] in rows
    assert ["5", "latitude", "error", "latitude 95.0 is outside -90..90"] in rows
    assert len(rows) == 3
    dialog.copy_button.click()
    copied = QGuiApplication.clipboard().text()
    assert "rows read: 5, loaded: 3, rejected: 2" in copied
    assert "error: row 5 [latitude]: latitude 95.0 is outside -90..90" in copied
    out = tmp_path / "report.txt"
    dialog.save_to(str(out))
    assert out.read_text(encoding="utf-8") == copied


# -- dates of attack waves ------------------------------------------------------------
def _waves_state(path, state=None):
    from geodata.waves import read_waves
    from mapviewer.state import AppState

    state = state if state is not None else AppState()
    result = read_waves(path)
    state.add_waves(path, result.frame, result.report)
    return state


def test_date_range_spans_a_waves_report_opened_alone(qtbot, waves_csv):
    from geodata.waves import wave_mask
    from mapviewer.panels.filters import FilterPanel

    state = _waves_state(waves_csv)
    widget = FilterPanel(state)
    qtbot.addWidget(widget)
    assert widget.slider.isEnabled() and widget.end_edit.isEnabled()
    # First wave starts on 5 October, the last one ends on 12 October (Kyiv dates).
    assert widget.start_edit.date().toPython() == dt.date(2025, 10, 5)
    assert widget.end_edit.date().toPython() == dt.date(2025, 10, 12)
    assert widget.slider.maximum() == 7
    with qtbot.waitSignal(state.filter_changed, timeout=WAIT):
        widget.end_edit.setDate(dt.date(2025, 10, 8))
    assert state.filter.end == dt.date(2025, 10, 8)
    assert int(wave_mask(state.waves, state.filter).sum()) == 1  # the KN-23 wave starts on the 9th


def test_waves_widen_the_date_range_of_the_events(panel, waves_csv, qtbot):
    assert panel.end_edit.date().toPython() == dt.date(2025, 9, 30)  # newest event, Kyiv date
    _waves_state(waves_csv, panel.state)
    assert panel.start_edit.date().toPython() == dt.date(2025, 8, 1)
    assert panel.end_edit.date().toPython() == dt.date(2025, 10, 12)
    with qtbot.waitSignal(panel.state.filter_changed, timeout=WAIT):
        panel.preset_buttons["7 days"].click()
    # "Last 7 days" now ends at the end of the last wave, which leaves no event.
    assert pd.Timestamp(panel.state.filter.start) == pd.Timestamp("2025-10-05 23:59:59", tz="Europe/Kyiv")
    assert panel.count_label.text() == "0 of 8 events"


def test_munitions_of_a_waves_report_can_be_filtered(qtbot, waves_csv):
    from geodata.waves import wave_mask
    from mapviewer.panels.filters import FilterPanel

    state = _waves_state(waves_csv)
    widget = FilterPanel(state)
    qtbot.addWidget(widget)
    from geodata.style import CLASS_STYLE

    cruise = CLASS_STYLE["cruise missile"].label
    assert {_item(widget.munition_tree, n).parent().text(0) for n in ("Kh-101", "Kh-555")} == {cruise}
    _untick(widget, widget.munition_tree, "KN-23", qtbot)
    assert "KN-23" not in state.filter.munitions and "Shahed-131" in state.filter.munitions
    assert int(wave_mask(state.waves, state.filter).sum()) == 2


def test_a_class_left_out_of_the_filter_shows_unticked_and_ticking_it_brings_it_back(panel, qtbot):
    state = panel.state
    from geodata.style import CLASS_STYLE

    node = _item(panel.munition_tree, CLASS_STYLE["loitering munition"].label)
    state.set_filter(state.filter.replace(munition_classes=frozenset({"ballistic missile", "cruise missile"})))
    assert node.checkState(0) == Qt.CheckState.Unchecked
    assert _item(panel.munition_tree, "Shahed-136").checkState(0) == Qt.CheckState.Unchecked
    assert _item(panel.munition_tree, "KN-23").checkState(0) == Qt.CheckState.Checked
    assert not panel.other_label.isVisible()  # shown on the tree, not in words
    assert set(state.visible["munition"]) == {"KN-23", "Kh-101"}
    with qtbot.waitSignal(state.filter_changed, timeout=WAIT):
        node.setCheckState(0, Qt.CheckState.Checked)
    assert state.filter.munition_classes is None or "loitering munition" in state.filter.munition_classes
    assert state.filter.munitions is None
    assert "Shahed-136" in set(state.visible["munition"])


def test_table_columns_fit_their_header_and_text_with_long_text_capped(table, loaded_state):
    from mapviewer.panels.table import WIDTH_SAMPLE

    view, model = table.view, table.model
    cells, heads = view.fontMetrics(), view.horizontalHeader().fontMetrics()
    assert model.rowCount() <= WIDTH_SAMPLE  # every row is in the measured sample here
    for column, key in enumerate(model.columns):
        width = view.columnWidth(column)
        assert 50 <= width <= 260, key
        header = heads.horizontalAdvance(str(model.headerData(column, Qt.Orientation.Horizontal)))
        longest = max(cells.horizontalAdvance(model.cell_text(r, key)) for r in range(model.rowCount()))
        assert width >= min(max(header, longest), 248), key  # nothing cut short unless capped


def test_table_cells_far_down_a_big_table_show_their_own_row(qtbot):
    import geopandas as gpd

    from geodata.sample import make_sample
    from mapviewer.state import AppState
    from mapviewer.panels.table import IncidentTable

    sample = make_sample(seed=3)
    big = gpd.GeoDataFrame(pd.concat([sample] * (3000 // len(sample) + 1), ignore_index=True).iloc[:3000],
                           geometry="geometry", crs="EPSG:4326")
    big["event_id"] = [f"E-{i}" for i in range(len(big))]
    state = AppState()
    widget = IncidentTable(state)
    qtbot.addWidget(widget)
    state.add_dataset("big.csv", big, LoadReport(path="big.csv", format="csv"))
    model = widget.model
    for row in (0, 1023, 1024, 2999):
        assert model.cell_text(row, "event_id") == f"E-{row}"
        assert model.cell_text(row, "lat") == f"{big.geometry.y.iloc[row]:.5f}"
    model.sort(model.columns.index("event_id"), Qt.SortOrder.DescendingOrder)
    assert model.cell_text(0, "event_id") == "E-999"  # text order: E-999 > E-2999


# -- events that name no munition, and a source's tags (TimeMap) ----------------------
TIMEMAP = [
    {"id": "T1", "date": "09/28/2025", "latitude": "50.45", "longitude": "30.52", "location": "Kyiv",
     "description": "Apartment block hit", "sources": [],
     "filters": [{"key": "Weapon System", "value": "Cruise missile"},
                 {"key": "Type of area affected", "value": "Residential"}]},
    {"id": "T2", "date": "09/28/2025", "latitude": "49.99", "longitude": "36.23", "location": "Kharkiv",
     "description": "Plant and houses", "sources": [],
     "filters": [{"key": "Weapon System", "value": "Cruise missile"},
                 {"key": "Type of area affected", "value": "Industrial"},
                 {"key": "Type of area affected", "value": "Residential"}]},
    {"id": "T3", "date": "09/27/2025", "latitude": "48.46", "longitude": "35.04", "location": "Dnipro",
     "description": "Cluster strike", "sources": [],
     "filters": [{"key": "Weapon System", "value": "Cluster munitions"}]},
    {"id": "T4", "date": "09/27/2025", "latitude": "46.48", "longitude": "30.72", "location": "Odesa",
     "description": "Port", "sources": [],
     "filters": [{"key": "Weapon System", "value": "Ballistic missile"},
                 {"key": "Type of area affected", "value": "Industrial"}]},
]
AREA = "tag_type_of_area_affected"


@pytest.fixture
def timemap_file(tmp_path):
    import json

    path = tmp_path / "timemap_export.json"
    path.write_text(json.dumps(TIMEMAP), encoding="utf-8")
    return str(path)


def _add_file(state, path):
    from geodata import read_incidents

    result = read_incidents(path)
    state.add_dataset(path, result.frame, result.report)
    return state


def _panel_over(qtbot, state):
    from mapviewer.panels.filters import FilterPanel

    widget = FilterPanel(state)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def _leaf(tree, parent_text, text):
    """The entry ``text`` under the node ``parent_text`` (several classes have a "(no munition named)")."""
    parent = _item(tree, parent_text)
    for j in range(parent.childCount()):
        if parent.child(j).text(0) == text:
            return parent.child(j)
    raise LookupError(f"{parent_text} / {text}")


def _groups(tree):
    return {tree.topLevelItem(i).text(0): [tree.topLevelItem(i).child(j).text(0)
                                           for j in range(tree.topLevelItem(i).childCount())]
            for i in range(tree.topLevelItemCount())}


def test_events_naming_no_munition_have_their_own_entry_and_stay_when_a_munition_is_unticked(
        qtbot, loaded_state, timemap_file):
    from geodata.filters import NO_MUNITION, no_munition

    state = _add_file(loaded_state, timemap_file)
    widget = _panel_over(qtbot, state)
    groups = _groups(widget.munition_tree)
    assert groups["Ballistic missile"] == ["KN-23", NO_MUNITION]
    assert groups["Cruise missile"] == ["Kh-101", NO_MUNITION]
    assert groups["Unknown munition"] == [NO_MUNITION]  # the cluster strike: no class, no name
    assert _leaf(widget.munition_tree, "Cruise missile", NO_MUNITION).text(1) == "2"
    assert _leaf(widget.munition_tree, "Unknown munition", NO_MUNITION).text(1) == "1"

    _untick(widget, widget.munition_tree, "KN-23", qtbot)
    assert "KN-23" not in state.filter.munitions
    assert {"T1", "T2", "T3", "T4"} <= set(state.visible["event_id"])  # not hidden unasked
    assert len(state.visible) == 12 - 4

    with qtbot.waitSignal(state.filter_changed, timeout=WAIT):
        _leaf(widget.munition_tree, "Cruise missile", NO_MUNITION).setCheckState(0, Qt.CheckState.Unchecked)
    assert no_munition("cruise missile") not in state.filter.munitions
    assert no_munition("ballistic missile") in state.filter.munitions
    shown = set(state.visible["event_id"])
    assert not {"T1", "T2"} & shown and {"T3", "T4", "C-1"} <= shown
    # Counts of an unticked entry still say what ticking it would add.
    assert _leaf(widget.munition_tree, "Cruise missile", NO_MUNITION).text(1) == "2"


def test_a_file_with_only_timemap_data_has_a_munitions_tree(qtbot, timemap_file):
    from geodata.filters import NO_MUNITION
    from mapviewer.state import AppState

    widget = _panel_over(qtbot, _add_file(AppState(), timemap_file))
    assert _groups(widget.munition_tree) == {"Ballistic missile": [NO_MUNITION], "Cruise missile": [NO_MUNITION],
                                             "Unknown munition": [NO_MUNITION]}
    _untick(widget, widget.munition_tree, "Ballistic missile", qtbot)
    assert sorted(widget.state.visible["event_id"]) == ["T1", "T2", "T3"]


def test_tag_columns_get_a_checklist_with_counts(qtbot, loaded_state, timemap_file):
    from geodata.filters import NO_TAG

    plain = _panel_over(qtbot, loaded_state)
    assert not plain.tag_box.isVisible()  # no tag columns: no tag checklist
    state = _add_file(loaded_state, timemap_file)
    widget = plain
    assert widget.tag_box.isVisible()
    groups = _groups(widget.tag_tree)
    assert set(groups) == {"Type of area affected", "Weapon system"}
    assert set(groups["Type of area affected"]) == {"Residential", "Industrial", NO_TAG}
    area = _item(widget.tag_tree, "Type of area affected")
    assert not area.isExpanded()  # collapsed: one line per column until opened
    counts = {area.child(j).text(0): area.child(j).text(1) for j in range(area.childCount())}
    # "Industrial | Residential" counts for both; the sample-like events have no area: "(not given)".
    assert counts == {"Residential": "2", "Industrial": "2", NO_TAG: "9"}

    with qtbot.waitSignal(state.filter_changed, timeout=WAIT):
        _leaf(widget.tag_tree, "Type of area affected", "Residential").setCheckState(0, Qt.CheckState.Unchecked)
    assert state.filter.tags == frozenset({(AREA, "Industrial"), (AREA, NO_TAG)})
    assert "T1" not in set(state.visible["event_id"]) and {"T2", "T4", "T3"} <= set(state.visible["event_id"])
    assert _leaf(widget.tag_tree, "Type of area affected", "Residential").text(1) == "2"
    assert area.checkState(0) == Qt.CheckState.PartiallyChecked

    # A filter set elsewhere (a saved view) shows in the checklist; reset ticks everything again.
    state.set_filter(state.filter.replace(tags=frozenset({(AREA, "Residential")})))
    assert _leaf(widget.tag_tree, "Type of area affected", "Industrial").checkState(0) == Qt.CheckState.Unchecked
    assert _leaf(widget.tag_tree, "Type of area affected", "Residential").checkState(0) == Qt.CheckState.Checked
    assert sorted(state.visible["event_id"]) == ["T1", "T2"]
    widget.reset()
    assert state.filter.tags is None
    assert _leaf(widget.tag_tree, "Type of area affected", "Industrial").checkState(0) == Qt.CheckState.Checked


def test_text_search_looks_in_tag_columns(qtbot, timemap_file):
    from mapviewer.state import AppState

    widget = _panel_over(qtbot, _add_file(AppState(), timemap_file))
    with qtbot.waitSignal(widget.state.filter_changed, timeout=WAIT):
        widget.search.setText("industrial")
    assert sorted(widget.state.visible["event_id"]) == ["T2", "T4"]


def test_new_rows_of_an_open_database_keep_the_column_widths(qtbot):
    """Rows replaced for another view or filter keep the widths (those the person set too); a newly
    opened file, or rows arriving after a table of headers alone, are measured again."""
    import geopandas as gpd

    from geodata.sample import make_sample
    from mapviewer.panels.table import IncidentTable
    from mapviewer.state import AppState

    sample = gpd.GeoDataFrame(make_sample(seed=3), geometry="geometry", crs="EPSG:4326")
    state = AppState()
    widget = IncidentTable(state)
    qtbot.addWidget(widget)
    header, notes = widget.view.horizontalHeader(), widget.model.columns.index("notes")
    state.add_dataset("db", sample.iloc[:0], LoadReport(path="db", format="db"))  # cells: no rows yet
    narrow = header.sectionSize(notes)
    state.replace_rows("db", sample.iloc[:200], LoadReport(path="db", format="db"))
    fitted = header.sectionSize(notes)
    assert fitted > narrow  # measured with rows
    header.resizeSection(notes, fitted + 77)  # the person widens a column
    state.replace_rows("db", sample.iloc[200:400], LoadReport(path="db", format="db"))
    assert header.sectionSize(notes) == fitted + 77
    state.add_dataset("other.csv", sample.iloc[:50], LoadReport(path="other.csv", format="csv"))
    assert header.sectionSize(widget.model.columns.index("notes")) != fitted + 77  # measured again


def test_sorting_repeated_text_held_as_a_category_is_sorting_the_text(qtbot):
    """Repeated text the app holds once per value (geodata.memory) sorts as text, not in the order its
    values first appeared; outcomes keep their fixed order."""
    import geopandas as gpd

    from geodata.memory import repeated_text_as_categories
    from geodata.sample import make_sample
    from mapviewer.panels.table import IncidentTable
    from mapviewer.state import AppState

    sample = gpd.GeoDataFrame(make_sample(seed=3), geometry="geometry", crs="EPSG:4326").iloc[:400]
    compact = repeated_text_as_categories(sample)
    assert isinstance(compact["munition"].dtype, pd.CategoricalDtype)
    assert list(compact["munition"].cat.categories) != sorted(compact["munition"].cat.categories)
    state = AppState()
    widget = IncidentTable(state)
    qtbot.addWidget(widget)
    state.add_dataset("sample.csv", compact, LoadReport(path="sample.csv", format="csv"))
    model = widget.model
    for key, order in (("munition", Qt.SortOrder.AscendingOrder), ("location", Qt.SortOrder.DescendingOrder)):
        model.sort(model.columns.index(key), order)
        shown = [model.cell_text(row, key) for row in range(model.rowCount())]
        texts = [t for t in shown if t]
        assert texts == sorted(texts, reverse=order == Qt.SortOrder.DescendingOrder), key
        assert shown[len(texts):] == [""] * (len(shown) - len(texts))  # missing last
    model.sort(model.columns.index("outcome"), Qt.SortOrder.AscendingOrder)
    outcomes = [str(compact["outcome"].iloc[model.positions[row]]) for row in range(model.rowCount())]
    fixed = list(compact["outcome"].cat.categories)
    assert outcomes == sorted(outcomes, key=fixed.index)
