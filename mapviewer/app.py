"""Start the desktop app: ``mapviewer [FILE ...] [--screenshot OUT.png [--size WxH]]``."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from mapviewer.cli.terminal import fail
from mapviewer.display import display_problem
from mapviewer.map.grab import is_blank

SCREENSHOT_TIMEOUT_S = 180.0  # generous: WebEngine start-up on a loaded 2-core machine is slow
DEFAULT_SCREENSHOT_SIZE = (1600, 1000)


def _prepare_environment(screenshot: bool) -> None:
    """Qt WebEngine settings that must exist before the QApplication does."""
    if screenshot:
        # A screenshot needs no window on screen, and works on a server with no display.
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Chromium refuses to start its sandbox as root; without this the process dies silently.
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen" and "QTWEBENGINE_CHROMIUM_FLAGS" not in os.environ:
        os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = "--disable-gpu"  # no GPU without a display


def parse_size(text: str | None) -> tuple[int, int] | None:
    """``"1600x1000"`` -> (1600, 1000); raises ValueError with a readable message."""
    if not text:
        return None
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--size must look like 1600x1000, not {text!r}") from None
    if not (200 <= width <= 8000 and 200 <= height <= 8000):
        raise ValueError(f"--size {text}: width and height must be between 200 and 8000 pixels")
    return width, height


def split_arguments(files: list[str]) -> tuple[list[str], list[str]]:
    """Data files and saved views (``.json`` files that hold a view) from the command line."""
    from mapviewer.files.loader import is_view_file

    data, views = [], []
    for path in files:
        (views if is_view_file(path) else data).append(path)
    return data, views


def run_app(args) -> int:
    """Open the main window on ``args.files`` (or the shipped sample) and run the event loop."""
    screenshot = args.screenshot
    _prepare_environment(bool(screenshot))
    try:
        size = parse_size(args.size)
    except ValueError as exc:
        return fail(str(exc))
    data_files, view_files = split_arguments(list(args.files))
    from geodata.db.connect import is_uri

    missing = [p for p in data_files + view_files if not is_uri(p) and not os.path.exists(p)]
    if screenshot and missing:
        return fail(f"{missing[0]}: no such file")
    problem = _view_problem(view_files) if screenshot else None
    if problem:  # a screenshot of the wrong view is worse than none
        return fail(problem)
    no_window = display_problem()
    if no_window:  # one line instead of Qt's abort
        return fail(no_window)
    basemaps = list(getattr(args, "basemap", None) or [])
    archives = []
    if screenshot and basemaps:  # a screenshot without the background asked for is worse than none
        from geodata.errors import DataError
        from mapviewer.map.basemapfiles import open_archives

        try:
            archives = open_archives(basemaps)
        except DataError as exc:
            return fail(str(exc))

    # QtWebEngine must be imported, and its URL schemes declared, before the QApplication exists.
    import PySide6.QtWebEngineWidgets  # noqa: F401
    from PySide6.QtWidgets import QApplication

    from mapviewer.map.tilescheme import register_scheme

    register_scheme()

    from mapviewer.mainwindow import APPLICATION, ORGANISATION, MainWindow
    from mapviewer.state import AppState

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("Strike map viewer")
    _set_identity(app)

    settings_dir = None
    if screenshot:
        # A screenshot is reproducible: default layout and basemap, nothing read from or written to
        # the user's settings.
        from PySide6.QtCore import QSettings

        settings_dir = tempfile.TemporaryDirectory(prefix="mapviewer-")
        settings = QSettings(os.path.join(settings_dir.name, "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(AppState(), settings, restore=False)
        window.show_messages = False
        window.resize(*(size or DEFAULT_SCREENSHOT_SIZE))
        window.reset_layout()  # the default layout for that size
    else:
        window = MainWindow(AppState())
        if size:
            window.resize(*size)

    if not data_files and not view_files:
        from mapviewer.files.loader import sample_files

        data_files = sample_files()  # the synthetic events, and the synthetic wave report when shipped

    job = _ScreenshotJob(window, screenshot) if screenshot else None
    if screenshot or size:
        window.show()
    else:
        window.show_at_start()  # as last closed; the first time maximised on a small screen
    window.open_files(data_files + view_files)  # a saved view opens its own files, sets filter, basemap, map view
    # After a saved view (which sets its own archives): --basemap files are drawn over them.
    for archive in archives:
        window.state.add_basemap_file(archive)
    if basemaps and not archives:
        from mapviewer.dialogs.basemaps import add_basemap_files

        add_basemap_files(window, basemaps)  # a file that cannot be used is a message; the app runs on
    if job is not None:
        job.start()
    code = app.exec()
    if job is not None:
        code = job.exit_code
    window.loader.wait_stray()
    _dispose(window)
    if settings_dir is not None:
        settings_dir.cleanup()
    return code


def _set_identity(app) -> None:
    """The window's icon, and the desktop entry it belongs to (Wayland and task bars match them by name)."""
    from PySide6.QtGui import QIcon

    from mapviewer.desktop import APP_ID, icon_file

    app.setDesktopFileName(APP_ID)
    icon = QIcon(str(icon_file()))
    if not icon.isNull():
        app.setWindowIcon(icon)


def _view_problem(paths: list[str]) -> str | None:
    """A one-line message for the first saved view that cannot be read, or None."""
    from mapviewer.files.loader import error_message
    from mapviewer.files.views import load_view

    for path in paths:
        try:
            spec = load_view(path)
        except Exception as exc:  # noqa: BLE001 - a bad view file is a message, not a crash
            return error_message(path, exc)
        gone = [ref.path for ref in spec.basemaps or () if not os.path.isfile(ref.path)]
        if gone:
            return f"{path}: basemap file not found: {gone[0]}"
    return None


def _dispose(window) -> None:
    """Delete the window (and its web page) while the application still exists."""
    import shiboken6
    from PySide6.QtCore import QCoreApplication, QEvent

    window.close()
    if shiboken6.isValid(window):
        shiboken6.delete(window)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


class _ScreenshotJob:
    """Waits for the data and the map, then saves the window image and quits."""

    POLL_MS = 250

    def __init__(self, window, out: str) -> None:
        from PySide6.QtCore import QElapsedTimer, QTimer

        self.window = window
        self.out = out
        self.exit_code = 1
        self._drawn_since_data = False
        self._last_image = None
        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setInterval(self.POLL_MS)
        self._timer.timeout.connect(self._poll)
        window.state.data_changed.connect(self._on_data_changed)
        window.map_view.incidents_drawn.connect(self._on_drawn)
        window.map_view.set_legend_open(True)  # a screenshot explains itself: the legend never folds
        window.load_failed.connect(self._on_load_failed)

    def start(self) -> None:
        self._clock.start()
        self._timer.start()

    def _on_data_changed(self) -> None:
        self._drawn_since_data = False

    def _on_drawn(self, _count: int) -> None:
        self._drawn_since_data = True

    def _on_load_failed(self, _path: str, message: str) -> None:
        self._finish(fail(message))

    def _ready(self) -> bool:
        window = self.window
        # An attack-waves report open alone is data too: the map is drawn with no event points. With two
        # or more sources the reports are matched first: the map then shows one symbol per strike.
        # The page's last report counts what the state shows now (not a draw of rows since replaced).
        return (not window.loader.busy and bool(window.state.all_datasets) and self._drawn_since_data
                and window.map_view.drawn_count == int(window.state.mask.sum())
                and window.map_view.page_ready and not window.database.busy and not window.matcher.busy)

    def _poll(self) -> None:
        if self._clock.elapsed() > SCREENSHOT_TIMEOUT_S * 1000:
            window = self.window
            what = ("loading the data" if window.loader.busy or not window.state.all_datasets else
                    "the reports to be matched" if window.matcher.busy else "the map")
            self._finish(fail(f"timed out after {SCREENSHOT_TIMEOUT_S:.0f} s waiting for {what}"))
            return
        if not self._ready():
            return
        image = self.window.map_view.grab().toImage()
        if is_blank(image):
            return
        # Wait for one more identical frame so tiles and symbols have settled.
        if self._last_image is None or image != self._last_image:
            self._last_image = image
            return
        self._save()

    def _save(self) -> None:
        path = Path(self.out)
        if path.parent and not path.parent.exists():
            self._finish(fail(f"{self.out}: the folder does not exist"))
            return
        if not self.window.grab().save(str(path)):
            self._finish(fail(f"{self.out}: cannot write the image"))
            return
        self._finish(0)

    def _finish(self, code: int) -> None:
        from PySide6.QtWidgets import QApplication

        self._timer.stop()
        self.exit_code = code
        QApplication.instance().exit(code)
