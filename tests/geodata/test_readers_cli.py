"""``mapviewer inspect`` on files the readers accept and on files they cannot read."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def inspect(*args: str) -> subprocess.CompletedProcess:
    # a separate process: this test module never imports the Qt side of the package
    return subprocess.run([sys.executable, "-m", "mapviewer", "inspect", *args],
                          capture_output=True, text=True, timeout=120)


def inspect_here(capsys, *args: str) -> subprocess.CompletedProcess:
    """The same in this process (mapviewer.cli.main imports no Qt): much faster than a new interpreter."""
    from mapviewer.cli.main import main

    capsys.readouterr()
    code = main(["inspect", *args])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["inspect", *args], code, out, err)


def test_inspect_imports_no_qt() -> None:
    check = "import sys, mapviewer.cli.main; sys.exit('PySide6' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", check], timeout=120).returncode == 0


def test_inspect_json_on_csv_with_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "night.csv"
    path.write_text("id;дата;широта;довгота;зброя;результат\n"
                    "1;02.06.2024 01:10;50,45;30,52;Хвасон-11;влучання\n"
                    "2;02.06.2024 01:12;148,2;30,52;Хвасон-11;збито\n", encoding="cp1251")
    done = inspect(str(path), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["format"], report["rows_read"], report["rows_loaded"], report["rows_rejected"]) == ("csv", 2, 1, 1)
    assert report["counts"]["munition"] == {"KN-23": 1}
    assert report["counts"]["outcome"] == {"impact": 1}
    error = [p for p in report["problems"] if p["severity"] == "error"]
    assert error == [{"row": 3, "column": "широта", "message": "latitude 148.2 is out of range (-90..90)",
                      "severity": "error"}]
    assert report["date_min"] == "2024-06-02T01:10:00+03:00"  # in the working zone, as written in the file
    assert report["counts"]["munition_class"] == {"ballistic missile": 1}


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02garbage\xff" * 50, b"a,b\n1,2\n"])
def test_inspect_unreadable_file_one_line_non_zero(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(content)
    done = inspect(str(path))
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "Traceback" not in done.stderr


def test_inspect_missing_file(tmp_path: Path) -> None:
    done = inspect(str(tmp_path / "nowhere.csv"))
    assert done.returncode != 0 and "file not found" in done.stderr and "Traceback" not in done.stderr


def test_inspect_shows_dates_in_the_working_zone(tmp_path: Path, capsys) -> None:
    path = tmp_path / "march.csv"
    path.write_text("date,lat,lon\n24.02.2022,50.45,30.52\n13.03.2022,50.45,30.52\n", encoding="utf-8")
    done = inspect_here(capsys, str(path))
    assert done.returncode == 0, done.stderr
    assert "dates: 2022-02-24T00:00:00+02:00 .. 2022-03-13T00:00:00+02:00" in done.stdout.splitlines()
    summary = json.loads(inspect_here(capsys, str(path), "--json").stdout)
    assert (summary["date_min"], summary["date_max"]) == ("2022-02-24T00:00:00+02:00", "2022-03-13T00:00:00+02:00")
    utc = json.loads(inspect_here(capsys, str(path), "--json", "--tz", "UTC").stdout)
    assert utc["date_max"] == "2022-03-13T00:00:00+00:00"  # --tz reads and shows in UTC


def test_inspect_encoding_option_follows_the_advice(tmp_path: Path, capsys) -> None:
    # byte 0x98 is '˜' in Windows-1252 and undefined in Windows-1251: neither UTF-8 nor cp1251
    path = tmp_path / "latin.csv"
    path.write_bytes("date,lat,lon,munition\n2024-06-02,50.45,30.52,Café˜drone\n".encode("cp1252"))
    done = inspect_here(capsys, str(path))
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "--encoding" in done.stderr
    assert "not UTF-8 nor Windows-1251" in done.stderr
    done = inspect_here(capsys, str(path), "--encoding", "cp1252", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["counts"]["munition"] == {"Café˜drone": 1}


def test_inspect_delimiter_option(tmp_path: Path, capsys) -> None:
    path = tmp_path / "colons.txt"
    path.write_text("date:lat:lon\n2024-06-02:50.45:30.52\n", encoding="utf-8")
    assert inspect_here(capsys, str(path)).returncode != 0  # ':' is not a delimiter the reader guesses
    done = inspect_here(capsys, str(path), "--delimiter", ":", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows_loaded"] == 1


def test_inspect_sheet_option(tmp_path: Path, capsys) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "Events"
    wb.active.append(["date", "lat", "lon"])
    wb.active.append(["2024-06-02", 50.45, 30.52])
    archive = wb.create_sheet("Archive")
    archive.append(["date", "lat", "lon"])
    archive.append(["2023-01-01", 50.0, 30.0])
    archive.append(["2023-01-02", 50.0, 30.0])
    path = tmp_path / "book.xlsx"
    wb.save(path)
    assert json.loads(inspect_here(capsys, str(path), "--json").stdout)["rows_loaded"] == 1
    assert json.loads(inspect_here(capsys, str(path), "--json", "--sheet", "Archive").stdout)["rows_loaded"] == 2


WAVES_HEADER = "time_start,time_end,model,launch_place,target,launched,destroyed,not_reach_goal,source"


def test_inspect_waves_with_missing_or_wrong_launch_counts(tmp_path: Path, capsys) -> None:
    path = tmp_path / "missile_attacks_daily.csv"
    path.write_text("\n".join([
        WAVES_HEADER,
        "2025-06-01 19:00,2025-06-02 09:00,Shahed-136/131,Kursk oblast,,57,53,,x",  # no target: no gazetteer
        "2025-06-02 01:00,2025-06-02 05:00,KN-23,Kursk oblast,,,,,x",  # launched missing
        "2025-06-03 01:00,2025-06-03 05:00,Kh-101,Caspian Sea,,many,2,,x",  # not a number
    ]) + "\n", encoding="utf-8")
    done = inspect_here(capsys, str(path), "--json")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    summary = json.loads(done.stdout)
    assert summary["format"] == "airforce_waves"
    assert summary["counts"]["launched"] == {"Shahed-136 / Shahed-131": 57}  # no total for the other two
    assert summary["counts"]["munition_class"] == {"loitering munition": 1, "ballistic missile": 1,
                                                   "cruise missile": 1}
    assert summary["counts"]["outcome"] == {}
    text = inspect_here(capsys, str(path))
    assert text.returncode == 0, text.stderr
    assert "by launched: Shahed-136 / Shahed-131 57" in text.stdout and "by outcome" not in text.stdout

    events = tmp_path / "events.csv"
    events.write_text("date,lat,lon,munition,outcome\n2025-06-02,50.45,30.52,KN-23,impact\n", encoding="utf-8")
    incident = json.loads(inspect_here(capsys, str(events), "--json").stdout)
    assert set(incident) == set(summary)
    assert set(incident["counts"]) <= set(summary["counts"])


def test_inspect_into_a_pipe_closed_early_exits_quietly(tmp_path: Path) -> None:
    # `mapviewer inspect FILE | head -3`: far more output than a pipe holds, the reader leaves after 3 lines
    path = tmp_path / "many.csv"
    path.write_text("date,lat,lon\n" + "".join(f"2024-06-02,{i},999\n" for i in range(3000)), encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "mapviewer", "inspect", str(path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = [process.stdout.readline() for _ in range(3)]
    process.stdout.close()
    stderr = process.stderr.read().decode()
    process.wait(timeout=120)
    assert all(lines)
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr and stderr == ""


def test_inspect_output_to_a_code_page_stream_is_utf8(tmp_path: Path, monkeypatch) -> None:
    """Output sent to a file or a pipe on Windows gets the console code page (cp1252 here), which has
    no Cyrillic letters: the command still prints, in UTF-8, instead of failing."""
    import io

    from mapviewer.cli.main import main

    path = tmp_path / "Харків.csv"
    path.write_text("date,lat,lon,location\n2024-06-02,49.99,36.23,Харків\n", encoding="utf-8")
    out, err = io.BytesIO(), io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(out, encoding="cp1252"))
    monkeypatch.setattr(sys, "stderr", io.TextIOWrapper(err, encoding="cp1252"))
    assert main(["inspect", str(path)]) == 0
    assert main(["inspect", str(tmp_path / "Київ.csv")]) != 0  # an error line naming the missing file
    sys.stdout.flush()
    sys.stderr.flush()
    assert f"file: {path}" in out.getvalue().decode("utf-8").splitlines()
    assert "Київ.csv" in err.getvalue().decode("utf-8")
