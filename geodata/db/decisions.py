"""The analyst's decisions on matched reports, kept in the team database (Qt-free).

For data read from files, :class:`geodata.match.Decisions` are a JSON file next to the data; for a
database they are the rows of :data:`TABLE`, one per decision, in the order they were made. They
are read back by replaying them (:class:`~geodata.match.Decisions` keeps the later of two
decisions that disagree), so colleagues who decide at the same time add to the list and never
overwrite each other. Reports are named as in the file: the source they were imported under and
their event id, so decisions survive re-imports.

``mapviewer db init`` creates the table (:data:`SCHEMA`, part of :data:`geodata.db.SCHEMA`); a
database set up before it existed still opens: :func:`load` and :func:`record` then raise one
:class:`~geodata.errors.DataError` line saying that ``mapviewer db init URI`` adds what is
missing. Every value travels as a bind parameter.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from geodata.db.connect import TABLES_OUTDATED, Source, session, uri_of
from geodata.errors import DataError

if TYPE_CHECKING:
    from geodata.match import Decision, Decisions

__all__ = ["SCHEMA", "TABLE", "load", "record"]

TABLE = "mapviewer_match_decisions"

#: The table (harmless to run again); ``reports``/``others`` hold [{"source", "event_id"}, ...].
SCHEMA = """
-- The analyst's decisions on matched reports (geodata.db.decisions), replayed in decision_id order.
CREATE TABLE IF NOT EXISTS mapviewer_match_decisions (
    decision_id bigserial PRIMARY KEY,
    action      text NOT NULL CHECK (action IN ('confirm', 'join', 'split')),
    reports     jsonb NOT NULL,
    others      jsonb NOT NULL DEFAULT '[]',
    made_at     timestamptz NOT NULL DEFAULT now(),
    made_by     text NOT NULL DEFAULT current_user
);
"""


def _check(conn, shown: str) -> None:
    if conn.execute("SELECT to_regclass(%s) IS NULL", [TABLE]).fetchone()[0]:
        raise DataError(f"{shown}: {TABLES_OUTDATED.format(table=TABLE, uri=shown)}")


def load(source: Source) -> Decisions:
    """Every decision kept in the database, replayed in the order they were made."""
    from psycopg import errors as pgerrors

    from geodata.match import Decisions

    shown = uri_of(source)
    with session(source) as conn:
        _check(conn, shown)
        try:
            rows = conn.execute("SELECT action, reports, others, to_char(made_at AT TIME ZONE 'UTC', "
                                "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM mapviewer_match_decisions "
                                "ORDER BY decision_id").fetchall()
        except pgerrors.InsufficientPrivilege:
            raise DataError(f"{shown}: the database user {conn.info.user} may not read the match decisions "
                            f"(ask for SELECT on {TABLE})") from None
    document = {**Decisions().to_dict(),  # the file's form: one reader checks both
                "decisions": [{"action": a, "reports": r, "others": o, "made_at": m} for a, r, o, m in rows]}
    return Decisions.from_dict(document, f"{shown}: {TABLE}")


def record(source: Source, decisions: Iterable[Decision]) -> None:
    """Add ``decisions`` (in order, in one transaction) to those kept in the database.

    A user who may only read gets one DataError line saying so; nothing is written then.
    """
    from psycopg import errors as pgerrors

    shown = uri_of(source)
    rows = []
    for d in decisions:
        made = d.to_dict()
        rows.append([d.action, json.dumps(made["reports"], ensure_ascii=False),
                     json.dumps(made.get("others", []), ensure_ascii=False), d.made_at or None])
    with session(source) as conn:
        _check(conn, shown)
        try:
            with conn.transaction():
                with conn.cursor() as cur:
                    cur.executemany("INSERT INTO mapviewer_match_decisions (action, reports, others, made_at) "
                                    "VALUES (%s, %s::jsonb, %s::jsonb, coalesce(%s::timestamptz, now()))", rows)
        except (pgerrors.InsufficientPrivilege, pgerrors.ReadOnlySqlTransaction):
            raise DataError(f"{shown}: the database user {conn.info.user} may not record match decisions here "
                            f"(ask for INSERT on {TABLE})") from None
