"""The install's dependencies: what the app needs at run time, and what only the tests need."""
from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _modules_of(distribution: str, installed: dict[str, list[str]]) -> set[str]:
    """Top-level import names the installed distribution provides."""
    return {module for module, owners in installed.items()
            if any(_canonical(owner) == _canonical(distribution) for owner in owners)}


def test_every_runtime_dependency_is_used_by_the_package() -> None:
    # imported, or named (resource lookups by package name): a package only tests use goes in the test extra
    source = "\n".join(path.read_text(encoding="utf-8")
                       for folder in ("geodata", "mapviewer") for path in (ROOT / folder).rglob("*.py"))
    installed = importlib.metadata.packages_distributions()
    unused = []
    for requirement in map(Requirement, PROJECT["dependencies"]):
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        modules = _modules_of(requirement.name, installed)
        assert modules, f"{requirement.name} is not installed"
        if not any(re.search(rf"\b(import|from)\s+{re.escape(m)}\b|[\"']{re.escape(m)}[\"'.]", source)
                   for m in modules):
            unused.append(requirement.name)
    assert unused == []


def test_the_tests_read_animations_with_a_package_of_the_test_extra() -> None:
    # tests/mapviewer read the exported GIF and MP4 frames back with imageio; the app writes them through imageio-ffmpeg
    assert "imageio" in {Requirement(r).name for r in PROJECT["optional-dependencies"]["test"]}
