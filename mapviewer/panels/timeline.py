"""Timeline panel under the map: stacked histogram, brushing, playback and animation export.

The histogram counts the events the current filters keep, leaving the date
range out (the date range is what the timeline chooses); the selected range is
highlighted. Brushing sets the date filter on the state; the panel redraws on
``state.filter_changed`` like every other view and never signals a widget.
"""
from __future__ import annotations

import html
import re
import threading

import numpy as np
import pandas as pd
from PySide6.QtCore import QObject, QPointF, QRectF, QSize, Qt, QThread, Signal
from PySide6.QtGui import QBrush, QColor, QMouseEvent, QPainter, QPen, QWheelEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressDialog,
    QPushButton,
    QSizePolicy,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from geodata.errors import DataError
from geodata.style import CLASS_STYLE, OUTCOME_STYLE
from geodata.text import visible_text
from geodata.timeline import Histogram, TimelineIndex, choose_bin, date_range_ns, frame_filter
from mapviewer.panels.playback import BASE_FPS, Playback, PlaybackControls

# From the one style table: class colours there are distinct from every outcome colour.
_STACK_COLOURS = {
    "outcome": [QColor(s.colour) for s in OUTCOME_STYLE.values()],
    "class": [QColor(s.colour) for s in CLASS_STYLE.values()],
}
_LABELS = {"outcome": [s.label for s in OUTCOME_STYLE.values()],
           "class": [s.label for s in CLASS_STYLE.values()]}
_ISO_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")  # year first: no day/month question
_AXIS_HEIGHT = 18  # pixels under the bars for the date labels
#: Frames per second of an exported animation: the playback's (1x = BASE_FPS), within these bounds.
ANIMATION_FPS = (1.0, 30.0)
_MIN_SPAN_NS = 6 * 3600 * 10**9  # zooming in stops at six hours across


def _stamp(ns: int, tz: str) -> pd.Timestamp:
    return pd.Timestamp(int(ns), tz="UTC").tz_convert(tz)


def bin_label(start_ns: int, end_ns: int, unit: str, tz: str) -> str:
    """A bin's dates as a person reads them."""
    a = _stamp(start_ns, tz)
    if unit == "hour":
        return f"{a:%Y-%m-%d %H:00}–{_stamp(end_ns, tz):%H:00}"
    if unit == "day":
        return f"{a:%a %Y-%m-%d}"
    if unit == "week":
        return f"week of {a:%Y-%m-%d}"
    return f"{a:%B %Y}"


class HistogramView(QWidget):
    """The painted histogram. Owns the visible axis range (``view_lo``/``view_hi``, UTC ns)."""

    def __init__(self, panel: TimelinePanel) -> None:
        super().__init__(panel)
        self.panel = panel
        self.view_lo: int = 0
        self.view_hi: int = 1
        self.setMouseTracking(True)
        self.setMinimumHeight(90)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._brush_from: float | None = None
        self._brush_to: float | None = None
        self._pan_from: tuple[float, int, int] | None = None

    # -- geometry -------------------------------------------------------------
    def plot_rect(self) -> QRectF:
        return QRectF(4, 4, max(1, self.width() - 8), max(1, self.height() - 8 - _AXIS_HEIGHT))

    def x_of(self, ns: int | float) -> float:
        rect = self.plot_rect()
        return rect.left() + (ns - self.view_lo) / max(1, self.view_hi - self.view_lo) * rect.width()

    def ns_at(self, x: float) -> int:
        rect = self.plot_rect()
        return int(self.view_lo + (x - rect.left()) / rect.width() * (self.view_hi - self.view_lo))

    def unit(self) -> str:
        """Bin unit for the span shown: bins at least about 4 pixels wide."""
        return choose_bin((self.view_hi - self.view_lo) / 1e9, max_bins=max(10, int(self.plot_rect().width() / 4)))

    def set_view(self, lo: int, hi: int) -> None:
        if hi - lo < _MIN_SPAN_NS:
            middle = (lo + hi) // 2
            lo, hi = middle - _MIN_SPAN_NS // 2, middle + _MIN_SPAN_NS // 2
        self.view_lo, self.view_hi = int(lo), int(hi)
        self.update()

    def visible_histogram(self) -> Histogram | None:
        hist = self.panel.histogram(self.unit())
        return None if hist is None else hist.window(self.view_lo, self.view_hi)

    # -- painting -------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802 - Qt name
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().base())
        rect = self.plot_rect()
        hist = self.visible_histogram()
        tz = self.panel.tz
        self._paint_selection(painter, rect)  # under the bars, so they keep their colours
        if hist is not None and len(hist.counts):
            totals = hist.totals
            top = float(totals.max()) or 1.0
            scale = rect.height() / top
            colours = _STACK_COLOURS[hist.by]
            painter.setPen(Qt.PenStyle.NoPen)
            xs = [self.x_of(e) for e in hist.edges]
            for i in range(len(hist.counts)):
                x0, x1 = xs[i], xs[i + 1]
                width = max(1.0, x1 - x0 - (1 if x1 - x0 > 4 else 0))
                y = rect.bottom()
                for j, colour in enumerate(colours):
                    exact = (hist.counts[i, j] - hist.spread[i, j]) * scale
                    spread = hist.spread[i, j] * scale
                    if exact > 0:
                        painter.fillRect(QRectF(x0, y - exact, width, exact), colour)
                        y -= exact
                    if spread > 0:
                        # Imprecise times are hatched: never drawn as if they were exact.
                        light = QColor(colour)
                        light.setAlpha(90)
                        painter.fillRect(QRectF(x0, y - spread, width, spread), light)
                        painter.fillRect(QRectF(x0, y - spread, width, spread),
                                         QBrush(colour, Qt.BrushStyle.BDiagPattern))
                        y -= spread
            painter.setPen(self.palette().text().color())
            painter.drawText(QRectF(rect.left() + 2, rect.top(), 200, 14), Qt.AlignmentFlag.AlignLeft,
                             f"{top:,.0f} per {hist.unit}")
        elif self.panel.index is None or self.panel.index.lo is None:
            painter.setPen(self.palette().text().color())
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "No events loaded")
        self._paint_axis(painter, rect, tz)
        painter.end()

    def _paint_selection(self, painter: QPainter, rect: QRectF) -> None:
        lo, hi = date_range_ns(self.panel.state.filter)
        if self._brush_from is not None and self._brush_to is not None:
            lo, hi = sorted((self.ns_at(self._brush_from), self.ns_at(self._brush_to)))
        elif lo is None and hi is None:
            return
        x0 = self.x_of(lo) if lo is not None else rect.left()
        x1 = self.x_of(hi) if hi is not None else rect.right()
        x0, x1 = max(x0, rect.left() - 2), min(x1, rect.right() + 2)
        if x1 < x0:
            return
        highlight = QColor(self.palette().highlight().color())
        highlight.setAlpha(50)
        painter.fillRect(QRectF(x0, rect.top(), x1 - x0, rect.height()), highlight)
        highlight.setAlpha(220)
        painter.setPen(QPen(highlight, 1.5))
        painter.drawLine(QPointF(x0, rect.top()), QPointF(x0, rect.bottom()))
        painter.drawLine(QPointF(x1, rect.top()), QPointF(x1, rect.bottom()))

    def _paint_axis(self, painter: QPainter, rect: QRectF, tz: str) -> None:
        painter.setPen(self.palette().text().color())
        painter.drawLine(QPointF(rect.left(), rect.bottom()), QPointF(rect.right(), rect.bottom()))
        span_days = (self.view_hi - self.view_lo) / 86400e9
        if span_days <= 3:
            freq, fmt = "6h", "%d %b %H:%M"
        elif span_days <= 40:
            freq, fmt = "D", "%d %b"
        elif span_days <= 400:
            freq, fmt = "MS", "%b %Y"
        else:
            freq, fmt = "YS", "%Y"
        lo, hi = _stamp(self.view_lo, tz), _stamp(self.view_hi, tz)
        ticks = pd.date_range(lo.tz_localize(None).floor("D"), hi.tz_localize(None), freq=freq)
        last_x = -1e9
        for tick in ticks:
            x = self.x_of(tick.tz_localize(tz, ambiguous=True, nonexistent="shift_forward").value)
            if x < rect.left() or x > rect.right() or x - last_x < 70:
                continue
            last_x = x
            painter.drawLine(QPointF(x, rect.bottom()), QPointF(x, rect.bottom() + 3))
            painter.drawText(QRectF(x + 2, rect.bottom() + 2, 120, _AXIS_HEIGHT), Qt.AlignmentFlag.AlignLeft,
                             tick.strftime(fmt))

    # -- tooltips -------------------------------------------------------------
    def tooltip_at(self, x: float) -> str:
        """The hover text for the bin under ``x`` (empty outside the data)."""
        hist = self.visible_histogram()
        if hist is None or not len(hist.counts):
            return ""
        t = self.ns_at(x)
        i = int(np.searchsorted(hist.edges, t, "right")) - 1
        if not 0 <= i < len(hist.counts):
            return ""
        rows = [f"<b>{html.escape(bin_label(hist.edges[i], hist.edges[i + 1], hist.unit, self.panel.tz))}</b>",
                f"{_number(hist.totals[i])} events"]
        for j, label in enumerate(_LABELS[hist.by]):
            if hist.counts[i, j] > 0:
                rows.append(f"{html.escape(label)}: {_number(hist.counts[i, j])}")
        spread = hist.spread[i].sum()
        if spread > 0:
            rows.append(f"<i>{_number(spread)} from events dated only to the day or month, spread over it</i>")
        return "<br>".join(rows)

    # -- mouse ----------------------------------------------------------------
    def _is_pan(self, event: QMouseEvent) -> bool:
        modifiers = event.modifiers()
        return event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton
            and bool(modifiers & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier)))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        x = event.position().x()
        if self._is_pan(event):
            self._pan_from = (x, self.view_lo, self.view_hi)
        elif event.button() == Qt.MouseButton.LeftButton:
            self._brush_from = self._brush_to = x
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        x = event.position().x()
        if self._pan_from is not None:
            x0, lo, hi = self._pan_from
            shift = int((x0 - x) / self.plot_rect().width() * (hi - lo))
            self.set_view(lo + shift, hi + shift)
        elif self._brush_from is not None:
            self._brush_to = x
            self.update()
        else:
            text = self.tooltip_at(x)
            if text:
                QToolTip.showText(event.globalPosition().toPoint(), text, self)
            else:
                QToolTip.hideText()
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_from is not None:
            self._pan_from = None
        elif self._brush_from is not None:
            a, b = sorted((self._brush_from, event.position().x()))
            self._brush_from = self._brush_to = None
            self.panel.brush(self.ns_at(a), self.ns_at(b))
            self.update()
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.panel.clear_dates()
        event.accept()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120
        if not steps:
            return
        factor = 0.8 ** steps  # wheel up zooms in around the pointer
        t = self.ns_at(event.position().x())
        self.set_view(t - (t - self.view_lo) * factor, t + (self.view_hi - t) * factor)
        event.accept()


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value - round(value)) < 1e-6 else f"{value:,.2f}"


class _ExportWorker(QObject):
    """Runs an animation export off the GUI thread."""

    progressed = Signal(int, int)
    finished = Signal(str)  # "" on success, else the message
    cancelled = Signal()

    def __init__(self, job: dict) -> None:
        super().__init__()
        self.job = job
        self.stop = threading.Event()

    def run(self) -> None:
        from mapviewer.export.animation import AnimationCancelled, export_animation

        try:
            export_animation(**self.job, progress=self.progressed.emit, cancel=self.stop)
        except AnimationCancelled:
            self.cancelled.emit()
            return
        except DataError as exc:
            self.finished.emit(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - shown in a dialog, never a traceback
            self.finished.emit(f"Could not export the animation: {exc}")
            return
        self.finished.emit("")


class TimelinePanel(QWidget):
    """Stacked histogram of events over time with brushing, playback and animation export."""

    export_finished = Signal(str)  # "" when saved, "cancelled", or the error message

    def __init__(self, state, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.by = "outcome"
        self.index: TimelineIndex | None = None
        self._mask: np.ndarray | None = None
        self._mask_key = None
        self._cache: dict[str, Histogram] = {}
        self._export_thread: QThread | None = None
        self.animation_dpi = 100  # a 16:9 slide at 100 dpi: 1333 x 750 pixels

        self.view = HistogramView(self)
        self.playback = Playback(state, self._event_times, self)
        self.controls = PlaybackControls(self.playback, self)
        self.stack_box = QComboBox(toolTip="Stack bars by outcome or by munition class")
        self.stack_box.addItem("By outcome", "outcome")
        self.stack_box.addItem("By munition class", "class")
        self.goto_box = QLineEdit(placeholderText="Go to date (YYYY-MM-DD)")
        self.goto_box.setMaximumWidth(190)
        self.message = QLabel("")
        self.message.setTextFormat(Qt.TextFormat.PlainText)  # quotes typed text and file names: never rich text
        # What the bar colours mean for the current stacking (only categories with events).
        self.legend = QLabel("")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self.legend.setObjectName("timeline-legend")
        self.export_button = QPushButton("Export animation…")
        self.reset_button = QPushButton("All dates", toolTip="Show every date and clear the date range")

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.stack_box)
        top.addWidget(self.goto_box)
        top.addWidget(self.reset_button)
        top.addWidget(self.message, 1)
        top.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.legend)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.controls)

        self.stack_box.currentIndexChanged.connect(self._on_stack_changed)
        self.goto_box.returnPressed.connect(self._on_goto)
        self.reset_button.clicked.connect(self._on_reset)
        self.export_button.clicked.connect(self._on_export)
        state.data_changed.connect(self._on_data_changed)
        state.filter_changed.connect(self._on_filter_changed)
        state.database_changed.connect(self._on_database_changed)
        self._on_data_changed()

    @property
    def tz(self) -> str:
        return self.state.filter.tz

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt name
        return QSize(900, 210)

    # -- state events ---------------------------------------------------------
    def _on_data_changed(self) -> None:
        self.playback.pause()
        self.index = TimelineIndex.from_frame(self.state.frame, self.tz)
        self._mask_key = None
        self._refresh_mask()
        self._update_legend()
        if getattr(self.state, "refreshing", False):  # an open database's rows for the map view: the axis stays
            self.view.update()
        else:
            self.fit()

    def _on_filter_changed(self) -> None:
        if self._refresh_mask():
            self.playback.invalidate()
            self._update_legend()
        self.view.update()

    def _refresh_mask(self) -> bool:
        """Recompute the mask of the filters other than the date; True when it changed."""
        key = self.state.filter.replace(start=None, end=None)
        if key == self._mask_key and self._mask is not None and len(self._mask) == len(self.state.frame):
            return False
        self._mask_key = key
        self._mask = None if key.is_empty else key.mask(self.state.frame)
        self._cache.clear()
        return True

    # -- data for the view ----------------------------------------------------
    def histogram(self, unit: str) -> Histogram | None:
        """Whole-span histogram in ``unit`` for the current non-date filters (cached until they change)."""
        database = self._server()
        if database is not None:  # counted on the server (None until its answer comes)
            return database.histogram(unit, self.by)
        if self.index is None or self.index.lo is None:
            return None
        hist = self._cache.get(unit)
        if hist is None or hist.by != self.by:
            hist = self._cache[unit] = self.index.histogram(self._mask, unit, self.by)
        return hist

    def _event_times(self) -> np.ndarray:
        return np.zeros(0, dtype=np.int64) if self.index is None else self.index.event_times(self._mask)

    # -- actions --------------------------------------------------------------
    def fit(self) -> None:
        """Show the whole span of the loaded events."""
        database = self._server()
        span = database.span() if database is not None else (
            None if self.index is None or self.index.lo is None else (self.index.lo, self.index.hi))
        if span is None:
            self.view.set_view(pd.Timestamp("2022-02-24", tz="UTC").value, pd.Timestamp.now("UTC").value)
            return
        pad = max((span[1] - span[0]) // 50, 3600 * 10**9)
        self.view.set_view(span[0] - pad, span[1] + pad)

    def _server(self):
        """The open database when its events are on the server (not all in memory), else None."""
        database = getattr(self.state, "database", None)
        return database if database is not None and database.partial else None

    def _on_database_changed(self) -> None:
        if self._server() is not None:  # the server's counts arrived
            self._update_legend()
            self.view.update()

    def brush(self, lo_ns: int, hi_ns: int) -> None:
        """Set the date filter to the bins between two axis times (a click picks one bin)."""
        hist = self.histogram(self.view.unit())
        if hist is None:
            return
        edges = hist.edges
        i0 = int(np.clip(np.searchsorted(edges, lo_ns, "right") - 1, 0, len(edges) - 2))
        i1 = int(np.clip(np.searchsorted(edges, hi_ns, "left"), i0 + 1, len(edges) - 1))
        self.playback.pause()
        self.message.clear()
        self.state.set_filter(frame_filter(self.state.filter, _stamp(edges[i0], "UTC"), _stamp(edges[i1], "UTC")))

    def clear_dates(self) -> None:
        self.playback.pause()
        self.state.set_filter(self.state.filter.replace(start=None, end=None))

    def go_to_date(self, text: str) -> bool:
        """Centre the axis on a typed date (two weeks across at most) and start playback there."""
        text = text.strip()
        try:
            # 2024-05-10 as written; 10.05.2024 and 10/05/2024 day first, as dates are written in Ukraine
            when = pd.Timestamp(text) if _ISO_DATE.match(text) else pd.to_datetime(text, dayfirst=True)
        except (ValueError, TypeError, OverflowError):
            when = None
        if when is None or pd.isna(when):
            self.message.setText(f"Not a date: {text!r} (type e.g. 2024-05-10)")
            return False
        when = when.tz_localize(self.tz) if when.tzinfo is None else when.tz_convert(self.tz)
        span = min(self.view.view_hi - self.view.view_lo, 14 * 86400 * 10**9)
        middle = when.value + (12 * 3600 * 10**9 if when == when.normalize() else 0)
        self.view.set_view(middle - span // 2, middle + span // 2)
        self.playback.seek(when)
        self.message.setText(f"Went to {when.day} {when.strftime('%B %Y')}")  # says how the date was read
        return True

    def _on_goto(self) -> None:
        self.go_to_date(self.goto_box.text())

    def _on_reset(self) -> None:
        self.clear_dates()
        self.fit()

    def _on_stack_changed(self) -> None:
        self.by = self.stack_box.currentData()
        self._cache.clear()
        self._update_legend()
        self.view.update()

    def legend_items(self) -> list[tuple[str, str]]:
        """(label, "#rrggbb") of each category the bars show now, in stacking order."""
        hist = self.histogram("month")
        if hist is None or not len(hist.counts):
            return []
        present = hist.counts.sum(axis=0) > 0
        return [(label, colour.name()) for label, colour, shown in
                zip(_LABELS[self.by], _STACK_COLOURS[self.by], present) if shown]

    def _update_legend(self) -> None:
        swatches = [f'<span style="color:{colour}">&#9632;</span>&nbsp;{html.escape(label)}'
                    for label, colour in self.legend_items()]
        self.legend.setText("&nbsp;&nbsp; ".join(swatches))
        self.legend.setVisible(bool(swatches))

    # -- animation export -----------------------------------------------------
    def _on_export(self) -> None:
        path, chosen = QFileDialog.getSaveFileName(self, "Export animation", "timeline.mp4",
                                                   "MP4 video (*.mp4);;Animated GIF (*.gif)")
        if path:
            if not path.lower().endswith((".mp4", ".gif")):
                path += ".gif" if "gif" in chosen.lower() else ".mp4"
            self.export_animation(path)

    def animation_job(self, out: str) -> dict:
        """The export_animation arguments matching the playback settings and the current filters.

        A date range the user chose bounds the animation; one left by playback
        (a single frame) does not.
        """
        current = self.playback.current()
        filter_state = self.state.filter
        if current is not None and frame_filter(filter_state, *current) == filter_state:
            filter_state = filter_state.replace(start=None, end=None)
        return {"frame": self.state.frame, "out": out, "filter_state": filter_state, "step": self.playback.step,
                "window": self.playback.window, "cumulative": self.playback.cumulative,
                "skip_empty": self.playback.skip_empty, "fmt": None, "title": self._figure_title(),
                "page": "slide-16:9", "dpi": self.animation_dpi, "fps": self.animation_fps(),
                "tile_archives": list(getattr(self.state, "basemap_files", ()))}

    def animation_fps(self) -> float:
        """Frames per second matching the playback speed (1x plays BASE_FPS frames a second)."""
        return min(max(BASE_FPS * self.playback.speed, ANIMATION_FPS[0]), ANIMATION_FPS[1])

    def _figure_title(self) -> str:
        """The title last given for figures in this window (the main window holds it), else the default."""
        return (getattr(self.window(), "figure_title", "") or getattr(self.state, "figure_title", "")
                or "Strike events")

    def export_animation(self, out: str) -> None:
        """Export in a worker thread with a progress dialog that can cancel."""
        if self._export_thread is not None:
            return
        self.playback.pause()
        self._export_out = out
        self.export_worker = _ExportWorker(self.animation_job(out))
        self._export_thread = QThread(self)
        self.export_worker.moveToThread(self._export_thread)
        self.export_dialog = QProgressDialog("Exporting animation…", "Cancel", 0, 0, self)
        self.export_dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.export_dialog.setMinimumDuration(0)
        self.export_dialog.canceled.connect(self.export_worker.stop.set)
        # Slots on this widget run in the GUI thread (queued from the worker's thread).
        self.export_worker.progressed.connect(self._on_export_progress)
        self.export_worker.finished.connect(self._on_export_finished)
        self.export_worker.cancelled.connect(self._on_export_cancelled)
        self._export_thread.started.connect(self.export_worker.run)
        self._export_thread.start()

    def _on_export_progress(self, done: int, total: int) -> None:
        self.export_dialog.setMaximum(total)
        self.export_dialog.setValue(done)

    def _on_export_cancelled(self) -> None:
        self._end_export()
        self.message.setText("Animation export cancelled")
        self.export_finished.emit("cancelled")

    def _on_export_finished(self, error: str) -> None:
        self._end_export()
        if error:
            from mapviewer.dialogs.report import warning_box

            warning_box(self, "Export animation", error).exec()  # plain text: the error may quote data
        else:
            self.message.setText(visible_text(f"Animation saved: {self._export_out}"))
        self.export_finished.emit(error)

    def _end_export(self) -> None:
        self.export_dialog.reset()
        self._export_thread.quit()
        self._export_thread.wait()
        self._export_thread = None
