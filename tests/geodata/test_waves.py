"""Attack waves: the waves table, filters on it, and the funnel joined with geolocated events."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from geodata import FilterState, LoadReport
from geodata.normalize import build_frame
from geodata.schema import MUNITION_CLASS_DTYPE, OUTCOME_DTYPE, TIME_PRECISION_DTYPE
from geodata.waves import read_waves, target_counts, unplaced_launches, wave_funnel, wave_mask

HEADER = ("time_start,time_end,model,launch_place,target,target_main,carrier,launched,destroyed,"
          "not_reach_goal,still_attacking,border_crossing,is_shahed,affected region,source")
ROWS = [
    # 2: the overnight drone wave
    "2025-06-01 19:00,2025-06-02 09:00,Shahed-136/131,Kursk oblast and Bryansk oblast and Primorsko-Akhtarsk,"
    "Kyiv oblast,Kyiv,,57.0,53.0,,,,1.0,Kyiv oblast,https://example.org/1",
    # 3: the ballistic missiles of the same night
    "2025-06-01  23:30 ,2025-06-02 05:00,KN-23,Kursk oblast,Kyiv,Kyiv,,4.0,0.0,,,,0.0,,https://example.org/1",
    # 4: cruise missiles aimed at a macro-region, date only
    "2025-06-03,2025-06-03,X-101/X-555,Caspian Sea,south,,Tu-95MS,10,8,1,,,0,,https://example.org/2",
    # 5: inconsistent counts, a target with a raion
    "2025-06-04 01:00,2025-06-04 06:00,Iskander-M,Belgorod oblast,\"Dnipropetrovsk oblast, Kryvyi Rih Raion\","
    ",,2,3,,,,0,,x",
    # 6: a model the catalogue does not know, a target nobody can place
    "2025-06-05,2025-06-05,Orlan-10,Kursk oblast,Zzyzx Nowhere,,,1,1,,,,0,,x",
    # 7: rejected: mistyped year
    "2202-06-03,2025-06-03,Kalibr,Black Sea,Odesa oblast,,,6,5,,,,0,,x",
]


@pytest.fixture
def waves_path(tmp_path: Path) -> Path:
    path = tmp_path / "missile_attacks_daily.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def waves(waves_path: Path) -> pd.DataFrame:
    return read_waves(waves_path).frame


def _events() -> pd.DataFrame:
    raw = pd.DataFrame({
        "event_id": ["e1", "e2", "e3", "e4", "e5", "e6", "e7"],
        "occurred_at": ["2025-06-02 02:10", "2025-06-02 03:00", "2025-06-04", "2025-06-02",
                        "2025-06-01 21:00", "2025-06-03 14:00", "2025-06-03"],
        "latitude": [50.35, 50.40, 50.45, 50.30, 50.50, 46.48, 46.47],
        "longitude": [30.40, 30.60, 30.52, 30.30, 30.70, 30.72, 30.73],
        "munition": ["KN-23", "KN-23", "KN-23", "Shahed-136", "Geran-1", "Kh-101", "Kalibr"],
        "outcome": ["impact", "deviated", "impact", "impact", "debris", "impact", "impact"],
        "geo_precision": ["exact"] * 7,
    })
    return build_frame(raw, LoadReport("events.csv", "csv"), rows=range(2, 9), tz="Europe/Kyiv")


def test_every_row_accounted_for(waves_path: Path) -> None:
    result = read_waves(waves_path)
    report = result.report
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (6, 5, 1)
    assert list(result.frame.index) == [2, 3, 4, 5, 6]
    assert any(p.row == 7 and p.column == "time_start" and "2202" in p.message for p in report.errors)


def test_models_resolve_to_catalogue_names(waves: pd.DataFrame, waves_path: Path) -> None:
    assert waves.loc[2, "munition"] == "Shahed-136 / Shahed-131"
    assert waves.loc[2, "munition_names"] == ("Shahed-136", "Shahed-131")
    assert waves.loc[2, "munition_class"] == "loitering munition"
    assert waves.loc[3, "munition"] == "KN-23"
    assert waves.loc[3, "munition_class"] == "ballistic missile"
    assert waves.loc[4, "munition"] == "Kh-101 / Kh-555"
    assert waves.loc[4, "munition_class"] == "cruise missile"
    assert waves.loc[6, "munition"] == "Orlan-10"  # unknown: verbatim, class unknown, reported
    assert waves.loc[6, "munition_class"] == "unknown"
    report = read_waves(waves_path).report
    assert any(p.row == 6 and p.column == "model" and "Orlan-10" in p.message for p in report.warnings)


def test_model_names_with_a_latin_x_resolve(tmp_path: Path) -> None:
    models = ["X-47 Kinzhal", "Kh-47 Kinzhal", "X-47", "X-101/X-555/X-55", "X-22", "X-59", "X-69", "X-31P",
              "X-47M2"]
    path = tmp_path / "waves.csv"
    path.write_text("\n".join([HEADER] + [f"2025-06-03,2025-06-03,{m},Caspian Sea,south,,,2,1,,,,0,,x"
                                           for m in models]) + "\n", encoding="utf-8")
    result = read_waves(path)
    assert list(result.frame["munition"]) == [
        "Kh-47M2 Kinzhal", "Kh-47M2 Kinzhal", "Kh-47M2 Kinzhal", "Kh-101 / Kh-555 / Kh-55", "Kh-22", "Kh-59",
        "Kh-69", "Kh-31P", "Kh-47M2 Kinzhal"]
    assert result.frame.loc[5, "munition_class"] == "cruise missile"
    assert not [p for p in result.report.problems if p.column == "model"]


def test_known_parts_of_a_model_are_kept_and_only_the_unknown_part_reported(tmp_path: Path) -> None:
    path = tmp_path / "waves.csv"
    path.write_text(HEADER + "\n2025-06-03,2025-06-03,X-101/X-555/Zircon-X9,Caspian Sea,south,,,10,8,1,,,0,,x\n",
                    encoding="utf-8")
    result = read_waves(path)
    wave = result.frame.loc[2]
    assert wave["munition"] == "Kh-101 / Kh-555 / Zircon-X9"  # the unknown part stays visible
    assert wave["munition_names"] == ("Kh-101", "Kh-555")
    assert wave["munition_class"] == "cruise missile"
    [problem] = [p for p in result.report.problems if p.column == "model"]
    assert "'Zircon-X9'" in problem.message and "X-101" not in problem.message.split("of")[0]
    # the known parts still select the wave and join geolocated events
    assert wave_mask(result.frame, FilterState(munitions={"Kh-555"})).tolist() == [True]


def test_counts_and_impacts(waves: pd.DataFrame, waves_path: Path) -> None:
    assert waves.loc[2, ["launched", "intercepted"]].tolist() == [57, 53]
    assert waves.loc[2, "impact"] == 4  # empty not_reach_goal counts as none
    assert waves.loc[4, "impact"] == 1  # 10 - 8 - 1
    assert pd.isna(waves.loc[5, "impact"])  # 2 launched, 3 destroyed: never negative
    report = read_waves(waves_path).report
    assert any(p.row == 5 and "inconsistent counts" in p.message for p in report.warnings)


def test_launch_places_split_on_and(waves: pd.DataFrame) -> None:
    assert waves.loc[2, "launch_places"] == ("Kursk oblast", "Bryansk oblast", "Primorsko-Akhtarsk")
    assert waves.loc[3, "launch_places"] == ("Kursk oblast",)


def test_launch_places_resolve_through_the_gazetteer_and_unknown_ones_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "waves.csv"
    path.write_text("\n".join([HEADER, ROWS[0], ROWS[2],
                               "2025-06-05,2025-06-05,Shahed-136,Kursk and Atlantis,Sumy oblast,,,3,3,,,,1,,x"])
                    + "\n", encoding="utf-8")
    result = read_waves(path)
    waves, report = result.frame, result.report
    assert waves.loc[2, "launch_areas"] == ("Kursk", "Bryansk", "Primorsko-Akhtarsk")
    assert waves.loc[2, "launch_unresolved"] == ()
    assert waves.loc[3, "launch_areas"] == ("Caspian Sea",)
    assert waves.loc[4, "launch_areas"] == ("Kursk",)
    assert waves.loc[4, "launch_unresolved"] == ("Atlantis",)
    launch_problems = [p for p in report.problems if p.column == "launch_place"]
    assert [(p.row, p.severity) for p in launch_problems] == [(4, "warning")]
    assert "Atlantis" in launch_problems[0].message


def test_wave_time_columns_let_the_usual_filter_work(waves: pd.DataFrame) -> None:
    # A date range keeps the waves whose window overlaps it (Kyiv dates): the night of 1-2 June
    # is on 2 June as well as on 1 June.
    only_2_june = FilterState(start=dt.date(2025, 6, 2), end=dt.date(2025, 6, 2))
    assert list(waves.index[wave_mask(waves, only_2_june)]) == [2, 3]
    only_3_june = FilterState(start=dt.date(2025, 6, 3), end=dt.date(2025, 6, 3))
    assert list(waves.index[wave_mask(waves, only_3_june)]) == [4]
    # a time range inside the night keeps the waves in the air then
    at_2am = FilterState(start=dt.datetime(2025, 6, 2, 2, 0), end=dt.datetime(2025, 6, 2, 2, 30))
    assert list(waves.index[wave_mask(waves, at_2am)]) == [2, 3]
    after = FilterState(start=dt.datetime(2025, 6, 2, 9, 1), end=dt.datetime(2025, 6, 2, 23, 0))
    assert list(waves.index[wave_mask(waves, after)]) == []
    assert list(waves.index[FilterState(munitions={"KN-23"}).mask(waves)]) == [3]
    # a wave of two munitions is kept when either is chosen
    assert list(waves.index[wave_mask(waves, FilterState(munitions={"Shahed-131"}))]) == [2]
    assert list(waves.index[wave_mask(waves, FilterState(munition_classes={"cruise missile"}))]) == [4]


def test_still_attacking_drones_are_not_impacts(tmp_path: Path) -> None:
    path = tmp_path / "waves.csv"
    rows = ["2025-06-01 19:00,2025-06-02 09:00,Shahed-136,Kursk oblast,Kyiv oblast,,,57,40,2,10,,1,,x",
            "2025-06-02 19:00,2025-06-03 09:00,Shahed-136,Kursk oblast,Kyiv oblast,,,20,15,,8,,1,,x"]
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    result = read_waves(path)
    waves = result.frame
    assert waves.loc[2, "impact"] == 5  # 57 - 40 destroyed - 2 did not reach - 10 still in the air
    assert pd.isna(waves.loc[3, "impact"])  # 15 + 8 exceed 20
    assert any(p.row == 3 and "still attacking 8" in p.message for p in result.report.warnings)
    funnel = wave_funnel(waves)
    assert funnel.loc["Shahed-136", "still_attacking"] == 18
    assert funnel.loc["Shahed-136", "impacts"] == 5


def test_funnel_per_munition_with_geolocated_events(waves: pd.DataFrame) -> None:
    events = _events()
    funnel = wave_funnel(waves, events, FilterState())
    shahed = funnel.loc["Shahed-136 / Shahed-131"]
    assert (shahed["launched"], shahed["intercepted"], shahed["not_reached"], shahed["impacts"]) == (57, 53, 0, 4)
    # e4 (Shahed-136, day precision, 2 June overlaps the night) and e5 (Geran-1 = Shahed-131, 21:00)
    assert shahed["geolocated"] == 2
    assert shahed["geolocated_impacts"] == 1
    kn23 = funnel.loc["KN-23"]
    assert (kn23["launched"], kn23["intercepted"], kn23["impacts"]) == (4, 0, 4)
    assert kn23["geolocated"] == 2  # e1, e2 in the window; e3 is two days later
    assert kn23["geolocated_impacts"] == 1
    assert funnel.loc["Kh-101 / Kh-555", "geolocated"] == 1  # e6; e7 (Kalibr) has no wave
    assert "3M-14 Kalibr" not in funnel.index  # its only wave was rejected
    assert list(funnel.index[:2]) == ["Shahed-136 / Shahed-131", "Kh-101 / Kh-555"]  # most launched first


def test_funnel_follows_the_filter(waves: pd.DataFrame) -> None:
    events = _events()
    funnel = wave_funnel(waves, events, FilterState(munitions={"KN-23"}))
    assert list(funnel.index) == ["KN-23"]
    night = FilterState(start=dt.datetime(2025, 6, 1, 18, 0), end=dt.datetime(2025, 6, 2, 8, 0))
    assert set(wave_funnel(waves, events, night).index) == {"Shahed-136 / Shahed-131", "KN-23"}
    # the outcome filter narrows the events joined, not the waves
    impacts_only = wave_funnel(waves, events, FilterState(outcomes={"impact"}))
    assert impacts_only.loc["KN-23", "launched"] == 4
    assert impacts_only.loc["KN-23", "geolocated"] == 1


# The night of user story 1: drones from 29 Sep 22:00 to 30 Sep 07:00 (Kyiv), four KN-23 at 02:00.
STORY_ROWS = [
    "2025-09-29 22:00,2025-09-30 07:00,Shahed-136/Gerbera,Kursk and Primorsko-Akhtarsk,Kyiv; Kyiv oblast,Kyiv,,"
    "57,53,,,,1,,x",
    "2025-09-30 02:00,2025-09-30 03:00,KN-23,Kursk oblast,Kyiv oblast,,,4,0,,,,0,,x",
]
# (Kyiv time, munition, outcome): two drone events before midnight, the rest after
STORY_EVENTS = [("2025-09-29 23:10", "Shahed-136", "impact"), ("2025-09-29 23:40", "Shahed-136", "intercepted"),
                ("2025-09-30 03:05", "Shahed-136", "impact"), ("2025-09-30 04:20", "Shahed-136", "intercepted"),
                ("2025-09-30 02:14", "KN-23", "impact"), ("2025-09-30 02:15", "KN-23", "deviated")]


def _story(tmp_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    path = tmp_path / "story.csv"
    path.write_text("\n".join([HEADER, *STORY_ROWS]) + "\n", encoding="utf-8")
    raw = pd.DataFrame({"event_id": [f"s{i}" for i in range(len(STORY_EVENTS))],
                        "occurred_at": [e[0] for e in STORY_EVENTS], "latitude": [50.4] * len(STORY_EVENTS),
                        "longitude": [30.5] * len(STORY_EVENTS), "munition": [e[1] for e in STORY_EVENTS],
                        "outcome": [e[2] for e in STORY_EVENTS], "geo_precision": ["exact"] * len(STORY_EVENTS)})
    events = build_frame(raw, LoadReport("events.csv", "csv"), rows=range(2, 2 + len(STORY_EVENTS)),
                         tz="Europe/Kyiv")
    return read_waves(path).frame, events


@pytest.mark.parametrize("day", [dt.date(2025, 9, 29), dt.date(2025, 9, 30)])
def test_a_night_wave_belongs_to_both_days_with_its_whole_window(tmp_path: Path, day: dt.date) -> None:
    waves, events = _story(tmp_path)
    one_day = FilterState(start=day, end=day)
    assert wave_mask(waves, one_day).tolist() == [True, day == dt.date(2025, 9, 30)]
    funnel = wave_funnel(waves, events, one_day)
    drones = funnel.loc["Shahed-136 / Gerbera"]
    assert (drones["launched"], drones["intercepted"], drones["impacts"]) == (57, 53, 4)
    # every geolocated drone event of the night counts, on either side of midnight
    assert (drones["geolocated"], drones["geolocated_impacts"]) == (4, 2)
    assert target_counts(waves, one_day)["Kyiv Oblast"] >= 57
    assert target_counts(waves, one_day)["Kyiv"] == 57
    # the other filters still narrow the events joined
    impacts = wave_funnel(waves, events, one_day.replace(outcomes={"impact"}))
    assert impacts.loc["Shahed-136 / Gerbera", "geolocated"] == 2


def test_funnel_of_nothing_is_empty(waves: pd.DataFrame) -> None:
    none = wave_funnel(waves, _events(), FilterState(start=dt.date(2030, 1, 1)))
    assert none.empty


def test_funnel_geolocated_equals_a_plain_loop(waves: pd.DataFrame) -> None:
    events = _events()
    funnel = wave_funnel(waves, events)
    for munition, row in funnel.iterrows():
        group = waves[waves["munition"] == munition]
        count = 0
        for _, ev in events.iterrows():
            span_end = ev.occurred_at + (pd.Timedelta(days=1) - pd.Timedelta(1) if ev.time_precision == "day"
                                         else pd.Timedelta(0))
            if any(ev.munition in w.munition_names and ev.occurred_at <= w.time_end and span_end >= w.occurred_at
                   for w in group.itertuples()):
                count += 1
        assert row["geolocated"] == count, munition


def test_targets_resolve_to_oblasts_through_the_gazetteer(waves: pd.DataFrame, waves_path: Path) -> None:
    assert waves.loc[2, "target_admin1"] == ("Kyiv Oblast",)
    assert "Kherson Oblast" in waves.loc[4, "target_admin1"]  # "south" stands for the southern oblasts
    assert "Kyiv Oblast" not in waves.loc[4, "target_admin1"]
    assert waves.loc[5, "target_admin1"] == ("Dnipropetrovsk Oblast",)  # "..., Kryvyi Rih Raion"
    # a name nobody can place is kept and reported, never guessed
    assert waves.loc[6, "target_admin1"] == ()
    assert waves.loc[6, "target_unresolved"] == ("Zzyzx Nowhere",)
    report = read_waves(waves_path).report
    assert any(p.row == 6 and p.column == "target" and "Zzyzx Nowhere" in p.message for p in report.warnings)


def test_target_lists_compass_regions_and_city_spellings(tmp_path: Path) -> None:
    targets = ["Kharkiv, Sumy, Chernihiv oblasts", "south-east", "Vinnitsa", "Khmelnitsky", "Ukraine",
               "Kharkiv", "Vinnytsia region"]
    path = tmp_path / "waves.csv"
    path.write_text("\n".join([HEADER] + [f"2025-06-03,2025-06-03,Shahed-136,Kursk,\"{t}\",,,10,8,,,,1,,x"
                                           for t in targets]) + "\n", encoding="utf-8")
    result = read_waves(path)
    waves = result.frame
    assert waves.loc[2, "target_admin1"] == ("Kharkiv Oblast", "Sumy Oblast", "Chernihiv Oblast")
    assert set(waves.loc[3, "target_admin1"]) == {"Dnipropetrovsk Oblast", "Zaporizhzhia Oblast", "Donetsk Oblast"}
    # a bare city spelling in a target list is the oblast (target lists name regions)
    assert waves.loc[4, "target_places"] == ("Vinnytsia Oblast",)
    assert waves.loc[5, "target_places"] == ("Khmelnytskyi Oblast",)
    assert waves.loc[7, "target_places"] == ("Kharkiv Oblast",)
    assert waves.loc[8, "target_places"] == ("Vinnytsia Oblast",)
    # "Ukraine" names no oblast: its launches are counted apart
    assert waves.loc[6, "target_admin1"] == ()
    assert not [p for p in result.report.problems if p.column == "target"]
    assert unplaced_launches(waves) == 10
    assert unplaced_launches(waves, FilterState(start=dt.date(2025, 7, 1))) == 0


def test_target_counts_for_oblast_shading(waves: pd.DataFrame) -> None:
    counts = target_counts(waves, FilterState(start=dt.date(2025, 6, 1), end=dt.date(2025, 6, 2)))
    assert counts["Kyiv Oblast"] == 57
    assert "Kherson Oblast" not in counts  # the 3 June wave is outside the range
    assert target_counts(waves)["Kherson Oblast"] == 10


def test_inspect_reports_a_waves_file_as_waves(waves_path: Path, capsys) -> None:
    import json

    from geodata import read_incidents
    from geodata.errors import DataError
    from geodata.readers import detect_format
    from mapviewer.cli.main import main

    assert detect_format(waves_path) == "airforce_waves"
    with pytest.raises(DataError, match="attack-waves file.*open it as waves"):
        read_incidents(waves_path)
    assert main(["inspect", str(waves_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["format"] == "airforce_waves"
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_rejected"]) == (6, 5, 1)
    assert summary["counts"]["launched"]["Shahed-136 / Shahed-131"] == 57


@pytest.fixture(scope="module")
def module_waves(tmp_path_factory) -> pd.DataFrame:
    path = tmp_path_factory.mktemp("waves") / "missile_attacks_daily.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    return read_waves(path).frame


_NAMES = ["KN-23", "Shahed-136", "Shahed-131", "Kh-101", "Kh-555", "9M723 Iskander-M", "Orlan-10", "Grad"]
_CLASSES = ["ballistic missile", "cruise missile", "loitering munition", "unknown"]


@settings(max_examples=60, deadline=None)
@given(
    start=st.none() | st.dates(dt.date(2025, 5, 31), dt.date(2025, 6, 6)),
    days=st.integers(0, 4),
    munitions=st.none() | st.sets(st.sampled_from(_NAMES), max_size=3),
    classes=st.none() | st.sets(st.sampled_from(_CLASSES), max_size=2),
)
def test_wave_mask_equals_a_plain_loop(module_waves, start, days, munitions, classes) -> None:
    end = start + dt.timedelta(days=days) if start else None
    state = FilterState(start=start, end=end, munitions=munitions, munition_classes=classes)
    expected = []
    for wave in module_waves.itertuples():
        first = wave.occurred_at.tz_convert("Europe/Kyiv").date()
        last = wave.time_end.tz_convert("Europe/Kyiv").date()
        ok = start is None or (first <= end and last >= start)  # the window overlaps the range
        ok = ok and (munitions is None or bool(set(wave.munition_names) & munitions) or wave.munition in munitions)
        ok = ok and (classes is None or wave.munition_class in classes)
        expected.append(ok)
    assert wave_mask(module_waves, state).tolist() == expected


# -- the funnel's window join against a plain loop, on random waves and events ---------------------

_T0 = pd.Timestamp("2025-06-01 00:00", tz="UTC")
# (munition, canonical names) of random waves: several munitions in one wave, and one the catalogue lacks
_WAVE_KINDS = [("Shahed-136 / Shahed-131", ("Shahed-136", "Shahed-131")), ("Shahed-136", ("Shahed-136",)),
               ("KN-23", ("KN-23",)), ("Orlan-10", ())]
# Times on a half-hour grid over three days, so windows overlap, events fall in them and on their
# edges; now and then missing (None).
_minutes = st.integers(-1, 3 * 48).map(lambda m: None if m < 0 else 30 * m)
_lengths = st.integers(-3, 60).map(lambda m: None if m < -2 else 30 * m)  # a window may end before it starts
_random_waves = st.lists(st.tuples(st.sampled_from(_WAVE_KINDS), _minutes, _lengths), min_size=1, max_size=8)
_random_events = st.lists(st.tuples(st.sampled_from(["Shahed-136", "Shahed-131", "KN-23", "Kh-101"]),  # Kh-101: no wave
                                    _minutes, st.sampled_from(["exact", "day", "month"]),
                                    st.sampled_from(["impact", "intercepted", "unknown"])), min_size=1, max_size=60)
_random_filters = st.sampled_from([None, FilterState(), FilterState(outcomes={"impact"}),
                                   FilterState(munitions={"Shahed-131", "KN-23"}),
                                   FilterState(start=dt.date(2025, 6, 2), end=dt.date(2025, 6, 3))])


def _at(minutes: int | None) -> pd.Timestamp:
    return pd.NaT if minutes is None else _T0 + pd.Timedelta(minutes=minutes)


def _waves_table(rows: list) -> pd.DataFrame:
    """A waves table with the columns the funnel reads: (kind, start minute, length in minutes) per wave
    (a wave with no start ends ``length`` after 1 June noon)."""
    starts = [_at(start) for _, start, _ in rows]
    ends = [None if length is None else _at((720 if start is None else start) + length) for _, start, length in rows]
    return pd.DataFrame({
        "occurred_at": pd.Series(starts, dtype="datetime64[ns, UTC]"),
        "time_end": pd.Series(ends, dtype="datetime64[ns, UTC]"),
        "munition": [kind[0] for kind, _, _ in rows],
        "munition_names": [kind[1] for kind, _, _ in rows],
        "munition_class": pd.Categorical(["unknown"] * len(rows), dtype=MUNITION_CLASS_DTYPE),
        "launched": pd.array([10] * len(rows), dtype="Int64"),
        "intercepted": pd.array([7] * len(rows), dtype="Int64"),
        "not_reached": pd.array([1] * len(rows), dtype="Int64"),
        "impact": pd.array([2] * len(rows), dtype="Int64"),
    })


def _events_table(rows: list) -> pd.DataFrame:
    """Events with the columns the funnel and filter read: (munition, minute, precision, outcome) each."""
    return pd.DataFrame({
        "occurred_at": pd.Series([_at(m) for _, m, _, _ in rows], dtype="datetime64[ns, UTC]"),
        "time_precision": pd.Categorical([p for _, _, p, _ in rows], dtype=TIME_PRECISION_DTYPE),
        "munition": pd.Series([m for m, _, _, _ in rows], dtype="str"),
        "outcome": pd.Categorical([o for _, _, _, o in rows], dtype=OUTCOME_DTYPE),
    })


@settings(max_examples=300, deadline=None)
@given(wave_rows=_random_waves, event_rows=_random_events, state=_random_filters)
# The day-overlap edge: a window from 2 June 00:00; an event dated (day precision) 1 June 00:00 ends just
# before it, one dated 1 June 00:30 overlaps it by half an hour.
@example(wave_rows=[(_WAVE_KINDS[2], 24 * 60, 60)], state=None,
         event_rows=[("KN-23", 0, "day", "impact"), ("KN-23", 30, "day", "impact")])
def test_funnel_window_join_equals_a_plain_loop(wave_rows, event_rows, state) -> None:
    waves, events = _waves_table(wave_rows), _events_table(event_rows)
    funnel = wave_funnel(waves, events, state)
    chosen = waves[wave_mask(waves, state)]
    assert set(funnel.index) == set(chosen["munition"])
    # the date range picks waves; their whole windows count (other filters still narrow the events)
    kept = events[state.mask(events, skip="date")] if state is not None else events
    day = pd.Timedelta(days=1) - pd.Timedelta(1)  # a day-precision event spans its whole day
    for munition, row in funnel.iterrows():
        group = list(chosen[chosen["munition"] == munition].itertuples())
        names = {n for w in group for n in w.munition_names}
        found = impacts = 0
        for ev in kept.itertuples():  # each event counts once, however many windows it is in
            if ev.munition not in names or pd.isna(ev.occurred_at) or ev.time_precision == "month":
                continue
            ev_end = ev.occurred_at + (day if ev.time_precision == "day" else pd.Timedelta(0))
            if any(pd.notna(w.occurred_at) and pd.notna(w.time_end)
                   and ev.occurred_at <= w.time_end and ev_end >= w.occurred_at for w in group):
                found += 1
                impacts += ev.outcome == "impact"
        assert (row["geolocated"], row["geolocated_impacts"]) == (found, impacts), munition
