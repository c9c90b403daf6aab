"""The app's main window, offscreen and with throwaway settings, for the benchmarks of the whole app."""
from __future__ import annotations

import os
import sys
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu --no-sandbox")


def main_window(size: str):
    """``(app, window, folder)``: a shown MainWindow of ``size`` ("WxH") on an empty state; keep
    ``folder`` (its settings) alive as long as the window."""
    import PySide6.QtWebEngineWidgets  # noqa: F401 - before the QApplication
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from mapviewer.map.tilescheme import register_scheme

    register_scheme()
    from mapviewer.mainwindow import MainWindow
    from mapviewer.state import AppState

    app = QApplication.instance() or QApplication(sys.argv[:1])
    folder = tempfile.TemporaryDirectory()
    window = MainWindow(AppState(), QSettings(os.path.join(folder.name, "s.ini"), QSettings.Format.IniFormat),
                        restore=False)
    window.show_messages = False
    width, height = (int(v) for v in size.split("x"))
    window.resize(width, height)
    window.show()
    return app, window, folder


def wait_for(app, condition, failures: list[str] | None = None, limit_s: float = 600.0) -> float:
    """Run ``app``'s events until ``condition()`` holds; seconds taken. Exits on a failure reported
    in ``failures`` or after ``limit_s``."""
    import time

    start = time.perf_counter()
    while not condition():
        if failures:
            raise SystemExit(f"failed: {failures[0]}")
        if time.perf_counter() - start > limit_s:
            raise SystemExit("timed out")
        app.processEvents()
        time.sleep(0.005)
    return time.perf_counter() - start
