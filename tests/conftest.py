"""Headless Qt must be set up before any QApplication exists; computed caches stay out of the user's home."""
import atexit
import os
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu --no-sandbox")

if "MAPVIEWER_CACHE_DIR" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="mapviewer-test-cache-")
    os.environ["MAPVIEWER_CACHE_DIR"] = _cache
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)
