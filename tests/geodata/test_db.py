"""The team database (geodata.db) against a real PostgreSQL + PostGIS server.

The server comes from ``MAPVIEWER_TEST_DB`` (a URI; ``python tests/pgcluster.py start DIR``
starts a throwaway one and prints it). Without it these tests skip, except in CI, where they fail.
Each test gets a database of its own, copied from one set up once per module.
"""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import geodata
from geodata import DataError, FilterState, db, read_incidents
from geodata.filters import NO_MUNITION, NO_TAG, no_munition
from geodata.stats import summarize
from geodata.timeline import TimelineIndex
from tests.dbserver import SAMPLE, admin, fresh, sample_db, server, template, with_db  # noqa: F401 (fixtures)

INSPECT_KEYS = {"path", "format", "rows_read", "rows_loaded", "rows_rejected", "problems", "counts", "date_min",
                "date_max"}



@pytest.fixture(scope="module")
def sample_frame():
    return read_incidents(SAMPLE).frame


def write_csv(tmp_path: Path, rows: list[str], name: str = "events.csv",
              header: str = "event_id,occurred_at,latitude,longitude,munition,outcome,killed,injured,location,notes,"
                            "tag_area,reporter,score") -> Path:
    path = tmp_path / name
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


PARTNER_ROWS = [
    'e1,2024-06-02 01:00,50.45,30.52,KN-23,hit,2,3,Kyiv,"a%b_c",Residential | Industrial,Ann,1.5',
    "e2,2024-06,50.40,30.60,,shot down,,,Київ,Примітка ТЕСТ,,Bob,",
    "e3,2024-06-02,148.2,30.60,Geran-2,shot down,,,Kyiv,out of range,Industrial,,2",
    "e4,2024-06-03 22:10,49.99,36.23,Shahed-136,debris,0,1,Kharkiv,fell on a roof,Residential,Ann,",
]


# -- addresses (no server needed) ------------------------------------------------------------------

def test_uri_recognised_and_password_never_shown() -> None:
    assert db.is_uri("postgresql://analyst@db.example:5432/strikes")
    assert db.is_uri("  POSTGRES://db/strikes")
    assert not db.is_uri("strikes.gpkg") and not db.is_uri(None)
    assert (db.display_uri("postgresql://analyst:s3cr%40t@db.example:5432/strikes?sslmode=require&password=x")
            == "postgresql://analyst@db.example:5432/strikes?sslmode=require")
    assert db.display_uri("postgresql://:pw@host/db") == "postgresql://host/db"
    # the rest is kept as written, so the shown address still names the same database
    kept = "postgresql://a@h1:5432,h2:5433/db?options=-c%20search_path%3Dx&target_session_attrs=any"
    assert db.display_uri(kept) == kept
    assert "s3cret" not in db.display_uri("host=h dbname=d password=s3cret user=u")


def test_unreachable_server_is_one_line_without_the_password() -> None:
    with pytest.raises(db.ConnectionFailed) as caught:
        db.status("postgresql://analyst:s3cret@127.0.0.1:1/strikes")
    message = str(caught.value)
    assert "\n" not in message and "s3cret" not in message
    assert message.startswith("postgresql://analyst@127.0.0.1:1/strikes: cannot connect")
    for bad_uri in ("postgresql://analyst:s3cret@host/db?nosuchoption=1", "postgresql://analyst:s3cret@[::1/db"):
        with pytest.raises(DataError) as bad:
            db.read(bad_uri)
        assert "not a valid database address" in str(bad.value) and "s3cret" not in str(bad.value)


def test_password_asked_for_refused_and_never_shown(fresh: str) -> None:
    import psycopg

    role = "mapviewer_password_test"  # tests/pgcluster.py makes the server ask this role for a password
    name = urlsplit(fresh).path.lstrip("/")
    with psycopg.connect(fresh, autocommit=True) as conn:
        conn.execute(f'DROP ROLE IF EXISTS "{role}"')
        conn.execute(f"CREATE ROLE \"{role}\" LOGIN PASSWORD 'right-horse'")
        conn.execute(db.READ_ONLY_GRANTS.format(role=f'"{role}"'))
    try:
        bare = with_db(fresh, name, user=role)
        try:
            db.status(bare)
        except db.ConnectionFailed as exc:
            assert exc.password_needed and "\n" not in str(exc)
        else:
            pytest.skip("this server lets the role in without a password (not one started by tests/pgcluster.py)")
        with pytest.raises(db.ConnectionFailed) as caught:
            db.status(with_db(fresh, name, user=role, password="wrong-staple"))
        assert caught.value.password_needed and "wrong-staple" not in str(caught.value)
        assert "password authentication failed" in str(caught.value) and "\n" not in str(caught.value)
        given = db.with_password(bare, "right-horse")
        status = db.status(given)
        assert status["user"] == role and "right-horse" not in str(status)
        assert db.display_uri(bare) == bare
    finally:
        with psycopg.connect(fresh, autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


# -- set up ----------------------------------------------------------------------------------------

def test_init_twice_is_harmless(fresh: str) -> None:
    again = db.init(fresh)
    assert any("nothing to do" in line for line in again)
    db.import_file(fresh, SAMPLE)
    db.init(fresh)
    assert db.status(fresh)["events"] == 3000


def test_init_without_postgis_rights_names_the_statement(server: str) -> None:
    name, role = f"mv_bare_{uuid.uuid4().hex[:8]}", f"mv_owner_{uuid.uuid4().hex[:8]}"
    with admin(server) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'CREATE DATABASE "{name}" OWNER "{role}"')
    try:
        with pytest.raises(DataError) as caught:
            db.init(with_db(server, name, user=role))
        message = str(caught.value)
        assert "\n" not in message and message.endswith("CREATE EXTENSION postgis;")
    finally:
        with admin(server) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_database_not_set_up_says_how(server: str) -> None:
    name = f"mv_empty_{uuid.uuid4().hex[:8]}"
    with admin(server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        uri = with_db(server, name)
        for call in (lambda: db.read(uri), lambda: db.status(uri), lambda: db.import_file(uri, SAMPLE)):
            with pytest.raises(DataError, match="mapviewer db init"):
                call()
    finally:
        with admin(server) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- import ----------------------------------------------------------------------------------------

def test_import_then_reimport_adds_nothing(fresh: str, sample_frame) -> None:
    first = db.import_file(fresh, SAMPLE)
    assert (first.inserted, first.updated, first.unchanged) == (3000, 0, 0)
    assert first.source == "incidents"
    again = db.import_file(fresh, SAMPLE)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3000)
    status = db.status(fresh)
    assert status["events"] == 3000 and status["sources"] == {"incidents": 3000}
    assert status["newest_import"]["file"] == "incidents.gpkg" and status["seq"] == again.seq > first.seq
    assert status["postgis_version"].startswith("3") and status["writable"] is True
    # what comes back is what the file gives: same columns, dtypes, values, row numbers
    back = db.read(fresh).frame
    assert list(back.columns) == list(sample_frame.columns)
    assert back.dtypes.equals(sample_frame.dtypes)
    pd.testing.assert_frame_equal(pd.DataFrame(back.drop(columns="geometry")),
                                  pd.DataFrame(sample_frame.drop(columns="geometry")))
    assert back.geometry.geom_equals_exact(sample_frame.geometry, 0).all()


def test_import_keeps_rejected_rows_out_and_reports_them(fresh: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path, PARTNER_ROWS, "partner.csv")
    result = db.import_file(fresh, path)
    report = result.report
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (4, 3, 1)
    assert result.inserted == 3
    assert any(p.row == 4 and p.column == "latitude" for p in report.errors)
    out = result.as_json()
    assert INSPECT_KEYS | {"inserted", "updated", "unchanged"} <= set(out)
    assert out["rows_read"] == out["rows_loaded"] + out["rows_rejected"]
    assert out["counts"]["munition"] == {"KN-23": 1, "Shahed-136": 1}
    back = db.read(fresh, provenance=True).frame
    assert sorted(back["event_id"]) == ["e1", "e2", "e4"]
    # where each came from: file, row number (as the file shows it), import time and user
    assert list(back.index) == [2, 3, 5]
    assert set(back["import_file"]) == {"partner.csv"} and set(back["import_source"]) == {"partner"}
    assert set(back["imported_by"]) == {db.status(fresh)["user"]}
    assert back["imported_at"].notna().all()
    # the file's own columns are kept, text as text and numbers as numbers
    assert list(back.columns[-7:-4]) == ["tag_area", "reporter", "score"]
    assert back.loc[2, "tag_area"] == "Residential | Industrial" and back.loc[3, "location"] == "Київ"
    assert back.loc[2, "score"] == 1.5 and np.isnan(back.loc[3, "score"])
    assert pd.isna(back.loc[3, "munition"]) and back.loc[3, "time_precision"] == "month"


def test_changed_event_is_updated_not_added(fresh: str, tmp_path: Path) -> None:
    db.import_file(fresh, write_csv(tmp_path, PARTNER_ROWS, "partner.csv"))
    changed = [r.replace("fell on a roof", "fell on a school roof") for r in PARTNER_ROWS]
    (tmp_path / "v2").mkdir()
    result = db.import_file(fresh, write_csv(tmp_path / "v2", changed, "partner.csv"))
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 2)
    back = db.read(fresh).frame
    assert len(back) == 3 and back.loc[back["event_id"] == "e4", "notes"].item() == "fell on a school roof"
    # another source name is another namespace of event ids
    other = db.import_file(fresh, write_csv(tmp_path, PARTNER_ROWS, "partner.csv"), source_name="partner-b")
    assert other.inserted == 3 and db.status(fresh)["sources"] == {"partner": 3, "partner-b": 3}


def test_repeated_event_id_in_a_file_is_stored_once(fresh: str, tmp_path: Path) -> None:
    rows = [PARTNER_ROWS[0], PARTNER_ROWS[0].replace("Ann", "Cleo")]
    result = db.import_file(fresh, write_csv(tmp_path, rows))
    assert result.inserted == 1 and result.duplicates == 1
    assert any("keeps the first row" in p.message for p in result.report.warnings)
    assert db.read(fresh).frame["reporter"].tolist() == ["Ann"]


HOSTILE = "x'); DROP TABLE mapviewer_events; --"


def test_hostile_text_in_rows_and_filters_is_only_data(fresh: str, tmp_path: Path) -> None:
    rows = [f'"{HOSTILE}",2024-06-02 01:00,50.45,30.52,KN-23,hit,0,0,"Robert\'); --",'
            f'"%_\\ {HOSTILE}",Residential,"$$; SELECT 1; $$",']
    db.import_file(fresh, write_csv(tmp_path, rows), source_name=HOSTILE)
    frame = db.read(fresh).frame
    assert frame["event_id"].tolist() == [HOSTILE] and frame["notes"].tolist() == [f"%_\\ {HOSTILE}"]
    assert db.status(fresh)["sources"] == {HOSTILE: 1}
    fields = dict(munitions={HOSTILE}, outcomes={HOSTILE}, munition_classes={HOSTILE}, admin1={HOSTILE},
                  tags={("tag_area", HOSTILE), (HOSTILE, "x")})
    for name, value in fields.items():
        assert db.count(fresh, FilterState(**{name: value})) == 0
        assert len(db.read(fresh, FilterState(**{name: value})).frame) == 0
    for text, hits in ((HOSTILE, 1), ("%_\\", 1), ("%", 1), ("_x", 0), ("' OR '1'='1", 0)):
        state = FilterState(text=text)
        assert db.count(fresh, state) == len(db.read(fresh, state).frame) == int(state.mask(frame).sum()) == hits
    assert db.status(fresh)["events"] == 1  # the table is still there


def test_two_imports_at_once_lose_nothing(fresh: str, tmp_path: Path) -> None:
    other = write_csv(tmp_path, PARTNER_ROWS, "partner.csv")
    jobs = [(SAMPLE, ""), (other, ""), (SAMPLE, ""), (SAMPLE, "copy")]
    script = ("import json, sys; from geodata import db; r = db.import_file(sys.argv[1], sys.argv[2], "
              "source_name=sys.argv[3] or None); print(json.dumps([r.inserted, r.updated, r.unchanged]))")
    processes = [subprocess.Popen([sys.executable, "-c", script, fresh, str(path), source], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
                 for path, source in jobs]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        results.append(tuple(json.loads(out)))
    assert db.status(fresh)["sources"] == {"incidents": 3000, "copy": 3000, "partner": 3}
    # the two imports of the same file: one added every event, the other found them all there
    assert sorted([results[0], results[2]]) == [(0, 0, 3000), (3000, 0, 0)]
    assert results[1] == (3, 0, 0) and results[3] == (3000, 0, 0)
    import psycopg

    with psycopg.connect(fresh) as conn:
        seqs = [r[0] for r in conn.execute("SELECT seq FROM mapviewer_imports").fetchall()]
    assert sorted(seqs) == [1, 2, 3, 4]
    # the overview kept up with all four
    pd.testing.assert_frame_equal(db.aggregate(fresh, None, None, 0.1),
                                  db.aggregate(fresh, FilterState(min_casualties=0), None, 0.1))
    assert db.count(fresh) == 6003


def test_read_only_user_reads_but_may_not_import(fresh: str, tmp_path: Path) -> None:
    import psycopg

    db.import_file(fresh, SAMPLE)
    role = f"mv_reader_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(fresh, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(db.READ_ONLY_GRANTS.format(role=f'"{role}"'))
    try:
        reader = with_db(fresh, urlsplit(fresh).path.lstrip("/"), user=role)
        assert len(db.read(reader, FilterState(munitions={"KN-23"})).frame) == 34
        status = db.status(reader)
        assert status["events"] == 3000 and status["writable"] is False
        assert db.init(reader)[0].endswith("nothing to do")
        with pytest.raises(DataError) as caught:
            db.import_file(reader, write_csv(tmp_path, PARTNER_ROWS))
        message = str(caught.value)
        assert "\n" not in message and f"the database user {role} may not write events" in message
        assert db.status(fresh)["events"] == 3000
    finally:
        with psycopg.connect(fresh, autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


def test_password_never_in_what_is_shown(fresh: str) -> None:
    parts = urlsplit(fresh)
    secret = with_db(fresh, parts.path.lstrip("/"), user=parts.username or "postgres", password="s3cret")
    result = db.read(secret)
    assert "s3cret" not in result.report.path and "s3cret" not in result.database
    assert "s3cret" not in str(db.status(secret)) and "s3cret" not in str(db.inspect(secret))


# -- filters pushed down: the same rows as the file --------------------------------------------------

CASES = [
    FilterState(),
    FilterState(munitions={"KN-23", "Shahed-136"}),
    FilterState(munitions={NO_MUNITION}),
    FilterState(munitions={"KN-23", no_munition("ballistic missile")}),
    FilterState(munitions={"KN-23", "cruise missile"}),  # a name or any of a class
    FilterState(munitions={"Hwasong-11", "drones"}),  # an alias and a class's other name
    FilterState(munitions={"guided bomb", NO_MUNITION}, outcomes={"impact"}),
    FilterState(munitions={"unknown"}),
    FilterState(outcomes={"impact", "deviated"}),
    FilterState(munition_classes={"cruise missile"}, outcomes={"intercepted"}),
    FilterState(admin1={"Kyiv", "Kyivska oblast"}),
    FilterState(start=dt.date(2025, 9, 29), end=dt.date(2025, 9, 30)),
    FilterState(start="2025-06-01", end="2025-06-07"),  # month-dated June events are not in it
    FilterState(start="2025-06-01", end="2025-06-30"),
    FilterState(start=dt.datetime(2025, 3, 30, 2, 30), end=dt.datetime(2025, 3, 30, 4, 30)),  # clock change
    FilterState(end=dt.date(2024, 12, 31)),
    FilterState(start=dt.date(2025, 9, 1), tz="UTC"),
    FilterState(start=dt.date(2025, 9, 1), end=dt.date(2025, 8, 1)),
    FilterState(text="kyiv"),
    FilterState(text="  SHOT DOWN "),
    FilterState(text="syn-0001"),
    FilterState(bbox=(30.2, 50.2, 30.8, 50.6)),
    FilterState(bbox=(30.8, 50.2, 30.2, 50.6)),
    FilterState(min_casualties=3),
    FilterState(start=dt.date(2025, 1, 1), munition_classes={"guided bomb"}, admin1={"Kharkivska oblast"},
                text="glide", min_casualties=1),
    FilterState(munitions=set()),
]


@pytest.mark.parametrize("state", CASES, ids=range(len(CASES)))
def test_same_rows_as_the_file(sample_db: str, sample_frame, state: FilterState) -> None:
    expected = sample_frame[state.mask(sample_frame)]
    got = db.read(sample_db, state).frame
    assert got["event_id"].tolist() == expected["event_id"].tolist()
    assert db.count(sample_db, state) == len(expected)
    assert db.facet_counts(sample_db, state) == {f: geodata.facet_counts(sample_frame, state, f)
                                                  for f in geodata.filters.FACETS}
    assert db.summary(sample_db, state) == summarize(expected, tz=state.tz)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    munitions=st.none() | st.sets(st.sampled_from(["KN-23", "Shahed-136", "KAB", "Kh-101", "Nope", NO_MUNITION,
                                                    "Hwasong-11", "Shahed", "cruise missile", "drones",
                                                    "guided bomb", "unknown"])),
    outcomes=st.none() | st.sets(st.sampled_from(geodata.OUTCOMES)),
    start=st.none() | st.dates(dt.date(2024, 9, 1), dt.date(2025, 10, 1)),
    days=st.none() | st.integers(0, 60),
    text=st.none() | st.sampled_from(["kyiv", "Shahed", "oblast", "x", "SYN-02", "debris fell", "Ї"]),
    box=st.none() | st.tuples(st.floats(22, 40), st.floats(44, 52), st.floats(0.1, 8), st.floats(0.1, 4)),
)
def test_same_rows_as_the_file_for_any_filter(sample_db, sample_frame, munitions, outcomes, start, days, text,
                                              box) -> None:
    end = None if start is None or days is None else start + dt.timedelta(days=days)
    bbox = None if box is None else (box[0], box[1], box[0] + box[2], box[1] + box[3])
    state = FilterState(start=start, end=end, munitions=munitions, outcomes=outcomes, text=text, bbox=bbox)
    expected = sample_frame.loc[state.mask(sample_frame), "event_id"].tolist()
    assert db.read(sample_db, state, columns=["event_id"]).frame["event_id"].tolist() == expected


def test_tags_and_text_in_tag_columns(fresh: str, tmp_path: Path) -> None:
    db.import_file(fresh, write_csv(tmp_path, PARTNER_ROWS))
    frame = db.read(fresh).frame
    cases = [FilterState(tags={("tag_area", "Industrial")}), FilterState(tags={("tag_area", NO_TAG)}),
             FilterState(tags={("tag_area", "Residential"), ("tag_area", NO_TAG)}),
             FilterState(tags={("tag_area", "")}), FilterState(tags={("tag_nowhere", "x")}),
             FilterState(text="industrial"), FilterState(text="примітка тест"), FilterState(text="КИЇВ")]
    for state in cases:
        expected = frame.loc[state.mask(frame), "event_id"].tolist()
        assert db.read(fresh, state).frame["event_id"].tolist() == expected, state
        assert db.count(fresh, state) == len(expected)
    assert db.count(fresh, FilterState(text="примітка тест")) == 1


def test_munition_names_aliases_and_classes_as_the_file(fresh: str, tmp_path: Path) -> None:
    rows = PARTNER_ROWS + ["e5,2024-06-04 03:00,50.1,30.1,Mystery-9,hit,,,Kyiv,,,,",
                           "e6,2024-06-04 04:00,50.2,30.2,,hit,,,Kyiv,,,,"]
    db.import_file(fresh, write_csv(tmp_path, rows))
    frame = db.read(fresh).frame
    assert frame["munition_class"].isna().any() or (frame["munition_class"] == "unknown").any()
    for munitions in ({"unknown"}, {"drones"}, {"Hwasong-11"}, {"ballistic missile", "Mystery-9"},
                      {"unknown", no_munition("loitering munition")}, {"loitering munition", NO_MUNITION}):
        state = FilterState(munitions=munitions)
        expected = frame.loc[state.mask(frame), "event_id"].tolist()
        assert db.read(fresh, state).frame["event_id"].tolist() == expected, munitions
        assert db.count(fresh, state) == len(expected)
        assert db.facet_counts(fresh, state) == {f: geodata.facet_counts(frame, state, f)
                                                 for f in geodata.filters.FACETS}
    assert db.read(fresh, FilterState(munitions={"unknown"})).frame["event_id"].tolist() == ["e2", "e5", "e6"]


def test_timeline_matches_the_file(sample_db: str, sample_frame) -> None:
    index = TimelineIndex.from_frame(sample_frame)
    for unit, state in (("day", FilterState()), ("week", FilterState(outcomes={"impact"})),
                        ("hour", FilterState(start=dt.date(2025, 9, 1))), ("month", FilterState(text="kyiv"))):
        for by in ("outcome", "class"):
            expected = index.histogram(state.mask(sample_frame), unit, by)
            got = db.timeline_counts(sample_db, state, unit, by)
            assert np.array_equal(got.edges, expected.edges)
            assert np.allclose(got.counts, expected.counts) and np.allclose(got.spread, expected.spread)


def test_read_incidents_reads_a_database(sample_db: str, sample_frame) -> None:
    state = FilterState(munitions={"cruise missile"}, outcomes={"impact"})
    result = read_incidents(sample_db, filter_state=state)
    assert result.frame["event_id"].tolist() == sample_frame.loc[state.mask(sample_frame), "event_id"].tolist()
    assert result.report.rows_read == result.report.rows_loaded == len(result.frame) > 0
    with pytest.raises(DataError, match="column mapping"):
        read_incidents(sample_db, columns={"when": "occurred_at"})


def test_catalogue_lists_what_a_filter_chooses_from(sample_db: str, sample_frame) -> None:
    found = db.catalogue(sample_db)
    pairs = sample_frame.groupby(["munition", "munition_class"], observed=True, dropna=False).size()
    assert {(m, c): n for m, c, n in found["munitions"]} == {(m, c): int(n) for (m, c), n in pairs.items() if n}
    assert found["first"] == sample_frame["occurred_at"].min() and found["last"] == sample_frame["occurred_at"].max()


def test_catalogue_follows_imports_and_a_stale_overview(fresh: str, tmp_path: Path) -> None:
    from geodata.report import LoadReport

    def expected() -> dict:
        frame = db.read(fresh).frame
        pairs = frame.groupby(["munition", "munition_class"], observed=True, dropna=False).size()
        return {(None if pd.isna(m) else m, None if pd.isna(c) else c): int(n) for (m, c), n in pairs.items() if n}

    db.import_file(fresh, write_csv(tmp_path, PARTNER_ROWS, "partner.csv"))
    assert {(m, c): n for m, c, n in db.catalogue(fresh)["munitions"]} == expected()
    (tmp_path / "v2").mkdir()  # KN-23 becomes a Shahed: one pair fewer, another one more
    db.import_file(fresh, write_csv(tmp_path / "v2", [r.replace("KN-23", "Shahed-136") for r in PARTNER_ROWS],
                                    "partner.csv"))
    found = db.catalogue(fresh)
    assert {(m, c): n for m, c, n in found["munitions"]} == expected()
    assert not any(m == "KN-23" for m, _c, _n in found["munitions"])
    part = read_incidents(SAMPLE).frame.iloc[:50]
    db.import_frame(fresh, part, LoadReport("part", "gpkg", 50, 50), source="bulk", file_name="part",
                    update_overview=False)  # the overview is out of date: counted from the table
    found = db.catalogue(fresh)
    assert {(m, c): n for m, c, n in found["munitions"]} == expected()
    assert [n for _m, _c, n in found["munitions"]] == sorted((n for _m, _c, n in found["munitions"]), reverse=True)
    times = db.read(fresh).frame["occurred_at"]
    assert (found["first"], found["last"]) == (times.min(), times.max())


def test_store_set_up_by_an_older_version_says_to_run_init_again(fresh: str, tmp_path: Path) -> None:
    import psycopg

    db.import_file(fresh, write_csv(tmp_path, PARTNER_ROWS))
    with psycopg.connect(fresh, autocommit=True) as conn:
        conn.execute("DROP TABLE mapviewer_overview")  # as a store made before the overview existed
    for ask in (db.count, db.catalogue, lambda uri: db.view(uri, None, None, 1.0)):
        with pytest.raises(DataError) as caught:
            ask(fresh)
        message = str(caught.value)
        assert "mapviewer_overview" in message and "db init" in message and "again" in message
        assert "holds no strike-map tables" not in message
    assert any("overview" in line for line in db.init(fresh))
    assert db.count(fresh) == 3 and db.view(fresh, None, None, 1.0)[0] == "points"
    with psycopg.connect(fresh, autocommit=True) as conn:  # an overview of an older version is made again
        conn.execute("UPDATE mapviewer_overview SET facets = facets - 'pairs'")
    assert any("overview" in line for line in db.init(fresh))
    assert {(m, c) for m, c, _n in db.catalogue(fresh)["munitions"]} == {
        ("KN-23", "ballistic missile"), (None, "unknown"), ("Shahed-136", "loitering munition")}


def test_inspect_reports_what_the_database_holds(sample_db: str, sample_frame) -> None:
    from geodata.report import LoadReport

    out = db.inspect(sample_db)
    assert set(out) == INSPECT_KEYS and out["format"] == "postgresql"
    assert out["rows_read"] == out["rows_loaded"] == 3000 and out["rows_rejected"] == 0
    file_summary = db.load_summary(LoadReport("x", "gpkg"), sample_frame)
    assert out["counts"] == file_summary["counts"]
    assert (out["date_min"], out["date_max"]) == (file_summary["date_min"], file_summary["date_max"])


# -- drawing: points or cells --------------------------------------------------------------------------

def cells_of(frame, size: float, view) -> dict[tuple[int, int], dict[str, int]]:
    """Expected cells: events per cell of ``size`` degrees among the cells ``view`` touches."""
    def cell(v):
        return np.floor(np.round(np.asarray(v, dtype=float) * 1e7) / round(size * 1e7)).astype(np.int64)

    ix, iy = cell(frame.geometry.x), cell(frame.geometry.y)
    west, south, east, north = cell(view[0]), cell(view[1]), cell(view[2]), cell(view[3])
    inside = (ix >= west) & (ix <= east) & (iy >= south) & (iy <= north)
    out: dict[tuple[int, int], dict[str, int]] = {}
    for x, y, outcome in zip(ix[inside], iy[inside], frame["outcome"].astype(str).to_numpy()[inside]):
        counts = out.setdefault((int(x), int(y)), dict.fromkeys(geodata.OUTCOMES, 0))
        counts[outcome] += 1
    return out


def as_cells(table, size: float) -> dict[tuple[int, int], dict[str, int]]:
    assert ((table[list(geodata.OUTCOMES)].sum(axis=1)) == table["count"]).all()
    return {(int(round(r.west / size)), int(round(r.south / size))): {o: int(getattr(r, o)) for o in geodata.OUTCOMES}
            for r in table.itertuples()}


def test_plan_and_aggregate(sample_db: str, sample_frame) -> None:
    state = FilterState(outcomes={"impact", "intercepted", "unknown"})
    view = (29.1, 49.6, 32.0, 51.5)
    n = db.count(sample_db, state, bbox=view)
    assert n == int((state.mask(sample_frame) & FilterState(bbox=view).mask(sample_frame)).sum())
    assert db.plan(sample_db, state, view) == ("points", n)
    assert db.plan(sample_db, state, view, limit=n - 1) == ("cells", n)
    # the cells the view touches, each with every matching event in it (a point on an edge: the cell it starts)
    shown = sample_frame[state.mask(sample_frame)]
    for size in (0.25, 0.1, 0.013):
        assert as_cells(db.aggregate(sample_db, state, view, size), size) == cells_of(shown, size, view)
    assert 0 < len(db.read(sample_db, state, bbox=view, limit=10).frame) == 10
    # the same in one call, as the map asks
    how, points = db.view(sample_db, state, view, 0.25)
    assert how == "points" and points.frame["event_id"].tolist() == db.read(sample_db, state, bbox=view).frame[
        "event_id"].tolist()
    how, cells = db.view(sample_db, state, view, 0.25, limit=n - 1)
    assert how == "cells" and cells.equals(db.aggregate(sample_db, state, view, 0.25))
    assert db.view(sample_db, None, None, 1.0, limit=100)[0] == "cells"
    assert db.view(sample_db, state, view, 0.25, limit=n - 1, cells=False) == ("cells", None)  # nothing counted
    assert db.view(sample_db, None, None, 1.0, limit=100, cells=False) == ("cells", None)
    assert db.view(sample_db, state, view, 0.25, cells=False)[0] == "points"


def test_unfiltered_view_from_the_overview(sample_db: str, sample_frame) -> None:
    everything, trivially = FilterState(), FilterState(min_casualties=0)  # the second is answered by a scan
    assert db.count(sample_db) == db.count(sample_db, trivially) == 3000
    for view in (None, (22.0, 44.0, 40.5, 52.5), (30.2, 50.3, 30.8, 50.6)):
        for size in (0.25, 0.01, 1.0):
            from_overview = db.aggregate(sample_db, everything, view, size)
            pd.testing.assert_frame_equal(from_overview, db.aggregate(sample_db, trivially, view, size))
            assert as_cells(from_overview, size) == cells_of(sample_frame, size, view or (-180, -90, 180, 90))
    assert db.plan(sample_db, None, None, limit=2999)[0] == "cells"
    assert db.plan(sample_db, None, None, limit=3000) == ("points", 3000)


def test_overview_follows_imports(fresh: str, tmp_path: Path) -> None:
    from geodata.report import LoadReport

    def same_both_ways(from_overview: bool = True) -> None:
        from geodata.db.counts import _whole_table_summary

        with db.connect(fresh) as conn:  # the whole table's summary comes from the overview while it is current
            assert (_whole_table_summary(conn) is not None) == from_overview
        pd.testing.assert_frame_equal(db.aggregate(fresh, None, None, 0.05),
                                      db.aggregate(fresh, FilterState(min_casualties=0), None, 0.05))
        assert db.count(fresh) == db.count(fresh, FilterState(min_casualties=0))
        frame = db.read(fresh).frame
        assert db.facet_counts(fresh) == {f: geodata.facet_counts(frame, FilterState(), f)
                                          for f in geodata.filters.FACETS}
        # the summary of the whole table (from the overview) is the scan's and the frame's
        assert db.summary(fresh) == db.summary(fresh, FilterState(min_casualties=0)) == summarize(frame)

    db.import_file(fresh, write_csv(tmp_path, PARTNER_ROWS, "partner.csv"))
    same_both_ways()
    (tmp_path / "v2").mkdir()
    db.import_file(fresh, write_csv(tmp_path / "v2", [r.replace("debris", "impact") for r in PARTNER_ROWS],
                                    "partner.csv"))
    assert db.aggregate(fresh, None, None, 1.0)["impact"].sum() == 2
    same_both_ways()
    (tmp_path / "v3").mkdir()  # casualty figures changed, one given where there was none
    changed = [r.replace(",hit,2,3,", ",hit,5,,").replace(",shot down,,,Київ", ",shot down,1,,Київ") for r in PARTNER_ROWS]
    assert changed != PARTNER_ROWS
    db.import_file(fresh, write_csv(tmp_path / "v3", changed, "partner.csv"))
    assert db.summary(fresh).killed == 6
    same_both_ways()
    part = read_incidents(SAMPLE).frame.iloc[:100]
    db.import_frame(fresh, part, LoadReport("part", "gpkg", 100, 100), source="bulk", file_name="part",
                    update_overview=False)
    assert db.count(fresh) == 103  # a stale overview is not used
    same_both_ways(from_overview=False)
    db.refresh_overview(fresh)
    same_both_ways()


# -- live updates ----------------------------------------------------------------------------------------

def test_listener_hears_imports_and_counts_new_events(fresh: str, tmp_path: Path) -> None:
    first = db.read(fresh)
    with db.Listener(fresh) as listener:
        assert isinstance(listener.fileno(), int) and listener.drain() == []
        result = db.import_file(fresh, write_csv(tmp_path, PARTNER_ROWS))
        notes = listener.wait(10)
        assert notes and notes[0]["seq"] == result.seq and notes[0]["inserted"] == 3
        assert notes[0]["source"] == "events"
    assert db.new_since(fresh, first.seq) == 3
    assert db.new_since(fresh, first.seq, FilterState(munitions={"KN-23"})) == 1
    assert db.new_since(fresh, result.seq) == 0 == db.new_since(fresh, db.latest_seq(fresh))


def test_dropped_listener_connection_is_a_clear_error(fresh: str) -> None:
    import psycopg

    listener = db.Listener(fresh)
    try:
        pid = listener._conn.info.backend_pid
        with psycopg.connect(fresh, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", [pid])
        with pytest.raises(db.ConnectionFailed, match="lost"):
            for _ in range(50):
                listener.wait(0.2)
    finally:
        listener.close()
