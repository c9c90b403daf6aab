"""Data and assets shipped with the viewer, found with ``importlib.resources``."""
