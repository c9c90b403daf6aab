"""The map in front: the default layout, remembered layouts, Reset layout and presentation mode."""
from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtTest import QTest

from mapviewer.state import AppState

WAIT = 60000  # WebEngine on two shared cores


def map_share(window) -> float:
    """The share of the window's area the map shows."""
    view = window.map_view
    return view.width() * view.height() / (window.width() * window.height())


def in_front(dock) -> bool:
    """True when the panel can be seen (a tab behind another is not)."""
    return dock.isVisible() and not dock.visibleRegion().isEmpty()


def page_value(qtbot, view, expression: str):
    out: list = []
    view.run_js(f"JSON.stringify({expression})", out.append)
    qtbot.waitUntil(lambda: bool(out), timeout=WAIT)
    return None if out[0] in (None, "", "undefined") else json.loads(out[0])


def at_size(window, qtbot, width: int, height: int):
    """The window at ``width`` x ``height`` with the default layout for that size (as at a first start)."""
    window.resize(width, height)
    window.reset_layout()
    qtbot.waitUntil(lambda: window.size() == QSize(width, height) and window.map_view.height() > 100)
    return window


@pytest.mark.parametrize(("width", "height", "folded"), [(1366, 768, True), (1920, 1080, False)])
def test_the_map_has_at_least_half_the_window(make_main_window, loaded_state, qtbot, width, height, folded):
    window = at_size(make_main_window(loaded_state), qtbot, width, height)
    assert map_share(window) >= 0.5, f"{window.map_view.size().toTuple()} of {width}x{height}"
    # Every panel is still one click away: a tab in the column beside the map.
    for dock in window.docks:
        assert dock.toggleViewAction().isChecked() and not dock.isFloating()
        assert window.dockWidgetArea(dock) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert in_front(window.filter_dock)  # the filters are in front
    assert window.timeline.isVisible() and window.timeline.height() >= window.timeline.minimumSizeHint().height()
    if height < 950:  # one column of tabs
        assert set(window.tabifiedDockWidgets(window.filter_dock)) == {window.summary_dock, window.table_dock,
                                                                        window.waves_dock, window.matches_dock}
    else:  # room for the filters above the other panels' tabs
        assert in_front(window.summary_dock)
        assert set(window.tabifiedDockWidgets(window.summary_dock)) == {window.table_dock, window.waves_dock,
                                                                         window.matches_dock}
    # The legend starts folded on the smaller map and whole on the larger one.
    view = window.map_view
    qtbot.waitUntil(lambda: view.page_ready and view.drawn_count == len(window.state.frame), timeout=WAIT)
    size = "[mapviewer.state.map.getSize().x, mapviewer.state.map.getSize().y]"
    qtbot.waitUntil(lambda: page_value(qtbot, view, size) == [view.width(), view.height()], timeout=WAIT)
    assert page_value(qtbot, view, "mapviewer.legendFolded()") is folded


def test_the_window_opens_maximised_on_a_small_screen(make_main_window):
    window = make_main_window(show=False)
    screen = window.screen().availableGeometry()
    assert screen.width() < 2000  # the offscreen screen is a small one
    window.show_at_start()
    assert window.isMaximized()


def test_size_panels_and_splitter_are_remembered_and_reset(make_main_window, settings, qtbot):
    window = make_main_window(AppState(), show=False)
    window.show_at_start()
    window.showNormal()
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, window.summary_dock)
    window.resize(1100, 640)
    window.map_splitter.setSizes([200, 300])
    sizes, size = window.map_splitter.sizes(), window.size()
    assert size == QSize(1100, 640)
    window.close()

    again = make_main_window(AppState(), settings, show=False)
    again.show_at_start()
    # Not maximised: the remembered size (its width kept inside the small offscreen screen by Qt).
    assert not again.isMaximized() and again.height() == size.height()
    assert again.dockWidgetArea(again.summary_dock) == Qt.DockWidgetArea.RightDockWidgetArea
    assert again.map_splitter.sizes() == sizes

    again.reset_layout_action.trigger()
    assert again.dockWidgetArea(again.summary_dock) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert again.summary_dock in again.tabifiedDockWidgets(again.filter_dock)
    assert settings.value("window/state") is None  # forgotten until the window closes again


def test_a_layout_saved_by_an_older_version_is_not_restored(make_main_window, settings, qtbot):
    old = make_main_window(AppState(), show=False)
    old.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, old.table_dock)
    settings.setValue("window/state", old.saveState())  # no version: the layout before the map came in front
    again = make_main_window(AppState(), settings)
    assert isinstance(settings.value("window/state"), QByteArray)
    assert again.dockWidgetArea(again.table_dock) == Qt.DockWidgetArea.LeftDockWidgetArea


def test_presentation_mode_shows_the_map_alone_and_f11_or_esc_brings_the_panels_back(make_main_window,
                                                                                       loaded_state, qtbot):
    window = at_size(make_main_window(loaded_state), qtbot, 1366, 768)
    window.figure_title = "Night of 29-30 September"
    window.table_dock.raise_()
    panels = [d for d in window.docks if in_front(d)]
    assert panels == [window.table_dock]
    splitter = window.map_splitter.sizes()
    window.activateWindow()  # keys go to the active window
    qtbot.waitUntil(window.isActiveWindow)

    QTest.keyClick(window, Qt.Key.Key_F11)
    assert window.presenting and window.isFullScreen()
    for dock in window.docks:
        assert not dock.isVisible()
    assert not window.timeline.isVisible() and not window.toolbar.isVisible()
    assert not window.statusBar().isVisible() and not window.menuBar().isVisible()
    assert window.title_bar.isVisible() and window.title_label.text() == "Night of 29-30 September"
    assert window.map_view.legend_open  # the whole legend on the full-screen map
    qtbot.waitUntil(lambda: map_share(window) > 0.85)

    QTest.keyClick(window, Qt.Key.Key_F11)  # F11 leaves
    assert not window.presenting and not window.isFullScreen()
    assert [d for d in window.docks if in_front(d)] == panels  # the tab that was in front is again
    assert window.timeline.isVisible() and window.toolbar.isVisible() and window.statusBar().isVisible()
    assert window.menuBar().isVisible() and not window.title_bar.isVisible()
    assert not window.map_view.legend_open
    assert window.map_splitter.sizes() == splitter

    window.presentation_action.trigger()  # View > Presentation mode
    assert window.presenting
    window.map_view.setFocus()
    QTest.keyClick(window.map_view.focusProxy() or window.map_view, Qt.Key.Key_Escape)  # Esc leaves too
    assert not window.presenting and window.filter_dock.toggleViewAction().isChecked()
    assert not window.presentation_action.isChecked()


def test_the_title_in_presentation_mode_names_the_files_when_no_title_was_given(make_main_window, loaded_state):
    window = make_main_window(loaded_state)
    window.set_presenting(True)
    assert window.title_label.text() == "night.csv"
    window.close()  # closing saves the working layout, not the presentation
    assert not window.presenting
