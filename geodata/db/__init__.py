"""The team database: PostgreSQL + PostGIS as the shared incident store (Qt-free).

A database is named by a libpq URI, ``postgresql://user@host:port/dbname``; the password comes
from libpq's own means (``~/.pgpass``, ``PGPASSWORD``, a service file) and is never written
anywhere (:func:`display_uri` is the form to show and store).

- :func:`init` sets a database up (PostGIS, tables, indexes); running it again is harmless.
- :func:`import_file` reads a file with :func:`geodata.read_incidents` (the same readers and
  checks as the app) and stores its rows in one transaction; an event is identified by its
  source name (the file's stem unless given) and ``event_id``, updated only when it changed.
- :func:`read`, :func:`count`, :func:`facet_counts`, :func:`summary`, :func:`timeline_counts`,
  :func:`inspect`, :func:`catalogue` answer with a :class:`geodata.FilterState` pushed down into one parameterised
  query, so the app holds only what the view needs; :func:`view` (or :func:`plan` then
  :func:`read` or :func:`aggregate`) gives the points of a view, or server-side grid cells when
  more than :data:`POINT_LIMIT` events match.
- :class:`Listener` and :func:`new_since` tell an open app about colleagues' imports.
- :mod:`geodata.db.decisions` keeps the analyst's decisions on matched reports (confirm, split,
  join) in the database, as ``strike-matches.json`` keeps them beside files.

Why psycopg 3 (and no ORM): the store is two tables and plain SQL; psycopg 3 gives bind
parameters and :mod:`psycopg.sql` for composing statements safely, ``COPY`` in both directions
(fast import and fast reads into Arrow), LISTEN/NOTIFY with the connection's socket exposed for
the app's event loop, and a binary wheel that needs no compiler or system libpq.

Schema: ``mapviewer_events`` (one row per event: the canonical columns, ``geom``
geometry(Point, 4326), ``latest_at`` = the last instant a day- or month-dated event may have
happened in the working zone, so the precision-aware date filter is an indexed range test, the
file's other columns as ``extra`` jsonb, and provenance: file name, row, import) and
``mapviewer_imports`` (one row per imported file: who, when, counts). See :data:`SCHEMA`.
"""
from __future__ import annotations

from geodata.db.connect import ConnectionFailed, connect, display_uri, is_uri, with_password
from geodata.db.counts import catalogue, facet_counts, inspect, latest_seq, new_since, summary, timeline_counts
from geodata.db.listen import Listener
from geodata.db.mapview import POINT_LIMIT, aggregate, count, plan, view
from geodata.db.rows import PROVENANCE_COLUMNS, DbLoadResult, read
from geodata.db.schema import CHANNEL, READ_ONLY_GRANTS, SCHEMA, WRITER_GRANTS, init, status
from geodata.db.store import ImportResult, import_file, import_frame, load_summary, refresh_overview

__all__ = [
    "CHANNEL",
    "POINT_LIMIT",
    "PROVENANCE_COLUMNS",
    "READ_ONLY_GRANTS",
    "SCHEMA",
    "WRITER_GRANTS",
    "ConnectionFailed",
    "DbLoadResult",
    "ImportResult",
    "Listener",
    "aggregate",
    "catalogue",
    "connect",
    "count",
    "display_uri",
    "facet_counts",
    "import_file",
    "import_frame",
    "init",
    "inspect",
    "is_uri",
    "latest_seq",
    "load_summary",
    "new_since",
    "plan",
    "read",
    "refresh_overview",
    "status",
    "summary",
    "timeline_counts",
    "view",
    "with_password",
]
