"""Headless Qt must be set up before any QApplication exists."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu --no-sandbox")

# pytest puts tests/ on sys.path, where tests/geodata and tests/mapviewer would shadow the
# editable-installed packages as empty namespace packages; the checkout comes first.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
