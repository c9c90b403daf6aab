"""Command line: ``mapviewer [FILE ...]``, ``mapviewer inspect``, ``mapviewer export``."""
from __future__ import annotations

import argparse
import codecs
import os
import sys

from mapviewer import __version__
from mapviewer.cli.terminal import fail, terminal_json, terminal_text

SUBCOMMANDS = ("inspect", "export", "desktop-install")


def _inspect_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mapviewer inspect",
                                     description="Print the load report of a file (or what a database holds).")
    parser.add_argument("file", help="an incident file or a database URI postgresql://user@host:port/dbname")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--format", dest="fmt", default=None, help="force a format instead of detecting it")
    parser.add_argument("--tz", default=None,
                        help="working time zone: for times without a zone, and the dates shown (default Europe/Kyiv)")
    parser.add_argument("--encoding", default=None, help="text encoding of a CSV/TSV file (e.g. cp1252, koi8-u)")
    parser.add_argument("--delimiter", default=None, help="field delimiter of a CSV/TSV file (one character)")
    parser.add_argument("--sheet", default=None, help="the sheet of an Excel workbook to read (name)")
    parser.add_argument("--all-events", action="store_true",
                        help="CIR monitor files: keep the rows that are not strike-like too")
    return parser


def _value_counts(column) -> dict[str, int]:
    return {str(k): int(v) for k, v in column.value_counts().items() if v}


def _read_for_inspect(args: argparse.Namespace):
    """(report, frame, counts) of an incident file, or of an attack-waves file (waves are not points)."""
    import pandas as pd

    from geodata import read_incidents
    from geodata.readers.airforce import WavesFileError
    from geodata.waves import read_waves

    options = {k: v for k, v in (("format", args.fmt), ("tz", args.tz), ("encoding", args.encoding),
                                 ("delimiter", args.delimiter), ("sheet", args.sheet),
                                 ("all_events", args.all_events)) if v}
    try:
        result = read_incidents(args.file, **options)
    except WavesFileError:
        waves = read_waves(args.file, tz=args.tz, encoding=args.encoding)
        launched = waves.frame.groupby("munition", sort=False)["launched"].sum(min_count=1)
        counts = {
            "munition": _value_counts(waves.frame["munition"]),
            "outcome": {},  # waves count launches and interceptions, not per-event outcomes
            "munition_class": _value_counts(waves.frame["munition_class"]),
            # a munition whose launches are all missing has no total (pd.NA, not a number)
            "launched": {str(k): int(v) for k, v in launched.items() if pd.notna(v)},
        }
        return waves.report, waves.frame, counts
    frame = result.frame
    counts = {"munition": _value_counts(frame["munition"]), "outcome": _value_counts(frame["outcome"]),
              "munition_class": _value_counts(frame["munition_class"])}
    return result.report, frame, counts


def _inspect_database(args: argparse.Namespace) -> tuple:
    """(report, summary) of a database: counted on the server, the same keys as for a file."""
    from geodata import DataError, db
    from geodata.report import LoadReport

    if args.fmt or args.encoding or args.delimiter or args.sheet or args.all_events:
        raise DataError(f"{db.display_uri(args.file)}: --format, --encoding, --delimiter, --sheet and "
                                  "--all-events are for files, not a database")
    summary = db.inspect(args.file, tz=args.tz)
    n = summary["rows_read"]
    return LoadReport(path=summary["path"], format=summary["format"], rows_read=n, rows_loaded=n), summary


def run_inspect(argv: list[str]) -> int:
    from geodata import DataError
    from geodata.db.connect import is_uri
    from geodata.report import load_summary

    args = _inspect_parser().parse_args(argv)
    try:
        if is_uri(args.file):
            report, summary = _inspect_database(args)
            counts = summary["counts"]
        else:
            report, frame, counts = _read_for_inspect(args)
            summary = load_summary(report, frame, args.tz, counts)
    except DataError as exc:
        return fail(str(exc))
    if args.json:
        print(terminal_json(summary))
        return 0
    print(terminal_text(report.to_text()))
    print(f"dates: {summary['date_min']} .. {summary['date_max']}")
    for name, values in counts.items():
        if values:  # waves have no outcomes: no empty line for them
            print(terminal_text(f"by {name}: " + ", ".join(f"{k} {v}" for k, v in values.items())))
    return 0


def _quiet_broken_pipe(run, argv: list[str]) -> int:
    """Run a printing command; a reader that stops early (``| head``) ends it quietly.

    The rest of the output has nowhere to go: stdout is pointed at the null device so
    the interpreter's final flush does not complain either.
    """
    try:
        code = run(argv)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 1  # as Python itself does on a broken pipe; the pipeline's status is its last command's


def app_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mapviewer",
        description="Open strike-event files (or a saved view) on an offline map. "
        "Subcommands: 'mapviewer inspect FILE', 'mapviewer export DATA ... -o OUT', "
        "'mapviewer db init|import|status URI', 'mapviewer match FILE|URI ...', "
        "'mapviewer desktop-install' (a menu entry and icon on a Linux desktop).",
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="incident files or a saved view (.json)")
    parser.add_argument("--version", action="version", version=f"mapviewer {__version__}")
    parser.add_argument("--screenshot", metavar="OUT.png", help="open, wait for the map, save the window, exit")
    parser.add_argument("--size", default=None, metavar="WxH", help="window size, e.g. 1600x1000")
    parser.add_argument("--basemap", action="append", default=[], metavar="FILE",
                        help="an MBTiles or PMTiles raster tile archive drawn under the events, as File > "
                             "Add basemap file... does; repeatable (later files over earlier ones)")
    return parser


def _utf8_output() -> None:
    """Print UTF-8 on streams of another encoding: on Windows, output sent to a file or a pipe gets
    the console code page, which cannot hold Cyrillic place names. What UTF-8 cannot hold (lone
    surrogates from undecodable file names) is written as backslash escapes."""
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None)
        try:
            utf8 = bool(encoding) and codecs.lookup(encoding).name == "utf-8"
        except LookupError:
            utf8 = False
        if not utf8 and hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="backslashreplace")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    _utf8_output()
    if argv and argv[0] == "inspect":
        return _quiet_broken_pipe(run_inspect, argv[1:])
    if argv and argv[0] == "export":
        from mapviewer.cli.export import run_export  # lazily: the app never needs the export code

        return run_export(argv[1:])
    if argv and argv[0] == "db":
        from mapviewer.cli.db import run_db

        return _quiet_broken_pipe(run_db, argv[1:])
    if argv and argv[0] == "match":
        from mapviewer.cli.match import run_match

        return _quiet_broken_pipe(run_match, argv[1:])
    if argv and argv[0] == "desktop-install":
        from mapviewer.desktop import run_desktop_install

        return run_desktop_install(argv[1:])
    args = app_parser().parse_args(argv)
    from mapviewer.app import run_app

    return run_app(args)
