"""File menu entries for exports and saved views.

Every action reads the one application state (``window.state``): the rows shown
(``state.visible``), the filter, the open files and the map's view. Writes go
through the atomic writers; a problem becomes one message, never a crash.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QMarginsF, QRectF, QSize, Qt
from PySide6.QtGui import QAction, QGuiApplication, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from geodata.errors import DataError
from geodata.text import visible_text

_log = logging.getLogger(__name__)

DATA_FILTERS = {
    "CSV (*.csv)": "csv",
    "GeoJSON (*.geojson)": "geojson",
    "GeoPackage (*.gpkg)": "gpkg",
    "Excel workbook (*.xlsx)": "xlsx",
}
FIGURE_FILTERS = {"PNG image, 300 dpi (*.png)": "png", "PDF (*.pdf)": "pdf", "SVG (*.svg)": "svg"}


def ask_save_path(parent: QWidget, caption: str, suggested: str, filters: list[str]) -> tuple[str, str]:
    """A save-file dialog; returns (path, chosen filter) or ("", "") when cancelled.

    Module-level so tests (and scripted use) can replace it.
    """
    return QFileDialog.getSaveFileName(parent, caption, suggested, ";;".join(filters))


def ask_open_path(parent: QWidget, caption: str, filters: list[str]) -> str:
    """An open-file dialog; returns the path or "" when cancelled."""
    return QFileDialog.getOpenFileName(parent, caption, "", ";;".join(filters))[0]


def _with_suffix(path: str, suffix: str) -> str:
    return path if Path(path).suffix.lower() == suffix else path + suffix


def _suggest(window, name: str) -> str:
    folder = os.path.dirname(window.state.datasets[0].path) if window.state.datasets else os.getcwd()
    return os.path.join(folder, name)


def _report(window, title: str, action: Callable[[], str]) -> None:
    """Run an export; success in the status bar, any failure in a message.

    The busy cursor ends whatever happens: a user-causable failure (DataError,
    OSError) is shown as it is, anything else (a library error, a bug) as what
    failed and why, with the traceback in the log.
    """
    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        done = action()
    except (DataError, OSError) as exc:
        failure = " ".join(str(exc).split())
    except Exception as exc:  # noqa: BLE001 - a message, never a stuck cursor or a lost action
        _log.exception("%s failed", title)
        failure = f"{title} failed: {type(exc).__name__}: {' '.join(str(exc).split())}".rstrip(": ")
    else:
        failure = None
    finally:
        QGuiApplication.restoreOverrideCursor()
    if failure is not None:
        window.show_error(title, failure)
    elif done:
        window.statusBar().showMessage(visible_text(done), 10000)


#: Columns the app adds to every loaded row (which file and row it came from): not data.
APP_COLUMNS = ["dataset", "source_row"]


def _shown_rows(window):
    """The rows the user sees, without the app's own bookkeeping columns."""
    return window.state.visible.drop(columns=APP_COLUMNS, errors="ignore")


# -- map view image -----------------------------------------------------------

class ViewImageDialog(QDialog):
    """Pixel size and scale of a map-view image."""

    def __init__(self, size: QSize, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export view")
        form = QFormLayout(self)
        self.width_box = QSpinBox(minimum=200, maximum=8000, value=size.width(), suffix=" px")
        self.height_box = QSpinBox(minimum=200, maximum=8000, value=size.height(), suffix=" px")
        self.scale_box = QComboBox()
        self.scale_box.addItems(["1×", "2×", "3×"])
        form.addRow("Width", self.width_box)
        form.addRow("Height", self.height_box)
        form.addRow("Scale (sharper, same area)", self.scale_box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def choice(self) -> tuple[int, int, int]:
        return self.width_box.value(), self.height_box.value(), self.scale_box.currentIndex() + 1


#: Pixels per screen pixel of a map view exported as PDF (an A4 page at about 200 dpi).
PDF_SCALE = 3


def _save_image(image: QImage, path: str) -> None:
    from geodata.writers import atomic_path

    with atomic_path(path) as tmp:
        if not image.save(tmp, "PNG"):
            raise DataError(f"{path}: the image could not be written")


def _save_image_pdf(image: QImage, path: str, title: str) -> None:
    """The view image on a landscape A4 page (what you see, legend included)."""
    from geodata.writers import atomic_path

    with atomic_path(path) as tmp:
        writer = QPdfWriter(tmp)
        writer.setTitle(title)
        writer.setCreator("mapviewer")
        writer.setResolution(300)
        writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Landscape,
                                         QMarginsF(10, 10, 10, 10), QPageLayout.Unit.Millimeter))
        painter = QPainter(writer)
        try:
            area = painter.viewport()
            scaled = image.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
            # The image goes in at its own pixels, scaled by the PDF viewer (no resampling here).
            painter.drawImage(QRectF(area.x(), area.y(), scaled.width(), scaled.height()), image)
        finally:
            painter.end()
        if not os.path.getsize(tmp):
            raise DataError(f"{path}: the PDF could not be written")


def export_view_png(window) -> None:
    dialog = ViewImageDialog(window.map_view.size(), window)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return
    width, height, scale = dialog.choice()
    path, _ = ask_save_path(window, "Export view as PNG", _suggest(window, "map.png"), ["PNG image (*.png)"])
    if not path:
        return
    path = _with_suffix(path, ".png")

    def run() -> str:
        image = window.map_view.picture(width, height, scale)
        _save_image(image, path)
        return f"Saved {path} ({image.width()} x {image.height()} px)"

    _report(window, "Export view", run)


def export_view_pdf(window) -> None:
    path, _ = ask_save_path(window, "Export view as PDF", _suggest(window, "map.pdf"), ["PDF (*.pdf)"])
    if not path:
        return
    path = _with_suffix(path, ".pdf")

    def run() -> str:
        _save_image_pdf(window.map_view.picture(scale=PDF_SCALE), path, "Strike map")
        return f"Saved {path}"

    _report(window, "Export view", run)


# -- print figure -------------------------------------------------------------

class FigureDialog(QDialog):
    """Title, page preset and format of a print figure."""

    def __init__(self, parent: QWidget | None = None, title: str = "", page: str | None = None) -> None:
        from mapviewer.export.figure import PAGES

        super().__init__(parent)
        self.setWindowTitle("Export figure")
        form = QFormLayout(self)
        self.title_edit = QLineEdit(title)
        self.title_edit.setPlaceholderText("Strike events")
        self.page_box = QComboBox()
        self.page_box.addItems(list(PAGES))
        if page in PAGES:
            self.page_box.setCurrentText(page)
        self.format_box = QComboBox()
        self.format_box.addItems(["png", "pdf", "svg"])
        form.addRow("Title", self.title_edit)
        form.addRow("Page", self.page_box)
        form.addRow("Format", self.format_box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def choice(self) -> tuple[str, str, str]:
        return self.title_edit.text().strip(), self.page_box.currentText(), self.format_box.currentText()


def figure_extent(window) -> tuple[float, float, float, float] | None:
    """The area the map shows now, for a figure of the same place (None before the map reports)."""
    from mapviewer.export.basemap import extent_from_view

    if window.state.view is None:
        return None
    lat, lon, zoom = window.state.view
    size = window.map_view.size()
    return extent_from_view(lat, lon, zoom, (size.width(), size.height()))


def export_figure(window, title: str, page: str, path: str) -> str:
    """Render the print figure of the current state to ``path``; returns a status message."""
    from mapviewer.export.figure import render_figure

    state = window.state
    frame = state.frame.drop(columns=APP_COLUMNS, errors="ignore")
    paths = [d.path for d in state.datasets]
    if not all(os.path.isfile(p) for p in paths):
        paths = []  # a file moved since it was opened: fingerprint the rows held instead
    render_figure(frame, filter_state=state.filter, title=title or None, page=page, out=path,
                  extent=figure_extent(window), source_paths=paths, tile_archives=state.basemap_files)
    return f"Saved {path}"


def export_figure_dialog(window) -> None:
    dialog = FigureDialog(window, window.figure_title, window.figure_page)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return
    title, page, fmt = dialog.choice()
    window.figure_title, window.figure_page = title, page
    label = next(k for k, v in FIGURE_FILTERS.items() if v == fmt)
    path, _ = ask_save_path(window, "Export figure", _suggest(window, f"figure.{fmt}"), [label])
    if path:
        _report(window, "Export figure", lambda: export_figure(window, title, page, _with_suffix(path, f".{fmt}")))


# -- data, HTML and views -----------------------------------------------------

def export_data_dialog(window) -> None:
    path, chosen = ask_save_path(window, "Export data (the rows shown)", _suggest(window, "incidents.csv"),
                                 list(DATA_FILTERS))
    if not path:
        return
    fmt = DATA_FILTERS.get(chosen) or _format_of(path)
    path = _with_suffix(path, "." + fmt)

    def run() -> str:
        from geodata.writers import write_incidents

        rows = _shown_rows(window)
        write_incidents(rows, path, format=fmt, tz=window.state.filter.tz)
        return f"Saved {len(rows):,} rows to {path}"

    _report(window, "Export data", run)


def _format_of(path: str) -> str:
    from geodata.writers import format_for_path

    try:
        return format_for_path(path)
    except DataError:
        return "csv"


#: Title of an HTML map exported before any figure title was given.
HTML_TITLE = "Strike events"


def _html_heading(window, rows) -> tuple[str, str]:
    """The filters in words and the fingerprint of the data and filters, for an exported page's title box."""
    from geodata.describe import describe_filter, munition_classes_of
    from mapviewer.export.figure import fingerprint

    state = window.state
    description = describe_filter(state.filter, rows,
                                  classes=munition_classes_of(state.frame.drop(columns=APP_COLUMNS, errors="ignore")))
    paths = [d.path for d in state.datasets]
    if not all(os.path.isfile(p) for p in paths):
        paths = []  # a file moved since it was opened: fingerprint the rows held instead
    return description, fingerprint(paths, description, rows, filter_state=state.filter)


def export_html_dialog(window) -> None:
    path, _ = ask_save_path(window, "Export HTML map", _suggest(window, "map.html"), ["Web page (*.html)"])
    if not path:
        return
    path = _with_suffix(path, ".html")

    def run() -> str:
        from geodata.writers import atomic_path
        from mapviewer.map.page import basemap_spec, tile_host, write_standalone_html

        rows = _shown_rows(window)
        subtitle, code = _html_heading(window, rows)
        basemap = getattr(window.map_view, "shown_basemap", "offline")  # tiles only once their server is agreed to
        embedding = None
        if window.state.basemap_files:  # tile archives: their tiles of the area shown go into the page
            from mapviewer.map.basemapfiles import DEFAULT_EMBED_LIMIT_MB, embedded_layers, export_extent

            embedding = embedded_layers(window.state.basemap_files,
                                        export_extent(rows, window.state.basemap_files, figure_extent(window)),
                                        DEFAULT_EMBED_LIMIT_MB)
        with atomic_path(path) as tmp:
            write_standalone_html(rows, tmp, title=window.figure_title or HTML_TITLE, subtitle=subtitle,
                                  fingerprint=code, basemap=basemap, archives=embedding.layers if embedding else None,
                                  reports=window.state.reports_of)  # a strike's popup lists its reports
        host = tile_host(basemap_spec(basemap))
        if embedding is not None and not embedding.complete:
            window.show_error("Export HTML map", f"{path}: {embedding.summary()}")
        return (f"Saved a map of {len(rows):,} events to {path}" + (f"; it loads map tiles from {host}" if host else "")
                + (f"; {embedding.summary()}" if embedding is not None else ""))

    _report(window, "Export HTML map", run)


def save_view_dialog(window) -> None:
    path, _ = ask_save_path(window, "Save view", _suggest(window, "view.json"), ["Saved view (*.json)"])
    if not path:
        return
    path = _with_suffix(path, ".json")

    def run() -> str:
        from mapviewer.files.views import save_view, view_from_state

        save_view(path, view_from_state(window.state))
        return f"Saved view {path}"

    _report(window, "Save view", run)


def open_view_dialog(window) -> None:
    path = ask_open_path(window, "Open view", ["Saved view (*.json)"])
    if path:
        window.open_view(path)


def install_export_menu(window) -> None:
    """Add export and saved-view actions to ``window``'s File menu (``window.export_actions``)."""
    menu = window.file_menu
    entries = [
        ("Export view as &PNG...", export_view_png),
        ("Export view as P&DF...", export_view_pdf),
        ("Export &figure...", export_figure_dialog),
        ("Export &data...", export_data_dialog),
        ("Export &HTML map...", export_html_dialog),
        (None, None),
        ("&Save view...", save_view_dialog),
        ("Open &view...", open_view_dialog),
    ]
    window.export_actions = {}
    for text, handler in entries:
        if text is None:
            menu.addSeparator()
            continue
        action = QAction(text, window)
        action.triggered.connect(lambda _checked=False, h=handler: h(window))
        menu.addAction(action)
        window.export_actions[text.replace("&", "").rstrip(".")] = action
