"""Arbitrary text in every text field of a record, the title and a saved view.

Property tests: template syntax, markup, mathtext, quotes, NUL, control and
direction characters and very long strings go into records, titles and saved
views; every export (HTML, PNG, SVG, PDF, CSV, GeoJSON, XLSX) and the app page
are built from them. Nothing may run (a template payload would create
``MARKER``), nothing may raise, and the text comes back exactly where it is
kept: the HTML page's embedded data (decoded here), CSV and GeoJSON.
"""
from __future__ import annotations

import csv
import html
import json
import re
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from geodata.errors import DataError
from geodata.filters import FilterState
from geodata.text import HIDDEN, visible_text
from geodata.writers import neutralise, write_incidents
from mapviewer.map import page as mappage
from tests.factories import canonical_frame

#: A file that any template payload which ran would create.
MARKER = Path(tempfile.mkdtemp(prefix="mapviewer-fuzz-")) / "MARKER"

TEMPLATE_PAYLOADS = [
    f"{{{{ cycler.__init__.__globals__.os.system('touch {MARKER}') }}}}",
    f"{{{{ lipsum.__globals__['os'].popen('touch {MARKER}').read() }}}}",
    f"{{{{ self.__init__.__globals__.__builtins__.__import__('os').system('touch {MARKER}') }}}}",
    f"{{% for c in [].__class__.__base__.__subclasses__() %}}{{% if c.__name__ == 'catch_warnings' %}}"
    f"{{{{ c()._module.__builtins__['__import__']('os').system('touch {MARKER}') }}}}{{% endif %}}{{% endfor %}}",
    "{{7*7}}", "{{ 7*'7' }}", "{{", "}}", "{%", "%}", "{% raw %}", "{% endraw %}", "{#", "#}", "Building {#3",
    "{{ config }}", "${7*7}", "#{7*7}", "@@mapviewer-slot:data@@", "@@mapviewer-slot:title@@", "@@mapviewer-slot:x@@",
]
SEEDS = TEMPLATE_PAYLOADS + [
    "<script>window.__pwned=1</script>", "</script><script>window.__pwned=1</script>", "<!--", "-->", "]]>",
    '<img src=x onerror="window.__pwned=1">', "<b>bold</b>", "&amp;", "&lt;b&gt;", "&#60;",
    "$x^2$", r"$\frac$", "$", "$$", r"\$", r"\n", "%s", "%(x)s", "{0}", "{}", "'", '"', "`", "\\", "''", "\"'\"",
    "\x00", "\x01", "\x07", "\x1b[2J", "\x1b]0;owned\x07", "\x7f", "\x85", "\x9b", "\u202eevil", "\u202a", "\u2066",
    "\u2069", "\u200e", "\u200f", "\u061c", "\u2028", "\u2029", "\r", "\n", "\r\n", "\t", "\ufeff", "\ufffd",
    "=1+1", '=HYPERLINK("http://evil.example/")', "+1", "-1", "@SUM(A1)", "file:///etc/passwd",
    "file://server/share/a.jpg", "javascript:alert(1)", "http://{z}/{x}/{y}", "Київ", "é\u0301", "😀", "ＡＢＣ", "NaN",
    "null", "None", "",
]
_piece = st.one_of(st.sampled_from(SEEDS), st.text(max_size=12))
#: Any text: seeds, random text, mixtures of both, and very long strings.
TEXT = st.one_of(
    st.sampled_from(SEEDS),
    st.text(max_size=40),
    st.lists(_piece, min_size=2, max_size=6).map("".join),
    st.tuples(st.sampled_from(SEEDS), st.integers(2000, 20000)).map(lambda p: (p[0] or "L") * (p[1] // max(len(p[0]), 1))),
)
TEXT_FIELDS = ("event_id", "location", "admin1", "munition", "source", "source_url", "notes")
N = 3  # rows per frame


def _frame(texts: list[str], column: str):
    """Three events whose text fields and one extra column (named ``column``) hold ``texts`` (cycled)."""
    values = {name: [texts[(i + k) % len(texts)] for i in range(N)] for k, name in enumerate(TEXT_FIELDS)}
    extra = {f"extra {column}": [texts[-1 - i % len(texts)] for i in range(N)]}
    return canonical_frame([30.0 + i for i in range(N)], [50.0 + i for i in range(N)],
                           munition_class="unknown", **values, **extra)


def _no_marker() -> None:
    assert not MARKER.exists(), "a template payload ran"


def _embedded(page: str) -> tuple[dict, dict, dict]:
    """The config, data and details a standalone page carries, decoded from its init call."""
    start = page.index("mapviewer.init(")
    at = page.index("}, ", start) + 3  # after the basemap layers' object
    decoder = json.JSONDecoder()
    values = []
    for _ in range(3):
        value, end = decoder.raw_decode(page, at)
        values.append(value)
        at = end + 2  # ", "
    return values[0], values[1], values[2]


_BASELINE: dict[str, int] = {}


def _tags(page: str) -> dict[str, int]:
    return {tag: len(re.findall(rf"<{tag}\b", page, re.I)) for tag in ("script", "style", "img", "svg", "iframe",
                                                                          "link", "meta", "title", "a", "object")}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(texts=st.lists(TEXT, min_size=1, max_size=8), title=TEXT, subtitle=TEXT, column=TEXT)
def test_html_export_keeps_every_text_verbatim_and_runs_nothing(tmp_path_factory, texts, title, subtitle, column):
    frame = _frame(texts, column)
    out = tmp_path_factory.mktemp("html") / "map.html"
    mappage.write_standalone_html(frame, out, title=title, subtitle=subtitle, fingerprint="0123")
    _no_marker()
    with open(out, encoding="utf-8", newline="") as handle:  # line ends as written
        page = handle.read()
    if not _BASELINE:
        plain = tmp_path_factory.mktemp("html") / "plain.html"
        mappage.write_standalone_html(_frame(["text"], "text"), plain, title="Title", subtitle="sub", fingerprint="0")
        _BASELINE.update(_tags(plain.read_text(encoding="utf-8")))
    assert _tags(page) == _BASELINE  # record text added no element of any kind
    title_element = page[page.index("<title>"):page.index("</title>") + 8]
    scripts = page.replace(title_element, "")  # literal separators end a string in older JS engines
    assert "\u2028" not in scripts and "\u2029" not in scripts
    config, data, details = _embedded(page)
    # The title box shows the title, the filters in words and the fingerprint (no title: no box).
    assert config["heading"] == ({"title": title, "subtitle": subtitle, "fingerprint": "0123"} if title else None)
    shown_title = title_element[7:-8]
    assert html.unescape(shown_title) == title or (not title and shown_title == "Strike events")
    assert data["n"] == N and set(data["munitions"]) == set(frame["munition"])
    for position in range(N):
        fields = {label: value for label, value, *_ in details[str(position)]}
        for name in TEXT_FIELDS:
            assert fields[mappage.FIELD_LABELS[name]] == frame[name].iloc[position]
        assert fields[f"extra {column}"] == frame[f"extra {column}"].iloc[position]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(title=TEXT, subtitle=TEXT)
def test_the_app_page_builds_with_any_title(title, subtitle):
    page = mappage.build_page(live=True, title=title, heading={"title": title, "subtitle": subtitle, "fingerprint": ""})
    _no_marker()
    config, data, details = _embedded(page)
    assert config["heading"]["title"] == title and config["heading"]["subtitle"] == subtitle
    assert data is None and details is None


def _csv_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(texts=st.lists(TEXT, min_size=1, max_size=8), column=TEXT)
@example(texts=["{{7*7}}"], column="\r")  # a carriage return in a column name: XLSX gives it back as a line feed
def test_data_exports_keep_every_text(tmp_path_factory, texts, column):
    import openpyxl
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    frame = _frame(texts, column)
    folder = tmp_path_factory.mktemp("data")
    names = list(TEXT_FIELDS) + [f"extra {column}"]

    write_incidents(frame, folder / "out.csv")
    rows = _csv_rows(folder / "out.csv")
    header = rows[0]
    for name in names:  # formula-like text carries the documented apostrophe, nothing else changes
        cells = [row[header.index(neutralise(name))] for row in rows[1:]]
        assert cells == [neutralise(v) for v in frame[name]]

    write_incidents(frame, folder / "out.geojson")
    features = json.loads((folder / "out.geojson").read_text(encoding="utf-8"))["features"]
    for name in names:
        assert [f["properties"][name] for f in features] == list(frame[name])

    stored = [v for name in names for v in [name, *frame[name]]]
    if any(ILLEGAL_CHARACTERS_RE.search(v) for v in stored) or any(len(v) > 32767 for v in stored):
        with pytest.raises(DataError, match=r"control character|Excel's limit"):  # said in words, never a traceback
            write_incidents(frame, folder / "out.xlsx")
        return
    write_incidents(frame, folder / "out.xlsx")
    sheet = openpyxl.load_workbook(folder / "out.xlsx").active
    table = list(sheet.iter_rows(values_only=True))
    assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]  # never a formula
    def xml_lines(text: str) -> str:  # a cell's line ends as XML gives them back
        return text.replace("\r\n", "\n").replace("\r", "\n")

    for name in names:
        column_at = list(table[0]).index(xml_lines(name))  # a header is a cell like any other
        expected = [xml_lines(v) for v in frame[name]]
        assert [row[column_at] or "" for row in table[1:]] == [e or "" for e in expected]
    _no_marker()


@pytest.mark.parametrize("fmt,examples", [("svg", 4), ("png", 3), ("pdf", 2)])
def test_figures_draw_any_text(tmp_path_factory, fmt, examples):
    from mapviewer.export.figure import render_figure

    @settings(max_examples=examples, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
    @given(texts=st.lists(TEXT, min_size=1, max_size=4), title=TEXT)
    def draw(texts, title):
        frame = _frame(texts, "x")
        out = tmp_path_factory.mktemp("figure") / f"figure.{fmt}"
        munitions = frozenset(frame["munition"])
        render_figure(frame, filter_state=FilterState(munitions=munitions), title=title, out=out, dpi=40)
        _no_marker()
        assert out.stat().st_size > 0
        if fmt == "svg":  # still XML, with the title's words (control characters shown escaped)
            root = ET.parse(out).getroot()
            words = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
            first = next((w for w in visible_text(title).split() if len(w) < 20), None)
            if first:
                assert first in words
            assert not list(root.iter("{http://www.w3.org/2000/svg}script"))

    draw()


def test_a_pdf_figure_draws_a_zero_width_no_break_space(tmp_path):
    """U+FEFF (a stray byte-order mark in a cell) once broke matplotlib's PDF output."""
    from mapviewer.export.figure import render_figure

    frame = _frame(["\ufeff"], "x")
    out = tmp_path / "figure.pdf"
    render_figure(frame, filter_state=FilterState(munitions=frozenset(frame["munition"])), title="\ufeffKyiv",
                  out=out, dpi=40)
    assert out.read_bytes().startswith(b"%PDF")


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(texts=st.lists(TEXT, min_size=1, max_size=3), title=TEXT)
def test_animation_frames_draw_any_text(texts, title):
    from mapviewer.export.animation import animation_images

    frame = _frame(texts, "x")
    count, images = animation_images(frame, title=title, step="1d", dpi=25, renderer="figure", workers=1)
    assert count >= 1 and next(iter(images)).ndim == 3
    _no_marker()


# -- saved views and the command line ---------------------------------------------------------------
def _write_csv(path: Path, texts: list[str], column: str) -> None:
    fields = ["event_id", "date", "latitude", "longitude", "outcome", "munition", "location", "admin1", "source",
              "notes", f"extra {column}"]
    rows = []
    for i in range(N):
        pick = [texts[(i + k) % len(texts)] for k in range(6)]
        rows.append([f"E-{i} {pick[0]}", f"2025-09-{10 + i} 03:00", 50.0 + i, 30.0 + i, "impact", *pick[1:], pick[0]])
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(fields)
        writer.writerows(rows)


#: Text a CSV file can carry: NUL marks a file as binary (the readers refuse it with a message).
FILE_TEXT = TEXT.map(lambda t: t.replace("\x00", ""))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(title=TEXT, search=TEXT, names=st.lists(TEXT, max_size=3), tag=TEXT)
def test_saved_views_keep_every_text(tmp_path_factory, title, search, names, tag):
    from mapviewer.export.figure import cap_title
    from mapviewer.files.views import ViewSpec, load_view, save_view

    folder = tmp_path_factory.mktemp("view")
    spec = ViewSpec(data=(), title=title,
                    filter=FilterState(text=search, munitions=frozenset(names), admin1=frozenset(names),
                                       tags=frozenset({("tag_x", tag)})))
    save_view(folder / "view.json", spec)
    back = load_view(folder / "view.json")
    assert back.title == cap_title(title)[0]  # a title longer than a figure takes is cut, with a note
    assert back.filter == spec.filter
    _no_marker()


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                HealthCheck.function_scoped_fixture])
@given(texts=st.lists(FILE_TEXT, min_size=1, max_size=6), column=FILE_TEXT, title=TEXT, search=TEXT)
@example(texts=["{{7*7}}"], column="notes", title="{{7*7}} " * 300, search="")  # a title cut to 300 characters
@example(texts=["\x01" * 5000], column="x", title="t", search="")  # a file refused as binary
def test_command_line_exports_of_hostile_files_and_views(tmp_path_factory, capsys, texts, column, title, search):
    from geodata import read_incidents
    from mapviewer.cli.export import run_export
    from mapviewer.export.figure import cap_title
    from mapviewer.files.views import ViewSpec, save_view

    folder = tmp_path_factory.mktemp("cli")
    data = folder / "events.csv"
    _write_csv(data, texts, column)
    try:
        frame = read_incidents(str(data)).frame
    except DataError:  # a file the readers refuse (say, no row left): the CLI says so in one line
        capsys.readouterr()  # what earlier examples printed (the fixture outlives one example)
        assert run_export([str(data), "--format", "csv", "-o", str(folder / "x.csv")]) == 1
        assert len(capsys.readouterr().err.strip().splitlines()) == 1
        return
    # The records as read come back exactly in CSV, GeoJSON and the HTML page's data.
    assert run_export([str(data), "--title", title, "--format", "html", "-o", str(folder / "map.html")]) == 0
    _no_marker()
    config, _data, details = _embedded((folder / "map.html").read_text(encoding="utf-8"))
    assert config["heading"]["title"] == cap_title(title)[0] if title else config["heading"] is None  # long: cut
    notes = [dict((f[0], f[1]) for f in details[str(i)]).get("Notes", "") for i in range(len(frame))]
    assert notes == ["" if v is None or v != v else v for v in frame["notes"].astype(object)]
    assert run_export([str(data), "--format", "geojson", "-o", str(folder / "out.geojson")]) == 0
    features = json.loads((folder / "out.geojson").read_text(encoding="utf-8"))["features"]
    assert [f["properties"]["location"] for f in features] == [
        None if v is None or v != v else v for v in frame["location"].astype(object)]
    assert run_export([str(data), "--format", "csv", "-o", str(folder / "out.csv")]) == 0
    rows = _csv_rows(folder / "out.csv")
    at = rows[0].index("munition")
    assert [r[at] for r in rows[1:]] == ["" if v is None or v != v else neutralise(v) for v in frame["munition"].astype(object)]

    # A saved view's title and text filter go into every kind of export the same way.
    view = folder / "view.json"
    save_view(view, ViewSpec(data=(str(data),), title=title, filter=FilterState(text=search or None)))
    for fmt in ("html", "csv", "svg", "xlsx"):
        code = run_export(["--view", str(view), "--format", fmt, "-o", str(folder / f"view.{fmt}")])
        err = capsys.readouterr().err
        assert code == 0 or (fmt == "xlsx" and code == 1 and "Excel" in err), err
        assert not HIDDEN.search(err)  # messages quoting the data print no control characters
        _no_marker()
    out = capsys.readouterr().out
    assert not HIDDEN.search(out)


# -- the shared escaping ------------------------------------------------------------------------------
@given(st.text())
def test_visible_text_leaves_no_control_or_direction_character_and_keeps_the_rest(text):
    shown = visible_text(text)
    assert not HIDDEN.search(shown)
    if not HIDDEN.search(text):
        assert shown == text
    # every character is still named: the escapes say which ones were there
    assert shown.count("\\") == text.count("\\") + len(HIDDEN.findall(text))
