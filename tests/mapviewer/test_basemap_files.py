"""Tile archives (MBTiles, PMTiles) on the live map: served through basemap://, drawn at the right place."""
from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QColor
from PySide6.QtWebEngineCore import QWebEngineUrlRequestJob

from geodata import tiles
from mapviewer.map.basemapfiles import layer_spec
from mapviewer.map.tilescheme import ArchiveSchemeHandler
from mapviewer.state import AppState
from tests.qt_helpers import ready_map_view
from tests.tile_archives import (BEIGE, GREY, MARK_COLOUR, MARK_LONLAT, MARK_ZOOM, Z1_COLOURS, make_mbtiles,
                                 make_not_sqlite, make_pmtiles, make_vector_mbtiles, mark_tile)

MAKERS = {"mbtiles": make_mbtiles, "pmtiles": make_pmtiles}


def close_to(colour: QColor, rgb, tol: int = 12) -> bool:
    return all(abs(a - b) <= tol for a, b in zip((colour.red(), colour.green(), colour.blue()), rgb))


def js(view, qtbot, script: str):
    """Run ``script`` (an expression) in the page and return its JSON value."""
    box = []
    view.run_js(f"JSON.stringify({script})", box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=20000)
    return json.loads(box[0]) if box[0] else None


@pytest.fixture
def map_view(qtbot):
    """A bare map view (no data) of 800 x 600, ready; deleted before the application."""
    state = AppState()
    view = ready_map_view(qtbot, state, (800, 600))
    yield view
    view.release()
    for archive in state.basemap_files:
        archive.close()


def pixel_at(view, qtbot, lat: float, lon: float, expected, tol: int = 12) -> QColor:
    """Wait until the view shows ``expected`` at the place ``lat, lon``; return the colour last seen."""
    x, y = js(view, qtbot, f"(function(){{var p = mapviewer.state.map.latLngToContainerPoint([{lat}, {lon}]); "
                           f"return [p.x, p.y];}})()")
    seen = []

    def shows() -> bool:
        colour = view.grab().toImage().pixelColor(round(x), round(y))
        seen.append(colour)
        return close_to(colour, expected, tol)

    try:
        qtbot.waitUntil(shows, timeout=30000)
    except (AssertionError, TimeoutError, qtbot.TimeoutError):
        last = seen[-1] if seen else None
        raise AssertionError(f"at {lat}, {lon} (screen {x:.0f}, {y:.0f}) expected {expected}, "
                             f"saw {last.getRgb() if last else None}") from None
    return seen[-1]


def _quiet_page(view, qtbot) -> None:
    """No place names or oblast labels over the tiles (they would cover the pixels checked)."""
    js(view, qtbot, "(function(){var m = mapviewer.state.map; m.eachLayer(function (l) { "
                    "if (l === mapviewer.state.places || (l.options && l.options.pane === 'mv-labels')) "
                    "m.removeLayer(l); }); return true;})()")


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_the_mark_is_drawn_at_its_place(map_view, qtbot, tmp_path, kind):
    """The archive's mark (a black square centred on a known place) is at that place on the page."""
    archive = tiles.open_archive(MAKERS[kind](tmp_path / f"streets.{kind}"))
    map_view._state.add_basemap_file(archive)
    lon, lat = MARK_LONLAT
    map_view._state.request_view(lat, lon, MARK_ZOOM)
    qtbot.waitUntil(lambda: js(map_view, qtbot, "mapviewer.archives().length") == 1, timeout=20000)
    _quiet_page(map_view, qtbot)
    pixel_at(map_view, qtbot, lat, lon, MARK_COLOUR)
    # 20 px east and south of the mark: the beige street tile, not the offline outlines
    pixel_at(map_view, qtbot, lat - 0.003, lon + 0.005, BEIGE)
    assert js(map_view, qtbot, "mapviewer.archives()") == [
        {"key": archive.key, "name": "Test streets", "on": True, "attribution": archive.attribution.replace("©", "©")}]


def test_north_stays_north_and_deepest_tiles_are_scaled_up(map_view, qtbot, tmp_path):
    """An MBTiles file (rows in TMS order) shows its north-west tile in the north-west, and above its max
    zoom the tiles are scaled up with a note in the attribution line."""
    archive = tiles.open_archive(make_mbtiles(tmp_path / "world.mbtiles", {(0, 0, 0): GREY, **Z1_COLOURS}, marks=()))
    map_view._state.add_basemap_file(archive)
    map_view._state.request_view(0.0, 0.0, 2)
    qtbot.waitUntil(lambda: js(map_view, qtbot, "mapviewer.archives().length") == 1, timeout=20000)
    _quiet_page(map_view, qtbot)
    for (lat, lon), tile in (((25, -20), (1, 0, 0)), ((25, 20), (1, 1, 0)),  # clear of the legend
                             ((-25, -20), (1, 0, 1)), ((-25, 20), (1, 1, 1))):
        pixel_at(map_view, qtbot, lat, lon, Z1_COLOURS[tile])
    attribution = js(map_view, qtbot, "document.querySelector('.leaflet-control-attribution').textContent")
    assert "Test streets: scaled up above zoom 1" in attribution
    assert "© Test data" in attribution and "<a" not in attribution


def test_attribution_is_text_never_html(map_view, qtbot, tmp_path):
    archive = tiles.open_archive(make_mbtiles(tmp_path / "x.mbtiles", name="<img src=x onerror=alert(1)>",
                                              attribution="<b>Bold</b> &amp; <script>window.hacked=1</script>"))
    map_view._state.add_basemap_file(archive)
    qtbot.waitUntil(lambda: js(map_view, qtbot, "mapviewer.archives().length") == 1, timeout=20000)
    assert js(map_view, qtbot, "document.querySelectorAll('.leaflet-control-attribution b, "
                               ".leaflet-control-layers img, .leaflet-control-attribution script').length") == 0
    assert js(map_view, qtbot, "typeof window.hacked") == "undefined"
    names = js(map_view, qtbot, "Array.prototype.map.call(document.querySelectorAll("
                                "'.leaflet-control-layers-overlays label span span'), function (s) "
                                "{ return s.textContent.trim(); })")
    assert archive.name in names  # the file's name as text (the archive layer keeps what the metadata says)


def test_several_archives_are_layered_and_listed(map_view, qtbot, tmp_path):
    """A country overview and a city archive: both in the layer control, the later one on top; removing one
    takes it off the page."""
    state = map_view._state
    overview = tiles.open_archive(make_mbtiles(tmp_path / "country.mbtiles", {(0, 0, 0): GREY}, marks=(),
                                               name="Country"))
    city = tiles.open_archive(make_pmtiles(tmp_path / "city.pmtiles", name="City"))
    state.add_basemap_file(overview)
    state.add_basemap_file(city)
    assert not state.add_basemap_file(tiles.open_archive(tmp_path / "city.pmtiles"))  # once only
    qtbot.waitUntil(lambda: [a["name"] for a in js(map_view, qtbot, "mapviewer.archives()")] == ["Country", "City"],
                    timeout=20000)
    lon, lat = MARK_LONLAT
    state.request_view(lat, lon, MARK_ZOOM)
    _quiet_page(map_view, qtbot)
    pixel_at(map_view, qtbot, lat, lon, MARK_COLOUR)  # the city over the grey overview
    state.remove_basemap_file(city.key)
    qtbot.waitUntil(lambda: [a["name"] for a in js(map_view, qtbot, "mapviewer.archives()")] == ["Country"],
                    timeout=20000)
    assert map_view.archive_layers.handler.archives == {overview.key: overview}


# -- the URL scheme handler ------------------------------------------------------------------------

def _load_images(view, qtbot, urls: list[str]) -> dict[str, object]:
    """Load each URL as an image in the page: url -> natural width, or "error"."""
    script = ("(function(urls){window.__probe = {}; urls.forEach(function (u) { var i = new Image(); "
              "i.onload = function () { window.__probe[u] = i.naturalWidth; }; "
              "i.onerror = function () { window.__probe[u] = 'error'; }; i.src = u; }); return urls.length;})("
              + json.dumps(urls) + ")")
    js(view, qtbot, script)
    qtbot.waitUntil(lambda: len(js(view, qtbot, "window.__probe") or {}) == len(urls), timeout=20000)
    return js(view, qtbot, "window.__probe")


def test_the_page_gets_tiles_and_nothing_else_from_the_scheme(map_view, qtbot, tmp_path):
    archive = tiles.open_archive(make_mbtiles(tmp_path / "streets.mbtiles"))
    map_view._state.add_basemap_file(archive)
    z, x, y = mark_tile()
    good = f"basemap://{archive.key}/{z}/{x}/{y}"
    bad = [f"basemap://{archive.key}/../../../etc/passwd", f"basemap://{archive.key}/{z}/{x}/{y}?sql=1",
           f"basemap://{archive.key}/31/0/0", f"basemap://{archive.key}/1/5/0", f"basemap://{'0' * 12}/{z}/{x}/{y}",
           f"basemap://{archive.key}{tmp_path}/streets.mbtiles"]
    result = _load_images(map_view, qtbot, [good] + bad)
    assert result[good] == 256
    assert {url: result[url] for url in bad} == {url: "error" for url in bad}


class _Job:
    """What the handler reads of a request, and what it answers."""

    def __init__(self, url: str, method: bytes = b"GET") -> None:
        self.url = QUrl(url)
        self.method = method
        self.failed = None

    def requestUrl(self) -> QUrl:  # noqa: N802
        return self.url

    def requestMethod(self):  # noqa: N802
        from PySide6.QtCore import QByteArray

        return QByteArray(self.method)

    def fail(self, error) -> None:
        self.failed = error


def test_handler_refuses_what_is_not_a_tile_of_an_open_archive(qapp, tmp_path):
    archive = tiles.open_archive(make_mbtiles(tmp_path / "streets.mbtiles"))
    handler = ArchiveSchemeHandler()
    handler.archives = {archive.key: archive}
    error = QWebEngineUrlRequestJob.Error
    cases = {
        f"basemap://{archive.key}/etc/passwd": error.UrlInvalid,
        f"basemap://{archive.key}/1/0/0/../../x": error.UrlInvalid,
        f"basemap://{archive.key}/40/0/0": error.UrlInvalid,
        f"basemap://{archive.key}/1/2/0": error.UrlInvalid,  # x outside the world at zoom 1
        f"basemap://{archive.key}/1/0/0?x=1": error.UrlInvalid,
        f"basemap://aaaaaaaaaaaa/1/0/0": error.UrlNotFound,
    }
    for url, expected in cases.items():
        job = _Job(url)
        handler.requestStarted(job)
        assert job.failed == expected, url
    job = _Job(f"basemap://{archive.key}/1/0/0", b"POST")
    handler.requestStarted(job)
    assert job.failed == error.RequestDenied
    archive.close()


def test_layer_spec_follows_the_files_metadata(tmp_path):
    path = make_mbtiles(tmp_path / "a.mbtiles", metadata={"bounds": "30.0,50.0,31.0,51.0", "minzoom": "10",
                                                          "maxzoom": "12"})
    with tiles.open_archive(path) as archive:
        spec = layer_spec(archive)
    assert spec["url"] == f"basemap://{archive.key}/{{z}}/{{x}}/{{y}}"
    assert (spec["minNativeZoom"], spec["maxNativeZoom"], spec["tileSize"], spec["zoomOffset"]) == (10, 12, 256, 0)
    assert spec["bounds"] == [[50.0, 30.0], [51.0, 31.0]]


def test_512_pixel_tiles_are_drawn_one_zoom_up(tmp_path):
    """A "retina" archive of 512 px tiles: Leaflet draws its zoom z at map zoom z + 1."""
    from tests.tile_archives import tile_bytes

    raw = {(0, 0, 0): tile_bytes(GREY, size=512), (1, 0, 0): tile_bytes(BEIGE, size=512)}
    with tiles.open_archive(make_mbtiles(tmp_path / "r.mbtiles", {}, marks=(), raw=raw)) as archive:
        spec = layer_spec(archive)
    assert (spec["tileSize"], spec["zoomOffset"], spec["minNativeZoom"], spec["maxNativeZoom"]) == (512, -1, 1, 2)


# -- the main window: menu, bad files, settings, saved views ---------------------------------------

def _messages(window) -> list[str]:
    shown: list[str] = []
    window.show_error = lambda title, text, detail="": shown.append(text)
    return shown


def test_bad_files_are_one_line_each_and_the_map_keeps_working(make_main_window, tmp_path):
    from mapviewer.dialogs.basemaps import add_basemap_files

    window = make_main_window()
    shown = _messages(window)
    good = make_mbtiles(tmp_path / "good.mbtiles")
    added = add_basemap_files(window, [make_not_sqlite(tmp_path / "notes.mbtiles"),
                                       make_vector_mbtiles(tmp_path / "vector.mbtiles"),
                                       tmp_path / "missing.pmtiles", good])
    assert added == 1
    assert [a.path.name for a in window.state.basemap_files] == ["good.mbtiles"]
    assert len(shown) == 3 and all("\n" not in m for m in shown)
    assert "not an SQLite file" in shown[0]
    assert "vector tile archive" in shown[1] and "Generate XYZ tiles (MBTiles)" in shown[1]
    assert "missing.pmtiles" in shown[2]
    assert [a.text() for a in window.remove_basemap_menu.actions()] == ["Test streets (good.mbtiles)"]


def test_a_file_removed_while_shown_is_reported_once_and_dropped(make_main_window, qtbot, tmp_path):
    window = make_main_window()
    shown = []
    window.map_view.basemap_failed.connect(shown.append)
    path = make_mbtiles(tmp_path / "gone.mbtiles")
    window.state.add_basemap_file(tiles.open_archive(path))
    view = window.map_view
    qtbot.waitUntil(lambda: view.page_ready, timeout=60000)
    qtbot.waitUntil(lambda: js(view, qtbot, "mapviewer.archives().length") == 1, timeout=20000)
    path.unlink()
    lon, lat = MARK_LONLAT
    window.state.request_view(lat, lon, MARK_ZOOM)  # new tiles are asked for
    qtbot.waitUntil(lambda: not window.state.basemap_files, timeout=30000)
    assert len(shown) == 1 and "removed while open" in shown[0] and "gone.mbtiles" in shown[0]
    qtbot.waitUntil(lambda: js(view, qtbot, "mapviewer.archives().length") == 0, timeout=20000)
    assert js(view, qtbot, "mapviewer.view()")[2] == MARK_ZOOM  # the map still answers


def test_archives_come_back_from_the_settings(make_main_window, monkeypatch, tmp_path):
    from mapviewer.mainwindow import MainWindow

    shown: list[str] = []
    monkeypatch.setattr(MainWindow, "show_error", lambda self, title, text, detail="": shown.append(text))
    path = make_mbtiles(tmp_path / "streets.mbtiles")
    first = make_main_window()
    first.state.add_basemap_file(tiles.open_archive(path))
    second = make_main_window()
    assert [a.path for a in second.state.basemap_files] == [path.resolve()]
    assert shown == []

    make_mbtiles(path.with_name("other.mbtiles"), name="Other").replace(path)  # the file is replaced
    third = make_main_window(show=False)
    assert [a.name for a in third.state.basemap_files] == ["Other"]  # shown as it is now...
    assert shown == [f"{path.resolve()}: the basemap file changed since it was added; it is shown as it is now"]

    path.unlink()
    make_main_window(show=False)
    assert shown[-1] == f"{path.resolve()}: basemap file not found"


def test_a_saved_view_reopens_its_archives(make_main_window, tmp_path):
    from mapviewer.files.views import load_view, save_view, view_from_state

    streets = make_mbtiles(tmp_path / "streets.mbtiles")
    city = make_pmtiles(tmp_path / "city.pmtiles", name="City")
    window = make_main_window()
    window.state.add_basemap_file(tiles.open_archive(streets))
    window.state.add_basemap_file(tiles.open_archive(city))
    view_file = tmp_path / "views" / "kyiv.json"
    view_file.parent.mkdir()
    save_view(view_file, view_from_state(window.state))
    saved = json.loads(view_file.read_text(encoding="utf-8"))["basemaps"]
    assert [b["path"] for b in saved] == ["../streets.mbtiles", "../city.pmtiles"]  # relative, as data paths
    assert all(b["fingerprint"] for b in saved)

    other = make_main_window()
    shown = _messages(other)
    other.state.add_basemap_file(tiles.open_archive(make_mbtiles(tmp_path / "unrelated.mbtiles")))
    assert other.open_view(str(view_file))
    assert [a.name for a in other.state.basemap_files] == ["Test streets", "City"]  # the view's, in order
    assert shown == []
    assert load_view(view_file).basemaps == tuple(
        (str(p.resolve()), b["fingerprint"]) for p, b in zip((streets, city), saved))


def test_a_changed_or_missing_archive_of_a_view_is_reported(make_main_window, tmp_path):
    from mapviewer.files.views import save_view, view_from_state

    streets = make_mbtiles(tmp_path / "streets.mbtiles")
    city = make_pmtiles(tmp_path / "city.pmtiles", name="City")
    window = make_main_window()
    window.state.add_basemap_file(tiles.open_archive(streets))
    window.state.add_basemap_file(tiles.open_archive(city))
    view_file = tmp_path / "kyiv.json"
    save_view(view_file, view_from_state(window.state))
    window.state.set_basemap_files([])

    city.unlink()
    make_mbtiles(tmp_path / "new.mbtiles", {(0, 0, 0): GREY}, marks=()).replace(streets)
    other = make_main_window()
    shown = _messages(other)
    assert other.open_view(str(view_file))
    assert [a.path for a in other.state.basemap_files] == [streets.resolve()]
    (message,) = shown
    lines = message.splitlines()
    assert lines == [f"{streets.resolve()}: the basemap file changed since the view was saved; it is shown as it is now",
                     f"{city.resolve()}: basemap file not found"]
