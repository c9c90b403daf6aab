"""Summary statistics: counts, rates over known outcomes, casualty totals, date span."""
from __future__ import annotations

import datetime as dt
import json
import math

import geopandas as gpd
import pandas as pd
import pytest

from geodata.sample import make_sample
from geodata.schema import MUNITION_CLASS_DTYPE, MUNITION_CLASSES, OUTCOME_DTYPE, OUTCOMES
from geodata.stats import repeated_events, summarize


def frame(rows: list[tuple]) -> gpd.GeoDataFrame:
    """(UTC time text, munition, class, outcome, killed, injured) rows as a canonical-enough frame."""
    times, munitions, classes, outcomes, killed, injured = zip(*rows) if rows else ([],) * 6
    return gpd.GeoDataFrame(
        {
            "occurred_at": pd.to_datetime(list(times), utc=True),
            "munition": pd.array(list(munitions), dtype="string"),
            "munition_class": pd.Categorical(list(classes), dtype=MUNITION_CLASS_DTYPE),
            "outcome": pd.Categorical(list(outcomes), dtype=OUTCOME_DTYPE),
            "killed": pd.array(list(killed), dtype="Int64"),
            "injured": pd.array(list(injured), dtype="Int64"),
        },
        geometry=gpd.points_from_xy([30.5] * len(times), [50.4] * len(times)),
        crs="EPSG:4326",
    )


BM, LM = "ballistic missile", "loitering munition"
ROWS = [
    ("2025-06-01T22:30:00Z", "KN-23", BM, "impact", 2, 5),  # 01:30 on 2 June in Kyiv
    ("2025-06-01T22:31:00Z", "KN-23", BM, "deviated", 0, None),
    ("2025-06-01T22:32:00Z", "KN-23", BM, "intercepted", None, None),
    ("2025-06-01T22:33:00Z", "KN-23", BM, "unknown", 0, 0),
    ("2025-06-02T01:00:00Z", "Shahed-136", LM, "intercepted", 0, 1),
    ("2025-06-02T01:05:00Z", "Shahed-136", LM, "intercepted", 0, 0),
    ("2025-06-02T01:06:00Z", "Shahed-136", LM, "debris", 1, 3),
    ("2025-05-20T10:00:00Z", "Lancet", LM, "unknown", 0, 0),
]


def test_counts_list_every_outcome_and_class():
    s = summarize(frame(ROWS))
    assert s.total == 8
    assert s.by_munition == {"KN-23": 4, "Shahed-136": 3, "Lancet": 1}  # most frequent first
    assert list(s.by_outcome) == list(OUTCOMES)
    assert s.by_outcome == {"impact": 1, "intercepted": 3, "deviated": 1, "debris": 1, "unknown": 2}
    assert list(s.by_class) == list(MUNITION_CLASSES)
    assert s.by_class[BM] == 4 and s.by_class[LM] == 4 and s.by_class["guided bomb"] == 0
    assert s.outcomes_by_munition["KN-23"] == {"impact": 1, "intercepted": 1, "deviated": 1, "debris": 0, "unknown": 1}


def test_rates_are_over_known_outcomes_only():
    s = summarize(frame(ROWS))
    assert s.known_outcome == {"KN-23": 3, "Shahed-136": 3, "Lancet": 0}
    assert s.interception_rate["KN-23"] == pytest.approx(1 / 3)
    assert s.deviation_rate["KN-23"] == pytest.approx(1 / 3)
    assert s.interception_rate["Shahed-136"] == pytest.approx(2 / 3)
    assert s.interception_rate["Lancet"] is None and s.deviation_rate["Lancet"] is None


def test_missing_casualty_figures_are_not_zeros():
    s = summarize(frame(ROWS))
    assert (s.killed, s.injured) == (3, 9)
    assert s.killed_reported == 7  # one event gave no killed figure
    assert s.injured_reported == 6


def test_date_span_in_utc_and_working_days():
    s = summarize(frame(ROWS))
    assert s.date_min == pd.Timestamp("2025-05-20T10:00:00Z")
    assert s.date_max == pd.Timestamp("2025-06-02T01:06:00Z")
    assert s.first_day == dt.date(2025, 5, 20)
    # 22:30 UTC on 1 June is 01:30 on 2 June in Kyiv
    assert summarize(frame(ROWS[:1])).first_day == dt.date(2025, 6, 2)


def test_empty_frame():
    s = summarize(frame([]))
    assert s.total == 0 and s.by_munition == {} and s.interception_rate == {}
    assert s.by_outcome == dict.fromkeys(OUTCOMES, 0)
    assert s.killed == 0 and s.killed_reported == 0
    assert s.date_min is None and s.first_day is None


def test_plain_text_outcomes_and_missing_munition():
    f = frame(ROWS)
    f["outcome"] = f["outcome"].astype(str)  # not categorical
    f.loc[f.index[-1], "munition"] = pd.NA
    s = summarize(f)
    assert s.by_outcome["intercepted"] == 3
    assert s.by_munition["(none)"] == 1


def test_to_dict_is_json_ready():
    d = json.loads(json.dumps(summarize(frame(ROWS)).to_dict()))
    assert d["counts"]["outcome"]["intercepted"] == 3
    assert d["date_max"] == "2025-06-02T01:06:00Z"
    assert d["interception_rate"]["Lancet"] is None


def test_matches_a_plain_loop_on_the_sample():
    sample = make_sample(seed=11, n=2000)
    s = summarize(sample)
    by_munition: dict[str, int] = {}
    by_pair: dict[tuple[str, str], int] = {}
    killed = killed_reported = 0
    for munition, outcome, k in zip(sample["munition"], sample["outcome"], sample["killed"]):
        by_munition[munition] = by_munition.get(munition, 0) + 1
        by_pair[munition, outcome] = by_pair.get((munition, outcome), 0) + 1
        if k is not pd.NA:
            killed += k
            killed_reported += 1
    assert s.by_munition == by_munition
    for m in by_munition:
        known = by_munition[m] - by_pair.get((m, "unknown"), 0)
        expected = by_pair.get((m, "intercepted"), 0) / known if known else None
        got = s.interception_rate[m]
        assert (got is None and expected is None) or math.isclose(got, expected)
    assert (s.killed, s.killed_reported) == (killed, killed_reported)


def test_the_kyiv_night_summary():
    sample = make_sample()
    night = sample[sample["occurred_at"] >= pd.Timestamp("2025-09-29T15:00:00Z")]
    s = summarize(night)
    assert s.interception_rate["Shahed-136"] == pytest.approx(53 / 57)
    assert s.deviation_rate["KN-23"] == pytest.approx(1 / 4)
    assert s.killed == 2


def test_repeated_events_are_those_of_another_file_with_the_same_id_and_time():
    times = pd.to_datetime(["2025-09-29T22:40Z", "2025-09-29T22:41Z", "2025-09-29T22:40Z",
                            "2025-09-29T22:45Z", "2025-09-29T22:41Z", None, None], utc=True)
    frame = pd.DataFrame({
        "event_id": pd.array(["N-1", "N-2", "N-1", "N-1", "N-2", "N-3", "N-3"], dtype="string"),
        "occurred_at": times,
        "dataset": ["a.csv", "a.csv", "b.csv", "b.csv", "a.csv", "a.csv", "b.csv"],
    })
    # b's N-1 at 22:40 is a's N-1 seen twice; b's N-1 at 22:45 is another event; a's second N-2 is the
    # same file's business (its own duplicate check); N-3 has no time, so nothing can be said
    groups = repeated_events(frame).tolist()
    assert groups[0] == groups[2] >= 0 and groups[1] == groups[4] == -1 and groups[3] == groups[5] == groups[6] == -1
    assert (repeated_events(frame.assign(dataset="a.csv")) == -1).all()  # one file: nothing across files
