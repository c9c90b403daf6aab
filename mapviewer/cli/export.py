"""``mapviewer export``: figures, data extracts and HTML maps with no window and no display.

::

    mapviewer export DATA... [--view VIEW.json] [--from DATE] [--to DATE]
        [--munition NAME]... [--outcome NAME]... [--oblast NAME]... [--title TEXT]
        [--page A4-landscape|A4-portrait|Letter-landscape|Letter-portrait|slide-16:9]
        [--extent W,S,E,N] [--dpi N] [--tz ZONE]
        [--step D] [--window D] [--cumulative] [--skip-empty] [--fps N]
        [--basemap FILE]... [--embed-limit-mb N] [--merge-reports]
        --format png|pdf|svg|csv|geojson|gpkg|xlsx|html|gif|mp4 -o OUT

png, pdf and svg give the print figure (:mod:`mapviewer.export.figure`); csv, geojson,
gpkg and xlsx the filtered rows (:mod:`geodata.writers`); html a standalone map
page; gif and mp4 an animation (``--step``, ``--window``, ``--cumulative``,
``--skip-empty``). Each ``--munition`` names a munition, an alias or a class
("cruise missile", "drones"): the rows kept are those matching any of them.
The output's suffix must match ``--format``; a name with no known suffix gets
one. Options given here override the saved view's (its title and page too).
``--basemap FILE`` (repeatable; MBTiles or PMTiles raster tile archives, later over
earlier) draws the archives under the events of figures and animations, and embeds
their tiles in an html page up to ``--embed-limit-mb`` (default 50; the output line
says how much was embedded and whether finer zoom levels were left out). Without
it, the saved view's archives are used; one missing or unreadable is an error, one
changed since the view was saved a warning.
``--merge-reports`` matches the reports of the files given (:mod:`geodata.match`: the
reports of different sources that tell one strike) and exports one row per strike: data
with the list of its reports (``reports``, ``report_ids``, ``sources``) and casualty
ranges (``killed_min``...), figures and html maps one symbol per strike and "N strikes
from M reports"; the filters apply to the strikes (each one's most precise time, place
and munition, see :mod:`geodata.strikes`).
A file given twice (the same file under two names too) is read once. With
``--view`` and no DATA, the view's files are compared with the fingerprints it
was saved with: a warning on stderr says what changed (files; rows added,
removed, changed among those the view shows), and ``--strict`` makes a change
of those rows an error. A title longer than the figure takes is cut, with a
note. Interrupted (Ctrl+C or SIGTERM) or out of disk space, the export leaves
no partial file and an earlier file at OUT untouched.
Exit status: 0 on success, 2 for a bad option, 1 for a file that cannot be read
or written (or a changed view with ``--strict``), 130/143 when interrupted or
terminated; the message is one line. Nothing here imports Qt.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import os
import signal
import sys
import threading
from pathlib import Path

from mapviewer.cli.terminal import fail, terminal_text

FIGURE_FORMATS = ("png", "pdf", "svg")
DATA_FORMATS = ("csv", "geojson", "gpkg", "xlsx")
ANIMATION_FORMATS = ("gif", "mp4")
FORMATS = FIGURE_FORMATS + DATA_FORMATS + ("html",) + ANIMATION_FORMATS
#: File suffixes of each format (the first is added to a name that has none).
SUFFIXES: dict[str, tuple[str, ...]] = {fmt: (f".{fmt}",) for fmt in FORMATS} | {
    "geojson": (".geojson", ".json"), "html": (".html", ".htm")}
#: Accepted --dpi values: below, text is unreadable; above, a page is hundreds of megapixels.
DPI_RANGE = (50.0, 1200.0)


class UsageError(Exception):
    """A bad option: printed on one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line instead of usage + message, and no SystemExit
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="mapviewer export", description="Export a figure, data or a map page with no window.")
    p.add_argument("data", nargs="*", metavar="DATA", help="incident files (or take them from --view)")
    p.add_argument("--view", metavar="VIEW.json", help="a saved view: its files and filters")
    p.add_argument("--strict", action="store_true",
                   help="with --view: fail when the rows the view shows changed since it was saved")
    p.add_argument("--from", dest="start", metavar="DATE", help="first day (YYYY-MM-DD) or time, in --tz")
    p.add_argument("--to", dest="end", metavar="DATE", help="last day (inclusive) or time, in --tz")
    p.add_argument("--munition", action="append", metavar="NAME",
                   help="a munition or alias (KN-23, Hwasong-11, Х-101) or a class (\"ballistic missile\", "
                        "\"drones\"); repeatable: events matching any of them")
    p.add_argument("--outcome", action="append", metavar="NAME", help="impact, intercepted, deviated, debris, unknown; repeatable")
    p.add_argument("--oblast", action="append", metavar="NAME", help="an oblast (admin1) name; repeatable")
    p.add_argument("--tz", default=None, help="working time zone for dates (default Europe/Kyiv)")
    p.add_argument("--all-events", action="store_true",
                   help="CIR monitor files: keep the rows that are not strike-like too")
    p.add_argument("--title", default=None)
    p.add_argument("--page", default=None, help="page preset for figures (default: the view's, else A4-landscape)")
    p.add_argument("--dpi", type=float, default=None,
                   help="resolution, 50 to 1200 (default 300 for figures, 100 for animations)")
    p.add_argument("--extent", default=None, metavar="W,S,E,N", help="map area in degrees for figures")
    p.add_argument("--format", dest="fmt", choices=FORMATS, default=None, help="output format (default: from -o)")
    p.add_argument("-o", "--output", required=True, metavar="OUT")
    p.add_argument("--step", default="1d", help="animation: time per frame (e.g. 1d, 7d, 12h)")
    p.add_argument("--window", default=None, help="animation: events shown per frame (default: the step)")
    p.add_argument("--cumulative", action="store_true", help="animation: keep earlier events on screen")
    p.add_argument("--skip-empty", action="store_true", help="animation: leave out frames with no event")
    p.add_argument("--fps", type=float, default=2.0, help="animation: frames per second")
    p.add_argument("--basemap", action="append", default=[], metavar="FILE",
                   help="an MBTiles or PMTiles raster tile archive drawn under the events (figures, animations, "
                        "html); repeatable, later files over earlier ones (default: the view's)")
    p.add_argument("--merge-reports", action="store_true",
                   help="one row per strike: the reports of different files that tell the same strike matched, "
                        "with the list of its reports (figures and maps say \"N strikes from M reports\")")
    p.add_argument("--embed-limit-mb", type=float, default=None, metavar="N",
                   help="html: at most N megabytes of basemap tiles embedded in the page (default 50)")
    return p


def _tile_archives(args: argparse.Namespace, spec, fmt: str) -> list:
    """The tile archives to draw: ``--basemap`` files, else the saved view's (a changed one is a warning)."""
    from mapviewer.map.basemapfiles import open_archives, reopen

    if args.embed_limit_mb is not None and (fmt != "html" or not args.embed_limit_mb >= 0):
        raise UsageError(f"bad --embed-limit-mb {args.embed_limit_mb:g}: use 0 or more, with --format html"
                         if fmt == "html" else "--embed-limit-mb applies to --format html only")
    if args.basemap:
        if fmt in DATA_FORMATS:
            raise UsageError(f"--basemap draws under figures, animations and html maps, not {fmt} data")
        return open_archives(args.basemap)
    refs = getattr(spec, "basemaps", None) or ()
    if not refs or fmt in DATA_FORMATS:
        return []
    archives, changed = reopen(refs, "the view was saved", strict=True)
    for message in changed:
        print(terminal_text(f"mapviewer export: warning: {message}"), file=sys.stderr)
    return archives


def _fail(message: str, code: int) -> int:
    fail(" ".join(str(message).split()), "mapviewer export")  # one line, whatever the message held
    return code


def _note(message: str, kind: str = "warning") -> None:
    """One line on stderr that does not stop the export."""
    print(terminal_text(f"mapviewer export: {kind}: {' '.join(str(message).split())}"), file=sys.stderr)


def _distinct(paths: list[str]) -> list[str]:
    """``paths`` without repeats of one file (the same resolved path, as the app opens a file once)."""
    from geodata.uri import is_uri

    seen: dict[str, str] = {}
    for path in paths:
        key = path if is_uri(path) else os.path.normcase(os.path.realpath(path))
        if key in seen:
            same = "" if seen[key] == path else f" (as {seen[key]})"
            _note(f"{path} is given more than once{same}: read once", "note")
        else:
            seen[key] = path
    return list(seen.values())


def _check_view(spec, view: str, frame, strict: bool) -> None:
    """Say what changed in the view's data since it was saved; with ``strict``, changed rows are an error."""
    from geodata.errors import DataError
    from mapviewer.files.views import view_changes

    changes = view_changes(spec, frame)
    if not changes:
        return
    if changes.rows_changed and strict:
        raise DataError(changes.words(view) + " (--strict)")
    _note(changes.words(view) + ("" if changes.rows_changed else "; the rows the view shows are the same"))


class Terminated(BaseException):
    """SIGTERM arrived: unwinds like Ctrl+C, so partial files are removed and earlier ones kept."""


@contextlib.contextmanager
def _terminate_as_exception():
    """While the export runs, SIGTERM raises :class:`Terminated` (main thread only; the handler is put back)."""
    if not hasattr(signal, "SIGTERM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_terminated(signum, frame):
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, raise_terminated)
    except (ValueError, OSError):  # no signals here (an embedded interpreter)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _stop_between_frames():
    """While an animation is drawn, Ctrl+C and SIGTERM are noted and the drawing stops after the frame
    in hand (the animation's ``cancel``), instead of raising wherever the program happens to be
    (starting ffmpeg or writing to it). Yields the list of signals noted (main thread only)."""
    noted: list[int] = []
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for number in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None)):
            if number is None:
                continue
            try:
                previous[number] = signal.signal(number, lambda signum, _frame: noted.append(signum))
            except (ValueError, OSError):  # no signals here (an embedded interpreter)
                pass
    try:
        yield noted
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _date(text: str, option: str) -> dt.date | dt.datetime:
    value = text.strip()
    try:
        return dt.date.fromisoformat(value) if len(value) <= 10 else dt.datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"bad date for {option}: {text!r} (use YYYY-MM-DD or YYYY-MM-DDTHH:MM)") from None


def _extent(text: str) -> tuple[float, float, float, float]:
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"bad --extent {text!r}: use west,south,east,north in degrees") from None
    if not (west < east and south < north):
        raise UsageError(f"bad --extent {text!r}: need west < east and south < north")
    return west, south, east, north


def _munitions(names: list[str]) -> tuple[set[str], set[str]]:
    """Canonical munition names and munition classes the user named.

    A class name (or the legend's word for it: "drones") means the class.
    """
    from geodata.munitions import resolve_munition
    from geodata.schema import MUNITION_CLASSES
    from geodata.style import munition_class_named

    munitions, classes = set(), set()
    for name in names:
        cls = munition_class_named(name)
        if cls is not None:
            classes.add(cls)
            continue
        found = resolve_munition(name)
        if found is None:
            raise UsageError(f"unknown munition {name!r}: not in the catalogue and not a munition class "
                             f"(classes: {', '.join(MUNITION_CLASSES)}; \"drones\" means loitering munition)")
        munitions.add(found.name)
    return munitions, classes


def _matches(name: str, labels: list[str]) -> list[str]:
    """Labels naming the oblast ``name``: exact matches, else ones starting with its stem.

    "Kharkiv" finds "Kharkivska oblast" and "Kharkiv Oblast"; "Kyiv oblast" finds
    "Kyivska oblast" but not the city "Kyiv"; "Kyiv" finds both.
    """
    from geodata.munitions import munition_key

    key = munition_key(name)
    exact = [label for label in labels if munition_key(label) == key]
    if exact or not key:
        return exact
    stem = key.removesuffix("oblast") or key
    said_oblast = stem != key
    return [label for label in labels
            if munition_key(label).startswith(stem) and not (said_oblast and munition_key(label) == stem)]


@functools.lru_cache(maxsize=256)
def _oblast_code(name: str) -> str | None:
    """ISO 3166-2 code of the oblast a name means ("Kyivska oblast", "Київська область", "Kharkiv")."""
    try:
        from geodata.gazetteer import resolve_place

        place = resolve_place(name)
    except Exception:  # noqa: BLE001 - without the gazetteer, names are matched as text
        return None
    return getattr(place, "admin1_code", None) if place is not None else None


def _oblasts(names: list[str], frame) -> tuple[set[str], list[tuple[float, float, float, float]]]:
    """admin1 values in the data matching each name, and the bounds of matching basemap oblasts."""
    values = [str(v) for v in frame["admin1"].dropna().unique()] if len(frame) else []
    try:
        from geodata.basemap import oblasts

        polygons = oblasts()
    except Exception:  # noqa: BLE001 - the figure's extent then comes from the events
        polygons = None
    chosen: set[str] = set()
    bounds = []
    for name in names:
        code = _oblast_code(name)
        if code is not None:  # the gazetteer knows it: match every spelling of that oblast
            in_data = [v for v in values if _oblast_code(v) == code]
            hits = [row for _, row in polygons.iterrows() if row.get("iso_code") == code] if polygons is not None else []
        else:
            in_data = _matches(name, values)
            hits = []
            if polygons is not None:
                for _, row in polygons.iterrows():
                    labels = [str(row[c]) for c in ("name", "name_uk") if c in row and isinstance(row[c], str)]
                    if _matches(name, labels):
                        hits.append(row)
        if not in_data and not hits:
            raise UsageError(f"unknown oblast {name!r}: no event and no oblast has that name")
        chosen.update(in_data or [str(hits[0]["name"])])
        bounds += [tuple(row.geometry.bounds) for row in hits]
    return chosen, bounds


def _read(paths: list[str], tz: str | None, all_events: bool = False, filter_state=None, *, split: bool = False):
    """Read every file; one line per file with rejected rows goes to stderr. A database (URI) gives
    only the rows ``filter_state`` keeps, when one is given. ``split``: ``{path: frame}``, not one frame,
    and a database's rows name the source each came from (``import_source``: its sources are matched)."""
    import geopandas as gpd
    import pandas as pd

    from geodata import read_incidents

    from geodata.errors import DataError
    from geodata.uri import is_uri
    from mapviewer.files.views import not_a_file

    frames = []
    for path in paths:
        problem = None if is_uri(path) else not_a_file(path)
        if problem == "a folder":
            raise DataError(f"{path}: is a folder, not a data file (give the files in it)")
        if problem == "not found":
            raise DataError(f"{path}: file not found")
        if problem is not None:
            raise DataError(f"{path}: not a data file: {problem}")
        if is_uri(path):
            result = read_incidents(path, **({"tz": tz} if tz else {}),
                                    **({"filter_state": filter_state} if filter_state is not None else {}),
                                    **({"provenance": True} if split else {}))
        else:
            result = read_incidents(path, all_events=all_events, **({"tz": tz} if tz else {}))
        report = result.report
        if report.rows_rejected:
            print(terminal_text(f"mapviewer export: {path}: {report.rows_rejected} of {report.rows_read} rows "
                                f"rejected (see 'mapviewer inspect {path}')"), file=sys.stderr)
        frames.append(result.frame)
    if split:
        return dict(zip(paths, frames))
    if len(frames) == 1:
        return frames[0]
    combined = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(combined, geometry="geometry", crs="EPSG:4326")


def _strikes(parts: dict, tz: str, decisions_file: str | None = None):
    """(one row per strike, every report, the reports of each strike by its row label) of the reports of
    each file (``{path: frame}``), with the analyst's decisions: ``decisions_file`` (a view's), else those
    the app keeps for these files (beside the first file, else in the first database)."""
    import geopandas as gpd
    import pandas as pd

    from geodata.db.rows import PROVENANCE_COLUMNS
    from geodata.match import Decisions
    from geodata.strikes import count_strikes, decisions_home
    from mapviewer.cli.match import display, kept_decisions

    where = decisions_file or decisions_home(parts)
    decisions = Decisions.load(decisions_file) if decisions_file else kept_decisions(where, "mapviewer export")
    tagged = [f.assign(dataset=path) for path, f in parts.items()]
    reports = gpd.GeoDataFrame(pd.concat(tagged, ignore_index=True), geometry="geometry", crs="EPSG:4326")
    strikes = count_strikes(reports, tz=tz, decisions=decisions)
    if decisions is not None:
        for missing in decisions.missing(strikes.frames()):
            _note(f"{display(where)}: {missing}")
    own = ["dataset", *PROVENANCE_COLUMNS]  # the report lists name each report's source
    return (strikes.frame.drop(columns=own, errors="ignore"), reports.drop(columns=own, errors="ignore"),
            lambda label: reports.iloc[strikes.reports_of(int(label))])


def _format_and_output(fmt: str | None, out: str) -> tuple[str, str]:
    """The format and output name: one rule, the suffix says the format.

    With ``--format``, a name with another format's suffix is an error and a
    name with no known suffix gets the format's; without it, the suffix decides.
    """
    suffix = Path(out).suffix.lower()
    said = next((f for f, suffixes in SUFFIXES.items() if suffix in suffixes), None)
    if fmt is None:
        if said is None:
            raise UsageError(f"cannot tell the format from {out!r}: give --format ({', '.join(FORMATS)})")
        return said, out
    if said is None:
        return fmt, out + SUFFIXES[fmt][0]
    if said != fmt:
        raise UsageError(f"{out!r} ends in {suffix} but --format is {fmt}: "
                         f"name it {Path(out).with_suffix(SUFFIXES[fmt][0]).name!r} or leave the suffix out")
    return fmt, out


def _check_zone(name: str) -> None:
    """A --tz that is no known time zone is a bad option (not a fault of the data files)."""
    import pandas as pd

    try:
        pd.Timestamp(0, tz="UTC").tz_convert(name)  # the zones the readers and filters accept
    except Exception:  # noqa: BLE001 - pytz, zoneinfo and dateutil each raise their own error
        raise UsageError(f"unknown time zone --tz {name!r}: use a name like Europe/Kyiv or UTC") from None


def run_export(argv: list[str]) -> int:
    """Run ``mapviewer export`` with ``argv`` (the words after ``export``); return the exit status."""
    from geodata.errors import DataError

    try:
        with _terminate_as_exception():
            return _run(argv)
    except KeyboardInterrupt:
        return _fail("interrupted: no file written (an earlier file at the output name is kept)", 130)
    except Terminated:
        return _fail("terminated: no file written (an earlier file at the output name is kept)", 143)
    except UsageError as exc:
        return _fail(str(exc), 2)
    except DataError as exc:
        return _fail(str(exc), 1)
    except OSError as exc:
        return _fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "), 1)


def _run(argv: list[str]) -> int:
    from geodata.errors import DataError
    from geodata.filters import FilterState
    from geodata.schema import DEFAULT_TZ, OUTCOMES
    from geodata.strikes import strikes_words
    from geodata.timeline import date_range_ns

    args = _parser().parse_args(argv)
    fmt, out = _format_and_output(args.fmt, args.output)
    if args.dpi is not None and not DPI_RANGE[0] <= args.dpi <= DPI_RANGE[1]:
        raise UsageError(f"bad --dpi {args.dpi:g}: use {DPI_RANGE[0]:g} to {DPI_RANGE[1]:g}")
    if args.fps <= 0 or args.fps > 60:
        raise UsageError(f"bad --fps {args.fps:g}: use more than 0 and at most 60")
    if args.tz:
        _check_zone(args.tz)
    tz = args.tz or DEFAULT_TZ

    spec = None
    if args.view:
        from mapviewer.files.views import load_view

        spec = load_view(args.view)
        for note in getattr(spec, "notes", ()):
            _note(note, "note")
    paths = _distinct(list(args.data) or (list(spec.data) if spec else []))
    if not paths:
        raise UsageError("no data files: give DATA files or a --view that lists them")
    if args.strict and not args.view:
        raise UsageError("--strict needs a --view to compare with")

    state = spec.filter if spec else FilterState(tz=tz)
    changes = {}
    if args.tz:
        changes["tz"] = args.tz
    if args.start:
        changes["start"] = _date(args.start, "--from")
    if args.end:
        changes["end"] = _date(args.end, "--to")
    lo, hi = date_range_ns(state.replace(**{k: v for k, v in changes.items() if k in ("tz", "start", "end")}))
    if lo is not None and hi is not None and lo >= hi:  # instants, a bare --to date meaning its whole day
        start, end = changes.get("start", state.start), changes.get("end", state.end)
        raise UsageError(f"--from {start} is after --to {end}")
    munitions = _munitions(args.munition) if args.munition else None
    if args.outcome:
        wrong = [o for o in args.outcome if o.strip().lower() not in OUTCOMES]
        if wrong:
            raise UsageError(f"unknown outcome {wrong[0]!r}: use {', '.join(OUTCOMES)}")
        changes["outcomes"] = {o.strip().lower() for o in args.outcome}
    extent = _extent(args.extent) if args.extent else None
    if extent is None and spec is not None and spec.center is not None and spec.zoom is not None:
        from mapviewer.export.basemap import extent_from_view

        size = getattr(spec, "size", None)  # the map's size in pixels when the view was saved
        extent = extent_from_view(spec.center[0], spec.center[1], spec.zoom,
                                  *([tuple(int(v) for v in size)] if size else []))
    title = args.title if args.title is not None else getattr(spec, "title", None)
    if args.title is not None:
        from mapviewer.export.figure import cap_title

        title, cut = cap_title(title)
        if cut:
            _note(f"--title: {cut}", "note")
    page = args.page or getattr(spec, "page", None) or "A4-landscape"
    if fmt in FIGURE_FORMATS + ANIMATION_FORMATS:
        from mapviewer.export.figure import page_size

        try:
            page_size(page)  # a bad page is a bad option: say so before reading any file
        except DataError as exc:
            raise UsageError(str(exc)) from None
    archives = _tile_archives(args, spec, fmt)  # before reading the data: a bad archive fails fast

    # A database sends only the rows the filters keep (they travel as bind parameters of one
    # query; the mask below then keeps them all). Not for figures and animations, which also use
    # the rows outside the filters (the legend's classes, the events the dates leave out), nor
    # with --oblast (its names are matched against all the data's oblasts) or a view's own data
    # (its check compares the rows its saved filter shows): those read every row, as from a file.
    pushed = None
    if fmt in DATA_FORMATS + ("html",) and not args.oblast and not (spec is not None and not args.data) \
            and not args.merge_reports:  # strikes are filtered once matched: every report is needed
        pushed = state.replace(**changes)
        if munitions is not None:
            pushed = pushed.replace(munitions=munitions[0] | munitions[1], munition_classes=None)
    reports_of = None  # with --merge-reports: the reports of a strike row, for the html popups
    if args.merge_reports:
        frame, reports, reports_of = _strikes(_read(paths, args.tz, args.all_events, split=True), tz,
                                              getattr(spec, "decisions", None))
    else:
        frame = reports = _read(paths, args.tz, args.all_events, pushed)
    if spec is not None and not args.data:  # the view's own files: have they changed since it was saved?
        _check_view(spec, args.view, reports, args.strict)
    if munitions is not None:  # any of the munitions or classes named (FilterState reads them as a union)
        changes |= {"munitions": munitions[0] | munitions[1], "munition_classes": None}
    if args.oblast:
        chosen, bounds = _oblasts(args.oblast, frame)
        changes["admin1"] = chosen
        if extent is None and bounds:
            west, south = min(b[0] for b in bounds), min(b[1] for b in bounds)
            east, north = max(b[2] for b in bounds), max(b[3] for b in bounds)
            pad_x, pad_y = (east - west) * 0.05, (north - south) * 0.05  # the outline clear of the frame
            extent = (west - pad_x, south - pad_y, east + pad_x, north + pad_y)
    state = state.replace(**changes)

    if fmt in FIGURE_FORMATS:
        from mapviewer.export.figure import render_figure

        render_figure(frame, filter_state=state, title=title, page=page, dpi=args.dpi or 300,
                      out=out, extent=extent, source_paths=paths, tile_archives=archives)
        shown = "figure"
    elif fmt in DATA_FORMATS:
        from geodata.writers import write_incidents

        rows = frame[state.mask(frame)]
        write_incidents(rows, out, format=fmt, tz=state.tz)
        shown = f"{len(rows):,} rows" + (f": {strikes_words(rows)}" if args.merge_reports else "")
    elif fmt == "html":
        try:
            from mapviewer.map.page import write_standalone_html
        except ImportError:
            raise UsageError("format html is not available in this installation") from None
        from geodata.writers import atomic_path
        from mapviewer.map.page import basemap_spec, tile_host

        rows = frame[state.mask(frame)]
        basemap = getattr(spec, "basemap", None) or "offline"
        host = tile_host(basemap_spec(basemap))  # a bad basemap name is a DataError before anything is written
        embedding = None
        if archives:
            from mapviewer.map.basemapfiles import DEFAULT_EMBED_LIMIT_MB, embedded_layers, export_extent

            limit = DEFAULT_EMBED_LIMIT_MB if args.embed_limit_mb is None else args.embed_limit_mb
            embedding = embedded_layers(archives, export_extent(rows, archives, extent), limit)
        with atomic_path(out) as tmp:
            write_standalone_html(rows, tmp, title=title, basemap=basemap,
                                  archives=embedding.layers if embedding else None, reports=reports_of)
        # Nothing is contacted now; whoever opens the page loads its tiles: say from where.
        shown = (f"map of {strikes_words(rows)}" if args.merge_reports else f"map of {len(rows):,} events") \
            + (f"; the page loads map tiles from {host}" if host else "")
        if embedding is not None:
            shown += "; " + embedding.summary("--embed-limit-mb")
            if not embedding.complete:  # said on stderr too: a script sees it
                print(terminal_text(f"mapviewer export: warning: {embedding.summary('--embed-limit-mb')}"),
                      file=sys.stderr)
    else:
        try:
            from mapviewer.export.animation import AnimationCancelled, export_animation
        except ImportError:
            raise UsageError(f"format {fmt} is not available in this installation") from None
        with _stop_between_frames() as noted:
            try:
                count = export_animation(frame, out, filter_state=state, step=args.step, window=args.window,
                                         cumulative=args.cumulative, skip_empty=args.skip_empty, fmt=fmt,
                                         title=title or "", page=page, dpi=args.dpi or 100, fps=args.fps,
                                         tile_archives=archives, cancel=lambda: bool(noted))
            except AnimationCancelled:  # stopped by a signal: said as if it had arrived as one
                raise (KeyboardInterrupt if noted[0] == signal.SIGINT else Terminated)() from None
        shown = f"{count} frames"
    print(terminal_text(f"wrote {out} ({shown})"))  # names a file and a server: escaped like any data
    return 0
