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
    assert report["date_min"] == "2024-06-01T22:10:00+00:00"


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
