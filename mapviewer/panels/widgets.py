"""Small widget helpers the panels share."""
from __future__ import annotations

from PySide6.QtGui import QColor, QIcon, QPixmap


def swatch(colour: str, size: int = 12) -> QIcon:
    """A filled square icon in ``colour`` (outcome swatches in lists and the table)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)
