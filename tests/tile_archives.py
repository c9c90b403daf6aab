"""Small MBTiles and PMTiles archives made at test time: tiles of known colours, one with a mark.

Every maker takes tiles in XYZ addressing (y = 0 at the north) as ``{(z, x, y): (r, g, b)}``; the
MBTiles maker writes them in TMS row order, as the format wants. The default set
(:data:`DEFAULT_TILES`) has:

- zoom 0: the world tile, grey;
- zoom 1: four tiles of distinct colours (see :data:`Z1_COLOURS`): a reader that forgets the TMS
  flip swaps north and south;
- zoom :data:`MARK_ZOOM`: a 3 x 3 block of beige tiles around :data:`MARK_LONLAT` (Kyiv), the centre
  one with a black square of :data:`MARK_SIZE` pixels centred on that place.

:func:`mark_pixel` says where the mark is in global pixels, so a test can find it in a stitched
image or on a page.
"""
from __future__ import annotations

import gzip
import io
import math
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path

from PIL import Image

MARK_LONLAT = (30.5234, 50.4501)
MARK_ZOOM = 12
MARK_SIZE = 8
MARK_COLOUR = (0, 0, 0)
BEIGE = (230, 220, 200)
GREY = (128, 128, 128)
#: XYZ tile at zoom 1 -> colour: north-west red, north-east green, south-west blue, south-east yellow.
Z1_COLOURS = {(1, 0, 0): (220, 30, 30), (1, 1, 0): (30, 200, 30), (1, 0, 1): (30, 30, 220), (1, 1, 1): (240, 220, 20)}

Colour = tuple[int, int, int]
Mark = tuple[float, float, int]  # lon, lat, zoom


def mark_pixel(lon: float, lat: float, z: int) -> tuple[float, float]:
    """Global pixel (x, y) of a place at zoom z, 256 px tiles, origin at the north-west corner of the world."""
    n = 256 * (1 << z)
    x = (lon + 180.0) / 360.0 * n
    phi = math.radians(lat)
    y = (1 - math.log(math.tan(phi) + 1 / math.cos(phi)) / math.pi) / 2 * n
    return x, y


def mark_tile(lon: float = MARK_LONLAT[0], lat: float = MARK_LONLAT[1], z: int = MARK_ZOOM) -> tuple[int, int, int]:
    """The XYZ tile holding a place."""
    x, y = mark_pixel(lon, lat, z)
    return z, int(x // 256), int(y // 256)


def _default_tiles() -> dict[tuple[int, int, int], Colour]:
    tiles: dict[tuple[int, int, int], Colour] = {(0, 0, 0): GREY, **Z1_COLOURS}
    z, mx, my = mark_tile()
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            tiles[(z, mx + dx, my + dy)] = BEIGE
    return tiles


DEFAULT_TILES = _default_tiles()
DEFAULT_MARKS: tuple[Mark, ...] = ((MARK_LONLAT[0], MARK_LONLAT[1], MARK_ZOOM),)


def tile_bytes(colour: Colour, fmt: str = "png", *, marks: Iterable[tuple[int, int]] = (), size: int = 256) -> bytes:
    """A one-colour tile image, with a black square of MARK_SIZE px centred on each (px, py) in ``marks``."""
    image = Image.new("RGB", (size, size), colour)
    half = MARK_SIZE // 2
    for px, py in marks:
        image.paste(MARK_COLOUR, (px - half, py - half, px + half, py + half))
    out = io.BytesIO()
    kind = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "webp": "WEBP"}[fmt]
    options = {"quality": 95} if kind == "JPEG" else {"lossless": True} if kind == "WEBP" else {}
    image.save(out, format=kind, **options)
    return out.getvalue()


def _tile_payloads(tiles: Mapping[tuple[int, int, int], Colour] | None, fmt: str,
                   marks: Iterable[Mark]) -> dict[tuple[int, int, int], bytes]:
    tiles = dict(DEFAULT_TILES if tiles is None else tiles)
    in_tile: dict[tuple[int, int, int], list[tuple[int, int]]] = {}
    for lon, lat, z in marks:
        gx, gy = mark_pixel(lon, lat, z)
        key = (z, int(gx // 256), int(gy // 256))
        tiles.setdefault(key, BEIGE)
        in_tile.setdefault(key, []).append((int(round(gx - key[1] * 256)), int(round(gy - key[2] * 256))))
    return {key: tile_bytes(colour, fmt, marks=in_tile.get(key, ())) for key, colour in tiles.items()}


def make_mbtiles(path: str | Path, tiles: Mapping[tuple[int, int, int], Colour] | None = None, *,
                 name: str = "Test streets", attribution: str = '<a href="https://example.org/">&copy; Test data</a>',
                 fmt: str = "png", marks: Iterable[Mark] = DEFAULT_MARKS,
                 metadata: Mapping[str, str | None] | None = None,
                 raw: Mapping[tuple[int, int, int], bytes] | None = None) -> Path:
    """Write a raster MBTiles file (TMS rows) and return its path.

    ``metadata`` adds or replaces metadata rows (a None value drops the row); ``raw`` stores the given
    bytes as tiles as they are (corrupt tiles, vector payloads).
    """
    path = Path(path)
    payloads = _tile_payloads(tiles, fmt, marks)
    payloads.update(raw or {})
    zooms = [k[0] for k in payloads] or [0]
    meta: dict[str, str | None] = {"name": name, "attribution": attribution, "format": fmt, "type": "baselayer",
                                   "version": "1.1", "minzoom": str(min(zooms)), "maxzoom": str(max(zooms)),
                                   "bounds": "-180,-85.0511,180,85.0511"}
    meta.update(metadata or {})
    db = sqlite3.connect(path)
    try:
        db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
        db.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
        db.executemany("INSERT INTO metadata VALUES (?, ?)", [(k, v) for k, v in meta.items() if v is not None])
        db.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                       [(z, x, (1 << z) - 1 - y, data) for (z, x, y), data in payloads.items()])
        db.commit()
    finally:
        db.close()
    return path


def make_pmtiles(path: str | Path, tiles: Mapping[tuple[int, int, int], Colour] | None = None, *,
                 name: str = "Test streets", attribution: str = "© Test data (PMTiles)", fmt: str = "png",
                 marks: Iterable[Mark] = DEFAULT_MARKS, raw: Mapping[tuple[int, int, int], bytes] | None = None,
                 tile_type: str | None = None, metadata: Mapping[str, object] | None = None) -> Path:
    """Write a PMTiles v3 file with the ``pmtiles`` package and return its path.

    ``tile_type`` overrides the header's tile type (``"mvt"`` for a vector archive).
    """
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    path = Path(path)
    payloads = _tile_payloads(tiles, fmt, marks)
    payloads.update(raw or {})
    types = {"png": TileType.PNG, "jpg": TileType.JPEG, "webp": TileType.WEBP, "mvt": TileType.MVT}
    zooms = [k[0] for k in payloads]
    header = {"tile_type": types[tile_type or fmt], "tile_compression": Compression.NONE,
              "min_zoom": min(zooms), "max_zoom": max(zooms), "min_lon_e7": -1800000000, "min_lat_e7": -850511287,
              "max_lon_e7": 1800000000, "max_lat_e7": 850511287, "center_zoom": 0, "center_lon_e7": 0,
              "center_lat_e7": 0}
    meta = {"name": name, "attribution": attribution, **(metadata or {})}
    with open(path, "wb") as fh:
        writer = Writer(fh)
        for tile_id, data in sorted((zxy_to_tileid(*key), data) for key, data in payloads.items()):
            writer.write_tile(tile_id, data)
        writer.finalize(header, meta)
    return path


def make_vector_mbtiles(path: str | Path) -> Path:
    """An MBTiles file of (gzip) vector tiles, format pbf, as tippecanoe or QGIS writes them."""
    junk_mvt = gzip.compress(b"\x1a\x0c\x0a\x05water\x78\x02")
    return make_mbtiles(path, {}, marks=(), fmt="png", raw={(0, 0, 0): junk_mvt},
                        metadata={"format": "pbf", "json": '{"vector_layers": [{"id": "water"}]}'})


def make_vector_pmtiles(path: str | Path) -> Path:
    """A PMTiles file whose header says its tiles are Mapbox Vector Tiles."""
    return make_pmtiles(path, {}, marks=(), raw={(0, 0, 0): b"\x1a\x0c\x0a\x05water\x78\x02"}, tile_type="mvt",
                        metadata={"vector_layers": [{"id": "water"}]})


def make_not_sqlite(path: str | Path) -> Path:
    """A ``.mbtiles`` file that is text, not SQLite."""
    path = Path(path)
    path.write_text("this is not a database\n" * 20)
    return path


def make_sqlite_without_tiles(path: str | Path) -> Path:
    """An SQLite file with a metadata table but no ``tiles`` table."""
    path = Path(path)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    db.execute("INSERT INTO metadata VALUES ('name', 'half an archive')")
    db.commit()
    db.close()
    return path


def make_pmtiles_v2(path: str | Path) -> Path:
    """A file with a PMTiles version 2 header ("PM", version 2 as 16 bits), as older tools wrote."""
    path = Path(path)
    path.write_bytes(b"PM" + (2).to_bytes(2, "little") + b"\x00" * 508)
    return path


def make_pmtiles_other_v(path: str | Path, version: int = 4) -> Path:
    """A PMTiles file whose header says another major version (the rest is a valid v3 archive)."""
    path = make_pmtiles(path)
    data = bytearray(path.read_bytes())
    data[7] = version
    path.write_bytes(bytes(data))
    return path
