"""The print figure: what a reader of the PNG, PDF or SVG actually sees."""
from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.image import imread
from pyproj import Geod

from geodata import FilterState
from geodata.errors import DataError
from geodata.schema import TIME_PRECISION_DTYPE
from geodata.style import OUTCOME_STYLE
from geodata.describe import describe_filter
from mapviewer.export.figure import PAGES, figure_pixel, fingerprint, render_figure
from tests.factories import canonical_frame


def events(rows) -> gpd.GeoDataFrame:
    """Canonical rows from (lon, lat, munition, class, outcome, precision, UTC time)."""
    return canonical_frame([r[0] for r in rows], [r[1] for r in rows], munition=[r[2] for r in rows],
                           munition_class=[r[3] for r in rows], outcome=[r[4] for r in rows],
                           geo_precision=[r[5] for r in rows], occurred_at=[r[6] for r in rows],
                           location="somewhere")


def rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


def read_png(path) -> np.ndarray:
    return imread(path)[..., :3] * 255.0


def pixels_of(image: np.ndarray, colour: str, tolerance: float = 6.0) -> np.ndarray:
    """(row, column) of every pixel within ``tolerance`` of ``colour``."""
    distance = np.abs(image - rgb(colour)).max(axis=2)
    return np.argwhere(distance <= tolerance)


KN23 = ("KN-23", "ballistic missile")
SHAHED = ("Shahed-136", "loitering munition")
IMPACT, INTERCEPTED = OUTCOME_STYLE["impact"].colour, OUTCOME_STYLE["intercepted"].colour


def test_a_single_event_is_drawn_in_its_outcome_colour_at_its_place(tmp_path):
    frame = events([(30.52, 50.45, *KN23, "impact", "exact", "2025-06-01T01:00Z")])
    out = tmp_path / "one.png"
    fig = render_figure(frame, page="A4-landscape", dpi=100, out=out)
    image = read_png(out)
    assert abs(image.shape[0] - PAGES["A4-landscape"][1] * 100) <= 1
    assert abs(image.shape[1] - PAGES["A4-landscape"][0] * 100) <= 1
    column, row = figure_pixel(fig, 30.52, 50.45)
    assert np.abs(image[round(row), round(column)] - rgb(IMPACT)).max() <= 6
    found = pixels_of(image, IMPACT)
    near = np.hypot(found[:, 0] - row, found[:, 1] - column) < 15
    assert near.sum() > 10
    # Inside the map, the symbol is the only thing in that colour (the legend swatch is outside).
    box = next(a for a in fig.axes if a.get_label() == "map").bbox
    height = image.shape[0]
    in_map = ((found[:, 1] >= box.x0) & (found[:, 1] <= box.x1)
              & (found[:, 0] >= height - box.y1) & (found[:, 0] <= height - box.y0))
    assert np.array_equal(in_map, near)


def test_events_land_west_east_north_south_as_on_the_ground(tmp_path):
    frame = events([
        (24.03, 49.84, *KN23, "impact", "exact", "2025-06-01T01:00Z"),  # Lviv: west
        (36.23, 49.99, *SHAHED, "intercepted", "exact", "2025-06-01T01:00Z"),  # Kharkiv: east
        (30.52, 51.50, *KN23, "deviated", "exact", "2025-06-01T01:00Z"),  # north
        (30.73, 46.48, *KN23, "debris", "exact", "2025-06-01T01:00Z"),  # Odesa: south
    ])
    out = tmp_path / "four.png"
    fig = render_figure(frame, page="A4-landscape", dpi=100, out=out)
    image = read_png(out)
    centres = {}
    for outcome in ("impact", "intercepted", "deviated", "debris"):
        column, row = figure_pixel(fig, *{"impact": (24.03, 49.84), "intercepted": (36.23, 49.99),
                                          "deviated": (30.52, 51.50), "debris": (30.73, 46.48)}[outcome])
        hits = pixels_of(image, OUTCOME_STYLE[outcome].colour)
        hits = hits[np.hypot(hits[:, 0] - row, hits[:, 1] - column) < 20]
        assert len(hits) > 10, outcome
        centres[outcome] = hits.mean(axis=0)  # (row, column)
        assert np.hypot(*(centres[outcome] - (row, column))) < 4, outcome
    assert centres["impact"][1] < centres["deviated"][1] < centres["intercepted"][1]
    assert centres["deviated"][0] < centres["impact"][0] < centres["debris"][0]


def test_scale_bar_matches_ground_distance(tmp_path):
    geod = Geod(ellps="WGS84")
    lon2, lat2, _ = geod.fwd(30.0, 49.0, 90.0, 200_000.0)  # 200 km due east
    frame = events([
        (30.0, 49.0, *KN23, "impact", "exact", "2025-06-01T01:00Z"),
        (lon2, lat2, *SHAHED, "intercepted", "exact", "2025-06-01T01:00Z"),
    ])
    out = tmp_path / "scale.png"
    fig = render_figure(frame, page="A4-landscape", dpi=100, out=out, basemap=False)
    image = read_png(out)
    a = pixels_of(image, IMPACT)
    b = pixels_of(image, INTERCEPTED)
    a = a[a[:, 1] < image.shape[1] * 0.7].mean(axis=0)  # leave out the legend swatches
    b = b[b[:, 1] < image.shape[1] * 0.7].mean(axis=0)
    event_px = np.hypot(*(a - b))
    ax = next(x for x in fig.axes if x.get_label() == "map")
    bars = [p for p in ax.patches if p.get_gid() == "scalebar"]
    renderer = FigureCanvasAgg(fig).get_renderer()
    extents = [p.get_window_extent(renderer) for p in bars]
    bar_px = max(e.x1 for e in extents) - min(e.x0 for e in extents)
    label = next(t.get_text() for t in ax.texts if t.get_text().endswith(" km"))
    bar_km = float(label.split()[0])
    assert event_px / (bar_px / bar_km) == pytest.approx(200.0, rel=0.02)


def test_uncertain_locations_are_hollow(tmp_path):
    frame = events([(30.52, 50.45, *KN23, "impact", "settlement", "2025-06-01T01:00Z")])
    out = tmp_path / "hollow.png"
    fig = render_figure(frame, dpi=100, out=out, extent=(30.0, 50.0, 31.0, 51.0))
    image = read_png(out)
    column, row = figure_pixel(fig, 30.52, 50.45)
    assert np.abs(image[round(row), round(column)] - rgb(IMPACT)).max() > 60  # the centre is not filled
    ring = pixels_of(image, IMPACT, tolerance=30)
    assert (np.hypot(ring[:, 0] - row, ring[:, 1] - column) < 10).sum() > 5  # the outline is


def svg_texts(path) -> list[str]:
    root = ET.parse(path).getroot()
    return ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_svg_keeps_title_filters_legend_and_fingerprint_as_text(tmp_path):
    frame = events(
        [(30.5 + 0.01 * i, 50.4, *KN23, "impact", "exact", "2025-06-10T01:00Z") for i in range(3)]
        + [(30.6, 50.5, "Kh-101", "cruise missile", "deviated", "exact", "2025-06-12T01:00Z")]
        + [(30.7, 50.6, *SHAHED, "intercepted", "exact", "2025-06-12T01:00Z")]  # filtered out
    )
    state = FilterState(start=dt.date(2025, 6, 1), end=dt.date(2025, 6, 30), munitions={"KN-23", "Kh-101"},
                        outcomes={"impact", "deviated"})
    out = tmp_path / "brief.svg"
    render_figure(frame, filter_state=state, title="Kyiv, June", page="slide-16:9", out=out)
    texts = svg_texts(out)
    assert "Kyiv, June" in texts
    assert any("1 Jun 2025 – 30 Jun 2025 · KN-23, Kh-101 · impact, deviated" in t for t in texts)
    assert "4 events shown" in texts
    legend = dict(zip(texts, texts[1:]))
    assert legend["Impact"] == "3"
    assert legend["Deviated / exploded in the air"] == "1"
    assert legend["Ballistic missile"] == "3"
    assert legend["Cruise missile"] == "1"
    assert "Intercepted" not in texts
    assert any(re.fullmatch(r"fingerprint [0-9a-f]{12} · mapviewer .*", t) for t in texts)
    assert any("Natural Earth" in t for t in texts)
    assert any(t.endswith(" km") for t in texts)
    assert "N" in texts  # the north arrow


def test_the_footer_says_how_many_month_dated_events_the_dates_leave_out(tmp_path):
    frame = events([(30.5, 50.4, *KN23, "impact", "exact", "2025-06-10T01:00Z"),
                    (30.6, 50.5, *KN23, "impact", "exact", "2025-05-31T21:00Z")])  # becomes "June 2025"
    frame["time_precision"] = pd.Categorical(["exact", "month"], dtype=TIME_PRECISION_DTYPE)
    out = tmp_path / "week.svg"
    render_figure(frame, filter_state=FilterState(start=dt.date(2025, 6, 8), end=dt.date(2025, 6, 14)), out=out)
    texts = svg_texts(out)
    assert "1 event shown" in texts
    assert any("1 event dated only to a day or month reaching outside the dates not shown" in t for t in texts)
    render_figure(frame, filter_state=FilterState(start=dt.date(2025, 6, 1), end=dt.date(2025, 6, 30)), out=out)
    texts = svg_texts(out)
    assert "2 events shown" in texts and not any("not shown" in t for t in texts)


def test_pdf_embeds_truetype_text(tmp_path):
    frame = events([(30.52, 50.45, *KN23, "impact", "exact", "2025-06-01T01:00Z")])
    out = tmp_path / "brief.pdf"
    render_figure(frame, title="PDF title", out=out, page="Letter-portrait")
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert b"/FontFile2" in data  # TrueType fonts: text stays selectable
    assert b"/Type3" not in data


def test_many_points_are_one_raster_image_in_vector_output(tmp_path):
    rng = np.random.default_rng(1)
    rows = [(float(x), float(y), *SHAHED, "intercepted", "exact", "2025-06-01T01:00Z")
            for x, y in zip(rng.uniform(25, 38, 5000), rng.uniform(45.5, 51.5, 5000))]
    out = tmp_path / "many.svg"
    render_figure(events(rows), out=out, basemap=False)
    text = out.read_text(encoding="utf-8")
    assert "<image" in text
    assert text.count("<use") < 100  # not 5000 vector markers


def test_page_presets_set_the_page_size(tmp_path):
    frame = events([(30.52, 50.45, *KN23, "impact", "exact", "2025-06-01T01:00Z")])
    for page, (width, height) in PAGES.items():
        out = tmp_path / f"{page.replace(':', '_')}.png"
        render_figure(frame, page=page, dpi=40, out=out, basemap=False)
        shape = read_png(out).shape
        assert abs(shape[0] - height * 40) <= 1 and abs(shape[1] - width * 40) <= 1
    with pytest.raises(DataError, match="unknown page"):
        render_figure(frame, page="A3-sideways")


def test_unknown_figure_suffix_is_a_data_error(tmp_path):
    frame = events([(30.52, 50.45, *KN23, "impact", "exact", "2025-06-01T01:00Z")])
    with pytest.raises(DataError, match="figure.bmp"):
        render_figure(frame, out=tmp_path / "figure.bmp", basemap=False)
    assert list(tmp_path.iterdir()) == []


def test_no_matching_events_still_makes_a_figure_that_says_so(tmp_path):
    frame = events([(30.52, 50.45, *KN23, "impact", "exact", "2025-06-01T01:00Z")])
    out = tmp_path / "none.svg"
    render_figure(frame, filter_state=FilterState(outcomes={"debris"}), out=out)
    texts = svg_texts(out)
    assert "0 events shown" in texts
    assert any("No events match" in t for t in texts)


def test_filter_description_in_words():
    assert describe_filter(FilterState(start=dt.date(2025, 6, 1), end=dt.date(2025, 6, 30),
                                       munitions={"Kh-101", "KN-23"}, outcomes={"deviated", "impact"})) == (
        "1 Jun 2025 – 30 Jun 2025 · KN-23, Kh-101 · impact, deviated")
    assert describe_filter(FilterState()) == "all dates · all munitions · all outcomes"
    frame = events([(30.5, 50.4, *KN23, "impact", "exact", "2025-06-01T22:30Z"),  # 2 Jun in Kyiv
                    (30.5, 50.4, *KN23, "impact", "exact", "2025-06-05T10:00Z")])
    assert describe_filter(FilterState(munition_classes={"ballistic missile"}), frame) == (
        "all dates (2 Jun 2025 – 5 Jun 2025) · ballistic missiles · all outcomes")


def test_fingerprint_follows_data_bytes_and_filters(tmp_path):
    data = tmp_path / "a.csv"
    data.write_text("one", encoding="utf-8")
    first = fingerprint([data], "June")
    assert first == fingerprint([data], "June")
    assert first != fingerprint([data], "July")
    data.write_text("two", encoding="utf-8")
    assert first != fingerprint([data], "June")
    with pytest.raises(DataError, match="gone.csv"):
        fingerprint([tmp_path / "gone.csv"], "June")


def test_figure_module_needs_no_qt():
    code = ("import sys, mapviewer.export.figure, mapviewer.files.views, mapviewer.cli.export; "
            "sys.exit('PySide6' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0


def test_an_oblast_filter_outlines_that_oblast(tmp_path):
    frame = events([(36.25, 49.98, *KN23, "impact", "exact", "2025-06-01T01:00Z")])
    frame["admin1"] = pd.array(["Kharkivska oblast"], dtype="string")
    out = tmp_path / "kharkiv.svg"
    render_figure(frame, filter_state=FilterState(admin1={"Kharkivska oblast"}), out=out)
    assert 'id="selected-oblast"' in out.read_text(encoding="utf-8")
    plain = tmp_path / "plain.svg"
    render_figure(frame, out=plain)
    assert 'id="selected-oblast"' not in plain.read_text(encoding="utf-8")


# -- audited gaps -------------------------------------------------------------------------------

def test_events_outside_the_map_area_are_counted_on_the_figure(tmp_path):
    inside = [(30.4 + 0.05 * i, 50.4, *KN23, "impact", "exact", "2025-06-10T01:00Z") for i in range(3)]
    outside = [(36.2, 49.9, *SHAHED, "intercepted", "exact", "2025-06-10T01:00Z")] * 2  # Kharkiv
    out = tmp_path / "kyiv.svg"
    render_figure(events(inside + outside), out=out, extent=(30.0, 50.0, 31.0, 50.8))
    texts = svg_texts(out)
    assert "3 events shown" in texts
    assert "5 matching events, 2 outside the map area" in " ".join(texts)
    render_figure(events(inside), out=out, extent=(30.0, 50.0, 31.0, 50.8))
    assert "outside the map area" not in " ".join(svg_texts(out))


def _stamp(path) -> str:
    return next(t for t in svg_texts(path) if t.startswith("fingerprint ")).split()[1]


def test_fingerprint_tells_apart_filters_the_words_shorten_and_map_areas(tmp_path):
    names = [f"M-{i}" for i in range(10)]
    frame = events([(30.4 + 0.02 * i, 50.4, name, "cruise missile", "impact", "exact", "2025-06-10T01:00Z")
                    for i, name in enumerate(names)])
    six, seven = FilterState(munitions=names[:6] + ["X-1"]), FilterState(munitions=names[:6] + ["X-2"])
    stamps = []
    for state, extent in ((six, (30.0, 50.0, 31.0, 50.8)), (seven, (30.0, 50.0, 31.0, 50.8)),
                          (six, (29.0, 49.5, 32.0, 51.0))):
        out = tmp_path / f"f{len(stamps)}.svg"
        render_figure(frame, filter_state=state, out=out, extent=extent, basemap=False)
        stamps.append(_stamp(out))
    assert len(set(stamps)) == 3
    # The same filters however built (list or set, any order) give the same fingerprint.
    out = tmp_path / "again.svg"
    render_figure(frame, filter_state=FilterState(munitions=list(reversed(sorted(six.munitions)))), out=out,
                  extent=(30.0, 50.0, 31.0, 50.8), basemap=False)
    assert _stamp(out) == stamps[0]


def test_fingerprint_function_hashes_every_filter_field(tmp_path):
    data = tmp_path / "a.csv"
    data.write_text("one", encoding="utf-8")
    a = fingerprint([data], filter_state=FilterState(munitions={f"M-{i}" for i in range(7)}))
    b = fingerprint([data], filter_state=FilterState(munitions={f"M-{i}" for i in range(6)} | {"M-9"}))
    assert a != b
    assert fingerprint([data], filter_state=FilterState(), extent=(30, 50, 31, 51)) != fingerprint(
        [data], filter_state=FilterState(), extent=(30, 50, 31, 51.5))


LONG_TITLE = ("Нічна атака на Київ: балістичні ракети KN-23, крилаті ракети Х-101 та ударні дрони — "
              "перевірені місця влучань і уламків.")


def test_a_long_title_wraps_between_the_margins_above_the_map(tmp_path):
    assert len(LONG_TITLE) == 120
    frame = events([(30.52, 50.45, *KN23, "impact", "exact", "2025-06-01T01:00Z")])
    state = FilterState(munitions={"KN-23", "Kh-101", "Shahed-136", "Kalibr", "Iskander-M"}, text="вибух",
                        admin1={"Kyivska oblast", "Kyiv", "Chernihivska oblast", "Zhytomyrska oblast"})
    dpi = 60
    out = tmp_path / "portrait.png"
    fig = render_figure(frame, filter_state=state, title=LONG_TITLE, page="A4-portrait", dpi=dpi, out=out,
                        basemap=False)
    width, height = PAGES["A4-portrait"]
    margin = 0.35 * dpi
    renderer = FigureCanvasAgg(fig).get_renderer()
    title = next(t for t in fig.texts if t.get_gid() == "title")
    subtitle = next(t for t in fig.texts if t.get_gid() == "subtitle")
    map_top = next(a for a in fig.axes if a.get_label() == "map").get_window_extent(renderer).y1
    for text in (title, subtitle):
        box = text.get_window_extent(renderer)
        assert box.x0 >= margin - 1 and box.x1 <= width * dpi - margin + 1, text.get_gid()
        assert box.y0 > map_top and box.y1 <= height * dpi - margin + 1, text.get_gid()
    assert subtitle.get_window_extent(renderer).y1 < title.get_window_extent(renderer).y0
    assert title.get_text().replace("\n", " ") == LONG_TITLE  # wrapped, nothing cut
    # In the PNG: nothing drawn in the right margin beside the title and subtitle.
    image = read_png(out)
    band = image[: round(height * dpi - map_top), round(width * dpi - margin) + 1:]
    assert band.min() > 250
    # In the SVG the title is still text, in lines.
    svg = tmp_path / "portrait.svg"
    render_figure(frame, filter_state=state, title=LONG_TITLE, page="A4-portrait", out=svg, basemap=False)
    lines = [t for t in svg_texts(svg) if len(t) > 3 and t in LONG_TITLE]
    assert len(lines) >= 2 and " ".join(lines) == LONG_TITLE


def test_legend_location_symbols_match_what_the_map_draws(tmp_path):
    frame = events([(30.52, 50.45, *KN23, "impact", "settlement", "2025-06-01T01:00Z"),
                    (30.62, 50.40, *KN23, "impact", "region", "2025-06-01T01:00Z")])
    city = tmp_path / "city.svg"
    render_figure(frame, out=city, extent=(30.3, 50.3, 30.8, 50.6), basemap=False)
    svg = city.read_text(encoding="utf-8")
    # A city map draws a halo around settlement-level events: so does the legend's row.
    assert svg.count('id="halo-impact') >= 1
    assert 'id="legend-halo-settlement"' in svg and 'id="legend-halo-region"' in svg
    assert "Region only" in svg_texts(city) and "Region only (halo)" not in svg_texts(city)
    country = tmp_path / "country.svg"
    render_figure(frame, out=country, extent=(22.0, 44.0, 40.5, 52.5), basemap=False)
    svg = country.read_text(encoding="utf-8")
    # At country scale only the region-level event has a halo, on the map and in the legend.
    assert 'id="legend-halo-settlement"' not in svg and 'id="legend-halo-region"' in svg


@pytest.mark.parametrize("page", ["A4-portrait", "Letter-landscape", "slide-16:9"])
def test_footer_lines_stay_on_the_page_and_apart(tmp_path, page):
    frame = events([(30.52, 50.45, *KN23, "impact", "exact", "2025-06-01T01:00Z")])
    data = []
    for name in ("verification-spreadsheet-of-the-kyiv-night-with-a-long-name.csv",
                 "partner-export-september-2025-final-final-v2.csv", "third-source-of-the-same-night.csv"):
        data.append(tmp_path / name)
        data[-1].write_text("x", encoding="utf-8")
    dpi = 60
    fig = render_figure(frame, page=page, dpi=dpi, basemap=False, source_paths=data,
                        note="frame 2025-06-01 (7-day window) · 12 events dated only to a day or month reaching "
                             "outside the dates not shown · and a little more text to make the line long")
    width, _ = PAGES[page]
    renderer = FigureCanvasAgg(fig).get_renderer()
    lines = {t.get_gid(): t for t in fig.texts if t.get_gid() in ("credits", "note", "fingerprint")}
    boxes = {gid: t.get_window_extent(renderer) for gid, t in lines.items()}
    map_bottom = next(a for a in fig.axes if a.get_label() == "map").get_window_extent(renderer).y0
    for gid, box in boxes.items():
        assert 0.35 * dpi - 1 <= box.x0 and box.x1 <= (width - 0.35) * dpi + 1, gid
        assert box.y1 < map_bottom, gid
    assert boxes["credits"].y1 <= boxes["note"].y0 + 1 and boxes["note"].y1 <= boxes["fingerprint"].y0 + 1
    assert re.match(r"fingerprint [0-9a-f]{12} · mapviewer ", lines["fingerprint"].get_text())
