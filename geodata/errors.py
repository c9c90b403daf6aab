"""The one exception a user can cause in the data layer."""
from __future__ import annotations


class DataError(Exception):
    """A file or option the data layer cannot work with.

    The message is meant for a person: it names the file and says why, on one line.
    """
