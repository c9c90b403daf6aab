"""Raster tile archives as offline basemaps: reading, refusing bad files, stitching, embedding."""
from __future__ import annotations

import io
import logging
import math
import sqlite3

import numpy as np
import pytest
from PIL import Image

from geodata import tiles
from geodata.errors import DataError
from tests.tile_archives import (BEIGE, DEFAULT_TILES, GREY, MARK_LONLAT, MARK_SIZE, MARK_ZOOM, Z1_COLOURS,
                                 make_mbtiles, make_not_sqlite, make_pmtiles, make_pmtiles_other_v, make_pmtiles_v2,
                                 make_sqlite_without_tiles, make_vector_mbtiles, make_vector_pmtiles, mark_pixel,
                                 mark_tile, tile_bytes)

MAKERS = {"mbtiles": make_mbtiles, "pmtiles": make_pmtiles}


def colour_of(data: bytes, px: int = 128, py: int = 128) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(data)) as im:
        return im.convert("RGB").getpixel((px, py))


def close_to(a, b, tol: int = 6) -> bool:
    return all(abs(int(p) - int(q)) <= tol for p, q in zip(a, b))


@pytest.fixture(params=sorted(MAKERS))
def archive(request, tmp_path):
    path = MAKERS[request.param](tmp_path / f"streets.{request.param}")
    with tiles.open_archive(path) as opened:
        yield opened


# ----------------------------------------------------------------------------- reading


def test_tms_rows_are_read_in_xyz_order(tmp_path):
    """A tile stored at TMS row r is served at XYZ y = 2^z - 1 - r: north stays north."""
    path = make_mbtiles(tmp_path / "a.mbtiles")
    db = sqlite3.connect(path)
    stored = dict(((x, row), data) for x, row, data in
                  db.execute("SELECT tile_column, tile_row, tile_data FROM tiles WHERE zoom_level = 1"))
    db.close()
    # TMS row 1 is the northern half of the world: red (west) and green (east).
    assert close_to(colour_of(stored[(0, 1)]), Z1_COLOURS[(1, 0, 0)])
    with tiles.open_archive(path) as archive:
        for (z, x, y), colour in Z1_COLOURS.items():
            assert close_to(colour_of(archive.tile(z, x, y)), colour), (z, x, y)
            assert archive.tile(z, x, y) == stored[(x, (1 << z) - 1 - y)]


def test_every_tile_at_its_place(archive):
    for (z, x, y), colour in DEFAULT_TILES.items():
        data = archive.tile(z, x, y)
        assert data is not None and close_to(colour_of(data, 5, 5), colour), (archive.kind, z, x, y)
    assert archive.tile(5, 3, 3) is None  # a zoom the archive has no tiles at
    assert archive.tile(MARK_ZOOM, 0, 0) is None  # outside the covered block
    assert archive.tile(1, 2, 0) is None  # outside the world


def test_metadata_read_and_attribution_is_plain_text(tmp_path):
    path = make_mbtiles(tmp_path / "city.mbtiles", name="Kyiv <b>streets</b>",
                        attribution='<a href="https://example.org/" onclick="x()">&copy; City GIS</a> <script>alert(1)</script>',
                        metadata={"bounds": "30.2,50.2,30.8,50.6"})
    with tiles.open_archive(path) as archive:
        assert archive.kind == "mbtiles"
        assert archive.name == "Kyiv streets"
        assert archive.attribution == "© City GIS"
        assert "<" not in archive.attribution and "href" not in archive.attribution
        assert (archive.minzoom, archive.maxzoom) == (0, MARK_ZOOM)
        assert archive.bounds == (30.2, 50.2, 30.8, 50.6)
        assert archive.format == "png" and archive.mime_type == "image/png"


def test_missing_metadata_is_read_from_the_tiles(tmp_path):
    path = make_mbtiles(tmp_path / "bare.mbtiles", {(3, 4, 2): GREY, (4, 9, 5): BEIGE}, marks=(),
                        metadata={"name": None, "minzoom": None, "maxzoom": None, "bounds": None, "format": None,
                                  "attribution": None})
    with tiles.open_archive(path) as archive:
        assert archive.name == "bare" and archive.attribution == ""
        assert (archive.minzoom, archive.maxzoom) == (3, 4)
        assert archive.format == "png"
        west, south, east, north = archive.bounds
        assert (west, east) == (0.0, pytest.approx(45.0)) and 40 < south < north < 67


def test_pmtiles_metadata(tmp_path):
    with tiles.open_archive(make_pmtiles(tmp_path / "x.pmtiles", name="Oblast")) as archive:
        assert archive.kind == "pmtiles"
        assert archive.name == "Oblast" and archive.attribution == "© Test data (PMTiles)"
        assert (archive.minzoom, archive.maxzoom) == (0, MARK_ZOOM)


@pytest.mark.parametrize("fmt, mime", [("png", "image/png"), ("jpg", "image/jpeg"), ("webp", "image/webp")])
@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_image_formats(tmp_path, kind, fmt, mime):
    with tiles.open_archive(MAKERS[kind](tmp_path / f"t.{kind}", fmt=fmt)) as archive:
        assert archive.format == fmt and archive.mime_type == mime
        data = archive.tile(1, 1, 1)
        assert tiles.image_mime(data) == mime
        assert close_to(colour_of(data), Z1_COLOURS[(1, 1, 1)])
        z, mx, my = mark_tile()
        scaled, was_scaled = archive.tile_or_parent(z + 1, mx * 2, my * 2)  # a quarter with no mark in it
        assert was_scaled and tiles.image_mime(scaled) == ("image/jpeg" if fmt == "jpg" else "image/png")
        assert close_to(colour_of(scaled), BEIGE)


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_tile_size_is_read_from_the_tiles(tmp_path, kind):
    big = {(0, 0, 0): tile_bytes(GREY, size=512)}
    with tiles.open_archive(MAKERS[kind](tmp_path / f"r.{kind}", {}, marks=(), raw=big)) as archive:
        assert archive.tile_size == 512
        result = tiles.stitch([archive], (-170, -80, 170, 80), 256, 256)
        assert close_to(result.image[128, 128, :3], GREY)
    with tiles.open_archive(MAKERS[kind](tmp_path / f"n.{kind}")) as archive:
        assert archive.tile_size == 256


def test_kind_is_detected_from_content_not_suffix(tmp_path):
    mb = make_mbtiles(tmp_path / "a.mbtiles").rename(tmp_path / "mbtiles-named.pmtiles")
    pm = make_pmtiles(tmp_path / "b.pmtiles").rename(tmp_path / "basemap.bin")
    with tiles.open_archive(mb) as a, tiles.open_archive(pm) as b:
        assert (a.kind, b.kind) == ("mbtiles", "pmtiles")
        assert a.tile(0, 0, 0) and b.tile(0, 0, 0)


def test_fingerprint_changes_with_the_file_only(tmp_path):
    path = make_mbtiles(tmp_path / "a.mbtiles")
    with tiles.open_archive(path) as archive:
        first = archive.fingerprint()
        assert archive.fingerprint() == first
    with tiles.open_archive(path) as archive:
        assert archive.fingerprint() == first
    make_mbtiles(tmp_path / "b.mbtiles", attribution="other").replace(path)
    with tiles.open_archive(path) as archive:
        assert archive.fingerprint() != first


# ----------------------------------------------------------------------------- refusals


def one_line(exc: pytest.ExceptionInfo, path) -> str:
    message = str(exc.value)
    assert "\n" not in message and str(path) in message
    return message


@pytest.mark.parametrize("maker", [make_vector_mbtiles, make_vector_pmtiles])
def test_vector_archives_are_refused_with_how_to_make_a_raster_one(tmp_path, maker):
    path = maker(tmp_path / ("v.mbtiles" if maker is make_vector_mbtiles else "v.pmtiles"))
    with pytest.raises(DataError) as exc:
        tiles.open_archive(path)
    message = one_line(exc, path)
    assert "vector" in message and "raster" in message
    assert "Generate XYZ tiles (MBTiles)" in message and "gdal_translate" in message


def test_vector_tiles_without_format_metadata_are_refused(tmp_path):
    path = make_vector_mbtiles(tmp_path / "v.mbtiles")
    db = sqlite3.connect(path)
    db.execute("DELETE FROM metadata")
    db.commit()
    db.close()
    with pytest.raises(DataError, match="vector tile archive"):
        tiles.open_archive(path)


@pytest.mark.parametrize("maker, name, words", [
    (make_not_sqlite, "notes.mbtiles", "not an SQLite file"),
    (make_sqlite_without_tiles, "half.mbtiles", "no 'tiles' table"),
    (make_pmtiles_v2, "old.pmtiles", "PMTiles version 2"),
    (make_pmtiles_other_v, "new.pmtiles", "PMTiles version 4"),
])
def test_bad_files_give_one_clear_line(tmp_path, maker, name, words):
    path = maker(tmp_path / name)
    with pytest.raises(DataError) as exc:
        tiles.open_archive(path)
    assert words in one_line(exc, path)


@pytest.mark.parametrize("name, words", [("nothing.mbtiles", "cannot open"), ("random.dat", "not an MBTiles or PMTiles")])
def test_missing_or_unknown_files(tmp_path, name, words):
    path = tmp_path / name
    if name.endswith(".dat"):
        path.write_bytes(b"\x00\x01" * 100)
    with pytest.raises(DataError) as exc:
        tiles.open_archive(path)
    assert words in one_line(exc, path)


def test_empty_mbtiles_is_refused(tmp_path):
    path = make_mbtiles(tmp_path / "empty.mbtiles", {}, marks=())
    with pytest.raises(DataError, match="holds no tiles"):
        tiles.open_archive(path)


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_corrupt_tile_reads_as_missing_and_the_archive_keeps_working(tmp_path, kind, caplog):
    broken = {(1, 0, 1): b"\x89PNG\r\n\x1a\n this png is cut short", (1, 1, 1): b"garbage, not an image"}
    path = MAKERS[kind](tmp_path / f"c.{kind}", raw=broken)
    with caplog.at_level(logging.WARNING, logger="geodata.tiles"), tiles.open_archive(path) as archive:
        assert archive.tile(1, 1, 1) is None
        assert archive.corrupt_tiles == 1
        # A damaged image with a good signature is served (the browser shows a blank tile) but is
        # counted and left out when decoded for figures.
        assert archive.decoded(1, 0, 1) is None
        assert archive.corrupt_tiles == 2
        assert close_to(colour_of(archive.tile(1, 0, 0)), Z1_COLOURS[(1, 0, 0)])
        result = tiles.stitch([archive], (-170, -80, 170, 80), 512, 512)  # zoom 1
    assert len([r for r in caplog.records if "unreadable" in r.getMessage()]) == 1
    assert str(path) in caplog.records[0].getMessage()
    # The south-west quarter (the bad tile) is empty; the north-west quarter is drawn.
    assert result.image[400, 80, 3] == 0 and result.image[80, 80, 3] == 255


def test_damaged_sqlite_pages_read_as_missing_tiles(tmp_path):
    """A broken page chain under one tile: that tile is missing, the others are served."""
    noise = b"\x89PNG\r\n\x1a\n" + np.random.default_rng(1).integers(0, 256, 200_000, dtype=np.uint8).tobytes()
    path = make_mbtiles(tmp_path / "d.mbtiles", {(0, 0, 0): GREY}, marks=(), raw={(1, 0, 0): noise})
    data = bytearray(path.read_bytes())
    page = data.find(noise[100_000:100_100]) // 4096 * 4096  # an overflow page of the big tile
    data[page:page + 4] = b"\xff\xff\xff\xff"  # its link to the next page now points nowhere
    path.write_bytes(bytes(data))
    with tiles.open_archive(path) as archive:
        assert archive.tile(1, 0, 0) is None and archive.corrupt_tiles == 1
        assert close_to(colour_of(archive.tile(0, 0, 0)), GREY)


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_file_removed_while_open(tmp_path, kind):
    path = MAKERS[kind](tmp_path / f"gone.{kind}")
    archive = tiles.open_archive(path)
    assert archive.tile(0, 0, 0)
    path.unlink()
    with pytest.raises(DataError) as exc:
        archive.tile(1, 0, 0)
    assert "removed while open" in one_line(exc, path)
    with pytest.raises(DataError, match="removed while open"):
        archive.fingerprint()
    with pytest.raises(DataError, match="removed while open"):
        tiles.tiles_for_extent(archive, (-10, -10, 10, 10), 3, 10**6)
    with pytest.raises(DataError, match="removed while open"):
        tiles.stitch([archive], (-10, -10, 10, 10), 100, 100)
    archive.close()


def test_file_replaced_while_open(tmp_path):
    path = make_mbtiles(tmp_path / "swap.mbtiles")
    with tiles.open_archive(path) as archive:
        make_mbtiles(tmp_path / "other.mbtiles", attribution="other").replace(path)
        with pytest.raises(DataError, match="changed on disk"):
            archive.tile(0, 0, 0)


def test_closed_archive_refuses_reads(tmp_path):
    archive = tiles.open_archive(make_mbtiles(tmp_path / "a.mbtiles"))
    archive.close()
    archive.close()
    with pytest.raises(DataError, match="closed"):
        archive.tile(0, 0, 0)


# ----------------------------------------------------------------------------- overzoom


def test_overzoom_scales_up_the_deepest_tile_and_says_so(archive):
    z, mx, my = mark_tile()
    assert archive.tile(z + 2, mx * 4, my * 4) is None
    gx, gy = mark_pixel(*MARK_LONLAT, z + 2)
    child = (z + 2, int(gx // 256), int(gy // 256))
    data, scaled = archive.tile_or_parent(*child)
    assert scaled and tiles.image_mime(data) == "image/png"
    with Image.open(io.BytesIO(data)) as im:
        pixels = np.asarray(im.convert("RGB"))
    # The mark, 8 px at zoom 12, is 32 px here, centred where the place falls in this tile.
    dark = np.argwhere(pixels.sum(axis=2) < 100)
    assert len(dark) > 0.8 * (MARK_SIZE * 4) ** 2
    cy, cx = dark.mean(axis=0)
    assert abs(cx - (gx - child[1] * 256)) < 3 and abs(cy - (gy - child[2] * 256)) < 3
    # At or below max zoom: the tile itself, not marked as scaled.
    assert archive.tile_or_parent(*mark_tile()) == (archive.tile(*mark_tile()), False)
    # Too far above max zoom, or where no ancestor exists: nothing.
    assert archive.tile_or_parent(z + 9, mx << 9, my << 9) is None
    assert archive.tile_or_parent(z + 1, 0, 0) is not None  # the zoom-1 ancestor, scaled far up
    assert archive.tile_or_parent(z + 1, 0, 0, max_overzoom=0) is None


# ----------------------------------------------------------------------------- stitching


def dark_centre(image: np.ndarray) -> tuple[float, float]:
    dark = np.argwhere((image[..., :3].astype(int).sum(axis=2) < 150) & (image[..., 3] > 200))
    assert len(dark), "the mark is not in the image"
    cy, cx = dark.mean(axis=0)
    return cx, cy


def test_stitch_places_the_mark_at_its_pixel(archive):
    lon, lat = MARK_LONLAT
    extent = (lon - 0.04, lat - 0.02, lon + 0.05, lat + 0.03)
    width, height = 500, 420
    result = tiles.stitch([archive], extent, width, height)
    assert result.image.shape == (height, width, 4) and result.image.dtype == np.uint8
    left, right, bottom, top = result.extent
    mx, my = tiles.lonlat_to_mercator(lon, lat)
    want_x = (mx - left) / (right - left) * width
    want_y = (top - my) / (top - bottom) * height
    assert abs(want_x - 0.04 / 0.09 * width) < 1  # the extent is the requested one
    cx, cy = dark_centre(result.image)
    assert abs(cx + 0.5 - want_x) < 1.5 and abs(cy + 0.5 - want_y) < 1.5
    assert close_to(result.image[5, 5, :3], BEIGE)
    assert result.attributions == [archive.attribution]


def test_stitch_layers_later_archives_on_top(tmp_path):
    world = make_mbtiles(tmp_path / "world.mbtiles", marks=(), attribution="World")
    z, mx, my = mark_tile()
    city = make_pmtiles(tmp_path / "city.pmtiles", {(z, mx, my): (10, 90, 160)}, marks=(), attribution="City")
    lon, lat = MARK_LONLAT
    extent = (lon - 0.06, lat - 0.03, lon + 0.06, lat + 0.03)  # zoom 12 at 400 px
    with tiles.open_archive(world) as w, tiles.open_archive(city) as c:
        on_top = tiles.stitch([w, c], extent, 400, 300)
        below = tiles.stitch([c, w], extent, 400, 300)
    x, y = int(on_top.image.shape[1] / 2), int(on_top.image.shape[0] / 2)
    assert close_to(on_top.image[y, x, :3], (10, 90, 160))
    assert close_to(below.image[y, x, :3], BEIGE)
    assert on_top.attributions == ["World", "City"] and below.attributions == ["City", "World"]


def test_stitch_is_transparent_where_no_archive_has_tiles(archive):
    result = tiles.stitch([archive], (100.0, -10.0, 101.0, -9.0), 200, 200)  # zoom 8: no tiles there
    assert result.image[..., 3].max() == 0 and result.attributions == []


def test_stitch_reuses_decoded_tiles(archive, monkeypatch):
    lon, lat = MARK_LONLAT
    extent = (lon - 0.04, lat - 0.02, lon + 0.05, lat + 0.03)
    first = tiles.stitch([archive], extent, 400, 300)
    monkeypatch.setattr(archive, "tile", lambda *a: pytest.fail("tile read again"))
    again = tiles.stitch([archive], extent, 400, 300)
    assert np.array_equal(first.image, again.image)


def test_stitch_projected_onto_the_print_figures_axes(archive):
    """Axes in a Lambert azimuthal equal-area projection centred near the mark, as the print figure uses."""
    pyproj = pytest.importorskip("pyproj")
    lon, lat = MARK_LONLAT
    crs = "+proj=laea +lat_0=50.4600 +lon_0=30.5000 +datum=WGS84 +units=m +no_defs"
    to_xy = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    bounds = (-3000.0, -2500.0, 4000.0, 2000.0)  # metres around the centre
    width, height = 560, 360
    result = tiles.stitch_projected([archive], crs, bounds, width, height)
    assert result.image.shape == (height, width, 4)
    assert result.extent == (-3000.0, 4000.0, -2500.0, 2000.0)
    x, y = to_xy.transform(lon, lat)
    want_x = (x - bounds[0]) / (bounds[2] - bounds[0]) * width
    want_y = (bounds[3] - y) / (bounds[3] - bounds[1]) * height
    cx, cy = dark_centre(result.image)
    assert abs(cx + 0.5 - want_x) < 2 and abs(cy + 0.5 - want_y) < 2
    assert result.attributions == [archive.attribution]


def test_stitch_projected_in_plate_carree(archive):
    lon, lat = MARK_LONLAT
    bounds = (lon - 0.05, lat - 0.02, lon + 0.03, lat + 0.03)
    result = tiles.stitch_projected([archive], "EPSG:4326", bounds, 400, 300)
    cx, cy = dark_centre(result.image)
    assert abs(cx + 0.5 - 0.05 / 0.08 * 400) < 2 and abs(cy + 0.5 - 0.03 / 0.05 * 300) < 2


def test_zoom_follows_the_output_size(archive):
    """A small output of a large area uses coarse tiles; no deep tile is read for it."""
    result = tiles.stitch([archive], (-179, -80, 179, 80), 512, 512)
    # At this size the world is zoom 1: four quarters in their colours (y flipped right).
    assert close_to(result.image[100, 100, :3], Z1_COLOURS[(1, 0, 0)])
    assert close_to(result.image[400, 400, :3], Z1_COLOURS[(1, 1, 1)])


# ----------------------------------------------------------------------------- HTML export


def test_tiles_for_extent_respects_the_byte_limit(archive):
    lon, lat = MARK_LONLAT
    extent = (lon - 0.2, lat - 0.2, lon + 0.2, lat + 0.2)
    everything = tiles.tiles_for_extent(archive, extent, 18, 10**9)
    assert everything.complete
    z, mx, my = mark_tile()
    expected = {(0, 0, 0), (1, 1, 0)} | {(z, mx + dx, my + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)}
    assert set(everything.tiles) == expected
    assert everything.max_zoom == z
    assert all(everything.tiles[k] == archive.tile(*k) for k in expected)

    low = sum(len(everything.tiles[k]) for k in [(0, 0, 0), (1, 1, 0)])
    partial = tiles.tiles_for_extent(archive, extent, 18, low + 10)
    assert not partial.complete
    assert set(partial.tiles) == {(0, 0, 0), (1, 1, 0)}  # whole levels only
    assert partial.total_bytes <= low + 10
    assert tiles.tiles_for_extent(archive, extent, 18, 10) == ({}, False)
    capped = tiles.tiles_for_extent(archive, extent, 1, 10**9)
    assert capped.complete and set(capped.tiles) == {(0, 0, 0), (1, 1, 0)}
    assert tiles.tiles_for_extent(archive, (100, -10, 101, -9), 18, 10**9).tiles.keys() == {(0, 0, 0), (1, 1, 1)}


# ----------------------------------------------------------------------------- helpers


def test_tile_path_parsing_refuses_anything_but_a_tile_address():
    assert tiles.parse_tile_path("/12/2395/1382.png") == (12, 2395, 1382)
    assert tiles.parse_tile_path("3/7/0") == (3, 7, 0)
    for bad in ["/../../etc/passwd", "/1/2/0", "/1/0/0/extra", "/1/0/0?x=1", "/a/b/c", "", "/31/0/0", "/-1/0/0",
                "/12/2395/1382.svg", "/1/0/0%00"]:
        assert tiles.parse_tile_path(bad) is None, bad


def test_mercator_helpers_round_trip():
    x, y = tiles.lonlat_to_mercator(30.5234, 50.4501)
    assert math.isclose(x, 3397849.35, rel_tol=1e-8) and math.isclose(y, 6524593.22, rel_tol=1e-8)  # pyproj's
    lon, lat = tiles.mercator_to_lonlat(x, y)
    assert math.isclose(lon, 30.5234) and math.isclose(lat, 50.4501)
    assert tiles.lonlat_to_mercator(0, 90)[1] == pytest.approx(tiles.MERCATOR_HALF_WORLD)


def test_tile_bytes_helper_marks_where_asked():
    data = tile_bytes((255, 255, 255), marks=[(20, 30)])
    assert colour_of(data, 20, 30) == (0, 0, 0) and colour_of(data, 40, 30) == (255, 255, 255)


def test_reads_from_several_threads_get_the_right_tiles(archive):
    """The page's scheme handler and an export may read one archive at the same time."""
    from concurrent.futures import ThreadPoolExecutor

    keys = list(DEFAULT_TILES) * 30
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda k: archive.tile(*k), keys))
    assert all(close_to(colour_of(data, 5, 5), DEFAULT_TILES[k]) for k, data in zip(keys, got))
