"""Text from the audited tree is data: every byte of every name survives every output format,
and nothing in it can rewrite a terminal or make a report read differently from what it is.

Two functions, one per kind of output:

``display(text)``
    For what a person reads (the terminal, JUnit, GitHub annotations, Markdown, HTML, SARIF
    messages, ``auditor model``). A byte of a file name that is not UTF-8 (Python hands it over as
    a surrogate escape, U+DC80-U+DCFF) is shown as ``\\xff``; C0 and C1 controls (tab excepted),
    DEL, bidirectional overrides and isolates, zero-width and other invisible characters (every
    Unicode ``Default_Ignorable_Code_Point`` and format character: U+200B, U+2060, U+FEFF, the tag
    characters U+E0000-U+E007F, variation selectors, ...), the line and paragraph separators and
    the noncharacters U+FFFE/U+FFFF are shown as ``\\x85``, ``\\u202e`` or ``\\U000e0041``.

``json_escape(document)``
    For JSON (``--format json``, ``auditor model --format json``, the baseline file), where a
    machine wants the real name back: the same characters are written as JSON ``\\uXXXX`` escapes,
    so the document holds no raw control, bidi or invisible character and the decoded string is
    the real one. A byte that is not UTF-8 has no JSON form; it is written as the text ``\\xff``
    (as ``display`` shows it), so the document is always valid UTF-8.

A literal backslash is left as it is (Dockerfile continuations and regular expressions are full
of them), so ``\\xff`` in a report can also be a file really named with those four characters.
"""
from __future__ import annotations

from auditor.patterns import on_first_use

# Kept as explicit ranges (computing them from unicodedata at import would cost a pre-commit hook
# a tenth of a second); tests/adversarial/test_names.py checks them against the running Python's
# Unicode database: every Cc, Cf, Zl, Zp and Cs character is in here.
_C0 = "\x00-\x08\x0a-\x1f"  # C0 but tab
_UNSAFE_CLASS = (
    "\x7f-\x9f"  # DEL, C1
    "\xad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"  # soft hyphen, invisible marks and fillers
    "\u0600-\u0605\u06dd\u070f\u0890\u0891\u08e2"  # Arabic and Syriac format characters
    "\u200b-\u200f"  # zero-width space, non-joiner, joiner, LRM, RLM
    "\u2028-\u202e"  # line/paragraph separators, bidi embeddings and overrides
    "\u2060-\u206f"  # word joiner, invisible operators, bidi isolates, deprecated formats
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\ufffe\uffff"  # filler, variation selectors, BOM, annotations
    "\ud800-\udfff"  # lone surrogates (undecodable bytes of a file name among them)
    "\U000110bd\U000110cd\U00013430-\U0001345f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff"  # tag characters, variation selectors supplement, reserved ignorables
)
# Compiled on first use: a text that is printable ASCII never needs them, and their ranges cost a
# millisecond to compile, which a one-project scan would pay for nothing.
UNSAFE = on_first_use(f"[{_C0}{_UNSAFE_CLASS}]")
# json.dumps already escapes C0 inside strings; outside them a newline is the document's layout.
_JSON_UNSAFE = on_first_use(f"[{_UNSAFE_CLASS}]")


def _shown(char: str) -> str:
    point = ord(char)
    if 0xDC80 <= point <= 0xDCFF:  # surrogateescape: the byte the file name really holds
        return f"\\x{point - 0xDC00:02x}"
    if point < 0x100:
        return f"\\x{point:02x}"
    if point <= 0xFFFF:
        return f"\\u{point:04x}"
    return f"\\U{point:08x}"


def display(text: str) -> str:
    """``text`` as a person may safely read it: unsafe characters shown as escapes."""
    if text.isascii() and text.isprintable():
        return text  # the common case, without a regular expression
    return UNSAFE.sub(lambda match: _shown(match.group()), text)


def display_path(path: object) -> str:
    """A path (``str`` or ``os.PathLike``) for display."""
    return display(str(path))


def _json_form(char: str) -> str:
    point = ord(char)
    if 0xD800 <= point <= 0xDFFF:  # no JSON form: the text a person would read, backslash escaped
        return "\\" + _shown(char)
    if point <= 0xFFFF:
        return f"\\u{point:04x}"
    point -= 0x10000
    return f"\\u{0xD800 + (point >> 10):04x}\\u{0xDC00 + (point & 0x3FF):04x}"


def json_escape(document: str) -> str:
    """A JSON text (``json.dumps(..., ensure_ascii=False)``) with every unsafe character escaped.

    Only string contents can hold such characters (JSON's own syntax is ASCII), and json already
    escaped C0 controls, so each replacement lands inside a string."""
    if document.isascii() and "\x7f" not in document:
        return document  # the common case: DEL is the only ASCII character of the class
    return _JSON_UNSAFE.sub(lambda match: _json_form(match.group()), document)


__all__ = ["UNSAFE", "display", "display_path", "json_escape"]
