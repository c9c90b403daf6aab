"""Pictures of the map: the view drawn at an export's size, and telling a painted map from one not drawn yet."""
from __future__ import annotations

import json

from PySide6.QtCore import QCoreApplication, QDeadlineTimer, QEvent, QEventLoop, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QSplitter

from geodata.errors import DataError


def is_blank(image: QImage, samples: int = 48) -> bool:
    """True when a grabbed image is (nearly) one colour: a map that has not painted yet."""
    if image.isNull() or image.width() < 2 or image.height() < 2:
        return True
    counts: dict[int, int] = {}
    for i in range(samples):
        for j in range(samples):
            x = (image.width() - 1) * i // (samples - 1)
            y = (image.height() - 1) * j // (samples - 1)
            rgb = image.pixel(x, y)
            counts[rgb] = counts.get(rgb, 0) + 1
    return len(counts) < 8 or max(counts.values()) > 0.97 * samples * samples


#: Longest wait for the page to lay itself out and draw at an export's size (WebEngine on a busy machine).
EXPORT_WAIT_MS = 30000
#: Largest side, in pixels, of a view image (WebEngine draws nothing on larger surfaces).
MAX_IMAGE_SIDE = 16384
_WIDGET_MAX = 16777215  # QWIDGETSIZE_MAX


def _wait(msecs: int) -> None:
    """Let the web view work for ``msecs`` (the page has no signal for "repainted")."""
    loop = QEventLoop()
    QTimer.singleShot(msecs, loop.quit)
    loop.exec()


def _evaluate(view, script: str, timeout_ms: int = EXPORT_WAIT_MS):
    """The JSON value of ``script`` in the map page (None if the page does not answer in time)."""
    answer: list = []
    loop = QEventLoop()
    timer = QTimer(singleShot=True)
    timer.timeout.connect(loop.quit)

    def done(value) -> None:
        answer.append(value)
        loop.quit()

    view.run_js(f"JSON.stringify({script})", done)
    timer.start(timeout_ms)
    if not answer:
        loop.exec()
    timer.stop()
    return json.loads(answer[0]) if answer and answer[0] not in (None, "", "undefined") else None


class _SavedLayout:
    """The window's, docks' and splitter's sizes, to put back exactly after an export resized the map."""

    def __init__(self, window) -> None:
        self.window = window
        self.size = window.size()
        self.docks = window.saveState() if hasattr(window, "saveState") else None
        parent = window.map_view.parentWidget()
        self.splitter = parent if isinstance(parent, QSplitter) else None
        self.sizes = self.splitter.sizes() if self.splitter is not None else None

    def restore(self) -> None:
        # The layouts first forget the export's size, else the window cannot shrink back.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        if self.window.layout() is not None:
            self.window.layout().activate()
        self.window.resize(self.size)
        if self.docks is not None:
            self.window.restoreState(self.docks)
        if self.splitter is not None:
            self.splitter.setSizes(self.sizes)


def _page_laid_out(view, width: float, height: float, ratio: float) -> list | None:
    """The page's map bounds once it is ``width`` x ``height`` CSS px at ``ratio`` device px each, else None."""
    deadline = QDeadlineTimer(EXPORT_WAIT_MS)
    while not deadline.hasExpired():
        state = _evaluate(view, "mapviewer.refresh()", max(1, deadline.remainingTime()))
        if state and abs(state[4] - width) <= 1 and abs(state[5] - height) <= 1 and abs(state[6] - ratio) < 0.01:
            return state
        _wait(100)
    return None


def _wait_for_page(view, timeout_ms: int = EXPORT_WAIT_MS) -> bool:
    """True once the map page can draw: at once, or after a page being (re)built is ready."""
    if view.page_ready:
        return True
    loop = QEventLoop()
    timer = QTimer(singleShot=True)
    timer.timeout.connect(loop.quit)
    view.ready.connect(loop.quit)
    timer.start(timeout_ms)
    try:
        loop.exec()
    finally:
        timer.stop()
        view.ready.disconnect(loop.quit)
    return view.page_ready


def _settled_grab(view) -> QImage:
    """The view's image once two grabs in a row are the same (symbols and tiles drawn)."""
    deadline = QDeadlineTimer(EXPORT_WAIT_MS)
    last = None
    while True:
        image = view.grab().toImage()
        if (last is not None and image == last and not is_blank(image)) or deadline.hasExpired():
            return image
        last = image
        _wait(150)


def picture(view: QWebEngineView, width: int | None = None, height: int | None = None, scale: int = 1) -> QImage:
    """An image of the map view, legend unfolded, ``width`` x ``height`` screen pixels times ``scale``.

    The page is laid out at ``width`` x ``height`` (by default the view's own
    size: the same map area as on screen) and drawn with ``scale`` image pixels
    per screen pixel: the widget is made ``scale`` times larger and the page
    zoomed by as much. The view, splitter, docks and window get their sizes back.
    """
    window = view.window()
    if not _wait_for_page(view):
        raise DataError("the map is not drawn yet; please try again in a moment")
    current = view.size()
    width, height = width or current.width(), height or current.height()
    if max(width, height) * scale > MAX_IMAGE_SIDE:
        raise DataError(f"{width * scale} x {height * scale} px is more than the map can draw "
                        f"(at most {MAX_IMAGE_SIDE} px a side): choose a smaller size or scale")
    zoom, legend_open = view.zoomFactor(), view.legend_open
    saved = _SavedLayout(window)
    resized = (width, height, scale) != (current.width(), current.height(), 1)
    view.set_legend_open(True)
    try:
        if resized:
            view.setZoomFactor(zoom * scale)
            view.setFixedSize(width * scale, height * scale)
        base_ratio = view.devicePixelRatioF()
        if _page_laid_out(view, width / zoom, height / zoom, base_ratio * zoom * scale) is None:
            raise DataError("the map did not redraw at the export size in time; please try again")
        image = _settled_grab(view)
    finally:
        view.set_legend_open(legend_open)
        if resized:
            view.setZoomFactor(zoom)
            view.setMinimumSize(0, 0)
            view.setMaximumSize(_WIDGET_MAX, _WIDGET_MAX)
            saved.restore()
            # Back to the screen's size and pixel density before the person carries on.
            _page_laid_out(view, current.width() / zoom, current.height() / zoom, view.devicePixelRatioF() * zoom)
        else:
            view.run_js("mapviewer.refresh();")
    return image
