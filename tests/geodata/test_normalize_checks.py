"""The generic row checks every reader shares: outcomes, swapped and missing coordinates,
combined coordinate columns, duplicate ids, implausible dates and counts, munition messages."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from geodata import read_incidents

HEADER = "event_id,occurred_at,latitude,longitude,munition,outcome,killed,injured,location\n"


def write(tmp_path: Path, text: str, name: str = "events.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def said(result, column: str, severity: str = "warning") -> dict[int, str]:
    return {p.row: p.message for p in result.report.problems if p.column == column and p.severity == severity}


# --- 1. outcomes: a failed interception is never read as intercepted ----------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("failed to intercept", "unknown"),
        ("hit after interception attempt", "impact"),
        ("not intercepted", "unknown"),
        ("не збито", "unknown"),
        ("не перехоплено", "unknown"),
        ("could not be shot down", "unknown"),
        ("не вдалося збити", "unknown"),
        ("не сбит", "unknown"),
        ("interception failed", "unknown"),
        ("was not intercepted, hit a school", "impact"),
    ],
)
def test_failed_or_negated_interception_is_not_intercepted_and_is_said(
        tmp_path: Path, written: str, expected: str) -> None:
    result = read_incidents(write(tmp_path, HEADER + f'e1,2024-06-02,50.45,30.52,KN-23,"{written}",,,Kyiv\n'))
    assert result.frame["outcome"].tolist() == [expected]
    message = said(result, "outcome")[2]
    assert f"outcome {written!r} read as {expected}" in message


def test_outcomes_read_from_a_phrase_are_said_row_by_row(tmp_path: Path) -> None:
    result = read_incidents(write(tmp_path, HEADER
                                  + "e1,2024-06-02,50.45,30.52,KN-23,intercepted by air defence,,,Kyiv\n"
                                  + "e2,2024-06-02,50.45,30.52,KN-23,intercepted,,,Kyiv\n"
                                  + "e3,2024-06-02,50.45,30.52,KN-23,hit a warehouse,,,Kyiv\n"
                                  + "e4,2024-06-02,50.45,30.52,KN-23,intercepted; one hit,,,Kyiv\n"))
    assert result.frame["outcome"].tolist() == ["intercepted", "intercepted", "impact", "unknown"]
    messages = said(result, "outcome")
    assert sorted(messages) == [2, 4, 5]  # the plain outcome word on row 3 needs no word
    assert messages[2] == "outcome 'intercepted by air defence' read as intercepted"
    assert messages[4] == "outcome 'hit a warehouse' read as impact"
    assert "several outcomes" in messages[5]


def test_interception_rate_is_not_inflated_by_failed_interceptions(tmp_path: Path) -> None:
    from geodata import summarize

    rows = ["e1,2024-06-02,50.45,30.52,KN-23,intercepted,,,Kyiv",
            "e2,2024-06-02,50.45,30.52,KN-23,failed to intercept,,,Kyiv",
            "e3,2024-06-02,50.45,30.52,KN-23,hit after interception attempt,,,Kyiv",
            "e4,2024-06-02,50.45,30.52,KN-23,не збито,,,Kyiv"]
    frame = read_incidents(write(tmp_path, HEADER + "\n".join(rows) + "\n")).frame
    # of the two with a known outcome, one was intercepted (before: all four read as intercepted)
    assert summarize(frame).interception_rate["KN-23"] == 0.5


ACLED = (
    "event_id_cnty,event_date,year,time_precision,event_type,sub_event_type,admin1,location,latitude,longitude,"
    "geo_precision,source,notes,fatalities\n"
    "UKR1,2024-06-02,2024,1,Explosions/Remote violence,Air/drone strike,Kyiv,Kyiv,50.45,30.52,1,X,"
    '"Missile strike, Kh-22 not intercepted",0\n'
    "UKR2,2024-06-02,2024,1,Explosions/Remote violence,Air/drone strike,Kyiv,Kyiv,50.45,30.52,1,X,"
    '"A Kh-22 was not intercepted and hit a shopping centre.",0\n'
    "UKR3,2024-06-02,2024,1,Explosions/Remote violence,Air/drone strike,Kyiv,Kyiv,50.45,30.52,1,X,"
    '"Geran-2 drones attacked Kyiv; all were shot down.",0\n'
    "UKR4,2024-06-02,2024,1,Explosions/Remote violence,Air/drone strike,Kyiv,Kyiv,50.45,30.52,1,X,"
    '"Air defence failed to intercept a ballistic missile.",0\n'
)


def test_acled_notes_that_negate_an_interception_are_not_intercepted(tmp_path: Path) -> None:
    result = read_incidents(write(tmp_path, ACLED, "acled_export.csv"))
    assert result.report.format == "acled"
    assert result.frame["outcome"].tolist() == ["unknown", "impact", "intercepted", "unknown"]
    messages = said(result, "notes")
    assert "'not intercepted' read as unknown" in messages[2]
    assert "read as impact" in messages[3]
    assert "'shot down' read as intercepted" in messages[4]
    assert "'failed to intercept' read as unknown" in messages[5]


# --- 2. swapped coordinates: only ever moved into the expected region ----------------------------


def test_correct_points_are_never_swapped_out_of_the_region(tmp_path: Path) -> None:
    # 15 rows with latitude and longitude swapped (as written they fall in Iran), 5 correct ones
    swapped = [f"s{i},2024-06-02,{30 + i / 10:.2f},{48 + i / 10:.2f},KN-23,hit,,,x" for i in range(15)]
    correct = [f"c{i},2024-06-02,{50 + i / 10:.2f},{30 + i / 10:.2f},KN-23,hit,,,Kyiv" for i in range(5)]
    result = read_incidents(write(tmp_path, HEADER + "\n".join(swapped + correct) + "\n"))
    frame = result.frame
    assert result.report.rows_loaded == 20
    correct_rows = frame.loc[17:21]
    assert correct_rows.geometry.y.round(2).tolist() == [50.0, 50.1, 50.2, 50.3, 50.4]
    assert correct_rows.geometry.x.round(2).tolist() == [30.0, 30.1, 30.2, 30.3, 30.4]
    warned = {p.row for p in result.report.warnings if "swapped" in p.message}
    assert not warned & set(range(17, 22))
    # the swapped ones are brought into Ukraine, each said on its row
    assert warned == set(range(2, 17))
    assert frame.loc[2].geometry.y == 48.0 and frame.loc[2].geometry.x == 30.0


def test_a_point_outside_the_region_either_way_is_flagged_not_moved(tmp_path: Path) -> None:
    lines = [f"e{i},2024-06-02,{31 + i / 100:.2f},{35 + i / 100:.2f},KN-23,hit,,,x" for i in range(8)]  # Israel
    lines.append("t1,2024-06-02,35.20,31.80,KN-23,hit,,,x")  # swapped it joins the others, outside the region
    result = read_incidents(write(tmp_path, HEADER + "\n".join(lines) + "\n"))
    assert (result.frame.loc[10].geometry.y, result.frame.loc[10].geometry.x) == (35.2, 31.8)
    flagged = {p.row: p.message for p in result.report.warnings if "swapped" in p.message}
    assert list(flagged) == [10] and flagged[10].endswith("not changed")


# --- 3. rows with a place name and no coordinates are placed from the gazetteer ------------------


def test_rows_without_coordinates_are_placed_at_their_named_place(tmp_path: Path) -> None:
    path = write(tmp_path, "event_id,date,lat,lon,location,admin1,geo_precision\n"
                           "a,2024-06-02,,,Київ,,exact\n"
                           "b,2024-06-02,,,Bakhmut,,\n"
                           "c,2024-06-02,,,Запоріжжя,,\n"
                           "d,2024-06-02,,,Kharkivska oblast,,\n"
                           "e,2024-06-02,,,Mykolaivka,Donetsk oblast,\n"
                           "f,2024-06-02,50.45,30.52,Kyiv,,exact\n")
    result = read_incidents(path)
    frame = result.frame
    assert result.report.rows_loaded == 6
    assert frame["geo_precision"].tolist() == ["settlement", "settlement", "settlement", "region", "settlement",
                                               "exact"]
    assert abs(frame.loc[2].geometry.y - 50.45) < 0.05 and abs(frame.loc[2].geometry.x - 30.52) < 0.05
    assert abs(frame.loc[3].geometry.y - 48.59) < 0.05 and abs(frame.loc[3].geometry.x - 38.0) < 0.05
    assert abs(frame.loc[4].geometry.y - 47.85) < 0.05
    assert 49.0 < frame.loc[5].geometry.y < 50.5 and 35.0 < frame.loc[5].geometry.x < 38.5  # inside Kharkiv oblast
    assert frame.loc[6].geometry.x > 37  # the Mykolaivka in Donetsk oblast
    messages = said(result, "location")
    assert messages[2] == "no coordinates: placed at Kyiv (settlement precision) from location 'Київ'"
    assert messages[5] == ("no coordinates: placed at Kharkiv Oblast (region precision) "
                           "from location 'Kharkivska oblast'")
    assert "admin1 'Donetsk oblast'" in messages[6]
    assert 7 not in messages


def test_names_the_gazetteer_cannot_resolve_stay_rejected_and_say_so(tmp_path: Path) -> None:
    path = write(tmp_path, "event_id,date,lat,lon,location,admin1\n"
                           "a,2024-06-02,,,Zzyzx,\n"
                           "b,2024-06-02,,,Mykolaivka,\n"  # several villages of that name
                           "c,2024-06-02,,,Bakhmut,Kharkiv oblast\n"  # Bakhmut is in Donetsk oblast
                           "d,2024-06-02,,,,\n")
    result = read_incidents(path)
    assert result.report.rows_loaded == 0
    errors = said(result, "lat", "error")
    assert "location 'Zzyzx' is not one place the offline gazetteer knows" in errors[2]
    assert "location 'Mykolaivka' is not one place" in errors[3]
    assert "'Bakhmut' with admin1 'Kharkiv oblast'" in errors[4]
    assert errors[5] == "no coordinates (latitude/longitude empty)"
    assert all(len([p for p in result.report.errors if p.row == r]) == 1 for r in (2, 3, 4, 5))


def test_geocoding_can_be_turned_off(tmp_path: Path) -> None:
    path = write(tmp_path, "date,lat,lon,location\n2024-06-02,,,Київ\n")
    assert read_incidents(path).report.rows_loaded == 1
    assert read_incidents(path, geocode=False).report.rows_loaded == 0


# --- 4. one column holding both coordinates -------------------------------------------------------


@pytest.mark.parametrize("header", ["coordinates", "coords", "latlon", '"lat, lon"', "Координати"])
def test_a_combined_coordinates_column_is_split(tmp_path: Path, header: str) -> None:
    path = write(tmp_path, f"date,{header},place\n"
                           '2024-06-02,"50.45, 30.52",a\n'
                           "2024-06-02,49.99 36.23,b\n"
                           '2024-06-02,"50,45; 30,52",c\n'
                           "2024-06-02,somewhere,d\n"
                           '2024-06-02,"95.1, 30.5",e\n')
    result = read_incidents(path)
    frame = result.frame
    shown = header.strip('"')
    assert list(frame.index) == [2, 3, 4]
    assert frame.geometry.y.tolist() == [50.45, 49.99, 50.45]
    assert frame.geometry.x.tolist() == [30.52, 36.23, 30.52]
    errors = said(result, shown, "error")
    assert errors[5] == "coordinates 'somewhere' are not a latitude, longitude pair (e.g. 50.45, 30.52)"
    assert errors[6].startswith("latitude 95.1 is out of range")
    assert "coordinates" not in frame.columns and shown not in frame.columns


def test_coordinates_is_a_mapping_target(tmp_path: Path) -> None:
    from geodata.readers.columns import TARGETS

    assert "coordinates" in TARGETS
    path = write(tmp_path, 'Wann,Position\n2024-06-02,"50.45, 30.52"\n')
    frame = read_incidents(path, columns={"Wann": "occurred_at", "Position": "coordinates"}).frame
    assert (frame.geometry.y.iloc[0], frame.geometry.x.iloc[0]) == (50.45, 30.52)


def test_separate_latitude_longitude_columns_win_over_a_combined_one(tmp_path: Path) -> None:
    path = write(tmp_path, 'date,lat,lon,coords\n2024-06-02,50.45,30.52,"1, 2"\n')
    frame = read_incidents(path).frame
    assert (frame.geometry.y.iloc[0], frame.geometry.x.iloc[0]) == (50.45, 30.52)
    assert frame["coords"].tolist() == ["1, 2"]  # kept as an extra column


# --- 5. duplicate ids over all rows, implausible dates and counts ---------------------------------


def test_duplicate_id_is_found_even_when_its_first_row_is_rejected(tmp_path: Path) -> None:
    lines = [f"{i},2024-06-02,50.45,30.52,KN-23,hit,,,Kyiv" for i in range(1, 7)]
    lines += ["7,not a date,50.45,30.52,KN-23,hit,,,Kyiv", "7,2024-06-03,50.45,30.52,KN-23,hit,,,Kyiv"]
    result = read_incidents(write(tmp_path, HEADER + "\n".join(lines) + "\n"))
    assert (result.report.rows_loaded, result.report.rows_rejected) == (7, 1)
    assert said(result, "event_id") == {9: "event id '7' is also on row 8"}


def test_dates_before_the_war_or_in_the_future_are_warned_and_kept(tmp_path: Path) -> None:
    future = (pd.Timestamp.now() + pd.Timedelta(days=30)).strftime("%Y-%m-%d")
    result = read_incidents(write(tmp_path, HEADER
                                  + "e1,2013-05-02,50.45,30.52,KN-23,hit,,,Kyiv\n"
                                  + f"e2,{future},50.45,30.52,KN-23,hit,,,Kyiv\n"
                                  + "e3,2014-01-01,50.45,30.52,KN-23,hit,,,Kyiv\n"
                                  + "e4,2024-06-02,50.45,30.52,KN-23,hit,,,Kyiv\n"))
    assert result.report.rows_loaded == 4
    messages = said(result, "occurred_at")
    assert sorted(messages) == [2, 3]
    assert "'2013-05-02' is before 2014-01-01" in messages[2]
    assert "in the future" in messages[3]


def test_implausible_casualty_counts_are_warned_and_kept(tmp_path: Path) -> None:
    result = read_incidents(write(tmp_path, HEADER
                                  + "e1,2024-06-02,50.45,30.52,KN-23,hit,12000,3,Kyiv\n"
                                  + "e2,2024-06-02,50.45,30.52,KN-23,hit,10000,25000,Kyiv\n"))
    frame = result.frame
    assert frame["killed"].tolist() == [12000, 10000] and frame["injured"].tolist() == [3, 25000]
    assert list(said(result, "killed")) == [2] and "implausible" in said(result, "killed")[2]
    assert list(said(result, "injured")) == [3] and "implausible" in said(result, "injured")[3]


# --- 6. munition messages name a class the file states -------------------------------------------


def test_unknown_munition_message_names_the_class_the_file_states(tmp_path: Path) -> None:
    path = write(tmp_path, "date,lat,lon,munition,munition_class\n"
                           "2024-06-02,50.45,30.52,Cruise missile,cruise missile\n"
                           "2024-06-02,50.45,30.52,Mystery-9,\n")
    result = read_incidents(path)
    assert result.frame["munition_class"].tolist() == ["cruise missile", "unknown"]
    messages = said(result, "munition")
    assert messages[2] == ("munition 'Cruise missile' is not in the catalogue: kept as written, "
                           "class from the file: cruise missile")
    assert messages[3].endswith("kept as written, class unknown")


def test_cir_generic_arms_word_message_names_its_class(tmp_path: Path) -> None:
    path = tmp_path / "cir_arms.csv"
    path.write_text("entry,date,event_group,title,brief description,lat,lon,country,province,district,town/city,"
                    "arms/munition,violence level,link,geolocation\n"
                    "B2,02/03/2022,Bombing or explosion,t,d,50.0,36.2,Ukraine,Kharkiv,,Kharkiv,Cruise missile,2,u,\n",
                    encoding="utf-8")
    result = read_incidents(path)
    assert result.report.format == "cir"
    message = [p.message for p in result.report.warnings if "Cruise missile" in p.message][0]
    assert "class from the file: cruise missile" in message and "class unknown" not in message


def test_a_file_with_place_names_and_no_coordinate_columns_opens(tmp_path):
    from geodata import read_incidents

    path = tmp_path / "places.csv"
    path.write_text("date,place,munition\n2025-09-10,Київ,KN-23\n2025-09-12,Nowhereville,KAB\n", encoding="utf-8")
    result = read_incidents(path)
    assert result.report.rows_read == 2 and result.report.rows_loaded == 1 and result.report.rows_rejected == 1
    assert list(result.frame["geo_precision"]) == ["settlement"]  # never taken as exact
    assert result.frame.geometry.y.iloc[0] == pytest.approx(50.45, abs=0.02)
    assert [p.row for p in result.report.errors] == [3]
