"""Text from files shown to a person: control and direction characters made visible.

Record text may hold control characters (C0, DEL, C1) and bidirectional
overrides and isolates (U+202A-U+202E, U+2066-U+2069), and U+FEFF. Printed to a terminal they
can drive it (escape sequences rewrite the screen or the window title); shown in
a widget, an override reverses what follows it (``"\\u202eevil"`` reads "live").
:func:`visible_text` shows each of them as an escape (``\\x1b``, ``\\u202e``), so
the text reads in the file's order and the characters are still named. Tab and
newline are kept. The command line and the desktop app use the same function.
"""
from __future__ import annotations

import re

#: Control characters (C0 except tab and newline, DEL, C1), bidirectional embeddings, overrides and
#: isolates, and the zero-width no-break space U+FEFF (invisible; a PDF figure cannot draw it).
HIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible_text(text: str) -> str:
    """``text`` with its control and direction characters shown as ``\\xNN``/``\\uNNNN`` escapes."""
    return HIDDEN.sub(_escape, text)

