"""``mapviewer desktop-install``: a menu entry and icon for the person, in the XDG folders."""
from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mapviewer.desktop import APP_ID, data_home, desktop_entry, icon_file

pytestmark = pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="freedesktop.org desktops only")


def _run(args, env):
    return subprocess.run([sys.executable, "-m", "mapviewer", *args], check=False, env=env, capture_output=True,
                          text=True, timeout=120)


def _entry(path: Path) -> dict[str, str]:
    parser = configparser.RawConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def test_one_command_installs_the_menu_entry_and_icon_under_xdg_data_home(tmp_path):
    env = dict(os.environ, HOME=str(tmp_path / "home"), XDG_DATA_HOME=str(tmp_path / "data"))
    done = _run(["desktop-install"], env)
    assert done.returncode == 0, done.stderr
    entry = tmp_path / "data" / "applications" / f"{APP_ID}.desktop"
    icon = tmp_path / "data" / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    assert f"wrote {entry}" in done.stdout and f"wrote {icon}" in done.stdout
    assert icon.read_bytes() == icon_file().read_bytes()
    assert icon.read_text(encoding="utf-8").lstrip().startswith("<?xml") and "<svg" in icon.read_text(encoding="utf-8")
    fields = _entry(entry)
    assert fields["Type"] == "Application" and fields["Name"] == "Strike map viewer"
    assert fields["Icon"] == APP_ID and fields["Terminal"] == "false"
    command = shlex.split(fields["Exec"])
    assert command[-1] == "%F"  # the files chosen in the file manager are opened
    assert os.access(command[0], os.X_OK)  # this installation's own launcher, not whatever is on PATH
    assert not (tmp_path / "home" / ".local").exists()  # XDG_DATA_HOME wins over ~/.local/share
    if shutil.which("desktop-file-validate"):  # desktop-file-utils, where installed
        checked = subprocess.run(["desktop-file-validate", str(entry)], check=False, capture_output=True, text=True,
                                 timeout=60)
        assert checked.returncode == 0, checked.stdout + checked.stderr

    done = _run(["desktop-install", "--remove"], env)
    assert done.returncode == 0, done.stderr
    assert not entry.exists() and not icon.exists()


def test_without_xdg_data_home_it_goes_to_local_share(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "XDG_DATA_HOME"}
    env["HOME"] = str(tmp_path)
    done = _run(["desktop-install"], env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / ".local" / "share" / "applications" / f"{APP_ID}.desktop").is_file()
    # The XDG spec ignores a relative XDG_DATA_HOME.
    assert data_home({"HOME": str(tmp_path), "XDG_DATA_HOME": "relative/dir"}) == tmp_path / ".local" / "share"


def test_a_launcher_path_with_spaces_and_quotes_is_one_exec_argument():
    def exec_value(path: str) -> str:
        text = desktop_entry([path])
        line = next(line for line in text.splitlines() if line.startswith("Exec="))
        return line[len("Exec="):]

    # Desktop-entry string escapes first (\\ -> \), then the Exec quoting rules (as a POSIX shell's).
    value = exec_value('/opt/my apps/"map"\\bin/mapviewer').replace("\\\\", "\\")
    assert shlex.split(value) == ['/opt/my apps/"map"\\bin/mapviewer', "%F"]
    assert exec_value("/opt/a b/$HOME`x`") == '"/opt/a b/\\\\$HOME\\\\`x\\\\`" %F'  # never expanded
    assert exec_value("/opt/mapviewer-100%/mapviewer") == "/opt/mapviewer-100%%/mapviewer %F"


def test_help_says_what_it_does():
    done = subprocess.run([sys.executable, "-m", "mapviewer", "desktop-install", "--help"], check=False,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "application menu" in done.stdout
    top = subprocess.run([sys.executable, "-m", "mapviewer", "--help"], check=False, capture_output=True, text=True,
                         timeout=120)
    assert "desktop-install" in re.sub(r"-\s+", "-", top.stdout)  # help text may wrap at the hyphen
