"""Delimited text files: encodings, delimiters, dates, checks and the row accounting."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from geodata import CANONICAL_COLUMNS, DataError, read_incidents
from geodata.readers import detect_format

HEADER = "event_id,occurred_at,latitude,longitude,munition,outcome,killed,injured,location\n"


def write(tmp_path: Path, text: str, name: str = "events.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def messages(result, severity: str | None = None) -> list[str]:
    return [str(p) for p in result.report.problems if severity is None or p.severity == severity]


def test_canonical_frame_from_plain_csv(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER
                 + "e1,2024-06-02 01:00,50.45,30.52,KN-23,hit,2,3,Kyiv\n"
                 + "e2,2024-06-02T03:15:00+03:00,50.40,30.60,Geran-2,shot down,,,Kyiv\n")
    result = read_incidents(path)
    frame, report = result.frame, result.report
    assert list(frame.columns) == list(CANONICAL_COLUMNS)
    assert frame.crs.to_epsg() == 4326
    assert frame.index.name == "row" and list(frame.index) == [2, 3]
    # 01:00 Kyiv summer time on 2 June is 22:00 UTC on 1 June
    assert frame.loc[2, "occurred_at"] == pd.Timestamp("2024-06-01T22:00:00Z")
    assert frame.loc[3, "occurred_at"] == pd.Timestamp("2024-06-02T00:15:00Z")
    assert list(frame["time_precision"]) == ["exact", "exact"]
    assert list(frame["munition"]) == ["KN-23", "Shahed-136"]
    assert list(frame["munition_class"]) == ["ballistic missile", "loitering munition"]
    assert list(frame["outcome"]) == ["impact", "intercepted"]
    assert frame["killed"].dtype == "Int64" and frame.loc[2, "killed"] == 2 and pd.isna(frame.loc[3, "killed"])
    assert (frame.geometry.x.tolist(), frame.geometry.y.tolist()) == ([30.52, 30.60], [50.45, 50.40])
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (2, 2, 0)
    assert any("no location precision column" in m for m in messages(result))
    assert list(frame["geo_precision"]) == ["exact", "exact"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251", "utf-16"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_encodings_and_delimiters(tmp_path: Path, encoding: str, delimiter: str) -> None:
    rows = [
        ["id", "дата", "широта", "довгота", "зброя", "результат", "населений пункт", "примітка"],
        ["k1", "24.02.2022", "50,45" if delimiter != "," else "50.45", "30.52", "Калібр", "влучання", "Київ", "перша"],
        ["k2", "25.02.2022 04:30", "49.99", "36.23", "Х-101", "збито", "Харків", "друга"],
    ]
    text = "\r\n".join(delimiter.join(r) for r in rows) + "\r\n"
    path = write(tmp_path, text, "partner.csv" if delimiter != "\t" else "partner.tsv", encoding)
    result = read_incidents(path)
    frame = result.frame
    assert result.report.rows_loaded == 2
    assert list(frame["location"]) == ["Київ", "Харків"]
    assert list(frame["munition"]) == ["3M-14 Kalibr", "Kh-101"]
    assert list(frame["outcome"]) == ["impact", "intercepted"]
    assert frame["примітка"].tolist() == ["перша", "друга"]  # extra column kept, text intact
    assert frame.geometry.y.tolist() == [50.45, 49.99]
    assert frame.loc[2, "occurred_at"] == pd.Timestamp("2022-02-23T22:00:00Z")
    assert list(frame["time_precision"]) == ["day", "exact"]
    if encoding == "cp1251":
        assert any("Windows-1251" in m for m in messages(result, "warning"))


@pytest.mark.parametrize(
    ("written", "utc", "precision"),
    [
        ("2024-06-02", "2024-06-01T21:00Z", "day"),
        ("2024-06-02T01:30", "2024-06-01T22:30Z", "exact"),
        ("2024-06-02T01:30:00Z", "2024-06-02T01:30Z", "exact"),
        ("2024-06-02 01:30:00+01:00", "2024-06-02T00:30Z", "exact"),
        ("2024-06", "2024-05-31T21:00Z", "month"),
        ("02.06.2024", "2024-06-01T21:00Z", "day"),
        ("02.06.2024 01:30", "2024-06-01T22:30Z", "exact"),
        ("2024-01-15 12:00", "2024-01-15T10:00Z", "exact"),  # winter: UTC+2
    ],
)
def test_date_formats(tmp_path: Path, written: str, utc: str, precision: str) -> None:
    path = write(tmp_path, HEADER + f"e1,{written},50.45,30.52,KN-23,hit,,,Kyiv\n")
    frame = read_incidents(path).frame
    assert frame["occurred_at"].iloc[0] == pd.Timestamp(utc)
    assert frame["time_precision"].iloc[0] == precision


def test_working_time_zone_option(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "e1,2024-06-02 01:30,50.45,30.52,KN-23,hit,,,Kyiv\n")
    assert read_incidents(path, tz="UTC").frame["occurred_at"].iloc[0] == pd.Timestamp("2024-06-02T01:30Z")


def test_day_month_order_decided_from_the_data(tmp_path: Path) -> None:
    day_first = write(tmp_path, HEADER + "e1,13/06/2024,50.45,30.52,,,,,\ne2,05/06/2024,50.45,30.52,,,,,\n", "a.csv")
    month_first = write(tmp_path, HEADER + "e1,06/13/2024,50.45,30.52,,,,,\ne2,06/05/2024,50.45,30.52,,,,,\n", "b.csv")
    for path in (day_first, month_first):
        result = read_incidents(path)
        days = result.frame["occurred_at"].dt.tz_convert("Europe/Kyiv").dt.strftime("%Y-%m-%d").tolist()
        assert days == ["2024-06-13", "2024-06-05"], path.name
        assert not any("ambiguous" in m for m in messages(result))


def test_ambiguous_day_month_order_is_stated(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "e1,03/04/2024,50.45,30.52,,,,,\n")
    result = read_incidents(path)
    warning = [p for p in result.report.warnings if "ambiguous" in p.message]
    assert len(warning) == 1 and warning[0].row is None and "DD/MM/YYYY" in warning[0].message
    assert result.frame["occurred_at"].dt.tz_convert("Europe/Kyiv").iloc[0].month == 4
    forced = read_incidents(path, dayfirst=False)
    assert forced.frame["occurred_at"].dt.tz_convert("Europe/Kyiv").iloc[0].month == 3


def test_separate_date_and_time_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "date,time,lat,lon\n2024-06-02,01:30,50.45,30.52\n2024-06-03,,50.45,30.52\n")
    frame = read_incidents(path).frame
    assert frame["occurred_at"].tolist() == [pd.Timestamp("2024-06-01T22:30Z"), pd.Timestamp("2024-06-02T21:00Z")]
    assert frame["time_precision"].tolist() == ["exact", "day"]


def test_bad_rows_are_rejected_by_row_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER
                 + "e1,2024-06-02,50.45,30.52,KN-23,hit,,,Kyiv\n"
                 + "e2,2024-06-02,148.2,30.52,KN-23,hit,,,Kyiv\n"
                 + "e3,,50.45,30.52,KN-23,hit,,,Kyiv\n"
                 + "e4,31/02/2024,50.45,30.52,KN-23,hit,,,Kyiv\n"
                 + "e5,2024-06-02,abc,30.52,KN-23,hit,,,Kyiv\n"
                 + "e6,2024-06-02,,,KN-23,hit,,,\n"  # no place name either (with one, it is placed)
                 + "e7,2024-06-02,50.45,230.5,KN-23,hit,,,Kyiv\n")
    result = read_incidents(path)
    report = result.report
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (7, 1, 6)
    errors = {(p.row, p.column): p.message for p in report.errors}
    assert errors[(3, "latitude")].startswith("latitude 148.2 is out of range")
    assert errors[(4, "occurred_at")] == "no date"
    assert "31/02/2024" in errors[(5, "occurred_at")] and "not a valid calendar date" in errors[(5, "occurred_at")]
    assert errors[(6, "latitude")] == "latitude 'abc' is not a number"
    assert "no coordinates" in errors[(7, "latitude")]
    assert errors[(8, "longitude")].startswith("longitude 230.5 is out of range")
    assert list(result.frame.index) == [2]
    assert str(report.errors[0]).startswith("row 3 [latitude]: latitude 148.2")


def test_messages_name_the_files_own_headers(tmp_path: Path) -> None:
    path = write(tmp_path, "ID,When,Lat,Lng\n1,2024-06-02,95.5,30.5\n")
    problem = read_incidents(path).report.errors[0]
    assert (problem.row, problem.column) == (2, "Lat")


def test_swapped_coordinates_corrected_only_when_unambiguous(tmp_path: Path) -> None:
    lines = [f"e{i},2024-06-02,{50 + i / 100:.2f},{30 + i / 100:.2f},KN-23,hit,,,Kyiv" for i in range(6)]
    lines.append("s1,2024-06-02,30.51,50.47,KN-23,hit,,,Kyiv")  # swapped: falls among the others
    lines.append("f1,2024-06-02,-33.9,18.4,KN-23,hit,,,Cape Town")  # far away either way: left as is
    result = read_incidents(write(tmp_path, HEADER + "\n".join(lines) + "\n"))
    frame = result.frame
    assert (frame.loc[8].geometry.y, frame.loc[8].geometry.x) == (50.47, 30.51)
    assert (frame.loc[9].geometry.y, frame.loc[9].geometry.x) == (-33.9, 18.4)
    swapped = [p for p in result.report.warnings if "swapped" in p.message]
    assert [p.row for p in swapped] == [8]
    assert "swapped back" in swapped[0].message
    assert result.report.rows_loaded == 8


def test_outcome_synonyms_and_unrecognised_text(tmp_path: Path) -> None:
    written = ["struck", "Impact", "destroyed", "збито", "intercepted", "exploded in the air", "locally lost",
               "lost", "fragments", "уламки", "Debris", "", "unknown", "maybe"]
    expected = ["impact", "impact", "intercepted", "intercepted", "intercepted", "deviated", "deviated",
                "deviated", "debris", "debris", "debris", "unknown", "unknown", "unknown"]
    lines = [f"e{i},2024-06-02,50.45,30.52,KN-23,{w},,,Kyiv" for i, w in enumerate(written)]
    result = read_incidents(write(tmp_path, HEADER + "\n".join(lines) + "\n"))
    assert result.frame["outcome"].tolist() == expected
    assert list(result.frame["outcome"].cat.categories) == ["impact", "intercepted", "deviated", "debris", "unknown"]
    flagged = [p for p in result.report.warnings if p.column == "outcome"]
    assert len(flagged) == 1 and flagged[0].row == 15 and "'maybe'" in flagged[0].message


def test_unknown_munition_kept_verbatim(tmp_path: Path) -> None:
    result = read_incidents(write(tmp_path, HEADER + "e1,2024-06-02,50.45,30.52,Mystery-9 drone,hit,,,Kyiv\n"))
    frame = result.frame
    assert frame["munition"].iloc[0] == "Mystery-9 drone"
    assert frame["munition_class"].iloc[0] == "unknown"
    flagged = [p for p in result.report.warnings if p.column == "munition"]
    assert flagged and flagged[0].row == 2 and "Mystery-9 drone" in flagged[0].message


def test_casualties_missing_stays_missing_and_bad_numbers_warn(tmp_path: Path) -> None:
    result = read_incidents(write(tmp_path, HEADER
                                  + "e1,2024-06-02,50.45,30.52,KN-23,hit,0,,Kyiv\n"
                                  + "e2,2024-06-02,50.45,30.52,KN-23,hit,several,-1,Kyiv\n"))
    frame = result.frame
    assert frame.loc[2, "killed"] == 0 and pd.isna(frame.loc[2, "injured"])
    assert pd.isna(frame.loc[3, "killed"]) and pd.isna(frame.loc[3, "injured"])
    flagged = {(p.row, p.column) for p in result.report.warnings}
    assert {(3, "killed"), (3, "injured")} <= flagged
    assert result.report.rows_loaded == 2


def test_duplicate_event_ids_are_warned(tmp_path: Path) -> None:
    result = read_incidents(write(tmp_path, HEADER
                                  + "e1,2024-06-02,50.45,30.52,KN-23,hit,,,Kyiv\n"
                                  + "e1,2024-06-03,50.45,30.52,KN-23,hit,,,Kyiv\n"))
    dup = [p for p in result.report.warnings if p.column == "event_id"]
    assert len(dup) == 1 and dup[0].row == 3 and "row 2" in dup[0].message
    assert result.report.rows_loaded == 2


def test_missing_event_ids_are_made_from_file_and_row(tmp_path: Path) -> None:
    frame = read_incidents(write(tmp_path, "date,lat,lon\n2024-06-02,50.45,30.52\n2024-06-03,50.4,30.5\n",
                                 "night.csv")).frame
    assert frame["event_id"].tolist() == ["night-2", "night-3"]


def test_column_mapping_and_coordinate_options(tmp_path: Path) -> None:
    path = write(tmp_path, "Nr;Wann;Breite;Laenge;Waffe;Ort;Extra\n7;2024-06-02;50.45;30.52;Kh-101;Kyiv;x\n")
    with pytest.raises(DataError, match="no latitude or longitude column"):
        read_incidents(path)
    mapping = {"Nr": "event_id", "Wann": "occurred_at", "Waffe": "munition", "Ort": "location"}
    result = read_incidents(path, columns=mapping, lat="Breite", lon="Laenge")
    frame = result.frame
    assert frame["event_id"].iloc[0] == "7" and frame["munition"].iloc[0] == "Kh-101"
    assert frame.geometry.y.iloc[0] == 50.45
    assert list(frame.columns)[len(CANONICAL_COLUMNS):] == ["Extra"]
    # the reverse direction (canonical -> header) is accepted too
    again = read_incidents(path, columns={"event_id": "Nr", "occurred_at": "Wann", "latitude": "Breite",
                                          "longitude": "Laenge"})
    assert again.frame["event_id"].iloc[0] == "7"
    with pytest.raises(DataError, match="no column 'Missing'"):
        read_incidents(path, columns={"Missing": "munition"}, lat="Breite", lon="Laenge")


def test_wrong_field_counts_and_blank_lines_keep_row_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER
                 + "e1,2024-06-02,50.45,30.52,KN-23,hit,,,Kyiv\n"
                 + "\n"
                 + "e2,2024-06-02,50.45,30.52,KN-23,hit,,,Kyiv,surplus\n"
                 + '"e3",2024-06-02,50.45,30.52,KN-23,hit,,,"Kyiv, left bank"\n'
                 + "e4,2024-06-02,50.45\n")
    result = read_incidents(path)
    report = result.report
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (4, 2, 2)
    assert list(result.frame.index) == [2, 5]
    assert result.frame.loc[5, "location"] == "Kyiv, left bank"
    assert {p.row for p in report.errors} == {4, 6}
    assert all("fields" in p.message for p in report.errors)


def test_header_only_file_loads_nothing(tmp_path: Path) -> None:
    result = read_incidents(write(tmp_path, HEADER))
    assert len(result.frame) == 0 and result.report.rows_read == 0
    assert list(result.frame.columns) == list(CANONICAL_COLUMNS)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (bytes(range(256)) * 40, "binary"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "old Excel .xls or a password-protected"),
        (b"a,b,c\n1,2,3\n", "no latitude or longitude column"),
        (b"lat,lon,name\n50.4,30.5,x\n", "no date column"),
    ],
)
def test_unreadable_files_raise_one_data_error(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(content)
    with pytest.raises(DataError) as info:
        read_incidents(path)
    message = str(info.value)
    assert str(path) in message and reason in message and "\n" not in message


def test_missing_file_and_unknown_options(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        read_incidents(tmp_path / "nope.csv")
    path = write(tmp_path, HEADER + "e1,2024-06-02,50.45,30.52,KN-23,hit,,,Kyiv\n")
    with pytest.raises(DataError, match="unknown format"):
        read_incidents(path, format="parquet")
    with pytest.raises(DataError, match="unknown time zone"):
        read_incidents(path, tz="Mars/Olympus")


def test_detect_format_of_text_table(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "e1,2024-06-02,50.45,30.52,KN-23,hit,,,Kyiv\n", "data.txt")
    assert detect_format(path) == "csv"
    assert read_incidents(path).report.format == "csv"


def test_clock_change_times_are_read_and_flagged(tmp_path: Path) -> None:
    # 03:30 on 31 March 2024 does not exist in Kyiv (clocks jump 03:00 -> 04:00)
    result = read_incidents(write(tmp_path, HEADER + "e1,2024-03-31 03:30,50.45,30.52,KN-23,hit,,,Kyiv\n"))
    assert result.report.rows_loaded == 1
    flagged = [p for p in result.report.warnings if p.column == "occurred_at"]
    assert flagged and flagged[0].row == 2 and "clock change" in flagged[0].message


def test_whole_file_swapped_is_flagged_not_corrected(tmp_path: Path) -> None:
    lines = [f"e{i},2024-06-02,{30 + i / 10:.2f},{48 + i / 10:.2f},KN-23,hit,,,x" for i in range(8)]
    result = read_incidents(write(tmp_path, HEADER + "\n".join(lines) + "\n"))
    assert result.report.rows_loaded == 8
    assert result.frame.geometry.y.iloc[0] == 30.0  # left as written
    notes = [p for p in result.report.warnings if p.row is None and "swapped" in p.message]
    assert len(notes) == 1 and "not corrected" in notes[0].message


def test_munition_named_inside_longer_text(tmp_path: Path) -> None:
    result = read_incidents(write(tmp_path, HEADER
                                  + "e1,2024-06-02,50.45,30.52,ракета Х-101,hit,,,Kyiv\n"
                                  + "e2,2024-06-02,50.45,30.52,Kh-101 or Kalibr,hit,,,Kyiv\n"))
    frame = result.frame
    assert frame.loc[2, "munition"] == "Kh-101" and frame.loc[2, "munition_class"] == "cruise missile"
    assert frame.loc[3, "munition"] == "Kh-101 or Kalibr" and frame.loc[3, "munition_class"] == "unknown"
    said = {p.row: p.message for p in result.report.warnings if p.column == "munition"}
    assert "read as Kh-101" in said[2] and "not in the catalogue" in said[3]


def test_a_class_word_gives_the_class_and_no_munition_name(tmp_path: Path) -> None:
    result = read_incidents(write(tmp_path, HEADER
                                  + "e1,2024-06-02,50.0,36.23,guided bomb,hit,,,Kharkiv\n"
                                  + "e2,2024-06-02,50.0,36.23,glide bomb,hit,,,Kharkiv\n"
                                  + "e3,2024-06-02,50.0,36.23,керована авіабомба,hit,,,Kharkiv\n"
                                  + "e4,2024-06-02,50.0,36.23,ballistic missile,hit,,,Kharkiv\n"
                                  + "e5,2024-06-02,50.0,36.23,КАБ-500,hit,,,Kharkiv\n"))
    frame = result.frame
    # kept as written: no munition of the class (KAB, UMPK) is guessed
    assert list(frame["munition"]) == ["guided bomb", "glide bomb", "керована авіабомба", "ballistic missile", "KAB"]
    assert list(frame["munition_class"]) == ["guided bomb"] * 3 + ["ballistic missile", "guided bomb"]
    said = {p.row: p.message for p in result.report.warnings if p.column == "munition"}
    assert said[2] == "munition 'guided bomb' is not in the catalogue: kept as written, class from the word: guided bomb"
    assert sorted(said) == [2, 3, 4, 5]


def test_a_doubted_identification_is_kept_as_written_not_made_certain(tmp_path: Path) -> None:
    result = read_incidents(write(tmp_path, HEADER
                                  + "e1,2024-06-02,50.45,30.52,KN-23?,hit,,,Kyiv\n"
                                  + "e2,2024-06-02,50.45,30.52,possibly Kh-101,hit,,,Kyiv\n"
                                  + "e3,2024-06-02,50.45,30.52,ймовірно Іскандер-М,hit,,,Kyiv\n"
                                  + "e4,2024-06-02,50.45,30.52,KN-23,hit,,,Kyiv\n"))
    frame = result.frame
    assert list(frame["munition"]) == ["KN-23?", "possibly Kh-101", "ймовірно Іскандер-М", "KN-23"]
    assert list(frame["munition_class"]) == ["unknown", "unknown", "unknown", "ballistic missile"]
    said = {p.row: p.message for p in result.report.warnings if p.column == "munition"}
    assert sorted(said) == [2, 3, 4] and all("uncertain" in said[r] for r in (2, 3, 4))


def test_wkt_geometry_column(tmp_path: Path) -> None:
    path = write(tmp_path, "date,WKT,name\n2024-06-02,POINT (30.52 50.45),a\n2024-06-02,POINT (30.5,b\n")
    result = read_incidents(path)
    assert result.frame.geometry.iloc[0].coords[0] == (30.52, 50.45)
    assert (result.report.rows_loaded, result.report.rows_rejected) == (1, 1)
    assert {(p.row, p.column) for p in result.report.errors} == {(3, "WKT")}
    assert any("POINT (30.5'" in p.message for p in result.report.errors)


def test_impossible_day_in_dotted_dates_is_rejected_not_rolled_over(tmp_path: Path) -> None:
    # 31.02 must not become 2 March
    result = read_incidents(write(tmp_path, HEADER
                                  + "e1,02.06.2024 01:30,50.45,30.52,KN-23,hit,,,Kyiv\n"
                                  + "e2,31.02.2024 01:30,50.45,30.52,KN-23,hit,,,Kyiv\n"))
    assert list(result.frame.index) == [2]
    assert [(p.row, p.column) for p in result.report.errors] == [(3, "occurred_at")]


def test_quoted_bare_carriage_return_is_kept_as_text(tmp_path: Path) -> None:
    path = tmp_path / "cr.csv"
    path.write_bytes(b'event_id,date,lat,lon,notes\r\n'
                     b'e1,2024-06-02,50.45,30.52,"x\r=1"\r\ne2,2024-06-02,50.4,30.5,y\r\n')
    result = read_incidents(path)
    assert list(result.frame["notes"]) == ["x\r=1", "y"]
    assert list(result.frame.index) == [2, 3]


@pytest.mark.parametrize("delimiter", ["", ";;", '"', "\n"])
def test_unusable_delimiter_option_is_a_data_error(tmp_path: Path, delimiter: str) -> None:
    path = write(tmp_path, HEADER + "e1,2024-06-02,50.45,30.52,KN-23,hit,,,Kyiv\n")
    with pytest.raises(DataError, match="delimiter must be one character"):
        read_incidents(path, delimiter=delimiter)


@pytest.mark.parametrize(
    ("header", "row"),
    [
        ("Дата;Час;Широта;Довгота;Населений пункт;Область;Засіб ураження;Результат;Загиблі;Поранені;"
         "Джерело;Посилання;Опис",
         "02.06.2024;03:15;50,45;30,52;Київ;Київська;Х-101;impact;2;5;ДСНС;https://example.org/1;текст"),
        ("Дата;Время;Широта;Долгота;Населенный пункт;Область;Боеприпас;Результат;Погибшие;Раненые;"
         "Источник;Ссылка;Примечания",
         "02.06.2024;03:15;50,45;30,52;Київ;Київська;Х-101;impact;2;5;ДСНС;https://example.org/1;текст"),
        ("дата;час;широта;довгота;населений пункт;область;боєприпас;результат;загинули;поранені;"
         "джерело;посилання;примітки",
         "02.06.2024;03:15;50,45;30,52;Київ;Київська;Х-101;impact;2;5;ДСНС;https://example.org/1;текст"),
    ],
    ids=["ukrainian", "russian", "lower-case"],
)
def test_ukrainian_and_russian_headers_open_without_a_mapping(tmp_path: Path, header: str, row: str) -> None:
    result = read_incidents(write(tmp_path, header + "\n" + row + "\n"))
    frame = result.frame
    assert result.report.rows_loaded == 1
    assert list(frame.columns) == list(CANONICAL_COLUMNS)  # every header became a canonical column
    first = frame.iloc[0]
    assert str(first["occurred_at"]) == "2024-06-02 00:15:00+00:00"  # 03:15 in Kyiv
    assert (first.geometry.y, first.geometry.x) == (50.45, 30.52)
    assert (first["location"], first["admin1"], first["munition"]) == ("Київ", "Київська", "Kh-101")
    assert (first["killed"], first["injured"]) == (2, 5)
    assert (first["source"], first["source_url"], first["notes"]) == ("ДСНС", "https://example.org/1", "текст")


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("a,b,c\n1,2,3\n", ("latitude", "longitude", "occurred_at")),
        ("lat,lon,name\n50.4,30.5,x\n", ("occurred_at",)),
        ("date,lat,name\n2024-06-02,50.4,x\n", ("longitude",)),
        ('date,"Breite\nNord",Laenge\n2024-06-02,50.4,30.5\n', ("latitude", "longitude")),
    ],
)
def test_missing_columns_raise_their_own_error_naming_them(tmp_path: Path, text: str, missing: tuple) -> None:
    from geodata.readers import MissingColumnsError

    path = write(tmp_path, text)
    with pytest.raises(MissingColumnsError) as info:
        read_incidents(path)
    assert isinstance(info.value, DataError)
    assert info.value.missing == missing
    message = str(info.value)
    assert str(path) in message and "columns=" in message and "\n" not in message


def test_other_read_failures_are_not_missing_columns(tmp_path: Path) -> None:
    from geodata.readers import MissingColumnsError

    for content in (b"lat,lon,date\n", b"\x00\x01\x02" * 10):
        path = tmp_path / "x.csv"
        path.write_bytes(content)
        try:
            read_incidents(path)
        except DataError as exc:
            assert not isinstance(exc, MissingColumnsError)
    with pytest.raises(DataError) as info:
        read_incidents(write(tmp_path, HEADER), columns={"Absent": "occurred_at"})
    assert not isinstance(info.value, MissingColumnsError)


def test_source_specific_formats_are_registered() -> None:
    from geodata.readers import formats

    names = [f.name for f in formats()]
    assert {"timemap", "cir", "airforce_waves"} <= set(names)
    assert names[-1] == "csv"  # the generic text table is asked last


def test_a_file_without_a_munition_column_says_so_and_keeps_stated_classes(tmp_path: Path) -> None:
    path = tmp_path / "classes_only.csv"
    path.write_text("date,lat,lon,munition_class\n2025-06-01,50.45,30.52,ballistic missile\n"
                    "2025-06-02,49.99,36.23,\n", encoding="utf-8")
    result = read_incidents(path)
    frame = result.frame
    assert list(frame["munition_class"]) == ["ballistic missile", "unknown"]
    assert frame["munition"].isna().all()
    notes = [p for p in result.report.problems if p.row is None and p.column == "munition"]
    assert len(notes) == 1 and "no munition column" in notes[0].message
