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
databases open there is no folder: decisions then last while the app runs.
"""
from __future__ import annotations

import os
from collections.abc import Iterable

from PySide6.QtCore import QEvent, QObject, QThread, Signal

from geodata.errors import DataError
from geodata.match import Decisions
from geodata.strikes import Strikes, count_strikes, decisions_path_for


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


class StrikeMatcher(QObject):
    """Keeps ``state.strikes`` in step with the open reports and the analyst's decisions.

    ``busy``: a matching is running. Signals: ``busy_changed(bool)``, ``notice(str)`` (one line
    for the status bar: decisions naming reports that are gone, a decisions file that cannot be
    read or written, a failed matching).
    """

    busy_changed = Signal(bool)
    notice = Signal(str)

    def __init__(self, state, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.decisions = Decisions()
        self.decisions_file: str | None = None  # the file the decisions were read from and are written to
        self._version = 0  # bumped on every decision: a matching of older decisions is done again
        self._thread: _MatchThread | None = None
        self._matched: tuple[object, int] | None = None  # (reports, version) of the strikes shown
        self._again = False
        state.data_changed.connect(self._on_data_changed)
        state.matching_changed.connect(self._on_data_changed)
        self._on_data_changed()

    @property
    def busy(self) -> bool:
        return self._thread is not None

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
        if path is not None:
            try:
                self.decisions.save(path)
            except OSError as exc:
                self.notice.emit(f"{path}: the match decisions could not be saved ({exc.strerror or exc}); "
                                 "they apply until the app is closed")
        self._schedule()

    def _decisions_path(self) -> str | None:
        return self.state.decisions_path or decisions_path_for(d.path for d in self.state.datasets)

    def _load_decisions(self) -> None:
        """Read the decisions file when another one applies now (another folder, a saved view's)."""
        path = self._decisions_path()
        if path == self.decisions_file:
            return
        self.decisions_file = path
        self._version += 1
        self.decisions = Decisions()
        if path is None:
            return
        try:
            self.decisions = Decisions.load(path)
        except DataError as exc:
            self.notice.emit(f"{exc}; matching without them")

    # -- matching -------------------------------------------------------------------------------
    def _on_data_changed(self) -> None:
        state = self.state
        if not state.datasets:
            self._matched = None
            self.decisions_file = None
            self.decisions = Decisions()
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
        if len(state.datasets) < 2 or not state.wants_strikes:
            # one file: each report is its own strike; switched off: matched when switched on
            self._matched = None
            if state.strikes is not None:
                state.set_strikes(None)
            return
        self._again = False
        decisions = Decisions()
        decisions.items = list(self.decisions.items)  # a copy: the analyst may decide while it runs
        thread = _MatchThread(state.reports, decisions, self._version, state.filter.tz)
        _RUNNING.add(thread)  # kept alive until it ends, whatever happens to the window
        thread.finished.connect(lambda t=thread: self._on_finished(t))
        self._thread = thread
        self.busy_changed.emit(True)
        thread.start()

    def _on_finished(self, thread: _MatchThread) -> None:
        _RUNNING.discard(thread)
        thread.deleteLater()
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
        """Wait for a matching still running (before its window closes or the app quits)."""
        if self._thread is not None:
            self._thread.wait(msecs)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt name
        if event.type() == QEvent.Type.Close:  # the window closes: no thread may outlive it
            self.stop()
        return False


#: Matchings running: a thread's Python object must live until the thread ends.
_RUNNING: set[_MatchThread] = set()
