"""Matches panel: the reports taken for one strike, least sure first, and the analyst's decisions.

Lists the groups of reports the matching put together (lowest confidence first, with its
reasons in words; each group's reports under it) and the possible matches it left apart
(toss-ups: a report that fits a strike, but another pairing almost as well). The analyst can
confirm a group, split a report (or a whole group) apart, and join strikes: a possible match,
two or more groups chosen here, or two or more strikes chosen on the map or in the table.
Decisions go to the :class:`~mapviewer.matching.StrikeMatcher`, which keeps them in a file
and matches again. :func:`install_matching` adds the panel, the matcher and the View menu's
"Count each strike once" to the main window.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from geodata.errors import DataError
from geodata.match import casualty_totals
from geodata.strikes import strike_counts
from geodata.text import visible_text
from mapviewer.matching import StrikeMatcher

#: Groups listed at most (the least sure first): more would take long to draw and nobody reads them.
MAX_LISTED = 500
_ROLE = Qt.ItemDataRole.UserRole
_TIME_WORDS = {"exact": "", "day": " (day only)", "month": " (month only)"}
_PLACE_WORDS = {"exact": "", "settlement": " (settlement only)", "region": " (oblast only)"}


def strikes_headline(state) -> str | None:
    """"N strikes from M reports (K matched)" of the rows shown, while the state counts strikes."""
    if not state.counting_strikes:
        return None
    strikes, reports, matched = strike_counts(state.visible)
    return f"{strikes:,} strike{'s' if strikes != 1 else ''} from {reports:,} report{'s' if reports != 1 else ''} " \
           f"({matched:,} matched)"


def casualty_lines(state) -> list[str] | None:
    """Killed and injured over the strikes shown, each strike's figures a range over its reports: the
    sum of the smallest figures to the sum of the largest ("Killed: 37-41 ...")."""
    if not state.counting_strikes:
        return None
    shown = state.visible
    totals = casualty_totals(shown)
    lines = []
    for label, lo, hi, given in (("Killed", totals.killed_min, totals.killed_max, totals.killed_strikes),
                                 ("Injured", totals.injured_min, totals.injured_max, totals.injured_strikes)):
        if not given:
            lines.append(f"{label}: no figures given")
        else:
            span = f"{lo:,}" if lo == hi else f"{lo:,}-{hi:,}"
            lines.append(f"{label}: {span} (figures given for {given:,} of {len(shown):,} strikes; "
                         "a range where reports differ)")
    return lines


def report_text(row: pd.Series, key: str) -> str:
    """One report in words: "cir.csv:CIR-1 · 2025-06-02 03:40 · Kharkiv · KN-23"."""
    parts = [f"{key}:{_value(row.get('event_id'))}"]
    when = row.get("occurred_at")
    precision = _value(row.get("time_precision"))
    if when is not None and not pd.isna(when):
        local = pd.Timestamp(when).tz_convert("Europe/Kyiv")
        text = {"day": f"{local:%Y-%m-%d}", "month": f"{local:%Y-%m}"}.get(precision, f"{local:%Y-%m-%d %H:%M}")
        parts.append(text + _TIME_WORDS.get(precision, ""))
    place = _value(row.get("location")) or _value(row.get("admin1"))
    parts.append((place or "place not named") + _PLACE_WORDS.get(_value(row.get("geo_precision")), ""))
    parts.append(_value(row.get("munition")) or "munition not named")
    return visible_text(" · ".join(parts))


def _value(value) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _tree(headers: list[str]) -> QTreeWidget:
    tree = QTreeWidget()
    tree.setHeaderLabels(headers)
    tree.setUniformRowHeights(True)
    tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    tree.setWordWrap(False)
    header = tree.header()
    header.setStretchLastSection(True)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
    return tree


class MatchesPanel(QWidget):
    """The groups of reports taken for one strike and the possible matches left apart, with the
    analyst's confirm, split and join. Public parts: ``count_once``, ``status``, ``groups``,
    ``possible``, ``confirm_button``, ``split_button``, ``join_button``."""

    def __init__(self, state, matcher: StrikeMatcher, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.matcher = matcher
        self.count_once = QCheckBox("Count each strike once")
        self.count_once.setToolTip("Reports of one strike in several open files are matched and shown as one "
                                   "strike: on the map, in the counts, the timeline and the exports")
        self.count_once.toggled.connect(self._on_count_once)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.groups = _tree(["Confidence", "Reports", "Why"])
        self.possible = _tree(["Confidence", "Reports", "Why"])
        for tree in (self.groups, self.possible):
            tree.itemSelectionChanged.connect(self._on_item_selection)
            tree.itemDoubleClicked.connect(lambda *_: state.request_zoom_to_selection())
        self.confirm_button = QPushButton("Confirm")
        self.confirm_button.setToolTip("These reports are one strike: kept together from now on")
        self.confirm_button.clicked.connect(self.confirm_selected)
        self.split_button = QPushButton("Split")
        self.split_button.setToolTip("Take the chosen report out of its strike (a whole group chosen: every "
                                     "report a strike of its own)")
        self.split_button.clicked.connect(self.split_selected)
        self.join_button = QPushButton("Join")
        self.join_button.setToolTip("One strike: the possible match chosen, the groups chosen here, or two or more "
                                    "strikes chosen on the map or in the table")
        self.join_button.clicked.connect(self.join_selected)
        buttons = QHBoxLayout()
        for button in (self.confirm_button, self.split_button, self.join_button):
            buttons.addWidget(button)
        buttons.addStretch(1)

        # The panel shares a column of tabs with the others: it takes the height it is given, and never
        # makes the window taller than the screen for its two lists.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.count_once)
        layout.addWidget(self.status)
        layout.addWidget(QLabel("Matched, least sure first:"))
        layout.addWidget(self.groups, 3)
        layout.addWidget(QLabel("Possible matches left apart (toss-ups):"))
        layout.addWidget(self.possible, 1)
        layout.addLayout(buttons)
        state.strikes_changed.connect(self.refresh)
        state.data_changed.connect(self.refresh)
        state.matching_changed.connect(self.refresh)
        state.selection_changed.connect(self._update_buttons)
        matcher.busy_changed.connect(lambda _busy: self.refresh())
        self._listed = None  # the matching the lists show
        self.refresh()

    def _on_count_once(self, on: bool) -> None:
        self.state.set_count_once(bool(on))

    # -- drawing --------------------------------------------------------------------------------
    def refresh(self) -> None:
        state, strikes = self.state, self.state.strikes
        with QSignalBlocker(self.count_once):
            self.count_once.setChecked(state.wants_strikes)
        self.status.setText(self._status_text())
        if strikes is self._listed and strikes is not None:  # the same matching: the lists stand
            self._update_buttons()
            return
        self._listed = strikes
        self.groups.clear()
        self.possible.clear()
        if strikes is not None:
            groups = sorted(strikes.result.groups, key=lambda g: (g.confidence, g.strike))
            for group in groups[:MAX_LISTED]:
                self.groups.addTopLevelItem(self._group_item(group, "group"))
            if len(groups) > MAX_LISTED:
                more = QTreeWidgetItem(["", f"{len(groups) - MAX_LISTED:,} more groups, surer ones", ""])
                more.setFlags(Qt.ItemFlag.NoItemFlags)
                self.groups.addTopLevelItem(more)
            for group in strikes.result.possible[:MAX_LISTED]:
                self.possible.addTopLevelItem(self._group_item(group, "possible"))
        self._update_buttons()

    def _status_text(self) -> str:
        state, strikes = self.state, self.state.strikes
        files = len(state.datasets)
        if files == 0:
            return "Open two or more files to find the reports that tell the same strike."
        if self.matcher.busy:
            return "Matching the reports of the open sources…"
        if files == 1 and strikes is None:  # a database with reports of several sources is matched too
            return "One file open: each report is a strike of its own."
        if not state.wants_strikes:
            return "Every report counted (each strike once: off)."
        if strikes is None:
            return "Reports not matched."
        n, m, k = strike_counts(strikes.frame)
        text = f"{n:,} strikes from {m:,} reports ({k:,} matched)"
        if strikes.result.possible:
            text += f"; {len(strikes.result.possible):,} possible matches left apart"
        where = self.matcher.decisions_file
        decided = len(self.matcher.decisions)
        text += (f". Decisions ({decided:,}): {where}" if where else
                 f". Decisions ({decided:,}) are kept while the app runs (nowhere to keep them)")
        return text

    def _group_item(self, group, kind: str) -> QTreeWidgetItem:
        strikes = self.state.strikes
        rows = [int(strikes.parts[key][pos]) for key, pos in group.members]
        labels = [f"{key}:{strikes.ref(r)[1]}" for (key, _), r in zip(group.members, rows)]
        why = "; ".join(group.reasons)
        item = QTreeWidgetItem([f"{group.confidence:.2f}" + (" ✓" if group.confirmed else ""),
                                visible_text(" + ".join(labels)), visible_text(why)])
        item.setToolTip(2, visible_text(why))
        item.setData(0, _ROLE, (kind, group.strike, tuple(rows)))
        for (key, _), row in zip(group.members, rows):
            child = QTreeWidgetItem(["", report_text(strikes.reports.iloc[row], key), ""])
            child.setData(0, _ROLE, ("report", int(strikes.strike_of[row]), (row,)))
            item.addChild(child)
        return item

    # -- choosing -------------------------------------------------------------------------------
    def _chosen(self) -> list[tuple[str, int, tuple[int, ...]]]:
        items = self.groups.selectedItems() + self.possible.selectedItems()
        return [item.data(0, _ROLE) for item in items if item.data(0, _ROLE)]

    def _on_item_selection(self) -> None:
        """Show the chosen strikes on the map and in the table."""
        strikes = self.state.strikes
        chosen = self._chosen()
        if strikes is not None and chosen:
            rows = sorted({r for _, _, rs in chosen for r in rs})
            if self.state.counting_strikes and self.state.strikes is self._listed:
                self.state.set_selection(np.unique(strikes.strike_of[rows]))
            elif not self.state.counting_strikes:
                self.state.set_selection(rows)
        self._update_buttons()

    def _update_buttons(self) -> None:
        chosen = self._chosen() if self.state.strikes is not None else []
        kinds = {kind for kind, _, _ in chosen}
        self.confirm_button.setEnabled(len(chosen) == 1 and chosen[0][0] in ("group", "report", "possible"))
        self.split_button.setEnabled(len(chosen) == 1 and chosen[0][0] in ("group", "report")
                                     and self._in_group(chosen[0]))
        strikes_chosen = {s for kind, s, rows in chosen for s in self._strikes_of(kind, s, rows)}
        self.join_button.setEnabled(bool(self.state.strikes is not None) and (
            "possible" in kinds or len(strikes_chosen) >= 2 or len(self._map_strikes()) >= 2))

    def _in_group(self, chosen) -> bool:
        kind, strike, _ = chosen
        strikes = self.state.strikes
        return strikes is not None and len(strikes.reports_of(strike)) >= 2

    def _strikes_of(self, kind: str, strike: int, rows: tuple[int, ...]) -> set[int]:
        strikes = self.state.strikes
        if kind == "possible":  # the strike and the report (a strike of its own) it might join
            return {int(strikes.strike_of[r]) for r in rows}
        return {strike}

    def _map_strikes(self) -> list[int]:
        """The strikes chosen on the map or in the table (while strikes are counted)."""
        if not self.state.counting_strikes or self.state.strikes is None:
            return []
        return [int(p) for p in self.state.selection]

    # -- deciding -------------------------------------------------------------------------------
    def confirm_selected(self) -> None:
        """Confirm the chosen group (or the group of the chosen report, or a possible match)."""
        chosen = self._chosen()
        if len(chosen) != 1:
            return
        kind, strike, rows = chosen[0]
        strikes = self.state.strikes
        refs = [strikes.ref(r) for r in rows] if kind == "possible" else strikes.refs(strike)
        self._decide(lambda: self.matcher.confirm(refs))

    def split_selected(self) -> None:
        """Take the chosen report out of its strike; a chosen group: every report apart."""
        chosen = self._chosen()
        if len(chosen) != 1:
            return
        kind, strike, rows = chosen[0]
        strikes = self.state.strikes
        refs = strikes.refs(strike)
        if kind == "report":
            one = strikes.ref(rows[0])
            self._decide(lambda: self.matcher.split(one, [r for r in refs if r != one]))
        elif kind == "group":
            self._decide(lambda: self.matcher.split_group(refs))

    def join_selected(self) -> None:
        """Join the possible match chosen, the groups chosen here, or the strikes chosen on the map."""
        strikes = self.state.strikes
        if strikes is None:
            return
        chosen = self._chosen()
        together: set[int] = set()
        for kind, strike, rows in chosen:
            together |= self._strikes_of(kind, strike, rows)
        if len(together) < 2:
            together = set(self._map_strikes())
        if len(together) < 2:
            return
        refs = [ref for s in sorted(together) for ref in strikes.refs(s)]
        self._decide(lambda: self.matcher.join(refs))

    def _decide(self, action) -> None:
        try:
            action()
        except DataError as exc:  # a report with no id cannot be named in a decision
            self.status.setText(visible_text(str(exc)))


def install_matching(window) -> None:
    """Add the matcher, the Matches panel (a tab beside the others) and View > Count each strike once.

    Sets ``window.matcher``, ``window.matches_panel``, ``window.matches_dock`` and
    ``window.count_once_action``.
    """
    state = window.state
    window.matcher = matcher = StrikeMatcher(state, window)
    window.installEventFilter(matcher)  # a matching still running is waited for when the window closes
    matcher.notice.connect(lambda text: window.statusBar().showMessage(visible_text(text), 15000))
    window.matches_panel = MatchesPanel(state, matcher)
    window.matches_dock = window._dock("Matches", "matches_dock", window.matches_panel,
                                       Qt.DockWidgetArea.LeftDockWidgetArea)
    action = QAction("&Count each strike once", window, checkable=True)
    action.setToolTip("Reports of one strike in several open files shown as one strike (on by default with two "
                      "or more files open)")
    action.toggled.connect(lambda on: state.set_count_once(bool(on)))
    window.count_once_action = action

    def sync() -> None:
        with QSignalBlocker(action):
            action.setChecked(state.wants_strikes)

    state.matching_changed.connect(sync)
    state.data_changed.connect(sync)
    state.strikes_changed.connect(sync)
    sync()
    menu = window.view_menu
    menu.insertAction(window.zoom_action, action)  # with the other ways of showing the events
    menu.insertAction(window.reset_layout_action, window.matches_dock.toggleViewAction())
