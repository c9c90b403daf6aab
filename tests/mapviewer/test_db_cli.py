"""The team database from the command line: ``mapviewer db``, ``inspect URI``, ``export URI``.

Run against a real server (see tests/dbserver.py: skipped locally without MAPVIEWER_TEST_DB, never in CI).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.dbserver import SAMPLE, admin, blank, fresh, reader_role, sample_db, server, template  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[2]
INSPECT_KEYS = {"path", "format", "rows_read", "rows_loaded", "rows_rejected", "problems", "counts", "date_min",
                "date_max"}
IMPORT_KEYS = {"rows_read", "rows_loaded", "rows_rejected", "problems", "inserted", "updated", "unchanged"}
#: Quotes, a statement separator, a comment, LIKE wildcards, a backslash and a placeholder: SQL if pasted.
HOSTILE_TEXT = "x'); DROP TABLE mapviewer_events; -- \" OR 1=1 %_\\ $1 %(p0)s"


def mapviewer(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "mapviewer", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=600)
    if check and done.returncode != 0:
        raise AssertionError(f"mapviewer {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return done


def test_db_init_twice_is_harmless(blank: str) -> None:
    first = mapviewer("db", "init", blank)
    assert "ready:" in first.stdout
    second = mapviewer("db", "init", blank)
    assert second.returncode == 0 and "nothing to do" in second.stdout
    status = json.loads(mapviewer("db", "status", blank, "--json").stdout)
    assert status["events"] == 0 and status["imports"] == 0 and status["missing_tables"] == []


def test_db_import_json_and_reimport_adds_nothing(fresh: str, tmp_path: Path) -> None:
    bad = tmp_path / "night.csv"
    bad.write_text("event_id,occurred_at,latitude,longitude,munition,outcome\n"
                   "a1,2025-06-01 01:00,50.45,30.52,KN-23,impact\n"
                   "a2,not a date,50.45,30.52,KN-23,impact\n"
                   "a3,2025-06-01 02:00,50.40,30.60,Shahed-136,intercepted\n", encoding="utf-8")
    first = json.loads(mapviewer("db", "import", fresh, str(SAMPLE), str(bad), "--json").stdout)
    assert IMPORT_KEYS <= set(first)
    assert first["rows_read"] == first["rows_loaded"] + first["rows_rejected"] == 3003
    assert first["rows_rejected"] == 1 and first["inserted"] == 3002 and first["updated"] == first["unchanged"] == 0
    assert any(p["file"].endswith("night.csv") and p["row"] == 3 for p in first["problems"])
    again = json.loads(mapviewer("db", "import", fresh, str(SAMPLE), "--json").stdout)
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 3000)
    status = json.loads(mapviewer("db", "status", fresh, "--json").stdout)
    assert status["events"] == 3002 and status["imports"] == 3
    assert set(status["sources"]) == {"incidents", "night"}
    text = mapviewer("db", "status", fresh).stdout
    assert "events: 3,002 from 2 sources" in text and "PostGIS" in text and "missing" not in text


def test_db_status_says_which_newer_table_an_older_database_lacks(fresh: str) -> None:
    with admin(fresh) as conn:
        conn.execute("DROP TABLE mapviewer_match_decisions")
    text = mapviewer("db", "status", fresh).stdout
    assert "missing: mapviewer_match_decisions: run 'mapviewer db init" in text
    assert json.loads(mapviewer("db", "status", fresh, "--json").stdout)["missing_tables"] == ["mapviewer_match_decisions"]
    mapviewer("db", "init", fresh)
    assert json.loads(mapviewer("db", "status", fresh, "--json").stdout)["missing_tables"] == []


def test_inspect_uri_has_the_file_keys(sample_db: str) -> None:
    from_db = json.loads(mapviewer("inspect", sample_db, "--json").stdout)
    from_file = json.loads(mapviewer("inspect", str(SAMPLE), "--json").stdout)
    assert set(from_db) == set(from_file) == INSPECT_KEYS
    assert from_db["format"] == "postgresql" and from_db["rows_loaded"] == from_file["rows_loaded"] == 3000
    assert from_db["counts"] == from_file["counts"]
    assert (from_db["date_min"], from_db["date_max"]) == (from_file["date_min"], from_file["date_max"])
    text = mapviewer("inspect", sample_db).stdout
    assert "format: postgresql" in text and "rows read: 3000, loaded: 3000, rejected: 0" in text


@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_export_from_the_database_equals_the_files(sample_db: str, tmp_path: Path, fmt: str) -> None:
    filters = ["--from", "2025-03-01", "--to", "2025-06-30", "--munition", "cruise missile", "--munition",
               "Hwasong-11", "--outcome", "impact", "--outcome", "intercepted"]
    mapviewer("export", sample_db, *filters, "-o", str(tmp_path / f"db.{fmt}"))
    mapviewer("export", str(SAMPLE), *filters, "-o", str(tmp_path / f"file.{fmt}"))
    from_db, from_file = (tmp_path / f"db.{fmt}").read_bytes(), (tmp_path / f"file.{fmt}").read_bytes()
    assert from_db == from_file
    if fmt == "csv":
        rows = pd.read_csv(tmp_path / "db.csv")
        assert 0 < len(rows) < 3000 and set(rows["outcome"]) <= {"impact", "intercepted"}


def test_export_of_a_view_naming_the_database(sample_db: str, tmp_path: Path) -> None:
    view = tmp_path / "view.json"
    view.write_text(json.dumps({"mapviewer_view": 1, "data": [sample_db], "filter": {"outcomes": ["deviated"]}}),
                    encoding="utf-8")
    done = mapviewer("export", "--view", str(view), "-o", str(tmp_path / "out.csv"))
    rows = pd.read_csv(tmp_path / "out.csv")
    assert len(rows) == 18 and set(rows["outcome"]) == {"deviated"}, done.stderr


@pytest.mark.parametrize("field", ["munitions", "outcomes", "munition_classes", "admin1", "text", "tags"])
def test_hostile_text_in_every_filter_field_is_only_a_parameter(sample_db: str, tmp_path: Path, field: str) -> None:
    # a saved view carries free text in every field of the filter, and export sends it to the server
    value = {"text": HOSTILE_TEXT, "tags": [["tag_" + HOSTILE_TEXT, HOSTILE_TEXT]]}.get(field, [HOSTILE_TEXT, "impact"])
    view = tmp_path / "view.json"
    view.write_text(json.dumps({"mapviewer_view": 1, "data": [sample_db], "filter": {field: value}}),
                    encoding="utf-8")
    mapviewer("export", sample_db, "--view", str(view), "-o", str(tmp_path / "db.csv"))  # filters sent to the server
    mapviewer("export", str(SAMPLE), "--view", str(view), "-o", str(tmp_path / "file.csv"))
    assert (tmp_path / "db.csv").read_bytes() == (tmp_path / "file.csv").read_bytes()
    assert json.loads(mapviewer("db", "status", sample_db, "--json").stdout)["events"] == 3000


def test_read_only_role_opens_and_exports_but_cannot_import(fresh: str, reader_role, tmp_path: Path) -> None:
    mapviewer("db", "import", fresh, str(SAMPLE))
    reader = reader_role(fresh)
    assert json.loads(mapviewer("inspect", reader, "--json").stdout)["rows_loaded"] == 3000
    mapviewer("export", reader, "--outcome", "deviated", "-o", str(tmp_path / "out.csv"))
    assert len(pd.read_csv(tmp_path / "out.csv")) == 18
    refused = mapviewer("db", "import", reader, str(SAMPLE), check=False)
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "may not write events" in lines[0] and "Traceback" not in refused.stderr
    assert json.loads(mapviewer("db", "status", fresh, "--json").stdout)["events"] == 3000
