"""A briefing figure names whole munition classes under its title, not a dozen munition names."""
from __future__ import annotations

from geodata import FilterState
from geodata.describe import describe_filter, munition_classes_of
from mapviewer.export.figure import render_figure
from tests.mapviewer.test_figure import events, svg_texts

_ROWS = [
    (30.50, 50.40, "KN-23", "ballistic missile", "impact", "exact", "2025-06-10T01:00Z"),
    (30.52, 50.41, "9M723 Iskander-M", "ballistic missile", "impact", "exact", "2025-06-10T01:00Z"),
    (30.54, 50.42, "Kh-101", "cruise missile", "intercepted", "exact", "2025-06-10T01:00Z"),
    (30.56, 50.43, "3M-14 Kalibr", "cruise missile", "impact", "exact", "2025-06-10T01:00Z"),
    (30.58, 50.44, "Kh-22", "air-launched missile", "impact", "exact", "2025-06-10T01:00Z"),
    (30.60, 50.45, "Shahed-136", "loitering munition", "intercepted", "exact", "2025-06-10T01:00Z"),
    (30.62, 50.46, "Lancet", "loitering munition", "impact", "exact", "2025-06-10T01:00Z"),
]


def test_drones_switched_off_reads_as_the_class_left_out(tmp_path):
    frame = events(_ROWS)
    # What the filter panel sets when the drone class is unticked: every other munition in the data.
    kept = FilterState(munitions={"KN-23", "9M723 Iskander-M", "Kh-101", "3M-14 Kalibr", "Kh-22"})
    out = tmp_path / "brief.svg"
    render_figure(frame, filter_state=kept, title="Missiles", page="slide-16:9", out=out)
    subtitle = next(t for t in svg_texts(out) if "all outcomes" in t)
    assert "all munitions except loitering munitions (drones)" in subtitle
    assert "Shahed" not in subtitle and "Lancet" not in subtitle


def test_part_of_a_class_is_named_munition_by_munition():
    classes = munition_classes_of(events(_ROWS))
    words = describe_filter(FilterState(munitions={"KN-23", "Kh-101", "3M-14 Kalibr"}), classes=classes)
    assert words == "all dates · cruise missiles, KN-23 · all outcomes"


def test_most_of_a_list_kept_is_said_as_what_is_left_out():
    classes = munition_classes_of(events(_ROWS))
    all_but_lancet = {name for name, *_ in (r[2:] for r in _ROWS)} - {"Lancet"}
    assert describe_filter(FilterState(munitions=all_but_lancet), classes=classes) == (
        "all dates · all munitions except Lancet · all outcomes")
    assert describe_filter(FilterState(outcomes={"impact", "intercepted", "deviated", "debris"})) == (
        "all dates · all munitions · all outcomes except unknown")
    # Classes in plural words; most classes kept: the one left out.
    from geodata.schema import MUNITION_CLASSES

    no_drones = set(MUNITION_CLASSES) - {"loitering munition"}
    assert describe_filter(FilterState(munition_classes=no_drones)) == (
        "all dates · all classes except loitering munitions (drones) · all outcomes")
    assert describe_filter(FilterState(munition_classes={"ballistic missile", "cruise missile"})) == (
        "all dates · ballistic missiles, cruise missiles · all outcomes")


def test_tag_choices_are_named_with_their_column():
    state = FilterState(tags={("tag_type_of_area_affected", "Residential"), ("tag_type_of_area_affected", "Industrial")})
    assert describe_filter(state).endswith("· Type of area affected: Industrial, Residential")
