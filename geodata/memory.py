"""Keep a large frame small in memory, and give memory freed after a large read back to the system.

Text that repeats (25 oblasts, a few dozen munitions and sources over a million rows) costs its
characters on every row; :func:`repeated_text_as_categories` keeps each distinct value once.
Reading a million-row file leaves a few hundred megabytes of freed buffers in Arrow's memory pool
and in the C library's heap, which keep them for reuse: the process stays that much bigger for as
long as it runs. :func:`release_unused` hands them back (a no-op where the C library has no
``malloc_trim``).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

import pandas as pd


def use_system_allocator() -> None:
    """Let Arrow allocate with the C library's ``malloc`` (unless ``ARROW_DEFAULT_MEMORY_POOL`` says
    otherwise): measured on a million-row CSV, the bundled mimalloc kept about 35 MB more after the
    read, which took as long either way (0.8-1.3 s)."""
    import pyarrow as pa

    if not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        pa.set_memory_pool(pa.system_memory_pool())


def repeated_text_as_categories(frame: pd.DataFrame, *, at_most: float = 0.5) -> pd.DataFrame:
    """``frame`` with each text column whose distinct values number at most ``at_most`` of its rows
    held as a category (same values; a million rows naming 25 oblasts: 1 MB of codes instead of
    22 MB of text). Event ids are left as they are (one per row)."""
    columns = {}
    for name in frame.columns:
        column = frame[name]
        if name != "event_id" and isinstance(column.dtype, pd.StringDtype) and len(column):
            codes, uniques = pd.factorize(column.array, use_na_sentinel=True)
            if 0 < len(uniques) <= at_most * len(column):
                columns[name] = pd.Categorical.from_codes(codes, categories=pd.Index(uniques))
    if not columns:
        return frame
    out = frame.copy(deep=False)
    for name, values in columns.items():
        out[name] = values
    return out


def release_unused() -> None:
    """Return the memory Arrow's pool and the C heap hold unused to the operating system."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim") if name else None
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl)
        return None
