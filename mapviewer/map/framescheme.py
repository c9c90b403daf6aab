"""A file's rows for the live map page as binary: the ``mapdata://`` URL scheme.

The page fetches ``mapdata://frame/TOKEN`` and takes the answer's bytes as typed arrays (see
:meth:`mapviewer.map.page.IncidentEncoder.binary`). Sent as base64 text inside a script instead,
a million rows cost the web renderer about five times their size, kept long after; fetched, they
cost the arrays themselves. Only numbers travel this way: record text (munition and place names)
stays in the JSON that goes with the token. The handler holds the newest frame only, serves it
once and then forgets it; any other address is refused.
"""
from __future__ import annotations

import secrets

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject
from PySide6.QtWebEngineCore import QWebEngineUrlRequestJob, QWebEngineUrlScheme, QWebEngineUrlSchemeHandler

SCHEME = "mapdata"
_HOST = "frame"


def register_frame_scheme() -> None:
    """Declare ``mapdata`` to Qt WebEngine (once; before the QApplication exists).

    Local (only the app's own page, a file, may load from it) and open to ``fetch`` from that page.
    """
    name = SCHEME.encode()
    if QWebEngineUrlScheme.schemeByName(name).name() == QByteArray(name):
        return
    scheme = QWebEngineUrlScheme(name)
    scheme.setSyntax(QWebEngineUrlScheme.Syntax.Host)
    scheme.setFlags(QWebEngineUrlScheme.Flag.SecureScheme | QWebEngineUrlScheme.Flag.LocalScheme
                    | QWebEngineUrlScheme.Flag.CorsEnabled | QWebEngineUrlScheme.Flag.FetchApiAllowed)
    QWebEngineUrlScheme.registerScheme(scheme)


class FrameSchemeHandler(QWebEngineUrlSchemeHandler):
    """Serves the newest frame offered with :meth:`offer`, once, at the address it returned."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._token: str | None = None
        self._data = b""

    def offer(self, data: bytes) -> str:
        """Hold ``data`` (replacing an older frame not fetched yet) and return its address."""
        self._token, self._data = secrets.token_hex(16), data
        return f"{SCHEME}://{_HOST}/{self._token}"

    def requestStarted(self, job: QWebEngineUrlRequestJob) -> None:  # noqa: N802
        url = job.requestUrl()
        wanted = (bytes(job.requestMethod().data()) == b"GET" and url.host() == _HOST and self._token is not None
                  and url.path() == f"/{self._token}" and not url.hasQuery() and not url.hasFragment())
        if not wanted:
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        data, self._token, self._data = self._data, None, b""
        buffer = QBuffer(job)  # parented to the job: it lives as long as the reply is read
        buffer.setData(QByteArray(data))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        job.reply(QByteArray(b"application/octet-stream"), buffer)
