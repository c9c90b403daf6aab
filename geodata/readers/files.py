"""Opening a user's file: the regular-file check every reader makes before reading a byte."""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from geodata.errors import DataError

#: How much of a file format detection and the text readers look at first.
HEAD_BYTES = 1 << 20


def check_file(path: str | Path) -> Path:
    """The path as a Path when it names a regular, non-empty file; DataError otherwise.

    Each kind of thing that is not a file gets its own one-line message: a folder, a named
    pipe (reading one could wait forever), a device such as /dev/zero (endless), a socket, a
    symbolic link loop. "file not found" is said only when nothing is there.
    """
    p = Path(path)
    try:
        info = os.stat(p)  # follows symbolic links: the kind of what they point to counts
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            if os.path.islink(p):
                raise DataError(f"{p}: is a symbolic link to a file that does not exist") from None
            raise DataError(f"{p}: file not found") from None
        if exc.errno == errno.ELOOP:
            raise DataError(f"{p}: is a symbolic link loop (the link leads back to itself), not a file") from None
        raise DataError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        raise DataError(f"{p}: is a folder, not a file")
    if stat.S_ISFIFO(mode):
        raise DataError(f"{p}: is a named pipe (FIFO), not a regular file: not read (reading it could wait forever)")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        raise DataError(f"{p}: is a device, not a regular file: not read")
    if stat.S_ISSOCK(mode):
        raise DataError(f"{p}: is a socket, not a regular file: not read")
    if not stat.S_ISREG(mode):
        raise DataError(f"{p}: is not a regular file: not read")
    if info.st_size == 0:
        raise DataError(f"{p}: file is empty")
    return p


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of a checked file (DataError when it cannot be opened)."""
    try:
        with open(path, "rb") as f:
            return f.read(size)
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None


__all__ = ["HEAD_BYTES", "check_file", "read_head"]
