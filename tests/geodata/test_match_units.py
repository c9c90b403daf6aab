"""Matching reads times whatever unit pandas keeps them in, and its confidences stay within 0..1."""
from __future__ import annotations

import pandas as pd
import pytest

from geodata import read_incidents
from geodata.match import match_reports, merge_reports
from geodata.multisource import make_multisource
from geodata.writers import write_incidents
from tests.factories import canonical_frame


def _pair(unit: str, later: str):
    first = canonical_frame([36.2300], [50.0000], event_id=["CIR-1"], occurred_at=["2025-06-02T00:40:00Z"])
    second = canonical_frame([36.2304], [49.9990], event_id=["AC-1"], occurred_at=[later])
    for frame in (first, second):
        frame["occurred_at"] = frame["occurred_at"].dt.as_unit(unit)
    return {"cir.csv": first, "acled.csv": second}


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_time_gaps_are_the_same_in_every_time_unit(unit):
    reports = _pair(unit, "2025-06-02T01:55:00Z")
    result = match_reports(reports)
    assert [g.reasons[0] for g in result.groups] == ["1 h 15 min apart"]
    merged = merge_reports(reports, result)
    assert merged["occurred_at"].iloc[0] == pd.Timestamp("2025-06-02T00:40:00Z")
    # five hours apart is more than the two hours allowed: two strikes, in any unit
    assert match_reports(_pair(unit, "2025-06-02T05:40:00Z")).events == 2


def test_confidences_within_0_and_1_after_a_geopackage_round_trip(tmp_path):
    data = make_multisource(200, seed=1)
    read = {}
    for key, frame in data.frames.items():
        path = tmp_path / key.replace(".csv", ".gpkg")
        write_incidents(frame, path)
        read[path.name] = read_incidents(path).frame
    for frames in (read, {k: f.assign(occurred_at=f["occurred_at"].dt.as_unit("us")) for k, f in read.items()}):
        result = match_reports(frames)
        confidences = [g.confidence for g in result.groups] + [g.confidence for g in result.possible]
        assert confidences and all(0.0 <= c <= 1.0 for c in confidences)
        assert result.to_json()["groups"] and all(0.0 <= g["confidence"] <= 1.0 for g in result.to_json()["groups"])
    assert match_reports(read).events == result.events  # the unit changes nothing
