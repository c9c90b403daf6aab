"""Tile archive speed: panning at zoom 15 over a large MBTiles / PMTiles basemap (target: tile served < 10 ms median).

    python benchmarks/bench_tiles.py [--size-mb 2048] [--kinds mbtiles,pmtiles] [--steps 400]

Builds once, under ``benchmarks/data/`` (not committed), an archive of about ``--size-mb`` of
distinct zoom-15 JPEG tiles around Kyiv (real JPEG images, each made unique by trailing bytes, so
they decode; 30-70 KB each, as aerial or street tiles are), as MBTiles and as PMTiles. Then, per
archive:

- pans a 1600 x 1000 px window over it one tile at a time (a lawnmower path), asking for each
  tile that comes into view as Leaflet does, and times every ``TileArchive.tile`` call (what the
  page's URL scheme handler runs): median, p90, p99, max. Once with the file's pages evicted from
  the OS cache first (``posix_fadvise(DONTNEED)`` on this file only: cold disk), once warm;
- times ``tile_or_parent`` two levels above the max zoom (scaled-up tiles: decode, crop, PNG);
- times ``stitch_projected`` for a print figure's map area (A4 landscape at 300 dpi, zoom 15);
- prints the process RSS before opening, after each stage and at the end (memory must stay flat).
"""
from __future__ import annotations

import argparse
import io
import math
import os
import sqlite3
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geodata import tiles  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
ZOOM = 15
CENTRE = (30.5234, 50.4501)  # Kyiv
TARGET_MS = 10.0
VIEW_TILES = (7, 4)  # a 1600 x 1000 px window shows about 7 x 4 whole tiles, 8 x 5 partly


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _jpeg_pool(n: int = 48) -> list[bytes]:
    """Real 256 px JPEG tiles: smooth colour fields with noise, 30-50 KB at quality 80."""
    from PIL import Image

    rng = np.random.default_rng(15)
    pool = []
    yy, xx = np.mgrid[0:256, 0:256]
    for i in range(n):
        base = np.stack([(xx * (i % 5 + 1) + yy) % 256, (yy * 2 + i * 11) % 256, (xx + yy * (i % 3)) % 256], axis=2)
        noisy = np.clip(base + rng.normal(0, 28 + i % 7 * 4, base.shape), 0, 255).astype(np.uint8)
        out = io.BytesIO()
        Image.fromarray(noisy).save(out, format="JPEG", quality=80)
        pool.append(out.getvalue())
    return pool


def _block(size_mb: int, mean_kb: float) -> tuple[int, int, int]:
    """x0, y0, side: a square block of zoom-15 tiles around the centre holding about size_mb."""
    count = size_mb * 1024 * 1024 / (mean_kb * 1024)
    side = max(int(math.sqrt(count)), VIEW_TILES[0] + 4)
    n = 1 << ZOOM
    cx = int((CENTRE[0] + 180) / 360 * n)
    phi = math.radians(CENTRE[1])
    cy = int((1 - math.log(math.tan(phi) + 1 / math.cos(phi)) / math.pi) / 2 * n)
    return cx - side // 2, cy - side // 2, side


def _payload(pool: list[bytes], x: int, y: int) -> bytes:
    """A distinct, decodable JPEG: a pool image plus 0-24 KB of bytes after its end marker."""
    rng = np.random.default_rng((x << 20) ^ y)
    return pool[(x * 7 + y * 13) % len(pool)] + rng.integers(0, 256, int(rng.integers(0, 24_576)),
                                                             dtype=np.uint8).tobytes()


def build(size_mb: int) -> tuple[Path, Path, tuple[int, int, int]]:
    DATA.mkdir(parents=True, exist_ok=True)
    mbtiles_path = DATA / f"tiles-z{ZOOM}-{size_mb}mb.mbtiles"
    pmtiles_path = mbtiles_path.with_suffix(".pmtiles")
    pool = _jpeg_pool()
    mean_kb = (statistics.mean(len(p) for p in pool) + 12_288) / 1024
    x0, y0, side = _block(size_mb, mean_kb)
    n = (1 << ZOOM) - 1
    west, north = tiles.mercator_to_lonlat(*_corner(x0, y0))
    east, south = tiles.mercator_to_lonlat(*_corner(x0 + side, y0 + side))
    if not mbtiles_path.exists():
        start = time.perf_counter()
        tmp = mbtiles_path.with_suffix(".part")
        tmp.unlink(missing_ok=True)
        db = sqlite3.connect(tmp)
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
        db.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
        db.executemany("INSERT INTO metadata VALUES (?, ?)", [
            ("name", f"Benchmark z{ZOOM} ({size_mb} MB)"), ("format", "jpg"), ("minzoom", str(ZOOM)),
            ("maxzoom", str(ZOOM)), ("bounds", f"{west},{south},{east},{north}"), ("attribution", "synthetic")])
        for x in range(x0, x0 + side):
            db.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                           ((ZOOM, x, n - y, _payload(pool, x, y)) for y in range(y0, y0 + side)))
        db.commit()
        db.close()
        tmp.rename(mbtiles_path)
        print(f"built {mbtiles_path.name}: {side * side:,} tiles, {mbtiles_path.stat().st_size / 2**20:,.0f} MB "
              f"in {time.perf_counter() - start:.0f} s")
    if not pmtiles_path.exists():
        from pmtiles.tile import Compression, TileType, zxy_to_tileid
        from pmtiles.writer import Writer

        start = time.perf_counter()
        tmp = pmtiles_path.with_suffix(".part")
        keys = sorted((zxy_to_tileid(ZOOM, x, y), x, y) for x in range(x0, x0 + side) for y in range(y0, y0 + side))
        with open(tmp, "wb") as fh:
            writer = Writer(fh)
            for tile_id, x, y in keys:
                writer.write_tile(tile_id, _payload(pool, x, y))
            e7 = lambda v: int(v * 1e7)  # noqa: E731
            writer.finalize({"tile_type": TileType.JPEG, "tile_compression": Compression.NONE, "min_zoom": ZOOM,
                             "max_zoom": ZOOM, "min_lon_e7": e7(west), "min_lat_e7": e7(south),
                             "max_lon_e7": e7(east), "max_lat_e7": e7(north)},
                            {"name": f"Benchmark z{ZOOM} ({size_mb} MB)", "attribution": "synthetic"})
        tmp.rename(pmtiles_path)
        print(f"built {pmtiles_path.name}: {pmtiles_path.stat().st_size / 2**20:,.0f} MB "
              f"in {time.perf_counter() - start:.0f} s")
    return mbtiles_path, pmtiles_path, (x0, y0, side)


def _corner(x: int, y: int) -> tuple[float, float]:
    step = 2 * tiles.MERCATOR_HALF_WORLD / (1 << ZOOM)
    return -tiles.MERCATOR_HALF_WORLD + x * step, tiles.MERCATOR_HALF_WORLD - y * step


def pan_requests(block: tuple[int, int, int], steps: int) -> list[tuple[int, int, int]]:
    """Tiles a panned window asks for, in order: the first view, then each newly visible row/column."""
    x0, y0, side = block
    w, h = VIEW_TILES[0] + 1, VIEW_TILES[1] + 1
    seen: set[tuple[int, int]] = set()
    out = []
    x, y, dx = x0, y0, 1
    for _ in range(steps):
        for vx in range(x, x + w):
            for vy in range(y, y + h):
                if (vx, vy) not in seen:
                    seen.add((vx, vy))
                    out.append((ZOOM, vx, vy))
        if x0 <= x + dx and x + dx + w <= x0 + side:
            x += dx
        else:  # end of a sweep: one row down, then back
            dx = -dx
            y += 1
            if y + h > y0 + side:
                break
    return out


def summary(name: str, ms: list[float]) -> str:
    return (f"{name:<44} median {statistics.median(ms):7.3f} ms  p90 {np.percentile(ms, 90):7.3f} ms  "
            f"p99 {np.percentile(ms, 99):7.3f} ms  max {max(ms):7.2f} ms  ({len(ms):,} tiles)")


def bench(path: Path, block: tuple[int, int, int], steps: int) -> None:
    print(f"\n{path.name} ({path.stat().st_size / 2**20:,.0f} MB)   RSS before opening {rss_mb():.0f} MB")
    requests = pan_requests(block, steps)
    for label in ("cold (file evicted from the OS cache)", "warm"):
        if label.startswith("cold"):
            fd = os.open(path, os.O_RDONLY)
            os.fsync(fd)  # written pages must reach the disk before they can be dropped
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)
        t = time.perf_counter()
        archive = tiles.open_archive(path)
        open_ms = (time.perf_counter() - t) * 1000
        ms, missing = [], 0
        for key in requests:
            t = time.perf_counter()
            data = archive.tile(*key)
            ms.append((time.perf_counter() - t) * 1000)
            missing += data is None
        print(f"  open {open_ms:.1f} ms; " + summary(f"tile() panning, {label}", ms)
              + (f"  MISSING {missing}" if missing else ""))
        print(f"  RSS after panning {rss_mb():.0f} MB; fingerprint in "
              f"{_time_ms(archive.fingerprint):.1f} ms")
        archive.close()

    with tiles.open_archive(path) as archive:
        x0, y0, side = block
        over = [(ZOOM + 2, (x0 + side // 2 + i % 6) * 4 + i % 4, (y0 + side // 2 + i // 6 % 4) * 4 + i // 24 % 4)
                for i in range(96)]
        ms = [_time_ms(lambda k=k: archive.tile_or_parent(*k)) for k in over]
        print("  " + summary(f"tile_or_parent() at zoom {ZOOM + 2} (scaled up)", ms))
        # A print figure: A4 landscape map area (about 9.3 x 6.6 in) at 300 dpi, zoom 15 around the centre.
        width, height = 2790, 1980
        metres_per_px = 156543.03392 * math.cos(math.radians(CENTRE[1])) / 2 ** ZOOM
        crs = f"+proj=laea +lat_0={CENTRE[1]} +lon_0={CENTRE[0]} +datum=WGS84 +units=m +no_defs"
        bounds = (-width / 2 * metres_per_px, -height / 2 * metres_per_px, width / 2 * metres_per_px,
                  height / 2 * metres_per_px)
        first = _time_ms(lambda: tiles.stitch_projected([archive], crs, bounds, width, height))
        again = _time_ms(lambda: tiles.stitch_projected([archive], crs, bounds, width, height))
        print(f"  stitch_projected {width}x{height} px (A4 landscape, 300 dpi): first {first:,.0f} ms, "
              f"again (decoded tiles cached) {again:,.0f} ms   RSS {rss_mb():.0f} MB")
    print(f"  RSS after closing {rss_mb():.0f} MB")


def _time_ms(fn) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=2048)
    parser.add_argument("--kinds", default="mbtiles,pmtiles")
    parser.add_argument("--steps", type=int, default=400, help="pan steps (one tile each)")
    args = parser.parse_args()
    print(f"RSS at start {rss_mb():.0f} MB; target: tile() median < {TARGET_MS:.0f} ms, memory flat")
    mbtiles_path, pmtiles_path, block = build(args.size_mb)
    for kind in args.kinds.split(","):
        bench({"mbtiles": mbtiles_path, "pmtiles": pmtiles_path}[kind.strip()], block, args.steps)


if __name__ == "__main__":
    main()
