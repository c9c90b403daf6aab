"""Centre for Information Resilience monitor CSV: small files written here, with real exports' traps."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from geodata.errors import DataError
from geodata.readers import cir

HEADER = ("entry,date,event_group,title,brief description,lat,lon,country,province,district,town/city,"
          "arms/munition,violence level,link,geolocation")
ROWS = [
    # row 2: a strike, geolocated
    "CIR0001,24/02/2022,Bombing or explosion,Airport hit,Explosion at the airport,50.45,30.52,Ukraine,Kyiv,"
    ",Kyiv,Kalibr,3,https://t.me/x/1,Geolocated",
    # row 3: not strike-like
    "CIR0002,25/02/2022,Military movement,Convoy,Column moving north,50.9,34.8,Ukraine,Sumy,,Sumy,,1,"
    "https://t.me/x/2,",
    # row 4: mistyped year (kept, with a warning: the year is the user's to correct)
    "CIR0003,26/02/2202,Civilian infrastructure damage,School,School damaged,49.99,36.23,Ukraine,Kharkiv,,"
    "Kharkiv,Grad,3,https://t.me/x/3,Not geolocated",
    # row 5: a point far outside the region (a digit lost)
    "CIR0004,27/02/2022,Bombing or explosion,Far,Far away,4.85,30.1,Ukraine,Kyiv,,Bucha,MLRS,2,https://t.me/x/4,"
    "Geolocated",
    # row 6: free text in a numeric column
    "CIR0005,28/02/2022,Bombing or explosion,Text,Text in lat,see link,30.1,Ukraine,Kyiv,,Irpin,,2,"
    "https://t.me/x/5,Geolocated",
    # row 7: two groups, one strike-like; not geolocated
    '''CIR0006,01/03/2022,"Civilian casualty, Civilian infrastructure damage",Square,"Shelling of the square,'''
    ''' ""several"" hurt",49.9935,36.2304,Ukraine,Kharkiv,,Kharkiv,Smerch,3,https://t.me/x/6,Not geolocated''',
]


@pytest.fixture
def cir_file(tmp_path: Path) -> Path:
    path = tmp_path / "cir_monitor.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    return path


def test_sniff_reads_the_header_not_the_name(cir_file: Path, tmp_path: Path) -> None:
    assert cir.sniff(tmp_path / "anything.txt", cir_file.read_bytes()[:2048])
    assert not cir.sniff(cir_file, b"event_id,event_date,latitude,longitude\n")


def test_strike_like_rows_by_default_others_excluded_and_counted(cir_file: Path) -> None:
    raw, report, rejected = cir.parse(cir_file)
    assert list(raw.index) == [2, 3, 4, 5, 6, 7]  # header is row 1
    excluded = [p for p in report.problems if p.message.startswith("excluded:")]
    assert [(p.row, p.column) for p in excluded] == [(3, "event_group")]
    assert "Include non-strike events, --all-events or all_events=True" in excluded[0].message
    assert rejected == {3, 5, 6}
    # every other row is accounted for by an error naming it
    error_rows = {p.row for p in report.errors}
    assert rejected <= error_rows


def test_traps_are_reported_with_row_column_and_value(cir_file: Path) -> None:
    from geodata import read_incidents

    _, report, _ = cir.parse(cir_file)
    by_row = {p.row: p for p in report.errors}
    assert by_row[5].column == "lat" and "(4.85, 30.1)" in by_row[5].message
    assert by_row[6].column == "lat" and "'see link' is not a number" in by_row[6].message
    # the mistyped year is read by the shared date checks, as in any CSV: kept and said, never corrected
    loaded = read_incidents(cir_file)
    [year] = [p for p in loaded.report.problems if p.row == 4 and p.column == "date"]
    assert year.severity == "warning" and "'26/02/2202' is in the future" in year.message and "kept" in year.message
    assert loaded.frame.loc[4, "occurred_at"].year == 2202


def test_valid_rows_mapped_to_canonical_columns(cir_file: Path) -> None:
    raw, _, rejected = cir.parse(cir_file)
    kept = raw.drop(index=sorted(rejected))
    assert list(kept.index) == [2, 4, 7]
    assert kept.loc[2, "event_id"] == "CIR0001"
    assert kept.loc[2, "location"] == "Kyiv"
    assert kept.loc[2, "admin1"] == "Kyiv"
    assert kept.loc[2, "munition"] == "Kalibr"
    assert kept.loc[2, "source_url"] == "https://t.me/x/1"
    assert kept.loc[2, "geo_precision"] == "exact"
    assert kept.loc[7, "geo_precision"] == "settlement"
    assert kept.loc[7, "notes"] == 'Shelling of the square, "several" hurt'
    assert kept.loc[2, "occurred_at"] == "24/02/2022"  # as written: read_incidents reads the dates
    # columns with spaces and slashes are kept under their own names
    assert kept.loc[2, "violence level"] == "3"
    assert kept.loc[7, "event_group"] == "Civilian casualty, Civilian infrastructure damage"
    assert kept.loc[2, "title"] == "Airport hit"


def test_all_events_option_keeps_the_rest(cir_file: Path) -> None:
    raw, report, rejected = cir.parse(cir_file, all_events=True)
    assert 3 not in rejected
    assert not any(p.message.startswith("excluded:") for p in report.problems)
    assert raw.loc[3, "outcome"] == "unknown"
    assert raw.loc[2, "outcome"] == "impact"


def test_not_a_cir_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(DataError, match="other.csv.*no column date, lat, lon"):
        cir.parse(path)


# -- through the registry ------------------------------------------------------------------------


def test_loads_through_read_incidents_every_row_accounted_for(cir_file: Path) -> None:
    from geodata import read_incidents
    from geodata.readers import detect_format

    assert detect_format(cir_file) == "cir"
    result = read_incidents(cir_file)
    frame, report = result.frame, result.report
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (6, 3, 3)
    assert list(frame.index) == [2, 4, 7]
    # DD/MM/YYYY proven by 24/02: midnight Kyiv (UTC+2) on 24 February
    assert frame.loc[2, "occurred_at"] == pd.Timestamp("2022-02-23 22:00", tz="UTC")
    assert frame.loc[2, "munition"] == "3M-14 Kalibr"  # resolved through the catalogue
    assert frame.loc[2, "munition_class"] == "cruise missile"
    assert frame.loc[7, "munition"] == "Smerch"
    assert frame.loc[7, "geo_precision"] == "settlement"
    assert frame.loc[2, "outcome"] == "impact"
    assert frame.loc[2, "violence level"] == "3"
    assert frame.loc[2, "geometry"].y == pytest.approx(50.45)


def test_all_events_through_read_incidents(cir_file: Path) -> None:
    from geodata import read_incidents

    result = read_incidents(cir_file, all_events=True)
    report = result.report
    assert report.rows_loaded == 4
    assert report.rows_read == report.rows_loaded + report.rows_rejected


def test_all_events_means_nothing_to_a_file_without_non_strike_rows(tmp_path: Path) -> None:
    from geodata import read_incidents

    path = tmp_path / "plain.csv"
    path.write_text("date,latitude,longitude,munition\n2025-09-10,50.4,30.5,KN-23\n", encoding="utf-8")
    assert read_incidents(path, all_events=True).report.rows_loaded == 1


def test_windows_1251_export(tmp_path: Path) -> None:
    from geodata import read_incidents

    path = tmp_path / "cir_cp1251.csv"
    path.write_bytes(("\n".join([HEADER, ROWS[0].replace(",Kyiv,Kalibr", ",Київ,Калібр")]) + "\n").encode("cp1251"))
    frame = read_incidents(path).frame
    assert frame.loc[2, "location"] == "Київ"
    assert frame.loc[2, "munition"] == "3M-14 Kalibr"


def test_inspect_names_the_format(cir_file: Path, capsys) -> None:
    import json

    from mapviewer.cli.main import main

    assert main(["inspect", str(cir_file), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["format"] == "cir"
    assert summary["rows_read"] == 6


def test_rows_without_coordinates_are_placed_from_the_gazetteer(tmp_path: Path) -> None:
    from geodata import read_incidents

    path = tmp_path / "cir_no_points.csv"
    path.write_text("\n".join([
        HEADER,
        "A1,02/03/2022,Bombing or explosion,t,d,,,Ukraine,Kyiv,,Irpin,,2,https://t.me/x/7,",
        "A2,02/03/2022,Bombing or explosion,t,d,,,Ukraine,Kharkiv,,Zzyzx,,2,https://t.me/x/8,",
        "A3,02/03/2022,Bombing or explosion,t,d,,,Ukraine,,,Zzyzx,,2,https://t.me/x/9,",
    ]) + "\n", encoding="utf-8")
    result = read_incidents(path)
    frame, report = result.frame, result.report
    assert list(frame.index) == [2, 3]
    assert frame.loc[2, "geo_precision"] == "settlement"
    assert frame.loc[2, "geometry"].y == pytest.approx(50.52, abs=0.05)
    # an unknown town in a known oblast: the oblast, at region precision, never a nearby city
    assert frame.loc[3, "geo_precision"] == "region"
    assert frame.loc[3, "admin1"] == "Kharkiv"  # the file's own value is kept
    placed = {p.row: p.message for p in report.warnings if p.column == "town/city"}
    assert "placed at 'Irpin'" in placed[2] and "Kharkiv Oblast" in placed[3]
    assert any(p.row == 4 and "'Zzyzx' is not in the gazetteer" in p.message for p in report.errors)
    # the option turns it off: such rows are rejected
    assert read_incidents(path, geocode=False).report.rows_loaded == 0


def test_generic_arms_words_give_a_class_and_keep_the_text(tmp_path: Path) -> None:
    from geodata import read_incidents

    path = tmp_path / "cir_arms.csv"
    path.write_text("\n".join([
        HEADER,
        "B1,02/03/2022,Bombing or explosion,t,d,50.0,36.2,Ukraine,Kharkiv,,Kharkiv,MLRS,2,https://t.me/x/1,",
        "B2,02/03/2022,Bombing or explosion,t,d,50.0,36.2,Ukraine,Kharkiv,,Kharkiv,Cruise missile,2,u,",
        "B3,02/03/2022,Bombing or explosion,t,d,50.0,36.2,Ukraine,Kharkiv,,Kharkiv,Something new,2,u,",
    ]) + "\n", encoding="utf-8")
    result = read_incidents(path)
    frame = result.frame
    assert frame["munition"].tolist() == ["MLRS", "Cruise missile", "Something new"]
    assert frame["munition_class"].astype(str).tolist() == ["rocket artillery", "cruise missile", "unknown"]
    assert any(p.row == 4 and "Something new" in p.message for p in result.report.warnings)


def test_mixed_date_formats_in_one_file(tmp_path: Path) -> None:
    path = tmp_path / "cir_dates.csv"
    row = "C{n},{date},Bombing or explosion,t,d,50.0,36.2,Ukraine,Kharkiv,,Kharkiv,,2,u,Geolocated"
    path.write_text("\n".join([
        HEADER,
        row.format(n=1, date="2022-03-01T10:15:00Z"),
        row.format(n=2, date="2022-03-01"),
        row.format(n=3, date="13/03/2022"),
        row.format(n=4, date="03/04/2022"),  # day first, as 13/03 in the same file proves
    ]) + "\n", encoding="utf-8")
    from geodata import read_incidents

    result = read_incidents(path)
    frame, report = result.frame, result.report
    assert report.rows_rejected == 0
    assert frame.loc[2, "occurred_at"] == pd.Timestamp("2022-03-01 10:15", tz="UTC")
    assert frame.loc[2, "time_precision"] == "exact"
    assert frame.loc[3, "time_precision"] == "day"
    assert frame.loc[5, "occurred_at"].tz_convert("Europe/Kyiv").date().isoformat() == "2022-04-03"
    assert not [p for p in report.warnings if p.column == "date"]  # the order was proven, not assumed


def test_ambiguous_dates_are_read_day_first_and_said_once(tmp_path: Path) -> None:
    from geodata import read_incidents

    path = tmp_path / "cir_ambiguous.csv"
    row = "D{n},{date},Bombing or explosion,t,d,50.0,36.2,Ukraine,Kharkiv,,Kharkiv,,2,u,Geolocated"
    path.write_text("\n".join([HEADER, row.format(n=1, date="03/04/2022"), row.format(n=2, date="05/04/2022")])
                    + "\n", encoding="utf-8")
    result = read_incidents(path)
    assert [d.month for d in result.frame["occurred_at"].dt.tz_convert("Europe/Kyiv")] == [4, 4]
    [note] = [p for p in result.report.warnings if "ambiguous" in p.message]
    assert note.row is None and note.column == "date" and "DD/MM/YYYY" in note.message
