"""Fixtures for the desktop app: small canonical frames and a main-window factory."""
from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QSettings

from geodata.report import LoadReport
from tests.factories import canonical_frame as build_frame

from mapviewer.map.tilescheme import register_scheme

register_scheme()  # as the app does at start-up: URL schemes must be declared before the QApplication exists

# (event_id, UTC time, munition, class, outcome, location, killed, notes)
_ROWS = [
    ("N-1", "2025-09-29T22:40:00Z", "KN-23", "ballistic missile", "impact", "Boiarka", 2, "Father and son killed"),
    ("N-2", "2025-09-29T22:41:00Z", "KN-23", "ballistic missile", "impact", "Vyshneve", 0, "Warehouse hit"),
    ("N-3", "2025-09-29T22:42:00Z", "KN-23", "ballistic missile", "deviated", "Bucha", None, "Exploded in the air"),
    ("N-4", "2025-09-29T22:43:00Z", "KN-23", "ballistic missile", "impact", "Irpin", 0, "Field"),
    ("S-1", "2025-09-20T01:00:00Z", "Shahed-136", "loitering munition", "intercepted", "Kyiv", None, "Shot down"),
    ("S-2", "2025-09-20T01:10:00Z", "Shahed-136", "loitering munition", "intercepted", "Kyiv", None, "Shot down"),
    ("S-3", "2025-09-20T01:20:00Z", "Shahed-136", "loitering munition", "impact", "Kyiv",
     None, "<script>window.hacked=1</script><b>bold</b>"),
    ("C-1", "2025-08-01T03:00:00Z", "Kh-101", "cruise missile", "intercepted", "Lviv", None, "Shot down"),
]


def canonical_frame(rows=_ROWS) -> gpd.GeoDataFrame:
    """A small frame in the canonical schema (the shape geodata.read_incidents returns)."""
    n = len(rows)
    return build_frame([30.2 + 0.05 * i for i in range(n)], [50.3 + 0.03 * i for i in range(n)],
                           index=pd.RangeIndex(2, n + 2, name="row"), event_id=[r[0] for r in rows],
                           occurred_at=[r[1] for r in rows], location=[r[5] for r in rows],
                           munition=[r[2] for r in rows], munition_class=[r[3] for r in rows],
                           outcome=[r[4] for r in rows], killed=[r[6] for r in rows],
                           source_url=[f"https://example.org/{r[0]}" for r in rows], notes=[r[7] for r in rows])


@pytest.fixture
def frame() -> gpd.GeoDataFrame:
    return canonical_frame()


@pytest.fixture
def loaded_state(qapp, frame):
    """An AppState holding the small frame as one opened file."""
    from mapviewer.state import AppState

    state = AppState()
    report = LoadReport(path="/data/night.csv", format="csv", rows_read=len(frame), rows_loaded=len(frame))
    state.add_dataset("/data/night.csv", frame, report)
    return state


@pytest.fixture
def settings(tmp_path) -> QSettings:
    """A settings store in the test's own folder (never the user's)."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_main_window(qtbot, settings):
    """Factory: ``make_main_window(state=None, settings=None, show=True)`` -> MainWindow.

    Every window is registered with qtbot and closed and deleted after the test,
    so its web page goes before the application does.
    """
    from mapviewer.mainwindow import MainWindow
    from mapviewer.state import AppState

    def factory(state=None, settings_=None, show=True):
        window = MainWindow(state if state is not None else AppState(), settings_ or settings)
        # qtbot closes and deletes it after the test; reads still running are waited for first.
        qtbot.addWidget(window, before_close_func=lambda w: (w.loader.cancel(), w.loader.wait_stray()))
        if show:
            window.show()
        return window

    yield factory
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


WAVES_CSV = (
    "time_start,time_end,model,launch_place,target,launched,destroyed,not_reach_goal,still_attacking\n"
    "2025-10-05 18:00,2025-10-06 08:30,Shahed-136/131,Kursk oblast,Kyiv oblast,57,53,,\n"
    "2025-10-09 01:00,2025-10-09 02:00,KN-23,Kursk oblast,Kyiv oblast,4,0,,\n"
    "2025-10-12,2025-10-12,X-101/X-555,Caspian Sea,Lviv oblast,10,7,2,\n"
)


@pytest.fixture
def waves_csv(tmp_path) -> str:
    """An Air Force attack report (three waves, 5 to 12 October 2025, Kyiv time): waves, not points."""
    path = tmp_path / "missile_attacks_daily.csv"
    path.write_text(WAVES_CSV, encoding="utf-8")
    return str(path)


class PageScripts:
    """What the tests' js()/click helpers need of a page: ``run_js``."""

    def __init__(self, page) -> None:
        self.page = page

    def run_js(self, script: str, callback=None) -> None:
        if callback:
            self.page.runJavaScript(script, 0, callback)
        else:
            self.page.runJavaScript(script, 0)


@pytest.fixture
def open_in_browser(qtbot):
    """Open an exported HTML file in a fresh, off-the-record browser: ``open(path, interceptor=None)``.

    Returns a PageScripts for the loaded page; every page is deleted before its profile at the end.
    """
    from PySide6.QtCore import QUrl
    from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile
    from PySide6.QtWebEngineWidgets import QWebEngineView

    opened = []

    def open_file(path, interceptor=None) -> PageScripts:
        profile = QWebEngineProfile()
        if interceptor is not None:
            profile.setUrlRequestInterceptor(interceptor)
        page = QWebEnginePage(profile)
        browser = QWebEngineView()
        browser.setPage(page)
        qtbot.addWidget(browser)
        browser.resize(900, 650)
        browser.show()
        opened.append((browser, page, profile))
        with qtbot.waitSignal(browser.loadFinished, timeout=60000):
            browser.load(QUrl.fromLocalFile(str(path)))
        return PageScripts(page)

    yield open_file
    import shiboken6

    for browser, page, _profile in opened:
        browser.close()
        browser.setPage(None)
        shiboken6.delete(page)  # the page must go before its profile
