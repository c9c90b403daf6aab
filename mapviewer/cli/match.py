"""``mapviewer match FILE|URI...``: which reports of different sources tell the same strike."""
from __future__ import annotations

import argparse
import sys
import os

from mapviewer.cli.terminal import fail, terminal_json, terminal_text


def _parser() -> argparse.ArgumentParser:
    from geodata.match import WITHIN_HOURS, WITHIN_KM

    parser = argparse.ArgumentParser(
        prog="mapviewer match",
        description="Find the reports of different sources (files, or the sources a database holds) that tell "
                    "the same strike, and count each strike once.")
    parser.add_argument("sources", nargs="+", metavar="FILE|URI")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--within-hours", type=float, default=WITHIN_HOURS,
                        help=f"most time between two exact reports of one strike (default {WITHIN_HOURS:g})")
    parser.add_argument("--within-km", type=float, default=WITHIN_KM,
                        help=f"most distance between two exact points of one strike (default {WITHIN_KM:g})")
    parser.add_argument("--decisions", default=None, metavar="FILE",
                        help="the analyst's decisions (confirm, split, join) to apply: a JSON file the app keeps "
                             "(default: as the app, strike-matches.json beside the first file, else the decisions "
                             "the first database keeps)")
    parser.add_argument("--tz", default=None, help="working time zone: whose days a day-only date means")
    parser.add_argument("--all-events", action="store_true",
                        help="CIR monitor files: keep the rows that are not strike-like too")
    return parser


def read_reports(sources: list[str], *, tz: str | None = None, all_events: bool = False) -> dict:
    """Each source's reports, keyed by the name decisions and output use: a file's name (its path when two
    files share a name); for a database, each source it holds (``<source>``: events keep their source)."""
    from geodata import read_incidents
    from geodata.db import is_uri

    options = {"tz": tz} if tz else {}
    reports: dict = {}
    names = [os.path.basename(s) for s in sources if not is_uri(s)]
    for source in dict.fromkeys(sources):  # a source given twice is read once
        if is_uri(source):
            from geodata import db

            frame = db.read(source, provenance=True).frame
            for name, part in frame.groupby("import_source", sort=True, observed=True):
                reports[str(name)] = part.reset_index(drop=True)
            continue
        key = os.path.basename(source) if names.count(os.path.basename(source)) == 1 else source
        reports[key] = read_incidents(source, all_events=all_events, **options).frame
    return reports


def display(source: str) -> str:
    """A file name or a database address as shown (never a password)."""
    from geodata.db.connect import display_uri, is_uri

    return display_uri(source) if is_uri(source) else source


def kept_decisions(where: str | None, program: str):
    """The decisions kept at ``where`` (a file, or a database's table), None when there are none; ones that
    cannot be read (a database set up before it kept decisions) are a note on stderr, and matching goes on."""
    from geodata.errors import DataError
    from geodata.strikes import read_decisions

    if where is None:
        return None
    try:
        return read_decisions(where)
    except DataError as exc:
        print(terminal_text(f"{program}: note: {' '.join(str(exc).split())}; matching without them"), file=sys.stderr)
        return None


def run_match(argv: list[str]) -> int:
    """``mapviewer match``; 0 on success, non-zero with one line on stderr otherwise."""
    from geodata.errors import DataError
    from geodata.match import Decisions, match_reports
    from geodata.strikes import decisions_home

    args = _parser().parse_args(argv)
    try:
        reports = read_reports(args.sources, tz=args.tz, all_events=args.all_events)
        where = args.decisions or decisions_home(args.sources)  # by default those the app keeps
        decisions = Decisions.load(args.decisions) if args.decisions else kept_decisions(where, "mapviewer match")
        options = {"tz": args.tz} if args.tz else {}
        result = match_reports(reports, within_hours=args.within_hours, within_km=args.within_km,
                               decisions=decisions, **options)
    except DataError as exc:
        return fail(" ".join(str(exc).split()), "mapviewer match")
    if decisions is not None:
        for missing in decisions.missing(reports):
            print(terminal_text(f"mapviewer match: {display(where)}: {missing}"), file=sys.stderr)
    found = result.to_json()
    if args.json:
        print(terminal_json(found))
        return 0
    print(f"{result.events:,} strikes from {result.records:,} reports ({result.matched:,} matched)")
    for group in sorted(found["groups"], key=lambda g: g["confidence"]):
        print(terminal_text(f"{group['confidence']:.2f}  {' + '.join(group['members'])}  "
                            f"({'; '.join(group['reasons'])})"))
    return 0
