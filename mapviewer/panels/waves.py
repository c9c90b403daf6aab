"""Attack-waves panel: per munition, launched -> intercepted -> did not reach -> still attacking
-> impacts -> geolocated.

The numbers come from :func:`geodata.waves.wave_funnel` over the open wave
reports (``state.waves``) and the open events (``state.frame``) for the current
filter; the date and munition filters apply to waves too (a wave is kept when its
window overlaps the date range). Each row ends with a stacked bar painted in the
colours of the one style table; drones the reports give as still attacking are
in the grey "not accounted for" part, never among the impacts. Launches the oblast
shading cannot place (aimed at "Ukraine", or at text the gazetteer does not know)
are counted under the table.
"""
from __future__ import annotations

import html
from typing import Any

import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QShowEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QHeaderView,
    QLabel,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from geodata.filters import FilterState
from geodata.style import OUTCOME_STYLE
from geodata.text import visible_text
from geodata.waves import wave_funnel, wave_mask
from mapviewer.panels.widgets import swatch
from mapviewer.map.waveshading import unplaced_note

NO_WAVES_TEXT = "Open an Air Force attack report to see launch/interception funnels"
TOTAL_LABEL = "All munitions"

#: The funnel's stages, their colours and legend labels, in drawing order along the bar.
#: "Did not reach" (lost, jammed) takes the deviated colour: it neither was shot down nor hit.
STAGE_COLOURS: dict[str, str] = {
    "intercepted": OUTCOME_STYLE["intercepted"].colour,
    "not_reached": OUTCOME_STYLE["deviated"].colour,
    "impacts": OUTCOME_STYLE["impact"].colour,
    "unaccounted": OUTCOME_STYLE["unknown"].colour,
}
STAGE_LABELS: dict[str, str] = {
    "intercepted": "Intercepted",
    "not_reached": "Did not reach target",
    "impacts": "Impacts",
    "unaccounted": "Not accounted for (still attacking, counts missing)",
}

#: (funnel column, header) of the numeric columns, then the bar.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("munition", "Munition"),
    ("launched", "Launched"),
    ("intercepted", "Intercepted"),
    ("not_reached", "Not reached"),
    ("still_attacking", "Still attacking"),
    ("impacts", "Impacts"),
    ("geolocated", "Geolocated"),
    ("geolocated_impacts", "Geo. impacts"),
    ("bar", "Funnel"),
)
_HEADER_TIPS = {
    "launched": "Launched, as the attack reports give it",
    "intercepted": "Destroyed (shot down or jammed down) according to the reports",
    "not_reached": "Did not reach the target (lost, usually to electronic warfare)",
    "still_attacking": "Still in the air when the report was written (not counted as impacts)",
    "impacts": "Launched - intercepted - did not reach - still attacking: reached the target area",
    "geolocated": ("Geolocated events of the open files with the same munition, inside one of the waves' "
                   "time windows (and kept by the current filter)"),
    "geolocated_impacts": "Of the geolocated events, those with outcome impact",
    "bar": ("Green: intercepted, orange: did not reach, red: impacts (hatched: geolocated impacts), "
            "grey: not accounted for (still attacking or counts missing)"),
}
BAR_COLUMN = len(COLUMNS) - 1
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
MISSING = "—"  # a count the reports do not give (never shown as 0)
#: The counts of a funnel row, as :meth:`WavesPanel.displayed` gives them.
DISPLAYED_KEYS = ("launched", "intercepted", "not_reached", "still_attacking", "impacts", "geolocated",
                  "geolocated_impacts")


def _int(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _tip(*lines: str) -> str:
    """A tooltip from plain lines: escaped, then marked up as rich text so entities render."""
    return "<p style='white-space:pre'>" + "<br>".join(html.escape(visible_text(line)) for line in lines) + "</p>"


def _count(value: int | None) -> str:
    return MISSING if value is None else f"{value:,}"


class FunnelModel(QAbstractTableModel):
    """One row per munition (and a total row first when there are several); columns :data:`COLUMNS`.

    ``rows`` holds what is shown: dicts with the keys of :data:`COLUMNS` (bar
    excluded) plus ``munition_class`` and ``waves``; counts are int or None.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[dict[str, Any]] = []
        self._max_launched = 0

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self.rows = rows
        self._max_launched = max((r["launched"] or 0 for r in rows if r["munition"] != TOTAL_LABEL), default=0)
        self.endResetModel()

    @property
    def max_launched(self) -> int:
        """The largest per-munition launch count: bars are drawn to this scale."""
        return self._max_launched

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        key, label = COLUMNS[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return label
        if role == Qt.ItemDataRole.ToolTipRole:
            return _HEADER_TIPS.get(key)
        if role == Qt.ItemDataRole.TextAlignmentRole and 0 < section < BAR_COLUMN:
            return _RIGHT
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        key = COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            if key == "munition":
                return visible_text(str(row["munition"]))  # shown as plain text by the view
            if key == "bar":
                return None
            return _count(row[key])
        if role == Qt.ItemDataRole.UserRole:  # the raw value (int or None), for tests and copying
            return row.get(key) if key != "bar" else row
        if role == Qt.ItemDataRole.TextAlignmentRole and 0 < index.column() < BAR_COLUMN:
            return _RIGHT
        if role == Qt.ItemDataRole.FontRole and row["munition"] == TOTAL_LABEL:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return _row_tip(row)
        return None


def _row_tip(row: dict[str, Any]) -> str:
    launched, intercepted = row["launched"], row["intercepted"]
    lines = [f"{row['munition']} ({row['munition_class']}), {row['waves']:,} wave(s)"]
    lines.append(f"{_count(launched)} launched, {_count(intercepted)} intercepted")
    if launched is not None and intercepted is not None:
        lines.append(f"{launched - intercepted:,} not intercepted: {_count(row['not_reached'])} did not reach "
                     f"the target{_still(row)}, {_count(row['impacts'])} impacts")
    lines.append(f"{_count(row['geolocated'])} geolocated events in the waves' windows, "
                 f"{_count(row['geolocated_impacts'])} of them impacts")
    return _tip(*lines)


def _still(row: dict[str, Any]) -> str:
    """', N still attacking' when the reports give drones still in the air, else ''."""
    still = row.get("still_attacking")
    return f", {still:,} still attacking" if still else ""


def bar_segments(row: dict[str, Any]) -> list[tuple[str, int]]:
    """(stage, count) along one row's bar: intercepted, did not reach, impacts, then the unaccounted
    rest (still attacking, or counts the reports leave out)."""
    if "segments" in row:  # the total row: the munitions' bars laid end to end, stage by stage
        return row["segments"]
    parts = [(stage, row[stage] or 0) for stage in ("intercepted", "not_reached", "impacts")]
    rest = (row["launched"] or 0) - sum(n for _, n in parts)
    if rest > 0:
        parts.append(("unaccounted", rest))
    return [(stage, n) for stage, n in parts if n > 0]


class FunnelDelegate(QStyledItemDelegate):
    """Paints the bar column: a horizontal stacked bar scaled to the largest launch count."""

    def __init__(self, model: FunnelModel, parent=None) -> None:
        super().__init__(parent)
        self._model = model

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        if index.column() != BAR_COLUMN:
            super().paint(painter, option, index)
            return
        row = self._model.rows[index.row()]
        scale = self._model.max_launched
        if row["munition"] == TOTAL_LABEL:
            scale = max(row["launched"] or 0, 1)  # the total row is its own 100%
        rect = option.rect.adjusted(3, 4, -3, -4)
        if scale <= 0 or rect.width() <= 0:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        x = float(rect.left())
        per = rect.width() / scale
        for stage, count in bar_segments(row):
            width = count * per
            segment = QRect(round(x), rect.top(), max(1, round(x + width) - round(x)), rect.height())
            painter.fillRect(segment, QColor(STAGE_COLOURS[stage]))
            if stage == "impacts" and row["geolocated_impacts"]:
                # The geolocated share of the impacts, hatched, so "of which N geolocated" is visible.
                shown = min(row["geolocated_impacts"], count) * per
                hatch = QRect(segment.left(), segment.top(), max(1, round(shown)), segment.height())
                painter.fillRect(hatch, QColor(0, 0, 0, 110))
                painter.fillRect(hatch, Qt.BrushStyle.BDiagPattern)
            x += width
        painter.restore()


def funnel_rows(funnel: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows the panel shows for a :func:`geodata.waves.wave_funnel` table (total first when several)."""
    keys = DISPLAYED_KEYS
    rows = [{"munition": str(munition), "munition_class": str(rec["munition_class"]), "waves": int(rec["waves"]),
             **{k: _int(rec[k]) for k in keys}} for munition, rec in funnel.iterrows()]
    if len(rows) > 1:
        total: dict[str, Any] = {"munition": TOTAL_LABEL, "munition_class": "all",
                                 "waves": sum(r["waves"] for r in rows)}
        for k in keys:
            # A total over a munition whose count the reports leave out would understate it:
            # the total of that count is unknown too.
            values = [r[k] for r in rows]
            total[k] = None if any(v is None for v in values) else sum(values)
        summed: dict[str, int] = {}
        for r in rows:
            for stage, n in bar_segments(r):
                summed[stage] = summed.get(stage, 0) + n
        total["segments"] = [(stage, summed[stage]) for stage in STAGE_COLOURS if summed.get(stage)]
        rows.insert(0, total)
    return rows


def headline(row: dict[str, Any]) -> str:
    """One sentence for a funnel row: '57 launched, 53 intercepted, 4 not intercepted, of which ...'."""
    launched, intercepted = row["launched"], row["intercepted"]
    text = f"{_count(launched)} launched, " + (
        f"{intercepted:,} intercepted" if intercepted is not None else "intercepted count missing in a report")
    if launched is not None and intercepted is not None:
        text += f", {launched - intercepted:,} not intercepted"
        text += f" ({_count(row['not_reached'])} did not reach{_still(row)}, {_count(row['impacts'])} impacts)"
    text += (f"; {_count(row['geolocated'])} geolocated events in the waves' windows, "
             f"{_count(row['geolocated_impacts'])} of them impacts")
    return text


class WavesPanel(QWidget):
    """The wave funnel per munition for the current filter; redraws on filter, data and wave changes.

    Read what is shown with :meth:`displayed`, :attr:`model` (``model.rows``)
    and :attr:`message` (the plain-text line above the table). While hidden it
    does not recompute; it catches up when shown.
    """

    def __init__(self, state, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.funnel: pd.DataFrame | None = None
        self._key: tuple | None = None

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)  # file names and munition text are data
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setStyleSheet("color: palette(mid);")
        self.unplaced = QLabel()  # launches the oblast shading leaves out, said in words
        self.unplaced.setWordWrap(True)
        self.unplaced.setTextFormat(Qt.TextFormat.PlainText)

        self.model = FunnelModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setItemDelegate(FunnelDelegate(self.model, self.view))
        self.view.setSelectionMode(QTableView.SelectionMode.NoSelection)
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.view.setWordWrap(False)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)  # compact rows
        self.view.setShowGrid(False)
        self.view.setAlternatingRowColors(True)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(BAR_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(24)
        self.view.setColumnWidth(BAR_COLUMN, 120)

        legend = QGridLayout()  # two by two, labels wrapped: the panel fits the narrow column beside the map
        legend.setHorizontalSpacing(6)
        for i, stage in enumerate(("intercepted", "not_reached", "impacts", "unaccounted")):
            icon = QLabel()
            icon.setPixmap(swatch(STAGE_COLOURS[stage]).pixmap(12, 12))
            label = QLabel(STAGE_LABELS[stage])
            label.setWordWrap(True)
            legend.addWidget(icon, i // 2, 2 * (i % 2))
            legend.addWidget(label, i // 2, 2 * (i % 2) + 1)
        legend.setColumnStretch(1, 1)
        legend.setColumnStretch(3, 1)
        self.legend = QWidget()
        self.legend.setLayout(legend)
        legend.setContentsMargins(0, 0, 0, 0)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.message)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.legend)
        layout.addWidget(self.unplaced)
        layout.addWidget(self.note)

        state.filter_changed.connect(self._on_filter_changed)
        state.data_changed.connect(self._on_data_changed)
        state.waves_changed.connect(self._on_data_changed)
        self.refresh()

    # -- what is shown --------------------------------------------------------
    def displayed(self) -> dict[str, dict[str, int | None]]:
        """Munition -> shown counts (:data:`DISPLAYED_KEYS`: launched, intercepted, not_reached,
        still_attacking, impacts, geolocated, geolocated_impacts); the total row, when shown,
        under :data:`TOTAL_LABEL`."""
        self.refresh()  # a hidden panel catches up first (nothing to do when it is current)
        return {r["munition"]: {k: r[k] for k in DISPLAYED_KEYS} for r in self.model.rows}

    # -- events ----------------------------------------------------------------
    def _on_data_changed(self) -> None:
        self._key = None  # new events or waves: recompute even if the filter is the same
        self._on_filter_changed()

    def _on_filter_changed(self) -> None:
        # Joining waves with a large events file takes a noticeable moment: a hidden panel
        # (a closed or background dock) waits until it is shown.
        if self.isVisible():
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        """Recompute the funnel for the state's waves, events and filter (skipped when nothing changed)."""
        waves = self.state.waves
        filter_state: FilterState = self.state.filter
        key = (id(waves), id(self.state.frame), filter_state)
        if key == self._key:
            return
        self._key = key
        self.note.setText(visible_text(_ignored_filters_note(filter_state)))
        if waves is None or len(waves) == 0:
            self.funnel = None
            self.model.set_rows([])
            self.unplaced.setText("")
            self._show_table(False, NO_WAVES_TEXT)
            return
        self.unplaced.setText(visible_text(unplaced_note(waves, filter_state)))
        self.unplaced.setVisible(bool(self.unplaced.text()))
        keep = wave_mask(waves, filter_state)
        self.funnel = wave_funnel(waves, self.state.frame, filter_state)
        rows = funnel_rows(self.funnel)
        self.model.set_rows(rows)
        files = len(self.state.wave_datasets) or 1
        if not rows:
            self._show_table(False, f"No attack waves in the filtered period and munitions "
                                    f"({len(waves):,} waves in {files} report(s) open).")
            return
        self._show_table(True, f"{int(keep.sum()):,} of {len(waves):,} waves{_span(waves.loc[keep], filter_state.tz)}: "
                               f"{headline(rows[0])}.")

    def _show_table(self, visible: bool, text: str) -> None:
        self.message.setText(visible_text(text))
        self.view.setVisible(visible)
        self.legend.setVisible(visible)


def _span(waves: pd.DataFrame, tz: str) -> str:
    """' from 01 Jun 2025 to 03 Jun 2025' (dates in the working zone ``tz`` of the kept waves), or ''."""
    starts = waves["occurred_at"].dropna()
    if starts.empty:
        return ""
    ends = waves["time_end"].dropna() if "time_end" in waves.columns else starts
    first = starts.min().tz_convert(tz)
    last = (ends.max() if len(ends) else starts.max()).tz_convert(tz)
    if first.date() == last.date():
        return f" on {first:%d %b %Y}"
    return f" from {first:%d %b %Y} to {last:%d %b %Y}"


def _ignored_filters_note(state: FilterState) -> str:
    """Say which active filters do not narrow the waves (they only narrow the geolocated counts)."""
    ignored = [label for name, label in (("outcomes", "outcome"), ("admin1", "oblast"), ("text", "text"),
                                         ("bbox", "map area"), ("min_casualties", "casualty"))
               if getattr(state, name, None) is not None]
    if not ignored:
        return ""
    return (f"The {', '.join(ignored)} filter(s) apply to the geolocated events only: attack reports give "
            "no such detail per wave.")


__all__ = ["WavesPanel", "FunnelModel", "funnel_rows", "headline", "bar_segments",
           "NO_WAVES_TEXT", "TOTAL_LABEL", "STAGE_COLOURS", "DISPLAYED_KEYS"]
