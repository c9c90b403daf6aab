"""Readers: every supported file shape into one canonical frame."""
from __future__ import annotations


def read_incidents(path, **options):  # placeholder until the readers land
    raise NotImplementedError
