"""The load report in a dialog: counts, the problems table, Copy and Save... (plain text)."""
from __future__ import annotations

import os
from typing import Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from geodata.report import LoadReport, Problem
from geodata.text import visible_text

_HEADERS = ("File", "Row", "Column", "Severity", "Message")


class ProblemModel(QAbstractTableModel):
    """Every problem of every report, one row each (plain text only)."""

    def __init__(self, reports: Sequence[LoadReport], parent=None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[str, Problem]] = [
            (os.path.basename(r.path), p) for r in reports for p in r.problems
        ]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(_HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return _HEADERS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        name, problem = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return visible_text((name, "" if problem.row is None else str(problem.row), problem.column or "",
                                 problem.severity, problem.message)[column])
        if role == Qt.ItemDataRole.ForegroundRole and column == 3 and problem.severity == "error":
            return QColor("#B00020")
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def warning_box(parent: QWidget | None, title: str, text: str) -> QMessageBox:
    """A warning message box that shows ``text`` as plain text (messages may quote file content)."""
    box = QMessageBox(QMessageBox.Icon.Warning, visible_text(title), visible_text(text), QMessageBox.StandardButton.Ok,
                      parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    return box


def report_text(reports: Sequence[LoadReport]) -> str:
    """All reports as plain text, one problem a line."""
    return "\n\n".join(r.to_text() for r in reports) + "\n"


class ReportDialog(QDialog):
    """Shows load reports; Copy puts the plain text on the clipboard, Save... writes it to a file."""

    def __init__(self, reports: Sequence[LoadReport], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reports = list(reports)
        self.setWindowTitle("Load report")
        self.resize(820, 480)

        self.summary_label = summary = QLabel(visible_text(self._summary_text()))
        summary.setTextFormat(Qt.TextFormat.PlainText)  # file names are user data: never rich text
        summary.setWordWrap(True)

        self.model = ProblemModel(self.reports, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.setColumnHidden(0, len(self.reports) < 2)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy")
        self.save_button = QPushButton("Save...")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.copy_button.clicked.connect(self.copy)
        self.save_button.clicked.connect(self._on_save)

        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(self.table, 1)
        if not self.model.rowCount():
            layout.addWidget(QLabel("No problems found."))
        layout.addWidget(buttons)

    def _summary_text(self) -> str:
        lines = []
        for r in self.reports:
            lines.append(
                f"{r.path} ({r.format}): {r.rows_read} rows read, {r.rows_loaded} loaded, "
                f"{r.rows_rejected} rejected, {len(r.warnings)} warnings"
            )
        return "\n".join(lines) if lines else "No file is open."

    def text(self) -> str:
        """The report as plain text."""
        return report_text(self.reports)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text())

    def save_to(self, path: str) -> None:
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(self.text())

    def _on_save(self) -> None:
        first = self.reports[0].path if self.reports else "report"
        suggested = os.path.splitext(first)[0] + "-report.txt"
        path, _ = QFileDialog.getSaveFileName(self, "Save load report", suggested, "Text files (*.txt);;All files (*)")
        if not path:
            return
        try:
            self.save_to(path)
        except OSError as exc:
            warning_box(self, "Save load report", f"Cannot write {path}: {exc.strerror or exc}").exec()
