"""Summary panel: how many events are shown, by munition and outcome, rates and casualties."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from geodata.stats import Summary, summarize
from geodata.style import OUTCOME_STYLE
from geodata.text import visible_text
from mapviewer.panels.matches import casualty_lines, strikes_headline
from mapviewer.panels.widgets import swatch

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_RATE_TIP = ("Share of the events with a known outcome (outcome 'unknown' left out); "
             "blank when none is known.")


def _percent(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.0f}%"


def _table(headers: list[str]) -> QTreeWidget:
    tree = QTreeWidget()
    tree.setHeaderLabels(headers)
    tree.setRootIsDecorated(False)
    tree.setUniformRowHeights(True)
    tree.setSortingEnabled(False)
    header = tree.header()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for column in range(1, len(headers)):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        tree.headerItem().setTextAlignment(column, _RIGHT)
    return tree


class SummaryPanel(QWidget):
    """Redraws from :func:`geodata.stats.summarize` of the filtered rows on every filter or data change."""

    def __init__(self, state, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.summary: Summary | None = None
        self.headline = QLabel()
        font = self.headline.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.headline.setFont(font)
        self.details = QLabel()
        self.details.setWordWrap(True)
        for label in (self.headline, self.details):
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.outcomes = _table(["Outcome", "Events", "Share"])
        self.munitions = _table(["Munition", "Events", "Intercepted", "Deviated"])
        for column in (2, 3):
            self.munitions.headerItem().setToolTip(column, _RATE_TIP)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.headline)
        layout.addWidget(self.details)
        layout.addWidget(self.outcomes)
        layout.addWidget(self.munitions, 1)
        state.filter_changed.connect(self.refresh)
        state.data_changed.connect(self.refresh)
        state.database_changed.connect(self.refresh)  # an open database's counts arrived
        self.refresh()

    def refresh(self) -> None:
        state = self.state
        database = getattr(state, "database", None)
        server = database is not None and database.partial  # the events are on the server: its counts
        if server:
            summary = self.summary = database.summary or summarize(state.frame.iloc[:0], tz=state.filter.tz)
            self.headline.setText(database.headline())
        else:
            summary = self.summary = summarize(state.visible, tz=state.filter.tz)
            total = len(state.frame)
            # while each strike is counted once: "N strikes from M reports (K matched)"
            self.headline.setText(strikes_headline(state) or f"{summary.total:,} of {total:,} events shown")

        counted = "Strikes" if state.counting_strikes else "Events"  # one row per strike: the tables count strikes
        self.outcomes.headerItem().setText(1, counted)
        self.munitions.headerItem().setText(1, counted)

        known = summary.total - summary.by_outcome.get("unknown", 0)
        intercepted = summary.by_outcome.get("intercepted", 0)
        lines = []
        if server:
            lines.append(f"{summary.total:,} of {database.total:,} events in {database.uri} match the filters"
                         if database.summary is not None else f"Counting the events in {database.uri}...")
        if summary.first_day is not None:
            span = (f"{summary.first_day}" if summary.first_day == summary.last_day
                    else f"{summary.first_day} to {summary.last_day}")
            lines.append(f"Dates: {span} ({summary.tz})")
        shown_groups = state.repeat_groups[state.mask] if not server else state.repeat_groups[:0]
        shown_groups = shown_groups[shown_groups >= 0]
        extra = len(shown_groups) - len(np.unique(shown_groups))
        if extra:
            lines.append(f"Counted more than once: {extra:,} event{'s' if extra != 1 else ''} shown from two open "
                         "files (same id and time)")
        straddling = int(state.filter.straddling(state.frame).sum()) if not server else 0
        if straddling:
            lines.append(f"Not shown: {straddling:,} event{'s' if straddling != 1 else ''} dated only to a day "
                         "or month reaching outside the date range")
        if known:
            lines.append(f"Intercepted: {intercepted:,} of {known:,} with a known outcome "
                         f"({_percent(intercepted / known)})")
        lines += casualty_lines(state) or [  # strikes: a range over their reports
            self._casualties("Killed", summary.killed, summary.killed_reported, summary.total),
            self._casualties("Injured", summary.injured, summary.injured_reported, summary.total)]
        self.details.setText("\n".join(lines))

        self.outcomes.clear()
        for outcome, count in summary.by_outcome.items():
            share = _percent(count / summary.total) if summary.total else ""
            item = QTreeWidgetItem([OUTCOME_STYLE[outcome].label, f"{count:,}", share])
            item.setIcon(0, swatch(OUTCOME_STYLE[outcome].colour))
            self._align(item, 3)
            self.outcomes.addTopLevelItem(item)
        rows = self.outcomes.topLevelItemCount()
        height = self.outcomes.sizeHintForRow(0) * rows + self.outcomes.header().sizeHint().height()
        self.outcomes.setFixedHeight(height + 2 * self.outcomes.frameWidth() + 2)

        self.munitions.clear()
        for munition, count in summary.by_munition.items():
            item = QTreeWidgetItem([visible_text(str(munition)), f"{count:,}",
                                    _percent(summary.interception_rate.get(munition)),
                                    _percent(summary.deviation_rate.get(munition))])
            self._align(item, 4)
            self.munitions.addTopLevelItem(item)

    @staticmethod
    def _casualties(label: str, total: int, reported: int, events: int) -> str:
        if not reported:
            return f"{label}: no figures given"
        return f"{label}: {total:,} (figures given for {reported:,} of {events:,} events)"

    @staticmethod
    def _align(item: QTreeWidgetItem, columns: int) -> None:
        for column in range(1, columns):
            item.setTextAlignment(column, _RIGHT)
