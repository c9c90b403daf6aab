"""``mapviewer export``: batch exports with no window, exit codes and one-line messages."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from matplotlib.image import imread

import geodata
from geodata import FilterState
from geodata.sample import make_sample
from geodata.writers import write_csv
from mapviewer.export_cli import run_export
from mapviewer.figure import PAGES
from mapviewer.views import ViewSpec, save_view

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sample_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "incidents.csv"
    write_csv(make_sample(n=400), path)
    return path


@pytest.fixture(scope="module")
def sample(sample_csv):
    return geodata.read_incidents(str(sample_csv)).frame


def run(argv, capsys) -> tuple[int, str, str]:
    code = run_export([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


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
    pytest.importorskip("mapviewer.mappage")
    out = tmp_path / "map.html"
    code, _, stderr = run([sample_csv, "--title", "<b>Night</b>", "--munition", "KN-23", "-o", out], capsys)
    assert code == 0, stderr
    html = out.read_text(encoding="utf-8")
    assert "<b>Night</b>" not in html  # record and title text is escaped
    assert 'src="http' not in html and "src='http" not in html


def test_animation_formats_go_to_the_timeline_export(sample_csv, tmp_path, capsys):
    pytest.importorskip("mapviewer.animation")
    out = tmp_path / "night.gif"
    code, stdout, stderr = run([sample_csv, "--from", "2025-09-28", "--to", "2025-09-30", "--step", "1d",
                                "--dpi", "30", "-o", out], capsys)
    assert code == 0, stderr
    assert out.read_bytes()[:6] in (b"GIF89a", b"GIF87a")
    assert "frames" in stdout


def test_runs_with_no_display_and_without_qt(sample_csv, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = tmp_path / "batch.png"
    code = ("import sys; from mapviewer.export_cli import run_export; "
            f"status = run_export([{str(sample_csv)!r}, '--dpi', '40', '-o', {str(out)!r}]); "
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
