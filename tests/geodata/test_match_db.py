"""The analyst's match decisions kept in the team database (geodata.db.decisions), against a real
PostgreSQL + PostGIS server (see tests/dbserver.py: skipped locally without MAPVIEWER_TEST_DB, never in CI)."""
from __future__ import annotations

import pytest

from geodata import DataError, db
from geodata.db import decisions as stored
from geodata.match import Decisions, match_reports
from tests.dbserver import admin, blank, fresh, reader_role, server, template  # noqa: F401 (fixtures)

#: Quotes, a statement separator, a comment, a backslash, placeholders and markup: SQL or HTML if pasted.
HOSTILE_ID = "x'); DROP TABLE mapviewer_match_decisions; -- %s $1 \\ <script>alert(1)</script>"


def _decisions() -> Decisions:
    decisions = Decisions()
    decisions.split(("acled", "AC-1"), [("cir", "CIR-1"), ("bellingcat", "BC-1")])
    decisions.join([("cir", "CIR-2")], [("bellingcat", HOSTILE_ID)])
    decisions.confirm([("cir", "CIR-1"), ("bellingcat", "BC-1")])
    return decisions


def test_init_creates_the_table_and_decisions_read_back_as_made(blank: str) -> None:
    first = db.init(blank)
    assert any(stored.TABLE in line for line in first)
    assert any("nothing to do" in line for line in db.init(blank))  # twice: harmless
    assert len(stored.load(blank)) == 0
    decisions = _decisions()
    stored.record(blank, decisions.items[:1])
    stored.record(blank, decisions.items[1:])
    again = stored.load(blank)
    assert again == decisions  # the same decisions, in the same order, text verbatim
    assert ("bellingcat", HOSTILE_ID) in again.refs()
    with admin(blank) as conn:  # the hostile id was a value, never SQL
        assert conn.execute("SELECT to_regclass('mapviewer_match_decisions') IS NOT NULL").fetchone()[0]


def test_decisions_replay_later_ones_winning(fresh: str) -> None:
    first = Decisions()
    first.split(("acled", "AC-1"), [("cir", "CIR-1")])
    stored.record(fresh, first.items)
    second = Decisions()  # a colleague, meanwhile: the two reports are one strike after all
    second.join([("acled", "AC-1"), ("cir", "CIR-1")])
    stored.record(fresh, second.items)
    replayed = stored.load(fresh)
    assert [d.action for d in replayed.items] == ["join"]  # the join undid the split


def test_a_database_set_up_before_the_table_still_opens_and_says_how_to_add_it(fresh: str) -> None:
    with admin(fresh) as conn:
        conn.execute("DROP TABLE mapviewer_match_decisions")
    found = db.status(fresh)
    assert found["events"] == 0 and found["missing_tables"] == ["mapviewer_match_decisions"]  # opens, says what lacks
    assert len(db.read(fresh).frame) == 0
    for attempt in (lambda: stored.load(fresh), lambda: stored.record(fresh, _decisions().items)):
        with pytest.raises(DataError) as caught:
            attempt()
        message = str(caught.value)
        assert "\n" not in message and f"'mapviewer db init {db.display_uri(fresh)}' again to add what is missing" in message
    lines = db.init(fresh)
    assert any("created mapviewer_match_decisions" in line for line in lines)
    assert len(stored.load(fresh)) == 0


def test_a_read_only_user_reads_decisions_and_may_not_record_them(fresh: str, reader_role) -> None:
    decisions = _decisions()  # once: each decision carries the second it was made
    stored.record(fresh, decisions.items)
    reader = reader_role(fresh)
    assert stored.load(reader) == decisions
    with pytest.raises(DataError) as caught:
        stored.record(reader, decisions.items[:1])
    message = str(caught.value)
    assert "\n" not in message and "may not record match decisions" in message
    assert len(stored.load(fresh)) == 3  # nothing was written


def test_stored_decisions_apply_to_the_databases_sources(fresh: str, tmp_path) -> None:
    rows = {"cir": "CIR-1,2025-06-02T03:40:00+03:00,50.0000,36.2300,KN-23,impact",
            "acled": "AC-1,2025-06-02T03:50:00+03:00,50.0010,36.2310,missile,impact"}
    for name, row in rows.items():
        path = tmp_path / f"{name}.csv"
        path.write_text("event_id,occurred_at,latitude,longitude,munition,outcome\n" + row + "\n", encoding="utf-8")
        db.import_file(fresh, path)
    frame = db.read(fresh, provenance=True).frame
    reports = {str(name): part.reset_index(drop=True) for name, part in frame.groupby("import_source", observed=True)}
    assert match_reports(reports).events == 1
    decisions = Decisions()
    decisions.split(("acled", "AC-1"), [("cir", "CIR-1")])
    stored.record(fresh, decisions.items)
    assert match_reports(reports, decisions=stored.load(fresh)).events == 2
