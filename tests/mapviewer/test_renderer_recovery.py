"""The map survives its web process dying: the page is rebuilt with the same data, filters, selection and view."""
from __future__ import annotations

import json
import os
import signal

import pytest
from PySide6.QtCore import QSize

from geodata.filters import FilterState

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="kills the renderer with SIGKILL")

WAIT = 90000  # a new web process on two shared cores


def page_value(qtbot, view, expression: str):
    out: list = []
    view.run_js(f"JSON.stringify({expression})", out.append)
    qtbot.waitUntil(lambda: bool(out), timeout=WAIT)
    return None if out[0] in (None, "", "undefined") else json.loads(out[0])


def kill_renderer(qtbot, view) -> None:
    pid = view.page().renderProcessPid()
    assert pid > 0 and pid != os.getpid()
    with qtbot.waitSignal(view.page().renderProcessTerminated, timeout=WAIT):
        os.kill(pid, signal.SIGKILL)


@pytest.fixture
def drawn(make_main_window, loaded_state, qtbot):
    """A window whose map shows the impacts only, one of them selected, at zoom 9 over Kyiv."""
    window = make_main_window(loaded_state)
    window.resize(QSize(1200, 800))
    view, state = window.map_view, window.state
    qtbot.waitUntil(lambda: view.page_ready and view.drawn_count == len(state.frame), timeout=WAIT)
    impacts = int((state.frame["outcome"] == "impact").sum())
    with qtbot.waitSignal(view.incidents_drawn, timeout=WAIT, check_params_cb=lambda n: n == impacts):
        state.set_filter(FilterState(outcomes=frozenset({"impact"})))
    state.set_selection([0])
    state.request_view(50.4, 30.4, 9.0)
    qtbot.waitUntil(lambda: page_value(qtbot, view, "mapviewer.view()") == [50.4, 30.4, 9], timeout=WAIT)
    qtbot.waitUntil(lambda: page_value(qtbot, view, "mapviewer.state.selected.length") == 1, timeout=WAIT)
    return window, impacts


def test_a_killed_renderer_is_replaced_and_the_map_comes_back_as_it_was(drawn, qtbot):
    window, impacts = drawn
    view = window.map_view
    messages: list[str] = []
    view.recovery.connect(messages.append)
    # The person ticks the density layer in the map's layer control.
    view.run_js("Array.prototype.find.call(document.querySelectorAll('.leaflet-control-layers-overlays label'),"
                " function (l) { return l.textContent.indexOf('Density') >= 0; }).querySelector('input').click()")
    qtbot.waitUntil(lambda: page_value(qtbot, view, "mapviewer.state.densityOn") is True, timeout=WAIT)

    kill_renderer(qtbot, view)
    assert not view.page_ready  # exports wait for the new page
    qtbot.waitUntil(lambda: view.page_ready and view.drawn_count == impacts, timeout=WAIT)
    assert page_value(qtbot, view, "mapviewer.count()") == impacts  # the filter holds
    assert page_value(qtbot, view, "mapviewer.view()") == [50.4, 30.4, 9]  # the same place and zoom
    assert page_value(qtbot, view, "mapviewer.state.selected.length") == 1  # and the selection
    # The density layer is shown again, over the filtered events.
    qtbot.waitUntil(lambda: page_value(qtbot, view, "mapviewer.state.densityOn") is True, timeout=WAIT)
    assert page_value(qtbot, view, "mapviewer.state.map.hasLayer(mapviewer.state.density)") is True
    assert page_value(qtbot, view, "mapviewer.state.density._latlngs.length") == impacts
    assert "stopped" in messages[0] and "rebuilt" in messages[-1]
    qtbot.waitUntil(lambda: "rebuilt" in window.statusBar().currentMessage(), timeout=WAIT)

    # The new page follows the app as the old one did.
    window.state.set_filter(FilterState())
    qtbot.waitUntil(lambda: view.drawn_count == len(window.state.frame), timeout=WAIT)


def test_an_export_started_while_the_map_is_rebuilt_waits_for_it(drawn, qtbot):
    from mapviewer.map.grab import is_blank

    window, impacts = drawn
    view = window.map_view
    kill_renderer(qtbot, view)
    image = view.picture()  # waits for the rebuilt page instead of failing or grabbing grey
    assert view.page_ready and view.drawn_count == impacts
    assert not is_blank(image)
    assert (image.width(), image.height()) == (view.width(), view.height())
