"""Open incident files off the UI thread, with a progress dialog, cancel and recent files.

A :class:`Loader` reads one file at a time in a worker thread (by default with
``geodata.read_incidents``, or ``geodata.waves.read_waves`` for an attack-waves
report) and hands the result back on the UI thread through its signals; it
never touches the application state itself (the main window does). A file that
cannot be read becomes a one-line message, never a crash.
"""
from __future__ import annotations

import os
from collections import deque
from typing import Callable, Iterable

from PySide6.QtCore import QObject, QSettings, QThread, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QProgressDialog, QWidget

from geodata.text import visible_text
from mapviewer.files.views import not_a_file

RECENT_KEY = "recent_files"
MAX_RECENT = 10
SHOW_PROGRESS_AFTER_MS = 400

Reader = Callable[[str], object]


def read_data_file(path: str, *, all_events: bool = False):
    """A LoadResult, or a geodata.waves.WavesResult for an attack-waves report (waves are not points).

    ``all_events``: keep a source's non-strike rows too (see ``geodata.read_incidents``).
    """
    from geodata import LoadResult, read_incidents
    from geodata.memory import repeated_text_as_categories
    from geodata.readers.airforce import WavesFileError
    from geodata.waves import read_waves

    try:
        # the app keeps places as two float columns, never as shapely points (geodata.points), and
        # repeated text once per distinct value: a million events in 80 MB instead of 410
        result = read_incidents(path, all_events=all_events, geometry=False)
        return LoadResult(repeated_text_as_categories(result.frame), result.report)
    except WavesFileError:
        return read_waves(path)


def is_view_file(path: str) -> bool:
    """True for a saved view: a ``.json`` file holding a JSON object that is not GeoJSON.

    GeoJSON is data, and a TimeMap export is a JSON array; anything else that
    claims to be a view gets the view reader's own clear message.
    """
    if not path.lower().endswith(".json"):
        return False
    if not_a_file(path) is not None:  # a FIFO, device or folder: never opened here (a FIFO would hang);
        return os.path.lexists(path)  # one that exists goes to the view reader, which names what it is
    try:
        with open(path, encoding="utf-8-sig") as handle:
            head = handle.read(4096)
    except (OSError, UnicodeDecodeError):
        return False
    return (head.lstrip().startswith("{")
            and '"FeatureCollection"' not in head and '"Feature"' not in head)


def _one_line(text: str) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else ""


def error_message(path: str, exc: BaseException) -> str:
    """A one-line message for a failed read that names the file."""
    from geodata.errors import DataError

    text = _one_line(str(exc))
    if isinstance(exc, DataError) and text:
        return text if path in text or os.path.basename(path) in text else f"{path}: {text}"
    # Not a data error: a reader bug or an OS error; still one line, still naming the file.
    detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return f"{path}: cannot read this file ({detail})"


class _ReadThread(QThread):
    """Runs the reader once; the outcome is picked up on the UI thread after ``finished``."""

    def __init__(self, path: str, reader: Reader, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self._reader = reader
        self.result: object | None = None
        self.error: str | None = None
        self.exception: BaseException | None = None  # what the reader raised (callers tell kinds apart)
        self.cancelled = False

    def run(self) -> None:
        try:
            self.result = self._reader(self.path)
        except BaseException as exc:  # noqa: BLE001 - any failure becomes a message, the app keeps running
            self.exception = exc
            self.error = error_message(self.path, exc)


class Loader(QObject):
    """Reads files one after another in a worker thread.

    Signals: ``loaded(path, result)`` (a LoadResult or a WavesResult), ``failed(path, message)``,
    ``cancelled()`` and ``idle()`` (nothing left to read).
    """

    loaded = Signal(str, object)
    failed = Signal(str, str)
    cancelled = Signal()
    idle = Signal()

    def __init__(self, dialog_parent: QWidget | None = None, reader: Reader | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._dialog_parent = dialog_parent
        self._reader = reader or read_data_file
        self._queue: deque[tuple[str, Reader]] = deque()  # (path, the reader that reads it)
        self._current: _ReadThread | None = None
        self._stray: set[_ReadThread] = set()  # cancelled reads still finishing in the background
        self._progress: QProgressDialog | None = None
        self._batch_total = 0
        self._batch_done = 0
        self.last_error: BaseException | None = None  # the exception behind the latest ``failed``

    @property
    def busy(self) -> bool:
        return self._current is not None or bool(self._queue)

    @property
    def pending(self) -> list[str]:
        """Paths queued or being read."""
        return ([self._current.path] if self._current is not None else []) + [p for p, _ in self._queue]

    def open_files(self, paths: Iterable[str], reader: Reader | None = None) -> None:
        """Queue ``paths`` for reading (with ``reader``, default the loader's); results arrive through the signals."""
        new = [(os.fspath(p), reader or self._reader) for p in paths]
        if not new:
            return
        if not self.busy:
            self._batch_total = 0
            self._batch_done = 0
        self._queue.extend(new)
        self._batch_total += len(new)
        if self._current is None:
            self._start_next()

    def cancel(self) -> None:
        """Stop waiting for the current file and drop the queue; the app keeps what it had."""
        if not self.busy:
            return
        self._queue.clear()
        if self._current is not None:
            # A reader cannot be interrupted safely: let it finish and throw the result away.
            self._current.cancelled = True
            self._stray.add(self._current)
            self._current = None
        self._close_progress()
        self.cancelled.emit()
        self.idle.emit()

    def wait_stray(self, msecs: int = 30000) -> None:
        """Block until cancelled reads have ended (used before the application quits)."""
        for thread in list(self._stray):
            thread.wait(msecs)

    # -- internals --------------------------------------------------------
    def _start_next(self) -> None:
        if not self._queue:
            self._current = None
            self._close_progress()
            self.idle.emit()
            return
        path, reader = self._queue.popleft()
        thread = _ReadThread(path, reader, self)
        thread.finished.connect(lambda t=thread: self._on_thread_finished(t))
        self._current = thread
        self._show_progress(path)
        thread.start()

    def _on_thread_finished(self, thread: _ReadThread) -> None:
        thread.deleteLater()
        if thread.cancelled:
            self._stray.discard(thread)
            return
        self._batch_done += 1
        self._current = None
        if thread.error is not None:
            self.last_error = thread.exception
            self.failed.emit(thread.path, thread.error)
        else:
            self.loaded.emit(thread.path, thread.result)
        self._start_next()

    def _show_progress(self, path: str) -> None:
        if self._progress is None:
            dialog = QProgressDialog(self._dialog_parent)
            dialog.setWindowTitle("Opening")
            label = QLabel()
            label.setTextFormat(Qt.TextFormat.PlainText)  # file names are shown as they are
            dialog.setLabel(label)
            dialog.setRange(0, 0)  # the readers report no progress: a busy indicator
            dialog.setWindowModality(Qt.WindowModality.WindowModal)
            dialog.setAutoClose(False)
            dialog.setAutoReset(False)
            dialog.canceled.connect(self.cancel)
            dialog.hide()
            self._progress = dialog
            # Shown only when a read takes a while, so quick reads do not flash a dialog.
            QTimer.singleShot(SHOW_PROGRESS_AFTER_MS, dialog, self._reveal_progress)
        count = f" ({self._batch_done + 1} of {self._batch_total})" if self._batch_total > 1 else ""
        self._progress.setLabelText(visible_text(f"Reading {os.path.basename(path)}{count}..."))

    def _reveal_progress(self) -> None:
        if self._progress is not None and self.busy:
            self._progress.show()

    def _close_progress(self) -> None:
        if self._progress is not None:
            dialog, self._progress = self._progress, None
            dialog.canceled.disconnect(self.cancel)
            dialog.hide()
            dialog.deleteLater()


# -- recent files ------------------------------------------------------------
def recent_files(settings: QSettings) -> list[str]:
    """The remembered recent files, newest first."""
    value = settings.value(RECENT_KEY, [])
    if isinstance(value, str):  # QSettings returns a bare string for a one-item list
        value = [value]
    return [str(v) for v in (value or []) if v]


def add_recent_file(settings: QSettings, path: str) -> list[str]:
    """Put ``path`` first in the recent files and return the new list."""
    path = os.path.abspath(path)
    files = [path] + [p for p in recent_files(settings) if p != path]
    files = files[:MAX_RECENT]
    settings.setValue(RECENT_KEY, files)
    return files


def remove_recent_file(settings: QSettings, path: str) -> list[str]:
    files = [p for p in recent_files(settings) if p != path]
    settings.setValue(RECENT_KEY, files)
    return files


# -- the shipped sample ------------------------------------------------------
def _sample_candidates() -> list[str]:
    from geodata import sample

    paths = [sample.sample_path()]
    waves = getattr(sample, "sample_waves_path", None)  # the synthetic Air Force report, when shipped
    if callable(waves):
        paths.append(waves())
    return [os.path.abspath(os.fspath(p)) for p in paths]


def sample_files() -> list[str]:
    """The shipped synthetic sample the app opens when given no file: the incidents, then the
    attack-wave report when the install has one."""
    return [p for p in _sample_candidates() if os.path.isfile(p)]


def is_sample_file(path: str) -> bool:
    """True for a file of the shipped synthetic sample (a user's file replaces it when it is all that is open)."""
    return os.path.abspath(os.fspath(path)) in _sample_candidates()
