"""Data sources named by a database URI rather than a file path (no database code loaded here)."""
from __future__ import annotations

import os

#: The libpq URI schemes a team database is named by.
URI_SCHEMES = ("postgresql://", "postgres://")


def is_uri(source: object) -> bool:
    """True for a ``postgresql://`` or ``postgres://`` URI (any letter case), False for a file path."""
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    return isinstance(source, str) and source.strip().lower().startswith(URI_SCHEMES)
