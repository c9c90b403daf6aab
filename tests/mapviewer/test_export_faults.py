"""Exports under faults: a full disk, SIGTERM and Ctrl+C, two exports to one name, long animations."""
from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import imageio.v3 as iio
import pytest

from geodata import FilterState
from geodata.sample import make_sample
from mapviewer.cli.export import run_export
from mapviewer.export import animation
from mapviewer.export.animation import export_animation
from tests.geodata.test_writers import small_disk  # noqa: F401 - a fixture
from tests.factories import sample_csv_file

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sample_csv(tmp_path_factory) -> Path:
    return sample_csv_file(tmp_path_factory.mktemp("data"), 3000)


def run(argv, capsys) -> tuple[int, str, str]:
    code = run_export([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- a full disk ------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt, options, kilobytes", [
    ("csv", [], 128),
    ("geojson", [], 128),
    ("gpkg", [], 128),
    ("xlsx", [], 128),
    ("png", ["--dpi", "100"], 128),
    ("svg", ["--dpi", "50"], 128),
    ("html", [], 128),
    ("gif", ["--dpi", "50", "--step", "60d"], 16),
    ("mp4", ["--dpi", "50", "--step", "60d"], 16),
])
def test_a_full_disk_is_one_line_and_keeps_the_old_file(small_disk, sample_csv, capsys, fmt, options,  # noqa: F811
                                                         kilobytes):
    disk = small_disk(kilobytes)
    out = disk / f"out.{fmt}"
    out.write_bytes(b"earlier export")
    code, stdout, stderr = run([sample_csv, *options, "-o", out], capsys)
    assert code == 1
    assert stderr.splitlines() == [f"mapviewer export: error: disk full while writing {out}"]
    assert out.read_bytes() == b"earlier export"
    assert sorted(os.listdir(disk)) == [f"out.{fmt}"]


def test_the_encoder_running_out_of_space_is_a_full_disk(sample_csv, tmp_path, capsys, monkeypatch):
    """Where no small disk can be mounted: ffmpeg's own "No space left on device" becomes the same line."""
    def out_of_space(self, image):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(animation._Encoder, "write", out_of_space)
    out = tmp_path / "night.mp4"
    code, _, stderr = run([sample_csv, "--dpi", "50", "--step", "30d", "-o", out], capsys)
    assert code == 1 and stderr.splitlines() == [f"mapviewer export: error: disk full while writing {out}"]
    assert os.listdir(tmp_path) == []


# -- interrupted ------------------------------------------------------------------------------------

def _partial(folder: Path, name: str) -> list[str]:
    return [n for n in os.listdir(folder) if n.startswith(f".{name}.")]


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name == "nt", reason="POSIX signals")
@pytest.mark.parametrize("sig, status, word", [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")])
def test_a_signal_mid_way_leaves_the_old_file_and_no_partial_one(sample_csv, tmp_path, sig, status, word):
    out = tmp_path / "night.mp4"
    out.write_bytes(b"earlier export")
    process = subprocess.Popen([sys.executable, "-m", "mapviewer", "export", str(sample_csv), "--step", "12h",
                                "--dpi", "50", "-o", str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 180
        while not _partial(tmp_path, out.name):  # frames are going to ffmpeg
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no partial file appeared"
            time.sleep(0.2)
        time.sleep(1.0)
        process.send_signal(sig)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == status
    assert stderr.splitlines() == [f"mapviewer export: error: {word}: no file written "
                                   "(an earlier file at the output name is kept)"]
    assert out.read_bytes() == b"earlier export"
    assert sorted(os.listdir(tmp_path)) == ["night.mp4"]


# -- two exports to one name ------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["gif", "mp4"])
def test_two_exports_to_one_name_each_write_their_own_file(tmp_path, fmt):
    """A second export starts while the first is half-way: each succeeds with its own frames, the last wins."""
    frame = make_sample(n=200)
    out = tmp_path / f"same.{fmt}"
    second = {}

    def start_the_second(done, total):
        if done == 2 and not second:
            second["count"] = export_animation(frame, out, filter_state=FilterState(), step="60d", dpi=30,
                                               renderer="scatter")
            second["frames"] = len(iio.imread(out, index=None))

    first = export_animation(frame, out, filter_state=FilterState(), step="30d", dpi=30, renderer="scatter",
                             progress=start_the_second)
    assert second["frames"] == second["count"] == 7
    assert len(iio.imread(out, index=None)) == first == 13
    assert os.listdir(tmp_path) == [out.name]


# -- long animations ---------------------------------------------------------------------------------

#: Exports ``n`` plain A4 frames at 100 dpi (1169 x 827 pixels) and prints the process's peak memory in KB.
_LONG_ANIMATION = """
import resource, sys
import numpy as np
from mapviewer.export import animation

n = int(sys.argv[1])

def frames():
    base = np.full((827, 1169, 3), 255, np.uint8)
    for i in range(n):
        image = base.copy()
        image[(7 * i) % 800:(7 * i) % 800 + 20] = (200, 80, 30)
        yield image

animation.animation_images = lambda *args, **kwargs: (n, frames())
animation.export_animation(None, sys.argv[2], fps=5)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.skipif(os.name == "nt", reason="the resource module is POSIX")
def test_gif_frames_stream_to_the_encoder(tmp_path):
    """Memory does not grow with the frame count: 200 frames need about what 20 do."""
    def peak_kb(frames: int) -> int:
        out = tmp_path / f"{frames}.gif"
        done = subprocess.run([sys.executable, "-c", _LONG_ANIMATION, str(frames), str(out)], cwd=ROOT,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        assert len(iio.imread(out, index=None)) == frames
        return int(done.stdout.split()[-1])

    frame_kb = 1169 * 827 * 3 // 1024
    few, many = peak_kb(20), peak_kb(200)
    assert many - few < 20 * frame_kb  # keeping the 180 more frames would take 180 frames' worth more


def test_a_failed_encoder_is_one_line_naming_the_file(tmp_path, monkeypatch):
    """ffmpeg stopping for another reason: its last message, in one line, and no partial file."""
    monkeypatch.setattr(animation, "_GIF_FILTER", "nosuchfilter")
    out = tmp_path / "night.gif"
    with pytest.raises(Exception) as info:
        export_animation(make_sample(n=200), out, filter_state=FilterState(), step="60d", dpi=30,
                         renderer="scatter")
    message = str(info.value)
    assert message.startswith(f"{out}: the video encoder (ffmpeg) failed: ") and "\n" not in message
    assert "FFMPEG COMMAND" not in message and os.listdir(tmp_path) == []
