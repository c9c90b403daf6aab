"""``mapviewer db init|import|status URI``: the team database from the command line (no window)."""
from __future__ import annotations

import argparse
import sys

from mapviewer.cli.terminal import fail, terminal_json, terminal_text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mapviewer db", description="Set up, fill and look at a team database (PostgreSQL + PostGIS).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{init,import,status}")
    init = commands.add_parser("init", help="create PostGIS, the tables and indexes (running it again is harmless)")
    init.add_argument("uri", help="postgresql://user@host:port/dbname (the password from ~/.pgpass or PGPASSWORD)")
    imp = commands.add_parser("import", help="read files with the app's readers and checks and store their rows")
    imp.add_argument("uri")
    imp.add_argument("files", nargs="+", metavar="FILE")
    imp.add_argument("--json", action="store_true", help="print one JSON object")
    imp.add_argument("--source-name", default=None,
                     help="the name events are identified under with their event_id (default: each file's stem)")
    imp.add_argument("--tz", default=None, help="working time zone for times written without one")
    status = commands.add_parser("status", help="events, sources, newest import, server and PostGIS versions")
    status.add_argument("uri")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _import(args: argparse.Namespace) -> int:
    from geodata import db
    from geodata.errors import DataError

    options = {"tz": args.tz} if args.tz else {}
    done, failed = [], 0
    for path in dict.fromkeys(args.files):  # a file named twice is imported once
        try:
            done.append(db.import_file(args.uri, path, source_name=args.source_name, **options))
        except DataError as exc:
            failed += 1
            fail(f"{path}: {' '.join(str(exc).split())}", "mapviewer db import")
            if db.is_uri(args.uri) and "connect" in str(exc).lower():
                break  # the database cannot be reached: the other files would fail the same way
    files = [result.as_json() for result in done]
    if args.json:
        total = {key: sum(f[key] for f in files) for key in
                 ("rows_read", "rows_loaded", "rows_rejected", "inserted", "updated", "unchanged")}
        problems = [{"file": f["path"], **p} for f in files for p in f["problems"]]
        print(terminal_json({**(files[0] if len(files) == 1 else {}), **total, "problems": problems,
                             "files": files}))
    else:
        for result in done:
            report = result.report
            print(terminal_text(
                f"{report.path}: {report.rows_read} rows read, {report.rows_loaded} loaded, "
                f"{report.rows_rejected} rejected; {result.inserted} new, {result.updated} updated, "
                f"{result.unchanged} unchanged events (source {result.source!r})"))
            for problem in report.problems[:20]:
                print(terminal_text(f"  {problem.severity}: {problem}"))
            if len(report.problems) > 20:
                print(f"  ... {len(report.problems) - 20} more problems (--json lists them all)")
    return 1 if failed else 0


def _status(args: argparse.Namespace) -> int:
    from geodata import db

    found = db.status(args.uri)
    if args.json:
        print(terminal_json(found))
        return 0
    newest = found["newest_import"]
    lines = [f"database: {found['database']} (user {found['user']}, "
             f"{'may import' if found['writable'] else 'read-only'})",
             f"events: {found['events']:,} from {len(found['sources'])} sources, {found['imports']} imports",
             *(f"  {name}: {count:,}" for name, count in found["sources"].items()),
             "newest import: " + (f"{newest['at']} by {newest['by']} ({newest['file']}, source {newest['source']})"
                                  if newest else "none"),
             f"server: PostgreSQL {found['server_version']}, PostGIS {found['postgis_version']}"]
    if found["missing_tables"]:  # set up by an older version: the events are all there, newer features wait
        lines.append(f"missing: {', '.join(found['missing_tables'])}: run 'mapviewer db init {found['database']}' "
                     "again to add it (the events stay)")
    print(terminal_text("\n".join(lines)))
    return 0


def run_db(argv: list[str]) -> int:
    """``mapviewer db ...``; 0 on success, non-zero with one line on stderr otherwise."""
    from geodata.errors import DataError

    args = _parser().parse_args(argv)
    try:
        if args.command == "init":
            from geodata import db

            for line in db.init(args.uri):
                print(terminal_text(line))
            return 0
        if args.command == "import":
            return _import(args)
        return _status(args)
    except DataError as exc:
        return fail(" ".join(str(exc).split()), f"mapviewer db {args.command}")
    except BrokenPipeError:
        sys.stderr.close()
        return 1
