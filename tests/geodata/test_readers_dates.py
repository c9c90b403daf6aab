"""Date layouts partners use: DD-MM-YYYY, two-digit years, English month names."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata import read_incidents
from geodata.timeparse import DAY, EXACT, parse_times


def _load(tmp_path: Path, dates: list[str], name: str = "partner.csv"):
    path = tmp_path / name
    lines = ["date;lat;lon"] + [f"{d};50.45;30.52" for d in dates]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return read_incidents(path)


def _kyiv_days(frame) -> list[str]:
    return frame["occurred_at"].dt.tz_convert("Europe/Kyiv").dt.strftime("%Y-%m-%d %H:%M").tolist()


def test_dash_dates_day_first_decided_from_the_data(tmp_path: Path) -> None:
    result = _load(tmp_path, ["02-06-2024", "13-06-2024 01:30", "05-07-2024"])
    assert result.report.rows_loaded == 3 and not result.report.errors
    assert _kyiv_days(result.frame) == ["2024-06-02 00:00", "2024-06-13 01:30", "2024-07-05 00:00"]
    assert result.frame["time_precision"].tolist() == ["day", "exact", "day"]
    assert not any("ambiguous" in p.message for p in result.report.warnings)


def test_dash_dates_month_first_decided_from_the_data(tmp_path: Path) -> None:
    result = _load(tmp_path, ["06-02-2024", "06-13-2024"])
    assert not result.report.errors
    assert _kyiv_days(result.frame) == ["2024-06-02 00:00", "2024-06-13 00:00"]


def test_ambiguous_dash_dates_are_read_day_first_and_said_once(tmp_path: Path) -> None:
    result = _load(tmp_path, ["02-06-2024", "03-06-2024"])
    assert _kyiv_days(result.frame) == ["2024-06-02 00:00", "2024-06-03 00:00"]
    notes = [p for p in result.report.warnings if "ambiguous" in p.message]
    assert len(notes) == 1 and notes[0].row is None and "DD-MM-YYYY" in notes[0].message
    assert read_incidents(tmp_path / "partner.csv", dayfirst=False).frame["occurred_at"].dt.month.tolist() == [2, 3]


def test_two_digit_years_are_this_century_with_one_warning(tmp_path: Path) -> None:
    # every row DD.MM.YY: once read as the year 22 (and stored as a date in 1775)
    result = _load(tmp_path, ["12.03.22", "13.03.22 23:10", "14.03.22"])
    assert result.report.rows_loaded == 3 and not result.report.errors
    assert _kyiv_days(result.frame) == ["2022-03-12 00:00", "2022-03-13 23:10", "2022-03-14 00:00"]
    notes = [p for p in result.report.warnings if "20YY" in p.message]
    assert len(notes) == 1 and notes[0].row is None and "'12.03.22' as 2022-03-12" in notes[0].message
    slashed = _load(tmp_path, ["25/02/24", "26-02-24"], name="slashed.csv")
    assert _kyiv_days(slashed.frame) == ["2024-02-25 00:00", "2024-02-26 00:00"]


def test_four_digit_years_give_no_two_digit_warning(tmp_path: Path) -> None:
    result = _load(tmp_path, ["12.03.2022", "13-03-2022"])
    assert not any("20YY" in p.message for p in result.report.problems)


def test_english_month_names(tmp_path: Path) -> None:
    result = _load(tmp_path, ["2 June 2024", "June 2, 2024", "2 Jun 2024", "Jun 2 2024 01:30", "02 JUNE 2024",
                              "30 Sept 2024", "2 Junk 2024", "31 Feb 2024"])
    report = result.report
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (8, 6, 2)
    assert _kyiv_days(result.frame) == ["2024-06-02 00:00"] * 3 + ["2024-06-02 01:30", "2024-06-02 00:00",
                                                                    "2024-09-30 00:00"]
    assert result.frame["time_precision"].tolist() == ["day", "day", "day", "exact", "day", "day"]
    errors = {p.row: p.message for p in report.errors}
    assert set(errors) == {8, 9}
    assert "'2 Junk 2024' is not a date" in errors[8]
    assert "not a valid calendar date" in errors[9]


def test_mixed_separators_in_one_date_are_not_a_date(tmp_path: Path) -> None:
    result = _load(tmp_path, ["02-06.2024", "02.06.2024"])
    assert [p.row for p in result.report.errors] == [2]


_LAYOUTS = ("%d-%m-%Y", "%d.%m.%Y", "%d.%m.%y", "%d %B %Y", "%B %d, %Y", "%d %b %Y", "%b %d %Y", "%Y-%m-%d")


@settings(max_examples=60, deadline=None)
@given(days=st.lists(st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)), min_size=1, max_size=30),
       layout=st.sampled_from(_LAYOUTS), with_time=st.booleans())
def test_any_day_in_a_supported_layout_reads_back(days: list[dt.date], layout: str, with_time: bool) -> None:
    # a day above 12 first settles the order of the dash dates, as a real file of them would
    days = [dt.date(2024, 6, 13)] + days
    clock = " 13:45" if with_time else ""
    values = pd.Series([d.strftime(layout) + clock for d in days])
    parsed = parse_times(values, tz="UTC")
    assert not parsed.bad.any()
    assert [t.date() for t in parsed.utc] == days
    assert (parsed.precision == (EXACT if with_time else DAY)).all()
