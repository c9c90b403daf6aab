"""Tile archives (MBTiles, PMTiles) as map backgrounds: what the page, saved views and exports need (Qt-free).

A person adds raster tile archives with File > Add basemap file... or ``--basemap FILE``; the
archives themselves are read by :mod:`geodata.tiles`. This module turns open archives into:

- the layer descriptions ``resources/web/viewer.js`` draws (:func:`layer_spec`): in the app the
  tiles come through the ``basemap://KEY/z/x/y`` URL scheme (:mod:`mapviewer.map.tilescheme`), in an
  exported page they are embedded as data URIs (:func:`embedded_layers`), within a size limit;
- references for settings and saved views (:class:`BasemapRef`: path and fingerprint), reopened by
  :func:`reopen`, which reports a missing or changed file instead of silently showing another one.
"""
from __future__ import annotations

import base64
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from geodata.errors import DataError
from geodata.points import lon_lat

if TYPE_CHECKING:
    import pandas as pd

    from geodata.tiles import TileArchive

#: The URL scheme the live page loads archive tiles from: ``basemap://KEY/z/x/y``.
SCHEME = "basemap"
#: File suffixes offered in the file dialog (any file is detected by its content).
SUFFIXES = (".mbtiles", ".pmtiles")
#: Default size limit of the tiles an exported HTML page embeds, in megabytes (``--embed-limit-mb``).
DEFAULT_EMBED_LIMIT_MB = 50.0
#: Deepest zoom an exported page embeds (the page's own maximum zoom).
EMBED_MAX_ZOOM = 18
#: Smallest area around the events embedded, in degrees (a lone event still shows its streets).
_MIN_EMBED_SPAN = 0.02


class BasemapRef(NamedTuple):
    """A remembered archive: its path and :meth:`geodata.tiles.TileArchive.fingerprint` (None: unknown)."""

    path: str
    fingerprint: str | None = None


def archive_ref(archive: TileArchive) -> BasemapRef:
    """The reference that finds ``archive`` again and tells whether it changed (reads a few blocks of it)."""
    return BasemapRef(str(Path(archive.path).resolve()), archive.fingerprint())


def open_archives(paths: Sequence[str | os.PathLike[str]]) -> list[TileArchive]:
    """Open every archive or none: raises the first file's DataError (one line naming it)."""
    from geodata.tiles import open_archive

    opened: list[TileArchive] = []
    try:
        for path in paths:
            opened.append(open_archive(path))
    except BaseException:
        for archive in opened:
            archive.close()
        raise
    return opened


def reopen(refs: Sequence[BasemapRef], origin: str = "it was saved", *,
           strict: bool = False) -> tuple[list[TileArchive], list[str]]:
    """Open remembered archives: (the archives that open, one line per problem).

    A missing or unreadable file is left out and reported (with ``strict`` it raises DataError,
    after closing the archives already open); a file whose fingerprint differs from the remembered
    one is opened and reported: it is shown as it is now, and the person is told. ``origin``
    finishes "changed since ...", e.g. "the view was saved".
    """
    from geodata.tiles import open_archive

    archives: list[TileArchive] = []
    problems: list[str] = []
    for ref in refs:
        try:
            if not os.path.isfile(ref.path):
                raise DataError(f"{ref.path}: basemap file not found")
            archive = open_archive(ref.path)
            try:
                current = archive.fingerprint() if ref.fingerprint else None
            except DataError:
                archive.close()
                raise
        except DataError as exc:
            if strict:
                for opened in archives:
                    opened.close()
                raise
            problems.append(str(exc))
            continue
        if ref.fingerprint and current != ref.fingerprint:
            problems.append(f"{ref.path}: the basemap file changed since {origin}; it is shown as it is now")
        archives.append(archive)
    return archives, problems


def refs_to_json(refs: Sequence[BasemapRef], folder: Path | None = None) -> list[dict[str, Any]]:
    """References as JSON objects; with ``folder`` the path is relative to it when possible (as data paths)."""
    out = []
    for ref in refs:
        item: dict[str, Any] = {"path": ref.path, "fingerprint": ref.fingerprint}
        if folder is not None:
            try:
                item["path"] = Path(os.path.relpath(os.path.abspath(ref.path), folder)).as_posix()
            except ValueError:  # another drive on Windows
                item["path"] = os.path.abspath(ref.path)
            item["path_absolute"] = os.path.abspath(ref.path)
        out.append(item)
    return out


def refs_from_json(value: Any, where: str, folder: Path | None = None) -> tuple[BasemapRef, ...]:
    """The inverse of :func:`refs_to_json`; a wrong shape is a DataError naming ``where``.

    A relative path resolves against ``folder``; when nothing is there but the absolute path saved
    beside it names a file, that one is used (a view file moved on its own).
    """
    if not isinstance(value, list):
        raise DataError(f"{where}: must be a list of {{\"path\": ..., \"fingerprint\": ...}} objects")
    refs = []
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("path"), str) or not item["path"].strip():
            raise DataError(f"{at}: must be an object with a \"path\" (text)")
        fingerprint = item.get("fingerprint")
        if fingerprint is not None and not isinstance(fingerprint, str):
            raise DataError(f"{at} [fingerprint]: must be text")
        path = Path(item["path"]).expanduser()
        resolved = os.path.normpath(folder / path) if folder is not None else os.path.abspath(path)
        saved_at = item.get("path_absolute")
        if not os.path.isfile(resolved) and isinstance(saved_at, str) and os.path.isfile(saved_at):
            resolved = os.path.normpath(saved_at)
        refs.append(BasemapRef(resolved, fingerprint))
    return tuple(refs)


# -- the page's layers ----------------------------------------------------------------------------


def _zoom_offset(archive: TileArchive) -> int:
    """1 for 512 px tiles: the archive's zoom z is the map's zoom z + 1 (Leaflet ``zoomOffset: -1``)."""
    return 1 if archive.tile_size >= 512 else 0


def tile_url(archive: TileArchive) -> str:
    """The Leaflet URL template of ``archive``'s tiles in the app."""
    return f"{SCHEME}://{archive.key}/{{z}}/{{x}}/{{y}}"


def layer_spec(archive: TileArchive, *, tiles: dict[str, str] | None = None,
               max_zoom: int | None = None) -> dict[str, Any]:
    """What viewer.js ``setArchives`` needs to draw ``archive``: plain values, attribution as text.

    Zooms are the map's (Leaflet's): a 512 px archive's zoom z is drawn at map zoom z + 1. Above
    ``maxNativeZoom`` Leaflet scales the deepest tiles up, and the page says so in the attribution
    line. ``tiles`` (``"z/x/y"`` -> data URI) embeds the tiles for an exported page; ``max_zoom`` is
    then the deepest zoom embedded.
    """
    offset = _zoom_offset(archive)
    west, south, east, north = archive.bounds
    deepest = archive.maxzoom if max_zoom is None else max_zoom
    spec: dict[str, Any] = {
        "key": archive.key,
        "name": archive.name,
        "attribution": archive.attribution,  # plain text: the page escapes it
        "minNativeZoom": archive.minzoom + offset,
        "maxNativeZoom": max(deepest, archive.minzoom) + offset,
        "bounds": [[south, west], [north, east]],
        "tileSize": 512 if offset else 256,
        "zoomOffset": -offset,
    }
    if tiles is None:
        spec["url"] = tile_url(archive)
    else:
        spec["tiles"] = tiles
    return spec


# -- HTML export ------------------------------------------------------------------------------------


class Embedding(NamedTuple):
    """What an exported page embeds: the layers for viewer.js and a sentence for the person."""

    layers: list[dict[str, Any]]
    tiles: int
    total_bytes: int
    complete: bool
    limit_bytes: int

    def summary(self, option: str | None = None) -> str:
        """E.g. "basemap tiles embedded: 120 (3.2 MB of the 50 MB limit)" plus what was left out.

        ``option`` names how to raise the limit (the CLI's ``--embed-limit-mb``).
        """
        limit = f"{self.limit_bytes / 1e6:g} MB"
        text = (f"basemap tiles embedded: {self.tiles:,} ({self.total_bytes / 1e6:.1f} MB of the {limit} limit)")
        if not self.complete:
            text += (f"; the finest zoom levels were left out to stay under {limit}"
                     + (f" (raise {option} to embed more)" if option else ""))
        return text


def export_extent(frame: pd.DataFrame | None, archives: Sequence[TileArchive],
                  extent: tuple[float, float, float, float] | None = None) -> tuple[float, float, float, float]:
    """The lon/lat area an exported page embeds tiles for: ``extent``, else the events' (padded), else the archives'."""
    if extent is not None:
        return extent
    if frame is not None and len(frame):
        x, y = lon_lat(frame)
        ok = [math.isfinite(a) and math.isfinite(b) for a, b in zip(x, y)]
        if any(ok):
            xs = [a for a, keep in zip(x, ok) if keep]
            ys = [b for b, keep in zip(y, ok) if keep]
            pad_x = max((max(xs) - min(xs)) * 0.1, _MIN_EMBED_SPAN)
            pad_y = max((max(ys) - min(ys)) * 0.1, _MIN_EMBED_SPAN)
            return (max(-180.0, min(xs) - pad_x), max(-85.0, min(ys) - pad_y),
                    min(180.0, max(xs) + pad_x), min(85.0, max(ys) + pad_y))
    west = min(a.bounds[0] for a in archives)
    south = min(a.bounds[1] for a in archives)
    east = max(a.bounds[2] for a in archives)
    north = max(a.bounds[3] for a in archives)
    return west, south, east, north


def embedded_layers(archives: Sequence[TileArchive], extent: tuple[float, float, float, float],
                    limit_mb: float = DEFAULT_EMBED_LIMIT_MB, max_zoom: int = EMBED_MAX_ZOOM) -> Embedding:
    """The archives' tiles over ``extent`` as data URIs, whole zoom levels from the coarsest, all archives
    sharing one limit of ``limit_mb`` megabytes (the first archive first)."""
    from geodata.tiles import image_mime, tiles_for_extent

    if not (limit_mb >= 0 and math.isfinite(limit_mb)):
        raise DataError(f"the embedding limit must be 0 MB or more, not {limit_mb}")
    limit = int(limit_mb * 1e6)
    left = limit
    layers: list[dict[str, Any]] = []
    count = total = 0
    complete = True
    for archive in archives:
        offset = _zoom_offset(archive)
        found = tiles_for_extent(archive, extent, max_zoom - offset, left)
        complete = complete and found.complete
        uris = {}
        for (z, x, y), data in found.tiles.items():
            mime = image_mime(data)
            if mime is not None:
                uris[f"{z}/{x}/{y}"] = f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
        used = found.total_bytes
        left -= used
        total += used
        count += len(uris)
        if uris:
            layers.append(layer_spec(archive, tiles=uris, max_zoom=found.max_zoom))
    return Embedding(layers, count, total, complete, limit)


# -- figures ---------------------------------------------------------------------------------------


def figure_credit(archives: Sequence[TileArchive], attributions: Sequence[str], used: bool,
                  zoom: float | None = None) -> str:
    """The footer's words for the archives drawn: their attributions (or names), marked when scaled up.

    ``used`` says whether any tile was drawn; ``zoom`` is the tile zoom the figure's scale matches.
    """
    if not used:
        return ""
    words = "; ".join(attributions) if attributions else ", ".join(a.name for a in archives)
    deepest = max(a.maxzoom for a in archives)
    if zoom is not None and zoom > deepest + 0.5:
        words += f" (tiles scaled up from zoom {deepest})"
    return f"tiles: {words}"
