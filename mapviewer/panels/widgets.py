"""Small widget helpers the panels share."""
from __future__ import annotations

import html

from PySide6.QtGui import QColor, QIcon, QPixmap

from geodata.text import visible_text


def swatch(colour: str, size: int = 12) -> QIcon:
    """A filled square icon in ``colour`` (outcome swatches in lists and the table)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


def plain_tooltip(text: str) -> str | None:
    """A tooltip that shows ``text`` as it is (control and direction characters escaped).

    Qt guesses rich text from a tooltip's content, so data text is escaped and wrapped in HTML.
    """
    return f"<p style='white-space:pre-wrap'>{html.escape(visible_text(text))}</p>" if text else None
