"""Text from users' files and requests, made safe to print: no control characters reach the terminal raw."""

from __future__ import annotations

import unicodedata

# Bidirectional overrides reorder what the terminal shows, as control characters can rewrite it.
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: object, keep_newlines: bool = False) -> str:
    """``text`` with control characters escaped (``\\x1b``), so a label or session id can't drive the terminal."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if (keep_newlines and c == "\n") or not (unicodedata.category(c) == "Cc" or c in BIDI)
                   else c.encode("unicode_escape").decode("ascii") for c in text)
