"""The data layer runs where Qt is not installed: importing every geodata module loads no Qt."""
from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import geodata


def test_every_geodata_module_imports_without_loading_qt():
    names = sorted(m.name for m in pkgutil.walk_packages(geodata.__path__, "geodata."))
    assert "geodata.readers.delimited" in names and "geodata.filters" in names  # the walk found the tree
    script = (
        "import importlib, json, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6', 'shiboken6'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
