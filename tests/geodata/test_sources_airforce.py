"""Ukrainian Air Force attack reports (one row = one wave of one model): small files written here."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from geodata.errors import DataError
from geodata.readers import airforce

HEADER = ("time_start,time_end,model,launch_place,target,target_main,carrier,launched,destroyed,"
          "not_reach_goal,still_attacking,border_crossing,is_shahed,affected region,source")
ROWS = [
    # row 2: overnight wave, date + HH:MM, counts as floats, empty not_reach_goal
    "2025-06-01 19:00,2025-06-02 09:00,Shahed-136/131,Kursk oblast and Bryansk oblast,Kyiv oblast,Kyiv,,"
    "57.0,53.0,,,,1.0,Kyiv oblast,https://example.org/1",
    # row 3: stray spaces inside and around the time
    "2025-06-01  23:30 , 2025-06-02 05:00,KN-23,Kursk oblast,Kyiv,Kyiv,,4.0,0.0,,,,0.0,,https://example.org/1",
    # row 4: date only
    "2025-06-03,2025-06-03,X-101/X-555,Caspian Sea,south,,Tu-95MS,10,8,1,,,0,,https://example.org/2",
    # row 5: mistyped year and a count that is not a whole number
    "2202-06-03,2025-06-03,Kalibr,Black Sea,\"Dnipropetrovsk oblast, Kryvyi Rih Raion\",,,5.5,x,,,,0,,x",
    # row 6: end before start, text in a count
    "2025-06-05 10:00,2025-06-04 09:00,Iskander-M,Belgorod oblast,Kharkiv oblast,,,3,about two,,,,0,,x",
    # row 7: no model
    "2025-06-06,2025-06-06,,Kursk oblast,Sumy oblast,,,2,2,,,,0,,x",
]


@pytest.fixture
def waves_file(tmp_path: Path) -> Path:
    path = tmp_path / "missile_attacks_daily.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    return path


def test_sniff_from_the_header(waves_file: Path, tmp_path: Path) -> None:
    assert airforce.sniff(tmp_path / "renamed.txt", waves_file.read_bytes()[:2048])
    assert not airforce.sniff(waves_file, b"event_id,occurred_at,latitude,longitude,munition\n")


def test_times_with_stray_spaces_and_date_only_windows(waves_file: Path) -> None:
    raw, _, _ = airforce.parse(waves_file)
    # 19:00 Kyiv summer time (UTC+3) is 16:00 UTC
    assert raw.loc[2, "time_start"] == pd.Timestamp("2025-06-01 16:00", tz="UTC")
    assert raw.loc[2, "time_end"] == pd.Timestamp("2025-06-02 06:00", tz="UTC")
    assert raw.loc[2, "time_precision"] == "exact"
    assert raw.loc[3, "time_start"] == pd.Timestamp("2025-06-01 20:30", tz="UTC")
    assert raw.loc[3, "time_end"] == pd.Timestamp("2025-06-02 02:00", tz="UTC")
    # a date-only window covers the whole Kyiv day
    assert raw.loc[4, "time_precision"] == "day"
    assert raw.loc[4, "time_start"] == pd.Timestamp("2025-06-02 21:00", tz="UTC")
    assert raw.loc[4, "time_end"] == pd.Timestamp("2025-06-03 20:59:59", tz="UTC")


def test_float_counts_become_whole_numbers(waves_file: Path) -> None:
    raw, report, _ = airforce.parse(waves_file)
    assert raw.loc[2, "launched"] == 57 and raw.loc[2, "destroyed"] == 53
    assert str(raw["launched"].dtype) == "Int64"
    assert pd.isna(raw.loc[2, "not_reach_goal"])  # empty stays missing, never 0
    bad = {(p.row, p.column): p.message for p in report.warnings}
    assert "'about two' is not a whole non-negative count" in bad[(6, "destroyed")]
    assert pd.isna(raw.loc[6, "destroyed"])


def test_unusable_rows_are_rejected_with_reasons(waves_file: Path) -> None:
    raw, report, rejected = airforce.parse(waves_file)
    assert rejected == {5, 7}
    errors = {(p.row, p.column): p.message for p in report.errors}
    assert "'2202-06-03' is in the future" in errors[(5, "time_start")]
    assert "model is missing" in errors[(7, "model")]
    # end before start: kept, window closed at the end of the start's day, and said so
    assert 6 not in rejected
    assert any(p.row == 6 and p.column == "time_end" and "before time_start" in p.message for p in report.warnings)
    assert raw.loc[6, "time_end"] == pd.Timestamp("2025-06-05 20:59:59", tz="UTC")
    # the column with a space keeps its name
    assert raw.loc[2, "affected region"] == "Kyiv oblast"


def test_read_as_incidents_refuses_and_says_how_to_open(waves_file: Path) -> None:
    with pytest.raises(airforce.WavesFileError, match=r"missile_attacks_daily\.csv.*open it as waves"):
        airforce.read(waves_file)
    assert issubclass(airforce.WavesFileError, DataError)  # the app and CLI show it as one line


def test_blank_lines_do_not_shift_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "waves_blank.csv"
    path.write_text(HEADER + "\n" + ROWS[0] + "\n\n" + ROWS[1].replace("2025-06-01  23:30 ", "2202-06-01") + "\n",
                    encoding="utf-8")
    raw, report, rejected = airforce.parse(path)
    assert list(raw.index) == [2, 4]
    assert rejected == {4}
    assert report.errors[0].row == 4


def test_a_time_the_autumn_clock_change_repeats_is_read_as_summer_time_and_reported(tmp_path: Path) -> None:
    # 27 Oct 2024: Kyiv clocks went from 04:00 EEST back to 03:00 EET, so 03:30 happened twice
    path = tmp_path / "missile_attacks_daily.csv"
    path.write_text(HEADER + "\n2024-10-27 03:30,2024-10-27 06:00,Shahed-136,Kursk oblast,Kyiv oblast,,,"
                    "20,18,,,,1,,x\n", encoding="utf-8")
    raw, report, rejected = airforce.parse(path)
    assert not rejected
    assert raw.loc[2, "time_start"] == pd.Timestamp("2024-10-27 00:30", tz="UTC")  # 03:30 EEST (UTC+3)
    warned = [p for p in report.problems if p.row == 2 and p.column == "time_start"]
    assert len(warned) == 1 and warned[0].severity == "warning" and "clock change" in warned[0].message
