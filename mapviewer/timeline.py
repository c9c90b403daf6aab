"""Timeline panel under the map (filled in by the timeline work)."""
from __future__ import annotations

from PySide6.QtWidgets import QWidget


class TimelinePanel(QWidget):
    def __init__(self, state, parent=None) -> None:
        super().__init__(parent)
        self.state = state
