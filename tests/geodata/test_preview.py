"""A partner's file previewed before reading: decoded, split, and its columns recognised."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from geodata import read_incidents
from geodata.errors import DataError
from geodata.readers.preview import MAPPABLE, needs_mapping, preview_table, suggest_columns

# A partner export: its own Ukrainian headers, Windows-1251, semicolons, dates as 24.02.2022,
# decimal commas; row 4 has no latitude and row 6 an impossible date (a blank line is row 5).
PARTNER = (
    "№;Дата удару;Населений пункт;Область;Широта;Довгота;Боєприпас;Результат;Загинули;Поранені;Джерело;Примітки\n"
    "1;24.02.2022;Київ;Київська;50,45;30,52;Калібр;impact;2;;ДСНС;перший удар\n"
    "2;24.02.2022;Харків;Харківська;49.99;36.23;Іскандер-М;impact;;3;ДСНС;\n"
    "3;25.02.2022;Бровари;Київська;;30.79;Shahed-136;intercepted;0;0;;без координат\n"
    "\n"
    "4;31.02.2022;Житомир;Житомирська;50.25;28.66;Х-101;;;;;дата не існує\n"
)


@pytest.fixture
def partner_csv(tmp_path: Path) -> Path:
    path = tmp_path / "partner.csv"
    path.write_bytes(PARTNER.encode("cp1251"))
    return path


def test_preview_decodes_windows_1251_and_splits_on_semicolons(partner_csv):
    preview = preview_table(partner_csv)
    assert preview.encoding == "cp1251"
    assert preview.delimiter == ";"
    assert preview.headers[:3] == ["№", "Дата удару", "Населений пункт"]
    assert preview.rows[0][:3] == ["1", "24.02.2022", "Київ"]
    assert preview.rows[2][4] == ""  # the empty latitude stays visible as empty
    # the blank line is not a record; numbers are those the load report uses
    assert preview.row_numbers == [2, 3, 4, 6]
    assert all(len(r) == len(preview.headers) for r in preview.rows)


def test_preview_suggests_every_canonical_column_from_ukrainian_headers(partner_csv):
    assert preview_table(partner_csv).suggested == {
        "event_id": "№",
        "occurred_at": "Дата удару",
        "latitude": "Широта",
        "longitude": "Довгота",
        "location": "Населений пункт",
        "admin1": "Область",
        "munition": "Боєприпас",
        "outcome": "Результат",
        "killed": "Загинули",
        "injured": "Поранені",
        "source": "Джерело",
        "notes": "Примітки",
    }


def test_suggestions_recognise_russian_headers_and_phrases():
    headers = ["Дата", "Время", "Широта, °", "Долгота, °", "Населенный пункт", "Боеприпас",
               "Кількість загиблих", "Кількість поранених", "Посилання на джерело", "Комментарий"]
    assert suggest_columns(headers) == {
        "occurred_at": "Дата",
        "time": "Время",
        "latitude": "Широта, °",
        "longitude": "Долгота, °",
        "location": "Населенный пункт",
        "munition": "Боеприпас",
        "killed": "Кількість загиблих",
        "injured": "Кількість поранених",
        "source_url": "Посилання на джерело",
        "notes": "Комментарий",
    }


def test_a_header_is_suggested_for_one_column_only():
    suggested = suggest_columns(["Дата та час", "lat", "lon"])
    assert suggested == {"occurred_at": "Дата та час", "latitude": "lat", "longitude": "lon"}


def test_unknown_headers_are_not_guessed():
    assert suggest_columns(["Колонка 1", "Колонка 2"]) == {}


def test_suggested_mapping_reads_every_row_with_row_numbers(tmp_path):
    partner_csv = tmp_path / "partner.csv"
    partner_csv.write_bytes(PARTNER.replace("Дата удару", "День удару").encode("cp1251"))
    with pytest.raises(DataError) as info:
        read_incidents(partner_csv)  # without a mapping the date column ("День удару") is not found
    assert needs_mapping(info.value)
    assert info.value.missing == ("occurred_at",)

    preview = preview_table(partner_csv)
    columns = {header: name for name, header in preview.suggested.items()}
    result = read_incidents(partner_csv, columns=columns, dayfirst=True)
    report = result.report
    assert report.rows_read == 4 == report.rows_loaded + report.rows_rejected
    assert report.rows_loaded == 2
    rejected = {p.row for p in report.errors}
    assert rejected == {4, 6}
    assert list(result.frame["location"]) == ["Київ", "Харків"]
    assert str(result.frame["occurred_at"].iloc[0]) == "2022-02-23 22:00:00+00:00"  # midnight in Kyiv


def test_encoding_and_delimiter_can_be_overridden(partner_csv):
    preview = preview_table(partner_csv, encoding="utf-8", delimiter=",")
    assert preview.encoding == "utf-8" and preview.delimiter == ","
    assert len(preview.headers) == 1  # one undivided, garbled column: what the person sees and fixes
    assert "Широта" not in preview.headers[0]


def test_unknown_encoding_is_a_data_error(partner_csv):
    with pytest.raises(DataError, match="partner.csv: unknown encoding"):
        preview_table(partner_csv, encoding="no-such-codec")


def test_nrows_limits_the_preview(tmp_path):
    path = tmp_path / "many.csv"
    path.write_text("date,lat,lon\n" + "".join(f"2024-01-{d:02d},50,30\n" for d in range(1, 29)), encoding="utf-8")
    preview = preview_table(path, nrows=5)
    assert len(preview.rows) == 5 and preview.row_numbers == [2, 3, 4, 5, 6]


def test_excel_preview(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    path = tmp_path / "partner.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Дата", "Широта", "Довгота", "Населений пункт"])
    ws.append(["24.02.2022", 50.45, 30.52, "Київ"])
    wb.save(path)
    preview = preview_table(path)
    assert preview.format == "xlsx" and preview.encoding is None
    assert preview.rows == [["24.02.2022", "50.45", "30.52", "Київ"]]
    assert preview.suggested["location"] == "Населений пункт"


def test_geojson_preview_needs_no_coordinate_columns(tmp_path):
    path = tmp_path / "points.geojson"
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [30.5, 50.4]},
                 "properties": {"Дата": "24.02.2022", "Широта": "ignored", "Місто": "Київ"}}]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    preview = preview_table(path)
    assert preview.has_geometry
    assert preview.rows == [["24.02.2022", "ignored", "Київ"]]
    assert "latitude" not in preview.suggested
    assert preview.suggested["occurred_at"] == "Дата"


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        preview_table(tmp_path / "absent.csv")


def test_needs_mapping_only_for_missing_columns(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(DataError) as info:
        read_incidents(empty)
    assert not needs_mapping(info.value)
    assert not needs_mapping(None)
    # the kind of error decides, not its wording
    assert not needs_mapping(DataError("x.csv: no date column found; name them with columns="))


def test_plain_open_and_suggestions_share_one_name_table():
    from geodata.readers.columns import NAMES, map_headers

    # every usual name plain Open applies is also what the mapping form suggests
    for target, names in NAMES.items():
        if target not in MAPPABLE:
            continue
        for name in names.exact:
            header = name.replace("_", " ")
            expected = "occurred_at" if target == "time" else target  # a lone time column holds the date
            assert map_headers([header], path="") == {header: expected}, header
            assert suggest_columns([header]) == {expected: header}, header


def test_preview_shows_a_quoted_bare_carriage_return(tmp_path):
    path = tmp_path / "cr.csv"
    path.write_bytes(b'date,lat,lon,notes\r\n2024-06-02,50.4,30.5,"x\r=1"\r\n2024-06-03,50.4,30.5,y\r\n')
    preview = preview_table(path)
    assert preview.rows == [["2024-06-02", "50.4", "30.5", "x\r=1"], ["2024-06-03", "50.4", "30.5", "y"]]
    assert preview.row_numbers == [2, 3]


def test_preview_splits_lines_like_the_reader(tmp_path):
    path = tmp_path / "mixed.csv"  # a stray carriage return ends a line, as in the reader
    path.write_bytes(b"date,lat,lon\n2024-06-02,50.4,30.5\n\r2024-06-03,50.5,30.5\n")
    preview = preview_table(path)
    assert preview.rows == [["2024-06-02", "50.4", "30.5"], ["2024-06-03", "50.5", "30.5"]]
    assert preview.row_numbers == list(read_incidents(path).frame.index) == [2, 4]


def test_excel_preview_reads_only_the_rows_shown(tmp_path):
    from geodata.readers.excel import read_sheet

    openpyxl = pytest.importorskip("openpyxl")
    path = tmp_path / "long.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Дата", "Широта", "Довгота"])
    for day in range(1, 29):
        ws.append([f"{day:02d}.02.2022", 50.45, 30.52])
    wb.save(path)
    preview = preview_table(path, nrows=5)
    assert len(preview.rows) == 5 and preview.row_numbers == [2, 3, 4, 5, 6]
    assert preview.rows[-1][0] == "05.02.2022"
    headers, records, numbers = read_sheet(path, max_rows=3)
    assert headers == ["Дата", "Широта", "Довгота"] and len(records) == 3 and numbers == [2, 3, 4]
    assert len(read_sheet(path)[1]) == 28
