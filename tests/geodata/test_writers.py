"""Data exports: exact rows, round trips, formula neutralisation, atomic writes (no Qt)."""
from __future__ import annotations

import csv
import gc
import json
import os
import shutil
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

import geodata
from geodata import writers
from geodata.errors import DataError
from geodata.schema import (
    CANONICAL_COLUMNS,
    GEO_PRECISION_DTYPE,
    MUNITION_CLASS_DTYPE,
    OUTCOME_DTYPE,
    TIME_PRECISION_DTYPE,
)

FORMATS = ("csv", "geojson", "gpkg", "xlsx")


def make_frame(rows: list[dict]) -> gpd.GeoDataFrame:
    """A canonical frame (the shape read_incidents returns) from plain row dicts."""
    n = len(rows)
    frame = gpd.GeoDataFrame(
        {
            "event_id": pd.array([r["event_id"] for r in rows], dtype="string"),
            "occurred_at": pd.to_datetime([r["occurred_at"] for r in rows], utc=True, format="ISO8601"),
            "time_precision": pd.Categorical([r.get("time_precision", "exact") for r in rows], dtype=TIME_PRECISION_DTYPE),
            "geometry": gpd.points_from_xy([r["lon"] for r in rows], [r["lat"] for r in rows], crs="EPSG:4326"),
            "location": pd.array([r.get("location") for r in rows], dtype="string"),
            "admin1": pd.array([r.get("admin1") for r in rows], dtype="string"),
            "geo_precision": pd.Categorical([r.get("geo_precision", "exact") for r in rows], dtype=GEO_PRECISION_DTYPE),
            "munition": pd.array([r["munition"] for r in rows], dtype="string"),
            "munition_class": pd.Categorical([r["munition_class"] for r in rows], dtype=MUNITION_CLASS_DTYPE),
            "outcome": pd.Categorical([r["outcome"] for r in rows], dtype=OUTCOME_DTYPE),
            "killed": pd.array([r.get("killed") for r in rows], dtype="Int64"),
            "injured": pd.array([r.get("injured") for r in rows], dtype="Int64"),
            "source": pd.array([r.get("source") for r in rows], dtype="string"),
            "source_url": pd.array([r.get("source_url") for r in rows], dtype="string"),
            "notes": pd.array([r.get("notes") for r in rows], dtype="string"),
        },
        geometry="geometry",
        crs="EPSG:4326",
        index=pd.RangeIndex(2, n + 2, name="row"),
    )
    return frame[list(CANONICAL_COLUMNS)]


ROWS = [
    dict(event_id="N-1", occurred_at="2025-09-29T22:40:00Z", lat=50.2847123456789, lon=30.3110987654321,
         location="Боярка, Fastiv raion", admin1="Kyiv Oblast", munition="KN-23", munition_class="ballistic missile",
         outcome="impact", killed=2, injured=0, source="Air Force of Ukraine", source_url="https://example.org/n1",
         notes='A father and his son killed; "private house", roof destroyed\nsecond line'),
    dict(event_id="N-2", occurred_at="2025-09-29T22:41:30.250Z", lat=50.39, lon=30.36, location="Vyshneve",
         admin1="Kyiv Oblast", geo_precision="settlement", munition="KN-23", munition_class="ballistic missile",
         outcome="deviated", killed=None, injured=3, source="Kyiv OVA", notes="Exploded in the air"),
    dict(event_id="S-1", occurred_at="2025-09-19T21:00:00Z", time_precision="day", lat=49.99, lon=36.23,
         location="Kharkiv", admin1="Kharkiv Oblast", geo_precision="region", munition="Shahed-136",
         munition_class="loitering munition", outcome="intercepted", source="Air Force of Ukraine"),
    dict(event_id="C-1", occurred_at="2025-07-31T21:00:00Z", time_precision="month", lat=49.84, lon=24.03,
         location="Львів", admin1="Lviv Oblast", munition="Kh-101", munition_class="cruise missile",
         outcome="unknown", killed=0, injured=None, notes=None),
]


def _normalised(frame: pd.DataFrame) -> pd.DataFrame:
    """Comparable plain values: text as str/None, categories as text, points as lon/lat."""
    out = pd.DataFrame(index=range(len(frame)))
    for name in frame.columns:
        column = frame[name].reset_index(drop=True)
        if name == "geometry":
            out["lon"], out["lat"] = column.x.to_numpy(), column.y.to_numpy()
        elif name == "occurred_at":
            out[name] = pd.to_datetime(column, utc=True).dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
        elif name in ("killed", "injured"):
            out[name] = [None if pd.isna(v) else int(v) for v in column]
        else:
            out[name] = [None if pd.isna(v) else (v if isinstance(v, float) else str(v)) for v in column]
    return out


@pytest.fixture
def frame() -> gpd.GeoDataFrame:
    f = make_frame(ROWS)
    f["priority"] = [-1.5, 2.0, np.nan, 10.25]  # an extra numeric input column, negative included
    f["analyst"] = pd.array(["ok", None, "Ірина", "b"], dtype="string")  # an extra text column
    return f


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_gives_the_same_rows_and_values(tmp_path, frame, fmt):
    path = tmp_path / f"out.{fmt}"
    writers.write_incidents(frame, path)
    result = geodata.read_incidents(str(path))
    assert result.report.rows_read == len(frame)
    assert result.report.rows_rejected == 0
    back = result.frame
    assert list(back.columns) == list(frame.columns)
    pd.testing.assert_frame_equal(_normalised(back), _normalised(frame), check_dtype=False)


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_of_the_sample(tmp_path, fmt):
    from geodata.sample import make_sample

    sample = make_sample(n=400)
    path = tmp_path / f"sample.{fmt}"
    writers.write_incidents(sample, path)
    back = geodata.read_incidents(str(path)).frame
    assert len(back) == len(sample)
    pd.testing.assert_frame_equal(_normalised(back), _normalised(sample), check_dtype=False)


@pytest.mark.parametrize("fmt", FORMATS)
def test_exactly_the_given_rows_are_written(tmp_path, frame, fmt):
    shown = frame[geodata.FilterState(outcomes={"impact", "deviated"}).mask(frame)]
    path = tmp_path / f"shown.{fmt}"
    writers.write_incidents(shown, path)
    back = geodata.read_incidents(str(path)).frame
    assert list(back["event_id"]) == ["N-1", "N-2"]


def test_csv_is_plain_text_with_local_times_and_coordinates(tmp_path, frame):
    path = tmp_path / "out.csv"
    writers.write_csv(frame, path)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        table = list(csv.DictReader(handle))
    # wall time in the working zone (Europe/Kyiv, summer time) with its offset: the same instant
    assert table[0]["occurred_at"] == "2025-09-30T01:40:00+03:00"
    assert table[1]["occurred_at"] == "2025-09-30T01:41:30.25+03:00"
    assert float(table[0]["latitude"]) == 50.2847123456789
    assert float(table[0]["longitude"]) == 30.3110987654321
    assert table[0]["location"] == "Боярка, Fastiv raion"
    assert table[1]["killed"] == ""  # missing stays missing, never 0
    assert table[3]["killed"] == "0"


HOSTILE = ["=cmd|' /C calc'!A0", "+SUM(A1:A2)", "-2+3", "@SUM(1)", "\tTAB", "\rCR"]


def _hostile_frame() -> gpd.GeoDataFrame:
    rows = [dict(ROWS[0], event_id=f"H-{i}", notes=text, source=text) for i, text in enumerate(HOSTILE)]
    f = make_frame(rows)
    f["score"] = [-5, -1, 0, 1, 2, 3]  # negative numbers are numbers, not formulas
    return f


def test_csv_neutralises_formula_text_but_not_numbers(tmp_path):
    path = tmp_path / "hostile.csv"
    writers.write_csv(_hostile_frame(), path)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [r["notes"] for r in table] == ["'" + t for t in HOSTILE]
    assert [r["source"] for r in table] == ["'" + t for t in HOSTILE]
    assert [r["score"] for r in table] == ["-5", "-1", "0", "1", "2", "3"]
    assert float(table[0]["longitude"]) == 30.3110987654321
    # Reading it back gives the text a person sees in a spreadsheet: the apostrophe included.
    # (Five rows: the reader's delimiter sniffing does not yet take a quoted bare CR.)
    writers.write_csv(_hostile_frame().iloc[:5], path)
    back = geodata.read_incidents(str(path)).frame
    assert list(back["notes"]) == ["'" + t for t in HOSTILE[:5]]


def test_xlsx_keeps_formula_text_as_text_and_numbers_as_numbers(tmp_path):
    path = tmp_path / "hostile.xlsx"
    writers.write_xlsx(_hostile_frame(), path)
    sheet = load_workbook(path).active
    header = [c.value for c in sheet[1]]
    notes, score, killed = header.index("notes"), header.index("score"), header.index("killed")
    for row, text in zip(sheet.iter_rows(min_row=2), HOSTILE):
        cell = row[notes]
        assert cell.data_type == "s"  # a string, never a formula
        assert cell.quotePrefix  # Excel's own leading apostrophe: shown and edited as text
        assert cell.value == text.replace("\r", "\n")  # XML keeps no bare CR: it reads back as LF
    assert [r[score].value for r in sheet.iter_rows(min_row=2)] == [-5, -1, 0, 1, 2, 3]
    assert all(r[score].data_type == "n" for r in sheet.iter_rows(min_row=2))
    assert sheet.cell(row=2, column=killed + 1).value == 2
    back = geodata.read_incidents(str(path)).frame
    # The reader trims surrounding white space from text, as it does for every file.
    assert list(back["notes"]) == [t.strip() for t in HOSTILE]


def test_geojson_is_a_feature_collection_of_points(tmp_path, frame):
    path = tmp_path / "out.geojson"
    writers.write_geojson(frame, path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["type"] == "FeatureCollection"
    first = document["features"][0]
    assert first["geometry"] == {"type": "Point", "coordinates": [30.3110987654321, 50.2847123456789]}
    assert first["properties"]["occurred_at"] == "2025-09-29T22:40:00Z"
    assert first["properties"]["killed"] == 2
    assert document["features"][1]["properties"]["killed"] is None


def _files(folder) -> list[str]:
    return sorted(os.listdir(folder))


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_failure_after_writing_leaves_the_old_file_and_no_temporary(tmp_path, frame, fmt, monkeypatch):
    path = tmp_path / f"out.{fmt}"
    writers.write_incidents(frame, path)
    before = path.read_bytes()
    real = writers._WRITERS[fmt]

    def write_then_fail(data, tmp):
        real(data.iloc[:1], tmp)  # a different, complete file in the temporary place
        raise OSError(28, "No space left on device")

    monkeypatch.setitem(writers._WRITERS, fmt, write_then_fail)
    with pytest.raises(DataError) as info:
        writers.write_incidents(frame, path)
    assert str(info.value) == f"disk full while writing {path}"
    assert path.read_bytes() == before
    assert _files(tmp_path) == [f"out.{fmt}"]


def test_a_failure_part_way_through_rows_leaves_the_old_file(tmp_path, frame, monkeypatch):
    path = tmp_path / "out.xlsx"
    writers.write_xlsx(frame.iloc[:2], path)
    before = path.read_bytes()
    real, calls = writers._cell, []

    def failing_cell(value):
        calls.append(value)
        if len(calls) > 20:  # in the middle of the second row
            raise RuntimeError("interrupted")
        return real(value)

    monkeypatch.setattr(writers, "_cell", failing_cell)
    with pytest.raises(RuntimeError, match="interrupted"):
        writers.write_xlsx(frame, path)
    assert path.read_bytes() == before
    assert _files(tmp_path) == ["out.xlsx"]


def test_csv_failure_part_way_through_writing(tmp_path, frame, monkeypatch):
    path = tmp_path / "out.csv"
    path.write_text("old contents\n", encoding="utf-8")

    def partial_to_csv(self, target, **kwargs):
        with open(target, "w", encoding="utf-8") as handle:
            handle.write("event_id,occ")
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(pd.DataFrame, "to_csv", partial_to_csv)
    with pytest.raises(DataError, match="Input/output error"):
        writers.write_csv(frame, path)
    assert path.read_text(encoding="utf-8") == "old contents\n"
    assert _files(tmp_path) == ["out.csv"]


def test_unwritable_paths_raise_data_error_naming_the_path(tmp_path, frame):
    with pytest.raises(DataError, match="does not exist"):
        writers.write_csv(frame, tmp_path / "no such folder" / "out.csv")
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(DataError, match="folder.csv"):
        writers.write_csv(frame, tmp_path / "folder.csv")
    with pytest.raises(DataError, match=r"out\.txt"):
        writers.write_incidents(frame, tmp_path / "out.txt")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder_raises_data_error(tmp_path, frame):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(DataError, match="out.csv"):
            writers.write_csv(frame, folder / "out.csv")
    finally:
        folder.chmod(0o700)


def test_new_files_get_normal_permissions(tmp_path, frame):
    path = tmp_path / "out.csv"
    writers.write_csv(frame, path)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_empty_selection_writes_a_header_only_file(tmp_path, frame):
    path = tmp_path / "none.csv"
    writers.write_csv(frame.iloc[:0], path)
    with open(path, encoding="utf-8-sig") as handle:
        assert handle.read().strip().split(",")[:3] == ["event_id", "occurred_at", "time_precision"]


def test_writers_do_not_import_qt():
    import subprocess
    import sys

    code = "import sys, geodata.writers; sys.exit('PySide6' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0


def test_xlsx_control_characters_give_a_message_naming_row_and_column(tmp_path, frame):
    frame["notes"] = frame["notes"].astype(object)
    frame.iloc[1, frame.columns.get_loc("notes")] = "vertical\x0btab"
    path = tmp_path / "out.xlsx"
    with pytest.raises(DataError, match=r"out\.xlsx: row 3 \[notes\]: a control character"):
        writers.write_xlsx(frame, path)
    assert _files(tmp_path) == []


# -- date-times in the working zone ---------------------------------------------------------
def _kyiv_day_event(tmp_path) -> gpd.GeoDataFrame:
    """A day-dated event of 13 March 2022 as the reader makes it from a partner's file."""
    source = tmp_path / "partner.csv"
    source.write_text("id;дата;широта;довгота\nk1;13.03.2022;50.45;30.52\nk2;01.07.2022 10:15;50.4;30.5\n",
                      encoding="utf-8")
    frame = geodata.read_incidents(str(source)).frame
    assert frame["occurred_at"].iloc[0] == pd.Timestamp("2022-03-12T22:00Z")  # midnight in Kyiv, in UTC
    return frame


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_spreadsheet_exports_show_the_local_date_with_its_offset(tmp_path, fmt):
    frame = _kyiv_day_event(tmp_path)
    path = tmp_path / f"out.{fmt}"
    writers.write_incidents(frame, path)
    if fmt == "csv":
        with open(path, encoding="utf-8-sig", newline="") as handle:
            shown = [r["occurred_at"] for r in csv.DictReader(handle)]
    else:
        sheet = load_workbook(path).active
        column = [c.value for c in sheet[1]].index("occurred_at")
        shown = [r[column].value for r in sheet.iter_rows(min_row=2)]
    # winter (+02:00) and summer (+03:00) offsets; a spreadsheet user sees 13 March, not the 12th
    assert shown == ["2022-03-13T00:00:00+02:00", "2022-07-01T10:15:00+03:00"]
    back = geodata.read_incidents(str(path)).frame
    assert back["occurred_at"].tolist() == frame["occurred_at"].tolist()
    assert back["time_precision"].tolist() == ["day", "exact"]


def test_exports_follow_the_working_zone_given(tmp_path):
    frame = _kyiv_day_event(tmp_path)
    path = tmp_path / "out.csv"
    writers.write_csv(frame, path, tz="America/New_York")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        shown = [r["occurred_at"] for r in csv.DictReader(handle)]
    assert shown == ["2022-03-12T17:00:00-05:00", "2022-07-01T03:15:00-04:00"]
    assert geodata.read_incidents(str(path)).frame["occurred_at"].tolist() == frame["occurred_at"].tolist()
    with pytest.raises(DataError, match="unknown time zone"):
        writers.write_csv(frame, tmp_path / "bad.csv", tz="Mars/Olympus")
    assert not (tmp_path / "bad.csv").exists()


def test_geojson_keeps_utc_times(tmp_path):
    frame = _kyiv_day_event(tmp_path)
    path = tmp_path / "out.geojson"
    writers.write_geojson(frame, path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["features"][0]["properties"]["occurred_at"] == "2022-03-12T22:00:00Z"


# -- a full disk ------------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """``small_disk(kilobytes)``: a folder on a tmpfs of that size (Linux, as root).

    Skipped where mounting is not allowed, except in CI (``CI`` set), where it must work.
    """
    mounted = []

    def mount(kilobytes: int):
        folder = tmp_path / f"disk-{len(mounted)}"
        folder.mkdir()
        command = ["mount", "-t", "tmpfs", "-o", f"size={kilobytes}k", "tmpfs", str(folder)]
        done = (subprocess.run(command, capture_output=True, text=True)
                if sys.platform.startswith("linux") and shutil.which("mount") else None)
        if done is None or done.returncode != 0:
            reason = "cannot mount a small tmpfs here (needs Linux and root): " + (
                done.stderr.strip() if done is not None else "no mount command")
            if os.environ.get("CI"):
                pytest.fail(reason)
            pytest.skip(reason)
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_full_disk_keeps_the_old_file_and_says_so(small_disk, fmt):
    disk = small_disk(128)
    path = disk / f"out.{fmt}"
    path.write_bytes(b"earlier export")
    from geodata.sample import make_sample

    sample = make_sample(n=3000)
    with pytest.raises(DataError) as info:
        writers.write_incidents(sample, path)
    assert str(info.value) == f"disk full while writing {path}"
    assert path.read_bytes() == b"earlier export"
    assert _files(disk) == [f"out.{fmt}"]


def test_a_workbook_on_a_full_disk_leaves_no_error_for_later(small_disk, monkeypatch):
    """openpyxl's archive is closed when the write fails, not left to fail again when the program ends."""
    from geodata.sample import make_sample

    disk = small_disk(64)
    late = []
    monkeypatch.setattr(sys, "unraisablehook", late.append)
    with pytest.raises(DataError, match="disk full"):
        writers.write_xlsx(make_sample(n=3000), disk / "out.xlsx")
    gc.collect()
    assert late == [] and _files(disk) == []


def test_a_library_error_on_a_full_disk_is_worded_as_a_full_disk(small_disk, tmp_path, frame, monkeypatch):
    """GDAL reports a full disk as a failed commit: the free space left tells, and only then is it a full disk."""
    def failed_commit(data, tmp):
        raise DataError("cannot write GeoPackage: Failed to commit transaction")

    monkeypatch.setitem(writers._WRITERS, "gpkg", failed_commit)
    with pytest.raises(DataError, match="Failed to commit transaction"):  # plenty of room: the library's words
        writers.write_incidents(frame, tmp_path / "out.gpkg")
    disk = small_disk(64)
    with pytest.raises(DataError, match=r"^disk full while writing .*out\.gpkg$"):
        writers.write_incidents(frame, disk / "out.gpkg")
