"""Text from audited files is data, never markup or terminal control.

File names and contents may carry ANSI escape sequences (which could rewrite the terminal) or
bidirectional overrides (which could make a finding read differently from what it is); every
formatter passes such text through ``printable`` first and then applies its own escaping
(rich ``Text`` objects never parse markup; HTML, XML and JSON escape themselves).
"""
from __future__ import annotations

import re

# C0 controls but tab, DEL, C1 controls, the Unicode bidi overrides, isolates and marks, and the
# Unicode line/paragraph separators (editors, log viewers and str.splitlines() break lines there,
# so a file name could start a fake line of the report).
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f"
                     "\u061c\u2028\u2029]")


def printable(text: str) -> str:
    """``text`` with control characters shown as ``\\x1b``-style escapes."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text)
