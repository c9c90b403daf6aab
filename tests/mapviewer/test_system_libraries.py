"""The system libraries a real window needs are installed (resources/apt-packages.txt covers them).

``ldd`` lists every library the X11 platform plugin, the xcb GL integrations, QtWebEngine and
its helper process load, and says "not found" for those missing: a machine set up with
README's first command must have none. Linux only.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mapviewer.display import XCB_LIBRARIES, display_problem, missing_xcb_libraries

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ldd and the xcb plugin are Linux's")

RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def _qt_dir() -> Path:
    import PySide6

    return Path(PySide6.__file__).parent / "Qt"


def _binaries() -> list[Path]:
    qt = _qt_dir()
    files = [qt / "plugins" / "platforms" / "libqxcb.so", qt / "libexec" / "QtWebEngineProcess"]
    files += sorted((qt / "lib").glob("libQt6WebEngineCore.so*"))
    files += sorted((qt / "plugins" / "xcbglintegrations").glob("*.so"))
    return [f for f in files if f.is_file() and not f.is_symlink()]


def _not_found(path: Path) -> list[str]:
    done = subprocess.run(["ldd", str(path)], check=False, capture_output=True, text=True, timeout=60)
    return re.findall(r"^\s*(\S+) => not found", done.stdout, flags=re.MULTILINE)


def test_every_library_the_window_and_the_map_load_is_installed():
    if shutil.which("ldd") is None:
        pytest.skip("no ldd on this machine")
    binaries = _binaries()
    names = {b.name for b in binaries}
    assert {"libqxcb.so", "QtWebEngineProcess"} <= names and any(n.startswith("libQt6WebEngineCore") for n in names)
    missing = {str(b.relative_to(_qt_dir())): sorted(set(_not_found(b))) for b in binaries}
    missing = {k: v for k, v in missing.items() if v}
    assert not missing, ("system libraries not found (add their Debian packages to resources/apt-packages.txt): "
                         + "; ".join(f"{k}: {', '.join(v)}" for k, v in missing.items()))


def test_the_package_list_names_every_xcb_library_package():
    listed = set((RESOURCES / "apt-packages.txt").read_text(encoding="utf-8").split())
    assert set(XCB_LIBRARIES.values()) <= listed, set(XCB_LIBRARIES.values()) - listed
    assert "xvfb" in (RESOURCES / "apt-packages-test.txt").read_text(encoding="utf-8").split()


def test_the_start_up_check_finds_the_xcb_libraries_installed_here():
    assert missing_xcb_libraries() == []
    assert display_problem({"DISPLAY": ":0"}, "linux") is None


def test_no_display_is_one_line_saying_what_to_do():
    message = display_problem({}, "linux")
    assert "no display" in message and "--screenshot" in message and "\n" not in message
    assert "DISPLAY is not set" in display_problem({"QT_QPA_PLATFORM": "xcb"}, "linux")
    # Given platforms, Wayland sessions and other systems are left to Qt.
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert display_problem({}, "win32") is None
    assert display_problem({}, "darwin") is None


def test_a_missing_xcb_library_names_its_package():
    absent = {"libxcb-cursor.so.0", "libxcb-icccm.so.4"}
    message = display_problem({"DISPLAY": ":0"}, "linux", loads=lambda soname: soname not in absent)
    assert "libxcb-cursor.so.0" in message and "apt-get install libxcb-cursor0 libxcb-icccm4" in message
    assert "resources/apt-packages.txt" in message and "--screenshot" in message
    # Under Wayland the xcb plugin is not used: its libraries do not matter.
    assert display_problem({"DISPLAY": ":0", "WAYLAND_DISPLAY": "w"}, "linux", loads=lambda s: False) is None


def test_mapviewer_with_no_display_prints_one_line_instead_of_aborting(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"))
    done = subprocess.run([sys.executable, "-m", "mapviewer"], check=False, env=env, capture_output=True,
                          text=True, timeout=120, cwd=str(tmp_path))
    assert done.returncode != 0
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("mapviewer: error: no display") and "--screenshot" in line
