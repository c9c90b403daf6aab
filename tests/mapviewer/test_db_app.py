"""The app on a team database (a real PostgreSQL + PostGIS server; see tests/dbserver.py: skipped
locally without MAPVIEWER_TEST_DB, never in CI)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

import geodata
from geodata import FilterState, db, read_incidents
from mapviewer.files.database import (AUTO_INCLUDE_KEY, POINT_LIMIT_ENV, add_recent_database, cell_size,
                                      recent_databases, view_box)
from mapviewer.map.grab import is_blank
from tests.dbserver import (SAMPLE, admin, fresh, reader_role, sample_db, server, template,  # noqa: F401 (fixtures)
                            with_db)

ROOT = Path(__file__).resolve().parents[2]
WAIT = 120000  # generous: WebEngine and the server share two busy cores
LIMIT = 500  # the sample's 3,000 events are over it: the map shows the server's cells
#: Quotes, a statement separator, a comment, LIKE wildcards, a backslash and a placeholder: SQL if pasted.
HOSTILE = "x'); DROP TABLE mapviewer_events; -- \" OR 1=1 %_\\ $1 %(p0)s"


@pytest.fixture(scope="module")
def sample_frame():
    return read_incidents(SAMPLE).frame


@pytest.fixture
def small_limit(monkeypatch):
    monkeypatch.setenv(POINT_LIMIT_ENV, str(LIMIT))


def js(qtbot, window, expression: str):
    """``expression`` evaluated in the map page, as JSON."""
    out: list = []
    window.map_view.run_js(f"JSON.stringify({expression})", out.append)
    qtbot.waitUntil(lambda: bool(out), timeout=WAIT)
    return None if out[0] in (None, "", "undefined") else json.loads(out[0])


def settled(window) -> bool:
    database = window.database
    return database.uri is not None and not database.busy and window.map_view.page_ready


def open_window(qtbot, make_main_window, uri: str):
    window = make_main_window()
    window.resize(1200, 800)
    failures: list[str] = []
    window.load_failed.connect(lambda path, message: failures.append(message))
    window.open_files([uri])
    qtbot.waitUntil(lambda: settled(window) or bool(failures), timeout=WAIT)
    assert not failures, failures
    window.failures = failures
    return window


def shows(qtbot, window, kind: str) -> bool:
    """The map has said where it is, the answer for that place is in, and the page draws it as ``kind``."""
    database = window.database
    if not (settled(window) and window.state.view is not None and database.shown_kind == kind):
        return False
    if kind == "cells":
        return database.cells is not None and js(qtbot, window, "mapviewer.cells()") == [len(database.cells),
                                                                                        database.in_view]
    return js(qtbot, window, "mapviewer.cells()") is None and js(qtbot, window, "mapviewer.count()") == len(
        window.state.frame)


def answered(window, state: FilterState) -> bool:
    database = window.database
    return settled(window) and (not database.partial or database.summary_for == state)


def colour_pixels(image: QImage, hex_colour: str, tolerance: int = 12) -> int:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    width, height = image.width(), image.height()
    pixels = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(height, image.bytesPerLine())[:, :width * 4]
    bgr = pixels.reshape(height, width, 4)[:, :, :3].astype(int)
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return int((np.abs(bgr - np.array([b, g, r])).max(axis=2) <= tolerance).sum())


# -- no server needed ---------------------------------------------------------------------------------

def test_recent_databases_are_kept_without_passwords(settings) -> None:
    add_recent_database(settings, "postgresql://ann:s3cret@db.team.lan/strikes?sslmode=require&password=other")
    add_recent_database(settings, "postgresql://bob@db.team.lan:5433/strikes")
    add_recent_database(settings, "postgresql://ann@db.team.lan/strikes?sslmode=require")  # the first again
    assert recent_databases(settings) == ["postgresql://ann@db.team.lan/strikes?sslmode=require",
                                          "postgresql://bob@db.team.lan:5433/strikes"]
    settings.sync()
    assert "s3cret" not in Path(settings.fileName()).read_text()


def test_view_box_and_cells_follow_the_zoom() -> None:
    west, south, east, north = view_box(50.45, 30.52, 10, 1000, 600)
    assert west < 30.52 < east and south < 50.45 < north
    assert 1.3 < east - west < 1.4  # 1000 px at zoom 10: 1000 / (256 * 1024) of 360 degrees
    wide = view_box(50.45, 30.52, 10, 1000, 600, pad=0.25)
    assert wide[0] < west and wide[2] > east and abs((wide[2] - wide[0]) / (east - west) - 1.5) < 1e-9
    sizes = [cell_size(z) for z in range(3, 17)]
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] == 0.01  # finer when zoomed in, never below 0.01
    assert all(abs(s / 0.01 - round(s / 0.01)) < 1e-9 for s in sizes)  # whole 0.01-degree cells


# -- the app opened on a database --------------------------------------------------------------------

def test_screenshot_of_the_app_opened_on_a_database_shows_its_events(sample_db: str, tmp_path: Path) -> None:
    out = tmp_path / "database.png"
    done = subprocess.run([sys.executable, "-m", "mapviewer", sample_db, "--screenshot", str(out), "--size",
                           "1200x800"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    image = QImage(str(out))
    assert not image.isNull() and not is_blank(image)
    # the events are drawn in the outcomes' colours (impact and interception symbols by the hundred)
    assert colour_pixels(image, geodata.style.outcome_colour("impact")) > 500
    assert colour_pixels(image, geodata.style.outcome_colour("intercepted")) > 500


def test_database_in_memory_behaves_as_a_file(qtbot, make_main_window, sample_db: str, sample_frame) -> None:
    window = open_window(qtbot, make_main_window, sample_db)
    database, state = window.database, window.state
    assert not database.partial and len(state.frame) == 3000
    assert window.summary.headline.text() == "3,000 of 3,000 events shown"
    shown = db.display_uri(sample_db)
    assert [d.path for d in state.datasets] == [shown] and os.path.basename(shown) in window.windowTitle()
    assert recent_databases(window.settings)[0] == shown
    flt = FilterState(munitions={"cruise missile", "Hwasong-11"}, outcomes={"impact"})
    state.set_filter(flt)
    assert sorted(state.visible["event_id"]) == sorted(sample_frame.loc[flt.mask(sample_frame), "event_id"])


# -- over the limit: the server's cells, points when zoomed in ---------------------------------------

def test_cells_over_the_limit_and_points_when_zoomed_in(qtbot, make_main_window, sample_db: str, sample_frame,
                                                        small_limit) -> None:
    window = open_window(qtbot, make_main_window, sample_db)
    database, state = window.database, window.state
    assert database.partial
    qtbot.waitUntil(lambda: shows(qtbot, window, "cells") and database.summary is not None, timeout=WAIT)
    count, total = js(qtbot, window, "mapviewer.cells()")
    assert count > 1 and total == 3000 == database.in_view
    assert js(qtbot, window, "mapviewer.count()") == 0  # no points pulled
    assert len(state.frame) == 0
    assert window.summary.headline.text() == f"3,000 events in {count:,} cells \u2014 zoom in to see events"
    assert window.summary.summary.total == 3000  # the summary from the server
    assert window.filter_panel.count_label.text() == "3,000 of 3,000 events"

    state.request_view(50.45, 30.52, 13)  # into Kyiv: fewer events than the limit in view
    qtbot.waitUntil(lambda: shows(qtbot, window, "points"), timeout=WAIT)
    n = js(qtbot, window, "mapviewer.count()")
    assert 0 < n <= LIMIT and n == len(state.frame)
    assert window.summary.headline.text() == f"{n:,} events shown"
    box = database._fetched[1]  # the view's box (grown a little) the rows were asked for
    expected = sample_frame.loc[FilterState(bbox=box).mask(sample_frame), "event_id"]
    assert sorted(state.frame["event_id"]) == sorted(expected)
    assert abs(js(qtbot, window, "mapviewer.view()")[2] - 13) < 1e-6  # the map stayed where it was asked to be

    state.request_view(48.8, 31.2, 6)  # the country again: cells
    qtbot.waitUntil(lambda: shows(qtbot, window, "cells"), timeout=WAIT)
    assert len(state.frame) == 0


def test_country_cells_cover_every_event_so_a_pan_asks_nothing(qtbot, make_main_window, sample_db: str,
                                                               small_limit) -> None:
    window = open_window(qtbot, make_main_window, sample_db)
    database, state = window.database, window.state
    state.request_view(48.8, 31.2, 6)
    qtbot.waitUntil(lambda: shows(qtbot, window, "cells"), timeout=WAIT)
    cells = database.cells
    assert int(cells["count"].sum()) == 3000  # every event's cell, those beyond the screen's edge too
    asked: list = []
    database._start = lambda work, done: asked.append(work)  # nothing may go to the server now
    state.request_view(49.6, 33.0, 6)  # a pan at the same zoom
    qtbot.waitUntil(lambda: js(qtbot, window, "mapviewer.view()")[1] > 32.9, timeout=WAIT)  # the map is there
    qtbot.waitUntil(lambda: settled(window) and state.view[1] > 32.9, timeout=WAIT)
    assert database.cells is cells and asked == []


def test_points_come_when_zoomed_in_past_the_finest_cells(qtbot, make_main_window, sample_db: str,
                                                          monkeypatch) -> None:
    from mapviewer.files.database import PAD

    assert cell_size(13) == cell_size(14) == 0.01  # the cells stay the same size from here in
    at13, at14 = (db.count(sample_db, bbox=view_box(50.45, 30.52, z, 1200, 800, PAD)) for z in (13, 14))
    # the events of the cells the closer view touches: the app's bound for what that view holds
    touched = int(db.aggregate(sample_db, None, view_box(50.45, 30.52, 14, 1200, 800, PAD), 0.01)["count"].sum())
    assert at14 <= touched < at13
    monkeypatch.setenv(POINT_LIMIT_ENV, str(touched))  # zoom 13 holds too many events, zoom 14 not
    window = open_window(qtbot, make_main_window, sample_db)
    window.database.map_size = lambda: (1200, 800)
    state = window.state
    state.request_view(50.45, 30.52, 13)
    qtbot.waitUntil(lambda: shows(qtbot, window, "cells") and state.view[2] == 13, timeout=WAIT)
    state.request_view(50.45, 30.52, 14)
    qtbot.waitUntil(lambda: shows(qtbot, window, "points") and state.view[2] == 14, timeout=WAIT)
    assert len(state.frame) == at14


def test_counts_for_a_filter_no_longer_shown_are_stopped(qtbot, make_main_window, sample_db: str, small_limit,
                                                         monkeypatch) -> None:
    import psycopg

    slow = FilterState(outcomes={"impact"})
    summary = db.summary

    def slow_summary(conn, flt, **kw):
        if flt == slow:  # a summary that takes long on the server (as over millions of events)
            conn.execute("SELECT pg_sleep(60)")
        return summary(conn, flt, **kw)

    monkeypatch.setattr(db, "summary", slow_summary)
    window = open_window(qtbot, make_main_window, sample_db)
    database, state = window.database, window.state

    def sleeping() -> int:
        with psycopg.connect(sample_db, autocommit=True) as conn:
            return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND "
                                "state = 'active'").fetchone()[0]

    state.set_filter(slow)
    qtbot.waitUntil(lambda: sleeping() == 1, timeout=WAIT)  # the map answered; the slow count runs
    other = FilterState(outcomes={"intercepted"})
    state.set_filter(other)
    qtbot.waitUntil(lambda: answered(window, other), timeout=WAIT)
    qtbot.waitUntil(lambda: sleeping() == 0, timeout=WAIT)  # stopped, long before its minute
    assert window.failures == []  # a count stopped on purpose is no error
    assert database.summary_for == other and window.summary.summary.total == db.count(sample_db, other)


def test_a_file_opened_beside_a_database_on_the_server_closes_it(qtbot, make_main_window, sample_db: str,
                                                                small_limit) -> None:
    window = open_window(qtbot, make_main_window, sample_db)
    assert window.database.partial
    window.open_files([str(SAMPLE)])
    qtbot.waitUntil(lambda: [d.path for d in window.state.datasets] == [str(SAMPLE)], timeout=WAIT)
    assert window.database.uri is None and window.state.database is None
    assert len(window.state.frame) == 3000 and window.summary.headline.text() == "3,000 of 3,000 events shown"
    assert js(qtbot, window, "mapviewer.cells()") is None


def test_filters_counts_and_timeline_come_from_the_server(qtbot, make_main_window, sample_db: str, sample_frame,
                                                          small_limit) -> None:
    window = open_window(qtbot, make_main_window, sample_db)
    database, state = window.database, window.state
    flt = FilterState(munitions={"drones", "KN-23"}, outcomes={"impact", "intercepted"}, start="2025-01-01")
    state.set_filter(flt)
    qtbot.waitUntil(lambda: answered(window, flt), timeout=WAIT)
    expected = flt.mask(sample_frame)
    assert window.summary.summary.total == int(expected.sum())
    assert window.filter_panel.count_label.text() == f"{int(expected.sum()):,} of 3,000 events"
    outcomes = geodata.facet_counts(sample_frame, flt, "outcomes")  # each outcome's count under the other filters
    outcome_list = window.filter_panel.outcome_list
    shown = [int(outcome_list.topLevelItem(i).text(1).replace(",", "")) for i in range(outcome_list.topLevelItemCount())]
    assert shown == [outcomes[o] for o in geodata.OUTCOMES]
    # the timeline's bars are the server's counts of the same events (dates left out, as for files)
    qtbot.waitUntil(lambda: window.timeline.histogram("month") is not None and
                    database._timelines.get((flt.replace(start=None, end=None), "month", window.timeline.by))
                    is not None, timeout=WAIT)
    hist = window.timeline.histogram("month")
    assert round(hist.counts.sum()) == int(flt.replace(start=None).mask(sample_frame).sum())


def test_going_back_to_a_filter_shows_its_counts_without_asking_again(qtbot, make_main_window, sample_db: str,
                                                                      sample_frame, small_limit, monkeypatch) -> None:
    asked: list[FilterState] = []
    summary = db.summary
    monkeypatch.setattr(db, "summary", lambda conn, flt=None, **kw: (asked.append(flt), summary(conn, flt, **kw))[1])
    window = open_window(qtbot, make_main_window, sample_db)
    state = window.state
    drones, every = FilterState(munitions={"drones"}), FilterState()
    for flt in (drones, every, drones, every):
        state.set_filter(flt)
        qtbot.waitUntil(lambda: answered(window, flt), timeout=WAIT)
        assert window.summary.summary.total == int(flt.mask(sample_frame).sum())
    assert asked.count(drones) == 1 and asked.count(every) <= 1  # counted once each; "every" maybe at open


@pytest.mark.parametrize("field", ["text", "munitions", "outcomes", "munition_classes", "admin1", "tags"])
def test_hostile_text_in_every_filter_field_is_only_a_parameter(qtbot, make_main_window, sample_db: str,
                                                                sample_frame, small_limit, field: str) -> None:
    window = open_window(qtbot, make_main_window, sample_db)
    value = {"text": HOSTILE, "tags": {("tag_" + HOSTILE, HOSTILE)}}.get(field, {HOSTILE, "impact"})
    flt = FilterState(**{field: value})
    window.state.set_filter(flt)
    qtbot.waitUntil(lambda: answered(window, flt), timeout=WAIT)
    assert window.failures == []
    assert window.summary.summary.total == int(flt.mask(sample_frame).sum())
    assert db.count(sample_db) == 3000  # nothing was dropped or changed


# -- live updates -------------------------------------------------------------------------------------

def _colleague_rows(tmp_path: Path) -> Path:
    path = tmp_path / "overnight.csv"
    path.write_text("event_id,occurred_at,latitude,longitude,munition,outcome\n"
                    "n1,2025-09-30 03:10,50.44,30.50,Shahed-136,intercepted\n"
                    "n2,2025-09-30 03:20,50.46,30.55,Shahed-136,impact\n"
                    "n3,2025-09-30 03:30,50.47,30.56,Shahed-136,debris\n", encoding="utf-8")
    return path


def _import_elsewhere(uri: str, path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "mapviewer", "db", "import", uri, str(path)], capture_output=True,
                          text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr


def test_new_events_arrive_in_an_open_window(qtbot, make_main_window, fresh: str, tmp_path: Path) -> None:
    db.import_file(fresh, SAMPLE)
    window = open_window(qtbot, make_main_window, fresh)
    state, bar = window.state, window.database_bar
    flt = FilterState(outcomes={"impact", "intercepted"})
    state.set_filter(flt)
    state.request_view(50.45, 30.52, 10)
    qtbot.waitUntil(lambda: js(qtbot, window, "mapviewer.view()")[2] == 10, timeout=WAIT)
    before = len(state.visible)
    assert not bar.isVisible()

    _import_elsewhere(fresh, _colleague_rows(tmp_path))  # a colleague, in another process
    qtbot.waitUntil(lambda: bar.show_button.isVisible(), timeout=WAIT)
    assert bar.new_events.text() == "2 new events since you opened"  # the debris is not in the filter
    assert len(state.frame) == 3000  # nothing comes in by itself
    qtbot.mouseClick(bar.show_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(state.reports) == 3003 and not bar.isVisible(), timeout=WAIT)
    # two sources now (the sample's and the colleague's): their reports are matched, each strike shown once
    qtbot.waitUntil(lambda: not window.matcher.busy and state.counting_strikes, timeout=WAIT)
    assert state.filter == flt and len(state.visible_reports) == before + 2
    assert {"n1", "n2"} <= set(state.visible_reports["event_id"])
    new = np.flatnonzero(state.reports["event_id"].isin(["n1", "n2"]).to_numpy())
    assert state.mask[state.strikes.strike_of[new]].all()  # the strikes they tell are shown
    assert js(qtbot, window, "mapviewer.view()")[2] == 10  # the zoom is kept
    qtbot.waitUntil(lambda: js(qtbot, window, "mapviewer.count()") == len(state.visible), timeout=WAIT)


def test_new_events_included_at_once_when_the_setting_says_so(qtbot, make_main_window, fresh: str,
                                                               tmp_path: Path) -> None:
    db.import_file(fresh, SAMPLE)
    window = make_main_window()
    window.include_new_action.setChecked(True)
    assert window.settings.value(AUTO_INCLUDE_KEY, type=bool)
    failures: list[str] = []
    window.load_failed.connect(lambda path, message: failures.append(message))
    window.open_files([fresh])
    qtbot.waitUntil(lambda: settled(window) and len(window.state.frame) == 3000, timeout=WAIT)
    _import_elsewhere(fresh, _colleague_rows(tmp_path))
    qtbot.waitUntil(lambda: len(window.state.frame) == 3003, timeout=WAIT)
    assert not window.database_bar.show_button.isVisible() and not failures


def test_lost_connection_is_said_retried_and_the_view_kept(qtbot, make_main_window, fresh: str,
                                                           tmp_path: Path) -> None:
    db.import_file(fresh, SAMPLE)
    window = open_window(qtbot, make_main_window, fresh)
    bar, state = window.database_bar, window.state
    qtbot.waitUntil(lambda: window.database._listener is not None, timeout=WAIT)
    qtbot.waitUntil(lambda: js(qtbot, window, "mapviewer.count()") == 3000, timeout=WAIT)  # drawn before the cut
    name = urlsplit(fresh).path.lstrip("/")
    with admin(fresh) as conn:  # the server drops the app's connections (a restart, a network cut)
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND "
                     "application_name = 'mapviewer' AND pid <> pg_backend_pid()", [name])
    qtbot.waitUntil(lambda: bar.connection.isVisible(), timeout=WAIT)
    assert "lost" in bar.connection.text() and "trying again in" in bar.connection.text()
    assert len(state.frame) == 3000 and js(qtbot, window, "mapviewer.count()") == 3000  # the view stays
    qtbot.waitUntil(lambda: not bar.connection.isVisible(), timeout=WAIT)  # back after a second
    _import_elsewhere(fresh, _colleague_rows(tmp_path))  # and listening again
    qtbot.waitUntil(lambda: bar.show_button.isVisible(), timeout=WAIT)
    assert bar.new_events.text() == "3 new events since you opened"


# -- who may open ------------------------------------------------------------------------------------

def test_read_only_role_opens_the_database(qtbot, make_main_window, fresh: str, reader_role) -> None:
    db.import_file(fresh, SAMPLE)
    reader = reader_role(fresh)
    window = open_window(qtbot, make_main_window, reader)
    assert len(window.state.frame) == 3000


def test_password_asked_for_and_never_kept(qtbot, make_main_window, fresh: str) -> None:
    role = "mapviewer_password_test"  # tests/pgcluster.py makes the server ask this role for a password
    db.import_file(fresh, SAMPLE)
    with admin(fresh) as conn:
        conn.execute(f'DROP ROLE IF EXISTS "{role}"')
        conn.execute(f"CREATE ROLE \"{role}\" LOGIN PASSWORD 'right-horse'")
        conn.execute(db.READ_ONLY_GRANTS.format(role=f'"{role}"'))
    try:
        uri = with_db(fresh, urlsplit(fresh).path.lstrip("/"), user=role)
        try:
            db.status(uri)
        except db.ConnectionFailed:
            pass
        else:
            pytest.skip("this server lets the role in without a password (not one started by tests/pgcluster.py)")
        window = make_main_window()
        asked: list[tuple[str, bool]] = []

        def answer(shown: str, refused: bool):
            asked.append((shown, refused))
            return ("wrong-staple" if len(asked) == 1 else "right-horse"), False

        window.database.ask_password = answer
        window.open_files([uri])
        qtbot.waitUntil(lambda: settled(window), timeout=WAIT)
        assert asked == [(uri, False), (uri, True)]  # asked again after a wrong one
        assert len(window.state.frame) == 3000
        window.settings.sync()
        stored = Path(window.settings.fileName()).read_text()
        assert uri in stored and "right-horse" not in stored and "wrong-staple" not in stored
        assert "right-horse" not in window.windowTitle() and all("right-horse" not in d.path
                                                                 for d in window.state.datasets)
    finally:
        with admin(fresh) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_saved_view_names_the_database(qtbot, make_main_window, sample_db: str, sample_frame,
                                       tmp_path: Path) -> None:
    from mapviewer.files.views import save_view, view_from_state

    window = open_window(qtbot, make_main_window, sample_db)
    flt = FilterState(outcomes={"deviated"})
    window.state.set_filter(flt)
    path = save_view(tmp_path / "view.json", view_from_state(window.state))
    saved = json.loads(path.read_text())
    assert saved["data"] == [db.display_uri(sample_db)] and "rows" not in saved

    again = make_main_window()
    again.open_files([str(path)])
    qtbot.waitUntil(lambda: settled(again) and len(again.state.frame) == 3000, timeout=WAIT)
    assert again.state.filter == flt and len(again.state.visible) == int(flt.mask(sample_frame).sum()) == 18


def test_stopping_a_question_on_the_server_never_holds_the_window():
    """A server that takes seconds to answer a cancel (unreachable) is asked from another thread."""
    import threading
    import time

    from mapviewer.files.database import _Cancel

    asked = threading.Event()

    class SlowServer:
        def cancel_safe(self, timeout: float) -> None:
            time.sleep(1.0)
            asked.set()

    job = _Cancel()
    job.conn = SlowServer()
    start = time.perf_counter()
    job.cancel()
    assert job.cancelled and time.perf_counter() - start < 0.5
    assert asked.wait(5)
