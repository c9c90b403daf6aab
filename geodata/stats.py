"""Statistics for a (filtered) frame."""
from __future__ import annotations


def summarize(frame):  # placeholder until the stats module lands
    raise NotImplementedError
