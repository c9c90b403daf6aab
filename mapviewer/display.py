"""Before Qt starts: is there a display to open a window on, and can Qt's X11 plugin load?

Qt aborts the whole process (a core dump and a page of advice) when it has no display or its
``xcb`` platform plugin misses a system library. These checks are cheap and run first, so the
person gets one line saying what is wrong and what to do. They only apply on Linux.
"""
from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping

#: Libraries the xcb platform plugin of the PySide6 wheels links (soname -> Debian package).
XCB_LIBRARIES: dict[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}

SCREENSHOT_HINT = "mapviewer [FILE ...] --screenshot OUT.png saves a picture of the map with no display"


def _loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def missing_xcb_libraries(loads: Callable[[str], bool] = _loads) -> list[str]:
    """Sonames of :data:`XCB_LIBRARIES` that the dynamic loader cannot find (``loads`` tries one)."""
    return [soname for soname in XCB_LIBRARIES if not loads(soname)]


def _uses_xcb(env: Mapping[str, str]) -> bool:
    """True when Qt will pick its X11 (xcb) plugin: asked for, or an X display without Wayland."""
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.split(":")[0] == "xcb"
    return bool(env.get("DISPLAY")) and not env.get("WAYLAND_DISPLAY")


def display_problem(env: Mapping[str, str] | None = None, system: str | None = None,
                    loads: Callable[[str], bool] = _loads) -> str | None:
    """One line saying why no window can open here and what to do, or None when it can.

    Linux only: with no ``DISPLAY``, ``WAYLAND_DISPLAY`` or ``QT_QPA_PLATFORM`` there is no
    screen; with the xcb plugin chosen, its system libraries must be installed.
    """
    env = os.environ if env is None else env
    system = sys.platform if system is None else system
    if not system.startswith("linux"):
        return None  # Windows and macOS always have their own platform plugin and a screen
    platform = env.get("QT_QPA_PLATFORM", "").split(":")[0]
    if not platform and not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return ("no display to open the window on (DISPLAY and WAYLAND_DISPLAY are not set): start it from a "
                f"desktop session or over ssh -X; or {SCREENSHOT_HINT}")
    if platform == "xcb" and not env.get("DISPLAY"):
        return f"QT_QPA_PLATFORM=xcb but DISPLAY is not set: no X display to open the window on; {SCREENSHOT_HINT}"
    if _uses_xcb(env):
        missing = missing_xcb_libraries(loads)
        if missing:
            packages = " ".join(dict.fromkeys(XCB_LIBRARIES[s] for s in missing))
            return (f"the window needs system libraries that are missing ({', '.join(missing)}): install them "
                    f"with 'sudo apt-get install {packages}' (the full list is resources/apt-packages.txt); "
                    f"or {SCREENSHOT_HINT}")
    return None
