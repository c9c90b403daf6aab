"""``mapviewer desktop-install``: a menu entry and icon on a Linux desktop (freedesktop.org / XDG).

Writes ``strike-mapviewer.desktop`` to ``$XDG_DATA_HOME/applications`` and the icon to
``$XDG_DATA_HOME/icons/hicolor/scalable/apps`` (``$XDG_DATA_HOME`` defaults to ``~/.local/share``),
for the person running it; no root needed. ``--remove`` takes them away again.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

from mapviewer.cli.terminal import fail

APP_ID = "strike-mapviewer"  # the desktop file's and the icon's name (Wayland: the window's app id)

#: File types the entry offers to open (a desktop's "Open with").
MIME_TYPES = ("text/csv", "text/tab-separated-values", "application/geo+json", "application/json",
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
              "application/geopackage+sqlite3", "application/x-shapefile", "application/zip")

#: Characters that make a desktop-entry Exec argument need double quotes (Desktop Entry spec, "Exec key").
_RESERVED = set(' \t\n"\'\\><~|&;$*?#()`')


def icon_file() -> Path:
    """The shipped SVG icon (inside the installed package)."""
    return Path(str(resources.files("resources") / "desktop" / f"{APP_ID}.svg"))


def data_home(env: dict[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME``, or ``~/.local/share`` when it is unset, empty or not absolute (as the XDG spec says)."""
    env = os.environ if env is None else env
    value = env.get("XDG_DATA_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path(env.get("HOME") or Path.home()) / ".local" / "share"


def _exec_argument(word: str) -> str:
    """``word`` as one argument of an Exec line (quoted and escaped when it holds reserved characters)."""
    if not word or _RESERVED & set(word):
        word = '"' + "".join("\\" + c if c in '"`$\\' else c for c in word) + '"'
    # The value is also a desktop-entry string: a backslash is written doubled, '%' as '%%'.
    return word.replace("\\", "\\\\").replace("%", "%%")


def launcher() -> list[str]:
    """The command that starts this installation's app: its ``mapviewer`` script, else this Python with -m."""
    script = Path(sys.executable).with_name("mapviewer.exe" if os.name == "nt" else "mapviewer")
    if script.is_file():
        return [str(script)]
    found = shutil.which("mapviewer")
    return [found] if found else [sys.executable, "-m", "mapviewer"]


def desktop_entry(command: list[str], icon: str = APP_ID) -> str:
    """The text of the desktop file that runs ``command`` with the files chosen (``%F``)."""
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",
        "Name=Strike map viewer",
        "GenericName=Strike event map",
        "Comment=Open missile and drone strike event files on an offline map; filter, summarise and export them",
        "Exec=" + " ".join(map(_exec_argument, command)) + " %F",
        "TryExec=" + command[0].replace("\\", "\\\\"),
        f"Icon={icon}",
        "Terminal=false",
        "Categories=Education;Geography;",
        "Keywords=map;strike;missile;drone;Shahed;ACLED;GeoJSON;",
        "MimeType=" + ";".join(MIME_TYPES) + ";",
        "StartupWMClass=mapviewer",  # X11: the window's class is the application name
    ]
    return "\n".join(lines) + "\n"


def install(home: Path | None = None, command: list[str] | None = None) -> list[Path]:
    """Write the desktop file and the icon under ``home`` (default: :func:`data_home`); the paths written."""
    home = home or data_home()
    entry = home / "applications" / f"{APP_ID}.desktop"
    icon = home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    for path in (entry, icon):
        path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(icon_file(), icon)
    _write_atomic(entry, desktop_entry(command or launcher()))
    _refresh(home)
    return [entry, icon]


def remove(home: Path | None = None) -> list[Path]:
    """Delete what :func:`install` wrote; the paths removed."""
    home = home or data_home()
    removed = []
    for path in (home / "applications" / f"{APP_ID}.desktop",
                 home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"):
        if path.is_file():
            path.unlink()
            removed.append(path)
    _refresh(home)
    return removed


def _write_atomic(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _refresh(home: Path) -> None:
    """Tell the desktop about the change where its tools are installed (they are optional)."""
    for tool, folder in (("update-desktop-database", home / "applications"),
                         ("gtk-update-icon-cache", home / "icons" / "hicolor")):
        if shutil.which(tool) and folder.is_dir():
            args = [tool, "-q", str(folder)] if tool == "update-desktop-database" else [tool, "-q", "-t", str(folder)]
            try:
                subprocess.run(args, check=False, timeout=60, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            except (OSError, subprocess.SubprocessError):
                pass  # the entry works without the caches


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mapviewer desktop-install",
        description="Add the app to the desktop's application menu (Linux: a .desktop entry and its icon in "
                    "~/.local/share, for you only). On Windows and macOS start it with 'mapviewer' from the "
                    "virtual environment instead.")
    parser.add_argument("--remove", action="store_true", help="take the menu entry and icon away again")
    return parser


def run_desktop_install(argv: list[str]) -> int:
    """``mapviewer desktop-install [--remove]``; prints the files written or removed."""
    args = _parser().parse_args(argv)
    if sys.platform in ("win32", "darwin"):
        return fail("desktop-install writes a freedesktop.org menu entry (Linux and other XDG desktops); "
                    "on Windows and macOS start the app with 'mapviewer' from its virtual environment")
    try:
        paths = remove() if args.remove else install()
    except OSError as exc:
        return fail(f"{exc.filename or 'desktop entry'}: {exc.strerror or exc}")
    verb = "removed" if args.remove else "wrote"
    for path in paths:
        print(f"{verb} {path}")
    if not args.remove:
        print("The app is in the application menu as 'Strike map viewer' (log out and in if it does not show yet).")
    return 0
