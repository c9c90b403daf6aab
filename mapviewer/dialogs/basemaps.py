"""File > Add basemap file... and File > Remove basemap file: tile archives under the events.

The archives the map shows are remembered in the settings (path and fingerprint, see
:mod:`mapviewer.map.basemapfiles`) and come back at the next start; a file that is gone or
changed since is reported, never silently replaced.
"""
from __future__ import annotations

import json
import os
from collections.abc import Sequence

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu

from geodata.errors import DataError
from geodata.text import visible_text
from mapviewer.map.basemapfiles import BasemapRef, archive_ref, refs_from_json, refs_to_json, reopen

#: Settings key of the remembered archives: JSON ``[{"path": ..., "fingerprint": ...}, ...]``.
SETTINGS_KEY = "basemap_files"
FILE_FILTER = "Tile archives (*.mbtiles *.pmtiles);;All files (*)"


def install_basemap_menu(window, *, restore: bool = True) -> None:
    """Add the basemap file entries to ``window``'s File menu and keep the settings in step.

    With ``restore``, the archives remembered in the settings are opened again.
    Sets ``window.add_basemap_action`` and ``window.remove_basemap_menu``.
    """
    menu = window.file_menu
    action = QAction("Add &basemap file...", window)
    action.setToolTip("Show an MBTiles or PMTiles raster tile archive (streets, imagery) under the events; "
                      "several files are drawn one over the other")
    action.triggered.connect(lambda: _on_add(window))
    remove = QMenu("Remove basemap file", window)
    remove.setToolTipsVisible(True)
    before = window.recent_menu.menuAction()  # after File > Open with column mapping...
    menu.insertAction(before, action)
    menu.insertMenu(before, remove)
    window.add_basemap_action = action
    window.remove_basemap_menu = remove
    window.map_view.archive_layers.message.connect(lambda text: window.statusBar().showMessage(visible_text(text), 10000))
    if restore:
        _restore(window)
    window.state.basemap_files_changed.connect(lambda: _on_changed(window))
    _rebuild_remove_menu(window)


def add_basemap_files(window, paths: Sequence[str | os.PathLike[str]]) -> int:
    """Open each archive and draw it over the others; a file that cannot be used is one message.

    Returns how many were added (a file already shown is not added twice).
    """
    from geodata.tiles import open_archive

    added = 0
    for path in paths:
        try:
            archive = open_archive(path)
        except DataError as exc:
            window.show_error("Basemap file", str(exc), "The map is unchanged.")
            continue
        if window.state.add_basemap_file(archive):
            added += 1
            window.statusBar().showMessage(visible_text(f"Basemap file {archive.name} added ({archive.path})"), 8000)
        else:
            window.statusBar().showMessage(visible_text(f"{path} is already on the map"), 5000)
    return added


def show_basemap_refs(window, refs: Sequence[BasemapRef], origin: str) -> None:
    """Show exactly the archives ``refs`` name (a saved view's); missing or changed files are reported."""
    archives, problems = reopen(refs, origin)
    current = {a.key: a for a in window.state.basemap_files}
    kept = []
    for archive in archives:  # a file already shown keeps its open archive
        if archive.key in current:
            archive.close()
            kept.append(current[archive.key])
        else:
            kept.append(archive)
    window.state.set_basemap_files(kept)
    if problems:
        window.show_error("Basemap file", "\n".join(problems),
                          "Files that cannot be read are left off the map: add them again with File > Add basemap file...")


def _on_add(window) -> None:
    start = os.path.dirname(str(window.state.basemap_files[-1].path)) if window.state.basemap_files else ""
    paths, _ = QFileDialog.getOpenFileNames(window, "Add basemap file", start, FILE_FILTER)
    if paths:
        add_basemap_files(window, paths)


def _restore(window) -> None:
    text = window.settings.value(SETTINGS_KEY, "")
    if not isinstance(text, str) or not text.strip():
        return
    try:
        refs = refs_from_json(json.loads(text), "settings [basemap_files]")
    except (ValueError, DataError):
        return  # settings of another version: nothing to restore
    if refs:
        show_basemap_refs(window, refs, "it was added")


def _on_changed(window) -> None:
    refs = []
    for archive in window.state.basemap_files:
        try:
            refs.append(archive_ref(archive))
        except DataError:  # the file went away: the scheme handler reports it when tiles are asked for
            continue
    window.settings.setValue(SETTINGS_KEY, json.dumps(refs_to_json(refs)))
    _rebuild_remove_menu(window)


def _rebuild_remove_menu(window) -> None:
    menu = window.remove_basemap_menu
    menu.clear()
    for archive in window.state.basemap_files:
        action = menu.addAction(visible_text(f"{archive.name} ({os.path.basename(str(archive.path))})").replace("&", "&&"))
        action.setToolTip(visible_text(str(archive.path)))
        action.triggered.connect(lambda _=False, key=archive.key: window.state.remove_basemap_file(key))
    menu.setEnabled(bool(window.state.basemap_files))
