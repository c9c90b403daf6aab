"""Fixtures for tests against a real PostgreSQL + PostGIS server (import them into a test module).

The server comes from ``MAPVIEWER_TEST_DB`` (a URI; ``python tests/pgcluster.py start DIR`` starts a
throwaway one and prints it). Without it the tests skip, except in CI, where they fail. Each test
gets a database of its own, copied from one set up once per module.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "resources" / "sample" / "incidents.gpkg"
HOW = ("no test database: start one with `python tests/pgcluster.py start DIR` and set "
       "MAPVIEWER_TEST_DB to the URI it prints")


def with_db(uri: str, name: str, user: str | None = None, password: str | None = None) -> str:
    """``uri`` naming database ``name`` (as ``user``, with ``password``)."""
    parts = urlsplit(uri)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    who = user or parts.username or ""
    if who:
        netloc = f"{who}{':' + password if password else ''}@{netloc}"
    return urlunsplit((parts.scheme, netloc, "/" + name, parts.query, ""))


def admin(server: str):
    import psycopg

    return psycopg.connect(server, autocommit=True)


def drop(server: str, name: str) -> None:
    with admin(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def server() -> str:
    uri = os.environ.get("MAPVIEWER_TEST_DB")
    if not uri:
        if os.environ.get("CI") == "true":
            pytest.fail(HOW + " (database tests never skip in CI)")
        pytest.skip(HOW)
    return uri


@pytest.fixture(scope="module")
def template(server: str):
    """A database set up with ``db.init`` (and nothing imported), copied for each test."""
    from geodata import db

    name = f"mv_template_{uuid.uuid4().hex[:8]}"
    with admin(server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        db.init(with_db(server, name))
        yield name
    finally:
        drop(server, name)


@pytest.fixture
def fresh(server: str, template: str):
    """A database of this test's own, set up and empty."""
    name = f"mv_test_{uuid.uuid4().hex[:8]}"
    with admin(server) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield with_db(server, name)
    drop(server, name)


@pytest.fixture
def blank(server: str):
    """An empty database, not set up (no PostGIS, no tables)."""
    name = f"mv_blank_{uuid.uuid4().hex[:8]}"
    with admin(server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield with_db(server, name)
    drop(server, name)


@pytest.fixture(scope="module")
def sample_db(server: str, template: str):
    """The shipped sample imported once, for the tests that only read."""
    from geodata import db

    name = f"mv_sample_{uuid.uuid4().hex[:8]}"
    with admin(server) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    uri = with_db(server, name)
    try:
        db.import_file(uri, SAMPLE)
        yield uri
    finally:
        drop(server, name)


@pytest.fixture
def reader_role(server: str):
    """Factory: ``reader_role(uri)`` -> the URI as a new login role that may only read (dropped after)."""
    from geodata import db

    made: list[tuple[str, str]] = []

    def make(uri: str) -> str:
        role = f"mv_reader_{uuid.uuid4().hex[:8]}"
        with admin(uri) as conn:
            conn.execute(f'CREATE ROLE "{role}" LOGIN')
            conn.execute(db.READ_ONLY_GRANTS.format(role=f'"{role}"'))
        made.append((uri, role))
        return with_db(uri, urlsplit(uri).path.lstrip("/"), user=role)

    yield make
    import psycopg

    for uri, role in made:
        try:  # its grants first, unless the database is gone already
            with admin(uri) as conn:
                conn.execute(f'DROP OWNED BY "{role}"')
        except psycopg.OperationalError:
            pass
        with admin(server) as conn:
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')
