"""Raster tile archives (MBTiles, PMTiles) as offline basemaps: read tiles, stitch them for an extent.

An analyst brings a tile archive made from their own data (QGIS: Processing > "Generate XYZ tiles
(MBTiles)") or from their organisation; nothing is downloaded. :func:`open_archive` opens one,
detected from its content, and returns a :class:`TileArchive` that serves tiles in XYZ (slippy map)
addressing, whatever the file's own row order:

- MBTiles: an SQLite database whose ``tiles`` table (or view) holds ``zoom_level, tile_column,
  tile_row, tile_data`` with rows in TMS order (row 0 at the south), and a ``metadata`` table of
  ``name, value`` pairs.
- PMTiles version 3: one file with a header, gzip-compressed directories and the tiles, read with
  the ``pmtiles`` package's header and directory functions (directories are cached).

Only raster archives (PNG, JPEG, WebP tiles) are drawn. Vector archives (Mapbox Vector Tiles) are
refused: they carry no style, fonts or symbols, so no renderer can draw them as their maker meant
without a style written for their schema (OpenMapTiles, Protomaps, Shortbread...), and the map page
and the print figure would need two different renderers (MapLibre GL JS, and MapLibre Native through
``pymgl``) to agree. A raster archive made once in QGIS or GDAL serves every view the same way.

Threading: a :class:`TileArchive` may be used from several threads (the Qt page's scheme handler on
the GUI thread, an export on a worker thread). Every file read and the decoded-tile cache are behind
one lock per archive, so calls are serialised per archive; each call is short (one indexed SQLite
query or two positioned reads). The SQLite connection is opened read-only with
``check_same_thread=False`` for that reason.

:func:`stitch` and :func:`stitch_projected` turn archives into one RGBA image for matplotlib
(Web Mercator, or any projected CRS such as the print figure's), and :func:`tiles_for_extent`
picks the tiles an HTML export embeds, up to a size limit.
"""
from __future__ import annotations

import gzip
import hashlib
import html.parser
import io
import json
import logging
import math
import os
import re
import sqlite3
import threading
import urllib.parse
import zlib
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from geodata.errors import DataError

log = logging.getLogger(__name__)

__all__ = [
    "TileArchive", "Stitched", "EmbeddedTiles", "open_archive", "stitch", "stitch_projected",
    "tiles_for_extent", "lonlat_to_mercator", "mercator_to_lonlat", "image_mime", "parse_tile_path",
    "TILE_SIZE", "MERCATOR_HALF_WORLD", "MAX_LATITUDE", "RASTER_HELP",
]

#: Pixels on a side of a tile in the stitched mosaics (zoom is chosen for tiles of this size).
TILE_SIZE = 256
#: Half the width of the Web Mercator world in metres (EPSG:3857).
MERCATOR_HALF_WORLD = math.pi * 6378137.0
#: The latitude at which the square Web Mercator world ends.
MAX_LATITUDE = 85.0511287798066
#: How a user makes an archive the viewer can draw (appended to the vector-archive refusal).
RASTER_HELP = ("make a raster archive in QGIS (Processing > \"Generate XYZ tiles (MBTiles)\") "
               "or with gdal_translate -of MBTILES / rio mbtiles")

_SQLITE_MAGIC = b"SQLite format 3\x00"
_FORMATS = {"png": "png", "jpg": "jpg", "jpeg": "jpg", "webp": "webp"}
_VECTOR_FORMATS = {"pbf", "mvt", "application/x-protobuf", "application/vnd.mapbox-vector-tile", "mlt"}
_MIME = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
#: Decoded tiles kept per archive (256 KB each): a 300 dpi A4 figure needs about 200.
_DECODED_CACHE_TILES = 256
#: Parsed PMTiles leaf directories kept per archive.
_DIRECTORY_CACHE = 64
#: The stitched mosaic is kept under this many pixels (about 160 MB of RGBA) by lowering the zoom.
_MAX_MOSAIC_PIXELS = 40_000_000


# ----------------------------------------------------------------------------- small helpers


def image_mime(data: bytes) -> str | None:
    """The MIME type of PNG, JPEG or WebP image bytes, from their signature; None for anything else."""
    kind = _sniff(data)
    return _MIME.get(kind) if kind else None


def _sniff(data: bytes) -> str | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


_TILE_PATH = re.compile(r"/?(\d{1,2})/(\d{1,10})/(\d{1,10})(?:\.(?:png|jpe?g|webp))?")


def parse_tile_path(path: str) -> tuple[int, int, int] | None:
    """``"/z/x/y"`` (optionally ``.png``/``.jpg``/``.webp``) as ints, or None if it is anything else.

    Meant for a URL scheme handler: only a tile address inside the world at that zoom passes, so a
    request can never name a file, a query or a path outside the archive.
    """
    match = _TILE_PATH.fullmatch(path)
    if not match:
        return None
    z, x, y = (int(v) for v in match.groups())
    if z > 30 or x >= 1 << z or y >= 1 << z:
        return None
    return z, x, y


class _TextOnly(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= self._skip > 0 and tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _plain_text(value: object, limit: int = 400) -> str:
    """Metadata text as plain text: HTML tags dropped, entities decoded, whitespace collapsed."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    parser = _TextOnly()
    parser.feed(str(value))
    parser.close()
    text = " ".join("".join(parser.parts).split())
    text = "".join(ch for ch in text if ch.isprintable())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def lonlat_to_mercator(lon, lat):
    """Web Mercator (EPSG:3857) metres of longitude/latitude degrees; latitude clamped to ±85.05."""
    lon = np.asarray(lon, dtype=float)
    lat = np.clip(np.asarray(lat, dtype=float), -MAX_LATITUDE, MAX_LATITUDE)
    x = np.radians(lon) * 6378137.0
    y = np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) * 6378137.0
    return (float(x), float(y)) if x.ndim == 0 else (x, y)


def mercator_to_lonlat(x, y):
    """Longitude/latitude degrees of Web Mercator (EPSG:3857) metres."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    lon = np.degrees(x / 6378137.0)
    lat = np.degrees(2 * np.arctan(np.exp(y / 6378137.0)) - np.pi / 2)
    return (float(lon), float(lat)) if lon.ndim == 0 else (lon, lat)


def _tile_bounds_lonlat(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    n = 1 << z
    step = 2 * MERCATOR_HALF_WORLD / n
    west, north = mercator_to_lonlat(-MERCATOR_HALF_WORLD + x * step, MERCATOR_HALF_WORLD - y * step)
    east, south = mercator_to_lonlat(-MERCATOR_HALF_WORLD + (x + 1) * step, MERCATOR_HALF_WORLD - (y + 1) * step)
    return west, south, east, north


def _tile_range(extent: tuple[float, float, float, float], z: int) -> tuple[int, int, int, int]:
    """x0, x1, y0, y1 (inclusive) of the XYZ tiles at zoom ``z`` covering a lon/lat extent."""
    west, south, east, north = extent
    n = 1 << z
    mx0, my1 = lonlat_to_mercator(west, north)
    mx1, my0 = lonlat_to_mercator(east, south)
    scale = n / (2 * MERCATOR_HALF_WORLD)
    x0 = int(math.floor((mx0 + MERCATOR_HALF_WORLD) * scale))
    x1 = int(math.ceil((mx1 + MERCATOR_HALF_WORLD) * scale)) - 1
    y0 = int(math.floor((MERCATOR_HALF_WORLD - my1) * scale))
    y1 = int(math.ceil((MERCATOR_HALF_WORLD - my0) * scale)) - 1
    clamp = lambda v: min(max(v, 0), n - 1)  # noqa: E731
    return clamp(x0), clamp(max(x1, x0)), clamp(y0), clamp(max(y1, y0))


def _intersect(a: tuple[float, float, float, float], b: tuple[float, float, float, float]):
    west, south = max(a[0], b[0]), max(a[1], b[1])
    east, north = min(a[2], b[2]), min(a[3], b[3])
    return (west, south, east, north) if west < east and south < north else None


# ----------------------------------------------------------------------------- archives


class TileArchive:
    """One open raster tile archive. Use :func:`open_archive`; close it (or use ``with``) when done.

    Attributes
    ----------
    path : Path
    name, attribution : str
        From the file's metadata, as plain text (HTML tags dropped); ``name`` falls back to the file name.
    minzoom, maxzoom : int
    bounds : tuple
        (west, south, east, north) in degrees.
    format : str
        ``"png"``, ``"jpg"`` or ``"webp"``.
    tile_size : int
        Pixels on a side of the archive's tiles, from its first tile (256, or 512 for "retina" archives:
        Leaflet then wants ``tileSize: 512, zoomOffset: -1``). Stitching scales every tile to 256 px.
    kind : str
        ``"mbtiles"`` or ``"pmtiles"``.
    corrupt_tiles : int
        Tiles found unreadable so far (each one read as missing, the first one logged).
    """

    kind = ""

    def __init__(self, path: Path, fh) -> None:
        self.path = path
        self._fh = fh
        self._lock = threading.RLock()
        stat = os.fstat(fh.fileno())
        self._identity = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
        self._decoded: OrderedDict[tuple[int, int, int], object] = OrderedDict()
        self._closed = False
        self.corrupt_tiles = 0
        self.name = path.stem
        self.attribution = ""
        self.description = ""
        self.minzoom = 0
        self.maxzoom = 0
        self.bounds = (-180.0, -MAX_LATITUDE, 180.0, MAX_LATITUDE)
        self.format = "png"
        self.tile_size = TILE_SIZE

    # -- public

    @property
    def key(self) -> str:
        """A short id of the file's resolved path (12 hex digits), usable as a URL host: ``basemap://KEY/z/x/y``."""
        return hashlib.sha256(str(self.path.resolve()).encode()).hexdigest()[:12]

    @property
    def mime_type(self) -> str:
        """MIME type of the archive's own tiles (scaled-up tiles of PNG/WebP archives are PNG: use :func:`image_mime`)."""
        return _MIME[self.format]

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile's image bytes in XYZ addressing (y = 0 at the north), or None if the archive has none.

        A corrupt tile reads as None and is counted in :attr:`corrupt_tiles`. Raises DataError when the
        file was removed or changed since it was opened.
        """
        if z < self.minzoom or z > self.maxzoom or not (0 <= x < 1 << z and 0 <= y < 1 << z):
            return None
        with self._lock:
            self.check()
            try:
                data = self._read(z, x, y)
            except (sqlite3.DatabaseError, OSError, EOFError, ValueError, zlib.error) as exc:
                self.check()  # a vanished file is reported as such, not as a bad tile
                self._corrupt(z, x, y, str(exc))
                return None
        if data is None:
            return None
        if _sniff(data) is None:
            self._corrupt(z, x, y, "not a PNG, JPEG or WebP image")
            return None
        return data

    def tile_or_parent(self, z: int, x: int, y: int, *, max_overzoom: int = 8) -> tuple[bytes, bool] | None:
        """``(image bytes, scaled)``: the tile, or above :attr:`maxzoom` the part of the deepest tile above it, scaled up.

        Scaled tiles are 256 px images (JPEG for JPEG archives, else PNG: see :func:`image_mime`);
        ``scaled`` is True for them so the page can mark them.
        Returns None where the archive has nothing, or more than ``max_overzoom`` levels above its
        max zoom.
        """
        if z <= self.maxzoom:
            data = self.tile(z, x, y)
            return None if data is None else (data, False)
        image = self._scaled(z, x, y, max_overzoom)
        if image is None:
            return None
        out = io.BytesIO()
        if self.format == "jpg" or image.getextrema()[3][0] == 255:
            image = image.convert("RGB")  # opaque: a third less to encode
        if self.format == "jpg":  # PNG of a scaled photo costs ~7 ms a tile, JPEG ~1 ms
            image.save(out, format="JPEG", quality=90)
        else:
            image.save(out, format="PNG", compress_level=1)
        return out.getvalue(), True

    def fingerprint(self) -> str:
        """``"<size>-<mtime_ns>-<hash>"``: changes when the file does; cheap for files of any size.

        The hash covers the metadata and samples of the file (its first and last 64 KB and 16 blocks
        of 4 KB spread over it), not the whole file. Compare saved and current values for equality.
        """
        with self._lock:
            self.check()
            size, mtime = self._identity[2], self._identity[3]
            digest = hashlib.sha256(json.dumps(self._meta_summary(), sort_keys=True).encode())
            offsets = [0, max(size - 65536, 0)] + [size * i // 17 for i in range(1, 17)]
            lengths = [65536, 65536] + [4096] * 16
            for offset, length in zip(offsets, lengths):
                digest.update(self._pread(offset, length))
        return f"{size}-{mtime}-{digest.hexdigest()[:20]}"

    def check(self) -> None:
        """Raise DataError if the file was removed, replaced or changed since it was opened."""
        if self._closed:
            raise DataError(f"{self.path}: the basemap file was closed")
        try:
            stat = os.stat(self.path)
        except OSError:
            raise DataError(f"{self.path}: the basemap file was removed while open") from None
        if (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns) != self._identity:
            raise DataError(f"{self.path}: the basemap file changed on disk while open; add it again") from None

    def close(self) -> None:
        """Release the file. Further reads raise DataError."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._close()
                self._fh.close()
                self._decoded.clear()

    def __enter__(self) -> TileArchive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {str(self.path)!r} z{self.minzoom}-{self.maxzoom} {self.format}>"

    # -- decoding and scaling (used by stitch and tile_or_parent)

    def decoded(self, z: int, x: int, y: int, *, max_overzoom: int = 8):
        """The tile as a 256 px RGBA Pillow image (scaled up from an ancestor above maxzoom), or None. Cached."""
        key = (z, x, y)
        with self._lock:
            if key in self._decoded:
                self._decoded.move_to_end(key)
                return self._decoded[key]
        image = self._decode(z, x, y) if z <= self.maxzoom else self._scaled(z, x, y, max_overzoom)
        with self._lock:
            self._decoded[key] = image
            while len(self._decoded) > _DECODED_CACHE_TILES:
                self._decoded.popitem(last=False)
        return image

    def _decode(self, z: int, x: int, y: int):
        data = self.tile(z, x, y)
        if data is None:
            return None
        from PIL import Image

        try:
            with Image.open(io.BytesIO(data)) as im:
                image = im.convert("RGBA")
        except (OSError, ValueError, SyntaxError) as exc:  # Pillow raises these for damaged images
            self._corrupt(z, x, y, str(exc))
            return None
        if image.size != (TILE_SIZE, TILE_SIZE):
            image = image.resize((TILE_SIZE, TILE_SIZE), Image.Resampling.LANCZOS)
        return image

    def _scaled(self, z: int, x: int, y: int, max_overzoom: int):
        if z - self.maxzoom > max_overzoom:
            return None
        from PIL import Image

        for pz in range(self.maxzoom, self.minzoom - 1, -1):
            shift = z - pz
            parent = self.decoded(pz, x >> shift, y >> shift)
            if parent is None:
                continue
            size = TILE_SIZE / (1 << shift)
            left, top = (x - ((x >> shift) << shift)) * size, (y - ((y >> shift) << shift)) * size
            return parent.resize((TILE_SIZE, TILE_SIZE), Image.Resampling.BILINEAR,
                                 box=(left, top, left + size, top + size))
        return None

    def _pread(self, offset: int, length: int) -> bytes:
        with self._lock:  # seek and read as one step (os.pread is not on every platform)
            self._fh.seek(offset)
            return self._fh.read(length)

    def _corrupt(self, z: int, x: int, y: int, why: str) -> None:
        with self._lock:
            self.corrupt_tiles += 1
            first = self.corrupt_tiles == 1
        if first:
            log.warning("%s: tile %d/%d/%d is unreadable (%s); it is left blank", self.path, z, x, y, why)

    def _meta_summary(self) -> dict:
        return {"kind": self.kind, "name": self.name, "attribution": self.attribution, "minzoom": self.minzoom,
                "maxzoom": self.maxzoom, "bounds": list(self.bounds), "format": self.format}

    # -- per format

    def _read(self, z: int, x: int, y: int) -> bytes | None:
        raise NotImplementedError

    def _close(self) -> None:
        pass

    def _tile_sizes(self, z: int, x0: int, x1: int, y0: int, y1: int) -> Iterator[tuple[int, int, int]]:
        """(x, y, byte length) of the tiles present at zoom z in an XYZ range (for export budgets)."""
        raise NotImplementedError


class _MBTiles(TileArchive):
    kind = "mbtiles"

    def __init__(self, path: Path, fh) -> None:
        super().__init__(path, fh)
        uri = "file:" + urllib.parse.quote(str(path.resolve())) + "?mode=ro"
        try:
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        except sqlite3.Error as exc:
            raise DataError(f"{path}: cannot open as an SQLite database ({exc})") from None
        try:
            self._load_metadata()
        except BaseException:
            self._db.close()
            raise

    def _load_metadata(self) -> None:
        path, db = self.path, self._db
        try:
            objects = {row[0]: row[1] for row in db.execute(
                "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view')")}
        except sqlite3.DatabaseError as exc:
            raise DataError(f"{path}: not a readable SQLite database ({exc})") from None
        if "tiles" not in objects:
            raise DataError(f"{path}: not an MBTiles archive: the SQLite file has no 'tiles' table")
        meta: dict[str, object] = {}
        try:
            if "metadata" in objects:
                for key, value in db.execute("SELECT name, value FROM metadata"):
                    if isinstance(key, str) and value is not None:
                        meta[key.strip().lower()] = value
            sample = db.execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()
        except sqlite3.DatabaseError as exc:
            raise DataError(f"{path}: cannot read the MBTiles tables ({exc})") from None
        if sample is None:
            raise DataError(f"{path}: the MBTiles archive holds no tiles")

        fmt = str(meta.get("format", "")).strip().lower()
        sample_bytes = sample[0] if isinstance(sample[0], bytes) else b""
        if fmt in _VECTOR_FORMATS or "vector_layers" in str(meta.get("json", "")):
            raise _vector_error(path)
        if fmt not in _FORMATS:
            sniffed = _sniff(sample_bytes)
            if sniffed is None:
                if sample_bytes[:2] == b"\x1f\x8b" or not fmt:  # gzip: how MVT tiles are stored
                    raise _vector_error(path)
                raise DataError(f"{path}: tile format {fmt!r} is not PNG, JPEG or WebP")
            fmt = sniffed
        self.format = _FORMATS[fmt]
        self.tile_size = _image_size(sample_bytes)
        self.name = _plain_text(meta.get("name")) or path.stem
        self.attribution = _plain_text(meta.get("attribution"))
        self.description = _plain_text(meta.get("description"))

        zooms = _int_or_none(meta.get("minzoom")), _int_or_none(meta.get("maxzoom"))
        if None in zooms:
            zooms = db.execute("SELECT MIN(zoom_level), MAX(zoom_level) FROM tiles").fetchone()
        self.minzoom, self.maxzoom = int(zooms[0]), int(zooms[1])
        bounds = _bounds_or_none(meta.get("bounds"))
        if bounds is None:
            z = self.minzoom
            x0, x1, r0, r1 = db.execute(
                "SELECT MIN(tile_column), MAX(tile_column), MIN(tile_row), MAX(tile_row) FROM tiles "
                "WHERE zoom_level = ?", (z,)).fetchone()
            n = (1 << z) - 1
            west, _, _, north = _tile_bounds_lonlat(z, x0, n - r1)
            _, south, east, _ = _tile_bounds_lonlat(z, x1, n - r0)
            bounds = (west, south, east, north)
        self.bounds = bounds

    def _read(self, z: int, x: int, y: int) -> bytes | None:
        row = self._db.execute(
            "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
            (z, x, (1 << z) - 1 - y)).fetchone()
        if row is None or row[0] is None:
            return None
        data = row[0]
        return bytes(data) if not isinstance(data, bytes) else data

    def _tile_sizes(self, z: int, x0: int, x1: int, y0: int, y1: int) -> Iterator[tuple[int, int, int]]:
        n = (1 << z) - 1
        with self._lock:
            self.check()
            try:
                rows = self._db.execute(
                    "SELECT tile_column, tile_row, length(tile_data) FROM tiles WHERE zoom_level = ? "
                    "AND tile_column BETWEEN ? AND ? AND tile_row BETWEEN ? AND ?",
                    (z, x0, x1, n - y1, n - y0)).fetchall()
            except sqlite3.DatabaseError as exc:
                raise DataError(f"{self.path}: cannot list the tiles of zoom {z} ({exc})") from None
        for x, row, length in rows:
            yield x, n - row, int(length or 0)

    def _close(self) -> None:
        self._db.close()


class _PMTiles(TileArchive):
    kind = "pmtiles"

    def __init__(self, path: Path, fh) -> None:
        super().__init__(path, fh)
        from pmtiles.tile import Compression, TileType, deserialize_header

        head = self._pread(0, 127)
        if len(head) < 127:
            raise DataError(f"{path}: PMTiles header is cut short ({len(head)} bytes)")
        if head[7] != 3:
            raise DataError(f"{path}: PMTiles version {head[7]} archive; only version 3 is read "
                            f"(convert it with: pmtiles convert)")
        try:
            header = deserialize_header(head)
        except ValueError as exc:  # an unknown compression or tile type code
            raise DataError(f"{path}: damaged PMTiles header ({exc})") from None
        self._header = header
        tile_type = header["tile_type"]
        if tile_type in (TileType.MVT, TileType.MLT):
            raise _vector_error(path)
        kinds = {TileType.PNG: "png", TileType.JPEG: "jpg", TileType.WEBP: "webp"}
        if tile_type not in kinds:
            raise DataError(f"{path}: PMTiles tile type {tile_type.name} is not PNG, JPEG or WebP")
        self.format = kinds[tile_type]
        if header["internal_compression"] not in (Compression.GZIP, Compression.NONE):
            raise DataError(f"{path}: PMTiles directories compressed with {header['internal_compression'].name}; "
                            f"only gzip is read (rewrite it with: pmtiles convert)")
        if header["tile_compression"] not in (Compression.NONE, Compression.UNKNOWN, Compression.GZIP):
            raise DataError(f"{path}: PMTiles tiles compressed with {header['tile_compression'].name}; "
                            f"only uncompressed or gzip tiles are read")
        self._gzip_internal = header["internal_compression"] == Compression.GZIP
        self._gzip_tiles = header["tile_compression"] == Compression.GZIP
        self._dirs: OrderedDict[tuple[int, int], list] = OrderedDict()
        try:
            raw = self._bytes(header["metadata_offset"], header["metadata_length"])
            if self._gzip_internal:
                raw = gzip.decompress(raw)
            meta = json.loads(raw) if raw.strip() else {}
            self._root = self._directory(header["root_offset"], header["root_length"])
            self.tile_size = _image_size(self._first_tile())
        except (OSError, EOFError, ValueError, zlib.error) as exc:
            raise DataError(f"{path}: damaged PMTiles metadata or directory ({exc})") from None
        if not isinstance(meta, dict):
            meta = {}
        if meta.get("vector_layers"):
            raise _vector_error(path)
        self.name = _plain_text(meta.get("name")) or path.stem
        self.attribution = _plain_text(meta.get("attribution"))
        self.description = _plain_text(meta.get("description"))
        self.minzoom, self.maxzoom = int(header["min_zoom"]), int(header["max_zoom"])
        bounds = tuple(header[k] / 1e7 for k in ("min_lon_e7", "min_lat_e7", "max_lon_e7", "max_lat_e7"))
        if bounds[0] < bounds[2] and bounds[1] < bounds[3]:
            self.bounds = bounds

    def _bytes(self, offset: int, length: int) -> bytes:
        data = self._pread(offset, length)
        if len(data) != length:
            raise EOFError(f"file ends at {offset + len(data)}, {length} bytes were expected at {offset}")
        return data

    def _directory(self, offset: int, length: int) -> list:
        from pmtiles.tile import deserialize_directory

        raw = self._bytes(offset, length)
        # deserialize_directory expects gzip, the usual internal compression; wrap uncompressed ones.
        return deserialize_directory(raw if self._gzip_internal else gzip.compress(raw, compresslevel=0))

    def _first_tile(self) -> bytes:
        entries = self._root
        for _ in range(4):
            if not entries:
                return b""
            if entries[0].run_length > 0:
                data = self._bytes(self._header["tile_data_offset"] + entries[0].offset, entries[0].length)
                return gzip.decompress(data) if self._gzip_tiles else data
            entries = self._directory(self._header["leaf_directory_offset"] + entries[0].offset, entries[0].length)
        return b""

    def _locate(self, z: int, x: int, y: int) -> tuple[int, int] | None:
        from pmtiles.tile import find_tile, zxy_to_tileid

        tile_id = zxy_to_tileid(z, x, y)
        header = self._header
        entries = self._root
        for _ in range(4):  # the spec allows at most three levels of leaves
            entry = find_tile(entries, tile_id)
            if entry is None:
                return None
            if entry.run_length > 0:
                return header["tile_data_offset"] + entry.offset, entry.length
            key = (header["leaf_directory_offset"] + entry.offset, entry.length)
            entries = self._dirs.get(key)
            if entries is None:
                entries = self._directory(*key)
                self._dirs[key] = entries
                while len(self._dirs) > _DIRECTORY_CACHE:
                    self._dirs.popitem(last=False)
            else:
                self._dirs.move_to_end(key)
        return None

    def _read(self, z: int, x: int, y: int) -> bytes | None:
        where = self._locate(z, x, y)
        if where is None:
            return None
        data = self._bytes(*where)
        return gzip.decompress(data) if self._gzip_tiles else data

    def _tile_sizes(self, z: int, x0: int, x1: int, y0: int, y1: int) -> Iterator[tuple[int, int, int]]:
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                with self._lock:
                    self.check()
                    try:
                        where = self._locate(z, x, y)
                    except (OSError, EOFError, ValueError, zlib.error):
                        where = None
                if where is not None:
                    yield x, y, where[1]


def _image_size(data: bytes) -> int:
    """The width of a tile image from its header (256 when it cannot be read: tiles are checked when drawn)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            return int(im.size[0])
    except (OSError, ValueError, SyntaxError):
        return TILE_SIZE


def _int_or_none(value: object) -> int | None:
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if 0 <= number <= 30 else None


def _bounds_or_none(value: object) -> tuple[float, float, float, float] | None:
    try:
        parts = [float(v) for v in str(value).split(",")]
    except ValueError:
        return None
    if len(parts) != 4 or not all(math.isfinite(v) for v in parts):
        return None
    west, south, east, north = parts
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        return None
    return west, max(south, -MAX_LATITUDE), east, min(north, MAX_LATITUDE)


def _vector_error(path: Path) -> DataError:
    return DataError(f"{path}: vector tile archive (Mapbox Vector Tiles); the viewer draws raster archives "
                     f"(PNG, JPEG or WebP tiles): {RASTER_HELP}")


def open_archive(path: str | os.PathLike[str]) -> TileArchive:
    """Open a raster MBTiles or PMTiles archive, detected from its content.

    Raises DataError (one line naming the file) for a missing or unreadable file, a file that is
    neither format, an MBTiles file without a ``tiles`` table, a PMTiles file of another version
    than 3, and vector archives.
    """
    p = Path(path)
    try:
        fh = open(p, "rb")  # noqa: SIM115 - kept open for the archive's life
    except IsADirectoryError:
        raise DataError(f"{p}: is a folder, not a tile archive") from None
    except OSError as exc:
        raise DataError(f"{p}: cannot open ({exc.strerror or exc})") from None
    try:
        head = fh.read(16)
        if head.startswith(_SQLITE_MAGIC):
            return _MBTiles(p, fh)
        if head.startswith(b"PMTiles"):
            return _PMTiles(p, fh)
        if head[:2] == b"PM" and len(head) >= 4:  # PMTiles v1/v2: "PM" and a 16-bit version
            version = int.from_bytes(head[2:4], "little")
            raise DataError(f"{p}: PMTiles version {version} archive; only version 3 is read "
                            f"(convert it with: pmtiles convert)")
        if p.suffix.lower() == ".mbtiles":
            raise DataError(f"{p}: not an SQLite file, so not an MBTiles archive")
        if p.suffix.lower() == ".pmtiles":
            raise DataError(f"{p}: not a PMTiles archive (no PMTiles header)")
        raise DataError(f"{p}: not an MBTiles or PMTiles tile archive")
    except DataError:
        fh.close()
        raise
    except (OSError, sqlite3.Error, ValueError, EOFError, zlib.error) as exc:
        fh.close()
        raise DataError(f"{p}: cannot read the tile archive ({exc})") from None


# ----------------------------------------------------------------------------- stitching


class Stitched(NamedTuple):
    """A background image for matplotlib: ``ax.imshow(image, extent=extent, origin="upper")``."""

    #: (height, width, 4) uint8 RGBA; row 0 is the top (north); transparent where no archive has tiles.
    image: np.ndarray
    #: (left, right, bottom, top) in the image's CRS units (EPSG:3857 metres for :func:`stitch`).
    extent: tuple[float, float, float, float]
    #: The attributions of the archives that gave tiles, in layer order, without repeats or blanks.
    attributions: list[str]


def _zoom_for(mercator_per_px: float, archives: Sequence[TileArchive]) -> int:
    """The zoom whose tiles are about 1:1 with output pixels, within what the archives hold."""
    wanted = math.log2(2 * MERCATOR_HALF_WORLD / TILE_SIZE / max(mercator_per_px, 1e-9))
    z = int(round(wanted))
    top = max(a.maxzoom for a in archives) + 3  # a little overzoom keeps scaled-up tiles sharp enough
    low = min(a.minzoom for a in archives)
    z = min(z, top)
    if z < low and low - z <= 2:  # a city archive just below its min zoom: draw it from finer tiles
        z = low
    return max(0, min(z, 30))


def _mosaic(archives: Sequence[TileArchive], box: tuple[float, float, float, float], z: int):
    """Compose the archives' tiles at zoom z over a Web Mercator box (x0, y0, x1, y1).

    Returns (RGBA Pillow image, (px, py) of its top-left corner in global pixels, global pixels per
    mercator metre at the zoom used, attributions). The zoom is lowered if the mosaic would be huge.
    """
    from PIL import Image

    x0, y0, x1, y1 = box
    while True:
        scale = TILE_SIZE * (1 << z) / (2 * MERCATOR_HALF_WORLD)
        n = 1 << z
        tx0 = min(max(int(math.floor((x0 + MERCATOR_HALF_WORLD) * scale / TILE_SIZE)), 0), n - 1)
        tx1 = min(max(int(math.floor((x1 + MERCATOR_HALF_WORLD) * scale / TILE_SIZE)), 0), n - 1)
        ty0 = min(max(int(math.floor((MERCATOR_HALF_WORLD - y1) * scale / TILE_SIZE)), 0), n - 1)
        ty1 = min(max(int(math.floor((MERCATOR_HALF_WORLD - y0) * scale / TILE_SIZE)), 0), n - 1)
        if (tx1 - tx0 + 1) * (ty1 - ty0 + 1) * TILE_SIZE ** 2 <= _MAX_MOSAIC_PIXELS or z == 0:
            break
        z -= 1
    mosaic = Image.new("RGBA", ((tx1 - tx0 + 1) * TILE_SIZE, (ty1 - ty0 + 1) * TILE_SIZE), (0, 0, 0, 0))
    attributions: list[str] = []
    for archive in archives:
        if z < archive.minzoom:
            continue
        used = False
        tile_box = _tile_range(archive.bounds, z)
        for tx in range(max(tx0, tile_box[0]), min(tx1, tile_box[1]) + 1):
            for ty in range(max(ty0, tile_box[2]), min(ty1, tile_box[3]) + 1):
                image = archive.decoded(z, tx, ty)
                if image is not None:
                    mosaic.alpha_composite(image, dest=((tx - tx0) * TILE_SIZE, (ty - ty0) * TILE_SIZE))
                    used = True
        if used and archive.attribution and archive.attribution not in attributions:
            attributions.append(archive.attribution)
    return mosaic, (tx0 * TILE_SIZE, ty0 * TILE_SIZE), scale, attributions


def stitch(archives: Sequence[TileArchive], extent: tuple[float, float, float, float], width_px: int,
           height_px: int) -> Stitched:
    """The archives' tiles over a lon/lat ``extent`` (west, south, east, north) as a Web Mercator image.

    The zoom is chosen so tiles are about 1:1 with the ``width_px`` x ``height_px`` output; later
    archives are drawn over earlier ones where they have tiles. ``extent`` of the result is in
    EPSG:3857 metres, for axes in Web Mercator. For axes in another CRS use :func:`stitch_projected`.
    """
    from PIL import Image

    if not archives:
        raise ValueError("stitch needs at least one archive")
    west, south, east, north = extent
    mx0, my0 = lonlat_to_mercator(west, south)
    mx1, my1 = lonlat_to_mercator(east, north)
    z = _zoom_for(min((mx1 - mx0) / width_px, (my1 - my0) / height_px), archives)
    mosaic, (ox, oy), scale, attributions = _mosaic(archives, (mx0, my0, mx1, my1), z)
    source = ((mx0 + MERCATOR_HALF_WORLD) * scale - ox, (MERCATOR_HALF_WORLD - my1) * scale - oy,
              (mx1 + MERCATOR_HALF_WORLD) * scale - ox, (MERCATOR_HALF_WORLD - my0) * scale - oy)
    image = mosaic.transform((width_px, height_px), Image.Transform.EXTENT, source, Image.Resampling.BILINEAR)
    return Stitched(np.asarray(image), (mx0, mx1, my0, my1), attributions)


def stitch_projected(archives: Sequence[TileArchive], crs: object, bounds: tuple[float, float, float, float],
                     width_px: int, height_px: int, *, cell_px: int = 32) -> Stitched:
    """The archives' tiles warped onto axes in another CRS: ``bounds`` is (xmin, ymin, xmax, ymax) in ``crs``.

    ``crs`` is anything ``pyproj.CRS.from_user_input`` takes (the print figure's LAEA proj string,
    ``"EPSG:4326"`` for plate carrée axes...). The output grid is mapped to the tile mosaic through a
    mesh of ``cell_px`` cells (exact at the cell corners, bilinear between them), and the zoom is
    chosen from the output pixel size at the centre. Points outside the projection stay transparent.
    """
    from PIL import Image
    from pyproj import Transformer

    if not archives:
        raise ValueError("stitch_projected needs at least one archive")
    xmin, ymin, xmax, ymax = bounds
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    cols = list(range(0, width_px, cell_px)) + [width_px]
    rows = list(range(0, height_px, cell_px)) + [height_px]
    px, py = np.meshgrid(np.asarray(cols, float), np.asarray(rows, float))
    lon, lat = to_lonlat.transform(xmin + px / width_px * (xmax - xmin), ymax - py / height_px * (ymax - ymin))
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    valid = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90)
    if not valid.any():
        return Stitched(np.zeros((height_px, width_px, 4), np.uint8), (xmin, xmax, ymin, ymax), [])
    mx, my = lonlat_to_mercator(np.where(valid, lon, 0.0), np.where(valid, lat, 0.0))

    # Output pixel size in mercator metres at the centre: ten pixels across, transformed.
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    step = 10 * (xmax - xmin) / width_px
    (lon0, lon1), (lat0, lat1) = to_lonlat.transform([cx, cx + step], [cy, cy])
    a, b = lonlat_to_mercator(np.array([lon0, lon1]), np.array([lat0, lat1]))
    merc_per_px = float(math.hypot(a[1] - a[0], b[1] - b[0])) / 10
    if not math.isfinite(merc_per_px) or merc_per_px <= 0:
        merc_per_px = float(mx[valid].max() - mx[valid].min()) / width_px or 1.0
    z = _zoom_for(merc_per_px, archives)
    box = (float(mx[valid].min()), float(my[valid].min()), float(mx[valid].max()), float(my[valid].max()))
    mosaic, (ox, oy), scale, attributions = _mosaic(archives, box, z)
    sx = (mx + MERCATOR_HALF_WORLD) * scale - ox
    sy = (MERCATOR_HALF_WORLD - my) * scale - oy

    mesh = []
    for j in range(len(rows) - 1):
        for i in range(len(cols) - 1):
            if not (valid[j, i] and valid[j + 1, i] and valid[j + 1, i + 1] and valid[j, i + 1]):
                continue
            quad = (sx[j, i], sy[j, i], sx[j + 1, i], sy[j + 1, i],
                    sx[j + 1, i + 1], sy[j + 1, i + 1], sx[j, i + 1], sy[j, i + 1])
            mesh.append(((cols[i], rows[j], cols[i + 1], rows[j + 1]), tuple(float(v) for v in quad)))
    image = mosaic.transform((width_px, height_px), Image.Transform.MESH, mesh, Image.Resampling.BILINEAR)
    return Stitched(np.asarray(image), (xmin, xmax, ymin, ymax), attributions)


# ----------------------------------------------------------------------------- HTML export


class EmbeddedTiles(NamedTuple):
    """The tiles an HTML export embeds: ``tiles[(z, x, y)]`` is the image bytes (XYZ addressing)."""

    tiles: dict[tuple[int, int, int], bytes]
    #: False when zoom levels the extent needed were left out to stay under the size limit.
    complete: bool

    @property
    def total_bytes(self) -> int:
        return sum(len(v) for v in self.tiles.values())

    @property
    def max_zoom(self) -> int | None:
        """The deepest zoom embedded (Leaflet's ``maxNativeZoom``), or None when nothing is."""
        return max((k[0] for k in self.tiles), default=None)


def tiles_for_extent(archive: TileArchive, extent: tuple[float, float, float, float], max_zoom: int,
                     max_bytes: int) -> EmbeddedTiles:
    """The archive's tiles over a lon/lat ``extent``, whole zoom levels from its min zoom up, within ``max_bytes``.

    Levels are added from the coarsest while the total stays under ``max_bytes``; the first level that
    does not fit and every deeper one are left out, so the embedded map has no holes, only less
    detail (``complete`` is then False). Corrupt tiles are skipped.
    """
    area = _intersect(extent, archive.bounds)
    tiles: dict[tuple[int, int, int], bytes] = {}
    if area is None:
        return EmbeddedTiles(tiles, True)
    total = 0
    for z in range(archive.minzoom, min(max_zoom, archive.maxzoom) + 1):
        x0, x1, y0, y1 = _tile_range(area, z)
        level = 0
        present = []
        for x, y, length in archive._tile_sizes(z, x0, x1, y0, y1):
            level += length
            present.append((x, y))
            if total + level > max_bytes:
                return EmbeddedTiles(tiles, False)
        for x, y in present:
            data = archive.tile(z, x, y)
            if data is not None:
                tiles[(z, x, y)] = data
        total += level
    return EmbeddedTiles(tiles, True)
