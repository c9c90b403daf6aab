"""Desktop map viewer for geolocated strike events (PySide6 + folium)."""
from __future__ import annotations

__version__ = "0.1.0"
