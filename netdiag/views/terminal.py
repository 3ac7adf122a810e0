"""Text for a terminal: data never becomes an escape sequence (standard library only).

An OMC alarm's detail, a site name or a complaint's description can hold ESC sequences that
would move the cursor, rewrite what the handler sees, change the window title or hide text,
and bidirectional overrides that reorder it. Every text netdiag prints goes through
:func:`terminal_safe`: control characters (except newline and tab) and the invisible
direction overrides become visible ``\\u001b``-style escapes.
"""
from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u206f\ufeff]")


def terminal_safe(text: str) -> str:
    r"""``text`` with every control character except ``\n`` and ``\t`` written as a visible escape.

    The escapes are JSON's (``\u001b``), so JSON text stays valid JSON with the same meaning.

    Examples
    --------
    >>> terminal_safe("cut\x1b[2J\x1b]0;owned\x07 fibre\u202egnp.exe")
    'cut\\u001b[2J\\u001b]0;owned\\u0007 fibre\\u202egnp.exe'
    >>> terminal_safe("line 1\nline 2\tok")
    'line 1\nline 2\tok'
    """
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", str(text))
