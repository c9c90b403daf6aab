"""Tile archives on the live map: the ``basemap://`` URL scheme and the page's archive layers.

The page asks for ``basemap://KEY/z/x/y``; :class:`ArchiveSchemeHandler` answers from the open
archive whose :attr:`~geodata.tiles.TileArchive.key` is KEY. No HTTP server runs and no tile file
path reaches the page: a request that does not name a tile of an open archive is refused.
:func:`register_scheme` (which declares the ``mapdata`` scheme of :mod:`mapviewer.map.framescheme` too)
must run before the QApplication exists (``mapviewer.app`` and the tests'
conftest call it).
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, Qt, Signal
from PySide6.QtWebEngineCore import QWebEngineUrlRequestJob, QWebEngineUrlScheme, QWebEngineUrlSchemeHandler

from geodata import tiles
from geodata.errors import DataError
from mapviewer.map.basemapfiles import SCHEME, layer_spec
from mapviewer.map.framescheme import register_frame_scheme

if TYPE_CHECKING:
    from PySide6.QtWebEngineWidgets import QWebEngineView

    from geodata.tiles import TileArchive

_log = logging.getLogger(__name__)

SCHEME_NAME = SCHEME.encode()
#: A 1 x 1 transparent PNG: the answer for a tile the archive does not hold (not an error: archives are sparse).
_EMPTY_PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                           "0000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082")


def register_scheme() -> None:
    """Declare the app's URL schemes to Qt WebEngine (once; before the QApplication exists).

    ``basemap``: host syntax (``basemap://KEY/z/x/y``, so the key is the URL's host) and local: only
    local pages (the map page is a file) may load from it, never a web page. ``mapdata``: the
    rows of an opened file (:mod:`mapviewer.map.framescheme`).
    """
    register_frame_scheme()
    if QWebEngineUrlScheme.schemeByName(SCHEME_NAME).name() == QByteArray(SCHEME_NAME):
        return
    scheme = QWebEngineUrlScheme(SCHEME_NAME)
    scheme.setSyntax(QWebEngineUrlScheme.Syntax.Host)
    scheme.setFlags(QWebEngineUrlScheme.Flag.SecureScheme | QWebEngineUrlScheme.Flag.LocalScheme)
    QWebEngineUrlScheme.registerScheme(scheme)


class ArchiveSchemeHandler(QWebEngineUrlSchemeHandler):
    """Serves ``basemap://KEY/z/x/y`` from :attr:`archives` (``{archive.key: archive}``).

    Signals: ``failed(key, message)`` once per archive whose file became unreadable (removed,
    changed); ``damaged(message)`` once per archive when its first damaged tile is met.
    """

    failed = Signal(str, str)
    damaged = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.archives: dict[str, TileArchive] = {}
        self._reported: set[str] = set()

    def requestStarted(self, job: QWebEngineUrlRequestJob) -> None:  # noqa: N802
        url = job.requestUrl()
        if bytes(job.requestMethod().data()) != b"GET":
            job.fail(QWebEngineUrlRequestJob.Error.RequestDenied)
            return
        zxy = tiles.parse_tile_path(url.path())
        archive = self.archives.get(url.host())
        if zxy is None or url.hasQuery() or url.hasFragment():
            job.fail(QWebEngineUrlRequestJob.Error.UrlInvalid)
            return
        if archive is None:
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        damaged_before = archive.corrupt_tiles
        try:
            got = archive.tile_or_parent(*zxy)
        except DataError as exc:
            job.fail(QWebEngineUrlRequestJob.Error.RequestFailed)
            if archive.key not in self._reported:
                self._reported.add(archive.key)
                self.failed.emit(archive.key, str(exc))
            return
        if archive.corrupt_tiles and not damaged_before:
            self.damaged.emit(f"{archive.path}: damaged tiles are left blank")
        data = got[0] if got is not None else _EMPTY_PNG
        mime = tiles.image_mime(data)
        if mime is None:  # tile() checks images; this is a guard, never a path to the page
            job.fail(QWebEngineUrlRequestJob.Error.RequestFailed)
            return
        buffer = QBuffer(job)  # parented to the job: it lives as long as the reply is read
        buffer.setData(QByteArray(data))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        job.reply(QByteArray(mime.encode()), buffer)


class ArchiveLayers(QObject):
    """Keeps the map page's archive layers and the scheme handler in step with ``state.basemap_files``.

    ``view`` is the :class:`~mapviewer.map.view.MapView`, ``state`` its :class:`~mapviewer.state.AppState`.
    Installs the handler on the view's profile. An archive whose file becomes unreadable is dropped
    from the state and reported through the view's ``basemap_failed``; ``message(str)`` carries
    lesser news (damaged tiles) for the status bar.
    """

    message = Signal(str)

    def __init__(self, view: QWebEngineView, state: QObject) -> None:
        super().__init__(view)
        self._view = view
        self._state = state
        self.handler = ArchiveSchemeHandler(self)
        view.profile.installUrlSchemeHandler(QByteArray(SCHEME_NAME), self.handler)
        # Queued: the state changes after the request is answered, not inside the handler's call.
        self.handler.failed.connect(self._on_failed, Qt.ConnectionType.QueuedConnection)
        self.handler.damaged.connect(self.message, Qt.ConnectionType.QueuedConnection)
        state.basemap_files_changed.connect(self.push)
        view.ready.connect(self.push)
        self.push()

    def specs(self) -> list[dict]:
        """The layer descriptions the page gets, bottom layer first."""
        return [layer_spec(a) for a in self._state.basemap_files]

    def push(self) -> None:
        """Give the handler the open archives and the page their layers."""
        self.handler.archives = {a.key: a for a in self._state.basemap_files}
        if self._view.page_ready:
            from mapviewer.map.page import json_for_script

            self._view.run_js(f"mapviewer.setArchives({json_for_script(self.specs())});")

    def _on_failed(self, key: str, message: str) -> None:
        _log.warning("basemap file: %s", message)
        self._state.remove_basemap_file(key)
        self._view.basemap_failed.emit(f"{message} (taken off the map)")
