"""Start and stop a throwaway PostgreSQL + PostGIS cluster for the database tests and benchmarks.

    python tests/pgcluster.py start DIR   # prints postgresql://postgres@127.0.0.1:PORT/mapviewer_test
    python tests/pgcluster.py stop DIR

The cluster lives in ``DIR/data`` (trust authentication, listening on 127.0.0.1 only, on a free
port, with its socket in ``DIR``). Run as root, the server runs as the ``postgres`` user (PostgreSQL
refuses to run as root); otherwise as the current user. The server binaries are found on PATH or
under ``/usr/lib/postgresql/<version>/bin`` (Debian's ``postgresql`` package); PostGIS comes from
``postgresql-<version>-postgis-3``. Everything printed except the URI goes to stderr, so CI can do
``export MAPVIEWER_TEST_DB=$(python tests/pgcluster.py start "$tmp")``.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

DATABASE = "mapviewer_test"
USER = "postgres"
#: The one role that must give a password (scram-sha-256), so tests can see a wrong one refused.
PASSWORD_ROLE = "mapviewer_password_test"
_HBA = f"""# written by tests/pgcluster.py: a throwaway cluster for tests, reachable from this machine only
local all all trust
host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
host all all ::1/128 trust
"""


def bin_dir() -> Path:
    """The directory holding ``initdb`` and ``pg_ctl`` (newest Debian version first)."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if not candidates:
        raise SystemExit("pgcluster: no PostgreSQL server found: install the 'postgresql' and "
                         "'postgresql-15-postgis-3' packages (or put pg_ctl on PATH)")
    return Path(candidates[-1]).parent


def _as_server_user(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a server command, as the ``postgres`` user when we are root."""
    if os.geteuid() == 0:
        import shlex

        argv = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(argv)]
    return subprocess.run(argv, check=True, **kwargs)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(directory: str | os.PathLike[str], settings: dict[str, str] | None = None) -> str:
    """Create and start a cluster under ``directory``; return its URI.

    ``settings`` are further server settings (``{"shared_buffers": "1GB"}``).
    """
    root = Path(directory).resolve()
    data = root / "data"
    root.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(root, USER, USER)
        os.chmod(root, 0o700)
    binaries = bin_dir()
    quiet = {"stdout": sys.stderr, "stderr": sys.stderr}
    try:
        _as_server_user(["test", "-w", str(root)])
    except subprocess.CalledProcessError:
        raise SystemExit(f"pgcluster: the server user cannot write to {root}: give a directory it can reach "
                         "(e.g. a fresh one from mktemp -d)") from None
    if not (data / "PG_VERSION").exists():
        try:
            _as_server_user([str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", USER,
                             "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], **quiet)
        except subprocess.CalledProcessError:
            raise SystemExit(f"pgcluster: initdb failed in {data} (its messages are above)") from None
        (data / "pg_hba.conf").write_text(_HBA)
    for attempt in range(5):  # another process may take the free port first
        port = _free_port()
        options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        options += "".join(f" -c {name}={value}" for name, value in (settings or {}).items())
        try:
            _as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                             str(root / "server.log"), "-w", "start"], **quiet)
            break
        except subprocess.CalledProcessError:
            if attempt == 4:
                log = root / "server.log"
                raise SystemExit(f"pgcluster: the server did not start; see {log}")
            time.sleep(0.5)
    (root / "port").write_text(str(port))
    import psycopg

    with psycopg.connect(f"postgresql://{USER}@127.0.0.1:{port}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            conn.execute(f"CREATE DATABASE {DATABASE}")
    return f"postgresql://{USER}@127.0.0.1:{port}/{DATABASE}"


def stop(directory: str | os.PathLike[str]) -> None:
    """Stop the cluster under ``directory`` (fast shutdown); nothing when none runs there."""
    data = Path(directory).resolve() / "data"
    if not (data / "postmaster.pid").exists():
        return
    _as_server_user([str(bin_dir() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                    stdout=sys.stderr, stderr=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in ("start", "stop"):
        print("usage: python tests/pgcluster.py start|stop DIR", file=sys.stderr)
        return 2
    if args[0] == "start":
        print(start(args[1]))
    else:
        stop(args[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
