"""The timeline panel: histogram of the current filters, brushing, zoom/pan, go-to-date, playback."""
from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QPushButton

from geodata import FilterState
from geodata.report import LoadReport
from mapviewer.state import AppState
from mapviewer.panels.timeline import TimelinePanel
from tests.factories import canonical_frame

TZ = "Europe/Kyiv"


def timeline_frame() -> gpd.GeoDataFrame:
    """Ten days in May 2024 (Kyiv time): day d has d+1 events; day 4 has none; one event dated to the day."""
    rows = []
    for day in range(10):
        if day == 4:
            continue
        for k in range(day + 1):
            outcome = "impact" if k % 2 == 0 else "intercepted"
            cls = "ballistic missile" if k % 3 == 0 else "loitering munition"
            rows.append((pd.Timestamp(2024, 5, 1 + day, 10 + k % 10, tz=TZ), "exact", outcome, cls))
    rows.append((pd.Timestamp(2024, 5, 8, tz=TZ), "day", "debris", "decoy"))
    n = len(rows)
    return canonical_frame(np.linspace(24, 36, n), np.linspace(46, 51, n), occurred_at=[r[0] for r in rows],
                           time_precision=[r[1] for r in rows], outcome=[r[2] for r in rows],
                           munition_class=[r[3] for r in rows],
                           munition=["KN-23" if r[3] == "ballistic missile" else "Shahed-136" for r in rows],
                           notes="<b>note</b>")


@pytest.fixture
def panel(qtbot):
    state = AppState()
    frame = timeline_frame()
    state.add_dataset("may.csv", frame, LoadReport("may.csv", "csv", len(frame), len(frame), 0))
    widget = TimelinePanel(state)
    qtbot.addWidget(widget)
    widget.resize(900, 260)
    widget.show()
    qtbot.waitExposed(widget)
    # Show 1..11 May exactly: day bins.
    widget.view.set_view(_ns(2024, 5, 1), _ns(2024, 5, 11))
    return widget


def _ns(*args) -> int:
    return pd.Timestamp(*args, tz=TZ).value


def _x(panel, *args) -> int:
    return round(panel.view.x_of(_ns(*args)))


def _y(panel) -> int:
    return round(panel.view.plot_rect().center().y())


def test_histogram_counts_the_filters_other_than_the_date(panel):
    state = panel.state
    state.set_filter(FilterState(start=dt.date(2024, 5, 2), end=dt.date(2024, 5, 2), outcomes={"impact"}))
    hist = panel.histogram("day")
    expected = int(((state.frame["outcome"] == "impact")).sum())
    assert hist.totals.sum() == pytest.approx(expected)  # the date range does not shrink the timeline
    assert panel.view.unit() == "day"
    # Day 3 (3 May) had 3 events: 2 impacts.
    i = int(np.searchsorted(hist.edges, _ns(2024, 5, 3), "right")) - 1
    assert hist.totals[i] == 2


def test_brushing_sets_the_date_filter(panel, qtbot):
    panel.state.set_filter(FilterState(outcomes={"impact"}))
    view = panel.view
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(_x(panel, 2024, 5, 3, 12), _y(panel)))
    qtbot.mouseMove(view, QPoint(_x(panel, 2024, 5, 4, 12), _y(panel)))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(_x(panel, 2024, 5, 5, 12), _y(panel)))
    assert panel.state.filter == FilterState(start=dt.date(2024, 5, 3), end=dt.date(2024, 5, 5),
                                             outcomes={"impact"})


def test_a_click_selects_one_bin_and_double_click_clears(panel, qtbot):
    view = panel.view
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(_x(panel, 2024, 5, 7, 12), _y(panel)))
    assert (panel.state.filter.start, panel.state.filter.end) == (dt.date(2024, 5, 7), dt.date(2024, 5, 7))
    qtbot.mouseDClick(view, Qt.MouseButton.LeftButton, pos=QPoint(_x(panel, 2024, 5, 7, 12), _y(panel)))
    assert (panel.state.filter.start, panel.state.filter.end) == (None, None)


def test_brushing_at_hour_bins_gives_times(panel, qtbot):
    panel.view.set_view(_ns(2024, 5, 3), _ns(2024, 5, 4))
    assert panel.view.unit() == "hour"
    view = panel.view
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(_x(panel, 2024, 5, 3, 9, 30), _y(panel)))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(_x(panel, 2024, 5, 3, 11, 30), _y(panel)))
    state = panel.state.filter
    assert pd.Timestamp(state.start).tz_convert(TZ) == pd.Timestamp(2024, 5, 3, 9, tz=TZ)
    assert pd.Timestamp(state.end).tz_convert(TZ) == pd.Timestamp(2024, 5, 3, 12, tz=TZ) - pd.Timedelta(1, "ns")
    # Events at 10:00 and 11:00 of 3 May are in; the one at 12:00 is not.
    assert int(panel.state.mask.sum()) == 2


def _highlight_share(panel, *when) -> float:
    """How much of a column above the bars is tinted by the selection highlight."""
    image = panel.view.grab().toImage()
    x = _x(panel, *when)
    y = round(panel.view.plot_rect().top()) + 16
    base = panel.view.palette().base().color()
    colour = image.pixelColor(x, y)
    return abs(colour.red() - base.red()) + abs(colour.green() - base.green()) + abs(colour.blue() - base.blue())


def test_a_date_filter_set_elsewhere_is_highlighted(panel):
    assert _highlight_share(panel, 2024, 5, 6, 12) == 0
    panel.state.set_filter(FilterState(start=dt.date(2024, 5, 6), end=dt.date(2024, 5, 7)))
    assert _highlight_share(panel, 2024, 5, 6, 12) > 0
    assert _highlight_share(panel, 2024, 5, 9, 12) == 0


def test_wheel_zooms_and_middle_drag_pans(panel, qtbot):
    view = panel.view
    lo, hi = view.view_lo, view.view_hi
    centre = QPointF(view.x_of((lo + hi) / 2), _y(panel))
    event = QWheelEvent(centre, view.mapToGlobal(centre), QPoint(), QPoint(0, 240), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view, event)
    assert view.view_hi - view.view_lo < (hi - lo) * 0.7
    assert abs((view.view_lo + view.view_hi) / 2 - (lo + hi) / 2) < (hi - lo) * 0.01

    lo, hi = view.view_lo, view.view_hi
    qtbot.mousePress(view, Qt.MouseButton.MiddleButton, pos=QPoint(400, _y(panel)))
    qtbot.mouseMove(view, QPoint(300, _y(panel)))
    qtbot.mouseRelease(view, Qt.MouseButton.MiddleButton, pos=QPoint(300, _y(panel)))
    assert view.view_lo > lo and view.view_hi - view.view_lo == hi - lo  # dragged left: later dates
    assert panel.state.filter.start is None  # panning does not brush


def test_tooltip_names_the_bin_and_its_counts(panel):
    text = panel.view.tooltip_at(_x(panel, 2024, 5, 3, 12))
    assert "2024-05-03" in text and "3 events" in text and "Impact: 2" in text and "Intercepted: 1" in text
    spread = panel.view.tooltip_at(_x(panel, 2024, 5, 8, 12))
    assert "dated only to the day" in spread
    assert panel.view.tooltip_at(_x(panel, 2024, 5, 5, 12)).count("0 events") == 1


def test_stack_switch_changes_categories(panel):
    panel.stack_box.setCurrentIndex(1)
    hist = panel.histogram("day")
    assert hist.by == "class" and "loitering munition" in hist.categories
    assert "Ballistic missile" in panel.view.tooltip_at(_x(panel, 2024, 5, 3, 12))


def test_go_to_date(panel, qtbot):
    panel.goto_box.setText("2024-05-09")
    qtbot.keyClick(panel.goto_box, Qt.Key.Key_Return)
    middle = (panel.view.view_lo + panel.view.view_hi) / 2
    assert abs(middle - _ns(2024, 5, 9, 12)) < 3600e9
    assert panel.message.text() == "Went to 9 May 2024"
    assert not panel.go_to_date("not a date")
    assert "Not a date" in panel.message.text()
    assert panel.go_to_date("03.05.2024") and panel.message.text() == "Went to 3 May 2024"  # day first
    assert abs((panel.view.view_lo + panel.view.view_hi) / 2 - _ns(2024, 5, 3, 12)) < 3600e9


def test_playback_steps_the_date_filter(panel, qtbot):
    playback = panel.playback
    panel.state.set_filter(FilterState(outcomes={"impact"}))
    playback.configure(step="1d", window=None, cumulative=False)
    playback.step_forward()
    state = panel.state.filter
    assert (state.start, state.end, state.outcomes) == (dt.date(2024, 5, 1), dt.date(2024, 5, 1),
                                                        frozenset({"impact"}))
    assert "2024-05-01" in panel.controls.date_label.text()
    playback.step_forward()
    assert panel.state.filter.start == dt.date(2024, 5, 2)
    playback.step_back()
    assert panel.state.filter.start == dt.date(2024, 5, 1)
    assert int(panel.state.mask.sum()) == 1  # the map and table follow the state's mask


def test_playback_plays_skips_empty_days_and_loops(panel, qtbot):
    playback = panel.playback
    playback.configure(step="1d", window=None, skip_empty=True, loop=True, speed=16)
    seen = []
    playback.frame_changed.connect(lambda i, n: seen.append((panel.state.filter.start, panel.state.filter.end)))
    with qtbot.waitSignal(playback.frame_changed, timeout=5000):
        playback.play()
    qtbot.waitUntil(lambda: len(seen) >= 12, timeout=10000)
    playback.pause()
    assert not playback.is_playing
    days = [end.day for _, end in seen[:10]]
    assert days == [1, 2, 3, 4, 6, 7, 8, 9, 10, 1]  # 5 May has no events; then it loops


def test_playback_moving_window(panel):
    playback = panel.playback
    playback.configure(step="1d", window="3d")
    for _ in range(5):
        playback.step_forward()
    state = panel.state.filter
    assert (state.start, state.end) == (dt.date(2024, 5, 3), dt.date(2024, 5, 5))
    assert int(panel.state.mask.sum()) == 3 + 4  # 3 and 4 May; 5 May had none
    for _ in range(20):
        playback.step_forward()  # stops at the last frame without looping
    assert panel.state.filter.end == dt.date(2024, 5, 10) and not playback.is_playing


def test_cumulative_playback_and_seek(panel):
    playback = panel.playback
    playback.configure(step="1d", window=None, cumulative=True)
    panel.go_to_date("2024-05-06")
    playback.step_forward()  # the next frame is the typed day
    state = panel.state.filter
    assert (state.start, state.end) == (dt.date(2024, 5, 1), dt.date(2024, 5, 6))


def test_new_data_refits_the_axis(panel):
    state = panel.state
    frame = timeline_frame()
    frame["occurred_at"] = frame["occurred_at"] + pd.Timedelta(days=365)
    state.add_dataset("later.csv", frame, LoadReport("later.csv", "csv", len(frame), len(frame), 0))
    assert panel.view.view_lo < _ns(2024, 5, 2) and panel.view.view_hi > _ns(2025, 5, 10)
    assert panel.histogram("month").totals.sum() == pytest.approx(2 * len(frame))


def test_export_animation_from_the_panel_runs_in_the_background(panel, qtbot, tmp_path):
    import imageio.v3 as iio

    panel.animation_dpi = 20
    panel.playback.configure(step="1d", window=None)
    panel.state.set_filter(FilterState(start=dt.date(2024, 5, 2), end=dt.date(2024, 5, 4)))
    out = tmp_path / "panel.gif"
    with qtbot.waitSignal(panel.export_finished, timeout=60000) as blocker:
        panel.export_animation(str(out))
    assert blocker.args == [""]
    assert len(iio.imread(out, index=None)) == 3  # the brushed range, one frame a day
    assert "Animation saved" in panel.message.text()


def test_cancelling_the_export_leaves_no_file(panel, qtbot, tmp_path):
    out = tmp_path / "cancelled.gif"
    panel.animation_dpi = 20
    with qtbot.waitSignal(panel.export_finished, timeout=60000) as blocker:
        panel.export_animation(str(out))
        cancel_button = panel.export_dialog.findChild(QPushButton)
        qtbot.mouseClick(cancel_button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["cancelled"]
    assert not out.exists() and "cancelled" in panel.message.text()


def test_a_date_range_set_elsewhere_pauses_playback(panel, qtbot):
    playback = panel.playback
    playback.configure(step="1d", window=None, speed=0.25)
    playback.play()
    assert playback.is_playing
    panel.state.set_filter(panel.state.filter.replace(outcomes={"impact"}))  # not a date: keeps playing
    assert playback.is_playing
    panel.state.set_filter(panel.state.filter.replace(start=dt.date(2024, 5, 8), end=dt.date(2024, 5, 9)))
    assert not playback.is_playing
    assert panel.state.filter.start == dt.date(2024, 5, 8)


# -- audited gaps -------------------------------------------------------------------------------

def test_animation_takes_the_windows_figure_title_and_the_playback_speed(qtbot):
    from PySide6.QtWidgets import QMainWindow

    state = AppState()
    frame = timeline_frame()
    state.add_dataset("may.csv", frame, LoadReport("may.csv", "csv", len(frame), len(frame), 0))
    window = QMainWindow()
    qtbot.addWidget(window)
    panel = TimelinePanel(state)
    window.setCentralWidget(panel)
    assert panel.animation_job("a.gif")["title"] == "Strike events"  # no title given yet
    window.figure_title = "Kyiv, the night of 30 September"  # what Export figure remembers
    assert panel.animation_job("a.gif")["title"] == "Kyiv, the night of 30 September"
    fps = {}
    for speed in (0.25, 1.0, 4.0, 16.0):
        panel.playback.configure(speed=speed)
        fps[speed] = panel.animation_job("a.gif")["fps"]
    assert fps == {0.25: 1.0, 1.0: 2.0, 4.0: 8.0, 16.0: 30.0}


def test_class_colours_come_from_the_style_table_and_differ_from_outcome_colours():
    from geodata.style import CLASS_STYLE, OUTCOME_STYLE

    def rgb(hex_colour):
        return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])

    classes = [s.colour for s in CLASS_STYLE.values()]
    outcomes = [s.colour for s in OUTCOME_STYLE.values()]
    assert len(set(classes)) == len(classes)
    for colour in classes:
        # Never the same colour as an outcome (drones were the "deviated" orange): clearly apart.
        assert min(np.abs(rgb(colour) - rgb(o)).max() for o in outcomes) >= 50, colour


def test_the_panel_shows_a_legend_for_the_current_stacking(panel, qtbot):
    from geodata.style import CLASS_STYLE, OUTCOME_STYLE

    assert panel.legend.isVisible()
    items = dict(panel.legend_items())
    assert items == {OUTCOME_STYLE[o].label: OUTCOME_STYLE[o].colour.lower()
                     for o in ("impact", "intercepted", "debris")}
    panel.stack_box.setCurrentIndex(panel.stack_box.findData("class"))
    items = dict(panel.legend_items())
    assert items == {CLASS_STYLE[c].label: CLASS_STYLE[c].colour.lower()
                     for c in ("ballistic missile", "loitering munition", "decoy")}
    assert all(label in panel.legend.text() for label in items)
    # The legend is drawn: its swatches are on screen in the class colours.
    image = panel.legend.grab().toImage()
    seen = {image.pixelColor(x, y).name() for x in range(image.width()) for y in range(image.height())}
    assert CLASS_STYLE["loitering munition"].colour.lower() in seen
    # The bars use the same colours.
    bars = panel.view.grab().toImage()
    seen = {bars.pixelColor(x, y).name() for x in range(0, bars.width(), 2) for y in range(0, bars.height(), 2)}
    assert CLASS_STYLE["loitering munition"].colour.lower() in seen
    panel.state.set_filter(FilterState(munition_classes={"decoy"}))
    assert [label for label, _ in panel.legend_items()] == [CLASS_STYLE["decoy"].label]
