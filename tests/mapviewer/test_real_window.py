"""A real window once: the X11 (xcb) platform plugin under Xvfb, as on a desktop, not offscreen.

The test starts its own Xvfb on a free display and stops it. Without Xvfb it is skipped on a
developer's machine and fails in CI (``CI=true``), where resources/apt-packages-test.txt installs it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest
from PySide6.QtGui import QImage

from mapviewer.map.grab import is_blank

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Xvfb and xcb are Linux's")

SIZE = (1366, 768)


@pytest.fixture
def xvfb_display() -> Iterator[str]:
    """``":N"`` of an Xvfb server started for this test on a display number it picks itself."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        message = "Xvfb is not installed (Debian package xvfb, listed in resources/apt-packages-test.txt)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", "1920x1080x24", "-nolisten", "tcp", "-noreset"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd, "rb") as reader:
            number = reader.readline().strip()  # Xvfb writes the display number once it listens
        if not number:
            server.kill()
            pytest.fail(f"Xvfb did not start: {server.communicate(timeout=30)[1].decode(errors='replace')[-500:]}")
        yield f":{number.decode()}"
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if server.stderr is not None:
            server.stderr.close()


def test_the_window_opens_on_a_real_x_display(tmp_path, xvfb_display):
    out = tmp_path / "window.png"
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY",)}
    env.update(DISPLAY=xvfb_display, QT_QPA_PLATFORM="xcb", QTWEBENGINE_DISABLE_SANDBOX="1",
               HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"))
    size = "x".join(map(str, SIZE))
    done = subprocess.run([sys.executable, "-m", "mapviewer", "--screenshot", str(out), "--size", size], check=False,
                          env=env, capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Could not load the Qt platform plugin" not in done.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == SIZE
    assert not is_blank(image)
    # The middle of the window is the map, and it is drawn.
    w, h = SIZE
    assert not is_blank(image.copy(w // 3, h // 4, w // 3, h // 3))
