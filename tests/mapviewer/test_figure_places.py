"""Place names on the print figure: a reader can tell where the dots are."""
from __future__ import annotations

from mapviewer.export.figure import FigureRenderer, render_figure
from tests.mapviewer.test_figure import KN23, SHAHED, events, svg_texts

KYIV_OBLAST = (29.2, 49.15, 32.2, 51.6)  # west, south, east, north
UKRAINE = (22.1, 44.3, 40.3, 52.4)
FRAME = events([
    (30.52, 50.45, *KN23, "impact", "exact", "2025-06-01T01:00Z"),  # Kyiv
    (30.12, 49.80, *SHAHED, "intercepted", "exact", "2025-06-02T01:00Z"),  # Bila Tserkva
])


def place_labels(fig) -> list:
    return [t for t in fig.axes[0].texts if t.get_gid() == "place-label"]


def test_an_oblast_figure_names_its_towns(tmp_path):
    out = tmp_path / "kyiv.svg"
    render_figure(FRAME, page="16:9", dpi=72, extent=KYIV_OBLAST, out=out)
    texts = svg_texts(out)
    for name in ("Kyiv", "Bila Tserkva", "Brovary"):
        assert texts.count(name) == 1, name  # once, as text: the white outline behind it is no second copy


def test_a_country_figure_names_only_the_largest_cities(tmp_path):
    out = tmp_path / "ukraine.svg"
    fig = render_figure(FRAME, page="A4-landscape", dpi=72, extent=UKRAINE, out=out)
    texts = svg_texts(out)
    for name in ("Kyiv", "Kharkiv", "Lviv", "Odesa"):
        assert name in texts, name
    assert "Bucha" not in texts and "Brovary" not in texts
    assert 8 <= len(place_labels(fig)) <= 15


def test_place_names_never_overlap_and_stay_inside_the_map():
    for extent, page in ((KYIV_OBLAST, "16:9"), (UKRAINE, "A4-landscape"), (KYIV_OBLAST, "A4-portrait")):
        fig = render_figure(FRAME, page=page, dpi=100, extent=extent)
        renderer = fig.canvas.get_renderer()
        fig.canvas.draw()
        ax = fig.axes[0]
        labels = place_labels(fig)
        assert len(labels) >= 8, (extent, page)
        boxes = [t.get_window_extent(renderer) for t in labels]
        for i, box in enumerate(boxes):
            assert ax.bbox.x0 <= box.x0 and box.x1 <= ax.bbox.x1, labels[i].get_text()
            assert ax.bbox.y0 <= box.y0 and box.y1 <= ax.bbox.y1, labels[i].get_text()
            for other in boxes[i + 1:]:
                assert not box.overlaps(other), (labels[i].get_text(), extent, page)
        # Nor do they run into the other words on the map (country and oblast names, scale bar, "N").
        others = [t.get_window_extent(renderer) for t in ax.texts
                  if t.get_visible() and t.get_text() and t.get_gid() not in ("place-label", "place-label-halo")]
        for label, box in zip(labels, boxes):
            assert not box.count_overlaps(others), label.get_text()


def test_place_names_lie_under_the_incident_symbols_and_over_the_basemap():
    fig = render_figure(FRAME, page="16:9", dpi=72, extent=KYIV_OBLAST)
    ax = fig.axes[0]
    label_z = max(t.get_zorder() for t in ax.texts if (t.get_gid() or "").startswith("place-label"))
    symbol_z = min(c.get_zorder() for c in ax.collections if (c.get_gid() or "").startswith(("incidents", "halo")))
    basemap_z = max(c.get_zorder() for c in ax.collections if c.get_gid() is None or c.get_gid() == "selected-oblast")
    assert basemap_z < min(t.get_zorder() for t in place_labels(fig)) and label_z < symbol_z


def test_no_place_names_without_the_basemap_and_the_fingerprint_ignores_them(tmp_path):
    bare = render_figure(FRAME, page="16:9", dpi=72, extent=KYIV_OBLAST, basemap=False, out=tmp_path / "bare.svg")
    assert not place_labels(bare)
    assert "Brovary" not in svg_texts(tmp_path / "bare.svg")
    full = render_figure(FRAME, page="16:9", dpi=72, extent=KYIV_OBLAST)
    assert place_labels(full)
    assert bare.mapviewer_info["fingerprint"] == full.mapviewer_info["fingerprint"]


def test_animation_frames_reuse_the_place_names():
    renderer = FigureRenderer(KYIV_OBLAST, page="16:9", dpi=72)
    first = place_labels(renderer.draw(FRAME.iloc[:1]))
    second = place_labels(renderer.draw(FRAME.iloc[1:]))
    assert first and [id(t) for t in first] == [id(t) for t in second]


def test_the_footer_credits_geonames_for_the_place_names():
    credits = [t.get_text() for t in render_figure(FRAME, page="16:9", dpi=72, extent=KYIV_OBLAST).texts
               if t.get_gid() == "credits"]
    assert "place names: GeoNames (CC BY 4.0)" in credits[0] and "approximate oblasts" in credits[0]
    bare = [t.get_text() for t in render_figure(FRAME, page="16:9", dpi=72, extent=KYIV_OBLAST, basemap=False).texts
            if t.get_gid() == "credits"]
    assert "place names" not in bare[0]
