"""Tile archives in exports: print figures, animations, HTML pages, ``--screenshot`` runs and the export CLI."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.image import imread

from geodata import tiles
from geodata.writers import write_csv
from mapviewer.cli.export import run_export
from mapviewer.export.figure import FigureRenderer, figure_pixel, render_figure
from tests.factories import canonical_frame
from tests.tile_archives import BEIGE, MARK_LONLAT, MARK_ZOOM, make_mbtiles, make_pmtiles, make_vector_pmtiles, mark_tile

#: Around the mark: about 8 x 5 km, so a 100 dpi A4 figure matches tile zoom 13 (the mark 16 px wide).
EXTENT = (MARK_LONLAT[0] - 0.06, MARK_LONLAT[1] - 0.025, MARK_LONLAT[0] + 0.06, MARK_LONLAT[1] + 0.025)
MAGENTA = (200, 40, 160)


def _events(tmp_path):
    """Two events a few km from the mark (clear of it), as a CSV file, and their frame."""
    frame = canonical_frame([MARK_LONLAT[0] - 0.04, MARK_LONLAT[0] + 0.04], [MARK_LONLAT[1] + 0.015] * 2)
    path = tmp_path / "events.csv"
    write_csv(frame, path)
    return path, frame


def _rgb(image: np.ndarray, px: float, py: float) -> tuple[int, ...]:
    value = image[int(round(py)), int(round(px))][:3]
    return tuple(int(round(v * 255)) if image.dtype.kind == "f" else int(v) for v in value)


def _close(a, b, tol: int = 20) -> bool:
    return all(abs(int(p) - int(q)) <= tol for p, q in zip(a, b))


def _credits(fig) -> str:
    return next(t.get_text() for t in fig.texts if t.get_gid() == "credits")


@pytest.mark.parametrize("maker", [make_mbtiles, make_pmtiles])
def test_figure_draws_the_mark_at_its_place_and_credits_the_file(tmp_path, maker):
    _, frame = _events(tmp_path)
    out = tmp_path / "figure.png"
    with tiles.open_archive(maker(tmp_path / f"streets.{maker.__name__[5:]}")) as archive:
        fig = render_figure(frame, extent=EXTENT, dpi=100, out=out, tile_archives=[archive])
    image = imread(out)
    px, py = figure_pixel(fig, *MARK_LONLAT)
    assert _close(_rgb(image, px, py), (0, 0, 0)), _rgb(image, px, py)
    assert _close(_rgb(image, px + 25, py + 25), BEIGE)  # the street tile around it
    assert _credits(fig).startswith("tiles: © Test data")


def test_figure_above_the_files_zoom_says_tiles_are_scaled_up(tmp_path):
    _, frame = _events(tmp_path)
    lon, lat = MARK_LONLAT
    with tiles.open_archive(make_mbtiles(tmp_path / "s.mbtiles")) as archive:
        fig = render_figure(frame, extent=(lon - 0.01, lat - 0.005, lon + 0.01, lat + 0.005), dpi=100,
                            tile_archives=[archive])
    assert f"(tiles scaled up from zoom {MARK_ZOOM})" in _credits(fig)


def test_animation_frames_share_one_stitched_background(tmp_path, monkeypatch):
    from mapviewer.export.animation import animation_images

    frame = canonical_frame([MARK_LONLAT[0] - 0.04, MARK_LONLAT[0] + 0.04], [MARK_LONLAT[1] + 0.015] * 2,
                            occurred_at=["2025-09-29T10:00:00Z", "2025-09-30T10:00:00Z"])  # two days: two frames
    calls = []
    original = tiles.stitch_projected
    monkeypatch.setattr(tiles, "stitch_projected", lambda *a, **k: calls.append(1) or original(*a, **k))
    with tiles.open_archive(make_mbtiles(tmp_path / "s.mbtiles")) as archive:
        count, images = animation_images(frame, step="1d", page="A4-landscape", dpi=100, extent=EXTENT,
                                         workers=1, tile_archives=[archive])
        images = list(images)
        reference = FigureRenderer(EXTENT, page="A4-landscape", dpi=100)
        reference.draw(frame.iloc[:0])
    assert count == len(images) == 2 and len(calls) == 1
    px, py = figure_pixel(reference.figure, *MARK_LONLAT)
    for image in images:
        assert _close(_rgb(image, px, py), (0, 0, 0))


# -- mapviewer export --basemap ---------------------------------------------------------------------

def run(argv, capsys) -> tuple[int, str, str]:
    code = run_export([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_export_png_with_basemap(tmp_path, capsys):
    data, frame = _events(tmp_path)
    archive = make_pmtiles(tmp_path / "streets.pmtiles")
    out = tmp_path / "figure.png"
    extent = ",".join(str(v) for v in EXTENT)
    code, stdout, stderr = run([data, "--basemap", archive, "--extent", extent, "--dpi", "100", "-o", out], capsys)
    assert code == 0, stderr
    with tiles.open_archive(archive) as opened:  # the same page laid out again, to know where the mark lands
        fig = render_figure(frame, extent=EXTENT, dpi=100, tile_archives=[opened])
    px, py = figure_pixel(fig, *MARK_LONLAT)
    assert _close(_rgb(imread(out), px, py), (0, 0, 0))


@pytest.mark.parametrize("maker, words", [(make_vector_pmtiles, "vector tile archive"),
                                          (lambda p: p.write_text("no"), "not a PMTiles archive")])
def test_export_with_a_bad_archive_is_one_line(tmp_path, capsys, maker, words):
    data, _ = _events(tmp_path)
    bad = tmp_path / "bad.pmtiles"
    maker(bad)
    code, _, stderr = run([data, "--basemap", bad, "-o", tmp_path / "f.png"], capsys)
    assert code == 1
    (line,) = stderr.strip().splitlines()
    assert words in line and str(bad) in line
    assert not (tmp_path / "f.png").exists()


def test_basemap_is_refused_for_data_extracts(tmp_path, capsys):
    data, _ = _events(tmp_path)
    code, _, stderr = run([data, "--basemap", make_mbtiles(tmp_path / "s.mbtiles"), "-o", tmp_path / "x.csv"], capsys)
    assert code == 2 and "--basemap" in stderr


def _embedded(html: str) -> dict:
    start = html.index('"archives":') + len('"archives":')
    return json.JSONDecoder().raw_decode(html, start)[0]


def test_export_html_embeds_the_tiles_as_data_uris(tmp_path, capsys, open_in_browser, qtbot):
    from PySide6.QtWebEngineWidgets import QWebEngineView

    data, _ = _events(tmp_path)
    archive = make_mbtiles(tmp_path / "streets.mbtiles")
    out = tmp_path / "map.html"
    code, stdout, stderr = run([data, "--basemap", archive, "-o", out], capsys)
    assert code == 0, stderr
    assert re.search(r"basemap tiles embedded: \d+ \(0\.\d MB of the 50 MB limit\)", stdout), stdout
    html = out.read_text(encoding="utf-8")
    (layer,) = _embedded(html)
    assert f"basemap://{layer['key']}" not in html and str(archive) not in html  # nothing points back at the file
    z, x, y = mark_tile()
    assert layer["tiles"][f"{z}/{x}/{y}"].startswith("data:image/png;base64,")
    assert layer["maxNativeZoom"] == MARK_ZOOM

    page = open_in_browser(out)
    view = QWebEngineView.forPage(page.page)
    lon, lat = MARK_LONLAT
    box = []
    page.run_js("mapviewer.setView(%r, %r, %r); mapviewer.state.map.eachLayer(function (l) { "
                "if (l === mapviewer.state.places || (l.options && l.options.pane === 'mv-labels')) "
                "mapviewer.state.map.removeLayer(l); });" % (lat, lon, MARK_ZOOM))
    page.run_js("JSON.stringify((function(){var p = mapviewer.state.map.latLngToContainerPoint([%r, %r]); "
                "return [p.x, p.y];})())" % (lat, lon), box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=20000)
    px, py = json.loads(box[0])

    def black() -> bool:
        colour = view.grab().toImage().pixelColor(round(px), round(py))
        return max(colour.red(), colour.green(), colour.blue()) < 30

    qtbot.waitUntil(black, timeout=30000)


def test_export_html_keeps_to_the_size_limit_and_says_so(tmp_path, capsys):
    import base64

    data, _ = _events(tmp_path)
    archive = make_mbtiles(tmp_path / "streets.mbtiles")
    out = tmp_path / "small.html"
    code, stdout, stderr = run([data, "--basemap", archive, "-o", out], capsys)
    assert code == 0 and stderr == ""
    (layer,) = _embedded(out.read_text(encoding="utf-8"))
    sizes = {key: len(base64.b64decode(uri.split(",", 1)[1])) for key, uri in layer["tiles"].items()}
    assert {key.split("/")[0] for key in sizes} == {"0", "1", "12"}
    # One byte short of everything the area needs: zoom 12 is left out whole, zooms 0 and 1 stay.
    limit_mb = (sum(sizes.values()) - 1) / 1e6
    code, stdout, stderr = run([data, "--basemap", archive, "--embed-limit-mb", f"{limit_mb:.6f}", "-o", out], capsys)
    assert code == 0, stderr
    (layer,) = _embedded(out.read_text(encoding="utf-8"))
    assert {key.split("/")[0] for key in layer["tiles"]} == {"0", "1"} and layer["maxNativeZoom"] == 1
    assert "finest zoom levels were left out" in stdout and "--embed-limit-mb" in stdout
    (warning,) = stderr.strip().splitlines()
    assert warning.startswith("mapviewer export: warning: basemap tiles embedded")
    code, _, stderr = run([data, "--basemap", archive, "--embed-limit-mb", "-1", "-o", out], capsys)
    assert code == 2 and "--embed-limit-mb" in stderr


def test_export_uses_the_views_archives_and_reports_a_missing_one(tmp_path, capsys):
    from mapviewer.files.views import ViewSpec, save_view
    from mapviewer.map.basemapfiles import BasemapRef

    data, _ = _events(tmp_path)
    archive = make_mbtiles(tmp_path / "streets.mbtiles")
    with tiles.open_archive(archive) as opened:
        ref = BasemapRef(str(archive), opened.fingerprint())
    view = tmp_path / "view.json"
    save_view(view, ViewSpec(data=(str(data),), basemaps=(ref,)))
    code, _, stderr = run(["--view", view, "--extent", ",".join(map(str, EXTENT)), "--dpi", "60",
                           "-o", tmp_path / "a.png"], capsys)
    assert code == 0, stderr
    make_mbtiles(tmp_path / "other.mbtiles", name="Other").replace(archive)
    code, _, stderr = run(["--view", view, "--dpi", "60", "-o", tmp_path / "b.png"], capsys)
    assert code == 0
    assert f"{archive}: the basemap file changed since the view was saved" in stderr
    archive.unlink()
    code, _, stderr = run(["--view", view, "--dpi", "60", "-o", tmp_path / "c.png"], capsys)
    assert code == 1
    assert stderr.strip().splitlines()[-1] == f"mapviewer export: error: {archive}: basemap file not found"


# -- mapviewer --basemap --screenshot -----------------------------------------------------------------

def _app(args, tmp_path, timeout=300):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QTWEBENGINE_DISABLE_SANDBOX="1",
               HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"))
    return subprocess.run([sys.executable, "-m", "mapviewer", *map(str, args)], env=env, capture_output=True,
                          text=True, timeout=timeout, cwd=str(tmp_path))


def test_screenshot_with_basemap_shows_the_archive(tmp_path):
    from PySide6.QtGui import QImage

    from mapviewer.files.views import ViewSpec, save_view

    data, _ = _events(tmp_path)
    z, mx, my = mark_tile()
    block = {(z, mx + dx, my + dy): MAGENTA for dx in (-2, -1, 0, 1, 2) for dy in (-2, -1, 0, 1, 2)}
    archive = make_mbtiles(tmp_path / "magenta.mbtiles", block)
    view = tmp_path / "kyiv.json"
    save_view(view, ViewSpec(data=(str(data),), center=(MARK_LONLAT[1], MARK_LONLAT[0]), zoom=MARK_ZOOM))
    out = tmp_path / "window.png"
    done = _app([view, "--basemap", archive, "--screenshot", out, "--size", "1200x800"], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    image = QImage(str(out)).convertToFormat(QImage.Format.Format_RGB888)
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    pixels = pixels[:, :image.width() * 3].reshape(image.height(), image.width(), 3).astype(int)
    magenta = (np.abs(pixels - np.array(MAGENTA)).max(axis=2) <= 12).mean()
    assert magenta > 0.15, magenta  # the archive's tiles fill much of the map
    assert not (tmp_path / "config" / "strike-mapviewer").exists()  # the user's settings are untouched

    bad = tmp_path / "notes.mbtiles"
    bad.write_text("not a database")
    done = _app([data, "--basemap", bad, "--screenshot", tmp_path / "x.png"], tmp_path)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [f"mapviewer: error: {bad}: not an SQLite file, so not an "
                                                "MBTiles archive"]
    assert not (tmp_path / "x.png").exists()
