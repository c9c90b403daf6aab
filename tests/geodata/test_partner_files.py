"""A partner's export: Windows-1251, semicolons, Ukrainian headers, 24.02.2022 dates, some bad rows."""
from __future__ import annotations

import geodata

HEADER = "Дата;Час;Широта;Довгота;Населений пункт;Область;Засіб;Наслідок;Загиблі;Примітки"
ROWS = [
    "24.02.2022;05:30;50,45;30,52;Київ;Київська;Калібр;влучання;2;перший удар",
    "24.02.2022;06:10;49,99;36,23;Харків;Харківська;Іскандер-М;збито;;",
    "31.02.2022;07:00;46,48;30,73;Одеса;Одеська;Х-101;влучання;;погана дата",
    "25.02.2022;08:00;;;Львів;Львівська;Шахед-136;збито;;немає координат",
]


def _write(tmp_path):
    path = tmp_path / "partner.csv"
    path.write_bytes(("\r\n".join([HEADER, *ROWS]) + "\r\n").encode("cp1251"))
    return path


def test_weapon_column_named_zasib_is_read_as_the_munition(tmp_path):
    result = geodata.read_incidents(_write(tmp_path))
    frame = result.frame
    # "Засіб" (the weapon used) is the munition column: names resolve to the catalogue.
    assert list(frame["munition"]) == ["3M-14 Kalibr", "9M723 Iskander-M", "Shahed-136"]
    assert list(frame["munition_class"].astype(str)) == ["cruise missile", "ballistic missile", "loitering munition"]
    assert "Засіб" not in frame.columns


def test_bad_rows_are_listed_with_their_row_numbers(tmp_path):
    report = geodata.read_incidents(_write(tmp_path)).report
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (4, 3, 1)
    errors = {p.row for p in report.problems if p.severity == "error"}
    assert errors == {4}  # the header is row 1
    # the row with no coordinates is placed at the town it names, and says so
    placed = [p.message for p in report.warnings if p.row == 5 and p.column == "Населений пункт"]
    assert placed == ["no coordinates: placed at Lviv (settlement precision) from location 'Львів'"]


def test_mapping_form_suggests_hour_and_weapon_columns():
    from geodata.readers.preview import suggest_columns

    # "Година" is the hour; "Тип зброї" (type of weapon) is inflected: neither is an exact header name.
    suggested = suggest_columns(["Дата", "Година", "Широта", "Довгота", "Тип зброї", "Наслідок"])
    assert suggested["time"] == "Година"
    assert suggested["munition"] == "Тип зброї"
    assert suggested["occurred_at"] == "Дата"
