"""Database addresses, connections and the errors a user can cause with them.

A database is named by a libpq URI, ``postgresql://user@host:port/dbname``. The password comes
from libpq's own means (``~/.pgpass``, ``PGPASSWORD``, a service file) or, in memory only, from
:func:`with_password`; :func:`display_uri` is the form to show or store anywhere.
"""
from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Union
from urllib.parse import unquote

from geodata.errors import DataError
from geodata.uri import is_uri

if TYPE_CHECKING:
    import psycopg

__all__ = ["ConnectionFailed", "Source", "connect", "display_uri", "is_uri", "with_password"]

#: A URI, or a connection made by :func:`connect` (reused, left open).
Source = Union[str, "psycopg.Connection"]

_URI_PASSWORD = re.compile(r"(://[^:/@\s]*):[^@\s]*@")
_CONNINFO_PASSWORD = re.compile(r"""password\s*=\s*('(?:[^'\\]|\\.)*'|\S*)\s*""", re.IGNORECASE)


class ConnectionFailed(DataError):
    """The server could not be reached, refused us, or the connection was lost.

    ``password_needed`` is True when the server asked for a password that was not given or
    was wrong: the app may ask for one and try again with :func:`with_password`.
    """

    def __init__(self, message: str, *, password_needed: bool = False) -> None:
        super().__init__(message)
        self.password_needed = password_needed


def display_uri(uri: str) -> str:
    """``uri`` with any password removed (from the user part and from a ``password=`` parameter).

    This is the form for window titles, logs, saved views and settings. Everything else is kept
    as written, so the result still names the same database.
    """
    text = uri.strip()
    if not is_uri(text):  # a key=value connection string
        return _CONNINFO_PASSWORD.sub("", text).strip()
    scheme, rest = text.split("://", 1)
    rest, _, fragment = rest.partition("#")
    address, question, query = rest.partition("?")
    netloc, slash, path = address.partition("/")
    if "@" in netloc:
        userinfo, hosts = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}@{hosts}" if user else hosts
    kept = [p for p in query.split("&") if p and unquote(p.split("=", 1)[0]).strip().lower() != "password"]
    return f"{scheme}://{netloc}{slash}{path}" + (f"?{'&'.join(kept)}" if kept else "")


def with_password(uri: str, password: str) -> str:
    """A connection string for ``uri`` with ``password``: to keep in memory, never to show or store."""
    from psycopg.conninfo import make_conninfo

    return make_conninfo(uri.strip(), password=password)


def _password_of(uri: str) -> str | None:
    try:
        from psycopg.conninfo import conninfo_to_dict

        return conninfo_to_dict(uri.strip()).get("password") or None
    except Exception:  # an address libpq cannot parse holds no password we could hide better
        return None


def one_line(exc: BaseException, uri: str | None = None) -> str:
    """The server's or libpq's message on one line, with any password hidden."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = text.removeprefix("connection failed: ")
    if uri:
        text = text.replace(uri.strip(), display_uri(uri))  # libpq quotes an address it cannot parse
        password = _password_of(uri)
        if password:
            text = text.replace(password, "***")
    return _URI_PASSWORD.sub(r"\1@", text)


def connect(uri: str, *, autocommit: bool = True) -> psycopg.Connection:
    """Open a connection to ``uri`` (working settings applied); raise :class:`ConnectionFailed`.

    Functions of :mod:`geodata.db` take the URI or such a connection: reuse one to spare a
    connection setup per call (close it when done).
    """
    import psycopg

    shown = display_uri(uri)
    if not isinstance(uri, str) or not uri.strip():
        raise DataError("no database address given (expected postgresql://user@host:port/dbname)")
    try:
        # No prepared statements: a prepared statement soon runs with a generic plan that ignores
        # the filter's values (a country-wide index scan for a city's worth of events).
        conn = psycopg.connect(uri.strip(), autocommit=autocommit, connect_timeout=10,
                               application_name="mapviewer", prepare_threshold=None)
    except psycopg.ProgrammingError as exc:  # libpq could not parse the address
        raise DataError(f"{shown}: not a valid database address ({one_line(exc, uri)})") from None
    except psycopg.OperationalError as exc:
        message = one_line(exc, uri)
        needed = "no password supplied" in message or "password authentication failed" in message
        hint = " (give it in ~/.pgpass or PGPASSWORD)" if needed else ""
        raise ConnectionFailed(f"{shown}: cannot connect: {message}{hint}", password_needed=needed) from None
    try:
        # Plain settings for our statements: UTC times, no JIT (it costs more than it saves on the
        # short aggregations a map view asks for), every plan made for the values at hand.
        conn.execute("SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; SET jit = off; "
                     "SET plan_cache_mode = force_custom_plan")
    except psycopg.Error as exc:
        conn.close()
        raise ConnectionFailed(f"{shown}: cannot connect: {one_line(exc, uri)}") from None
    return conn


def uri_of(source: Source) -> str:
    """The address to name in messages: the URI, or the connected database's (no password)."""
    if isinstance(source, str):
        return display_uri(source)
    info = source.info
    return f"postgresql://{info.user}@{info.host}:{info.port}/{info.dbname}"


@contextlib.contextmanager
def session(source: Source, *, writing: bool = False) -> Iterator[psycopg.Connection]:
    """A connection for one call: opened (and closed after) for a URI, reused for a connection.

    Every server error a user can cause becomes a one-line :class:`DataError` naming the
    database (never its password).
    """
    conn = connect(source) if isinstance(source, str) else source
    try:
        with errors(source, writing):
            yield conn
    finally:
        if isinstance(source, str):
            conn.close()


TABLES_MISSING = "holds no strike-map tables: set it up first with 'mapviewer db init {uri}'"
#: Said when the store is there but a table a newer version added is not.
TABLES_OUTDATED = ("was set up by an older version of this program (it lacks the table {table}): run "
                   "'mapviewer db init {uri}' again to add what is missing (the events stay)")
#: The tables every version has: when one of them is missing there is no store at all.
_FIRST_TABLES = ("mapviewer_events", "mapviewer_imports", "mapviewer_meta")


@contextlib.contextmanager
def errors(source: Source, writing: bool = False) -> Iterator[None]:
    """Turn psycopg errors into one-line DataErrors."""
    import psycopg
    from psycopg import errors as pgerrors

    shown = uri_of(source)
    raw = source if isinstance(source, str) else None
    try:
        yield
    except DataError:
        raise
    except pgerrors.UndefinedTable as exc:
        raise DataError(f"{shown}: {missing_table(exc, shown)}") from None
    except pgerrors.InsufficientPrivilege as exc:
        user = _user(source)
        if writing:
            raise DataError(write_denied(shown, user)) from None
        raise DataError(f"{shown}: the database user {user} may not do this: {one_line(exc, raw)}") from None
    except pgerrors.ReadOnlySqlTransaction:
        raise DataError(f"{shown}: the server is read-only (a standby): import into the primary server") from None
    except psycopg.OperationalError as exc:
        raise ConnectionFailed(f"{shown}: the connection to the database was lost ({one_line(exc, raw)}); "
                               "try again") from None
    except psycopg.Error as exc:
        raise DataError(f"{shown}: {one_line(exc, raw)}") from None


def missing_table(exc: BaseException, shown: str) -> str:
    """What to do about a table the server says is missing: set the store up, or bring it up to date."""
    found = re.search(r'relation "(?:[^".]+\.)?(mapviewer_[a-z0-9_]+)" does not exist', str(exc))
    if found and found.group(1) not in _FIRST_TABLES:
        return TABLES_OUTDATED.format(table=found.group(1), uri=shown)
    return TABLES_MISSING.format(uri=shown)


def write_denied(shown: str, user: str) -> str:
    return (f"{shown}: the database user {user} may not write events; ask for a role with INSERT and UPDATE "
            "on mapviewer_events and mapviewer_imports (and USAGE on their sequences)")


def _user(source: Source) -> str:
    if isinstance(source, str):
        try:
            from psycopg.conninfo import conninfo_to_dict

            return conninfo_to_dict(source.strip()).get("user") or "(default user)"
        except Exception:
            return "(default user)"
    return source.info.user
