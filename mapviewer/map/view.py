"""The live map: the folium page in a QWebEngineView, fed from the app state.

The page is built once and loaded from a file URL. Filter and data changes push
the visible rows into the page in place (no reload: zoom and pan stay), through
``runJavaScript``; the page answers through a QWebChannel bridge that exposes
only the few slots it needs.
"""
from __future__ import annotations

import json
import logging
import math
import tempfile
import time
from pathlib import Path

from typing import TYPE_CHECKING

import numpy as np
import shiboken6
from PySide6.QtCore import QEvent, QObject, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QImage
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile, QWebEngineSettings, QWebEngineUrlScheme
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QApplication, QWidget

from geodata.errors import DataError
from geodata.memory import release_unused
from geodata.schema import MUNITION_CLASSES
from mapviewer.map import page as mappage
from mapviewer.map.framescheme import SCHEME, FrameSchemeHandler
from mapviewer.map.tileaccess import TileConsent, TileRequestFilter
from mapviewer.map.tilescheme import ArchiveLayers
from mapviewer.state import AppState

if TYPE_CHECKING:
    import geopandas as gpd

_log = logging.getLogger(__name__)

#: Popups show every field of at most this many selected rows (a big table
#: selection only needs highlighting, not details).
MAX_DETAILS = 50

#: Fill opacity of the most-targeted oblast in the attack-wave shading.
WAVE_MAX_OPACITY = 0.45


#: Longest address the page may ask the app to open (longer ones are refused, not cut).
MAX_URL_LENGTH = 8192

#: The page is rebuilt after its web process dies at most this many times in RESTART_WINDOW_S
#: (a page that kills its process every time is not restarted for ever).
MAX_RESTARTS, RESTART_WINDOW_S = 3, 120.0


def open_external(url: QUrl) -> bool:
    """Open an http(s) address in the system browser; anything else is refused."""
    if url.scheme() not in ("http", "https") or not url.isValid() or not url.host():
        return False
    return QDesktopServices.openUrl(url)


#: From this many rows a new frame leaves enough freed memory to be worth handing back (100 MB at a
#: million rows: the encoding's temporaries, the rows' copy served to the page, the panels' passes);
#: below, the trim (30 ms or more on a large heap) would cost each refresh of an open database's view
#: more than it gives. It runs once the page has drawn the frame, when all of that has been freed.
_RELEASE_ROWS = 100_000
_RELEASE_AFTER_MS = 300


def _finite(*values: object) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)


class _Bridge(QObject):
    """What the page may call. Nothing else is registered on the channel."""

    def __init__(self, view: MapView) -> None:
        super().__init__(view)
        self._view = view

    def event(self, event: QEvent) -> bool:
        # QWebChannel lets the page call deleteLater() on any object it sees; that would cut the
        # app off from the map. The bridge lives exactly as long as its view (its parent).
        if event.type() == QEvent.Type.DeferredDelete:
            return True
        return super().event(event)

    @Slot(list)
    def selectPositions(self, positions: list) -> None:  # noqa: N802 (called from JS)
        self._view._on_page_selected(positions)

    @Slot(float, float, float)
    def viewChanged(self, lat: float, lon: float, zoom: float) -> None:  # noqa: N802
        self._view._on_page_view_changed(lat, lon, zoom)

    @Slot(int)
    def incidentsDrawn(self, count: int) -> None:  # noqa: N802
        self._view._on_page_drawn(count)

    @Slot(str, bool)
    def setClassShown(self, munition_class: str, shown: bool) -> None:  # noqa: N802
        self._view._on_page_class_shown(munition_class, shown)

    @Slot(bool)
    def densityShown(self, shown: bool) -> None:  # noqa: N802
        self._view._on_page_density_shown(shown)

    @Slot(str)
    def openLink(self, url: str) -> None:  # noqa: N802
        if isinstance(url, str) and len(url) <= MAX_URL_LENGTH:
            open_external(QUrl(url, QUrl.ParsingMode.StrictMode))


class _MapPage(QWebEnginePage):
    """Never navigates away from the map; http(s) links go to the system browser."""

    def __init__(self, profile: QWebEngineProfile, parent: QObject) -> None:
        super().__init__(profile, parent)
        self.page_url = QUrl()
        self.console: list[str] = []

    def acceptNavigationRequest(self, url: QUrl, nav_type, is_main_frame: bool) -> bool:  # noqa: N802
        if url.scheme() == "file" and url.path() == self.page_url.path():
            return True
        if nav_type == QWebEnginePage.NavigationType.NavigationTypeLinkClicked:
            open_external(url)
        _log.info("map page: blocked navigation to %s", url.toString())
        return False

    def createWindow(self, _type):  # noqa: N802  (target=_blank, window.open)
        return None

    def javaScriptConsoleMessage(self, level, message: str, line: int, source: str) -> None:  # noqa: N802
        self.console.append(f"{source}:{line}: {message}")
        error = level == QWebEnginePage.JavaScriptConsoleMessageLevel.ErrorMessageLevel
        _log.log(logging.WARNING if error else logging.DEBUG, "map page console: %s:%s: %s", source, line, message)


class MapView(QWebEngineView):
    """The incident map. Follows ``state``; clicking a symbol calls ``state.set_selection``.

    Signals: ``incidents_drawn(int)`` after every incident-layer update with the
    number of events in the page; ``ready()`` once the page can take data;
    ``basemap_failed(str)`` when a basemap name cannot be used.
    """

    incidents_drawn = Signal(int)
    ready = Signal()
    basemap_failed = Signal(str)
    #: A line for the status bar: the page's web process died and the map is being rebuilt, or is back.
    recovery = Signal(str)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._ready = False
        self._drawn = -1
        self._fit_next = True
        self._push_pending = False
        self._pending_view: tuple[float, float, float] | None = None  # asked for before the page was ready
        self._release_view = False  # data were closed: the next data may be fitted again
        self._caption: str | None = None  # date caption last sent to the page
        self._classes_shown: list[str] = list(MUNITION_CLASSES)  # class boxes ticked in the page
        self._encoder: mappage.IncidentEncoder | None = None
        self._release_when_drawn = False  # a large new frame: hand freed memory back once it is drawn
        self._boundary: str | None = None  # GeoJSON of a user's boundary layer
        self._boundary_name = "Boundaries"
        self._legend_open = False  # True: the legend never folds (exports, screenshots)
        self._density_on = False  # the density layer is shown (set by the app or the page's layer box)
        # Off-the-record profile: no disk cache, cookies or storage, nothing to sync.
        self._profile = QWebEngineProfile(self)
        self._profile.setHttpCacheType(QWebEngineProfile.HttpCacheType.MemoryHttpCache)
        self._profile.setPersistentCookiesPolicy(QWebEngineProfile.PersistentCookiesPolicy.NoPersistentCookies)
        self._profile.setSpellCheckEnabled(False)
        if not QWebEngineUrlScheme.schemeByName(SCHEME.encode()).name():
            raise RuntimeError("mapviewer.map.tilescheme.register_scheme() must run before the QApplication exists")
        self._frames = FrameSchemeHandler(self)  # the opened files' rows, fetched by the page as binary
        self._profile.installUrlSchemeHandler(SCHEME.encode(), self._frames)
        self._page: _MapPage | None = _MapPage(self._profile, self)
        # Children are deleted in creation order and a page must die before its
        # profile: re-parenting moves the profile behind the page.
        self._profile.setParent(None)
        self._profile.setParent(self)
        settings = self._page.settings()
        # No network: turned on only while a tile basemap the person agreed to is shown, and then the
        # page's own request filter lets through images from that tile server only.
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, False)
        self._tile_filter = TileRequestFilter(self)
        self._page.setUrlRequestInterceptor(self._tile_filter)
        #: Answers about tile servers (the main window gives it the user's settings and a question box).
        self.tile_consent = TileConsent()
        self._basemap: dict = {"id": "offline"}  # the basemap spec the page shows (or will, once ready)
        self._asking: str | None = None  # the basemap whose tile server the person is being asked about
        settings.setAttribute(QWebEngineSettings.WebAttribute.JavascriptCanOpenWindows, False)
        settings.setAttribute(QWebEngineSettings.WebAttribute.PluginsEnabled, False)
        settings.setAttribute(QWebEngineSettings.WebAttribute.DnsPrefetchEnabled, False)
        self.setPage(self._page)

        self._channel = QWebChannel(self._page)
        self._bridge = _Bridge(self)
        self._channel.registerObject("bridge", self._bridge)
        self._page.setWebChannel(self._channel)

        self._dir = tempfile.TemporaryDirectory(prefix="mapviewer-page-")
        path = mappage.write_page(Path(self._dir.name) / "map.html")
        self._page.page_url = QUrl.fromLocalFile(str(path))
        self.loadFinished.connect(self._on_load_finished)
        self._page.renderProcessTerminated.connect(self._on_render_process_terminated)
        self._restarts: list[float] = []  # when the page was rebuilt after its process died
        self._recovering = False

        state.data_changed.connect(self._on_data_changed)
        state.filter_changed.connect(self._schedule_push)
        state.selection_changed.connect(self._on_selection_changed)
        state.zoom_to_selection_requested.connect(self._on_zoom_to_selection)
        state.basemap_changed.connect(self._on_basemap_changed)
        state.view_requested.connect(self._on_view_requested)
        state.waves_changed.connect(self._push_waves)
        state.database_changed.connect(self._push_cells)
        self._cells_shown: object = None  # the open database's cells the page shows (None: none)
        #: Tile archives the person added (File > Add basemap file...), served through basemap:// URLs.
        self.archive_layers = ArchiveLayers(self, state)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.release)
        # Loaded from the event loop, so a caller can still install an interceptor on the profile.
        QTimer.singleShot(0, self._load)

    # -- public ---------------------------------------------------------------------------
    @property
    def page_ready(self) -> bool:
        """True once the page has loaded and can take incidents."""
        return self._ready

    @property
    def drawn_count(self) -> int:
        """Events in the page after the last update (-1 before the first)."""
        return self._drawn

    @property
    def profile(self) -> QWebEngineProfile:
        return self._profile

    def run_js(self, script: str, callback=None) -> None:
        """Run ``script`` in the page (for the app's own calls and tests)."""
        if self._page is None or not shiboken6.isValid(self._page):  # gone with its window
            return
        if callback is None:
            self._page.runJavaScript(script, 0)
        else:
            self._page.runJavaScript(script, 0, callback)

    @property
    def legend_open(self) -> bool:
        """True while the legend is kept unfolded whatever the map's size (see :meth:`set_legend_open`)."""
        return self._legend_open

    def set_legend_open(self, on: bool) -> None:
        """Keep the legend unfolded (exports, screenshots: a picture must explain itself), or let it fold again.

        While off, the legend folds on a small map and follows the person's clicks on its title.
        """
        self._legend_open = bool(on)
        if self._ready:
            self.run_js(f"mapviewer.setLegendOpen({json.dumps(self._legend_open)});")

    def set_density(self, on: bool) -> None:
        """Show or hide the density (heatmap) layer."""
        self._density_on = bool(on)
        self.run_js(f"mapviewer.setDensity({json.dumps(bool(on))})")

    def set_class_visible(self, munition_class: str, visible: bool) -> None:
        """Tick or untick one munition class's box in the layer control, as a person would.

        In the app that sets ``munition_classes`` on the state's filter (through the page).
        """
        self.run_js(f"mapviewer.setClassVisible({json.dumps(munition_class)}, {json.dumps(bool(visible))})")

    def set_boundary_layer(self, layer: gpd.GeoDataFrame | None, name: str = "Boundaries") -> None:
        """Show a user's boundary polygons (e.g. from ``geodata.basemap.load_boundary_layer``) as outlines.

        ``None`` removes it. The layer is simplified for display and listed in the layer control.
        """
        if layer is None or not len(layer):
            self._boundary = None
        else:
            shown = layer.to_crs("EPSG:4326")
            shown = shown.set_geometry(shown.geometry.simplify(0.002, preserve_topology=True))
            label = next((c for c in ("name", "shapeName", "NAME_1", "name_en") if c in shown.columns), None)
            columns = ([label] if label else []) + [shown.geometry.name]
            self._boundary = (shown[columns].rename(columns={label: "name"}) if label else shown[columns]).to_json()
            self._boundary_name = name
        self._push_boundary()

    def _push_boundary(self) -> None:
        if not self._ready:
            return
        data = "null" if self._boundary is None else self._boundary.replace("<", "\\u003c")
        self.run_js(f"mapviewer.setBoundaryLayer({data}, {mappage.json_for_script(self._boundary_name)});")

    def picture(self, width: int | None = None, height: int | None = None, scale: int = 1) -> QImage:
        """The map as an image, legend unfolded: ``width`` x ``height`` screen pixels (default: as on
        screen, the same area) times ``scale``. Raises DataError when the page cannot draw it."""
        from mapviewer.map.grab import picture

        return picture(self, width, height, scale)

    def release(self) -> None:
        """Delete the page now (before its profile and the application go)."""
        if self._page is None:
            return
        page, self._page = self._page, None
        self._ready = False
        page.deleteLater()
        if shiboken6.isValid(page):
            shiboken6.delete(page)

    # -- page lifecycle -------------------------------------------------------------------
    def _load(self) -> None:
        if self._page is not None:
            self._page.load(self._page.page_url)

    def _on_load_finished(self, ok: bool) -> None:
        if not ok:
            _log.error("map page failed to load: %s", self._page.page_url.toString() if self._page else "")
            return
        self.run_js("typeof mapviewer === 'object' && mapviewer.ready === true", self._on_page_checked)

    def _on_page_checked(self, is_ready) -> None:
        if not is_ready:
            console = "; ".join(self._page.console[-3:]) if self._page else ""
            _log.error("map page loaded but its script did not start: %s", console)
            return
        self._ready = True
        if self._basemap["id"] != "offline":  # agreed to before the page was ready
            self.run_js(f"mapviewer.setBasemap({mappage.json_for_script(self._basemap)});")
        elif self._state.basemap not in ("", "offline") and self._asking != self._state.basemap:
            self._on_basemap_changed(self._state.basemap)
        if self._boundary is not None:
            self._push_boundary()
        if self._legend_open:
            self.set_legend_open(True)
        self._push_incidents()
        if self._density_on:  # a rebuilt page: the layer the person had ticked
            self.set_density(True)
        if self._pending_view is not None:  # after the data push, so it is not fitted away
            self._on_view_requested(*self._pending_view)
        self._push_waves()
        self._cells_shown = None  # a new page shows none yet
        self._push_cells()
        self._on_selection_changed()
        self.ready.emit()
        if self._recovering:
            self._recovering = False
            self.recovery.emit("The map was rebuilt after its web process stopped: "
                               "the data, filters, selection and view are back")

    def _on_render_process_terminated(self, status, exit_code: int) -> None:
        """The page's web process died (crashed, killed, out of memory): load the page again; the
        ready page gets back the data, filters, selection, basemap, density layer and the view the person had."""
        if self._page is None:  # released: the app is closing
            return
        self._ready = False  # exports wait for the new page (see grab.picture)
        self._drawn = -1
        now = time.monotonic()
        self._restarts = [t for t in self._restarts if now - t < RESTART_WINDOW_S] + [now]
        why = {QWebEnginePage.RenderProcessTerminationStatus.CrashedTerminationStatus: "it crashed",
               QWebEnginePage.RenderProcessTerminationStatus.KilledTerminationStatus: "it was killed"}.get(
                   status, f"exit status {exit_code}")
        _log.warning("map page: web process stopped (%s)", why)
        if len(self._restarts) > MAX_RESTARTS:
            self.recovery.emit(f"The map's web process stopped again ({why}); the map is not rebuilt any more. "
                               "Save the view (File menu) and restart the app")
            return
        # The new page starts empty: every row, the class boxes and the caption go to it again.
        self._encoder = None
        self._caption = None
        self._classes_shown = list(MUNITION_CLASSES)
        if self._state.view is not None:
            self._pending_view = self._state.view  # where the person was, over the fit to the data
        self._recovering = True
        self.recovery.emit(f"The map's web process stopped ({why}); rebuilding the map...")
        QTimer.singleShot(0, self._load)

    # -- state -> page ----------------------------------------------------------------------
    def _on_data_changed(self) -> None:
        if getattr(self._state, "refreshing", False):  # an open database's rows for the view: stay there
            self._schedule_push()
            return
        self._fit_next = True
        if not len(self._state.frame):
            self._release_view = True
        self._schedule_push()

    def _push_cells(self) -> None:
        """Draw the open database's grid of counts (over the point limit), or take it away."""
        database = getattr(self._state, "database", None)
        cells = getattr(database, "cells", None)
        if not self._ready or cells is self._cells_shown:
            return
        from mapviewer.files.database import cells_payload

        payload = cells_payload(cells, fit=self._fit_next)
        if payload is not None and self._fit_next and len(cells):
            self._fit_next = False  # the data were fitted, as cells: points arriving later keep the view
        self._cells_shown = cells
        self.run_js(f"mapviewer.setCells({mappage.json_for_script(payload)});")

    def _schedule_push(self) -> None:
        # data_changed and filter_changed arrive together: one push for both.
        if not self._push_pending:
            self._push_pending = True
            QTimer.singleShot(0, self._push_incidents)

    def _push_incidents(self) -> None:
        self._push_pending = False
        if not self._ready:
            return
        frame, mask = self._state.frame, self._state.mask
        if len(mask) != len(frame):
            mask = np.ones(len(frame), dtype=bool)
        script = ""
        new_frame = self._encoder is None or self._encoder.frame is not frame
        if new_frame:
            # A new frame: its rows go to the page once; filter changes then send only a mask.
            self._encoder = mappage.IncidentEncoder(frame)
            meta, data = self._encoder.binary()
            script = f"mapviewer.loadFrame({json.dumps(meta)}, {json.dumps(self._frames.offer(data))});"
            del data
        if self._release_view:  # files were closed: new data are fitted again
            self._release_view = False
            script = "mapviewer.releaseView();" + script
        shown = _classes_shown(self._state.filter)
        if shown != self._classes_shown:  # before the mask, so the boxes and the rows agree
            self._classes_shown = shown
            script += f"mapviewer.setClassesShown({json.dumps(shown)});"
        fit = self._fit_next and bool(mask.any())
        if fit:
            self._fit_next = False
        self.run_js(script + f"mapviewer.setMask({json.dumps(self._encoder.mask_payload(mask, fit=fit))});")
        if new_frame and len(frame) >= _RELEASE_ROWS:
            self._release_when_drawn = True
        caption = mappage.date_caption(self._state.filter)
        if caption != self._caption:
            self._caption = caption
            self.run_js(f"mapviewer.setCaption({mappage.json_for_script(caption)});")
        if self._state.waves is not None:
            self._push_waves()

    def _push_waves(self) -> None:
        """Shade the oblasts by the launches the filtered attack waves aimed at them."""
        if not self._ready:
            return
        waves = self._state.waves
        if waves is None:
            self.run_js("mapviewer.setWaveTargets(null);")
            return
        from mapviewer.map.waveshading import unplaced_note, wave_shading

        # Lighter than the default: the shading uses the impact colour, and impact symbols must stay readable on it.
        shading = wave_shading(waves, self._state.filter, max_opacity=WAVE_MAX_OPACITY)
        note = unplaced_note(waves, self._state.filter)
        self.run_js(f"mapviewer.setWaveTargets({mappage.json_for_script(shading)}, {mappage.json_for_script(note)});")

    def _on_selection_changed(self) -> None:
        if not self._ready:
            return
        selection = self._state.selection
        # a strike lists its reports (AppState.reports_of; None for a report on its own)
        details = mappage.record_details(self._state.frame, selection[:MAX_DETAILS], reports=self._state.reports_of)
        script = (f"mapviewer.setSelection({json.dumps([int(p) for p in selection])}, "
                  f"{mappage.json_for_script(details)});")
        self.run_js(script)

    def _on_zoom_to_selection(self) -> None:
        self.run_js("mapviewer.zoomToSelection();")

    def _on_view_requested(self, lat: float, lon: float, zoom: float) -> None:
        # The page keeps this view over the fit to data that arrive later (a saved view opens
        # its files in the background), until the person moves the map.
        self._release_view = False
        if not self._ready:
            self._pending_view = (float(lat), float(lon), float(zoom))
            return
        self._pending_view = None
        self.run_js(f"mapviewer.setView({float(lat)!r}, {float(lon)!r}, {float(zoom)!r});")

    @property
    def shown_basemap(self) -> str:
        """The basemap the map shows: the state's, once its tile server (if any) is agreed to; else "offline"."""
        return self._basemap["id"]

    def choose_basemap(self, name: str) -> None:
        """The person picked basemap ``name`` (View menu): that is their agreement to its tile server."""
        try:
            host = mappage.tile_host(mappage.basemap_spec(name))
        except DataError:
            host = None  # the state change below reports it
        if host is not None:
            self.tile_consent.remember(host, True)
        if name == self._state.basemap:
            self._on_basemap_changed(name)
        else:
            self._state.set_basemap(name)

    def _on_basemap_changed(self, name: str) -> None:
        try:
            spec = mappage.basemap_spec(name)
        except DataError as exc:
            self.basemap_failed.emit(str(exc))
            return
        host = mappage.tile_host(spec)
        if host is None:
            self._show_basemap(spec, None)
            return
        self._asking = name
        self.tile_consent.request(host, name, lambda allowed, how: self._on_tile_answer(name, spec, host, allowed, how))

    def _on_tile_answer(self, name: str, spec: dict, host: str, allowed: bool, how: str) -> None:
        if self._asking == name:
            self._asking = None
        if name != self._state.basemap:  # another basemap was chosen meanwhile
            return
        if allowed:
            self._show_basemap(spec, host)
            return
        self._show_basemap({"id": "offline"}, None)
        # The menu says what the map shows: once every listener has seen the basemap asked for.
        QTimer.singleShot(0, lambda: self._state.basemap == name and self._state.set_basemap("offline"))
        why = {"remembered": "is one you chose not to contact (choosing the basemap in View > Basemap allows it)",
               "unasked": "is contacted only once you agree, and there was no one to ask"}.get(how)
        if why:
            self.basemap_failed.emit(f"The basemap {name!r} was not loaded: its tile server {host} {why}. "
                                     "The offline basemap is shown.")

    def _show_basemap(self, spec: dict, host: str | None) -> None:
        self._tile_filter.host = host
        if self._page is not None:
            self._page.settings().setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls,
                                               host is not None)
        changed = spec != self._basemap
        self._basemap = spec
        if self._ready and changed:
            self.run_js(f"mapviewer.setBasemap({mappage.json_for_script(spec)});")

    # -- page -> state (through the bridge) -------------------------------------------------
    # The page is not trusted: arguments are checked (types, ranges, sizes) and bad calls ignored.
    def _on_page_selected(self, positions: list) -> None:
        n = len(self._state.frame)
        if not isinstance(positions, list) or len(positions) > n:
            return
        if not all(_finite(p) and p == int(p) and 0 <= p < n for p in positions):
            return
        self._state.set_selection([int(p) for p in positions])

    def _on_page_view_changed(self, lat: float, lon: float, zoom: float) -> None:
        if _finite(lat, lon, zoom) and -90 <= lat <= 90 and abs(lon) <= 1e4 and 0 <= zoom <= mappage.MAX_ZOOM:
            self._state.set_view_from_map(float(lat), float(lon), float(zoom))

    def _on_page_density_shown(self, shown: bool) -> None:
        if isinstance(shown, bool):
            self._density_on = shown

    def _on_page_class_shown(self, munition_class: str, shown: bool) -> None:
        # A class box in the layer control is one more way to set the one filter.
        if not isinstance(munition_class, str) or munition_class not in MUNITION_CLASSES or not isinstance(shown, bool):
            return
        current = self._state.filter
        classes = set(MUNITION_CLASSES if current.munition_classes is None else current.munition_classes)
        munitions = current.munitions
        if shown:
            classes.add(munition_class)
            if munitions is not None:  # a ticked class shows its events, also those its munitions left out
                munitions = munitions | {munition_class}
        else:
            classes.discard(munition_class)
        self._state.set_filter(current.replace(
            munitions=munitions, munition_classes=None if classes >= set(MUNITION_CLASSES) else frozenset(classes)))

    def _on_page_drawn(self, count: int) -> None:
        if not _finite(count) or count < 0:
            return
        self._drawn = int(count)
        if self._release_when_drawn:
            self._release_when_drawn = False
            QTimer.singleShot(_RELEASE_AFTER_MS, self, release_unused)  # the served rows' buffers go too
        self.incidents_drawn.emit(self._drawn)


def _classes_shown(filter_state) -> list[str]:
    """The munition classes whose layer box is ticked under ``filter_state``, in fixed order."""
    wanted = filter_state.munition_classes
    return [c for c in MUNITION_CLASSES if wanted is None or c in wanted]
