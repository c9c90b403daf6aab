"""The live map driving the real QWebEngine page (offscreen)."""
from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import pandas as pd
import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QColor

from geodata.filters import FilterState
from geodata.report import LoadReport
from geodata.style import outcome_colour
from mapviewer.map.view import MapView
from mapviewer.state import AppState
from tests.factories import canonical_frame
from tests.qt_helpers import RequestRecorder, ready_map_view

WAIT = 60000  # generous: two shared cores, WebEngine start-up

PAYLOAD = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'

# (munition, class, outcome, geo_precision, lon, lat, location, notes)
_ROWS = [
    ("KN-23", "ballistic missile", "impact", "exact", 30.35, 50.35, "Boiarka", "Father and son killed"),
    ("KN-23", "ballistic missile", "deviated", "settlement", 30.25, 50.55, "Bucha", "Exploded in the air"),
    ("Shahed-136", "loitering munition", "intercepted", "region", 30.9, 50.1, "Kyiv Oblast", "Shot down"),
    ("Shahed-136", "loitering munition", "impact", "exact", 30.52, 50.45, "Kyiv <b>centre</b>", PAYLOAD),
    ("Kh-101", "cruise missile", "intercepted", "exact", 24.03, 49.84, "Lviv", "Shot down"),
    ("KAB", "guided bomb", "impact", "exact", 36.23, 49.99, "Kharkiv", "Residential block"),
    ("Gerbera", "decoy", "unknown", "settlement", 35.05, 48.46, "Dnipro", ""),
    ("Grad", "rocket artillery", "debris", "exact", 32.62, 46.64, "Kherson", "Debris on a roof"),
]


def make_frame(rows=_ROWS) -> gpd.GeoDataFrame:
    n = len(rows)
    return canonical_frame(
        [r[4] for r in rows], [r[5] for r in rows], event_id=[f"T-{i}" for i in range(n)],
        occurred_at=pd.date_range("2025-09-29 20:00", periods=n, freq="17min", tz="UTC"),
        location=[r[6] for r in rows], admin1="Some Oblast", geo_precision=[r[3] for r in rows],
        munition=[r[0] for r in rows], munition_class=[r[1] for r in rows], outcome=[r[2] for r in rows],
        killed=[2] + [None] * (n - 1), source="Air Force report https://example.org/report",
        source_url=[f"https://example.org/event/{i}" for i in range(n)], notes=[r[7] for r in rows])


@pytest.fixture
def state(qapp) -> AppState:
    return AppState()


@pytest.fixture
def recorder() -> RequestRecorder:
    return RequestRecorder()


@pytest.fixture
def view(qtbot, state, recorder):
    view = ready_map_view(qtbot, state, (900, 650), recorder)
    yield view
    view.release()


def js(qtbot, view: MapView, expression: str):
    """Evaluate ``expression`` in the page and return its JSON value."""
    out: list = []
    view.run_js(f"JSON.stringify({expression})", out.append)
    qtbot.waitUntil(lambda: bool(out), timeout=WAIT)
    return None if out[0] in (None, "", "undefined") else json.loads(out[0])


def page_caught_up(qtbot, view: MapView) -> None:
    """Return once the page has run every script sent before and drawn a frame since (a negative check
    after this sees what those scripts did, with no fixed sleep)."""
    view.run_js("window.__frames = 0; requestAnimationFrame(() => requestAnimationFrame(() => window.__frames = 2));")
    qtbot.waitUntil(lambda: js(qtbot, view, "window.__frames") == 2, timeout=WAIT)


def load(qtbot, view: MapView, state: AppState, frame) -> None:
    with qtbot.waitSignal(view.incidents_drawn, timeout=WAIT, check_params_cb=lambda n: n == len(frame)):
        state.add_dataset("night.csv", frame, LoadReport(path="night.csv", format="csv"))


def click_position(qtbot, view: MapView, position: int, event: str = "click") -> None:
    point = js(qtbot, view, f"mapviewer.screenPoint({position})")
    assert point is not None, "the event is not on screen"
    x, y = point
    view.run_js(
        "(function(){var c = document.querySelector('.leaflet-container'), r = c.getBoundingClientRect();"
        f"var o = {{bubbles: true, cancelable: true, clientX: r.left + {x}, clientY: r.top + {y}, button: 0}};"
        + ("c.dispatchEvent(new MouseEvent('mousedown', o)); c.dispatchEvent(new MouseEvent('mouseup', o));"
           if event == "click" else "")
        + f"c.dispatchEvent(new MouseEvent('{event}', o));}})()"
    )


def test_page_shows_the_filtered_count_and_updates_in_place(qtbot, view, state):
    frame = make_frame()
    load(qtbot, view, state, frame)
    assert js(qtbot, view, "mapviewer.count()") == len(frame)
    assert js(qtbot, view, "mapviewer.drawnCount()") == len(frame)  # all on screen after the fit
    view.run_js("window.__marker = 'still here'; mapviewer.setView(49.5, 31.0, 7);")
    qtbot.waitUntil(lambda: js(qtbot, view, "mapviewer.state.map.getZoom()") == 7, timeout=WAIT)
    page = view.page()
    centre = "[mapviewer.state.map.getCenter().lat, mapviewer.state.map.getCenter().lng]"
    before = js(qtbot, view, centre)
    assert before == pytest.approx([49.5, 31.0], abs=0.01)

    wanted = FilterState(outcomes={"impact"})
    expected = int(wanted.mask(state.frame).sum())
    assert 0 < expected < len(frame)
    with qtbot.waitSignal(view.incidents_drawn, timeout=WAIT, check_params_cb=lambda n: n == expected):
        state.set_filter(wanted)
    assert js(qtbot, view, "mapviewer.count()") == expected
    assert js(qtbot, view, "window.__marker") == "still here"  # no reload
    assert js(qtbot, view, "mapviewer.state.map.getZoom()") == 7  # zoom kept
    assert js(qtbot, view, centre) == before  # pan kept
    assert view.page() is page
    # The legend follows the filter.
    legend = js(qtbot, view, "document.querySelector('.mv-legend').textContent")
    assert f"{expected} of {len(frame)} events" in legend


def test_clicking_a_symbol_selects_its_row(qtbot, view, state):
    frame = make_frame()
    load(qtbot, view, state, frame)
    click_position(qtbot, view, 4)
    qtbot.waitUntil(lambda: state.selection.tolist() == [4], timeout=WAIT)
    # The selection comes back to the page as a highlight, and the popup shows the record.
    qtbot.waitUntil(lambda: js(qtbot, view, "mapviewer.selected()") == [4], timeout=WAIT)
    popup = js(qtbot, view, "(document.querySelector('.leaflet-popup-content') || {}).textContent || null")
    assert popup is not None and "Kh-101" in popup and "Lviv" in popup and "https://example.org/event/4" in popup


def test_selection_from_the_app_is_highlighted_and_zoomed_to(qtbot, view, state):
    frame = make_frame()
    load(qtbot, view, state, frame)
    state.set_selection([5])
    qtbot.waitUntil(lambda: js(qtbot, view, "mapviewer.selected()") == [5], timeout=WAIT)
    state.request_zoom_to_selection()
    qtbot.waitUntil(lambda: js(qtbot, view, "mapviewer.state.map.getZoom()") >= 10, timeout=WAIT)
    centre = js(qtbot, view, "[mapviewer.state.map.getCenter().lat, mapviewer.state.map.getCenter().lng]")
    assert centre == pytest.approx([49.99, 36.23], abs=0.05)  # Kharkiv


def test_class_layers_hide_their_symbols_and_the_view_is_shared(qtbot, view, state):
    frame = make_frame()
    load(qtbot, view, state, frame)
    drones = int((frame["munition_class"] == "loitering munition").sum())
    view.set_class_visible("loitering munition", False)
    qtbot.waitUntil(lambda: js(qtbot, view, "mapviewer.drawnCount()") == len(frame) - drones, timeout=WAIT)
    assert js(qtbot, view, "mapviewer.screenPoint(2)") is None  # a drone: not drawn, cannot be clicked
    legend = js(qtbot, view, "document.querySelector('.mv-legend .mv-off').textContent")
    assert "Drone" in legend
    view.set_class_visible("loitering munition", True)
    qtbot.waitUntil(lambda: js(qtbot, view, "mapviewer.drawnCount()") == len(frame), timeout=WAIT)
    # The app asks for a view; the map goes there and reports where it is.
    state.request_view(48.46, 35.05, 9)
    qtbot.waitUntil(lambda: js(qtbot, view, "[mapviewer.state.map.getZoom(), !!mapviewer.state.map._animatingZoom]")
                    == [9, False], timeout=WAIT)
    page_caught_up(qtbot, view)  # the page's last report of that move has been sent
    state.view = None
    view.run_js("mapviewer.state.map.setZoom(8, {animate: false})")  # as a user zooming out
    qtbot.waitUntil(lambda: state.view is not None and state.view[2] == 8, timeout=WAIT)
    assert state.view[:2] == pytest.approx((48.46, 35.05), abs=0.05)


def test_script_in_record_text_runs_nothing_and_shows_as_text(qtbot, view, state):
    frame = make_frame()
    load(qtbot, view, state, frame)
    click_position(qtbot, view, 3, "mousemove")  # tooltip
    qtbot.waitUntil(lambda: js(qtbot, view, "!!document.querySelector('.mv-tooltip')"), timeout=WAIT)
    tooltip = js(qtbot, view, "document.querySelector('.mv-tooltip').textContent")
    assert "Kyiv <b>centre</b>" in tooltip
    click_position(qtbot, view, 3)
    qtbot.waitUntil(lambda: js(qtbot, view, "!!document.querySelector('.leaflet-popup-content')"), timeout=WAIT)
    text = js(qtbot, view, "document.querySelector('.leaflet-popup-content').textContent")
    assert PAYLOAD in text
    assert js(qtbot, view, "document.querySelectorAll('.leaflet-popup-content img, .leaflet-popup-content script,"
                           " .leaflet-tooltip b').length") == 0
    assert js(qtbot, view, "typeof window.pwned") == "undefined"


def test_links_open_in_the_system_browser_and_never_navigate_the_map(qtbot, view, state, monkeypatch, recorder):
    opened: list[str] = []
    monkeypatch.setattr("mapviewer.map.view.QDesktopServices.openUrl", lambda url: opened.append(url.toString()) or True)
    frame = make_frame()
    load(qtbot, view, state, frame)
    click_position(qtbot, view, 0)
    qtbot.waitUntil(lambda: js(qtbot, view, "!!document.querySelector('.leaflet-popup-content a')"), timeout=WAIT)
    links = js(qtbot, view, "[...document.querySelectorAll('.leaflet-popup-content a')].map(a => a.href)")
    assert "https://example.org/event/0" in links and "https://example.org/report" in links
    view.run_js("document.querySelector('.leaflet-popup-content a[href=\"https://example.org/event/0\"]').click()")
    qtbot.waitUntil(lambda: opened == ["https://example.org/event/0"], timeout=WAIT)
    view.run_js("window.__marker = 1; window.location.href = 'https://example.org/elsewhere';")
    view.run_js("window.open('https://example.org/popup')")
    page_caught_up(qtbot, view)
    assert js(qtbot, view, "window.__marker") == 1
    assert view.url().scheme() == "file"
    assert recorder.urls, "the interceptor saw nothing: the check below would prove nothing"
    assert not any("example.org" in u for u in recorder.urls)


def test_bridge_exposes_only_the_page_slots(qtbot, view):
    names = js(qtbot, view, "Object.keys(mapviewer.state.bridge).filter("
                            "k => typeof mapviewer.state.bridge[k] === 'function')")
    exposed = {name.split("(")[0] for name in names} - {"propertyUpdate", "signalEmitted", "unwrapProperties", "unwrapQObject"}
    app_methods = {"selectPositions", "viewChanged", "incidentsDrawn", "openLink", "setClassShown", "densityShown"}
    assert app_methods <= exposed
    # Besides ours, only what every QObject has (qwebchannel.js helpers removed above):
    # no data access, no state setters, no file or process access.
    assert exposed - app_methods <= {"deleteLater", "objectNameChanged", "destroyed"}


def test_page_makes_no_network_request(qtbot, view, state, recorder):
    frame = make_frame()
    load(qtbot, view, state, frame)
    click_position(qtbot, view, 2, "mousemove")
    click_position(qtbot, view, 2)
    qtbot.waitUntil(lambda: state.selection.tolist() == [2], timeout=WAIT)
    view.set_density(True)
    qtbot.waitUntil(lambda: js(qtbot, view, "mapviewer.state.densityOn") is True, timeout=WAIT)
    page_caught_up(qtbot, view)
    assert recorder.urls, "the interceptor saw nothing: the test would prove nothing"
    schemes = {QUrl(u).scheme() for u in recorder.urls}
    # mapdata: the rows, fetched from the app itself (mapviewer/map/framescheme.py), never the network
    assert schemes <= {"file", "qrc", "data", "mapdata"}, recorder.urls


def test_user_tile_template_becomes_a_basemap_in_place(qtbot, view, state, tmp_path):
    view.run_js("window.__marker = 5;")
    state.set_basemap((tmp_path / "{z}" / "{x}" / "{y}.png").as_uri().replace("%7B", "{").replace("%7D", "}"))
    qtbot.waitUntil(lambda: js(qtbot, view, "mapviewer.state.tiles ? mapviewer.state.tiles._url : null")
                    is not None, timeout=WAIT)
    assert js(qtbot, view, "mapviewer.state.map.hasLayer(mapviewer.state.basemaps.countries)") is False
    state.set_basemap("offline")
    qtbot.waitUntil(lambda: js(qtbot, view, "mapviewer.state.map.hasLayer(mapviewer.state.basemaps.countries)"),
                    timeout=WAIT)
    assert js(qtbot, view, "window.__marker") == 5


def test_a_user_boundary_layer_is_drawn_and_listed(qtbot, view):
    from shapely.geometry import box

    layer = gpd.GeoDataFrame({"shapeName": ["West <b>zone</b>", "East zone"]},
                             geometry=[box(24, 48, 30, 51), box(30, 48, 38, 51)], crs="EPSG:4326")
    view.set_boundary_layer(layer, "Agency zones")
    qtbot.waitUntil(lambda: js(qtbot, view, "mapviewer.state.boundary ? mapviewer.state.boundary.getLayers().length"
                                            " : 0") == 2, timeout=WAIT)
    names = js(qtbot, view, "document.querySelector('.leaflet-control-layers-overlays').textContent")
    assert "Agency zones" in names
    view.set_boundary_layer(None)
    qtbot.waitUntil(lambda: js(qtbot, view, "mapviewer.state.boundary") is None, timeout=WAIT)


def test_map_is_drawn_not_blank(qtbot, view, state):
    frame = make_frame()
    load(qtbot, view, state, frame)
    # Row 0 is an exact impact, row 4 an exact interception: their symbols must be on screen
    # in their outcome colours, over a basemap that is not blank. Row 1 (deviated) is only
    # located to its settlement: drawn hollow, its centre is not filled with its colour.
    expected = {0: QColor(outcome_colour("impact")), 4: QColor(outcome_colour("intercepted"))}
    points = {pos: js(qtbot, view, f"mapviewer.screenPoint({pos})") for pos in (0, 1, 4)}
    deviated = QColor(outcome_colour("deviated"))

    def drawn() -> bool:
        image = view.grab().toImage()
        ratio = image.devicePixelRatio()
        for pos, colour in expected.items():
            x, y = (round(v * ratio) for v in points[pos])
            if image.pixelColor(x, y).rgb() != colour.rgb():
                return False
        x, y = (round(v * ratio) for v in points[1])
        centre = image.pixelColor(x, y)
        if centre.rgb() == deviated.rgb() or centre.lightness() < 200:
            return False
        colours = {image.pixelColor(x, y).rgb() for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
        return len(colours) > 10

    qtbot.waitUntil(drawn, timeout=WAIT)


def test_standalone_export_works_in_a_browser_with_no_network(tmp_path, qtbot, recorder, open_in_browser):
    from mapviewer.map.page import write_standalone_html

    frame = make_frame()
    path = write_standalone_html(frame, tmp_path / "export.html", title="Export")
    page = open_in_browser(path, recorder)
    assert js(qtbot, page, "mapviewer.count()") == len(frame)
    click_position(qtbot, page, 3)
    qtbot.waitUntil(lambda: js(qtbot, page, "!!document.querySelector('.leaflet-popup-content table')"),
                    timeout=WAIT)
    text = js(qtbot, page, "document.querySelector('.leaflet-popup-content').textContent")
    assert PAYLOAD in text and "https://example.org/event/3" in text
    assert js(qtbot, page, "typeof window.pwned") == "undefined"
    schemes = {QUrl(u).scheme() for u in recorder.urls}
    assert schemes <= {"file", "data"}, recorder.urls


def test_page_runs_without_script_errors(qtbot, view, state):
    frame = make_frame()
    load(qtbot, view, state, frame)
    view.set_density(True)
    state.set_selection([1, 2])
    state.request_zoom_to_selection()
    qtbot.waitUntil(lambda: js(qtbot, view, "mapviewer.selected()") == [1, 2], timeout=WAIT)
    state.set_filter(FilterState(outcomes=set()))  # nothing shown
    qtbot.waitUntil(lambda: view.drawn_count == 0, timeout=WAIT)
    assert js(qtbot, view, "mapviewer.drawnCount()") == 0
    errors = [m for m in view.page().console if "Error" in m or "Uncaught" in m]
    assert not errors, errors


# -- a requested view, the date caption and the attack-wave shading ----------------------------
VIEW_JS = "mapviewer.view()"
KYIV = (50.45, 30.52, 8.0)


def test_a_requested_view_wins_over_fitting_data_that_arrive_afterwards(qtbot, view, state):
    # A saved view: its centre and zoom are asked for, then its files finish loading.
    state.request_view(*KYIV)
    qtbot.waitUntil(lambda: js(qtbot, view, VIEW_JS) == pytest.approx(list(KYIV), abs=0.01), timeout=WAIT)
    load(qtbot, view, state, make_frame())  # Lviv to Kharkiv: a fit would zoom out to about 6
    assert js(qtbot, view, VIEW_JS) == pytest.approx(list(KYIV), abs=0.01)
    # A second file of the same view does not move it either.
    with qtbot.waitSignal(view.incidents_drawn, timeout=WAIT):
        state.add_dataset("second.csv", make_frame(_ROWS[:3]), LoadReport(path="second.csv", format="csv"))
    assert js(qtbot, view, VIEW_JS) == pytest.approx(list(KYIV), abs=0.01)
    # Once the files are closed, newly opened data are fitted again.
    state.clear()
    load(qtbot, view, state, make_frame())
    assert js(qtbot, view, VIEW_JS)[2] < 8
    assert js(qtbot, view, "mapviewer.drawnCount()") == len(make_frame())


def test_a_view_requested_before_the_page_is_ready_still_wins(qtbot, state):
    view = MapView(state)
    qtbot.addWidget(view)
    view.resize(900, 650)
    view.show()
    try:
        state.request_view(*KYIV)  # as the app does when it opens a saved view at start-up
        frame = make_frame()
        with qtbot.waitSignal(view.incidents_drawn, timeout=WAIT, check_params_cb=lambda n: n == len(frame)):
            state.add_dataset("night.csv", frame, LoadReport(path="night.csv", format="csv"))
        qtbot.waitUntil(lambda: js(qtbot, view, VIEW_JS) == pytest.approx(list(KYIV), abs=0.01), timeout=WAIT)
        assert state.view == pytest.approx(KYIV, abs=0.01)  # the map reports where it is
    finally:
        view.release()


def test_user_moving_the_map_ends_the_requested_view(qtbot, view, state):
    state.request_view(*KYIV)
    qtbot.waitUntil(lambda: js(qtbot, view, VIEW_JS)[2] == 8, timeout=WAIT)
    view.run_js("document.querySelector('.leaflet-container').dispatchEvent("
                "new WheelEvent('wheel', {bubbles: true, deltaY: 0}))")  # the person touches the map
    qtbot.waitUntil(lambda: js(qtbot, view, "mapviewer.state.pinned") is None, timeout=WAIT)
    load(qtbot, view, state, make_frame())
    assert js(qtbot, view, VIEW_JS)[2] < 8  # the new data are fitted


def caption(qtbot, view) -> str:
    return js(qtbot, view, "mapviewer.caption()")


def test_the_date_filter_is_shown_on_the_map_and_follows_the_filter(qtbot, view, state):
    load(qtbot, view, state, make_frame())
    assert caption(qtbot, view) == ""  # no date filter: no caption
    assert js(qtbot, view, "document.querySelector('.mv-caption').offsetParent") is None  # hidden
    state.set_filter(FilterState(start=dt.date(2025, 9, 29), end=dt.date(2025, 9, 30)))
    qtbot.waitUntil(lambda: caption(qtbot, view) == "2025-09-29 – 2025-09-30", timeout=WAIT)
    page = view.page()
    # Playback steps through hours: the caption changes in place, in Kyiv time.
    state.set_filter(FilterState(start=dt.datetime(2025, 9, 30, 1, 0), end=dt.datetime(2025, 9, 30, 1, 59)))
    qtbot.waitUntil(lambda: caption(qtbot, view) == "2025-09-30 01:00 – 2025-09-30 01:59 (Kyiv time)",
                    timeout=WAIT)
    assert view.page() is page
    box = js(qtbot, view, "(function(){var r = document.querySelector('.mv-caption').getBoundingClientRect();"
                          "return [r.left + r.width / 2, r.top, window.innerWidth];})()")
    assert abs(box[0] - box[2] / 2) < 30 and box[1] < 40  # top centre
    state.set_filter(FilterState())
    qtbot.waitUntil(lambda: caption(qtbot, view) == "", timeout=WAIT)


def test_the_date_caption_is_text_never_markup(qtbot, view):
    shown = js(qtbot, view, f"mapviewer.setCaption({json.dumps(PAYLOAD)})")
    assert shown == PAYLOAD
    assert js(qtbot, view, "document.querySelectorAll('.mv-caption *').length") == 0  # no element made
    assert js(qtbot, view, "window.pwned || null") is None


WAVES_CSV = """time_start,time_end,model,launch_place,target,launched,destroyed,not_reach_goal,source
2025-09-29 18:00,2025-09-30 08:30,Shahed-136/131,Kursk oblast,Kyiv oblast,57,53,,x
2025-09-30 01:00,2025-09-30 02:00,KN-23,Kursk oblast,Kyiv oblast,4,0,,x
2025-10-05 03:00,2025-10-05 06:00,Shahed-136,Kursk oblast,"Kharkiv oblast, Kharkiv Raion",20,15,3,x
2025-10-06,2025-10-06,Kalibr,Black Sea,Odesa oblast,6,,,x
"""


def wave_targets(qtbot, view):
    return js(qtbot, view, "mapviewer.waveTargets()")


def test_attack_waves_shade_the_oblasts_they_were_aimed_at(qtbot, view, state, tmp_path):
    from geodata.waves import read_waves

    path = tmp_path / "waves.csv"
    path.write_text(WAVES_CSV, encoding="utf-8")
    result = read_waves(path)
    load(qtbot, view, state, make_frame())
    assert wave_targets(qtbot, view) is None  # no waves: no layer
    state.add_waves(str(path), result.frame, result.report)
    expected = {"Kyiv Oblast": 61, "Kharkiv Oblast": 20, "Odesa Oblast": 6}
    qtbot.waitUntil(lambda: wave_targets(qtbot, view) == expected, timeout=WAIT)
    overlays = js(qtbot, view, "document.querySelector('.leaflet-control-layers-overlays').textContent")
    assert "Wave targets" in overlays
    legend = js(qtbot, view, "document.querySelector('.mv-wave-legend').innerText")
    assert "Wave targets" in legend and "61" in legend and "6" in legend
    # Shading sits over the basemap and under the incidents.
    z = js(qtbot, view, "[+mapviewer.state.map.getPane('mv-basemap').style.zIndex,"
                        " +mapviewer.state.map.getPane('mv-waves').style.zIndex,"
                        " +mapviewer.state.map.getPane('mv-incidents').style.zIndex]")
    assert z[0] < z[1] < z[2]
    # The most-targeted oblast is the darkest.
    opacity = js(qtbot, view, "(function(){var o = {}; mapviewer.state.waves.eachLayer(function(l){"
                              "o[l.feature.properties.name] = l.options.fillOpacity;}); return o;})()")
    assert opacity["Kyiv Oblast"] > opacity["Kharkiv Oblast"] > opacity["Odesa Oblast"] > 0
    assert opacity["Lviv Oblast"] == 0

    # Hovering an oblast names it and its count.
    view.run_js("mapviewer.state.map.setView([49.6, 36.6], 7, {animate: false})")
    point = js(qtbot, view, "(function(){var p = mapviewer.state.map.latLngToContainerPoint([49.6, 36.6]);"
                            "return [p.x, p.y];})()")
    view.run_js(
        "(function(){var c = document.querySelector('.leaflet-container'), r = c.getBoundingClientRect();"
        f"var x = r.left + {point[0]}, y = r.top + {point[1]}, t = document.elementFromPoint(x, y);"
        "var o = {bubbles: true, cancelable: true, clientX: x, clientY: y};"
        "t.dispatchEvent(new MouseEvent('mouseover', o)); t.dispatchEvent(new MouseEvent('mousemove', o));})()")
    tip = "(document.querySelector('.mv-tooltip') || {}).textContent || null"
    qtbot.waitUntil(lambda: "Kharkiv Oblast" in (js(qtbot, view, tip) or ""), timeout=WAIT)
    assert "20 launches" in js(qtbot, view, tip)

    # The filter applies without a reload: October only leaves the 29-30 September night out.
    page = view.page()
    state.set_filter(FilterState(start=dt.date(2025, 10, 1)))
    qtbot.waitUntil(lambda: wave_targets(qtbot, view) == {"Kharkiv Oblast": 20, "Odesa Oblast": 6}, timeout=WAIT)
    state.set_filter(FilterState(munitions={"KN-23"}))
    qtbot.waitUntil(lambda: wave_targets(qtbot, view) == {"Kyiv Oblast": 4}, timeout=WAIT)
    assert view.page() is page
    # Closing everything removes the layer and its control entry.
    state.clear()
    qtbot.waitUntil(lambda: wave_targets(qtbot, view) is None, timeout=WAIT)
    overlays = js(qtbot, view, "document.querySelector('.leaflet-control-layers-overlays').textContent")
    assert "Wave targets" not in overlays
    errors = [m for m in view.page().console if "Error" in m or "Uncaught" in m]
    assert not errors, errors


def test_the_legend_folds_on_a_small_map_and_the_person_can_unfold_it(qtbot, view, state):
    load(qtbot, view, state, make_frame())
    folded = "document.querySelector('.mv-legend').classList.contains('mv-folded')"
    assert js(qtbot, view, folded) is False  # 900 x 650: room for the whole legend
    view.resize(560, 380)  # the map between the app's panels on a small screen
    qtbot.waitUntil(lambda: js(qtbot, view, folded) is True, timeout=WAIT)
    size = js(qtbot, view, "(function(){var b = document.querySelector('.mv-legend').getBoundingClientRect();"
                           "return [b.width, b.height];})()")
    assert size[0] < 0.45 * 560 and size[1] < 0.2 * 380  # leaves the map visible
    compact = js(qtbot, view, "document.querySelector('.mv-legend .mv-legend-compact').innerText")
    impacts = int((make_frame()["outcome"] == "impact").sum())
    assert str(impacts) in compact  # the outcome counts stay readable when folded
    for label in ("Impact", "Intercepted", "Deviated", "Debris", "Unknown"):  # and say what they count
        assert label in compact
    view.run_js("document.querySelector('.mv-legend-title').click()")
    qtbot.waitUntil(lambda: js(qtbot, view, folded) is False, timeout=WAIT)
    view.resize(540, 370)
    qtbot.waitUntil(lambda: js(qtbot, view, "mapviewer.state.map.getSize().x") == 540, timeout=WAIT)
    assert js(qtbot, view, folded) is False  # the person's choice is kept


LEGEND_FOLDED = "document.querySelector('.mv-legend').classList.contains('mv-folded')"
LEGEND_BOX = ("(function(){var b = document.querySelector('.mv-legend'), r = b.getBoundingClientRect();"
              "return [r.top, r.bottom, b.scrollHeight, b.clientHeight];})()")


def test_a_map_pane_as_in_the_readme_screenshot_shows_the_whole_legend(qtbot, view, state):
    load(qtbot, view, state, make_frame())
    view.resize(1270, 700)  # the map beside the panels of a 1600 x 1000 window
    qtbot.waitUntil(lambda: js(qtbot, view, "mapviewer.state.map.getSize().y") == 700, timeout=WAIT)
    assert js(qtbot, view, LEGEND_FOLDED) is False
    top, bottom, content, shown = js(qtbot, view, LEGEND_BOX)
    assert top >= 0 and bottom <= 700
    assert content <= shown  # every row visible, nothing scrolled away
    text = js(qtbot, view, "document.querySelector('.mv-legend').innerText")
    for label in ("Impact", "Intercepted", "Munition class", "Approximate location"):
        assert label in text


def test_exports_and_screenshots_keep_the_legend_open_whatever_the_size(qtbot, view, state):
    load(qtbot, view, state, make_frame())
    view.resize(560, 380)
    qtbot.waitUntil(lambda: js(qtbot, view, LEGEND_FOLDED) is True, timeout=WAIT)
    view.set_legend_open(True)
    qtbot.waitUntil(lambda: js(qtbot, view, LEGEND_FOLDED) is False, timeout=WAIT)
    view.run_js("document.querySelector('.mv-legend-title').click()")  # a click cannot fold it either
    page_caught_up(qtbot, view)
    assert js(qtbot, view, LEGEND_FOLDED) is False
    assert view.legend_open
    view.set_legend_open(False)  # back to the screen: the person's last choice (folded) holds
    qtbot.waitUntil(lambda: js(qtbot, view, LEGEND_FOLDED) is True, timeout=WAIT)


def test_a_legend_kept_open_before_the_page_is_ready_stays_open(qtbot, state):
    view = MapView(state)
    view.set_legend_open(True)  # as --screenshot does before the page has loaded
    qtbot.addWidget(view)
    view.resize(560, 380)
    view.show()
    try:
        with qtbot.waitSignal(view.ready, timeout=WAIT):
            pass
        load(qtbot, view, state, make_frame())
        assert js(qtbot, view, LEGEND_FOLDED) is False
    finally:
        view.release()


ATTRIBUTION = "document.querySelector('.leaflet-control-attribution').textContent"


def test_the_basemap_sources_are_credited_on_the_live_map(qtbot, view, state, tmp_path):
    credit = js(qtbot, view, ATTRIBUTION)
    assert "Natural Earth (public domain)" in credit
    assert "GeoNames (CC BY 4.0)" in credit
    # Another basemap replaces the outlines: their credit goes with them, the oblasts' stays.
    state.set_basemap((tmp_path / "{z}" / "{x}" / "{y}.png").as_uri().replace("%7B", "{").replace("%7D", "}"))
    qtbot.waitUntil(lambda: "Natural Earth" not in js(qtbot, view, ATTRIBUTION), timeout=WAIT)
    assert "GeoNames" in js(qtbot, view, ATTRIBUTION)
    state.set_basemap("offline")
    qtbot.waitUntil(lambda: "Natural Earth" in js(qtbot, view, ATTRIBUTION), timeout=WAIT)
    errors = [m for m in view.page().console if "Error" in m or "Uncaught" in m]
    assert not errors, errors


def test_the_exported_page_says_what_it_shows_and_credits_its_sources(tmp_path, qtbot, open_in_browser):
    from mapviewer.map.page import write_standalone_html

    frame = make_frame()
    path = write_standalone_html(frame, tmp_path / "export.html", title="Night of 29 Sep " + PAYLOAD,
                                 subtitle="29 Sep 2025 – 30 Sep 2025 · KN-23 · impact", fingerprint="3fa2c1d09e7b")
    page = open_in_browser(path)
    qtbot.waitUntil(lambda: js(qtbot, page, "mapviewer.count()") == len(frame), timeout=WAIT)
    heading = js(qtbot, page, "[...document.querySelectorAll('.mv-heading > div')].map(d => d.textContent)")
    assert heading == ["Night of 29 Sep " + PAYLOAD, "29 Sep 2025 – 30 Sep 2025 · KN-23 · impact",
                       "Fingerprint 3fa2c1d09e7b"]
    assert js(qtbot, page, "document.querySelectorAll('.mv-heading script, .mv-heading img').length") == 0
    assert js(qtbot, page, "typeof window.pwned") == "undefined"
    box = js(qtbot, page, "(function(){var r = document.querySelector('.mv-heading').getBoundingClientRect();"
                          "return [r.left + r.width / 2, r.top, r.height, window.innerWidth];})()")
    assert abs(box[0] - box[3] / 2) < 30 and box[1] < 40 and box[2] > 20  # visible, top centre
    credit = js(qtbot, page, ATTRIBUTION)
    assert "Natural Earth (public domain)" in credit and "GeoNames (CC BY 4.0)" in credit

    untitled = write_standalone_html(frame, tmp_path / "untitled.html")  # no title given: no box
    page = open_in_browser(untitled)
    qtbot.waitUntil(lambda: js(qtbot, page, "mapviewer.count()") == len(frame), timeout=WAIT)
    assert js(qtbot, page, "document.querySelectorAll('.mv-heading').length") == 0
    assert "Natural Earth" in js(qtbot, page, ATTRIBUTION)


_DRONE_BOX = ("[...document.querySelectorAll('.leaflet-control-layers-overlays label')]"
              ".find(l => l.textContent.includes({label})).querySelector('input')")


def _layer_box(name: str) -> str:
    from geodata.style import CLASS_STYLE

    return _DRONE_BOX.format(label=json.dumps(CLASS_STYLE[name].label))


def test_the_class_layer_boxes_are_the_one_class_filter(qtbot, view, state):
    from geodata.style import CLASS_STYLE
    from mapviewer.panels.filters import FilterPanel
    from mapviewer.panels.summary import SummaryPanel
    from mapviewer.panels.table import IncidentTable
    from PySide6.QtCore import Qt

    panel, summary, table = FilterPanel(state), SummaryPanel(state), IncidentTable(state)
    for widget in (panel, summary, table):
        qtbot.addWidget(widget)
    frame = make_frame()
    load(qtbot, view, state, frame)
    n, drones = len(frame), int((frame["munition_class"] == "loitering munition").sum())
    node = next(panel.munition_tree.topLevelItem(i) for i in range(panel.munition_tree.topLevelItemCount())
                if panel.munition_tree.topLevelItem(i).text(0) == CLASS_STYLE["loitering munition"].label)

    # A briefer unticks the drone layer in the map's layer control.
    view.run_js(f"{_layer_box('loitering munition')}.click()")
    qtbot.waitUntil(lambda: state.filter.munition_classes is not None, timeout=WAIT)
    assert "loitering munition" not in state.filter.munition_classes
    assert {"ballistic missile", "cruise missile"} <= state.filter.munition_classes
    assert summary.headline.text() == f"{n - drones} of {n} events shown"
    assert table.model.rowCount() == n - drones
    assert node.checkState(0) == Qt.CheckState.Unchecked
    qtbot.waitUntil(lambda: js(qtbot, view, "mapviewer.count()") == n - drones, timeout=WAIT)
    assert "Drone" in js(qtbot, view, "document.querySelector('.mv-legend .mv-off').textContent")
    assert js(qtbot, view, f"{_layer_box('loitering munition')}.checked") is False

    # Ticking the class again in the filter panel: the page's box follows, every event is back.
    with qtbot.waitSignal(state.filter_changed, timeout=WAIT):
        node.setCheckState(0, Qt.CheckState.Checked)
    assert state.filter.munition_classes is None
    qtbot.waitUntil(lambda: js(qtbot, view, f"{_layer_box('loitering munition')}.checked") is True, timeout=WAIT)
    qtbot.waitUntil(lambda: js(qtbot, view, "mapviewer.drawnCount()") == n, timeout=WAIT)

    # A class left out by the filter (a saved view, the panel) unticks its box without calling back.
    state.set_filter(state.filter.replace(munition_classes=frozenset({"ballistic missile"})))
    qtbot.waitUntil(lambda: js(qtbot, view, "mapviewer.classesShown()") == ["ballistic missile"], timeout=WAIT)
    assert js(qtbot, view, f"{_layer_box('cruise missile')}.checked") is False
    page_caught_up(qtbot, view)  # any echo from the page would have been sent
    assert state.filter.munition_classes == frozenset({"ballistic missile"})


def test_ticking_a_class_box_shows_its_events_that_name_no_munition(qtbot, view, state):
    frame = make_frame()
    frame.loc[2, "munition"] = pd.NA  # a drone nobody named (TimeMap, CIR rows)
    load(qtbot, view, state, frame)
    state.set_filter(FilterState(munitions={"KN-23"}, munition_classes={"ballistic missile"}))
    qtbot.waitUntil(lambda: js(qtbot, view, f"{_layer_box('loitering munition')}.checked") is False, timeout=WAIT)
    view.run_js(f"{_layer_box('loitering munition')}.click()")
    qtbot.waitUntil(lambda: "loitering munition" in (state.filter.munition_classes or ()), timeout=WAIT)
    drones = (frame["munition_class"] == "loitering munition").to_numpy()
    assert state.mask[drones].all()  # the named drones and the unnamed one


def test_popup_has_readable_labels_and_one_provenance_line_and_closes_when_filtered_out(qtbot, view, state, tmp_path):
    frame = make_frame()
    path = str(tmp_path / "deep" / "incidents.gpkg")
    with qtbot.waitSignal(view.incidents_drawn, timeout=WAIT, check_params_cb=lambda n: n == len(frame)):
        state.add_dataset(path, frame, LoadReport(path=path, format="gpkg"))
    state.set_selection([3])  # a drone over central Kyiv
    view.run_js("mapviewer.state.map.setView([50.45, 30.52], 12, {animate: false})")
    qtbot.waitUntil(lambda: js(qtbot, view, "mapviewer.screenPoint(3)") is not None, timeout=WAIT)
    click_position(qtbot, view, 3)
    qtbot.waitUntil(lambda: js(qtbot, view, "!!document.querySelector('.leaflet-popup-content table')"), timeout=WAIT)
    labels = js(qtbot, view, "[...document.querySelectorAll('.leaflet-popup-content th')].map(t => t.textContent)")
    for label in ("ID", "Time (Kyiv)", "Oblast", "Location precision", "Munition class"):
        assert label in labels
    for raw in ("event_id", "occurred_at", "admin1", "geo_precision", "dataset", "source_row"):
        assert raw not in labels
    times = js(qtbot, view, "[...document.querySelectorAll('.leaflet-popup-content tr')]"
                            ".filter(r => r.firstChild.textContent === 'Time (Kyiv)').map(r => r.lastChild.textContent)")
    assert times == ["2025-09-29 23:51"]  # 20:51 UTC is 23:51 in Kyiv (summer time)
    origin = js(qtbot, view, "[document.querySelector('.mv-origin').textContent, document.querySelector('.mv-origin').title]")
    assert origin == ["File: incidents.gpkg, row 3", path]
    assert path not in js(qtbot, view, "document.querySelector('.leaflet-popup-content').textContent")

    # Unticking the drone layer hides the event: its popup closes with it.
    view.run_js(f"{_layer_box('loitering munition')}.click()")
    qtbot.waitUntil(lambda: state.filter.munition_classes is not None, timeout=WAIT)
    qtbot.waitUntil(lambda: js(qtbot, view, "!!document.querySelector('.leaflet-popup')") is False, timeout=WAIT)
    # A filter from elsewhere that hides the open popup's event closes it too.
    state.set_filter(FilterState())
    qtbot.waitUntil(lambda: js(qtbot, view, "mapviewer.count()") == len(frame), timeout=WAIT)
    state.set_selection([4])
    view.run_js("mapviewer.state.map.setView([49.84, 24.03], 12, {animate: false})")
    qtbot.waitUntil(lambda: js(qtbot, view, "mapviewer.screenPoint(4)") is not None, timeout=WAIT)
    click_position(qtbot, view, 4)
    qtbot.waitUntil(lambda: js(qtbot, view, "!!document.querySelector('.leaflet-popup-content table')"), timeout=WAIT)
    state.set_filter(FilterState(outcomes={"impact"}))
    qtbot.waitUntil(lambda: js(qtbot, view, "!!document.querySelector('.leaflet-popup')") is False, timeout=WAIT)


def tooltip_text(qtbot, view, position: int) -> str:
    # Hover an empty corner first so an earlier event's tooltip cannot be mistaken for this one's.
    view.run_js("(function(){var c = document.querySelector('.leaflet-container'), r = c.getBoundingClientRect();"
                "c.dispatchEvent(new MouseEvent('mousemove', {bubbles: true, clientX: r.left + 2, clientY: r.bottom - 2}));})()")
    qtbot.waitUntil(lambda: js(qtbot, view, "!!document.querySelector('.mv-tooltip')") is False, timeout=WAIT)
    click_position(qtbot, view, position, "mousemove")
    qtbot.waitUntil(lambda: js(qtbot, view, "!!document.querySelector('.mv-tooltip')"), timeout=WAIT)
    return js(qtbot, view, "document.querySelector('.mv-tooltip').textContent")


def test_tooltip_times_are_kyiv_wall_clock_and_keep_the_event_date(qtbot, view, state):
    frame = make_frame()
    # 2 June in Kyiv starts at 21:00 UTC on 1 June: a day-precision event of 2 June stored at that instant
    frame.loc[0, "occurred_at"] = pd.Timestamp("2025-06-01 21:00", tz="UTC")
    frame.loc[0, "time_precision"] = "day"
    frame.loc[1, "occurred_at"] = pd.Timestamp("2025-06-01 22:30", tz="UTC")  # 01:30 on 2 June, Kyiv
    frame.loc[2, "occurred_at"] = pd.Timestamp("2025-05-31 21:00", tz="UTC")  # June 2025, month precision
    frame.loc[2, "time_precision"] = "month"
    load(qtbot, view, state, frame)
    assert "2025-06-02" in tooltip_text(qtbot, view, 0) and "2025-06-01" not in tooltip_text(qtbot, view, 0)
    assert "2025-06-02 01:30 (Kyiv time)" in tooltip_text(qtbot, view, 1)
    month = tooltip_text(qtbot, view, 2)
    assert "2025-06" in month and "2025-05" not in month and "2025-06-01" not in month


# -- place names on the offline basemap ------------------------------------------------------------
PLACE_BOXES = ("[...document.querySelectorAll('.mv-place')].map(p => {"
               "var a = p.querySelector('.mv-place-dot').getBoundingClientRect(),"
               " b = p.querySelector('.mv-place-name').getBoundingClientRect();"
               "return [p.textContent, Math.min(a.left, b.left), Math.min(a.top, b.top),"
               " Math.max(a.right, b.right), Math.max(a.bottom, b.bottom)];})")
_PLACES_BOX = ("[...document.querySelectorAll('.leaflet-control-layers-overlays label')]"
               ".find(l => l.textContent.includes('Place names')).querySelector('input')")


def place_names_at(qtbot, view, lat: float, lon: float, zoom: float) -> list[str]:
    view.run_js(f"mapviewer.setView({lat}, {lon}, {zoom})")
    qtbot.waitUntil(lambda: js(qtbot, view, VIEW_JS) == pytest.approx([lat, lon, zoom], abs=0.01), timeout=WAIT)
    return js(qtbot, view, "mapviewer.placeNames()")


def assert_no_overlap(boxes: list) -> None:
    for i, (name, left, top, right, bottom) in enumerate(boxes):
        assert right - left > 10 and bottom - top > 8, f"{name} is not drawn"
        for other, left2, top2, right2, bottom2 in boxes[i + 1:]:
            assert right <= left2 or right2 <= left or bottom <= top2 or bottom2 <= top, f"{name} overlaps {other}"


def test_place_names_follow_the_zoom_and_never_overlap(qtbot, view, state):
    names = place_names_at(qtbot, view, 48.5, 31.5, 6)
    assert {"Kyiv", "Kharkiv", "Odesa"} <= set(names)
    assert "Bucha" not in names and "Irpin" not in names  # suburbs are too small at country scale
    boxes = js(qtbot, view, PLACE_BOXES)
    assert [b[0] for b in boxes] == names
    assert_no_overlap(boxes)
    legend = js(qtbot, view, "(function(){var r = document.querySelector('.mv-legend').getBoundingClientRect();"
                             "return ['legend', r.left, r.top, r.right, r.bottom];})()")
    assert_no_overlap(boxes + [legend])  # no name hides under the legend
    oblasts = js(qtbot, view, "[...document.querySelectorAll('.mv-oblast-label span')]"
                              ".filter(s => getComputedStyle(s).visibility !== 'hidden').map(s => {"
                              "var r = s.getBoundingClientRect();"
                              " return [s.textContent, r.left, r.top, r.right, r.bottom];})")
    assert len(oblasts) > 10  # the oblast names still show where no town is named
    for oblast in oblasts:  # no oblast name shows over a town's name
        assert_no_overlap(boxes + [oblast])

    names = place_names_at(qtbot, view, 50.45, 30.35, 10)
    assert {"Bucha", "Irpin"} & set(names)
    assert "Kharkiv" not in names  # only names inside the view
    boxes = js(qtbot, view, PLACE_BOXES)
    assert len(boxes) <= 250
    assert_no_overlap(boxes)

    # Unticking "Place names" in the layer control takes them off the map.
    view.run_js(f"{_PLACES_BOX}.click()")
    qtbot.waitUntil(lambda: js(qtbot, view, "document.querySelectorAll('.mv-place').length") == 0, timeout=WAIT)
    assert js(qtbot, view, "mapviewer.placeNames()") == []
    view.run_js(f"{_PLACES_BOX}.click()")
    qtbot.waitUntil(lambda: "Bucha" in js(qtbot, view, "mapviewer.placeNames()")
                    or "Irpin" in js(qtbot, view, "mapviewer.placeNames()"), timeout=WAIT)


def test_place_names_are_off_with_tiles_and_can_be_ticked(qtbot, view, state, tmp_path):
    assert js(qtbot, view, f"{_PLACES_BOX}.checked") is True  # the offline basemap has no names of its own
    state.set_basemap((tmp_path / "{z}" / "{x}" / "{y}.png").as_uri().replace("%7B", "{").replace("%7D", "}"))
    qtbot.waitUntil(lambda: js(qtbot, view, f"{_PLACES_BOX}.checked") is False, timeout=WAIT)
    assert js(qtbot, view, "document.querySelectorAll('.mv-place').length") == 0
    assert "GeoNames" in js(qtbot, view, ATTRIBUTION)  # the oblasts are still shown
    view.run_js(f"{_PLACES_BOX}.click()")
    qtbot.waitUntil(lambda: "Kyiv" in js(qtbot, view, "mapviewer.placeNames()"), timeout=WAIT)
    state.set_basemap("offline")
    qtbot.waitUntil(lambda: js(qtbot, view, "mapviewer.state.map.hasLayer(mapviewer.state.basemaps.countries)"),
                    timeout=WAIT)
    assert js(qtbot, view, f"{_PLACES_BOX}.checked") is True


def test_place_names_alone_are_credited_to_geonames(qtbot, view):
    view.run_js("document.querySelectorAll('.leaflet-control-layers-overlays label')"
                ".forEach(l => { if (l.textContent.includes('Oblasts')) l.querySelector('input').click(); })")
    qtbot.waitUntil(lambda: js(qtbot, view, "mapviewer.state.map.hasLayer(mapviewer.state.basemaps.oblasts)")
                    is False, timeout=WAIT)
    assert "place names: GeoNames (CC BY 4.0)" in js(qtbot, view, ATTRIBUTION)


def test_a_place_name_with_markup_shows_as_text_and_runs_nothing(qtbot, state, monkeypatch):
    from mapviewer.map import page as mappage
    name = '<img src=x onerror="window.pwned = 3"><script>window.pwned = 4</script>'
    places = [[name, 51.0, 24.5, 3_000_000], ["Lviv", 49.84, 24.03, 717_000]]
    monkeypatch.setattr(mappage, "_place_names", lambda: places)
    mappage._live_page.cache_clear()
    view = MapView(state)
    qtbot.addWidget(view)
    view.resize(900, 650)
    view.show()
    try:
        with qtbot.waitSignal(view.ready, timeout=WAIT):
            pass
        assert set(place_names_at(qtbot, view, 48.5, 31.5, 6)) == {name, "Lviv"}
        assert js(qtbot, view, "document.querySelectorAll('.mv-places img, .mv-places script').length") == 0
        page_caught_up(qtbot, view)
        assert js(qtbot, view, "typeof window.pwned") == "undefined"
    finally:
        view.release()
        mappage._live_page.cache_clear()  # the next view gets the real names


def test_the_exported_page_names_places(tmp_path, qtbot, open_in_browser):
    from mapviewer.map.page import write_standalone_html

    path = write_standalone_html(make_frame(), tmp_path / "export.html", title="Export")
    page = open_in_browser(path)
    qtbot.waitUntil(lambda: js(qtbot, page, "mapviewer.count()") == len(_ROWS), timeout=WAIT)
    names = js(qtbot, page, "mapviewer.placeNames()")
    assert "Kyiv" in names
    assert "Place names" in js(qtbot, page, "document.querySelector('.leaflet-control-layers-overlays').textContent")


def test_the_wave_legend_says_how_many_launches_no_oblast_shows(qtbot, view, state, tmp_path):
    from geodata.waves import read_waves

    path = tmp_path / "waves.csv"
    path.write_text(WAVES_CSV + "2025-10-07 01:00,2025-10-07 05:00,Shahed-136,Kursk oblast,Ukraine,30,25,,x\n",
                    encoding="utf-8")
    result = read_waves(path)
    load(qtbot, view, state, make_frame())
    state.add_waves(str(path), result.frame, result.report)
    legend = "(document.querySelector('.mv-wave-legend') || {}).textContent || ''"
    qtbot.waitUntil(lambda: "30 launches not placed on an oblast" in js(qtbot, view, legend), timeout=WAIT)
    state.set_filter(FilterState(end=dt.date(2025, 10, 6)))  # that wave is out: nothing left unplaced
    qtbot.waitUntil(lambda: "not placed" not in js(qtbot, view, legend), timeout=WAIT)
    assert "Wave targets" in js(qtbot, view, legend)


def test_rows_arrive_as_binary_once_and_no_other_address_is_served(qtbot, view, state):
    frame = make_frame()
    load(qtbot, view, state, frame)
    # The page's arrays are the frame's (positions and coordinates, in any drawing order).
    rows = js(qtbot, view, "Array.from(mapviewer.state.pos).map((p, i) => "
                           "[p, mapviewer.state.lat[i], mapviewer.state.lon[i]]).sort((a, b) => a[0] - b[0])")
    assert [r[0] for r in rows] == list(range(len(frame)))
    assert [r[1] for r in rows] == pytest.approx(frame.geometry.y.tolist(), abs=1e-4)
    assert [r[2] for r in rows] == pytest.approx(frame.geometry.x.tolist(), abs=1e-4)
    # An address offered is good once; guesses, other hosts and the same address again are refused.
    fetch = ("(function(){window.__got = []; var urls = %s; (function next(k) { if (k === urls.length) return;"
             "fetch(urls[k]).then(function (r) { return r.ok ? r.text() : r.status; })"
             ".catch(function () { return 'refused'; })"
             ".then(function (v) { window.__got.push(v); next(k + 1); }); })(0); })()")
    offered = view._frames.offer(b"rows")
    urls = [offered + "?x=1", offered, offered, "mapdata://frame/" + "0" * 32, "mapdata://frame/../map.html",
            "mapdata://other" + offered[len("mapdata://frame"):]]
    view.run_js(fetch % json.dumps(urls))
    qtbot.waitUntil(lambda: len(js(qtbot, view, "window.__got") or []) == len(urls), timeout=WAIT)
    got = js(qtbot, view, "window.__got")
    assert got[1] == "rows"
    assert all(v in (404, "refused") for k, v in enumerate(got) if k != 1), got


def test_a_filter_switches_rows_on_and_off_where_they_are_drawn(qtbot, view, state):
    frame = make_frame()
    load(qtbot, view, state, frame)
    shown = [p for p in range(len(frame)) if js(qtbot, view, f"mapviewer.screenPoint({p})") is not None]
    assert shown == list(range(len(frame)))
    wanted = FilterState(outcomes={"impact"})
    keep = wanted.mask(state.frame)
    with qtbot.waitSignal(view.incidents_drawn, timeout=WAIT, check_params_cb=lambda n: n == int(keep.sum())):
        state.set_filter(wanted)
    for p in range(len(frame)):
        assert (js(qtbot, view, f"mapviewer.screenPoint({p})") is not None) == bool(keep[p]), p
    assert js(qtbot, view, "mapviewer.drawnCount()") == int(keep.sum())
    with qtbot.waitSignal(view.incidents_drawn, timeout=WAIT, check_params_cb=lambda n: n == len(frame)):
        state.set_filter(FilterState())
    assert js(qtbot, view, "mapviewer.drawnCount()") == len(frame)


def test_the_legend_counts_strikes_when_strikes_are_shown(qtbot, view, state):
    frame = make_frame()
    strikes = frame.assign(reports=2)  # one row per strike, as geodata.strikes gives them
    with qtbot.waitSignal(view.incidents_drawn, timeout=WAIT, check_params_cb=lambda n: n == len(frame)):
        state.add_dataset("strikes.csv", strikes, LoadReport(path="strikes.csv", format="csv"))
    legend = js(qtbot, view, "document.querySelector('.mv-legend-title').textContent")
    assert legend == f"{len(frame)} strikes"


def test_the_legend_writes_large_counts_as_the_panels_do(qtbot, view, state):
    frame = make_frame(_ROWS * 500)  # 4,000 rows
    large = {f"{n:,}" for n in frame["outcome"].value_counts() if n >= 1000}
    assert large and all("," in c for c in large)
    load(qtbot, view, state, frame)
    title = js(qtbot, view, "document.querySelector('.mv-legend-title').textContent")
    assert title == "4,000 events"
    counts = js(qtbot, view, "Array.from(document.querySelectorAll('.mv-legend-row .mv-legend-count'))"
                             ".map(function (e) { return e.textContent; })")
    assert large <= set(counts)


def test_too_many_events_on_screen_are_drawn_as_squares_of_counts_until_zoomed_in(qtbot, view, state):
    frame = make_frame()
    load(qtbot, view, state, frame)
    assert js(qtbot, view, "mapviewer.blocks()") is None  # a handful of events: symbols
    view.run_js("mapviewer.state.aggregateAbove = 3; mapviewer.state.layer.redraw();")  # as a million would be
    squares, counted = js(qtbot, view, "mapviewer.blocks()")
    assert counted == js(qtbot, view, "mapviewer.drawnCount()") == len(frame)  # every event counted once
    assert 1 <= squares <= len(frame)
    assert "each square counts the events" in js(qtbot, view, "document.querySelector('.mv-legend').textContent")
    assert js(qtbot, view, "mapviewer.state.layer.hit(mapviewer.state.map.latLngToContainerPoint([49.99, 36.23]))") == -1
    # A row chosen in the table is still marked over the squares (its yellow ring).
    x, y = js(qtbot, view, "mapviewer.screenPoint(5)")
    ring = js(qtbot, view, "mapviewer.state.layer.radius()") + 5  # the ring's radius

    def ring_drawn() -> bool:  # a yellow pixel about the ring's radius right of the event
        image = view.grab().toImage()
        ratio = image.devicePixelRatio()
        colours = [image.pixelColor(round((x + dx) * ratio), round(y * ratio)) for dx in range(int(ring) - 3, int(ring) + 3)]
        return any(c.red() > 200 and c.green() > 180 and c.blue() < 80 for c in colours)

    assert not ring_drawn()
    state.set_selection([5])
    qtbot.waitUntil(ring_drawn, timeout=WAIT)
    state.set_selection([])
    # Pointing at Kharkiv's square tells its count and outcome; clicking it zooms in.
    block = js(qtbot, view, "mapviewer.state.layer.hitBlock(mapviewer.state.map.latLngToContainerPoint([49.99, 36.23]))")
    assert block["n"] >= 1 and block["by"]["impact"] >= 1
    zoom = js(qtbot, view, "mapviewer.state.map.getZoom()")
    click_at = "mapviewer.state.map.latLngToContainerPoint([49.99, 36.23])"
    view.run_js(
        f"(function(){{var p = {click_at}, c = document.querySelector('.leaflet-container'), r = c.getBoundingClientRect();"
        "var o = {bubbles: true, cancelable: true, clientX: r.left + p.x, clientY: r.top + p.y, button: 0};"
        "c.dispatchEvent(new MouseEvent('mousedown', o)); c.dispatchEvent(new MouseEvent('mouseup', o));"
        "c.dispatchEvent(new MouseEvent('click', o));})()")
    qtbot.waitUntil(lambda: js(qtbot, view, "mapviewer.state.map.getZoom()") > zoom, timeout=WAIT)
    # Close in on one event: few enough on screen, the symbols come back and the legend says no more squares.
    view.run_js("mapviewer.setView(49.99, 36.23, 14);")
    qtbot.waitUntil(lambda: js(qtbot, view, "mapviewer.blocks()") is None, timeout=WAIT)
    assert js(qtbot, view, "mapviewer.screenPoint(5)") is not None
    assert "each square" not in js(qtbot, view, "document.querySelector('.mv-legend').textContent")
