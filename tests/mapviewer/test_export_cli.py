"""``mapviewer export``: batch exports with no window, exit codes and one-line messages."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import imageio.v3 as imageio
import pandas as pd
import pytest
from matplotlib.image import imread

import geodata
from geodata import FilterState
from geodata.writers import write_csv
from mapviewer.export.figure import PAGES
from mapviewer.files.views import ViewSpec, save_view
from tests.mapviewer.test_figure import svg_texts
from tests.factories import run_export_cli, sample_csv_file

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sample_csv(tmp_path_factory) -> Path:
    return sample_csv_file(tmp_path_factory.mktemp("data"), 400)


@pytest.fixture(scope="module")
def sample(sample_csv):
    return geodata.read_incidents(str(sample_csv)).frame


run = run_export_cli


def test_png_figure(sample_csv, tmp_path, capsys):
    out = tmp_path / "kyiv.png"
    code, stdout, stderr = run([sample_csv, "--title", "Kyiv night", "--from", "2025-09-29", "--to", "2025-09-30",
                                "--format", "png", "--dpi", "50", "-o", out], capsys)
    assert code == 0, stderr
    assert f"wrote {out}" in stdout
    height, width = imread(out).shape[:2]
    assert abs(width - PAGES["A4-landscape"][0] * 50) <= 1 and abs(height - PAGES["A4-landscape"][1] * 50) <= 1


def test_csv_extract_holds_exactly_the_filtered_rows(sample_csv, sample, tmp_path, capsys):
    out = tmp_path / "kn23.csv"
    code, stdout, stderr = run([sample_csv, "--from", "2025-06-01", "--to", "2025-09-30",
                                "--munition", "Hwasong-11", "--munition", "Х-101",  # aliases, Cyrillic too
                                "--outcome", "impact", "--outcome", "deviated", "--format", "csv", "-o", out], capsys)
    assert code == 0, stderr
    expected = sample[FilterState(start="2025-06-01", end="2025-09-30", munitions={"KN-23", "Kh-101"},
                                  outcomes={"impact", "deviated"}).mask(sample)]
    back = geodata.read_incidents(str(out)).frame
    assert len(expected) > 0
    assert list(back["event_id"]) == list(expected["event_id"])
    assert set(back["munition"]) <= {"KN-23", "Kh-101"}
    assert f"{len(expected):,} rows" in stdout


def test_csv_times_are_written_in_the_working_zone_given(sample_csv, sample, tmp_path, capsys):
    import csv

    for tz, offsets in (("Europe/Kyiv", {"+02:00", "+03:00"}), ("UTC", {"+00:00"})):
        out = tmp_path / f"times-{tz.replace('/', '-')}.csv"
        code, _, stderr = run([sample_csv, "--munition", "KN-23", "--tz", tz, "-o", out], capsys)
        assert code == 0, stderr
        with open(out, encoding="utf-8-sig", newline="") as f:
            times = [row["occurred_at"] for row in csv.DictReader(f)]
        assert times and {t[-6:] for t in times} <= offsets
        back = geodata.read_incidents(str(out)).frame  # the same instants either way
        expected = sample[sample["munition"] == "KN-23"]
        assert list(back["occurred_at"]) == list(expected["occurred_at"])


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "xlsx"])
def test_data_formats(sample_csv, sample, tmp_path, capsys, fmt):
    out = tmp_path / f"extract.{fmt}"
    code, _, stderr = run([sample_csv, "--munition", "ballistic missile", "-o", out], capsys)  # format from suffix
    assert code == 0, stderr
    back = geodata.read_incidents(str(out)).frame
    expected = sample[sample["munition_class"] == "ballistic missile"]
    assert sorted(back["event_id"]) == sorted(expected["event_id"])


def test_svg_says_the_filters(sample_csv, tmp_path, capsys):
    out = tmp_path / "brief.svg"
    code, _, stderr = run([sample_csv, "--from", "2025-09-01", "--to", "2025-09-30", "--munition", "KN-23",
                           "--page", "slide-16:9", "--title", "September", "-o", out], capsys)
    assert code == 0, stderr
    text = out.read_text(encoding="utf-8")
    assert "September" in text and "1 Sep 2025 – 30 Sep 2025 · KN-23 · all outcomes" in text


def test_a_saved_view_supplies_files_and_filters(sample_csv, sample, tmp_path, capsys):
    view = tmp_path / "views" / "view.json"
    view.parent.mkdir()
    save_view(view, ViewSpec(data=(str(sample_csv),), filter=FilterState(munitions={"Shahed-136"})))
    out = tmp_path / "view.csv"
    code, _, stderr = run(["--view", view, "--outcome", "impact", "-o", out], capsys)
    assert code == 0, stderr
    back = geodata.read_incidents(str(out)).frame
    expected = sample[FilterState(munitions={"Shahed-136"}, outcomes={"impact"}).mask(sample)]
    assert list(back["event_id"]) == list(expected["event_id"])


@pytest.mark.parametrize("argv, code, words", [
    (["--from", "2025-13-45", "-o", "x.csv"], 2, "bad date for --from"),
    (["--from", "2025-09-30", "--to", "2025-09-01", "-o", "x.csv"], 2, "after --to"),
    (["--munition", "Tomahawk", "-o", "x.csv"], 2, "unknown munition 'Tomahawk'"),
    (["--outcome", "exploded", "-o", "x.csv"], 2, "unknown outcome 'exploded'"),
    (["--page", "A3", "-o", "x.png"], 2, "unknown page 'A3'"),
    (["--format", "bmp", "-o", "x.bmp"], 2, "invalid choice"),
    (["-o", "x.doc"], 2, "cannot tell the format"),
    (["--no-such-option", "-o", "x.csv"], 2, "unrecognized arguments"),
    (["--oblast", "Atlantis", "-o", "x.csv"], 2, "unknown oblast 'Atlantis'"),
    (["--extent", "30,50", "-o", "x.png"], 2, "bad --extent"),
])
def test_bad_options_give_one_line_and_exit_2(sample_csv, tmp_path, capsys, argv, code, words):
    argv = [sample_csv] + [str(tmp_path / a) if a.startswith("x.") else a for a in argv]
    status, stdout, stderr = run(argv, capsys)
    assert status == code
    assert words in stderr
    assert stderr.count("\n") == 1 and stderr.startswith("mapviewer export: error:")
    assert not any(p.name.startswith("x.") for p in tmp_path.iterdir())


def test_missing_or_bad_files_exit_1_naming_the_file(tmp_path, capsys, sample_csv):
    status, _, stderr = run([tmp_path / "gone.csv", "-o", tmp_path / "x.csv"], capsys)
    assert status == 1 and "gone.csv" in stderr and stderr.count("\n") == 1
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\x00\x01\x02 not a table")
    status, _, stderr = run([junk, "-o", tmp_path / "x.csv"], capsys)
    assert status == 1 and "junk.csv" in stderr and stderr.count("\n") == 1
    status, _, stderr = run([sample_csv, "-o", tmp_path / "no folder" / "x.csv"], capsys)
    assert status == 1 and "no folder" in stderr and stderr.count("\n") == 1
    status, _, stderr = run(["-o", tmp_path / "x.csv"], capsys)
    assert status == 2 and "no data files" in stderr
    view = tmp_path / "view.json"
    save_view(view, ViewSpec(data=(str(tmp_path / "moved.csv"),)))
    status, _, stderr = run(["--view", view, "-o", tmp_path / "x.csv"], capsys)
    assert status == 1 and "moved.csv" in stderr and "not found" in stderr


def test_oblast_filter_and_extent(sample_csv, sample, tmp_path, capsys):
    out = tmp_path / "kharkiv.csv"
    code, _, stderr = run([sample_csv, "--oblast", "Kharkiv", "-o", out], capsys)
    assert code == 0, stderr
    back = geodata.read_incidents(str(out)).frame
    assert len(back) > 0
    assert set(back["admin1"]) == {v for v in sample["admin1"].dropna().unique() if v.lower().startswith("kharkiv")}


def test_html_map(sample_csv, tmp_path, capsys):
    pytest.importorskip("mapviewer.map.page")
    out = tmp_path / "map.html"
    code, _, stderr = run([sample_csv, "--title", "<b>Night</b>", "--munition", "KN-23", "-o", out], capsys)
    assert code == 0, stderr
    html = out.read_text(encoding="utf-8")
    assert "<b>Night</b>" not in html  # record and title text is escaped
    assert 'src="http' not in html and "src='http" not in html


def test_animation_formats_go_to_the_timeline_export(sample_csv, tmp_path, capsys):
    pytest.importorskip("mapviewer.export.animation")
    out = tmp_path / "night.gif"
    code, stdout, stderr = run([sample_csv, "--from", "2025-09-28", "--to", "2025-09-30", "--step", "1d",
                                "--dpi", "50", "-o", out], capsys)
    assert code == 0, stderr
    assert out.read_bytes()[:6] in (b"GIF89a", b"GIF87a")
    assert "frames" in stdout


def test_runs_with_no_display_and_without_qt(sample_csv, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = tmp_path / "batch.png"
    code = ("import sys; from mapviewer.cli.export import run_export; "
            f"status = run_export([{str(sample_csv)!r}, '--dpi', '50', '-o', {str(out)!r}]); "
            "sys.exit(status or (3 if 'PySide6' in sys.modules else 0))")
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = subprocess.run([sys.executable, "-m", "mapviewer", "export", str(sample_csv), "--from", "someday",
                             "-o", str(tmp_path / "x.csv")], env=env, cwd=ROOT, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "mapviewer export: error: bad date for --from: 'someday' (use YYYY-MM-DD or YYYY-MM-DDTHH:MM)"]


# -- audited gaps -------------------------------------------------------------------------------

def test_munitions_and_classes_named_together_keep_either(sample_csv, sample, tmp_path, capsys):
    out = tmp_path / "either.csv"
    code, _, stderr = run([sample_csv, "--munition", "KN-23", "--munition", "cruise missile", "-o", out], capsys)
    assert code == 0, stderr
    back = geodata.read_incidents(str(out)).frame
    expected = sample[(sample["munition"] == "KN-23") | (sample["munition_class"] == "cruise missile")]
    assert len(expected) > 0 and (sample["munition"] == "KN-23").any()
    assert sorted(back["event_id"]) == sorted(expected["event_id"])


def test_drones_means_the_loitering_munition_class(sample_csv, sample, tmp_path, capsys):
    for word in ("drones", "Drone"):
        out = tmp_path / f"{word}.csv"
        code, _, stderr = run([sample_csv, "--munition", word, "-o", out], capsys)
        assert code == 0, stderr
        back = geodata.read_incidents(str(out)).frame
        expected = sample[sample["munition_class"] == "loitering munition"]
        assert len(expected) > 0 and sorted(back["event_id"]) == sorted(expected["event_id"])


def test_an_unknown_munition_is_told_the_class_names(sample_csv, tmp_path, capsys):
    status, _, stderr = run([sample_csv, "--munition", "Tomahawk", "-o", tmp_path / "x.csv"], capsys)
    assert status == 2 and stderr.count("\n") == 1
    assert "cruise missile" in stderr and "loitering munition" in stderr and "drones" in stderr


@pytest.mark.parametrize("argv, words", [
    (["--dpi", "-5", "-o", "x.png"], "bad --dpi"),
    (["--dpi", "0", "-o", "x.png"], "bad --dpi 0"),
    (["--dpi", "5000", "-o", "x.png"], "use 50 to 1200"),
    (["--dpi", "49", "-o", "x.gif"], "bad --dpi 49"),
    (["--format", "csv", "-o", "x.png"], "but --format is csv"),
    (["--format", "png", "-o", "x.csv"], "but --format is png"),
    (["--tz", "Mars/Olympus", "-o", "x.csv"], "unknown time zone"),
    (["--from", "2025-09-30T01:00", "--to", "2025-09-29", "-o", "x.csv"], "after --to"),
    (["--fps", "0", "-o", "x.gif"], "bad --fps"),
])
def test_more_bad_options_give_one_line_and_exit_2(sample_csv, tmp_path, capsys, argv, words):
    argv = [sample_csv] + [str(tmp_path / a) if a.startswith("x.") else a for a in argv]
    status, _, stderr = run(argv, capsys)
    assert status == 2, stderr
    assert words in stderr
    assert stderr.count("\n") == 1 and stderr.startswith("mapviewer export: error:")
    assert not list(tmp_path.iterdir())


def test_a_time_on_the_day_a_bare_to_date_ends_is_before_it(sample_csv, sample, tmp_path, capsys):
    out = tmp_path / "night.csv"
    code, _, stderr = run([sample_csv, "--from", "2025-09-29T01:00", "--to", "2025-09-29", "-o", out], capsys)
    assert code == 0, stderr
    back = geodata.read_incidents(str(out)).frame
    expected = sample[FilterState(start=dt.datetime(2025, 9, 29, 1, 0), end=dt.date(2025, 9, 29)).mask(sample)]
    assert sorted(back["event_id"]) == sorted(expected["event_id"])


def test_a_missing_suffix_is_added_from_the_format(sample_csv, tmp_path, capsys):
    code, stdout, stderr = run([sample_csv, "--format", "csv", "-o", tmp_path / "extract"], capsys)
    assert code == 0, stderr
    assert [p.name for p in tmp_path.iterdir()] == ["extract.csv"]
    assert f"wrote {tmp_path / 'extract.csv'}" in stdout
    assert (tmp_path / "extract.csv").read_text(encoding="utf-8-sig").startswith("event_id")


def test_a_folder_given_as_data_is_called_a_folder(tmp_path, capsys):
    status, _, stderr = run([tmp_path, "-o", tmp_path / "x.csv"], capsys)
    assert status == 1 and "is a folder" in stderr and "not found" not in stderr and stderr.count("\n") == 1


def test_a_view_supplies_title_page_and_map_size(sample_csv, tmp_path, capsys, monkeypatch):
    import types

    import mapviewer.files.views

    view = tmp_path / "view.json"
    save_view(view, ViewSpec(data=(str(sample_csv),), center=(50.45, 30.52), zoom=9))
    plain = mapviewer.files.views.load_view(view)
    # Views with a title, a page and the map's size (newer view files): read through getattr.
    richer = types.SimpleNamespace(**{f: getattr(plain, f) for f in ("data", "filter", "basemap", "center", "zoom")},
                                   title="Title from the view", page="A4-portrait", size=(400, 300))
    monkeypatch.setattr(mapviewer.files.views, "load_view", lambda path: richer)
    out = tmp_path / "from_view.svg"
    code, _, stderr = run(["--view", view, "-o", out], capsys)
    assert code == 0, stderr
    assert "Title from the view" in svg_texts(out)
    assert _page_pt(out) == pytest.approx((PAGES["A4-portrait"][0] * 72, PAGES["A4-portrait"][1] * 72), abs=1)
    # The map area is the view's 400 x 300 pixels at zoom 9, not 1024 x 768: a smaller scale bar.
    small = _scale_km(out)
    code, _, stderr = run(["--view", view, "--title", "Given here", "--page", "A4-portrait", "-o", out], capsys)
    assert code == 0, stderr
    assert "Given here" in svg_texts(out)
    richer.size = None
    code, _, stderr = run(["--view", view, "-o", out], capsys)
    assert code == 0, stderr
    assert _scale_km(out) > small


def _page_pt(svg) -> tuple[float, float]:
    import xml.etree.ElementTree as ET

    root = ET.parse(svg).getroot()
    return float(root.get("width").removesuffix("pt")), float(root.get("height").removesuffix("pt"))


def _scale_km(svg) -> float:
    return float(next(t for t in svg_texts(svg) if t.endswith(" km")).split()[0])


def test_the_figure_says_how_many_matching_events_lie_outside_the_view(sample_csv, sample, tmp_path, capsys):
    view = tmp_path / "kyiv.json"
    save_view(view, ViewSpec(data=(str(sample_csv),), center=(50.45, 30.52), zoom=9))
    out, csv = tmp_path / "kyiv.svg", tmp_path / "kyiv.csv"
    assert run(["--view", view, "-o", csv], capsys)[0] == 0
    rows = len(geodata.read_incidents(str(csv)).frame)
    code, _, stderr = run(["--view", view, "-o", out], capsys)
    assert code == 0, stderr
    texts = svg_texts(out)
    shown = int(next(t for t in texts if t.endswith(" shown")).split()[0].replace(",", ""))
    assert shown < rows
    words = " ".join(texts)
    assert f"{rows:,} matching events, {rows - shown:,} outside the map area" in words


def test_animation_can_leave_out_empty_frames(tmp_path, capsys):
    from tests.mapviewer.test_timeline_animation import three_days

    data = tmp_path / "three.csv"
    write_csv(three_days(), data)
    counts = []
    for extra in ([], ["--skip-empty"]):
        code, stdout, stderr = run([data, "--step", "1d", "--dpi", "50", *extra, "-o", tmp_path / "a.gif"], capsys)
        assert code == 0, stderr
        counts.append(len(imageio.imread(tmp_path / "a.gif", index=None)))
    assert counts == [3, 2]  # 2 May has no event


def test_a_class_named_with_a_munition_keeps_its_events_naming_no_munition(sample, tmp_path, capsys):
    import geodata.filters

    if not hasattr(geodata.filters, "no_munition"):
        pytest.skip("these filters cannot choose events naming no munition")
    frame = sample.copy()
    unnamed = frame.index[frame["munition_class"] == "cruise missile"][0]
    frame.loc[unnamed, "munition"] = None
    data = tmp_path / "unnamed.csv"
    write_csv(frame, data)
    out = tmp_path / "either.csv"
    code, _, stderr = run([data, "--munition", "KN-23", "--munition", "cruise missile", "-o", out], capsys)
    assert code == 0, stderr
    back = geodata.read_incidents(str(out)).frame
    assert frame.loc[unnamed, "event_id"] in set(back["event_id"])
    assert len(back) == int(((frame["munition"] == "KN-23") | (frame["munition_class"] == "cruise missile")).sum())


def test_all_events_keeps_the_non_strike_rows_of_a_cir_file(tmp_path, capsys):
    from tests.geodata.test_sources_cir import HEADER, ROWS

    cir = tmp_path / "cir_monitor.csv"
    cir.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    counts = {}
    for flag in ([], ["--all-events"]):
        out = tmp_path / f"cir{len(flag)}.csv"
        code, _, stderr = run([cir, *flag, "-o", out], capsys)
        assert code == 0, stderr
        counts[bool(flag)] = len(geodata.read_incidents(str(out)).frame)
    assert counts[True] == counts[False] + 1  # the convoy (row 3) is kept only when asked for

    from mapviewer.cli.main import main

    assert main(["inspect", str(cir), "--all-events", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows_loaded"] == counts[True]


# -- files given twice, saved views that changed, long titles ---------------------------------------

def test_a_file_given_twice_is_read_once(sample_csv, sample, tmp_path, capsys):
    out = tmp_path / "all.csv"
    twice = tmp_path / "again.csv"
    twice.symlink_to(sample_csv)  # the same file under another name
    code, stdout, stderr = run([sample_csv, sample_csv, twice, "-o", out], capsys)
    assert code == 0, stderr
    assert f"wrote {out} ({len(sample):,} rows)" in stdout
    assert len(pd.read_csv(out)) == len(sample)
    assert stderr.splitlines() == [f"mapviewer export: note: {sample_csv} is given more than once: read once",
                                   f"mapviewer export: note: {twice} is given more than once (as {sample_csv}): "
                                   "read once"]


def test_a_view_listing_a_file_twice_counts_its_rows_once(sample_csv, sample, tmp_path, capsys):
    view = tmp_path / "brief.json"
    save_view(view, ViewSpec(data=(str(sample_csv), str(sample_csv))))
    code, stdout, _ = run(["--view", view, "-o", tmp_path / "all.csv"], capsys)
    assert code == 0 and f"({len(sample):,} rows)" in stdout


def _saved_view(data: Path, folder: Path, state: FilterState) -> Path:
    """A view of ``data`` under ``state`` with the fingerprints the app records when saving."""
    from geodata.fingerprint import rows_fingerprint, source_fingerprint

    frame = geodata.read_incidents(str(data)).frame
    view = folder / "brief.json"
    save_view(view, ViewSpec(data=(str(data),), filter=state, sources=(source_fingerprint(data),),
                             rows=rows_fingerprint(frame[state.mask(frame)])))
    return view


def _edit(data: Path, change) -> None:
    table = pd.read_csv(data, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    table = change(table)
    table.to_csv(data, index=False, encoding="utf-8-sig")


def test_export_of_a_view_whose_rows_changed_warns_and_strict_fails(sample_csv, tmp_path, capsys):
    data = tmp_path / "night.csv"
    data.write_bytes(sample_csv.read_bytes())
    impacts = FilterState(outcomes={"impact"})
    view = _saved_view(data, tmp_path, impacts)
    code, _, stderr = run(["--view", view, "-o", tmp_path / "same.csv"], capsys)
    assert code == 0 and stderr == ""  # nothing changed: nothing said

    def edit(table):
        shown = table.index[table["outcome"] == "impact"]
        table.loc[shown[0], "killed"] = "12"  # changed
        return table.drop(index=shown[1])  # removed

    _edit(data, edit)
    code, stdout, stderr = run(["--view", view, "-o", tmp_path / "changed.csv"], capsys)
    assert code == 0 and "wrote" in stdout
    [line] = stderr.splitlines()
    assert line.startswith(f"mapviewer export: warning: {view}: the data changed since the view was saved: "
                           "night.csv changed: ")
    assert "rows shown: 1 row removed, 1 changed" in line
    code, stdout, stderr = run(["--view", view, "--strict", "-o", tmp_path / "strict.csv"], capsys)
    assert code == 1 and stdout == "" and not (tmp_path / "strict.csv").exists()
    assert stderr.startswith("mapviewer export: error: ") and stderr.rstrip().endswith("(--strict)")


def test_a_view_whose_file_changed_elsewhere_only_notes_it(sample_csv, tmp_path, capsys):
    data = tmp_path / "night.csv"
    data.write_bytes(sample_csv.read_bytes())
    view = _saved_view(data, tmp_path, FilterState(outcomes={"impact"}))

    def edit(table):
        table.loc[table.index[table["outcome"] == "intercepted"][0], "killed"] = "3"  # not a row the view shows
        return table

    _edit(data, edit)
    code, _, stderr = run(["--view", view, "--strict", "-o", tmp_path / "out.csv"], capsys)
    assert code == 0
    assert "night.csv changed" in stderr and stderr.rstrip().endswith("the rows the view shows are the same")


def test_a_long_title_is_cut_with_a_note(sample_csv, tmp_path, capsys):
    out = tmp_path / "long.svg"
    code, _, stderr = run([sample_csv, "--title", "Kyiv " * 1600, "--dpi", "50", "-o", out], capsys)
    assert code == 0, stderr
    assert stderr.splitlines() == ["mapviewer export: note: --title: the title is 8,000 characters long: "
                                   "cut to the first 300"]
    title_lines = [t for t in svg_texts(out) if re.fullmatch(r"(Kyiv\s*)+…?", t) and t.count("Kyiv") > 1]
    assert 55 <= sum(t.count("Kyiv") for t in title_lines) <= 60 and title_lines[-1].endswith("…")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_given_as_data_is_not_called_missing(tmp_path, capsys):
    fifo = tmp_path / "night.csv"
    os.mkfifo(fifo)
    code, _, stderr = run([fifo, "-o", tmp_path / "out.csv"], capsys)
    assert code == 1
    assert stderr.splitlines() == [f"mapviewer export: error: {fifo}: not a data file: a named pipe (FIFO)"]
