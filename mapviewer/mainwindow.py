"""The main window: map in the middle, filters, table, summary and timeline around it."""
from __future__ import annotations

import os
from functools import partial

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QToolBar,
    QWidget,
)

from geodata import FilterState, read_incidents
from geodata.db.connect import is_uri as _is_uri
from geodata.text import visible_text
from geodata.readers.preview import needs_mapping
from geodata.waves import WavesResult
from mapviewer.files import loader as _loader
from mapviewer.dialogs.basemaps import install_basemap_menu
from mapviewer.dialogs.database import install_database_menu
from mapviewer.dialogs.export import install_export_menu
from mapviewer.panels.matches import install_matching
from mapviewer.panels.filters import FilterPanel
from mapviewer.files.loader import Loader
from mapviewer.map.tileaccess import TileConsent, ask_tile_server
from mapviewer.map.view import MapView
from mapviewer.dialogs.report import ReportDialog, warning_box
from mapviewer.panels.summary import SummaryPanel
from mapviewer.panels.table import IncidentTable
from mapviewer.panels.timeline import TimelinePanel
from mapviewer.panels.waves import WavesPanel

ORGANISATION = "strike-mapviewer"
APPLICATION = "mapviewer"

OFFLINE_BASEMAP = "offline"
#: Online tile providers offered in the View menu (xyzservices names; none needs a key).
ONLINE_PROVIDERS: tuple[str, ...] = (
    "OpenStreetMap.Mapnik",
    "OpenTopoMap",
    "Esri.WorldImagery",
    "Esri.WorldTopoMap",
)
#: File > Open: every format the readers take (a zip holds a shapefile), and saved views.
OPEN_FILTER = ";;".join([
    "Incident files and saved views (*.csv *.tsv *.txt *.xlsx *.geojson *.json *.gpkg *.shp *.zip)",
    "Delimited text (*.csv *.tsv *.txt)",
    "Excel workbooks (*.xlsx)",
    "GeoJSON (*.geojson *.json)",
    "GeoPackage (*.gpkg)",
    "Shapefiles (*.shp *.zip)",
    "Saved views (*.json)",
    "All files (*)",
])


ALL_EVENTS_KEY = "include_non_strike_events"

#: Saved dock layouts of another version are not restored: this version's default applies.
LAYOUT_VERSION = 2
#: On a screen with fewer available pixels than this the window opens maximised.
MAXIMISE_BELOW = QSize(2000, 1250)
#: From this window height the filters stay in view above the other panels' tabs.
TALL_WINDOW = 950
#: Width of the panel column, as a share of the window's width, and its bounds in pixels.
PANEL_SHARE, PANEL_MIN_WIDTH, PANEL_MAX_WIDTH = 0.2, 280, 420
#: Height of the timeline under the map in the default layout (small windows, tall windows).
TIMELINE_HEIGHT, TIMELINE_HEIGHT_TALL = 150, 190


def default_settings() -> QSettings:
    """The user's settings store (tests pass their own)."""
    return QSettings(ORGANISATION, APPLICATION)


def start_size(available: QSize | None) -> QSize:
    """The window's size before it is first shown: most of the ``available`` screen, at most 1800 x 1100."""
    if available is None or available.isEmpty():
        return QSize(1400, 900)
    return QSize(min(1800, available.width() * 9 // 10), min(1100, available.height() * 9 // 10))


def _menu_text(text: str) -> str:
    """``text`` for a menu entry: '&' would otherwise mark a shortcut letter and vanish; control and
    direction characters (file names are data) are shown escaped."""
    return visible_text(text).replace("&", "&&")


def is_tile_template(text: str) -> bool:
    """True for an XYZ tile URL template such as ``http://tiles.local/{z}/{x}/{y}.png``."""
    text = text.strip()
    return (text.startswith(("http://", "https://", "file://"))
            and all(part in text for part in ("{z}", "{x}", "{y}")))


class MainWindow(QMainWindow):
    """One window over one :class:`~mapviewer.state.AppState`.

    Public parts other code uses: ``state``, ``map_view``, ``filter_panel``,
    ``table``, ``summary``, ``timeline``, ``waves_panel``, ``loader``, ``file_menu``,
    ``view_menu``, ``toolbar``, ``figure_title``, ``figure_page``, :meth:`open_files`,
    :meth:`open_view`, :meth:`close_file`, :meth:`close_all`, :meth:`show_report`.
    """

    #: A file could not be read (path, one-line message); the app keeps what it had.
    load_failed = Signal(str, str)

    def __init__(self, state, settings: QSettings | None = None, parent: QWidget | None = None,
                 *, restore: bool = True) -> None:
        super().__init__(parent)
        self.state = state
        self.settings = settings if settings is not None else default_settings()
        self.show_messages = True  # False in --screenshot runs: failures are reported, not shown
        self.report_dialog: ReportDialog | None = None
        self.mapping_dialog = None  # the column mapping dialog last shown
        self.message_box = None
        self.setWindowTitle("Strike map viewer")
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)

        self.loader = Loader(self, parent=self)
        self.loader.loaded.connect(self._on_loaded)
        self.loader.failed.connect(self._on_load_failed)

        self.map_view = self._make_map()
        # Files dropped on the map open in the app: the web view and its render widget must not
        # take the drop (it would navigate the page to the file).
        self.map_view.setAcceptDrops(False)
        self.map_view.installEventFilter(self)
        self.timeline = TimelinePanel(state)
        self.map_splitter = QSplitter(Qt.Orientation.Vertical)
        self.map_splitter.setObjectName("map_splitter")
        self.map_splitter.addWidget(self.map_view)
        self.map_splitter.addWidget(self.timeline)
        self.map_splitter.setStretchFactor(0, 1)
        self.map_splitter.setStretchFactor(1, 0)
        self.map_splitter.setCollapsible(0, False)
        self.setCentralWidget(self.map_splitter)
        self.statusBar()  # made now, so the first message does not shrink the map

        self.filter_panel = FilterPanel(state)
        self.table = IncidentTable(state)
        self.summary = SummaryPanel(state)
        # One column of panels beside the map, folded into tabs (see _apply_default_layout).
        self.filter_dock = self._dock("Filters", "filters_dock", self.filter_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.summary_dock = self._dock("Summary", "summary_dock", self.summary, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.table_dock = self._dock("Events", "table_dock", self.table, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.waves_panel = WavesPanel(state)
        self.waves_dock = self._dock("Attack waves", "waves_dock", self.waves_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setTabPosition(Qt.DockWidgetArea.AllDockWidgetAreas, QTabWidget.TabPosition.North)
        self._presentation: tuple | None = None  # what presentation mode hid, to put back
        self._geometry_restored = False

        # A file dropped on a text field would become its text: files dropped anywhere open in the app.
        for edit in self.findChildren(QLineEdit):
            edit.setAcceptDrops(False)
        self._build_menus()
        install_basemap_menu(self, restore=restore)  # File > Add basemap file...; remembered archives come back
        install_matching(self)  # the Matches panel and View > Count each strike once
        install_database_menu(self)  # File > Open Database...; self.database
        state.data_changed.connect(self._on_data_changed)
        state.waves_changed.connect(self._on_data_changed)
        state.basemap_changed.connect(self._on_basemap_changed)
        self.map_view.recovery.connect(lambda text: self.statusBar().showMessage(text, 15000))
        self.resize(start_size(self.screen().availableGeometry().size() if self.screen() else None))
        self._apply_default_layout()
        if restore:
            self._restore_settings()
        self._on_data_changed()

    # The figure title and page live in the state: a saved view stores and restores them.
    @property
    def figure_title(self) -> str:
        """Last given in Export figure (or by a saved view); also titles HTML exports."""
        return self.state.figure_title

    @figure_title.setter
    def figure_title(self, title: str) -> None:
        self.state.figure_title = title or ""

    @property
    def figure_page(self) -> str | None:
        """The figure's page preset a saved view gave (None: the dialog's default)."""
        return self.state.figure_page

    @figure_page.setter
    def figure_page(self, page: str | None) -> None:
        self.state.figure_page = page or None

    # -- construction -------------------------------------------------------
    def _make_map(self) -> MapView:
        view = MapView(self.state)
        # A tile server named by a saved view or old settings is asked about (not in --screenshot runs).
        view.tile_consent = TileConsent(self.settings, ask=lambda host, label, done: self.show_messages
                                        and ask_tile_server(self, host, label, done))
        view.basemap_failed.connect(lambda message: self.show_error("Basemap", message))
        return view

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)  # saveState needs a name per dock
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = bar.addMenu("&File")
        self.open_action = QAction("&Open...", self)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.setToolTip("Open incident files (CSV, Excel, GeoJSON, GeoPackage, ...) or a saved view")
        self.open_action.triggered.connect(self._on_open)
        self.file_menu.addAction(self.open_action)
        self.open_mapped_action = QAction("Open with column &mapping...", self)
        self.open_mapped_action.setToolTip("Open a file whose columns have other names: choose which column holds what")
        self.open_mapped_action.triggered.connect(self._on_open_mapped)
        self.file_menu.addAction(self.open_mapped_action)
        self.recent_menu = QMenu("Open &Recent", self)
        self.file_menu.addMenu(self.recent_menu)
        self.close_menu = QMenu("&Close File", self)  # one entry per open file: events or attack waves
        self.close_menu.setToolTipsVisible(True)
        self.file_menu.addMenu(self.close_menu)
        self.all_events_action = QAction("Include &non-strike events", self, checkable=True)
        self.all_events_action.setToolTip("Files opened from now on keep the rows a source marks as not strike-like "
                                          "(CIR monitor: military movements, ...); otherwise they are listed in the "
                                          "load report")
        self.all_events_action.setChecked(self.settings.value(ALL_EVENTS_KEY, False, type=bool))
        self.all_events_action.toggled.connect(lambda on: self.settings.setValue(ALL_EVENTS_KEY, on))
        self.file_menu.addAction(self.all_events_action)
        self.close_all_action = QAction("Close &All", self)
        self.close_all_action.setToolTip("Close every open file (events and attack waves)")
        self.close_all_action.triggered.connect(self.close_all)
        self.file_menu.addAction(self.close_all_action)
        self.report_action = QAction("Load &report...", self)
        self.report_action.setToolTip("Rows read, loaded and rejected, and every problem found")
        self.report_action.triggered.connect(lambda: self.show_report())
        self.file_menu.addAction(self.report_action)
        self.file_menu.addSeparator()
        install_export_menu(self)
        self.file_menu.addSeparator()
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.close)
        self.file_menu.addAction(self.quit_action)
        self._rebuild_recent_menu()

        self.view_menu = bar.addMenu("&View")
        basemap_menu = self.view_menu.addMenu("&Basemap")
        self.basemap_group = QActionGroup(self)
        self.basemap_actions: dict[str, QAction] = {}
        for name, label in [(OFFLINE_BASEMAP, "Offline: borders and oblasts (no network)")] + [
            (p, f"Online: {p}") for p in ONLINE_PROVIDERS
        ]:
            action = QAction(label, self, checkable=True)
            action.triggered.connect(lambda _=False, n=name: self.map_view.choose_basemap(n))
            self.basemap_group.addAction(action)
            basemap_menu.addAction(action)
            self.basemap_actions[name] = action
        basemap_menu.addSeparator()
        self.custom_tiles_action = QAction("Custom tile URL...", self, checkable=True)
        self.custom_tiles_action.setToolTip("A tile server template, e.g. http://tiles.local/{z}/{x}/{y}.png")
        self.custom_tiles_action.triggered.connect(self._on_custom_tiles)
        self.basemap_group.addAction(self.custom_tiles_action)
        basemap_menu.addAction(self.custom_tiles_action)
        self.boundary_action = QAction("Load boundary layer...", self)
        self.boundary_action.setToolTip("Show an administrative boundary file (GeoPackage, GeoJSON, Shapefile) on the map")
        self.boundary_action.triggered.connect(self._on_load_boundary)
        self.view_menu.addAction(self.boundary_action)
        self.view_menu.addSeparator()
        self.zoom_action = self.table.zoom_action
        self.view_menu.addAction(self.zoom_action)
        self.view_menu.addSeparator()
        for dock in (self.filter_dock, self.table_dock, self.summary_dock, self.waves_dock):
            self.view_menu.addAction(dock.toggleViewAction())
        self.reset_layout_action = QAction("Reset &layout", self)
        self.reset_layout_action.setToolTip("Panels back to one column of tabs beside the map, at the default sizes")
        self.reset_layout_action.triggered.connect(self.reset_layout)
        self.view_menu.addAction(self.reset_layout_action)
        self.view_menu.addSeparator()
        self.presentation_action = QAction("&Presentation mode", self, checkable=True)
        keys = [QKeySequence(Qt.Key.Key_F11)] + QKeySequence.keyBindings(QKeySequence.StandardKey.FullScreen)
        self.presentation_action.setShortcuts(list(dict.fromkeys(keys)))
        self.presentation_action.setToolTip("The map full screen with its title, legend and date caption only "
                                            "(F11 or Esc leaves)")
        self.presentation_action.toggled.connect(self.set_presenting)
        self.view_menu.addAction(self.presentation_action)
        self.addAction(self.presentation_action)  # F11 works while the menu bar is hidden
        self.leave_presentation = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        self.leave_presentation.setEnabled(False)
        self.leave_presentation.activated.connect(lambda: self.set_presenting(False))
        self._check_basemap_action(self.state.basemap)

        self.toolbar = self.addToolBar("Main")
        self.toolbar.setObjectName("main_toolbar")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.toolbar.addAction(self.open_action)
        self.toolbar.addAction(self.report_action)
        self.toolbar.addAction(self.zoom_action)

        # Shown in presentation mode only: the title above the full-screen map.
        self.addToolBarBreak()
        self.title_bar = QToolBar("Title")
        self.title_bar.setObjectName("title_bar")
        self.title_bar.setMovable(False)
        self.title_label = QLabel()
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)  # a saved view's title is data, never markup
        self.title_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.title_label.setStyleSheet("font-size: 20px; font-weight: bold; padding: 4px;")
        self.title_bar.addWidget(self.title_label)
        self.title_bar.toggleViewAction().setVisible(False)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.title_bar)
        self.title_bar.hide()

    # -- opening files ------------------------------------------------------
    def open_files(self, paths, reader=None) -> None:
        """Open data files and saved views; files already open or being read are skipped.

        A saved view is applied first: its files replace the open ones, and it
        sets filter, basemap, map view and figure title. Data files given with it
        are then added. Data files are read in the background (with ``reader``,
        default the loader's) and added to the state as they arrive.
        """
        paths = list(map(os.fspath, paths))
        for uri in dict.fromkeys(p for p in paths if _is_uri(p)):  # a database: read by self.database
            self.database.open(uri)
        paths = [os.path.abspath(p) for p in paths if not _is_uri(p)]
        views = [p for p in paths if reader is None and _loader.is_view_file(p)]
        for path in dict.fromkeys(views):
            self.open_view(path)
        opened = {d.path for d in self.state.all_datasets} | set(self.loader.pending)
        fresh = []
        for path in paths:
            if path in views:
                continue
            if path in opened or path in fresh:
                self.statusBar().showMessage(f"{path} is already open", 5000)
            else:
                fresh.append(path)
        if reader is None and self.all_events_action.isChecked():
            reader = partial(_loader.read_data_file, all_events=True)
        self.loader.open_files(fresh, reader=reader)

    def open_view(self, path: str) -> bool:
        """Apply the saved view ``path`` (its files, filter, basemap and map view); False with a message on failure."""
        from mapviewer.files.views import apply_view, load_view

        try:
            apply_view(self, load_view(path))
        except Exception as exc:  # noqa: BLE001 - a bad view file is a message, not a crash
            self.show_error("Cannot open saved view", _loader.error_message(path, exc))
            return False
        self.statusBar().showMessage(f"Opened view {path}", 5000)
        return True

    def _start_folder(self) -> str:
        """Where file dialogs start: the folder of the last file opened."""
        files = _loader.recent_files(self.settings)
        return os.path.dirname(files[0]) if files else ""

    def _on_open(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Open incident files or a saved view",
                                                self._start_folder(), OPEN_FILTER)
        if paths:
            self.open_files(paths)

    def close_file(self, path: str) -> bool:
        """Close the open file ``path`` (events or an attack-waves report); False when it is not open."""
        if not self.state.close_dataset(path):
            return False
        self.statusBar().showMessage(f"Closed {path}", 5000)
        return True

    def close_all(self) -> None:
        """Close every open file, stop reading queued ones, and clear the filter."""
        if self.loader.busy:
            self.loader.cancel()
        self.state.clear()
        self.state.set_filter(FilterState(tz=self.state.filter.tz))
        self.statusBar().showMessage("Closed all files", 5000)

    def _replace_sample(self, path: str) -> str:
        """Close the shipped sample when it is all that is open and the user's ``path`` arrives.

        Returns words for the status bar ("" when nothing was closed). The filter
        starts afresh: one set on the sample means nothing for the user's data.
        """
        open_paths = [d.path for d in self.state.all_datasets]
        if not open_paths or _loader.is_sample_file(path) or not all(map(_loader.is_sample_file, open_paths)):
            return ""
        self.state.clear()
        self.state.set_filter(FilterState(tz=self.state.filter.tz))
        return "; the synthetic sample data were closed (your file replaces them)"

    def _on_loaded(self, path: str, result) -> None:
        try:
            replaced = self._replace_sample(path)
            if isinstance(result, WavesResult):  # an attack-waves report: the funnel panel shows it
                self.state.add_waves(path, result.frame, result.report)
                self.waves_dock.show()
                if not _loader.is_sample_file(path):  # the sample does not hide the filters
                    self.waves_dock.raise_()
            else:
                self.state.add_dataset(path, result.frame, result.report)
        except Exception as exc:  # noqa: BLE001 - data the app cannot show are a message, never a dead end
            self.show_error("Cannot open file", _loader.error_message(path, exc))
            return
        _loader.add_recent_file(self.settings, path)
        self._rebuild_recent_menu()
        report = result.report
        self.statusBar().showMessage(visible_text(
            f"{os.path.basename(path)}: {report.rows_loaded:,} rows loaded, {report.rows_rejected:,} rejected{replaced}"),
            10000)
        if report.rows_rejected and self.show_messages:
            self.show_report([report])

    def _on_load_failed(self, path: str, message: str) -> None:
        self.load_failed.emit(path, message)
        if self.show_messages and needs_mapping(self.loader.last_error):
            # the columns have other names: let the person say which column holds what
            self.statusBar().showMessage(visible_text(message), 10000)
            if self.open_with_mapping(path) is not None:
                return
        self.show_error("Cannot open file", message, "The data already open are unchanged.")

    def _on_open_mapped(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open with column mapping", self._start_folder(), OPEN_FILTER)
        if path:
            self.open_with_mapping(path)

    def open_with_mapping(self, path: str):
        """Show the column mapping dialog for ``path`` (non-blocking); Open reads it with those columns.

        Returns the dialog, or None (with a message) when the file cannot be previewed.
        """
        from mapviewer.dialogs.mapping import ColumnMappingDialog

        try:
            dialog = ColumnMappingDialog(path, self)
        except Exception as exc:  # noqa: BLE001 - any file that cannot be previewed is a message
            self.show_error("Cannot open file", _loader.error_message(path, exc))
            return None
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.open_files(
            [path], reader=partial(read_incidents, columns=dialog.mapping(), **dialog.options())))
        self.mapping_dialog = dialog
        dialog.open()
        return dialog

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = _loader.recent_files(self.settings)
        for path in files:
            action = self.recent_menu.addAction(_menu_text(path))
            action.triggered.connect(lambda _=False, p=path: self._on_open_recent(p))
        if files:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self._on_clear_recent)
        self.recent_menu.setEnabled(bool(files))

    def _on_open_recent(self, path: str) -> None:
        if not os.path.exists(path):
            _loader.remove_recent_file(self.settings, path)
            self._rebuild_recent_menu()
        self.open_files([path])  # a missing file still gets its clear message

    def _on_clear_recent(self) -> None:
        self.settings.setValue(_loader.RECENT_KEY, [])
        self._rebuild_recent_menu()

    def show_report(self, reports=None) -> ReportDialog:
        """Open the load report of ``reports`` (default: every open file)."""
        if reports is None:
            reports = [d.report for d in self.state.all_datasets]
        if self.report_dialog is not None:
            self.report_dialog.close()
        self.report_dialog = ReportDialog(reports, self)
        self.report_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.report_dialog.destroyed.connect(self._on_report_destroyed)
        self.report_dialog.show()
        return self.report_dialog

    def _on_report_destroyed(self, *_args) -> None:
        self.report_dialog = None

    # -- drag and drop ------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.map_view and event.type() in (QEvent.Type.ChildAdded, QEvent.Type.ChildPolished):
            child = event.child()
            if isinstance(child, QWidget):
                child.setAcceptDrops(False)
        return super().eventFilter(watched, event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_files(paths)

    # -- basemap --------------------------------------------------------------
    def _check_basemap_action(self, name: str) -> None:
        action = self.basemap_actions.get(name)
        if action is None and is_tile_template(name):
            action = self.custom_tiles_action
            self.custom_tiles_action.setText(_menu_text(f"Custom tile URL: {name}"))
        if action is not None:
            action.setChecked(True)

    def _on_basemap_changed(self, name: str) -> None:
        self._check_basemap_action(name)
        self.settings.setValue("basemap", name)

    def _on_custom_tiles(self) -> None:
        current = self.state.basemap if is_tile_template(self.state.basemap) else str(
            self.settings.value("custom_tiles", "http://localhost:8080/{z}/{x}/{y}.png"))
        text, ok = QInputDialog.getText(
            self, "Custom tile URL", "Tile URL template with {z}, {x} and {y}:", text=current)
        if ok and is_tile_template(text):
            self.settings.setValue("custom_tiles", text.strip())
            self.map_view.choose_basemap(text.strip())
        else:
            if ok:
                warning_box(self, "Custom tile URL",
                            f"Not a tile URL template: {text!r}. It must start with http://, https:// "
                            "or file:// and contain {z}, {x} and {y}.").exec()
            self._check_basemap_action(self.state.basemap)

    def _on_load_boundary(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Load boundary layer", "", "Vector files (*.gpkg *.geojson *.json *.shp *.zip);;All files (*)")
        if path:
            self.load_boundary_layer(path)

    def load_boundary_layer(self, path: str) -> bool:
        """Show the boundary file ``path`` on the map and remember it; False (with a message) on failure."""
        from geodata.basemap import load_boundary_layer

        try:
            layer = load_boundary_layer(path)
        except Exception as exc:  # noqa: BLE001 - a bad file is a message, not a crash
            self.show_error("Load boundary layer", _loader.error_message(path, exc))
            return False
        self.map_view.set_boundary_layer(layer)
        self.settings.setValue("boundary_layer", os.path.abspath(path))
        return True

    def show_error(self, title: str, text: str, detail: str = "") -> None:
        """Show a one-line problem in the status bar and a (non-blocking) message box."""
        self.statusBar().showMessage(visible_text(text), 10000)
        if self.show_messages:
            box = warning_box(self, title, text)
            if detail:
                box.setInformativeText(detail)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.message_box = box
            box.open()  # window-modal but not blocking: the app keeps running

    # -- settings -----------------------------------------------------------
    def _restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self._geometry_restored = self.restoreGeometry(geometry)
        layout = self.settings.value("window/state")
        if isinstance(layout, QByteArray):
            self.restoreState(layout, LAYOUT_VERSION)  # a layout of an older version is left out
        splitter = self.settings.value("window/map_splitter")
        if isinstance(splitter, QByteArray):
            self.map_splitter.restoreState(splitter)
        basemap = self.settings.value("basemap")
        if isinstance(basemap, str) and (basemap in self.basemap_actions or is_tile_template(basemap)):
            self.state.set_basemap(basemap)
        boundary = self.settings.value("boundary_layer")
        if isinstance(boundary, str) and boundary and os.path.exists(boundary):
            self.load_boundary_layer(boundary)

    def save_settings(self) -> None:
        self.set_presenting(False)  # the layout the person works in is remembered, not the presentation
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState(LAYOUT_VERSION))
        self.settings.setValue("window/map_splitter", self.map_splitter.saveState())
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.loader.busy:
            self.loader.cancel()
        self.save_settings()
        super().closeEvent(event)

    # -- layout -------------------------------------------------------------
    def show_at_start(self) -> None:
        """Show the window as it was last closed; the first time maximised on a screen below
        :data:`MAXIMISE_BELOW`, else at most of the screen, centred."""
        if self._geometry_restored or self.screen() is None:
            self.show()
            return
        available = self.screen().availableGeometry()
        if available.width() < MAXIMISE_BELOW.width() or available.height() < MAXIMISE_BELOW.height():
            self._apply_default_layout(available.size())
            self.showMaximized()
            return
        self.resize(start_size(available.size()))
        self.move(available.center() - self.rect().center())
        self.show()

    @property
    def docks(self) -> list[QDockWidget]:
        """The panels around the map, in tab order."""
        return [self.filter_dock, self.summary_dock, self.table_dock, self.waves_dock, self.matches_dock]

    def reset_layout(self) -> None:
        """View > Reset layout: every panel back in one column of tabs beside the map, default sizes."""
        self.set_presenting(False)
        self._apply_default_layout()
        self.settings.remove("window/state")
        self.settings.remove("window/map_splitter")
        self.statusBar().showMessage("Layout reset", 5000)

    def _apply_default_layout(self, size: QSize | None = None) -> None:
        """The panels in one column left of the map, folded into tabs (the filters above the tabs when
        the window is tall); the map takes the rest, the timeline a strip under it."""
        size = QSize(size or self.size())
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        for dock in self.docks:
            dock.setFloating(False)
            dock.show()
        tall = size.height() >= TALL_WINDOW
        if tall:  # the filters stay in view above the other panels' tabs
            self.addDockWidget(left, self.filter_dock)  # out of any tab group: a tab cannot be split
            self.splitDockWidget(self.filter_dock, self.summary_dock, Qt.Orientation.Vertical)
            for dock in self.docks[2:]:
                self.tabifyDockWidget(self.summary_dock, dock)
            self.summary_dock.raise_()
        else:
            if self.dockWidgetArea(self.filter_dock) != left:
                self.addDockWidget(left, self.filter_dock)
            for dock in self.docks[1:]:  # tabs, never stacked: the column is as tall as one panel needs
                self.tabifyDockWidget(self.filter_dock, dock)
        self.filter_dock.raise_()
        # Wide enough for the tabs' titles in full (about 24 px of each tab is its frame).
        tabs = sum(self.fontMetrics().horizontalAdvance(d.windowTitle()) + 24 for d in self.docks)
        width = max(PANEL_MIN_WIDTH, min(PANEL_MAX_WIDTH, max(tabs, int(size.width() * PANEL_SHARE))))
        self.resizeDocks([self.filter_dock], [width], Qt.Orientation.Horizontal)
        if tall:
            self.resizeDocks([self.filter_dock, self.summary_dock], [55, 45], Qt.Orientation.Vertical)
        self.toolbar.show()
        self.timeline.show()
        timeline = TIMELINE_HEIGHT_TALL if tall else TIMELINE_HEIGHT
        self.map_splitter.setSizes([max(1, size.height() - timeline), timeline])
        if self.size() != size and not self.isMaximized() and not self.isFullScreen():
            self.resize(size)  # moving panels about may have grown the window

    @property
    def presenting(self) -> bool:
        """True in presentation mode."""
        return self._presentation is not None

    def set_presenting(self, on: bool) -> None:
        """Presentation mode (F11): the map full screen with its title, legend and date caption only.

        Panels, timeline, toolbars, menu and status bar are hidden; F11 or Esc brings them back
        as they were.
        """
        on = bool(on)
        if on == self.presenting:
            return
        if on:
            self._presentation = (self.saveState(LAYOUT_VERSION), self.map_splitter.saveState(),
                                  self.windowState(), self.map_view.legend_open)
            for bar in self.findChildren(QToolBar):
                bar.hide()
            for dock in self.findChildren(QDockWidget):
                dock.hide()
            self.timeline.hide()
            self.statusBar().hide()
            self.menuBar().hide()
            self.title_label.setText(visible_text(self._presentation_title()))
            self.title_bar.show()
            self.map_view.set_legend_open(True)  # a full-screen map has room for the whole legend
            self.showFullScreen()
        else:
            layout, splitter, window_state, legend_open = self._presentation
            self._presentation = None
            self.title_bar.hide()
            self.menuBar().show()
            self.statusBar().show()
            self.timeline.show()
            self.restoreState(layout, LAYOUT_VERSION)
            self.map_splitter.restoreState(splitter)
            self.map_view.set_legend_open(legend_open)
            self.setWindowState(window_state)
        self.leave_presentation.setEnabled(on)
        with QSignalBlocker(self.presentation_action):
            self.presentation_action.setChecked(on)

    def _presentation_title(self) -> str:
        """The figure title when one was given, else the names of the files open."""
        if self.state.figure_title:
            return self.state.figure_title
        names = [os.path.basename(d.path) for d in self.state.all_datasets]
        return ", ".join(names) if names else "Strike map viewer"

    # -- state events -------------------------------------------------------
    def _on_data_changed(self) -> None:
        # Attack-wave reports are open files too: they name the window and have a load report.
        names = [os.path.basename(d.path) for d in self.state.all_datasets]
        self.setWindowTitle(visible_text(" — ".join(["Strike map viewer", ", ".join(names)])) if names else "Strike map viewer")
        self.report_action.setEnabled(bool(names))
        self._rebuild_close_menu()

    def _rebuild_close_menu(self) -> None:
        self.close_menu.clear()
        kinds = [(d.path, "events") for d in self.state.datasets] + [
            (d.path, "attack waves") for d in self.state.wave_datasets]
        for path, kind in kinds:
            action = self.close_menu.addAction(_menu_text(f"{os.path.basename(path)} ({kind})"))
            action.setToolTip(path)
            action.setData(path)
            action.triggered.connect(lambda _=False, p=path: self.close_file(p))
        self.close_menu.setEnabled(bool(kinds))
        self.close_all_action.setEnabled(bool(kinds))

