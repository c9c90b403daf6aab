"""A dialog to map a partner's own column names onto the canonical columns before reading.

Shows the first rows of the file as plain text, one choice per canonical column (pre-filled
from :func:`geodata.readers.preview.preview_table`), the working time zone and the date order.
``mapping()`` and ``options()`` are what ``geodata.read_incidents(path, columns=..., **options)``
takes. Columns left unmapped are kept as extra columns, never dropped.
"""
from __future__ import annotations

import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from geodata.readers.preview import MAPPABLE, Preview, preview_table
from geodata.schema import DEFAULT_TZ
from geodata.text import visible_text
from mapviewer.panels.widgets import plain_tooltip

#: What each canonical column is called in the form.
LABELS: dict[str, str] = {
    "event_id": "Event id",
    "occurred_at": "Date (and time)",
    "time": "Time of day (own column)",
    "latitude": "Latitude",
    "longitude": "Longitude",
    "coordinates": "Coordinates (lat, lon in one column)",
    "location": "Place name",
    "admin1": "Oblast / region",
    "geo_precision": "Location precision",
    "munition": "Munition",
    "outcome": "Outcome",
    "killed": "Killed",
    "injured": "Injured",
    "source": "Source",
    "source_url": "Source link",
    "notes": "Notes",
}
NOT_IN_FILE = "(not in the file)"
ENCODINGS: tuple[tuple[str, str | None], ...] = (
    ("Detected", None), ("UTF-8", "utf-8"), ("Windows-1251 (Cyrillic)", "cp1251"), ("UTF-16", "utf-16"),
)
DELIMITERS: tuple[tuple[str, str | None], ...] = (
    ("Detected", None), ("Comma  ,", ","), ("Semicolon  ;", ";"), ("Tab", "\t"), ("Bar  |", "|"),
)
TIME_ZONES: tuple[str, ...] = (DEFAULT_TZ, "UTC", "Europe/Moscow", "Europe/Warsaw", "Europe/Berlin", "Europe/London")
DATE_ORDERS: tuple[tuple[str, bool | None], ...] = (
    ("Automatic (decided from the data)", None),
    ("Day first (24.02.2022, 24/02/2022)", True),
    ("Month first (02/24/2022)", False),
)
_SHOWN_NAMES = {"occurred_at": "date"}  # what a missing column is called in the status line


class ColumnMappingDialog(QDialog):
    """Choose which of the file's columns holds each canonical column.

    Raises ``geodata.errors.DataError`` when the file cannot be previewed at all.
    Public parts: ``preview`` (the current :class:`Preview`), ``combos`` (canonical name ->
    QComboBox), ``table``, ``tz_combo``, ``date_order_combo``, ``encoding_combo``,
    ``delimiter_combo``, ``status_label``, ``ok_button``; :meth:`mapping`, :meth:`options`,
    :meth:`missing`.
    """

    def __init__(self, path: str | os.PathLike[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = os.fspath(path)
        self.preview: Preview = preview_table(self.path)
        self.setWindowTitle(visible_text(f"Open with column mapping: {os.path.basename(self.path)}"))

        layout = QVBoxLayout(self)
        intro = QLabel(visible_text(
            f"{self.path}\nChoose the column that holds each kind of information. "
            "Columns not chosen are kept as extra columns; rows that cannot be read are listed in the load report."))
        intro.setTextFormat(Qt.TextFormat.PlainText)  # file names are data, shown as they are
        intro.setWordWrap(True)
        layout.addWidget(intro)

        self.encoding_combo = QComboBox()
        self.delimiter_combo = QComboBox()
        for combo, choices in ((self.encoding_combo, ENCODINGS), (self.delimiter_combo, DELIMITERS)):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            for label, value in choices:
                combo.addItem(label, value)
        text_options = QHBoxLayout()
        text_options.addWidget(QLabel("Encoding:"))
        text_options.addWidget(self.encoding_combo)
        text_options.addSpacing(16)
        text_options.addWidget(QLabel("Delimiter:"))
        text_options.addWidget(self.delimiter_combo)
        text_options.addStretch(1)
        self._text_box = QWidget()
        self._text_box.setLayout(text_options)
        layout.addWidget(self._text_box)

        self.table = QTableWidget()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setMinimumHeight(180)
        layout.addWidget(self.table, 1)

        columns_box = QGroupBox("Columns")
        grid = QGridLayout(columns_box)
        self.combos: dict[str, QComboBox] = {}
        half = (len(MAPPABLE) + 1) // 2
        for i, name in enumerate(MAPPABLE):
            combo = QComboBox()
            combo.setObjectName(f"column_{name}")
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.currentIndexChanged.connect(self._on_choice_changed)
            label = QLabel(LABELS[name] + ":")
            label.setBuddy(combo)
            row, col = i % half, (i // half) * 2
            grid.addWidget(label, row, col)
            grid.addWidget(combo, row, col + 1)
            self.combos[name] = combo
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        layout.addWidget(columns_box)

        options_box = QGroupBox("Reading")
        form = QFormLayout(options_box)
        self.tz_combo = QComboBox()
        self.tz_combo.setEditable(True)  # any IANA zone name may be typed
        self.tz_combo.addItems(TIME_ZONES)
        self.tz_combo.setToolTip("Times written without a zone are read in this zone")
        self.tz_combo.currentTextChanged.connect(self._on_choice_changed)
        form.addRow("Working time zone:", self.tz_combo)
        self.date_order_combo = QComboBox()
        for label, value in DATE_ORDERS:
            self.date_order_combo.addItem(label, value)
        form.addRow("Date order:", self.date_order_combo)
        layout.addWidget(options_box)

        self.status_label = QLabel()
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button: QPushButton = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Open")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        self._show_preview(keep={})
        self.encoding_combo.currentIndexChanged.connect(self._on_text_options_changed)
        self.delimiter_combo.currentIndexChanged.connect(self._on_text_options_changed)
        self.resize(900, 700)

    # -- what the reader takes ------------------------------------------------
    def mapping(self) -> dict[str, str]:
        """``{file header: canonical name}`` for every chosen column (``columns=`` of read_incidents)."""
        out: dict[str, str] = {}
        for name, combo in self.combos.items():
            header = combo.currentData()
            if header is not None:
                out[header] = name
        return out

    def options(self) -> dict[str, object]:
        """The other keyword options of read_incidents: ``tz``, and ``dayfirst``/``encoding``/``delimiter`` when set."""
        opts: dict[str, object] = {"tz": self.tz_combo.currentText().strip()}
        dayfirst = self.date_order_combo.currentData()
        if dayfirst is not None:
            opts["dayfirst"] = dayfirst
        if self.preview.encoding is not None:
            for key, combo in (("encoding", self.encoding_combo), ("delimiter", self.delimiter_combo)):
                if combo.currentData() is not None:
                    opts[key] = combo.currentData()
        return opts

    def missing(self) -> list[str]:
        """Why the file cannot be opened with the current choices (empty when it can)."""
        chosen = {name: combo.currentData() for name, combo in self.combos.items()}
        # one coordinates column, or place names the offline gazetteer places, stand in for latitude and longitude
        placed = any(chosen.get(name) is not None for name in ("coordinates", "location"))
        needed = ["occurred_at"] if self.preview.has_geometry or placed else ["latitude", "longitude", "occurred_at"]
        problems = []
        absent = [_SHOWN_NAMES.get(n, n) for n in needed if chosen[n] is None]
        if absent:
            alternatives = (" (or one coordinates column, or a place-name column)"
                            if "latitude" in absent else "")
            problems.append(f"choose the {_join(absent)} column{'s' if len(absent) > 1 else ''}{alternatives}")
        users: dict[str, list[str]] = {}
        for name, header in chosen.items():
            if header is not None:
                users.setdefault(header, []).append(LABELS[name].lower())
        for header, names in users.items():
            if len(names) > 1:
                problems.append(f"column {header!r} is chosen for both {_join(names)}")
        tz = self.tz_combo.currentText().strip()
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"{tz!r} is not a time zone name (e.g. Europe/Kyiv, UTC)")
        return problems

    # -- internals ------------------------------------------------------------
    def _show_preview(self, keep: dict[str, str | None]) -> None:
        """Fill the table and the column choices; ``keep`` holds choices to carry over."""
        p = self.preview
        self._text_box.setVisible(p.encoding is not None)
        if p.encoding is not None:
            self.encoding_combo.setItemText(0, f"Detected ({_encoding_name(p.encoding)})")
            self.delimiter_combo.setItemText(0, f"Detected ({_delimiter_name(p.delimiter)})")
        self.table.clear()
        self.table.setColumnCount(len(p.headers))
        self.table.setRowCount(len(p.rows))
        self.table.setHorizontalHeaderLabels([visible_text(h) for h in p.headers])
        self.table.setVerticalHeaderLabels([str(n) for n in p.row_numbers])  # the file's own row numbers
        for r, record in enumerate(p.rows):
            for c, value in enumerate(record):
                self.table.setItem(r, c, QTableWidgetItem(visible_text(value)))  # plain text: never rich text
        samples = {h: ", ".join(v for v in (row[i] for row in p.rows[:5]) if v)[:200]
                   for i, h in enumerate(p.headers)}
        for name, combo in self.combos.items():
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(NOT_IN_FILE, None)
            for header in p.headers:
                combo.addItem(visible_text(header), header)
                combo.setItemData(combo.count() - 1, plain_tooltip(samples[header]) or "(empty in the first rows)",
                                  Qt.ItemDataRole.ToolTipRole)
            wanted = keep.get(name) if name in keep else p.suggested.get(name)
            combo.setCurrentIndex(max(combo.findData(wanted), 0) if wanted is not None else 0)
            combo.blockSignals(False)
        self._on_choice_changed()

    def _on_text_options_changed(self) -> None:
        from geodata.errors import DataError

        keep = {name: combo.currentData() for name, combo in self.combos.items()}
        try:
            self.preview = preview_table(self.path, encoding=self.encoding_combo.currentData(),
                                         delimiter=self.delimiter_combo.currentData())
        except DataError as exc:
            self.status_label.setText(visible_text(str(exc)))
            self.ok_button.setEnabled(False)
            return
        # choices of headers that still exist are kept; the rest (headers garbled by a wrong
        # encoding or delimiter, or nothing chosen) fall back to the new suggestions
        keep = {n: h for n, h in keep.items() if h is not None and h in self.preview.headers}
        self._show_preview(keep)

    def _on_choice_changed(self, *_args: object) -> None:
        problems = self.missing()
        self.ok_button.setEnabled(not problems)
        if problems:
            self.status_label.setText(visible_text("To open the file: " + "; ".join(problems) + "."))
        else:
            self.status_label.setText(visible_text("Ready to open." + self._effect()))

    def _effect(self) -> str:
        """What the reader will do with the columns not chosen (it still recognises usual names)."""
        from geodata.errors import DataError
        from geodata.readers.columns import map_headers

        chosen = self.mapping()
        try:
            effective = map_headers(self.preview.headers, path=self.path, columns=chosen,
                                    coordinates=not self.preview.has_geometry)
        except DataError:
            effective = chosen
        named = [f"{h!r} as {LABELS.get(t, t).lower()}" for h, t in effective.items() if h not in chosen]
        extra = [h for h in self.preview.headers if h not in effective]
        text = f" Also recognised by name: {', '.join(named)}." if named else ""
        return text + (f" Kept as extra columns: {', '.join(extra)}." if extra else "")


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _encoding_name(encoding: str) -> str:
    return {"cp1251": "Windows-1251", "utf-8": "UTF-8", "utf-8-sig": "UTF-8", "utf-16": "UTF-16"}.get(encoding, encoding)


def _delimiter_name(delimiter: str | None) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "bar"}.get(delimiter or "", repr(delimiter))


__all__ = ["ColumnMappingDialog", "LABELS", "NOT_IN_FILE"]
