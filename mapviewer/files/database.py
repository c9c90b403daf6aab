"""An open team database in the app: read off the GUI thread, filters and view sent to the server, live updates.

One :class:`DatabaseSource` per window (``window.database``, made by
:func:`mapviewer.dialogs.database.install_database_menu`) holds at most one open database, in one of
two ways:

- **in memory** when the whole table holds at most :func:`point_limit` events: it is read once, as a
  file is (:func:`geodata.db.read`), and filters, counts and the timeline work on the frame.
- **on the server** above that (``partial``): the state's frame holds only what the map view needs.
  On every filter or view change :func:`geodata.db.view` gives points (the filter's events in the
  view's box, at most the limit, each found once) or the server's grid of counts (drawn instead of
  points until the view holds fewer events than the limit). The summary, facet counts and timeline
  bins come from the server (:func:`geodata.db.summary`, :func:`geodata.db.facet_counts`,
  :func:`geodata.db.timeline_counts`).

Every query runs in a worker thread; answers come back on the GUI thread and go into the state
(``state.replace_rows``, ``state.database_changed``); the widgets redraw on those signals. The map's
question goes first and at once (typed search text waits for the next key); the counts follow one at
a time, and those for a filter no longer shown are stopped on the server.

Live updates: a :class:`geodata.db.Listener` on the database, watched with a ``QSocketNotifier``
(and a slow timer as a safety net). Imports by others are counted with :func:`geodata.db.new_since`
under the current filter (``new_count``); :meth:`DatabaseSource.include_new` brings them in, keeping
the filter and the map's place (or it happens at once when :data:`AUTO_INCLUDE_KEY` is set). A lost
connection is said in ``connection_text`` and retried with a growing delay (1, 2, 4 ... 60 s); the
open view stays as it is meanwhile.

The password, when the server asks for one, is kept in memory only (in the address the queries
use); everything shown or stored uses :func:`geodata.db.display_uri`.
"""
from __future__ import annotations

import contextlib
import math
import os
import threading
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject, QSocketNotifier, QThread, QTimer, Signal

from geodata import FilterState
from geodata.db.connect import ConnectionFailed, display_uri, is_uri, with_password
from geodata.db.mapview import POINT_LIMIT
from geodata.errors import DataError
from geodata.report import LoadReport
from geodata.schema import OUTCOMES

if TYPE_CHECKING:
    import pandas as pd
    from PySide6.QtCore import QSettings

    from geodata.timeline import Histogram

#: Environment variable that sets the most events drawn as points (tests use a small one).
POINT_LIMIT_ENV = "MAPVIEWER_POINT_LIMIT"
#: The same as a setting (the environment variable wins).
POINT_LIMIT_KEY = "database/point_limit"
#: Setting: new events from colleagues' imports are shown at once, without asking.
AUTO_INCLUDE_KEY = "database/include_new_automatically"
RECENT_KEY = "recent_databases"
MAX_RECENT = 10
#: Service name under which passwords are kept in the system keyring (when the person asks).
KEYRING_SERVICE = "strike-mapviewer"

#: A change of the search text waits this long for the next key; other changes (a click, a pan) are
#: asked at once, and changes that come while the server answers are asked together after it.
DEBOUNCE_MS = 250
#: The listener's socket is also drained this often, in case the socket says nothing.
POLL_MS = 5000
#: Seconds between tries to reach a database that went away.
BACKOFF_S = (1, 2, 4, 8, 16, 32, 60)
#: The view's box is grown by this share of its size on each side before asking the server, so
#: small pans need no new answer.
PAD = 0.25
#: A grid cell is about this many screen pixels wide.
CELL_PIXELS = 40
#: Zoom assumed before the map has said where it is (a country).
START_ZOOM = 5.0
#: Timeline counts kept (per filter, bin unit and stacking), and summaries with facet counts (per
#: filter), for going back and forth: on millions of events each is a scan of every match.
MAX_TIMELINES = 32
MAX_SUMMARIES = 32


def point_limit(settings: QSettings | None = None) -> int:
    """The most events drawn as points: ``MAPVIEWER_POINT_LIMIT``, else the setting, else
    :data:`geodata.db.POINT_LIMIT` (the same default as the data layer's)."""
    for value in (os.environ.get(POINT_LIMIT_ENV), settings.value(POINT_LIMIT_KEY) if settings else None):
        try:
            if value is not None and int(value) >= 0:
                return int(value)
        except (TypeError, ValueError):
            continue
    return POINT_LIMIT


def recent_databases(settings: QSettings) -> list[str]:
    """Databases opened before, newest first (addresses without passwords)."""
    value = settings.value(RECENT_KEY, [])
    if isinstance(value, str):
        value = [value]
    return [str(v) for v in (value or []) if v]


def add_recent_database(settings: QSettings, uri: str) -> list[str]:
    """Put ``uri`` first in the recent databases, its password left out; return the list."""
    shown = display_uri(uri)
    found = [shown] + [u for u in recent_databases(settings) if u != shown]
    settings.setValue(RECENT_KEY, found[:MAX_RECENT])
    return found[:MAX_RECENT]


def keyring_module():
    """The ``keyring`` package when it is installed (optional), else None."""
    try:
        import keyring
    except Exception:  # noqa: BLE001 - absent, or no backend that works here
        return None
    return keyring


def view_box(lat: float, lon: float, zoom: float, width: int, height: int,
             pad: float = 0.0) -> tuple[float, float, float, float]:
    """(west, south, east, north) in degrees of a ``width`` x ``height`` pixel map centred on
    ``lat``, ``lon`` at ``zoom`` (Web Mercator, 256-pixel tiles), grown by ``pad`` of its size on
    each side and clipped to the world."""
    world = 256.0 * 2.0 ** zoom
    cx = (lon + 180.0) / 360.0 * world
    phi = math.radians(max(-85.0511, min(85.0511, lat)))
    cy = (1 - math.log(math.tan(math.pi / 4 + phi / 2)) / math.pi) / 2 * world
    half_w, half_h = width * (0.5 + pad), height * (0.5 + pad)

    def lon_of(x: float) -> float:
        return max(-180.0, min(180.0, x / world * 360.0 - 180.0))

    def lat_of(y: float) -> float:
        n = math.pi * (1 - 2 * max(0.0, min(world, y)) / world)
        return math.degrees(math.atan(math.sinh(n)))

    return lon_of(cx - half_w), lat_of(cy + half_h), lon_of(cx + half_w), lat_of(cy - half_h)


def cell_size(zoom: float) -> float:
    """Grid cell in degrees for ``zoom``: about :data:`CELL_PIXELS` wide, 0.01 degrees times a power
    of two (so nearby zooms share cells, and the server's overview of 0.01-degree cells serves them)."""
    wanted = CELL_PIXELS * 360.0 / (256.0 * 2.0 ** zoom)
    k = max(0, math.ceil(math.log2(max(wanted, 0.01) / 0.01) - 1e-9))
    return 0.01 * 2 ** k


def _contains(outer: tuple[float, float, float, float] | None, inner: tuple[float, float, float, float]) -> bool:
    return outer is None or (outer[0] <= inner[0] and outer[1] <= inner[1] and outer[2] >= inner[2]
                             and outer[3] >= inner[3])


def cells_payload(cells: pd.DataFrame | None, *, fit: bool = False) -> dict[str, Any] | None:
    """What the page's ``mapviewer.setCells`` takes: cell size, south-west corners, counts per outcome
    (numbers only), or None for no cells."""
    if cells is None:
        return None
    size = float(cells.attrs.get("cell_deg") or ((cells["east"] - cells["west"]).max() if len(cells) else 0.0))
    return {"size": size, "west": [round(v, 7) for v in cells["west"].tolist()],
            "south": [round(v, 7) for v in cells["south"].tolist()], "n": cells["count"].astype(int).tolist(),
            "by": {o: cells[o].astype(int).tolist() for o in OUTCOMES if o in cells.columns and cells[o].any()},
            "fit": bool(fit)}


class _Job(QThread):
    """Runs ``work()`` once; ``done(result, error)`` is called on the GUI thread afterwards."""

    def __init__(self, work: Callable[[], Any], done: Callable[[Any, BaseException | None], None],
                 parent: QObject) -> None:
        super().__init__(parent)
        self._work = work
        self._done = done
        self.result: Any = None
        self.error: BaseException | None = None
        self.finished.connect(self._on_finished)

    def run(self) -> None:
        try:
            self.result = self._work()
        except BaseException as exc:  # noqa: BLE001 - any failure goes back to the GUI thread as a message
            self.error = exc

    def _on_finished(self) -> None:
        self.deleteLater()
        self._done(self.result, self.error)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if isinstance(exc, DataError) and text else f"{type(exc).__name__}: {text}".rstrip(": ")


class DatabaseSource(QObject):
    """The window's open database (at most one). See the module notes.

    Public: ``uri`` (shown form, None when none is open), ``partial``, ``busy``, ``cells``,
    ``summary`` and ``facets`` (with ``summary_for``, the filter they count), ``catalogue``,
    ``total``, ``in_view``, ``shown_kind`` ("points" or "cells"), ``new_count``, ``seq``,
    ``connection_text``; :meth:`open`, :meth:`close`, :meth:`include_new`, :meth:`histogram`,
    :meth:`span`, :meth:`headline`.
    ``ask_password(shown, refused) -> (password, remember) | None`` is set by the window (tests
    replace it); without it a server that asks for a password is an error.

    Signals: ``opened(str)`` and ``failed(str, str)`` (shown address, one-line message).
    """

    opened = Signal(str)
    failed = Signal(str, str)

    def __init__(self, state, settings: QSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.settings = settings
        self.ask_password: Callable[[str, bool], tuple[str, bool] | None] | None = None
        #: The map's size in pixels (the window sets it to the map view's); for the view's box.
        self.map_size: Callable[[], tuple[int, int]] = lambda: (1200, 800)
        self.status: Callable[[str], None] = lambda text: None  # a passing line for the status bar
        self._jobs: set[_Job] = set()
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._refresh)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._drain)
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.timeout.connect(self._reconnect)
        state.filter_changed.connect(self._on_filter_changed)
        state.view_changed.connect(self._on_view_changed)
        state.view_requested.connect(self._on_view_changed)  # a saved view's place: asked before the map says it
        state.data_changed.connect(self._on_data_changed)
        self._generation = 0  # answers of an older generation (a database closed since) are dropped
        self._open_token = 0
        self._reset()

    def _reset(self) -> None:
        self.uri: str | None = None
        self._conninfo: str | None = None  # the address the queries use (may hold a password: never shown)
        self.partial = False
        self.limit = point_limit(self.settings)
        self.cells: pd.DataFrame | None = None
        self.summary = None
        self.facets: dict[str, dict[str, int]] | None = None
        self.catalogue: dict[str, Any] | None = None
        self.total = 0
        self.in_view = 0
        self.shown_kind = "points"
        self.seq = 0
        self.new_count = 0
        self.connection_text = ""
        self._report: LoadReport | None = None
        self._empty = None  # the database's frame with no rows (its columns and types)
        self._opening: str | None = None
        self._map_running = False
        self._map_again = False
        self._panels_filter: FilterState | None = None  # the filter the summary and facets were asked for
        self.summary_for: FilterState | None = None  # the filter ``summary`` and ``facets`` count
        self._fetched: tuple | None = None  # (filter, box or None, kind, cell size) the map shows
        self._asked: FilterState | None = None  # the filter of the map's last question
        self._extent: tuple[float, float, float, float] | None = None  # box around every event (from the overview)
        self._panels_job: _Cancel | None = None
        self._timeline_job: tuple[FilterState, _Cancel] | None = None
        self._whole: tuple[FilterState, bool] | None = None  # (filter, whether all its events fit as points)
        self._timelines: dict[tuple, Histogram] = {}
        self._summaries: dict[FilterState, tuple] = {}  # (summary, facets) the server gave, by filter
        self._timeline_wanted: tuple | None = None
        self._timeline_running = False
        self._listener = None
        self._notifier: QSocketNotifier | None = None
        self._backoff = 0
        self._stale = False  # a question failed for a lost connection: ask again once back

    # -- public -------------------------------------------------------------------------------
    @property
    def conninfo(self) -> str | None:
        """The address the open database's queries use (it may hold the password: never show it)."""
        return self._conninfo

    @property
    def busy(self) -> bool:
        """True while opening, or while the map's answer is awaited."""
        return self._opening is not None or self._map_running or self._debounce.isActive()

    def open(self, uri: str, password: str | None = None, *, remember: bool = False) -> None:
        """Open the database ``uri`` in the background (asking for a password if the server wants one)."""
        shown = display_uri(uri)
        if self.uri == shown and any(d.path == shown for d in self.state.datasets):
            self.status(f"{shown} is already open")
            return
        conninfo = uri.strip()
        if password is None:
            password = self._stored_password(shown)
        if password:
            conninfo = with_password(conninfo, password)
        self._opening = shown
        self._open_token += 1  # only the newest open counts; the database open now carries on meanwhile
        generation, limit = self._open_token, point_limit(self.settings)
        self.status(f"Opening {shown}...")
        self._start(lambda: _open(conninfo, shown, limit),
                    lambda result, error: self._on_opened(generation, uri, shown, conninfo, limit, password,
                                                          remember, result, error))

    def close(self) -> None:
        """Stop following the open database (its rows stay until the dataset is closed)."""
        self._stop_listening()
        self._debounce.stop()
        self._retry.stop()
        self._generation += 1
        if self.state.database is self:
            self.state.database = None
        self._reset()
        self.state.database_changed.emit()

    def wait(self, msecs: int = 30000) -> None:
        """Block until the questions under way are answered (before the window goes)."""
        for job in list(self._jobs):
            job.wait(msecs)

    def include_new(self) -> None:
        """Bring in the events imported since the database was opened; filters and map place stay."""
        if self.uri is None:
            return
        generation, conninfo = self._generation, self._conninfo
        if self.partial:
            def work():
                from geodata import db

                return db.latest_seq(conninfo)

            def done(seq, error):
                if generation != self._generation or self._failed_quietly(error):
                    return
                self.seq, self.new_count = seq, 0
                self._timelines.clear()
                self._summaries.clear()
                self._whole = self._fetched = self._panels_filter = None  # everything asked again
                self._refresh()
        else:
            def work():
                from geodata import db

                return db.read(conninfo, provenance=True)

            def done(result, error):
                if generation != self._generation or self._failed_quietly(error):
                    return
                self.seq, self.new_count = result.seq, 0
                result.report.path = self.uri
                self._report = result.report
                self.state.replace_rows(self.uri, result.frame, result.report)
                self.state.database_changed.emit()
                self.status(f"{self.uri}: {len(result.frame):,} events")

        self._start(work, done)

    def histogram(self, unit: str, by: str) -> Histogram | None:
        """The timeline's counts for the current filter (dates left out), from the server; None until
        the answer arrives (``state.database_changed`` says so)."""
        key = (self.state.filter.replace(start=None, end=None), unit, by)
        found = self._timelines.get(key)
        if found is None and self.partial:
            self._timeline_wanted = key
            self._next_timeline()
            older = [h for (f, u, b), h in self._timelines.items() if (u, b) == (unit, by)]
            return older[-1] if older else None  # the last counts until the new ones come
        return found

    def span(self) -> tuple[int, int] | None:
        """First and last event time in the database (UTC ns), or None."""
        first = (self.catalogue or {}).get("first")
        last = (self.catalogue or {}).get("last")
        return None if first is None or last is None else (int(first.value), int(last.value))

    def headline(self) -> str:
        """What the summary panel says the map shows."""
        if self.shown_kind == "cells" and self.cells is not None:
            return (f"{self.in_view:,} events in {len(self.cells):,} cells \u2014 zoom in to see events")
        shown = int(self.state.mask.sum()) if len(self.state.mask) == len(self.state.frame) else self.in_view
        return f"{shown:,} events shown"

    # -- opening ------------------------------------------------------------------------------
    def _on_opened(self, generation: int, uri: str, shown: str, conninfo: str, limit: int, password: str | None,
                   remember: bool, result, error) -> None:
        if generation != self._open_token:
            return
        self._opening = None
        if error is not None:
            if isinstance(error, ConnectionFailed) and error.password_needed and self.ask_password is not None:
                answer = self.ask_password(shown, password is not None)
                if answer is not None:
                    self.open(uri, answer[0], remember=answer[1])
                    return
                self.status(f"{shown} was not opened (no password given)")
                self.failed.emit(shown, f"{shown}: not opened: the server asks for a password")
                return
            self.failed.emit(shown, _one_line(error))
            return
        mode, payload, seq = result
        if self.uri is not None and self.uri != shown:  # another database was open: it goes
            old = self.uri
            self.close()
            self.state.close_dataset(old)
        from mapviewer.files.loader import is_sample_file

        open_paths = [d.path for d in self.state.all_datasets]
        if open_paths and all(map(is_sample_file, open_paths)):
            self.state.clear()  # the shipped sample makes room, as it does for a file
        self.uri, self._conninfo, self.seq, self.limit = shown, conninfo, seq, limit
        self.partial = mode == "server"
        self.state.database = self
        if self.partial:
            total, catalogue, empty, extent = payload
            if [d for d in self.state.all_datasets if d.path != shown]:
                self.status(f"The files open were closed: {shown} holds more than {limit:,} events, "
                            "shown from the server")
                self.state.clear()
            self.total, self.catalogue, self._empty, self._extent = total, catalogue, empty, extent
            self._report = LoadReport(path=shown, format="postgresql", rows_read=total, rows_loaded=total)
            self.state.add_dataset(shown, empty, self._report)
            self.status(f"{shown}: {total:,} events, more than {limit:,}: shown from the server")
            self._refresh()
        else:
            self.total = len(payload.frame)
            self._report = payload.report
            self.state.add_dataset(shown, payload.frame, payload.report)
            self.status(f"{shown}: {self.total:,} events")
        add_recent_database(self.settings, uri)
        if remember and password:
            self._store_password(shown, password)
        self.state.database_changed.emit()
        self._listen()
        self.opened.emit(shown)

    def _stored_password(self, shown: str) -> str | None:
        keyring = keyring_module()
        if keyring is None:
            return None
        try:
            return keyring.get_password(KEYRING_SERVICE, shown)
        except Exception:  # noqa: BLE001 - a keyring that does not answer is no password
            return None

    def _store_password(self, shown: str, password: str) -> None:
        keyring = keyring_module()
        if keyring is None:
            return
        try:
            keyring.set_password(KEYRING_SERVICE, shown, password)
        except Exception as exc:  # noqa: BLE001 - kept in memory only, then
            self.status(f"The password could not be kept in the system keyring ({type(exc).__name__})")

    # -- state events -------------------------------------------------------------------------
    def _on_data_changed(self) -> None:
        if self.uri is None or self.state.refreshing:
            return
        names = [d.path for d in self.state.datasets]
        if self.uri not in names:  # its dataset was closed (File > Close, a saved view, Close all)
            self.close()
        elif self.partial and len(names) > 1:  # a file opened beside a database shown from the server
            shown = self.uri
            self.close()
            # after every view has taken in the file (this is one of the data_changed handlers)
            QTimer.singleShot(0, lambda: self.state.close_dataset(shown))
            self.status(f"{shown} was closed: a database whose events stay on the server is opened on its own")

    def _on_filter_changed(self) -> None:
        if self.uri is None:
            return
        if self.partial:
            flt, asked = self.state.filter, self._asked
            typing = asked is not None and flt.text != asked.text and flt.replace(text=None) == asked.replace(text=None)
            self._debounce.start(DEBOUNCE_MS if typing else 0)
        if self.new_count:
            self._count_new()

    def _on_view_changed(self, *_args) -> None:
        if self.partial:
            self._debounce.start(0)  # the map says where it is once a move has ended

    # -- the map and the panels (server mode) ---------------------------------------------------
    def _box(self) -> tuple[tuple[float, float, float, float] | None, tuple | None, float]:
        """(the view's box, the box to ask for, zoom); boxes are None before the map said where it is."""
        view = self.state.view
        if view is None:
            return None, None, START_ZOOM
        lat, lon, zoom = view
        width, height = self.map_size()
        width, height = max(int(width), 100), max(int(height), 100)
        return (view_box(lat, lon, zoom, width, height), view_box(lat, lon, zoom, width, height, PAD), zoom)

    def _refresh(self) -> None:
        """Ask the server what the map and panels need for the current filter and view."""
        self._debounce.stop()
        if not self.partial or self._conninfo is None:
            return
        if self._map_running:
            self._map_again = True
            return
        flt = self.state.filter
        box, padded, zoom = self._box()
        cell = cell_size(zoom)
        fetched = self._fetched
        if fetched is not None and fetched[0] == flt and (
                (fetched[2] == "points" and (fetched[1] is None or (box is not None and _contains(fetched[1], box))))
                or (fetched[2] == "cells" and fetched[3] == cell and box is not None and _contains(fetched[1], box)
                    and self._too_many(padded))):
            if self._panels_filter != flt:
                self._stop_stale_counts(flt)
                self._ask_panels(flt)
            return  # the map already holds what this view needs
        whole = self._whole[1] if self._whole is not None and self._whole[0] == flt else None
        conninfo, limit, generation, extent = self._conninfo, self.limit, self._generation, self._extent
        self._stop_stale_counts(flt)
        self._asked = flt
        self._map_running = True
        self._start(lambda: _map_answer(conninfo, flt, padded, cell, limit, whole, extent),
                    lambda result, error: self._on_map_answer(generation, flt, result, error))

    def _too_many(self, box: tuple[float, float, float, float]) -> bool:
        """Whether the cells shown count more events than the limit in ``box`` (else its points may fit:
        zoomed in past the finest cells, the cells stay the same size)."""
        cells = self.cells
        if cells is None:
            return True
        touching = ((cells["east"] >= box[0]) & (cells["west"] <= box[2]) & (cells["north"] >= box[1])
                    & (cells["south"] <= box[3]))
        return int(cells.loc[touching, "count"].sum()) > self.limit

    def _stop_stale_counts(self, flt: FilterState) -> None:
        """Stop the server counting for a filter that is no longer the one shown (the map's question
        goes first, and a two-core server should not spend itself on answers nobody waits for)."""
        if self._panels_job is not None and self._panels_filter != flt:
            self._panels_job.cancel()
            self._panels_job = self._panels_filter = None
        if self._timeline_job is not None and self._timeline_job[0] != flt.replace(start=None, end=None):
            self._timeline_job[1].cancel()

    def _on_map_answer(self, generation: int, flt: FilterState, result, error) -> None:
        if generation != self._generation:
            return
        self._map_running = False
        if error is not None:
            self._failed(error)
        else:
            whole, kind, box, cell, rows = result
            self._whole = (flt, whole)
            self._fetched = (flt, box, kind, cell)
            self.shown_kind = kind
            if kind == "points":
                self.cells = None
                self.in_view = len(rows)
                self.state.replace_rows(self.uri, rows, self._report)
            else:
                self.cells = rows
                self.in_view = int(rows["count"].sum())
                if len(self.state.frame):  # the points of a closer view give way to the cells
                    self.state.replace_rows(self.uri, self._empty, self._report)
            self.state.database_changed.emit()
        again = self._map_again or (error is None and self.state.filter != flt)
        if again:
            self._map_again = False
            self._debounce.start(0)
        elif error is None and self._panels_filter != flt:  # the map first, then the counts (they scan every match)
            self._ask_panels(flt)
        self._next_timeline()

    def _ask_panels(self, flt: FilterState) -> None:
        self._panels_filter = flt
        known = self._summaries.get(flt)
        if known is not None:  # counted before (since the last import taken in): at once
            self.summary, self.facets = known
            self.summary_for = flt
            self.state.database_changed.emit()
            return
        conninfo, generation, job = self._conninfo, self._generation, _Cancel()
        self._panels_job = job

        def work():
            from geodata import db

            with _connection(conninfo, job) as conn:
                return db.summary(conn, flt), db.facet_counts(conn, flt)

        def done(result, error):
            if self._panels_job is job:
                self._panels_job = None
                self._next_timeline()
            if job.cancelled or generation != self._generation or flt != self._panels_filter:
                return
            if error is not None:
                self._panels_filter = None
                self._failed(error)
                return
            self.summary, self.facets = result
            self.summary_for = flt
            self._summaries[flt] = result
            while len(self._summaries) > MAX_SUMMARIES:  # the oldest filters' counts go first
                self._summaries.pop(next(iter(self._summaries)))
            self.state.database_changed.emit()

        self._start(work, done)

    def _next_timeline(self) -> None:
        if (self._timeline_running or self._timeline_wanted is None or self._conninfo is None
                or self._map_running or self._debounce.isActive() or self._panels_job is not None):
            return  # one question at a time: the map's answer first, then the summary, then the timeline
        key, self._timeline_wanted = self._timeline_wanted, None
        if key in self._timelines:
            return
        flt, unit, by = key
        conninfo, generation, job = self._conninfo, self._generation, _Cancel()
        self._timeline_running = True
        self._timeline_job = (flt, job)

        def work():
            from geodata import db

            with _connection(conninfo, job) as conn:
                return db.timeline_counts(conn, flt, unit, by)

        def done(result, error):
            if generation != self._generation:
                return
            self._timeline_running = False
            self._timeline_job = None
            if job.cancelled:
                self._next_timeline()
                return
            if error is not None:
                self._failed(error)
                return
            self._timelines[key] = result
            while len(self._timelines) > MAX_TIMELINES:  # the oldest filters' counts go first
                self._timelines.pop(next(iter(self._timelines)))
            self.state.database_changed.emit()
            self._next_timeline()

        self._start(work, done)

    # -- live updates -------------------------------------------------------------------------
    def _listen(self) -> None:
        conninfo, generation = self._conninfo, self._generation

        def work():
            from geodata import db

            listener = db.Listener(conninfo)
            try:
                return listener, db.latest_seq(conninfo)
            except BaseException:
                listener.close()
                raise

        def done(result, error):
            if generation != self._generation:
                if result is not None:
                    result[0].close()
                return
            if error is not None:
                self._lost(error)
                return
            listener, latest = result
            self._listener = listener
            self._notifier = QSocketNotifier(listener.fileno(), QSocketNotifier.Type.Read, self)
            self._notifier.activated.connect(self._drain)
            self._poll.start()
            if self.connection_text:
                self.connection_text = ""
                self.status(f"Connected to {self.uri} again")
                self.state.database_changed.emit()
            self._backoff = 0
            if latest > self.seq:  # imports while the connection was away
                self._count_new()
            if self._stale:
                self._stale = False
                self._panels_filter = self._fetched = None
                self._refresh()

        self._start(work, done)

    def _stop_listening(self) -> None:
        self._poll.stop()
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
            self._notifier = None
        if self._listener is not None:
            try:
                self._listener.close()
            except Exception:  # noqa: BLE001 - a dead connection closes as well as it can
                pass
            self._listener = None

    def _drain(self, *_args) -> None:
        if self._listener is None:
            return
        try:
            notes = self._listener.drain()
        except DataError as exc:
            self._lost(exc)
            return
        if any(int(n.get("seq", 0) or 0) > self.seq for n in notes if isinstance(n, dict)):
            self._count_new()

    def _count_new(self) -> None:
        conninfo, generation, since, flt = self._conninfo, self._generation, self.seq, self.state.filter

        def work():
            from geodata import db

            return db.new_since(conninfo, since, flt)

        def done(n, error):
            if generation != self._generation or since != self.seq:
                return
            if error is not None:
                self._failed(error)
                return
            self.new_count = int(n)
            if self.new_count and self.settings.value(AUTO_INCLUDE_KEY, False, type=bool):
                self.include_new()
            self.state.database_changed.emit()

        self._start(work, done)

    def _lost(self, error: BaseException) -> None:
        """The connection went away: say so, try again later; the view stays as it is."""
        self._stop_listening()
        if self.uri is None:
            return
        delay = BACKOFF_S[min(self._backoff, len(BACKOFF_S) - 1)]
        self._backoff += 1
        self.connection_text = (f"Connection to {self.uri} lost ({_one_line(error)}); "
                                f"trying again in {delay} s \u2014 the map shows what it had")
        self.state.database_changed.emit()
        self._retry.start(delay * 1000)

    def _reconnect(self) -> None:
        if self.uri is not None and self._listener is None:
            self._listen()

    def _failed(self, error: BaseException) -> None:
        if isinstance(error, ConnectionFailed):
            self._stale = True
            if not self._retry.isActive() and self._listener is not None:
                self._lost(error)
            return
        self.failed.emit(self.uri or "", _one_line(error))

    def _failed_quietly(self, error: BaseException | None) -> bool:
        if error is None:
            return False
        self._failed(error)
        return True

    # -- jobs -----------------------------------------------------------------------------------
    def _start(self, work: Callable[[], Any], done: Callable[[Any, BaseException | None], None]) -> None:
        job = _Job(work, lambda result, error: (self._jobs.discard(job), done(result, error)), self)
        self._jobs.add(job)
        job.start()


class _Cancel:
    """A job's connection, so that a question nobody waits for any more is stopped on the server."""

    def __init__(self) -> None:
        self.conn = None
        self.cancelled = False

    def cancel(self) -> None:
        """Called on the GUI thread; the job's ``done`` then drops whatever comes back. The server is
        asked to stop from a thread of its own: an unreachable server takes seconds to say no."""
        self.cancelled = True
        conn = self.conn
        if conn is not None:
            threading.Thread(target=_stop_on_server, args=(conn,), name="stop a database question",
                             daemon=True).start()


def _stop_on_server(conn) -> None:
    with contextlib.suppress(Exception):  # a connection closing meanwhile: nothing to stop
        conn.cancel_safe(timeout=2)


class _Stopped(Exception):
    """The job was cancelled before it asked anything."""


@contextlib.contextmanager
def _connection(conninfo: str, job: _Cancel | None = None):
    """One connection for the few questions of one job (a connection set up per question costs more)."""
    from geodata import db

    conn = db.connect(conninfo)
    try:
        if job is not None:
            job.conn = conn
            if job.cancelled:
                raise _Stopped
        yield conn
    finally:
        if job is not None:
            job.conn = None
        conn.close()


def _open(conninfo: str, shown: str, limit: int):
    """("memory", DbLoadResult, seq) when every event fits as points, else ("server", (total, catalogue,
    empty frame, box around every event or None), seq)."""
    from geodata import db

    with _connection(conninfo) as conn:
        kind, _n = db.plan(conn, None, None, limit=limit)
        if kind == "points":
            result = db.read(conn, provenance=True)  # the source of each event: its sources are matched
            result.report.path = result.database = shown  # as the person wrote it, without a password
            return "memory", result, result.seq
        seq = db.latest_seq(conn)
        empty = db.read(conn, limit=0).frame
        degrees = db.aggregate(conn, None, None, 1.0)  # from the overview: where the events are
        extent = (float(degrees["west"].min()), float(degrees["south"].min()), float(degrees["east"].max()),
                  float(degrees["north"].max())) if len(degrees) else None
        return "server", (db.count(conn), db.catalogue(conn), empty, extent), seq


def _map_answer(conninfo: str, flt: FilterState, box, cell: float, limit: int, whole: bool | None, extent):
    """(whether all the filter's events fit as points, "points" or "cells", the box the answer covers
    (None: everywhere), cell size, rows or cells).

    Each event is found once: :func:`geodata.db.view` reads the points when at most ``limit``
    match. A view holding every event (``extent``) asks for the filter's events everywhere,
    and their cells everywhere when there are too many (a pan then needs no new answer).
    """
    from geodata import db

    everywhere = box is None or (extent is not None and _contains(box, extent))
    with _connection(conninfo) as conn:
        if whole is None:
            kind, got = db.view(conn, flt, None, cell, limit=limit, cells=everywhere)
            if kind == "points":
                return True, "points", None, cell, got.frame
            if everywhere:
                return False, "cells", None, cell, got
        elif whole:
            return True, "points", None, cell, db.read(conn, flt).frame
        elif everywhere:
            return False, "cells", None, cell, db.aggregate(conn, flt, None, cell)
        kind, got = db.view(conn, flt, box, cell, limit=limit)
        return False, kind, box, cell, got.frame if kind == "points" else got


__all__ = ["AUTO_INCLUDE_KEY", "DatabaseSource", "POINT_LIMIT_ENV", "add_recent_database", "cell_size",
           "cells_payload", "is_uri", "point_limit", "recent_databases", "view_box"]
