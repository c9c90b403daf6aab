"""Desktop map viewer for geolocated strike events (PySide6 + folium)."""
from __future__ import annotations

from geodata.memory import use_system_allocator

__version__ = "0.1.0"

use_system_allocator()  # the app's process: a large file read leaves less memory behind
