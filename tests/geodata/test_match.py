"""Matching reports of one strike across sources: rules, one-to-one, decisions, merged rows, quality."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geodata.errors import DataError
from geodata.match import (
    CasualtyTotals,
    Decisions,
    casualty_totals,
    match_reports,
    merge_reports,
)
from geodata.multisource import make_multisource, pair_quality
from geodata.normalize import build_frame
from geodata.report import LoadReport

KYIV = (50.4501, 30.5234)
KHARKIV = (49.9935, 36.2304)


def frame(rows: list[dict], name: str = "test.csv"):
    """Text rows through the readers' own checks, as a file would give them."""
    columns = ["event_id", "occurred_at", "time_precision", "latitude", "longitude", "location", "geo_precision",
               "munition", "outcome", "killed", "injured", "source"]
    raw = pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=columns, dtype=object)
    report = LoadReport(path=name, format="csv")
    out = build_frame(raw, report, rows=np.arange(2, len(rows) + 2), geocode=False)
    assert report.rows_rejected == 0, report.errors
    return out


def report(event_id: str, when: str, place=KYIV, *, km_east: float = 0.0, precision: str | None = None,
           geo: str = "exact", munition: str | None = "KN-23", outcome: str | None = "impact",
           killed: int | None = None, injured: int | None = None, location: str = "Kyiv") -> dict:
    lat, lon = place
    lon += km_east / (111.32 * math.cos(math.radians(lat)))
    return {"event_id": event_id, "occurred_at": when, "time_precision": precision, "latitude": lat,
            "longitude": lon, "location": location, "geo_precision": geo, "munition": munition,
            "outcome": outcome, "killed": None if killed is None else str(killed),
            "injured": None if injured is None else str(injured), "source": "test"}


def pairs_of(result, a: str = "a.csv", b: str = "b.csv") -> set[tuple[int, int]]:
    """(row in a, row in b) of every pair put in one strike."""
    ids_a, ids_b = result.strike[a], result.strike[b]
    return {(i, j) for i in range(len(ids_a)) for j in range(len(ids_b)) if ids_a[i] == ids_b[j]}


# ---------------------------------------------------------------------------------------- quality


@pytest.fixture(scope="module")
def synthetic():
    data = make_multisource()
    return data, match_reports(data.frames)


def test_precision_and_recall_on_three_sources_with_known_truth(synthetic):
    data, result = synthetic
    quality = pair_quality(data, result.strike)
    assert quality.true_matchable > 2000  # enough pairs for the figures to mean something
    assert quality.precision >= 0.99, quality
    assert quality.recall >= 0.95, quality
    assert result.records == sum(len(f) for f in data.frames.values())
    # the strikes counted are close to the true number, never more than the reports
    assert abs(result.events - len(data.strikes)) / len(data.strikes) < 0.05


def test_a_strike_holds_at_most_one_report_per_source(synthetic):
    _, result = synthetic
    assert result.groups
    for group in result.groups:
        sources = [key for key, _ in group.members]
        assert len(sources) == len(set(sources)) >= 2
        assert 0.0 <= group.confidence <= 1.0 and group.reasons


def test_month_only_reports_are_never_matched(synthetic):
    data, result = synthetic
    counts = np.bincount(np.concatenate(list(result.strike.values())))
    month = {k: (f["time_precision"] == "month").to_numpy() for k, f in data.frames.items()}
    assert sum(m.sum() for m in month.values()) > 10
    for key, ids in result.strike.items():
        assert (counts[ids[month[key]]] == 1).all()


def test_strike_ids_and_counts_agree(synthetic):
    _, result = synthetic
    ids = np.concatenate(list(result.strike.values()))
    assert set(np.unique(ids)) == set(range(result.events))
    assert result.matched == sum(len(g.members) for g in result.groups)
    assert result.events == result.records - result.matched + len(result.groups)


# ---------------------------------------------------------------------------------------- the rules


def test_exact_time_and_day_only_date_on_the_same_kyiv_day_match():
    # 01:30 in Kyiv on 2 June is still 1 June in UTC
    a = frame([report("A1", "2025-06-02 01:30")])
    b = frame([report("B1", "2025-06-02", km_east=0.3)])
    result = match_reports({"a.csv": a, "b.csv": b})
    assert pairs_of(result) == {(0, 0)}
    assert "one report gives the day only" in result.groups[0].reasons
    assert result.to_json()["events"] == 1


def test_a_day_only_date_does_not_reach_far_into_the_next_day():
    a = frame([report("A1", "2025-06-02 05:00")])
    b = frame([report("B1", "2025-06-01")])
    assert pairs_of(match_reports({"a.csv": a, "b.csv": b})) == set()
    # a night strike dated to the evening before is within the tolerance, and said so
    c = frame([report("C1", "2025-06-02 01:10")])
    result = match_reports({"b.csv": b, "c.csv": c})
    assert pairs_of(result, "b.csv", "c.csv") == {(0, 0)}
    assert any("outside that day" in r for r in result.groups[0].reasons)


def test_two_day_only_dates_must_name_the_same_day():
    a = frame([report("A1", "2025-06-01")])
    b = frame([report("B1", "2025-06-02")])
    assert pairs_of(match_reports({"a.csv": a, "b.csv": b})) == set()


def test_a_month_only_report_matches_nothing_even_at_the_same_place():
    a = frame([report("A1", "2025-06-12 03:40")])
    b = frame([report("B1", "2025-06-01", precision="month")])
    result = match_reports({"a.csv": a, "b.csv": b})
    assert pairs_of(result) == set() and result.events == 2


def test_exact_points_must_be_close_and_the_tolerances_can_be_set():
    a = frame([report("A1", "2025-06-02 03:40")])
    b = frame([report("B1", "2025-06-02 03:45", km_east=3.0)])
    assert pairs_of(match_reports({"a.csv": a, "b.csv": b})) == set()
    assert pairs_of(match_reports({"a.csv": a, "b.csv": b}, within_km=4)) == {(0, 0)}
    late = frame([report("B1", "2025-06-02 06:40")])
    assert pairs_of(match_reports({"a.csv": a, "b.csv": late})) == set()
    assert pairs_of(match_reports({"a.csv": a, "b.csv": late}, within_hours=4)) == {(0, 0)}
    with pytest.raises(DataError):
        match_reports({"a.csv": a}, within_hours=0)


def test_a_settlement_precision_place_reaches_over_its_settlement():
    # Kyiv is large: a point 12 km from its centre is still Kyiv; a small town's reach is short
    a = frame([report("A1", "2025-06-02 03:40", km_east=12.0)])
    b = frame([report("B1", "2025-06-02 03:50", geo="settlement")])
    result = match_reports({"a.csv": a, "b.csv": b})
    assert pairs_of(result) == {(0, 0)}
    assert any("settlement only (Kyiv)" in r for r in result.groups[0].reasons)
    town = (50.2786, 31.7669)  # Yahotyn, some 20,000 people
    a = frame([report("A1", "2025-06-02 03:40", town, km_east=12.0, location="Yahotyn")])
    b = frame([report("B1", "2025-06-02 03:50", town, geo="settlement", location="Yahotyn")])
    assert pairs_of(match_reports({"a.csv": a, "b.csv": b})) == set()


def test_region_precision_needs_close_exact_times_and_the_same_named_munition():
    a = frame([report("A1", "2025-06-02 03:40", km_east=40.0)])
    same = frame([report("B1", "2025-06-02 03:50", geo="region", location="Kyiv oblast")])
    vague = frame([report("B1", "2025-06-02", geo="region", location="Kyiv oblast")])
    classed = frame([report("B1", "2025-06-02 03:50", geo="region", munition="ballistic missile")])
    assert pairs_of(match_reports({"a.csv": a, "b.csv": same})) == {(0, 0)}
    assert pairs_of(match_reports({"a.csv": a, "b.csv": vague})) == set()
    assert pairs_of(match_reports({"a.csv": a, "b.csv": classed})) == set()


@pytest.mark.parametrize(("first", "second", "matched", "reason"), [
    ("KN-23", "Hwasong-11", True, "same munition (KN-23)"),
    ("KN-23", "ballistic missile", True, "munition class agrees (ballistic missile)"),
    ("KN-23", "балістична ракета", True, "munition class agrees (ballistic missile)"),
    ("KN-23", None, True, "one report names no munition"),
    ("KN-23", "KN-23?", True, "same munition (KN-23), one report doubts it"),
    ("KN-23", "Iskander?", True, "munitions differ (KN-23 / Iskander?), same class (ballistic missile)"),
    ("KN-23", "Shahed-136", False, None),
    ("KN-23", "9M723 Iskander-M", False, None),
    ("KN-23", "drone", False, None),
    ("KN-23?", "Shahed-136", False, None),
    ("Shahed-136", "Герань-2", True, "same munition (Shahed-136)"),
    # a class word names the class, not one munition of it
    ("UMPK", "guided bomb", True, "munition class agrees (guided bomb)"),
    ("UMPK", "glide bomb", True, "munition class agrees (guided bomb)"),
    ("UMPK", "керована авіабомба", True, "munition class agrees (guided bomb)"),
    ("KAB-500", "guided bomb", True, "munition class agrees (guided bomb)"),
    ("UMPK", "KAB-500", False, None),
])
def test_munitions_decided_by_the_catalogue(first, second, matched, reason):
    a = frame([report("A1", "2025-06-02 03:40", munition=first)])
    b = frame([report("B1", "2025-06-02 03:52", km_east=0.8, munition=second)])
    result = match_reports({"a.csv": a, "b.csv": b})
    assert (pairs_of(result) == {(0, 0)}) is matched
    if matched:
        reasons = result.groups[0].reasons
        assert reason in reasons
        assert "12 min apart" in reasons and "0.8 km apart" in reasons


def test_intercepted_against_impact_is_a_soft_disagreement():
    a = frame([report("A1", "2025-06-02 03:40", outcome="intercepted")])
    agree = frame([report("B1", "2025-06-02 03:42", outcome="intercepted")])
    differ = frame([report("B1", "2025-06-02 03:42", outcome="impact")])
    same = match_reports({"a.csv": a, "b.csv": agree}).groups[0]
    soft = match_reports({"a.csv": a, "b.csv": differ}).groups[0]
    assert "outcomes disagree (intercepted / impact)" in soft.reasons
    assert soft.confidence < same.confidence


def test_reports_of_one_source_are_never_merged():
    twins = frame([report("A1", "2025-06-02 03:40"), report("A2", "2025-06-02 03:40")])
    result = match_reports({"a.csv": twins})
    assert result.events == 2 and result.groups == []
    # a report of another source that fits both equally joins neither (a toss-up) ...
    b = frame([report("B1", "2025-06-02 03:41")])
    result = match_reports({"a.csv": twins, "b.csv": b})
    assert result.events == 3 and len(result.possible) == 1
    # ... and one that fits one of them better joins that one only
    near = frame([report("A1", "2025-06-02 03:40"), report("A2", "2025-06-02 03:40", km_east=1.5)])
    result = match_reports({"a.csv": near, "b.csv": b})
    assert result.events == 2 and pairs_of(result) == {(0, 0)}


def test_competing_candidates_are_paired_one_to_one_for_the_best_total():
    # A1 fits B1 best, but taking that pair would leave A2 and B2 alone; the best total pairs
    # A1 with B2 and A2 with B1
    a = frame([report("A1", "2025-06-02 03:40"), report("A2", "2025-06-02 03:40", km_east=-1.0)])
    b = frame([report("B1", "2025-06-02 03:40"), report("B2", "2025-06-02 03:40", km_east=1.5)])
    result = match_reports({"a.csv": a, "b.csv": b})
    assert pairs_of(result) == {(0, 1), (1, 0)}
    assert result.events == 2


def test_interchangeable_candidates_are_left_apart_for_the_analyst():
    # two strikes on Kharkiv that night; the other source gives only "Kharkiv, that day"
    a = frame([report("A1", "2025-06-02 01:10", KHARKIV, km_east=-4, location="Kharkiv"),
               report("A2", "2025-06-02 03:20", KHARKIV, km_east=4, location="Kharkiv")])
    b = frame([report("B1", "2025-06-02", KHARKIV, geo="settlement", location="Kharkiv")])
    result = match_reports({"a.csv": a, "b.csv": b})
    assert result.groups == [] and result.events == 3
    assert len(result.possible) == 1
    maybe = result.possible[0]
    assert maybe.members[-1] == ("b.csv", 0)
    assert "another pairing fits almost as well" in maybe.reasons


def test_three_sources_build_one_group_per_strike():
    a = frame([report("A1", "2025-06-02 03:40", killed=2)])
    b = frame([report("B1", "2025-06-02 03:55", km_east=0.4, munition="ballistic missile", killed=4)])
    c = frame([report("C1", "2025-06-02", geo="settlement", munition=None, killed=3)])
    result = match_reports({"a.csv": a, "b.csv": b, "c.csv": c})
    assert result.events == 1
    (group,) = result.groups
    assert group.members == [("a.csv", 0), ("b.csv", 0), ("c.csv", 0)]
    assert len(group.reasons) == 2 and group.reasons[0].startswith("b.csv:B1: ")
    assert result.to_json()["groups"][0]["members"] == ["a.csv:A1", "b.csv:B1", "c.csv:C1"]


# ---------------------------------------------------------------------------------------- output


def test_json_output_has_exactly_the_documented_shape():
    a = frame([report("A1", "2025-06-02 03:40"), report("A2", "2025-06-03 03:40")])
    b = frame([report("B1", "2025-06-02 03:44")])
    result = match_reports({"/data/a.csv": a, "/data/b.csv": b})
    out = result.to_json({"/data/a.csv": "a.csv", "/data/b.csv": "b.csv"})
    assert set(out) == {"records", "events", "groups"}
    assert out["records"] == 3 and out["events"] == 2
    (group,) = out["groups"]
    assert set(group) == {"members", "confidence", "reasons"}
    assert group["members"] == ["a.csv:A1", "b.csv:B1"]
    assert 0 < group["confidence"] <= 1 and all(isinstance(r, str) and r for r in group["reasons"])
    json.dumps(out)  # plain JSON types


def test_merged_rows_keep_the_most_precise_report_and_casualty_ranges():
    a = frame([report("A1", "2025-06-02 03:40", geo="settlement", killed=2, injured=None),
               report("A2", "2025-06-05 03:40", killed=None, injured=None)])
    b = frame([report("B1", "2025-06-02", km_east=0.5, munition="ballistic missile", killed=4, injured=None),
               report("B2", "2025-06-09 03:40", killed=1, injured=3)])
    result = match_reports({"a.csv": a, "b.csv": b})
    merged = merge_reports({"a.csv": a, "b.csv": b}, result, names={"a.csv": "cir.csv"})
    assert len(merged) == result.events == 3
    row = merged.loc[result.strike["a.csv"][0]]
    assert row["reports"] == 2 and row["report_ids"] == "cir.csv:A1; b.csv:B1"
    assert row["time_precision"] == "exact" and row["occurred_at"] == a["occurred_at"].iloc[0]
    assert row["geo_precision"] == "exact" and row["geometry"].equals(b.geometry.iloc[0])
    assert row["munition"] == "KN-23" and row["munition_class"] == "ballistic missile"
    assert (row["killed_min"], row["killed_max"]) == (2, 4)
    assert pd.isna(row["injured_min"]) and pd.isna(row["injured_max"])  # missing stays missing
    assert 0 < row["confidence"] <= 1
    alone = merged.loc[result.strike["a.csv"][1]]
    assert alone["reports"] == 1 and pd.isna(alone["killed_max"]) and pd.isna(alone["confidence"])
    totals = casualty_totals(merged)
    assert (totals.killed_min, totals.killed_max, totals.killed_strikes) == (3, 5, 2)
    assert str(totals) == "killed 3-5, injured 3"
    assert CasualtyTotals.span(37, 41) == "37-41"


def test_merge_needs_the_frames_that_were_matched():
    a = frame([report("A1", "2025-06-02 03:40")])
    result = match_reports({"a.csv": a})
    with pytest.raises(DataError):
        merge_reports({"b.csv": a}, result)


# ---------------------------------------------------------------------------------------- decisions


@pytest.fixture
def two_sources():
    a = frame([report("A1", "2025-06-02 03:40"), report("A2", "2025-06-02 03:40", KHARKIV)])
    b = frame([report("B1", "2025-06-02 03:46", km_east=0.5), report("B2", "2025-06-02 04:10", KHARKIV, km_east=9)])
    return {"a.csv": a, "b.csv": b}


def test_decisions_are_applied_and_survive_saving(two_sources, tmp_path):
    plain = match_reports(two_sources)
    assert pairs_of(plain) == {(0, 0)}  # the Kharkiv reports are 9 km apart
    decisions = Decisions()
    decisions.confirm(plain.refs(plain.groups[0]))
    decisions.join([("a.csv", "A2")], [("b.csv", "B2")])
    path = decisions.save(tmp_path / "matches.json")
    again = Decisions.load(path)
    assert again == decisions
    result = match_reports(two_sources, decisions=again)
    assert pairs_of(result) == {(0, 0), (1, 1)}
    confirmed, joined = result.groups
    assert confirmed.confirmed and confirmed.confidence == 1.0 and confirmed.reasons == ["confirmed by the analyst"]
    assert not joined.confirmed and joined.reasons == ["joined by the analyst"]
    # re-imported: rows in another order, the decisions still name the same reports
    shuffled = {k: f.iloc[::-1] for k, f in two_sources.items()}
    assert pairs_of(match_reports(shuffled, decisions=again)) == {(0, 0), (1, 1)}


def test_a_split_keeps_reports_apart_and_a_later_join_undoes_it(two_sources):
    decisions = Decisions()
    decisions.split(("b.csv", "B1"), [("a.csv", "A1")])
    assert pairs_of(match_reports(two_sources, decisions=decisions)) == set()
    decisions.join([("a.csv", "A1"), ("b.csv", "B1")])
    assert pairs_of(match_reports(two_sources, decisions=decisions)) == {(0, 0)}
    decisions.split_group([("a.csv", "A1"), ("b.csv", "B1")])
    assert [d.action for d in decisions.items] == ["split"]
    assert pairs_of(match_reports(two_sources, decisions=decisions)) == set()


def test_decisions_naming_reports_that_are_gone_are_reported(two_sources):
    decisions = Decisions()
    decisions.confirm([("a.csv", "A1"), ("b.csv", "B1")])
    decisions.join([("a.csv", "A9")], [("b.csv", "B2")])
    decisions.split(("c.csv", "C1"), [("a.csv", "A2")])  # c.csv is not open: it applies when it is
    missing = decisions.missing(two_sources)
    assert [(m.decision, m.source, m.event_id) for m in missing] == [(1, "a.csv", "A9")]
    assert "a.csv:A9" in str(missing[0])
    # the rest still applies
    assert pairs_of(match_reports(two_sources, decisions=decisions)) == {(0, 0)}


def test_a_broken_decisions_file_is_a_data_error(tmp_path):
    path = tmp_path / "matches.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError, match="matches.json"):
        Decisions.load(path)
    path.write_text(json.dumps({"format": "mapviewer-match-decisions", "version": 1,
                                "decisions": [{"action": "merge", "reports": []}]}), encoding="utf-8")
    with pytest.raises(DataError, match="decision 1"):
        Decisions.load(path)
    assert len(Decisions.load(tmp_path / "none.json")) == 0


# ---------------------------------------------------------------------------------------- properties

_PLACES = [KYIV, KHARKIV]
_MUNITIONS = ["KN-23", "ballistic missile", "Shahed-136", None, "KN-23?", "Kh-101"]


@st.composite
def sources(draw, count=st.integers(2, 3)):
    """Small sources of reports on two cities over three nights (crowded, so that the rules decide)."""
    out = {}
    for s in range(draw(count)):
        rows = []
        for i in range(draw(st.integers(0, 6))):
            day = draw(st.integers(1, 3))
            precision = draw(st.sampled_from(["exact", "exact", "day", "month"]))
            minute = draw(st.integers(0, 6 * 60 - 1))
            when = f"2025-06-0{day} {minute // 60:02d}:{minute % 60:02d}" if precision == "exact" else f"2025-06-0{day}"
            rows.append(report(
                f"E{i}", when, draw(st.sampled_from(_PLACES)), km_east=draw(st.floats(-3, 3)),
                precision="month" if precision == "month" else None,
                geo=draw(st.sampled_from(["exact", "exact", "settlement"])),
                munition=draw(st.sampled_from(_MUNITIONS)),
                outcome=draw(st.sampled_from(["impact", "intercepted", None]))))
        out[f"s{s}.csv"] = frame(rows, f"s{s}.csv")
    return out


_CLASS = {"KN-23": "ballistic", "KN-23?": "ballistic", "ballistic missile": "ballistic", "Shahed-136": "drone",
          "Kh-101": "cruise"}


def _allowed(x: pd.Series, y: pd.Series) -> bool:
    """The matching rules for one pair, written out plainly."""
    if "month" in (x["time_precision"], y["time_precision"]):
        return False
    local = [r["occurred_at"].tz_convert("Europe/Kyiv") for r in (x, y)]
    if x["time_precision"] == y["time_precision"] == "day":
        timely = local[0].date() == local[1].date()
    elif x["time_precision"] == y["time_precision"] == "exact":
        timely = abs((local[0] - local[1]).total_seconds()) <= 2 * 3600
    else:
        day, exact = (local[0], local[1]) if x["time_precision"] == "day" else (local[1], local[0])
        timely = day - pd.Timedelta(hours=2) <= exact <= day + pd.Timedelta(hours=26)
    p, q = x.geometry, y.geometry
    km = 6371.0088 * 2 * math.asin(math.sqrt(
        math.sin(math.radians(q.y - p.y) / 2) ** 2
        + math.cos(math.radians(p.y)) * math.cos(math.radians(q.y)) * math.sin(math.radians(q.x - p.x) / 2) ** 2))
    near = km <= (2.0 if x["geo_precision"] == y["geo_precision"] == "exact" else 25.0)
    classes = {_CLASS[m] for m in (x["munition"], y["munition"]) if isinstance(m, str)}
    return timely and near and len(classes) <= 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sources(count=st.just(2)))
def test_every_match_obeys_the_rules(data):
    """Every pair put together passes the rules as a plain loop states them, and each report
    has at most one partner."""
    result = match_reports(data)
    (a, fa), (b, fb) = data.items()
    for i, j in pairs_of(result, a, b):
        assert _allowed(fa.iloc[i], fb.iloc[j]), (fa.iloc[i].to_dict(), fb.iloc[j].to_dict())
    for group in result.groups:
        assert len(group.members) == 2
    # nothing the rules allow is left over when it has no rival: a lone allowed pair is matched
    allowed = [(i, j) for i in range(len(fa)) for j in range(len(fb)) if _allowed(fa.iloc[i], fb.iloc[j])]
    for i, j in allowed:
        rivals = [(k, m) for k, m in allowed if (k == i) != (m == j)]
        if not rivals and fa.iloc[i]["geo_precision"] == fb.iloc[j]["geo_precision"] == "exact":
            assert (i, j) in pairs_of(result, a, b)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sources(count=st.just(3)))
def test_three_sources_give_a_partition_with_one_report_per_source(data):
    result = match_reports(data)
    ids = np.concatenate([result.strike[k] for k in data])
    assert result.records == len(ids) and result.events == len(np.unique(ids))
    assert set(np.unique(ids)) == set(range(result.events))
    for group in result.groups:
        keys = [k for k, _ in group.members]
        assert len(set(keys)) == len(keys) >= 2
        for key, pos in group.members:
            assert data[key].iloc[pos]["time_precision"] != "month"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["confirm", "join", "split"]),
                          st.lists(st.tuples(st.sampled_from(["a.csv", "b.csv", "c.csv"]),
                                             st.text(min_size=1, max_size=5)), min_size=2, max_size=4)),
                max_size=6))
def test_decisions_read_back_as_they_were_saved(tmp_path_factory, steps):
    decisions = Decisions()
    for action, refs in steps:
        refs = list(dict.fromkeys(refs))
        if len(refs) < 2:
            continue
        if action == "confirm":
            decisions.confirm(refs)
        elif action == "join":
            decisions.join(refs[:1], refs[1:])
        else:
            decisions.split(refs[0], refs[1:])
    path = tmp_path_factory.mktemp("decisions") / "matches.json"
    assert Decisions.load(decisions.save(path)) == decisions


def test_no_reports_and_empty_sources_give_empty_results():
    result = match_reports({})
    assert result.to_json() == {"records": 0, "events": 0, "groups": []}
    a = frame([report("A1", "2025-06-02 03:40")])
    empty = a.iloc[:0]
    result = match_reports({"a.csv": empty, "b.csv": a})
    assert (result.records, result.events, result.groups) == (1, 1, [])
    assert len(merge_reports({"a.csv": empty, "b.csv": a}, result)) == 1
