"""Counting each strike once in the app: the open reports matched in a worker thread.

A :class:`StrikeMatcher` watches the state: whenever the open reports change (a file opened,
closed or re-read), or the analyst decides on a match, it matches the reports of the open
files in a worker thread (:func:`geodata.strikes.count_strikes`; 100,000 reports take a few
seconds) and hands the result to :meth:`AppState.set_strikes` on the UI thread. A result for
reports no longer open is dropped and the newest reports are matched instead.

The analyst's decisions (confirm, split, join: :class:`geodata.match.Decisions`) are kept in
a JSON file, by default ``strike-matches.json`` in the folder of the first file open (a saved
view names its own, see :meth:`AppState.set_decisions_path`); they are read when the data
are opened, applied on every match, written at once when the analyst decides, and the
decisions naming reports that are gone are said in :attr:`StrikeMatcher.notice`. With only
databases open there is no folder: the decisions are then kept in the first database
(:mod:`geodata.db.decisions`), read and written in worker threads; a user who may only read
sees them, and a decision of theirs lasts while the app runs.

A database holds the reports of several sources (one per import source): they are matched as
files are, on their own too.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, Callable

from PySide6.QtCore import QEvent, QObject, QThread, Signal

from geodata.errors import DataError
from geodata.match import Decision, Decisions
from geodata.strikes import Strikes, count_strikes, decisions_home
from geodata.uri import is_uri


class _MatchThread(QThread):
    """Runs one matching; the outcome is picked up on the UI thread after ``finished``."""

    def __init__(self, reports, decisions: Decisions, version: int, tz: str) -> None:
        super().__init__()
        self.reports = reports
        self.decisions = decisions
        self.version = version
        self.tz = tz
        self.result: Strikes | None = None
        self.error: str | None = None

    def run(self) -> None:
        try:
            self.result = count_strikes(self.reports, decisions=self.decisions, tz=self.tz)
            _ = (self.result.result.groups, self.result.result.possible)  # made here: the Matches panel lists them
        except DataError as exc:
            self.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - matching failed: the app shows every report, with a message
            self.error = f"reports could not be matched ({type(exc).__name__}: {exc})"


class _Job(QThread):
    """Runs ``work`` (reading or writing the decisions a database keeps); ``result``/``error`` after ``finished``."""

    def __init__(self, work: Callable[[], Any]) -> None:
        super().__init__()
        self.work = work
        self.result: Any = None
        self.error: str | None = None

    def run(self) -> None:
        try:
            self.result = self.work()
        except DataError as exc:
            self.error = " ".join(str(exc).split())
        except Exception as exc:  # noqa: BLE001 - said in the status bar; the decisions stay in memory
            self.error = f"{type(exc).__name__}: {exc}"


class StrikeMatcher(QObject):
    """Keeps ``state.strikes`` in step with the open reports and the analyst's decisions.

    ``busy``: a matching is running, or the decisions a database keeps are being read. Signals:
    ``busy_changed(bool)``, ``notice(str)`` (one line for the status bar: decisions naming reports
    that are gone, decisions that cannot be read or written, a failed matching).
    """

    busy_changed = Signal(bool)
    notice = Signal(str)

    def __init__(self, state, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.decisions = Decisions()
        self.decisions_file: str | None = None  # the file (or database) the decisions were read from and go to
        self._store: str | None = None  # the address of that database (it may hold a password: never shown)
        self._loading: _Job | None = None  # reading a database's decisions: matched once they are in
        self._saving: _Job | None = None
        self._unsaved: list[tuple[str, Decision]] = []  # (database address, decision) to write, in order
        self._version = 0  # bumped on every decision: a matching of older decisions is done again
        self._thread: _MatchThread | None = None
        self._matched: tuple[object, int] | None = None  # (reports, version) of the strikes shown
        self._again = False
        self._closed = False  # the window closed: what a worker brings back after that is dropped
        state.data_changed.connect(self._on_data_changed)
        state.matching_changed.connect(self._on_data_changed)
        self._on_data_changed()

    @property
    def busy(self) -> bool:
        return self._thread is not None or self._loading is not None

    # -- decisions ------------------------------------------------------------------------------
    def confirm(self, refs: Iterable[tuple[str, str]]) -> None:
        """These reports are one strike (checked by the analyst)."""
        self._decide(lambda d: d.confirm(refs))

    def split(self, ref: tuple[str, str], others: Iterable[tuple[str, str]]) -> None:
        """Take one report out of its strike: never again with ``others``."""
        self._decide(lambda d: d.split(ref, others))

    def split_group(self, refs: Iterable[tuple[str, str]]) -> None:
        """Every one of these reports is a strike of its own."""
        self._decide(lambda d: d.split_group(refs))

    def join(self, refs: Iterable[tuple[str, str]]) -> None:
        """The reports of two or more strikes are one strike."""
        self._decide(lambda d: d.join(refs))

    def _decide(self, change) -> None:
        change(self.decisions)
        self._version += 1
        path = self.decisions_file
        if self._store is not None and path is not None:
            self._unsaved.append((self._store, self.decisions.items[-1]))  # the decision just made
            self._save_next()
        elif path is not None:
            try:
                self.decisions.save(path)
            except OSError as exc:
                self.notice.emit(f"{path}: the match decisions could not be saved ({exc.strerror or exc}); "
                                 "they apply until the app is closed")
        self._schedule()

    def _decisions_path(self) -> str | None:
        return self.state.decisions_path or decisions_home(d.path for d in self.state.datasets)

    def _load_decisions(self) -> None:
        """Read the decisions when others apply now (another folder, a saved view's file, a database)."""
        path = self._decisions_path()
        if path == self.decisions_file:
            return
        self.decisions_file = path
        self._version += 1
        self.decisions = Decisions()
        self._store = None
        if path is None:
            return
        if is_uri(path):
            database = self.state.database
            self._store = database.conninfo if database is not None and database.uri == path else path
            self._load_stored(self._store, path)
            return
        try:
            self.decisions = Decisions.load(path)
        except DataError as exc:
            self.notice.emit(f"{exc}; matching without them")

    def _load_stored(self, store: str, shown: str) -> None:
        """Read the decisions a database keeps, in a worker thread; matched once they are in."""
        from geodata.db import decisions as stored

        job = _Job(lambda: stored.load(store))
        self._start(job, lambda: self._on_loaded(job, shown))
        self._loading = job
        self.busy_changed.emit(True)

    def _on_loaded(self, job: _Job, shown: str) -> None:
        if job is not self._loading:
            return
        self._loading = None
        if shown == self.decisions_file:
            if job.error is not None:
                self.notice.emit(f"{job.error}; decisions made now apply until the app is closed")
            else:  # decisions made while they were read come after them
                self.decisions = Decisions([*job.result.items, *self.decisions.items])
                self._version += 1
        self.busy_changed.emit(False)
        self._schedule()

    def _save_next(self) -> None:
        """Write the decisions not yet written (one worker at a time, so they are kept in the order made)."""
        if self._saving is not None or not self._unsaved:
            return
        from geodata.db import decisions as stored

        store = self._unsaved[0][0]
        batch = [d for s, d in self._unsaved if s == store]
        self._unsaved = [u for u in self._unsaved if u[0] != store]
        job = _Job(lambda: stored.record(store, batch))
        self._start(job, lambda: self._on_saved(job))
        self._saving = job

    def _on_saved(self, job: _Job) -> None:
        self._saving = None
        if job.error is not None:
            self.notice.emit(f"{job.error}; the decision applies until the app is closed")
        self._save_next()

    def _start(self, job: QThread, done: Callable[[], None]) -> None:
        _RUNNING.add(job)  # kept alive until it ends, whatever happens to the window

        def finished() -> None:
            _RUNNING.discard(job)
            job.deleteLater()
            if not self._closed:  # a closed window's map is gone: nothing to show the result on
                done()

        job.finished.connect(finished)
        job.start()

    # -- matching -------------------------------------------------------------------------------
    def _on_data_changed(self) -> None:
        state = self.state
        if not state.datasets:
            self._matched = None
            self.decisions_file = self._store = None
            self.decisions = Decisions()
            if self._loading is not None:  # what it brings back is for data no longer open
                self._loading = None
                self.busy_changed.emit(False)
            return
        self._load_decisions()
        if self._matched is not None and self._matched[0] is state.reports and self._matched[1] == self._version:
            return
        self._schedule()

    def _schedule(self) -> None:
        """Match the open reports now, or once the matching running ends."""
        state = self.state
        if self._thread is not None:
            self._again = True
            return
        if self._loading is not None:  # matched once the decisions are in
            return
        # on by default with two or more sources (state.wants_strikes counts a database as one until matched)
        if _sources(state) < 2 or state.count_once is False:
            # one file: each report is its own strike; switched off: matched when switched on
            self._matched = None
            if state.strikes is not None:
                state.set_strikes(None)
            return
        self._again = False
        decisions = Decisions()
        decisions.items = list(self.decisions.items)  # a copy: the analyst may decide while it runs
        thread = _MatchThread(state.reports, decisions, self._version, state.filter.tz)
        self._thread = thread
        self.busy_changed.emit(True)
        self._start(thread, lambda: self._on_finished(thread))

    def _on_finished(self, thread: _MatchThread) -> None:
        if thread is not self._thread:
            return
        self._thread = None
        state = self.state
        current = thread.reports is state.reports and thread.version == self._version
        if current and not self._again:
            if thread.error is not None:
                self.notice.emit(f"Each strike counted once: {thread.error}")
                state.set_strikes(None)
            else:
                self._matched = (thread.reports, thread.version)  # before the state says its data changed
                if state.set_strikes(thread.result):
                    self._say_missing(thread.result)
                else:
                    self._matched = None
        self.busy_changed.emit(False)
        if not current or self._again:
            self._schedule()

    def _say_missing(self, strikes: Strikes) -> None:
        missing = self.decisions.missing(strikes.frames())
        if not missing:
            return
        name = os.path.basename(self.decisions_file or "") or "match decisions"
        listed = "; ".join(str(m) for m in missing[:3]) + (f"; and {len(missing) - 3} more" if len(missing) > 3 else "")
        many = len(missing) != 1
        self.notice.emit(f"{name}: the decisions name {len(missing)} report{'s' if many else ''} that "
                         f"{'are' if many else 'is'} gone: {listed}")

    def stop(self, msecs: int = 60000) -> None:
        """Wait for a matching, or a reading or writing of decisions, still running (before its window
        closes or the app quits)."""
        for job in (self._thread, self._loading, self._saving):
            if job is not None:
                job.wait(msecs)
        if self._unsaved:  # made while the last ones were written: written now, before the window goes
            from geodata.db import decisions as stored

            pending, self._unsaved = self._unsaved, []
            for store in dict.fromkeys(s for s, _ in pending):
                try:
                    stored.record(store, [d for s, d in pending if s == store])
                except DataError:  # a user who may only read was told at the first decision
                    pass

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt name
        if event.type() == QEvent.Type.Close:  # the window closes: no thread may outlive it
            self.stop()
            self._closed = True
        return False


def _sources(state) -> int:
    """Sources open: a file is one, a database as many as the sources its events were imported from."""
    count = 0
    database = state.database
    for dataset in state.datasets:
        if database is not None and database.partial and dataset.path == database.uri:
            count += 1  # its events stay on the server (the frame holds the view's): not matched
        elif is_uri(dataset.path) and "import_source" in state.reports.columns:
            rows = state.reports.loc[state.reports["dataset"] == dataset.path, "import_source"]
            count += max(1, int(rows.nunique()))
        else:
            count += 1
    return count


#: Matchings and database jobs running: a thread's Python object must live until the thread ends.
_RUNNING: set[QThread] = set()
