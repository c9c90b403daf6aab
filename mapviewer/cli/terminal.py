"""Text for a terminal: record text printed with its control and direction characters escaped."""
from __future__ import annotations

import json
import re
import sys

#: Control characters (C0 except tab and newline, DEL, C1) and bidirectional overrides: record
#: text holding them could drive the terminal (escape sequences that rewrite the screen or the
#: window title) or show its characters in an order other than the file's.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: The same characters as they survive ``json.dumps(ensure_ascii=False)``, which escapes only C0.
_JSON_RAW = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_text(text: str) -> str:
    """``text`` with its control characters shown as ``\\xNN``/``\\uNNNN`` escapes, safe to print."""
    def escaped(match: re.Match) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _CONTROL.sub(escaped, text)


def terminal_json(value) -> str:
    """``value`` as readable JSON (non-ASCII letters kept) with every control character escaped."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False, indent=2))


def fail(message: str, prefix: str = "mapviewer") -> int:
    """Print one error line (control characters escaped: messages may quote cells); exit status 2."""
    print(terminal_text(f"{prefix}: error: {message}"), file=sys.stderr)
    return 2
