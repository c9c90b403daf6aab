"""One strike, many reports, on the team database: the sources a database holds are matched, and the
analyst's decisions are kept in the database itself, applied again by the app, ``mapviewer match URI``
and ``mapviewer export URI --merge-reports`` (a real server: see tests/dbserver.py)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from geodata import db
from geodata.db import decisions as stored
from geodata.match import Decisions
from tests.dbserver import admin, fresh, reader_role, server, template  # noqa: F401 (fixtures)
from tests.mapviewer.test_export_merge import write_sources

ROOT = Path(__file__).resolve().parents[2]
WAIT = 120000


@pytest.fixture
def three(fresh: str, tmp_path: Path) -> str:
    """A database holding the three sources of tests/mapviewer/test_export_merge.py (sources cir,
    bellingcat and acled): six reports, four strikes."""
    for path in write_sources(tmp_path):
        db.import_file(fresh, path)
    return fresh


def split_acled(uri: str) -> None:
    decisions = Decisions()
    decisions.split(("acled", "AC-1"), [("cir", "CIR-1"), ("bellingcat", "BC-1")])
    stored.record(uri, decisions.items)


def mapviewer(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mapviewer", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=600)


# -- command line ----------------------------------------------------------------------------------

def test_match_on_a_database_applies_the_decisions_it_keeps(three: str, tmp_path: Path) -> None:
    before = mapviewer("match", three, "--json")
    assert before.returncode == 0, before.stderr
    assert (json.loads(before.stdout)["events"], json.loads(before.stdout)["records"]) == (4, 6)
    split_acled(three)
    gone = Decisions()
    gone.split(("acled", "AC-9"), [("cir", "CIR-1")])
    stored.record(three, gone.items)
    after = mapviewer("match", three, "--json")
    assert after.returncode == 0, after.stderr
    found = json.loads(after.stdout)
    assert found["events"] == 5
    assert [sorted(g["members"]) for g in found["groups"]] == [["bellingcat:BC-1", "cir:CIR-1"]]
    # the decision naming a report that is not there is said, naming the database (never a password)
    (line,) = after.stderr.strip().splitlines()
    assert line.startswith(f"mapviewer match: {db.display_uri(three)}: ") and "acled:AC-9" in line
    # exports from the database count the strikes as decided
    out = tmp_path / "strikes.csv"
    done = mapviewer("export", three, "--merge-reports", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "5 strikes from 6 reports" in done.stdout
    rows = pd.read_csv(out, encoding="utf-8-sig")
    assert sorted(rows["reports"]) == [1, 1, 1, 1, 2]
    assert "import_source" not in rows.columns  # the reports' sources are listed in "sources"


def test_match_on_a_database_set_up_before_decisions_says_how_to_add_them(three: str) -> None:
    with admin(three) as conn:
        conn.execute("DROP TABLE mapviewer_match_decisions")
    done = mapviewer("match", three, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["events"] == 4
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("mapviewer match: note: ") and f"'mapviewer db init {db.display_uri(three)}'" in line


# -- the app ---------------------------------------------------------------------------------------

def open_and_match(qtbot, window, uri: str, strikes: int) -> None:
    window.open_files([uri])
    state = window.state
    qtbot.waitUntil(lambda: window.database.uri is not None and not window.database.busy
                    and not window.matcher.busy and state.counting_strikes and len(state.frame) == strikes,
                    timeout=WAIT)


@pytest.fixture
def window(make_main_window):
    window = make_main_window()
    window.show_messages = False
    window.resize(1200, 800)
    window.notices = []
    window.matcher.notice.connect(window.notices.append)
    return window


def test_decisions_on_a_database_are_kept_in_it_and_applied_again(qtbot, window, three, make_main_window) -> None:
    open_and_match(qtbot, window, three, strikes=4)  # one database, three sources: matched
    state = window.state
    assert window.summary.headline.text() == "4 strikes from 6 reports (3 matched)"
    assert window.matcher.decisions_file == db.display_uri(three)
    acled = next(i for i in range(len(state.reports)) if state.strikes.ref(i) == ("acled", "AC-1"))
    others = [r for r in state.strikes.refs(int(state.strikes.strike_of[acled])) if r != ("acled", "AC-1")]
    with qtbot.waitSignal(state.strikes_changed, timeout=WAIT):
        window.matcher.split(("acled", "AC-1"), others)
    assert len(state.frame) == 5
    qtbot.waitUntil(lambda: len(stored.load(three)) == 1, timeout=WAIT)  # written in the database
    assert stored.load(three).items[0].reports == (("acled", "AC-1"),)
    # another window (a colleague, or the app opened again) opens the database: the decision applies
    other = make_main_window()
    other.show_messages = False
    open_and_match(qtbot, other, three, strikes=5)
    assert other.summary.headline.text() == "5 strikes from 6 reports (2 matched)"
    assert not window.notices


def test_a_read_only_user_sees_decisions_and_keeps_their_own_for_the_session(qtbot, window, three,
                                                                            reader_role) -> None:
    split_acled(three)
    reader = reader_role(three)
    open_and_match(qtbot, window, reader, strikes=5)  # the decision kept in the database applies
    state = window.state
    strikes = state.strikes
    cir = next(i for i in range(len(state.reports)) if strikes.ref(i) == ("cir", "CIR-1"))
    bc = next(i for i in range(len(state.reports)) if strikes.ref(i) == ("bellingcat", "BC-1"))
    with qtbot.waitSignal(state.strikes_changed, timeout=WAIT):
        window.matcher.split(("bellingcat", "BC-1"), [("cir", "CIR-1")])
    assert len(state.frame) == 6 and state.strikes.strike_of[cir] != state.strikes.strike_of[bc]
    qtbot.waitUntil(lambda: bool(window.notices), timeout=WAIT)
    (notice,) = window.notices
    assert "may not record match decisions" in notice and "applies until the app is closed" in notice
    assert "\n" not in notice
    assert len(stored.load(three)) == 1  # nothing written


def test_a_database_set_up_before_decisions_opens_and_says_how_to_add_them(qtbot, window, three) -> None:
    with admin(three) as conn:
        conn.execute("DROP TABLE mapviewer_match_decisions")
    open_and_match(qtbot, window, three, strikes=4)
    qtbot.waitUntil(lambda: bool(window.notices), timeout=WAIT)
    (notice,) = window.notices
    assert f"'mapviewer db init {db.display_uri(three)}' again to add what is missing" in notice
    assert "\n" not in notice
