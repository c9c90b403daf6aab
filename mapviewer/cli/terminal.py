"""Text for a terminal: record text printed with its control and direction characters escaped."""
from __future__ import annotations

import json
import re
import sys

from geodata.text import visible_text

#: The same characters as they survive ``json.dumps(ensure_ascii=False)``, which escapes only C0.
_JSON_RAW = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")


def terminal_text(text: str) -> str:
    """``text`` with its control characters shown as ``\\xNN``/``\\uNNNN`` escapes, safe to print."""
    return visible_text(text)


def terminal_json(value) -> str:
    """``value`` as readable JSON (non-ASCII letters kept) with every control character escaped."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False, indent=2))


def fail(message: str, prefix: str = "mapviewer") -> int:
    """Print one error line (control characters escaped: messages may quote cells); exit status 2."""
    print(terminal_text(f"{prefix}: error: {message}"), file=sys.stderr)
    return 2
