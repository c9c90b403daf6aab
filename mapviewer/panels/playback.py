"""Timeline playback: steps the date filter through time.

Each frame sets the date range on the one :class:`~mapviewer.state.AppState`
(``state.set_filter``); the map, legend, table and summary follow because they
listen to ``state.filter_changed``. Nothing here talks to another widget.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QToolButton, QWidget

from geodata.timeline import describe_window, frame_filter, parse_duration, playback_frames

#: Frames per second at 1x speed.
BASE_FPS = 2.0
SPEEDS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
STEPS: tuple[str, ...] = ("1h", "6h", "1d", "7d", "30d")
#: Window choices: label -> (window, cumulative); window None means "one step".
MODES: dict[str, tuple[str | None, bool]] = {
    "Step only": (None, False),
    "7-day window": ("7d", False),
    "30-day window": ("30d", False),
    "Cumulative": (None, True),
}


class Playback(QObject):
    """Plays the date filter forward through frames.

    ``times`` returns the sorted int64 UTC ns times of the events the current
    filters (other than the date) keep; frames cover their span.
    """

    frame_changed = Signal(int, int)  # index, count
    playing_changed = Signal(bool)

    def __init__(self, state, times: Callable[[], np.ndarray], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._times = times
        self.step = "1d"
        self.window: str | None = "7d"
        self.cumulative = False
        self.speed = 1.0
        self.loop = False
        self.skip_empty = False
        self.frames: list[tuple[pd.Timestamp, pd.Timestamp]] = []
        self.index = -1
        self._stale = True
        self._seek_to: int | None = None  # UTC ns the next frames should start from
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._on_tick)
        self._set_interval()
        state.filter_changed.connect(self._on_filter_changed)

    # -- settings -----------------------------------------------------------
    def configure(self, *, step: str | None = None, window: str | None | object = ...,
                  cumulative: bool | None = None, speed: float | None = None, loop: bool | None = None,
                  skip_empty: bool | None = None) -> None:
        """Change playback settings; frames are rebuilt on the next move."""
        if step is not None:
            parse_duration(step)
            self.step = step
            self._stale = True
        if window is not ...:
            if window is not None:
                parse_duration(window)
            self.window = window  # type: ignore[assignment]
            self._stale = True
        if cumulative is not None:
            self.cumulative = cumulative
            self._stale = True
        if skip_empty is not None:
            self.skip_empty = skip_empty
            self._stale = True
        if loop is not None:
            self.loop = loop
        if speed is not None:
            self.speed = min(max(speed, SPEEDS[0]), SPEEDS[-1])
            self._set_interval()

    def invalidate(self) -> None:
        """The data or the non-date filters changed: rebuild frames on the next move."""
        self._stale = True

    def seek(self, when: pd.Timestamp) -> None:
        """Make the next frame the one ending just after ``when``."""
        self._seek_to = pd.Timestamp(when).value
        self._stale = True

    @property
    def is_playing(self) -> bool:
        return self._timer.isActive()

    def current(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        return self.frames[self.index] if 0 <= self.index < len(self.frames) else None

    # -- moving -------------------------------------------------------------
    def build_frames(self) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
        """Frames over the span of the events the current filters keep."""
        times = self._times()
        tz = self.state.filter.tz
        if not len(times):
            return []
        start = pd.Timestamp(int(times[0]), tz="UTC").tz_convert(tz)
        end = pd.Timestamp(int(times[-1]) + 1, tz="UTC").tz_convert(tz)  # the last event is in the last frame
        if parse_duration(self.step) % pd.Timedelta(days=1) == pd.Timedelta(0):
            start = start.normalize()  # day steps start at local midnight
        return playback_frames(start, end, self.step, window=self.window, cumulative=self.cumulative,
                               skip_empty=self.skip_empty, times=times, tz=tz)

    def _refresh(self) -> None:
        if not self._stale:
            return
        current = self.current()
        self.frames = self.build_frames()
        self._stale = False
        if self._seek_to is not None:
            ends = np.array([b.value for _, b in self.frames], dtype=np.int64)
            self.index = int(np.searchsorted(ends, self._seek_to, "right")) - 1
            self._seek_to = None
        elif current is not None:
            # Keep the position across a rebuild: the frame ending at or after the old end.
            ends = np.array([b.value for _, b in self.frames], dtype=np.int64)
            self.index = min(int(np.searchsorted(ends, current[1].value, "left")), len(self.frames) - 1)
        else:
            self.index = -1

    def go_to(self, index: int) -> None:
        """Show frame ``index`` (sets the date filter)."""
        self._refresh()
        if not self.frames:
            return
        self.index = max(0, min(index, len(self.frames) - 1))
        a, b = self.frames[self.index]
        self.state.set_filter(frame_filter(self.state.filter, a, b))
        self.frame_changed.emit(self.index, len(self.frames))

    def step_forward(self) -> None:
        self._refresh()
        if not self.frames:
            return
        if self.index + 1 >= len(self.frames):
            if not self.loop:
                self.pause()
                return
            self.go_to(0)
        else:
            self.go_to(self.index + 1)

    def step_back(self) -> None:
        self._refresh()
        if not self.frames:
            return
        if self.index <= 0:
            self.go_to(len(self.frames) - 1 if self.loop else 0)
        else:
            self.go_to(self.index - 1)

    def play(self) -> None:
        self._refresh()
        if not self.frames:
            return
        if self.index + 1 >= len(self.frames):
            self.index = -1  # at the end: start again from the beginning
        self._timer.start()
        self.playing_changed.emit(True)
        self.step_forward()

    def pause(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self.playing_changed.emit(False)

    def toggle(self) -> None:
        self.pause() if self.is_playing else self.play()

    def _set_interval(self) -> None:
        self._timer.setInterval(max(1, round(1000 / (BASE_FPS * self.speed))))

    def _on_tick(self) -> None:
        self.step_forward()

    def _on_filter_changed(self) -> None:
        # A date range chosen elsewhere (filter panel, brushing) wins over playing on.
        current = self.current()
        if self.is_playing and current is not None:
            shown = frame_filter(self.state.filter, *current)
            if (shown.start, shown.end) != (self.state.filter.start, self.state.filter.end):
                self.pause()


class PlaybackControls(QWidget):
    """Buttons and choices for a :class:`Playback`, plus the current date label."""

    def __init__(self, playback: Playback, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.playback = playback
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.back_button = QToolButton(text="◀|", toolTip="Step back")
        self.play_button = QToolButton(text="▶", toolTip="Play / pause")
        self.forward_button = QToolButton(text="|▶", toolTip="Step forward")
        self.step_box = QComboBox(toolTip="Playback step")
        self.step_box.addItems(STEPS)
        self.step_box.setCurrentText(playback.step)
        self.mode_box = QComboBox(toolTip="What each frame shows")
        self.mode_box.addItems(MODES)
        self.mode_box.setCurrentText("7-day window")
        self.speed_box = QComboBox(toolTip="Playback speed")
        for speed in SPEEDS:
            self.speed_box.addItem(f"{speed:g}x", speed)
        self.speed_box.setCurrentIndex(SPEEDS.index(1.0))
        self.loop_box = QCheckBox("Loop")
        self.skip_box = QCheckBox("Skip empty")
        self.date_label = QLabel("")
        self.date_label.setObjectName("playbackDate")
        for widget in (self.back_button, self.play_button, self.forward_button, self.step_box, self.mode_box,
                       self.speed_box, self.loop_box, self.skip_box, self.date_label):
            layout.addWidget(widget)
        layout.addStretch(1)

        self.back_button.clicked.connect(playback.step_back)
        self.forward_button.clicked.connect(playback.step_forward)
        self.play_button.clicked.connect(playback.toggle)
        self.step_box.currentTextChanged.connect(lambda text: playback.configure(step=text))
        self.mode_box.currentTextChanged.connect(self._on_mode)
        self.speed_box.currentIndexChanged.connect(
            lambda i: playback.configure(speed=float(self.speed_box.itemData(i))))
        self.loop_box.toggled.connect(lambda on: playback.configure(loop=on))
        self.skip_box.toggled.connect(lambda on: playback.configure(skip_empty=on))
        playback.playing_changed.connect(self._on_playing)
        playback.frame_changed.connect(self._on_frame)

    def _on_mode(self, label: str) -> None:
        window, cumulative = MODES[label]
        self.playback.configure(window=window, cumulative=cumulative)

    def _on_playing(self, playing: bool) -> None:
        self.play_button.setText("❚❚" if playing else "▶")

    def _on_frame(self, index: int, count: int) -> None:
        current = self.playback.current()
        if current is None:
            self.date_label.setText("")
            return
        text = describe_window(current[0], current[1], self.playback.state.filter.tz)
        self.date_label.setText(f"{text}  ({index + 1}/{count})")
