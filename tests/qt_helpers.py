"""Helpers the Qt tests share: a map view ready to use, and a recorder of the page's requests."""
from __future__ import annotations

from PySide6.QtWebEngineCore import QWebEngineUrlRequestInterceptor

from mapviewer.map.view import MapView
from mapviewer.state import AppState

WAIT = 60000  # generous: two shared cores, WebEngine start-up


class RequestRecorder(QWebEngineUrlRequestInterceptor):
    """Every URL the page asks for (install with ``view.profile.setUrlRequestInterceptor``)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def interceptRequest(self, info) -> None:  # noqa: N802
        self.urls.append(info.requestUrl().toString())


def ready_map_view(qtbot, state: AppState | None = None, size: tuple[int, int] = (900, 650),
                   recorder: RequestRecorder | None = None) -> MapView:
    """A shown map view whose page is ready; call ``view.release()`` when done."""
    view = MapView(state or AppState())
    if recorder is not None:
        view.profile.setUrlRequestInterceptor(recorder)  # before the page loads (it loads from the event loop)
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitUntil(lambda: view.page_ready, timeout=WAIT)
    return view
