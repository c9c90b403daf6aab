"""Live updates: learn of colleagues' imports as they are committed (LISTEN/NOTIFY)."""
from __future__ import annotations

import json
import select
from typing import Any

from geodata.db.connect import ConnectionFailed, connect, display_uri, one_line
from geodata.db.schema import CHANNEL

__all__ = ["Listener"]


class Listener:
    """A connection that listens on :data:`CHANNEL`.

    ``fileno()`` is its socket: the app watches it (``QSocketNotifier``) and calls
    :meth:`drain` when it becomes readable; :meth:`wait` blocks for scripts and tests. Each
    notification is the import's JSON payload as a dict (``seq``, ``source``, ``file``,
    ``inserted``, ``updated``, ``by``). A lost connection raises :class:`ConnectionFailed` (a
    DataError) from either: show it, then make a new Listener (with a growing delay between tries)
    and count what arrived meanwhile with :func:`geodata.db.new_since`.
    """

    def __init__(self, uri: str, channel: str = CHANNEL) -> None:
        from psycopg import sql

        self.uri = display_uri(uri)
        self.channel = channel
        self._conn = connect(uri, autocommit=True)
        try:
            self._conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        except Exception as exc:
            self._conn.close()
            raise ConnectionFailed(f"{self.uri}: cannot listen for new events: {one_line(exc)}") from None

    def fileno(self) -> int:
        return self._conn.pgconn.socket

    def drain(self) -> list[dict[str, Any]]:
        """The notifications received so far (never blocks); payloads that are not JSON objects
        (someone else's NOTIFY on the channel) are left out."""
        import psycopg

        pgconn = self._conn.pgconn
        out: list[dict[str, Any]] = []
        try:
            pgconn.consume_input()
        except psycopg.OperationalError as exc:
            raise ConnectionFailed(f"{self.uri}: the connection for live updates was lost "
                                   f"({one_line(exc)}); reconnecting") from None
        if pgconn.status != psycopg.pq.ConnStatus.OK:
            raise ConnectionFailed(f"{self.uri}: the connection for live updates was lost; reconnecting")
        while (note := pgconn.notifies()) is not None:
            try:
                payload = json.loads(note.extra.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                continue
            if isinstance(payload, dict):
                out.append(payload)
        return out

    def wait(self, timeout: float) -> list[dict[str, Any]]:
        """Notifications, waiting up to ``timeout`` seconds for the first."""
        found = self.drain()
        if not found:
            readable, _, _ = select.select([self.fileno()], [], [], timeout)
            if readable:
                found = self.drain()
        return found

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
