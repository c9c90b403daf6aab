"""Filter panel: date range, munitions by class, outcomes, a source's tags, text search, reset.

The panel only reads the state and calls ``state.set_filter`` (debounced); it
redraws its facet counts when the state says the filter or the data changed.
The date range spans the events and the attack waves together (the date filter
applies to both). Events that name no munition have their own "(no munition
named)" entry under their class, so unticking a munition never hides them
unasked. Tag columns (``tag_*``, a TimeMap export's own filters) get a
checklist each, only when the data have them.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
from PySide6.QtCore import QDate, QSignalBlocker, Qt, QTimer
from PySide6.QtWidgets import (
    QDateEdit,
    QGroupBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)
from superqt import QRangeSlider

from geodata import FilterState, facet_counts
from geodata.filters import NO_MUNITION, NO_TAG, no_munition, tag_counts, tag_label
from geodata.munitions import resolve_munition
from geodata.schema import MUNITION_CLASSES, OUTCOMES
from geodata.style import CLASS_STYLE, OUTCOME_STYLE
from geodata.text import visible_text
from mapviewer.panels.widgets import plain_tooltip, swatch

DEBOUNCE_MS = 150
_VALUE_ROLE = Qt.ItemDataRole.UserRole
_CLASS_ROLE = Qt.ItemDataRole.UserRole + 1  # the class name on a class node of the munition tree
_COLUMN_ROLE = Qt.ItemDataRole.UserRole + 2  # the column name on a column node of the tag tree
#: Preset label -> how far back from the newest event (None: everything).
PRESETS: dict[str, pd.Timedelta | None] = {
    "24 h": pd.Timedelta(hours=24),
    "7 days": pd.Timedelta(days=7),
    "30 days": pd.Timedelta(days=30),
    "All": None,
}

Bound = dt.date | dt.datetime | None


def _checklist() -> QTreeWidget:
    tree = QTreeWidget()
    tree.setColumnCount(2)
    tree.setHeaderHidden(True)
    tree.setRootIsDecorated(True)
    tree.setUniformRowHeights(True)
    header = tree.header()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
    return tree


def _check(value: bool) -> Qt.CheckState:
    return Qt.CheckState.Checked if value else Qt.CheckState.Unchecked


def _munition_wanted(value: str, munitions: frozenset[str] | None, munition_class: str) -> bool:
    """Whether a munition tree entry (of ``munition_class``) is in the filter: named, its whole class
    named, or the any-class "no munition" value for each class's "no munition" entry."""
    if munitions is None or value in munitions or munition_class in munitions:
        return True
    return value.startswith(NO_MUNITION[:-1]) and NO_MUNITION in munitions


class FilterPanel(QWidget):
    """Builds a :class:`geodata.FilterState` from its widgets and hands it to the state."""

    def __init__(self, state, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._start: Bound = None
        self._end: Bound = None
        self._first_day: dt.date | None = None
        self._last_day: dt.date | None = None
        self._newest: pd.Timestamp | None = None
        self._syncing = False  # True while widgets are set from the state (no filter is built)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.apply)

        # -- dates
        self.slider = QRangeSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Drag either end to narrow the date range (whole days).")
        self.start_edit = QDateEdit(calendarPopup=True)
        self.end_edit = QDateEdit(calendarPopup=True)
        for edit in (self.start_edit, self.end_edit):
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.preset_buttons: dict[str, QPushButton] = {}
        presets = QGridLayout()  # two by two: the panel stays narrow enough to leave the map room
        presets.setSpacing(4)
        for i, label in enumerate(PRESETS):
            button = QPushButton("Last " + label if PRESETS[label] is not None else label)
            button.setAutoDefault(False)
            button.setCheckable(True)  # shows which preset the current range is
            button.clicked.connect(lambda _=False, name=label: self.apply_preset(name))
            self.preset_buttons[label] = button
            presets.addWidget(button, i // 2, i % 2)
        edits = QHBoxLayout()
        edits.addWidget(self.start_edit)
        edits.addWidget(QLabel("to"))
        edits.addWidget(self.end_edit)
        date_box = QGroupBox("Date")
        date_layout = QVBoxLayout(date_box)
        date_layout.addWidget(self.slider)
        date_layout.addLayout(edits)
        date_layout.addLayout(presets)
        self.slider.valueChanged.connect(self._on_slider_changed)
        self.start_edit.dateChanged.connect(self._on_date_edited)
        self.end_edit.dateChanged.connect(self._on_date_edited)

        # -- munitions grouped by class
        self.munition_tree = _checklist()
        self.munition_tree.itemChanged.connect(self._on_item_changed)
        munition_box = QGroupBox("Munitions")
        QVBoxLayout(munition_box).addWidget(self.munition_tree)

        # -- outcomes, fixed order, with their colour
        self.outcome_list = _checklist()
        self.outcome_list.setRootIsDecorated(False)
        for outcome in OUTCOMES:
            item = QTreeWidgetItem([OUTCOME_STYLE[outcome].label, ""])
            item.setData(0, _VALUE_ROLE, outcome)
            item.setIcon(0, swatch(OUTCOME_STYLE[outcome].colour))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Checked)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.outcome_list.addTopLevelItem(item)
        rows = self.outcome_list.sizeHintForRow(0) * len(OUTCOMES) + 2 * self.outcome_list.frameWidth() + 4
        self.outcome_list.setFixedHeight(max(rows, 60))
        self.outcome_list.itemChanged.connect(self._on_item_changed)
        outcome_box = QGroupBox("Outcome")
        QVBoxLayout(outcome_box).addWidget(self.outcome_list)

        # -- a source's own filters (tag_* columns): one collapsible checklist per column
        self.tag_tree = _checklist()
        self.tag_tree.itemChanged.connect(self._on_item_changed)
        self.tag_box = QGroupBox("Tags")
        self.tag_box.setToolTip("The source's own categories (e.g. a TimeMap export's filters)")
        QVBoxLayout(self.tag_box).addWidget(self.tag_tree)
        self.tag_box.setVisible(False)

        # -- text search and reset
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search place, munition, notes, source...")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._schedule)
        self.reset_button = QPushButton("Reset filters")
        self.reset_button.clicked.connect(self.reset)
        self.count_label = QLabel()
        # Constraints this panel has no widgets for (oblast, area, ... from a saved view or the
        # command line): said in words, or the count would shrink for no visible reason.
        self.other_label = QLabel()
        self.other_label.setTextFormat(Qt.TextFormat.PlainText)  # oblast names from a saved view are data
        self.other_label.setWordWrap(True)
        self.other_label.setVisible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.search)
        layout.addWidget(date_box)
        layout.addWidget(munition_box, 1)
        layout.addWidget(outcome_box)
        layout.addWidget(self.tag_box, 1)
        layout.addWidget(self.other_label)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label, 1)
        bottom.addWidget(self.reset_button)
        layout.addLayout(bottom)

        state.data_changed.connect(self._on_data_changed)
        state.waves_changed.connect(self._on_data_changed)
        state.filter_changed.connect(self._on_filter_changed)
        state.database_changed.connect(self._update_counts)  # an open database's counts arrived
        self._on_data_changed()

    # -- building the filter ------------------------------------------------
    def build_filter(self) -> FilterState:
        """The filter the widgets describe (fields the panel does not show are kept)."""
        munitions, munition_classes = self._munition_choice()
        return self.state.filter.replace(
            start=self._start,
            end=self._end,
            munitions=munitions,
            munition_classes=munition_classes,
            outcomes=self._checked(self.outcome_list),
            text=self.search.text().strip() or None,
            tags=self._tag_choice(),
        )

    def apply(self) -> None:
        """Hand the widgets' filter to the state now (the debounce timer calls this)."""
        self._timer.stop()
        self.state.set_filter(self.build_filter())

    def reset(self) -> None:
        """Clear every constraint, including those set elsewhere (saved views)."""
        self._timer.stop()
        self.state.set_filter(FilterState(tz=self.state.filter.tz))
        self._sync_from_state()

    def apply_preset(self, name: str) -> None:
        """Set the date range to the last 24 h / 7 days / 30 days of the data, or all of it."""
        span = PRESETS[name]
        if span is None or self._newest is None:
            self._start, self._end = None, None
        else:
            self._start = (self._newest - span).to_pydatetime()
            self._end = None
        self._show_dates()
        self._schedule()

    def _preset_matches(self, name: str) -> bool:
        span = PRESETS[name]
        if span is None:
            return self._start is None and self._end is None
        if self._newest is None or self._end is not None or not isinstance(self._start, dt.datetime):
            return False
        return pd.Timestamp(self._start) == self._newest - span

    def _munition_choice(self) -> tuple[frozenset[str] | None, frozenset[str] | None]:
        """(munitions, munition_classes) the munition tree describes.

        An unticked class node excludes its class (``munition_classes``, as the map's layer
        boxes do), unless it is unticked only because the munition filter already leaves
        none of its munitions. The munitions of a class excluded before (e.g. on the map)
        keep their current choice, so ticking the class again brings back what was there.
        """
        current = self.state.filter
        excluded = {c for c in MUNITION_CLASSES
                    if current.munition_classes is not None and c not in current.munition_classes}
        included: list[str] = []
        everything = True
        for i in range(self.munition_tree.topLevelItemCount()):
            parent = self.munition_tree.topLevelItem(i)
            munition_class = parent.data(0, _CLASS_ROLE)
            children = [parent.child(j) for j in range(parent.childCount())]
            before = [_munition_wanted(c.data(0, _VALUE_ROLE), current.munitions, munition_class) for c in children]
            was_off = munition_class in excluded
            off = parent.checkState(0) == Qt.CheckState.Unchecked and (was_off or any(before))
            if off:
                excluded.add(munition_class)
            else:
                excluded.discard(munition_class)
            for child, was in zip(children, before):
                keep = was if off and was_off else child.checkState(0) == Qt.CheckState.Checked
                everything &= keep
                if keep:
                    included.append(child.data(0, _VALUE_ROLE))
        munitions = None if everything else frozenset(included)
        classes = None if not excluded else frozenset(c for c in MUNITION_CLASSES if c not in excluded)
        return munitions, classes

    def _tag_choice(self) -> frozenset[tuple[str, str]] | None:
        """(column, value) pairs the tag tree describes; a column with every value ticked adds none.

        A column with nothing ticked gives the pair (column, "") (that column, no value
        allowed). Pairs for tag columns the data do not have (a saved view made on
        another file) are kept.
        """
        current = self.state.filter
        shown = {self.tag_tree.topLevelItem(i).data(0, _COLUMN_ROLE) for i in range(self.tag_tree.topLevelItemCount())}
        pairs = {p for p in current.tags or () if p[0] not in shown}
        for i in range(self.tag_tree.topLevelItemCount()):
            parent = self.tag_tree.topLevelItem(i)
            column = parent.data(0, _COLUMN_ROLE)
            children = [parent.child(j) for j in range(parent.childCount())]
            ticked = [c.data(0, _VALUE_ROLE) for c in children if c.checkState(0) == Qt.CheckState.Checked]
            if len(ticked) == len(children):
                continue
            pairs |= {(column, value) for value in ticked} or {(column, "")}
        return frozenset(pairs) if pairs else None

    def _checked(self, tree: QTreeWidget, leaves_only: bool = False) -> frozenset[str] | None:
        values, everything = [], True
        for item in self._items(tree, leaves_only):
            if item.checkState(0) == Qt.CheckState.Checked:
                values.append(item.data(0, _VALUE_ROLE))
            else:
                everything = False
        return None if everything else frozenset(values)

    @staticmethod
    def _items(tree: QTreeWidget, leaves_only: bool = False) -> list[QTreeWidgetItem]:
        items = []
        for i in range(tree.topLevelItemCount()):
            top = tree.topLevelItem(i)
            if top.childCount():
                items.extend(top.child(j) for j in range(top.childCount()))
            elif not leaves_only or top.data(0, _VALUE_ROLE) is not None:
                items.append(top)
        return items

    # -- widget events ------------------------------------------------------
    def _schedule(self, *_args) -> None:
        if not self._syncing:
            self._timer.start()

    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if column == 0:
            self._schedule()

    def _on_slider_changed(self, value: tuple[int, int]) -> None:
        if self._syncing or self._first_day is None:
            return
        low, high = (int(round(v)) for v in value)
        span = (self._last_day - self._first_day).days
        self._start = None if low <= 0 else self._first_day + dt.timedelta(days=low)
        self._end = None if high >= span else self._first_day + dt.timedelta(days=high)
        self._show_dates(slider=False)
        self._schedule()

    def _on_date_edited(self, _date: QDate) -> None:
        if self._syncing or self._first_day is None:
            return
        start = self.start_edit.date().toPython()
        end = self.end_edit.date().toPython()
        if end < start:  # the edited end wins and pulls the other one along
            if self.sender() is self.end_edit:
                start = end
            else:
                end = start
        self._start = None if start <= self._first_day else start
        self._end = None if end >= self._last_day else end
        self._show_dates()
        self._schedule()

    # -- state events -------------------------------------------------------
    def _server(self):
        """The open database when its events are on the server (not all in memory), else None."""
        database = getattr(self.state, "database", None)
        return database if database is not None and database.partial else None

    def _times(self) -> pd.Series:
        """Every known time in UTC: event times, and each attack wave's start and end."""
        columns = [self.state.frame["occurred_at"]] if len(self.state.frame) else []
        database = self._server()
        if database is not None:  # the span of every event in the database, not of those in memory
            span = [(database.catalogue or {}).get(end) for end in ("first", "last")]
            columns = [pd.Series([t for t in span if t is not None], dtype="datetime64[ns, UTC]")]
        waves = self.state.waves
        if waves is not None and len(waves):
            columns += [waves[c] for c in ("occurred_at", "time_end") if c in waves.columns]
        if not columns:
            return pd.Series([], dtype="datetime64[ns, UTC]")
        return pd.to_datetime(pd.concat(columns, ignore_index=True), utc=True).dropna()

    def _on_data_changed(self) -> None:
        tz = self.state.filter.tz
        times = self._times()
        if len(times):
            local = times.dt.tz_convert(tz)
            self._first_day = local.min().date()
            self._last_day = local.max().date()
            self._newest = local.max()
            newest = f"{self._newest:%Y-%m-%d %H:%M} ({tz})"
        else:
            self._first_day = self._last_day = None
            self._newest = None
            newest = "none"
        tip = (f"Relative to the newest event or attack wave in the loaded data, {newest}, not to today: "
               "the data are historical.")
        for name, button in self.preset_buttons.items():
            button.setToolTip("Show every date." if PRESETS[name] is None else tip)
        self._rebuild_munitions()
        self._rebuild_tags()
        self._sync_from_state()

    def _on_filter_changed(self) -> None:
        if self._timer.isActive():  # the user is still editing: keep their widgets
            self._update_counts()
        else:
            self._sync_from_state()

    def _munition_classes(self) -> list[tuple[str, object]]:
        """(munition, class) of every event and of every munition an attack wave names."""
        pairs: list[tuple[str, object]] = []
        database = self._server()
        if database is not None:  # every munition in the database
            pairs += [(m, c) for m, c, _n in (database.catalogue or {}).get("munitions", [])]
        elif len(self.state.frame):
            unique = self.state.frame[["munition", "munition_class"]].drop_duplicates()
            pairs += zip(unique["munition"], unique["munition_class"])
        waves = self.state.waves
        if waves is not None and len(waves):
            # The munition filter applies to waves by each name a wave lists ("Kh-101 / Kh-555").
            for names, munition, munition_class in zip(waves["munition_names"], waves["munition"],
                                                       waves["munition_class"]):
                for name in names or (munition,):
                    known = resolve_munition(name)
                    pairs.append((name, known.munition_class if known else munition_class))
        # Events that name no munition (TimeMap rows, an empty arms column) get their class's own entry.
        return [(m if pd.notna(m) else no_munition(str(c) if pd.notna(c) else "unknown"), c) for m, c in pairs]

    def _rebuild_munitions(self) -> None:
        by_class: dict[str, list[str]] = {}
        for munition, munition_class in self._munition_classes():
            key = str(munition_class) if pd.notna(munition_class) else "unknown"
            by_class.setdefault(key, []).append(str(munition))
        with QSignalBlocker(self.munition_tree):
            self.munition_tree.clear()
            for munition_class in MUNITION_CLASSES:
                names = set(by_class.get(munition_class, []))
                # Named munitions in order, then the entry for those naming none.
                names = sorted(names, key=lambda n: (n == no_munition(munition_class), n.casefold()))
                if not names:
                    continue
                parent = QTreeWidgetItem([CLASS_STYLE[munition_class].label, ""])
                parent.setFlags(parent.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsAutoTristate)
                parent.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                parent.setData(0, _VALUE_ROLE, None)
                parent.setData(0, _CLASS_ROLE, munition_class)
                self.munition_tree.addTopLevelItem(parent)
                for name in names:
                    unnamed = name == no_munition(munition_class)
                    child = QTreeWidgetItem([NO_MUNITION if unnamed else visible_text(name), ""])
                    if unnamed:
                        child.setToolTip(0, "Events of this class that name no munition")
                        font = child.font(0)
                        font.setItalic(True)
                        child.setFont(0, font)
                    child.setData(0, _VALUE_ROLE, name)
                    child.setFlags(child.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                    child.setCheckState(0, Qt.CheckState.Checked)
                    child.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    parent.addChild(child)
                parent.setExpanded(True)

    def _rebuild_tags(self) -> None:
        frame = self.state.frame
        # a database on the server: its tag columns are not offered (the rows in memory are not all of them)
        counts = tag_counts(frame, FilterState()) if len(frame) and self._server() is None else {}
        with QSignalBlocker(self.tag_tree):
            expanded = {self.tag_tree.topLevelItem(i).data(0, _COLUMN_ROLE) for i in range(self.tag_tree.topLevelItemCount())
                        if self.tag_tree.topLevelItem(i).isExpanded()}
            self.tag_tree.clear()
            for column, values in counts.items():
                if not values:
                    continue
                parent = QTreeWidgetItem([visible_text(tag_label(column)), ""])
                parent.setToolTip(0, plain_tooltip(column))
                parent.setFlags(parent.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsAutoTristate)
                parent.setData(0, _VALUE_ROLE, None)
                parent.setData(0, _COLUMN_ROLE, column)
                self.tag_tree.addTopLevelItem(parent)
                for value in values:
                    child = QTreeWidgetItem([visible_text(value), ""])
                    child.setData(0, _VALUE_ROLE, value)
                    child.setFlags(child.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                    child.setCheckState(0, Qt.CheckState.Checked)
                    child.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    if value == NO_TAG:
                        child.setToolTip(0, "Events with no value in this column")
                    parent.addChild(child)
                parent.setExpanded(column in expanded)  # collapsed at first: one line per column
        self.tag_box.setVisible(self.tag_tree.topLevelItemCount() > 0)

    def _sync_from_state(self) -> None:
        """Show the state's filter in the widgets (saved views, reset, new data)."""
        current = self.state.filter
        self._syncing = True
        try:
            with QSignalBlocker(self.munition_tree), QSignalBlocker(self.outcome_list), QSignalBlocker(self.tag_tree):
                for i in range(self.munition_tree.topLevelItemCount()):
                    parent = self.munition_tree.topLevelItem(i)
                    # A class the filter excludes (e.g. its layer unticked on the map) shows unticked.
                    shown = current.munition_classes is None or parent.data(0, _CLASS_ROLE) in current.munition_classes
                    for j in range(parent.childCount()):
                        name = parent.child(j).data(0, _VALUE_ROLE)
                        ticked = shown and _munition_wanted(name, current.munitions, parent.data(0, _CLASS_ROLE))
                        parent.child(j).setCheckState(0, _check(ticked))
                    self._update_parent_check(parent)
                for i in range(self.tag_tree.topLevelItemCount()):
                    parent = self.tag_tree.topLevelItem(i)
                    column = parent.data(0, _COLUMN_ROLE)
                    allowed = {v for c, v in current.tags or () if c == column}
                    constrained = any(c == column for c, _ in current.tags or ())
                    for j in range(parent.childCount()):
                        value = parent.child(j).data(0, _VALUE_ROLE)
                        parent.child(j).setCheckState(0, _check(not constrained or value in allowed))
                    self._update_parent_check(parent)
                for item in self._items(self.outcome_list):
                    value = item.data(0, _VALUE_ROLE)
                    item.setCheckState(0, _check(current.outcomes is None or value in current.outcomes))
            if self.search.text().strip() != (current.text or ""):
                self.search.setText(current.text or "")
            self._start, self._end = current.start, current.end
            self._show_dates()
        finally:
            self._syncing = False
        self._update_counts()

    @staticmethod
    def _update_parent_check(parent: QTreeWidgetItem) -> None:
        # Signals are blocked while syncing, so the automatic tri-state does not run: set it here.
        states = {parent.child(j).checkState(0) for j in range(parent.childCount())}
        parent.setCheckState(0, states.pop() if len(states) == 1 else Qt.CheckState.PartiallyChecked)

    def _show_dates(self, slider: bool = True) -> None:
        """Put ``_start``/``_end`` into the date edits and the slider (without feedback)."""
        for name, button in self.preset_buttons.items():
            button.setChecked(self._preset_matches(name))
        enabled = self._first_day is not None
        for widget in (self.slider, self.start_edit, self.end_edit, *self.preset_buttons.values()):
            widget.setEnabled(enabled)
        if not enabled:
            return
        first, last = self._first_day, self._last_day
        tz = self.state.filter.tz
        start = _as_day(self._start, tz) or first
        end = _as_day(self._end, tz) or last
        start, end = min(max(start, first), last), max(min(end, last), first)
        with QSignalBlocker(self.slider), QSignalBlocker(self.start_edit), QSignalBlocker(self.end_edit):
            for edit in (self.start_edit, self.end_edit):
                edit.setDateRange(QDate(first), QDate(last))
            self.start_edit.setDate(QDate(start))
            self.end_edit.setDate(QDate(end))
            if slider:
                self.slider.setRange(0, max((last - first).days, 0))
                self.slider.setValue(((start - first).days, (end - first).days))

    def _update_counts(self) -> None:
        frame, current = self.state.frame, self.state.filter
        munitions = facet_counts(frame, current, "munitions") if len(frame) else {}
        outcomes = facet_counts(frame, current, "outcomes") if len(frame) else {}
        database = self._server()
        if database is not None:  # counted on the server (empty until its answer comes)
            munitions = (database.facets or {}).get("munitions", {})
            outcomes = (database.facets or {}).get("outcomes", {})
        tags = tag_counts(frame, current) if len(frame) and self.tag_tree.topLevelItemCount() else {}
        with QSignalBlocker(self.munition_tree), QSignalBlocker(self.outcome_list), QSignalBlocker(self.tag_tree):
            for i in range(self.tag_tree.topLevelItemCount()):
                parent = self.tag_tree.topLevelItem(i)
                values = tags.get(parent.data(0, _COLUMN_ROLE), {})
                for j in range(parent.childCount()):
                    child = parent.child(j)
                    child.setText(1, f"{values.get(child.data(0, _VALUE_ROLE), 0):,}")
            for i in range(self.munition_tree.topLevelItemCount()):
                parent = self.munition_tree.topLevelItem(i)
                total = 0
                for j in range(parent.childCount()):
                    child = parent.child(j)
                    count = munitions.get(child.data(0, _VALUE_ROLE), 0)
                    total += count
                    child.setText(1, f"{count:,}")
                parent.setText(1, f"{total:,}")
            for item in self._items(self.outcome_list):
                item.setText(1, f"{outcomes.get(item.data(0, _VALUE_ROLE), 0):,}")
        shown, total = int(self.state.mask.sum()), len(frame)
        if database is not None:
            shown, total = (database.summary.total if database.summary is not None else 0), database.total
        self.count_label.setText(f"{shown:,} of {total:,} {'strikes' if self.state.counting_strikes else 'events'}")
        self.reset_button.setEnabled(not current.is_empty)
        other = other_constraints(current)
        self.other_label.setText(visible_text("Also filtered by " + "; ".join(other) + ".") if other else "")
        self.other_label.setVisible(bool(other))


def other_constraints(state: FilterState) -> list[str]:
    """The filter's constraints the panel shows no widget for, in words.

    Munition classes are not among them: the munition tree's class nodes show them.
    """
    words = []
    if state.admin1 is not None:
        words.append("oblast: " + ", ".join(sorted(state.admin1)))
    if state.bbox is not None:
        w, s, e, n = state.bbox
        words.append(f"area {w:.2f}–{e:.2f} E, {s:.2f}–{n:.2f} N")
    if state.min_casualties is not None:
        words.append(f"at least {state.min_casualties} killed or injured")
    return words


def _as_day(value: Bound, tz: str) -> dt.date | None:
    """The calendar day (in the working time zone) a filter bound falls on."""
    if value is None:
        return None
    if isinstance(value, dt.datetime) or isinstance(value, pd.Timestamp):
        ts = pd.Timestamp(value)
        if ts.tzinfo is not None:
            ts = ts.tz_convert(tz)
        return ts.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(value).date()
