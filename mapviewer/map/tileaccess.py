"""Which tile servers the map may contact: only those the person agreed to, asked per host.

Loading tiles tells their server the viewer's address and the area looked at. A
basemap the person picks in the View menu is their agreement to its server; one
that arrives any other way (a saved view, settings of an earlier version) is shown
only once the person says yes to its host, and the answer is remembered per host.

The map page is a local file: it reaches no remote address unless the web view
allows it (:class:`TileRequestFilter` and ``LocalContentCanAccessRemoteUrls``),
and then only images from the one tile server shown.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, QSettings, Qt, QUrl
from PySide6.QtWebEngineCore import QWebEngineUrlRequestInfo, QWebEngineUrlRequestInterceptor
from PySide6.QtWidgets import QMessageBox, QWidget

from geodata.text import visible_text

ALLOWED_KEY = "tile_servers/allowed"
REFUSED_KEY = "tile_servers/refused"
#: URL schemes of the page's own parts (never the network); ``basemap``: tiles of the person's archive
#: files; ``mapdata``: the rows of the opened files, as binary.
LOCAL_SCHEMES = frozenset({"file", "qrc", "data", "blob", "about", "basemap", "mapdata"})

#: ``ask(host, basemap_label, done)``: ask the person, then call ``done(yes)`` (now or later);
#: returning False (without calling ``done``) says nobody can answer now.
Asker = Callable[[str, str, Callable[[bool], None]], object]


def _host_of(url: QUrl) -> str:
    host = url.host().lower()
    port = url.port()
    if port != -1 and port != {"http": 80, "https": 443}.get(url.scheme()):
        host += f":{port}"
    return host


def host_matches(url: QUrl, host: str) -> bool:
    """True when ``url`` is on ``host`` (as :func:`mapviewer.map.page.tile_host` names it) or a subdomain of it."""
    found = _host_of(url)
    return bool(host) and (found == host or found.endswith("." + host))


class TileRequestFilter(QWebEngineUrlRequestInterceptor):
    """Blocks every request of the map page to the network except images from :attr:`host`."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.host: str | None = None  # the tile server the page shows now (None: no network at all)
        self.blocked: list[str] = []  # the last refused addresses, for the log and tests

    def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:  # noqa: N802
        url = info.requestUrl()
        if url.scheme() in LOCAL_SCHEMES:
            return
        if (self.host is not None and url.scheme() in ("http", "https")
                and info.resourceType() == QWebEngineUrlRequestInfo.ResourceType.ResourceTypeImage
                and host_matches(url, self.host)):
            return
        info.block(True)
        self.blocked = (self.blocked + [url.toString()])[-20:]


def _names(settings: QSettings | None, key: str) -> set[str]:
    if settings is None:
        return set()
    value = settings.value(key, [])
    if isinstance(value, str):  # QSettings gives a one-item list back as a bare string
        value = [value]
    return {str(v) for v in value or [] if v}


class TileConsent:
    """The person's answers about tile servers, remembered per host in ``settings``.

    Without settings the answers last as long as the object. ``ask`` (an
    :data:`Asker`) puts the question; None means nobody can answer (a
    screenshot run, a bare map view): an unknown server is then not contacted.
    """

    def __init__(self, settings: QSettings | None = None, ask: Asker | None = None) -> None:
        self._settings = settings
        self._session: dict[str, bool] = {}
        self.ask = ask

    def answer(self, host: str) -> bool | None:
        """True or False when the person answered for ``host``; None when never asked."""
        if host in self._session:
            return self._session[host]
        if host in _names(self._settings, ALLOWED_KEY):
            return True
        if host in _names(self._settings, REFUSED_KEY):
            return False
        return None

    def remember(self, host: str, allowed: bool) -> None:
        """Record the person's answer for ``host``."""
        self._session[host] = allowed
        if self._settings is None:
            return
        allowed_hosts, refused = _names(self._settings, ALLOWED_KEY), _names(self._settings, REFUSED_KEY)
        (allowed_hosts if allowed else refused).add(host)
        (refused if allowed else allowed_hosts).discard(host)
        self._settings.setValue(ALLOWED_KEY, sorted(allowed_hosts))
        self._settings.setValue(REFUSED_KEY, sorted(refused))

    def request(self, host: str, label: str, done: Callable[[bool, str], None]) -> None:
        """Call ``done(allowed, how)``: at once with a remembered answer (how: "remembered") or when
        nobody can be asked ("unasked", not allowed), else after asking ("asked")."""
        known = self.answer(host)
        if known is not None:
            done(known, "remembered")
            return

        def answered(yes: bool) -> None:
            self.remember(host, bool(yes))
            done(bool(yes), "asked")

        if self.ask is None or self.ask(host, label, answered) is False:  # False: nobody can answer now
            done(False, "unasked")


def ask_tile_server(parent: QWidget | None, host: str, label: str, done: Callable[[bool], None]) -> QMessageBox:
    """Ask (window-modal, not blocking) whether the map may load ``label`` from ``host``; ``done(yes)`` after."""
    box = QMessageBox(QMessageBox.Icon.Question, "Online basemap",
                      visible_text(f"Load the basemap {label!r} from the tile server {host}?"),
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setInformativeText(visible_text(
        f"It was named by a saved view or by earlier settings, not chosen in the View menu. {host} will "
        "see your network address and which area you look at. The answer is remembered for this server; "
        "choosing the basemap in View > Basemap also agrees to it."))
    box.setDefaultButton(QMessageBox.StandardButton.No)
    box.setEscapeButton(QMessageBox.StandardButton.No)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.finished.connect(lambda _result: done(box.standardButton(box.clickedButton()) == QMessageBox.StandardButton.Yes))
    box.open()
    return box

