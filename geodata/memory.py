"""Give memory freed after a large read back to the system.

Reading a million-row file leaves a few hundred megabytes of freed buffers in Arrow's memory pool
and in the C library's heap, which keep them for reuse: the process stays that much bigger for as
long as it runs. :func:`release_unused` hands them back (a no-op where the C library has no
``malloc_trim``).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools


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
