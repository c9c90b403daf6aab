"""Attribute table over the filtered frame, synced with the one selection in the state.

The model holds only an array of frame positions (the filtered rows, in the
current sort order); cell text is formatted when Qt asks for it, so 100k+ rows
cost no more than the rows on screen.
"""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QAction, QColor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QLabel, QTableView, QToolButton, QVBoxLayout, QWidget

from geodata.points import LAT, LON, has_geometry, lon_lat
from geodata.schema import GEO_PRECISION_DTYPE, MUNITION_CLASS_DTYPE, OUTCOME_DTYPE, TIME_PRECISION_DTYPE
from geodata.style import outcome_colour
from geodata.text import visible_text
from mapviewer.panels.widgets import plain_tooltip

#: Column key -> header. Keys are frame columns, or "lat"/"lon" (from the geometry).
HEADERS: dict[str, str] = {
    "event_id": "ID",
    "occurred_at": "Time",
    "munition": "Munition",
    "munition_class": "Class",
    "outcome": "Outcome",
    "location": "Location",
    "admin1": "Oblast",
    "geo_precision": "Location precision",
    "time_precision": "Time precision",
    "killed": "Killed",
    "injured": "Injured",
    "lat": "Lat",
    "lon": "Lon",
    "source": "Source",
    "source_url": "Source URL",
    "notes": "Notes",
    "dataset": "File",
}
_NUMERIC = {"killed", "injured", "lat", "lon"}
#: Cell values are converted to Python objects in blocks of this many rows, when first shown.
_BLOCK = 1024
#: Column widths are measured on the header and this many rows, once per data load.
WIDTH_SAMPLE = 200
_MIN_WIDTH, _MAX_WIDTH = 50, 260
_Display = Qt.ItemDataRole.DisplayRole


def _text(value) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        return "" if np.isnan(value) else f"{value:.5f}"
    return str(value)


#: Category columns sorted in their own fixed order (the style table's), not as text.
_FIXED_ORDERS = (OUTCOME_DTYPE, MUNITION_CLASS_DTYPE, TIME_PRECISION_DTYPE, GEO_PRECISION_DTYPE)


class IncidentTableModel(QAbstractTableModel):
    """Rows are the filtered frame's positions; sortable with :meth:`sort`."""

    def __init__(self, state, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.positions = np.zeros(0, dtype=np.int32)  # frame position of each table row
        self._row_of = np.zeros(0, dtype=np.int32)  # inverse: frame position -> table row, -1 if hidden
        self._columns: list[str] = []
        self._cache: dict[str, np.ndarray] = {}  # lat/lon, whole columns (vectorised, cheap)
        self._blocks: dict[tuple[str, int], np.ndarray] = {}  # (column, block) -> values as objects
        self._sort: tuple[str, Qt.SortOrder] | None = None
        self._local_times: pd.Series | None = None
        state.data_changed.connect(self._on_data_changed)
        state.filter_changed.connect(self._on_filter_changed)
        self._on_data_changed()

    # -- Qt model API -----------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.positions)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _Display):
        if role != _Display:
            return None
        if orientation == Qt.Orientation.Horizontal:
            key = self._columns[section]
            return visible_text(HEADERS.get(key, str(key)))
        return str(section + 1)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = _Display):
        if not index.isValid():
            return None
        key = self._columns[index.column()]
        # Shown with control and direction characters escaped (copied rows keep the text as it is).
        if role == _Display:
            return visible_text(self.cell_text(index.row(), key))
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_tooltip(self.cell_text(index.row(), key))
        if role == Qt.ItemDataRole.DecorationRole and key == "outcome":
            value = self._value("outcome", self.positions[index.row()])
            return QColor(outcome_colour(_text(value)))
        if role == Qt.ItemDataRole.TextAlignmentRole and key in _NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        if 0 <= column < len(self._columns):
            self._sort = (self._columns[column], order)
            self._apply_sort()
        else:  # no sort column: back to file order
            self._sort = None
            self._set_positions()
        self.layoutChanged.emit()

    # -- helpers the view uses --------------------------------------------
    @property
    def columns(self) -> list[str]:
        """Column keys in display order (frame columns, or "lat"/"lon")."""
        return list(self._columns)

    def cell_text(self, row: int, key: str) -> str:
        position = self.positions[row]
        if key == "occurred_at":
            return self._time_text(position)
        value = self._value(key, position)
        if key == "dataset":
            return os.path.basename(_text(value))
        if key in ("killed", "injured"):
            return "" if pd.isna(value) else str(int(value))
        return _text(value)

    def row_of(self, positions: np.ndarray) -> np.ndarray:
        """Table rows of frame positions (hidden positions dropped), ascending."""
        if not len(positions):
            return np.zeros(0, dtype=np.int64)
        rows = self._row_of[positions]
        return np.sort(rows[rows >= 0])

    def rows_as_tsv(self, rows: list[int]) -> str:
        """The given table rows with a header line, tab-separated, one record a line."""
        def clean(text: str) -> str:
            return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")

        lines = ["\t".join(HEADERS.get(k, k) for k in self._columns)]
        lines += ["\t".join(clean(self.cell_text(r, k)) for k in self._columns) for r in rows]
        return "\n".join(lines) + "\n"

    # -- internals ----------------------------------------------------------
    def _column(self, key: str) -> np.ndarray:
        """Latitudes or longitudes of every row (one vectorised pass)."""
        cached = self._cache.get(key)
        if cached is None:
            lon, lat = lon_lat(self.state.frame)
            cached = lat if key == "lat" else lon
            self._cache[key] = cached
        return cached

    def _value(self, key: str, position: int):
        """One cell's value. Converting a whole 200k-row text column to objects takes tens of
        milliseconds, so only the block of rows around ``position`` is converted, once. Latitudes
        and longitudes are the frame's own float columns (geodata.points), read whole."""
        if key in ("lat", "lon"):
            return self._column(key)[position]
        block = int(position) // _BLOCK
        values = self._blocks.get((key, block))
        if values is None:
            start = block * _BLOCK
            values = self.state.frame[key].iloc[start:start + _BLOCK].to_numpy(dtype=object)
            self._blocks[(key, block)] = values
        return values[int(position) - block * _BLOCK]

    def _time_text(self, position: int) -> str:
        if self._local_times is None:
            self._local_times = self.state.frame["occurred_at"].dt.tz_convert(self.state.filter.tz)
        ts = self._local_times.iat[position]
        if ts is pd.NaT or pd.isna(ts):
            return ""
        precision = _text(self._value("time_precision", position)) if "time_precision" in self.state.frame else ""
        if precision == "month":
            return f"{ts:%Y-%m}"
        if precision == "day":
            return f"{ts:%Y-%m-%d}"
        return f"{ts:%Y-%m-%d %H:%M}"

    def _sort_key(self, key: str) -> pd.Series:
        if key in ("lat", "lon"):
            return pd.Series(self._column(key))
        series = self.state.frame[key]
        if key == "dataset":
            series = series.map(lambda v: os.path.basename(str(v)))
        elif isinstance(series.dtype, pd.CategoricalDtype) and series.dtype not in _FIXED_ORDERS:
            # repeated text held as a category (geodata.memory): sorted as text, not in the order
            # the values first appeared; outcomes, classes and precisions keep their fixed order
            rank = np.empty(len(series.cat.categories), dtype=np.float64)
            rank[np.argsort(np.asarray(series.cat.categories, dtype=object), kind="stable")] = np.arange(len(rank))
            codes = series.cat.codes.to_numpy()
            series = pd.Series(np.where(codes >= 0, rank[np.maximum(codes, 0)] if len(rank) else 0.0, np.nan))
        return series.reset_index(drop=True)

    def _apply_sort(self) -> None:
        if self._sort is not None and len(self.positions):
            key, order = self._sort
            values = self._sort_key(key).take(self.positions).reset_index(drop=True)
            ascending = order == Qt.SortOrder.AscendingOrder
            try:
                ordering = values.sort_values(ascending=ascending, kind="stable", na_position="last").index
            except TypeError:  # mixed types in an extra column: compare as text
                ordering = values.astype("string").sort_values(
                    ascending=ascending, kind="stable", na_position="last").index
            self.positions = self.positions[ordering.to_numpy()]
        row_of = np.full(len(self.state.frame), -1, dtype=np.int32)  # 4 bytes a row: a million rows, 4 MB
        row_of[self.positions] = np.arange(len(self.positions))
        self._row_of = row_of

    def _on_data_changed(self) -> None:
        self.beginResetModel()
        frame = self.state.frame
        canonical = [k for k in HEADERS if k in frame.columns or k in ("lat", "lon")]
        points = {frame.geometry.name} if has_geometry(frame) else {LAT, LON}
        extras = [c for c in frame.columns if c not in HEADERS and c not in points]
        # Extra input columns go before the file name, which stays last.
        if "dataset" in canonical:
            canonical.remove("dataset")
            extras.append("dataset")
        self._columns = canonical + extras
        self._cache = {}
        self._blocks = {}
        self._local_times = None
        if self._sort is not None and self._sort[0] not in self._columns:
            self._sort = None
        self._set_positions()
        self.endResetModel()

    def _on_filter_changed(self) -> None:
        self.beginResetModel()
        self._set_positions()
        self.endResetModel()

    def _set_positions(self) -> None:
        mask = self.state.mask
        self.positions = (np.flatnonzero(mask).astype(np.int32) if len(mask) == len(self.state.frame)
                          else np.zeros(0, np.int32))
        self._apply_sort()


class IncidentTable(QWidget):
    """The table view with its toolbar; selection goes through the state only."""

    def __init__(self, state, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.model = IncidentTableModel(state, self)
        self._syncing = False

        self.view = QTableView()
        self.view.setModel(self.model)
        # File order until the user clicks a header (Qt would otherwise sort by column 0 at once).
        self.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.view.setSortingEnabled(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setWordWrap(False)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 6)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setDefaultSectionSize(110)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

        self.copy_action = QAction("Copy rows", self)
        self.copy_action.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.copy_action.triggered.connect(self.copy_selection)
        self.zoom_action = QAction("Zoom to selection", self)
        self.zoom_action.setToolTip("Zoom the map to the selected events")
        self.zoom_action.triggered.connect(state.request_zoom_to_selection)
        self.clear_action = QAction("Clear selection", self)
        self.clear_action.triggered.connect(lambda: state.set_selection([]))
        for action in (self.copy_action, self.zoom_action, self.clear_action):
            self.view.addAction(action)

        self.selection_label = QLabel()
        self.selection_label.setWordWrap(True)  # the panel can be narrow: its column leaves the map room
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.selection_label, 1)
        for action in (self.zoom_action, self.clear_action):
            button = QToolButton()
            button.setDefaultAction(action)
            bar.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(self.view)

        self.view.selectionModel().selectionChanged.connect(self._on_view_selection_changed)
        self.model.modelReset.connect(self._on_state_selection_changed)
        self.model.layoutChanged.connect(self._on_state_selection_changed)
        state.selection_changed.connect(self._on_state_selection_changed)
        self._fitted: tuple[str, ...] | None = None  # the columns the widths were measured for
        state.data_changed.connect(self._fit_columns)
        self._on_state_selection_changed()
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Columns as wide as their header and the first rows' text, long text capped.

        Measured once per data load on a sample (:data:`WIDTH_SAMPLE` rows), not on
        every row: Qt's own fit would ask for hundreds of cells per column. An open database's new
        rows for another view or filter (``state.refreshing``) keep the widths the columns have, those
        the person dragged too (measuring took half of each refresh).
        """
        columns = tuple(self.model.columns)
        if self.state.refreshing and columns == self._fitted:
            return
        self._fitted = columns if self.model.rowCount() else None  # measured on headers alone: again with rows
        model, header = self.model, self.view.horizontalHeader()
        cells, heads = self.view.fontMetrics(), header.fontMetrics()
        sample = range(min(model.rowCount(), WIDTH_SAMPLE))
        for column, key in enumerate(model.columns):
            width = heads.horizontalAdvance(str(model.headerData(column, Qt.Orientation.Horizontal))) + 24
            for row in sample:  # 24 px above: room for the sort arrow and margins
                width = max(width, cells.horizontalAdvance(model.cell_text(row, key)) + 12)
            if key == "outcome":  # the colour swatch
                width += self.view.iconSize().width() if self.view.iconSize().width() > 0 else 20
            header.resizeSection(column, min(max(width, _MIN_WIDTH), _MAX_WIDTH))

    def selected_rows(self) -> list[int]:
        """Selected table rows, ascending."""
        rows: list[int] = []
        for selection_range in self.view.selectionModel().selection():
            rows.extend(range(selection_range.top(), selection_range.bottom() + 1))
        return sorted(set(rows))

    def copy_selection(self) -> None:
        """Copy the selected rows (with a header line) as tab-separated text."""
        rows = self.selected_rows()
        if rows:
            QGuiApplication.clipboard().setText(self.model.rows_as_tsv(rows))

    def _on_view_selection_changed(self, *_args) -> None:
        if self._syncing:
            return
        rows = np.asarray(self.selected_rows(), dtype=np.int64)
        self.state.set_selection(self.model.positions[rows] if len(rows) else [])

    def _on_state_selection_changed(self) -> None:
        selected = self.state.selection
        self.zoom_action.setEnabled(bool(len(selected)))
        self.clear_action.setEnabled(bool(len(selected)))
        rows = self.model.row_of(selected)
        hidden = len(selected) - len(rows)
        text = f"{len(selected):,} selected" if len(selected) else "Click rows to select them on the map"
        self.selection_label.setText(text + (f" ({hidden:,} hidden by the filter)" if hidden else ""))

        if np.array_equal(rows, np.asarray(self.selected_rows(), dtype=np.int64)):
            return
        selection = QItemSelection()
        last_column = self.model.columnCount() - 1
        if len(rows) and last_column >= 0:
            # Contiguous runs become one range each: fast for large selections.
            breaks = np.flatnonzero(np.diff(rows) != 1) + 1
            for run in np.split(rows, breaks):
                selection.select(self.model.index(int(run[0]), 0), self.model.index(int(run[-1]), last_column))
        self._syncing = True
        try:
            # Clear, then select: ClearAndSelect works out the difference range by range, which is
            # quadratic for large selections. The ranges already span whole rows (no Rows flag).
            model = self.view.selectionModel()
            model.clearSelection()
            if len(rows):
                model.select(selection, QItemSelectionModel.SelectionFlag.Select)
        finally:
            self._syncing = False
        if len(rows):
            self.view.scrollTo(self.model.index(int(rows[0]), 0), QAbstractItemView.ScrollHint.PositionAtCenter)
