"""``mapviewer --screenshot``: run as a user would, in a child process with no display."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtGui import QImage

from mapviewer.app import parse_size, split_arguments
from mapviewer.map.grab import is_blank


def _run(args, tmp_path, timeout=300):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QTWEBENGINE_DISABLE_SANDBOX="1",
               HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"))
    return subprocess.run([sys.executable, "-m", "mapviewer", *args], env=env, capture_output=True,
                          text=True, timeout=timeout, cwd=str(tmp_path))


def test_screenshot_of_the_sample_shows_the_map(tmp_path, qapp):
    out = tmp_path / "window.png"
    done = _run(["--screenshot", str(out), "--size", "1200x800"], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1200, 800)
    assert not is_blank(image)
    # The map area (right of the filter dock, above the table) is painted too, not white.
    assert not is_blank(image.copy(image.width() // 3, image.height() // 8, image.width() // 3, image.height() // 3))
    assert not (tmp_path / "config" / "strike-mapviewer").exists()  # the user's settings are untouched


def test_screenshot_of_a_missing_file_fails_with_one_line(tmp_path):
    done = _run([str(tmp_path / "nope.csv"), "--screenshot", str(tmp_path / "x.png")], tmp_path)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [f"mapviewer: error: {tmp_path / 'nope.csv'}: no such file"]
    assert not (tmp_path / "x.png").exists()


def test_size_and_arguments_are_checked(tmp_path):
    assert parse_size("1600x1000") == (1600, 1000)
    with pytest.raises(ValueError, match="1600x1000"):
        parse_size("big")
    geojson = tmp_path / "points.json"
    geojson.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    view = tmp_path / "brief.json"
    view.write_text('{"filter": {"munitions": ["KN-23"]}}', encoding="utf-8")
    assert split_arguments([str(geojson), str(view), "a.csv"]) == ([str(geojson), "a.csv"], [str(view)])


def test_screenshot_of_a_bad_saved_view_fails_with_one_line(tmp_path):
    view = tmp_path / "old view.json"
    view.write_text('{"mapviewer_view": 99}', encoding="utf-8")
    done = _run([str(view), "--screenshot", str(tmp_path / "x.png")], tmp_path)
    assert done.returncode != 0
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("mapviewer: error: ") and str(view) in line and "version" in line
    assert not (tmp_path / "x.png").exists()
