"""Excel, GeoJSON, GeoPackage, Shapefile and ACLED files; format detection."""
from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point, Polygon

from geodata import CANONICAL_COLUMNS, DataError, read_incidents
from geodata.readers import MissingColumnsError, detect_format

CSV = (
    "event_id,occurred_at,latitude,longitude,location,admin1,geo_precision,munition,outcome,killed,injured,"
    "source,source_url,notes,analyst\n"
    "k1,2024-06-02 01:05,50.45,30.52,Kyiv,Kyiv City,exact,KN-23,hit,2,5,Air Force,https://example.org/1,"
    "\"father and son, suburbs\",A\n"
    "k2,2024-06-02,50.30,30.40,Boiarka,Kyiv Oblast,settlement,Hwasong-11A,exploded in the air,,,Police,,,B\n"
    "k3,2024-06,49.99,36.23,Kharkiv,Kharkiv Oblast,region,Mystery drone,debris,0,0,,,,C\n"
)


@pytest.fixture()
def canonical(tmp_path: Path) -> gpd.GeoDataFrame:
    path = tmp_path / "source.csv"
    path.write_text(CSV, encoding="utf-8")
    return read_incidents(path).frame


def _write_vector(frame: gpd.GeoDataFrame, path: Path, *, times_as_text: bool) -> None:
    out = frame.reset_index(drop=True).copy()
    if times_as_text:
        out["occurred_at"] = out["occurred_at"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    for name in ("time_precision", "geo_precision", "munition_class", "outcome"):
        out[name] = out[name].astype("str")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # shapefile field-name laundering
        pyogrio.write_dataframe(out, path)


def _same(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> None:
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    assert list(a.columns) == list(b.columns)
    for column in a.columns:
        if column == "geometry":
            assert a.geometry.geom_equals(b.geometry).all()
        else:
            pd.testing.assert_series_equal(a[column], b[column], check_dtype=True, obj=column)


@pytest.mark.parametrize(("suffix", "fmt"), [(".gpkg", "gpkg"), (".geojson", "geojson")])
@pytest.mark.parametrize("times_as_text", [True, False])
def test_canonical_vector_file_round_trips_exactly(tmp_path, canonical, suffix, fmt, times_as_text) -> None:
    path = tmp_path / f"events{suffix}"
    _write_vector(canonical, path, times_as_text=times_as_text)
    assert detect_format(path) == fmt
    result = read_incidents(path)
    assert result.report.format == fmt
    assert result.report.rows_loaded == 3 and not result.report.errors
    assert list(result.frame.index) == [1, 2, 3]  # the first feature is row 1
    _same(canonical, result.frame)


def test_shapefile_with_cut_field_names(tmp_path, canonical) -> None:
    path = tmp_path / "events.shp"
    _write_vector(canonical, path, times_as_text=True)
    assert detect_format(path) == "shapefile"
    frame = read_incidents(path).frame
    assert list(frame.columns)[: len(CANONICAL_COLUMNS)] == list(CANONICAL_COLUMNS)
    assert frame["occurred_at"].tolist() == canonical["occurred_at"].tolist()
    assert frame["munition_class"].tolist() == canonical["munition_class"].tolist()
    assert frame["time_precision"].tolist() == ["exact", "day", "month"]


def test_vector_file_in_another_crs_and_polygons(tmp_path) -> None:
    frame = gpd.GeoDataFrame(
        {"date": ["2024-06-02", "2024-06-03"], "weapon": ["Kalibr", "Grad"]},
        geometry=[Point(30.52, 50.45), Polygon([(36, 49.9), (36.4, 49.9), (36.4, 50.1), (36, 50.1)])],
        crs="EPSG:4326",
    ).to_crs("EPSG:3857")
    path = tmp_path / "mixed.gpkg"
    pyogrio.write_dataframe(frame, path)
    result = read_incidents(path)
    out = result.frame
    assert out.crs.to_epsg() == 4326
    assert out.geometry.iloc[0].x == pytest.approx(30.52) and out.geometry.iloc[0].y == pytest.approx(50.45)
    assert out["munition"].tolist() == ["3M-14 Kalibr", "Grad"]
    assert [p.row for p in result.report.warnings if p.column == "geometry"] == [2]


def test_geojson_feature_without_geometry_is_rejected(tmp_path) -> None:
    path = tmp_path / "events.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": ['
        '{"type": "Feature", "properties": {"date": "2024-06-02", "weapon": "KN-23"},'
        ' "geometry": {"type": "Point", "coordinates": [30.52, 50.45]}},'
        '{"type": "Feature", "properties": {"date": "2024-06-02", "weapon": "KN-23"}, "geometry": null}]}',
        encoding="utf-8",
    )
    report = read_incidents(path).report
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (2, 1, 1)
    assert [(p.row, p.column) for p in report.errors] == [(2, "geometry")]


def test_excel_workbook(tmp_path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["ID", "Дата", "Широта", "Довгота", "Зброя", "Результат", "Коментар"])
    ws.append(["k1", dt.datetime(2024, 6, 2, 1, 30), 50.45, 30.52, "Калібр", "збито", "ніч"])
    ws.append(["k2", dt.date(2024, 6, 2), 50.45, 30.52, "Х-101", "влучання", None])
    ws.append([None] * 7)
    ws.append(["k3", "03.06.2024 14:00", "50,1", "30,2", "Іскандер-М", "уламки", None])
    ws.append(["k4", "someday", 50.1, 30.2, "Іскандер-М", "уламки", None])
    path = tmp_path / "partner.xlsx"
    wb.save(path)
    assert detect_format(path) == "xlsx"
    result = read_incidents(path)
    frame, report = result.frame, result.report
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (4, 3, 1)
    assert list(frame.index) == [2, 3, 5]  # sheet row numbers; the blank row 4 is not a record
    assert frame["time_precision"].tolist() == ["exact", "day", "exact"]
    assert frame.loc[2, "occurred_at"] == pd.Timestamp("2024-06-01T22:30Z")
    assert frame["munition"].tolist() == ["3M-14 Kalibr", "Kh-101", "9M723 Iskander-M"]
    assert frame["outcome"].tolist() == ["intercepted", "impact", "debris"]
    assert frame.loc[5].geometry.y == 50.1
    assert frame["Коментар"].tolist()[0] == "ніч"
    assert [(p.row, p.column) for p in report.errors] == [(6, "Дата")]


ACLED = (
    "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,actor1,admin1,"
    "admin2,location,latitude,longitude,geo_precision,source,source_scale,notes,fatalities,tags,timestamp\n"
    'UKR1,02 June 2024,2024,1,Political violence,Explosions/Remote violence,Air/drone strike,Military Forces '
    'of Russia,Kyiv,Kyiv,Kyiv,50.4501,30.5234,1,Ukrinform,National,"On 2 June 2024, Russian forces launched '
    'Kh-101 cruise missiles at Kyiv; a missile hit a warehouse.",2,,1717400000\n'
    "UKR2,2024-06-02,2024,2,Political violence,Explosions/Remote violence,Shelling/artillery/missile attack,"
    "Military Forces of Russia,Kharkiv,Kharkiv,Kharkiv,49.99,36.23,2,Suspilne,National,"
    '"A ballistic missile struck Kharkiv; debris fell on a house.",0,,1717400000\n'
    "UKR3,2024-06-03,2024,1,Political violence,Battles,Armed clash,Military Forces of Russia,Donetsk,Pokrovsk,"
    "Pokrovsk,48.28,37.18,1,ISW,National,Clashes near Pokrovsk.,0,,1717400000\n"
    "UKR4,2024-06-03,2024,3,Political violence,Explosions/Remote violence,Remote explosive/landmine/IED,"
    "Unidentified,Odesa,Odesa,Odesa,46.48,30.72,3,Police,Local,A landmine exploded.,1,,1717400000\n"
    "UKR5,2024-06-04,2024,1,Political violence,Explosions/Remote violence,Air/drone strike,Military Forces "
    'of Russia,Odesa,Odesa,Odesa,46.48,30.72,1,Air Force,National,"Geran-2 drones attacked Odesa; all were '
    'shot down.",0,,1717400000\n'
)


def _check_acled(result) -> None:
    frame, report = result.frame, result.report
    assert report.format == "acled"
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (5, 4, 1)
    assert [(p.row, p.column) for p in report.errors] == [(4, "sub_event_type")]
    assert "Armed clash" in report.errors[0].message
    assert frame["event_id"].tolist() == ["UKR1", "UKR2", "UKR4", "UKR5"]
    assert frame["munition"].tolist()[0] == "Kh-101" and pd.isna(frame["munition"].tolist()[1])
    assert frame["munition"].tolist()[3] == "Shahed-136"
    assert frame["munition_class"].tolist() == ["cruise missile", "ballistic missile", "unknown", "loitering munition"]
    assert frame["outcome"].tolist() == ["impact", "debris", "unknown", "intercepted"]
    assert frame["geo_precision"].tolist() == ["exact", "settlement", "region", "exact"]
    assert frame["time_precision"].tolist() == ["day", "month", "month", "day"]
    assert frame["killed"].tolist() == [2, 0, 1, 0]
    assert frame.loc[2, "occurred_at"] == pd.Timestamp("2024-06-01T21:00Z")
    assert {"sub_event_type", "actor1", "admin2", "fatalities"} - {"fatalities"} <= set(frame.columns)


def test_acled_csv(tmp_path) -> None:
    path = tmp_path / "acled_export.csv"
    path.write_text(ACLED, encoding="utf-8")
    assert detect_format(path) == "acled"
    _check_acled(read_incidents(path))


def test_acled_workbook(tmp_path) -> None:
    import csv
    import io

    wb = openpyxl.Workbook()
    for record in csv.reader(io.StringIO(ACLED)):
        wb.active.append([int(v) if v.isdigit() else v for v in record])
    path = tmp_path / "acled_export.xlsx"
    wb.save(path)
    assert detect_format(path) == "acled"
    _check_acled(read_incidents(path))


def test_forced_format_reads_acled_as_plain_table(tmp_path) -> None:
    path = tmp_path / "acled_export.csv"
    path.write_text(ACLED, encoding="utf-8")
    result = read_incidents(path, format="csv", columns={"event_date": "occurred_at"})
    report = result.report
    assert report.format == "csv"
    # every event kept (no strike filter); the plain reader reads '02 June 2024' too
    assert (report.rows_read, report.rows_loaded) == (5, 5)
    assert not report.errors
    assert result.frame.loc[2, "occurred_at"] == pd.Timestamp("2024-06-01T21:00Z")


def test_damaged_files_raise_data_error(tmp_path) -> None:
    gpkg = tmp_path / "bad.gpkg"
    gpkg.write_bytes(b"SQLite format 3\x00" + b"\x00garbage" * 100)
    xlsx = tmp_path / "bad.xlsx"
    xlsx.write_bytes(b"PK\x03\x04" + b"\x00not a zip" * 100)
    for path in (gpkg, xlsx):
        with pytest.raises(DataError) as info:
            read_incidents(path)
        assert str(path) in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(DataError, match="xlsx"):
        read_incidents(gpkg, format="xlsx")


def test_shipped_sample_loads_clean() -> None:
    sample = pytest.importorskip("geodata.sample")
    result = read_incidents(sample.sample_path())
    assert result.report.format == "gpkg"
    assert result.report.rows_loaded == result.report.rows_read > 0
    assert not result.report.errors
    assert list(result.frame.columns)[: len(CANONICAL_COLUMNS)] == list(CANONICAL_COLUMNS)


def test_excel_title_rows_and_cells_beyond_the_header(tmp_path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Strike report, June"])
    ws.append([])
    ws.append(["ID", "Date", "Lat", "Lon"])
    ws.append(["k1", "2024-06-02", 50.45, 30.52, "stray note"])
    path = tmp_path / "titled.xlsx"
    wb.save(path)
    result = read_incidents(path)
    assert list(result.frame.index) == [4]
    assert result.frame["column_5"].tolist() == ["stray note"]  # kept, not dropped
    assert any("Strike report, June" in p.message for p in result.report.warnings)


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def test_excel_reads_the_first_sheet_with_events_and_says_so(tmp_path) -> None:
    path = _workbook(tmp_path / "book.xlsx", {
        "Readme": [["Title", "Author"], ["Strike list", "Analyst"]],
        "Places": [["date", "notes"], ["2024-06-02", "no coordinates"]],
        "Events": [["ID", "Date", "Lat", "Lon"], ["k1", "2024-06-02", 50.45, 30.52]],
        "Archive": [["ID", "Date", "Lat", "Lon"], ["old", "2023-01-01", 50.0, 30.0]],
    })
    result = read_incidents(path)
    assert result.frame["event_id"].tolist() == ["k1"]
    notes = [p.message for p in result.report.warnings if p.row is None and "sheet" in p.message]
    assert len(notes) == 1
    assert "sheet 'Events' read" in notes[0]
    assert "skipped 'Readme' (no date column and no coordinates or location)" in notes[0]
    assert "'Places' (no coordinates or location)" in notes[0]
    assert "not read: 'Archive'" in notes[0]
    # the sheet option still chooses
    assert read_incidents(path, sheet="Archive").frame["event_id"].tolist() == ["old"]


def test_excel_with_no_usable_sheet_lists_the_sheets(tmp_path) -> None:
    path = _workbook(tmp_path / "books.xlsx", {
        "Books": [["Title", "Author"], ["War and Peace", "Tolstoy"]],
        "Loans": [["Reader", "Due"], ["Ann", "2024-06-02"]],
    })
    with pytest.raises(MissingColumnsError) as info:
        read_incidents(path)
    message = str(info.value)
    assert "the file's columns: Title, Author" in message  # the first sheet's, as before
    assert "'Books': no date column and no coordinates or location" in message
    assert "'Loans': no date column and no coordinates or location" in message
    assert "sheet option" in message and "\n" not in message
    assert info.value.headers == ("Title", "Author")


def test_excel_formula_without_a_saved_value_is_reported_per_cell(tmp_path) -> None:
    # openpyxl saves formulas without a calculated value, like any program that does not calculate
    path = _workbook(tmp_path / "formulas.xlsx", {"Events": [
        ["ID", "Date", "Lat", "Lon", "Killed"],
        ["k1", "2024-06-02", 50.45, 30.52, "=1+1"],
        ["k2", "=TODAY()", 50.45, 30.52, 0],
        ["k3", "2024-06-03", 50.45, 30.52, 1],
    ]})
    report = read_incidents(path).report
    formula = [(p.row, p.column, p.severity) for p in report.problems if "formula" in p.message]
    assert formula == [(2, "Killed", "warning"), (3, "Date", "warning")]
    assert all("formula with no saved value (save the file in Excel first)" in p.message
               for p in report.problems if "formula" in p.message)
    assert (report.rows_loaded, report.rows_rejected) == (2, 1)  # k2 has no date: rejected, and said why


def test_excel_formula_with_a_saved_value_is_read_silently(tmp_path) -> None:
    path = _workbook(tmp_path / "saved.xlsx", {"Events": [["ID", "Date", "Lat", "Lon", "Killed"],
                                                          ["k1", "2024-06-02", 50.45, 30.52, "=1+1"]]})
    # what Excel does on save: the formula keeps its calculated value beside it
    import zipfile

    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/sheet"))
    assert b"<f>1+1</f><v />" in parts[sheet]  # no saved value
    parts[sheet] = parts[sheet].replace(b"<f>1+1</f><v />", b"<f>1+1</f><v>2</v>")
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    result = read_incidents(path)
    assert result.frame["killed"].tolist() == [2]
    assert not [p for p in result.report.problems if "formula" in p.message]


@pytest.mark.parametrize("content", [b"PK\x03\x04garbage", b"PK\x03\x04" + b"garbage " * 200])
def test_damaged_workbook_is_named_as_such(tmp_path, content: bytes) -> None:
    path = tmp_path / "report.xlsx"
    path.write_bytes(content)
    with pytest.raises(DataError) as info:
        read_incidents(path)
    message = str(info.value)
    assert str(path) in message and "damaged or not an Excel workbook" in message
    assert "garbage" not in message and "columns" not in message


def test_zip_without_a_workbook_is_not_read_as_text(tmp_path) -> None:
    import zipfile

    path = tmp_path / "bundle.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "date,lat,lon\n2024-06-02,50.45,30.52\n")
    with pytest.raises(DataError, match="a zip archive holding no workbook: damaged or not an Excel workbook"):
        read_incidents(path)


def test_geojson_without_features_says_so(tmp_path) -> None:
    path = tmp_path / "empty.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_incidents(path)
    assert str(info.value) == f"{path}: no features (the geojson file holds no events)"
