"""File menu entries for exports and saved views (filled in by the exports work)."""
from __future__ import annotations


def install_export_menu(window) -> None:
    """Add export and saved-view actions to ``window``'s File menu."""
