"""crossplane's parser, fed by a lexer that reads the whole file with a few regular expressions.

crossplane (0.5.x) lexes in pure Python through three generator layers per character
(``_iterescape``, ``_iterlinecount`` and ``fix_pep_479``'s wrapper): about 90% of its parse time.
``lex`` yields EXACTLY what ``crossplane.lexer.lex`` yields, ``(token, line, quoted)`` tuples
and the same ``NgxParserSyntaxError`` (same message, file and line, raised at the same point of
the stream); crossplane's own parser still builds every statement. It follows crossplane's
quirks, not nginx's grammar (tests/parsers/test_nginx_lexer.py compares both lexers on generated
text, on every nginx file of the repository and the corpora, and compares whole payloads):

- the text is read as crossplane reads it: UTF-8 with ``errors="replace"``, universal newlines
  (``\\r\\n`` and a lone ``\\r`` are ``\\n``);
- a *unit* is one character, or a backslash and the character after it (``_iterescape``); a lone
  backslash at the end of the file ends the stream;
- a unit's line counts every unit ending in ``\\n`` up to and including it, so an escaped newline
  that starts a word puts the word on the next line;
- whitespace is ``str.isspace`` (the regex ``\\s`` of a ``str`` pattern is the same predicate);
- ``#`` starts a comment only between tokens (``a#b`` is one word; ``"a"#b`` and ``;#b`` are
  comments); a comment ends at the first unit ending in ``\\n`` (an escaped newline too), which
  it swallows;
- quotes start a quoted token only between tokens (``a"b"`` is one word); inside, only the same
  quote escaped (``\\"`` in ``"..."``) loses its backslash; ``""`` is an empty quoted token;
- ``{`` ``}`` ``;`` end a word and are tokens of their own, except ``{`` right after a word
  ending in ``$`` (``${var}``, also after ``\\$``): then units are taken up to one ending in
  ``}`` or up to a whitespace character, and the unit after that is taken into the word whatever
  it is, whitespace and ``#`` included, unless it is ``{`` ``}`` or ``;`` (``${a} b;`` is one
  word ``${a} b``);
- at the end of the file (or a lone final backslash) a word, quoted string or comment that is not
  finished is dropped without an error (crossplane's ``fix_pep_479`` swallows the
  ``StopIteration``), then braces are balanced: ``unexpected "}"`` at the first ``}`` too many,
  ``unexpected end of file, expecting "}"`` at the line of the last token.

Every pattern is linear: each alternative starts with a different character and every repetition
is possessive, so no input makes one match backtrack; the Python loop does a bounded amount of
work per token, so the parse time budget (SIGPROF between bytecodes) still interrupts it.

External lexers: crossplane registers one at import (its lua extension, for the
``*_by_lua_block`` directives) and a program may register more
(``crossplane.lexer.register_external_lexer``). crossplane hands the character stream to one
after a directive of its name, in the middle of a file. Up to that token crossplane lexes as if
none were registered, so a file none of whose tokens is spelled like a registered directive (in
any position: a superset of where crossplane looks) is lexed here, and any other file by
``crossplane.lexer.lex`` itself, whole; the registry is read for each file. So is a file nested
so deep that crossplane's parser (one frame per block, its lexer's generators on top) would reach
the recursion limit: there a RecursionError's depth and message depend on the lexer's frames.
crossplane is pinned below 0.6 (pyproject.toml); the differential tests fail if another version
lexes otherwise.

Why ``parse`` runs crossplane's own ``parse`` with its own globals, ``lex`` being ours, instead of
assigning ``crossplane.parser.lex``: nothing of crossplane is changed, so any other caller of
crossplane in the same process (``auditor.api`` is a library; the host program may parse nginx
itself, in any thread) sees crossplane exactly as installed, with no window where a swap is in
place and no swap to undo; the copy is made per call from the module's current globals, so it is
as thread-safe as crossplane itself. crossplane's own ``parse`` runs instead when
``crossplane.parser.lex`` or ``crossplane.parse`` is not crossplane's own (someone patched it) and
when ``parse`` stops naming ``lex`` (another crossplane version).
"""
from __future__ import annotations

import re
import sys
import types
from collections.abc import Iterator
from operator import itemgetter
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import Any

Token = tuple[str, int, bool]

# Between tokens: whitespace (skipped), then one token. A comment (group 1) is `#` and the units
# not ending in a newline, then the unit that does (`\n` or `\` + `\n`), left out of the token.
# A quoted string (2, 3) runs to the first unescaped quote of its kind. A word (5) starts with any
# unit but whitespace, `#`, a quote or `{};` (4), and goes on with any unit but whitespace and
# `{};`. No match means the stream ends there (only whitespace left, an unfinished comment or
# string, a lone final backslash).
_BETWEEN = re.compile(
    r"""\s*+(?:"""
    r"""(#[^\\\n]*+(?:\\[^\n][^\\\n]*+)*+)\\?\n"""
    r"""|"([^\\"]*+(?:\\[\s\S][^\\"]*+)*+)\""""
    r"""|'([^\\']*+(?:\\[\s\S][^\\']*+)*+)'"""
    r"""|([{};])"""
    r"""|((?:[^\s#"'{};\\]|\\[\s\S])[^\s{};\\]*+(?:\\[\s\S][^\s{};\\]*+)*+))"""
)
# The rest of a word: any unit but whitespace and `{};`.
_WORD_REST = re.compile(r"[^\s{};\\]*+(?:\\[\s\S][^\s{};\\]*+)*+")
# `${...`: `{`, units neither ending in `}` nor whitespace, then a unit ending in `}` or a
# whitespace character (which the word keeps).
_EXPANSION = re.compile(r"\{[^\\}\s]*+(?:\\[^}][^\\}\s]*+)*+(?:\\?\}|\s)")
_SPECIAL = frozenset("{};")
_TEXT = itemgetter(0)
# crossplane's parser recurses once per nested block; its lexer adds about ten frames (generators
# and C calls) on top of the deepest, ours one. Near the recursion limit the two would fail at
# different depths or with another RecursionError message ("... while calling a Python object"),
# so a file nested that deep is lexed by crossplane itself.
_STACK_MARGIN = 64


def tokenize(text: str) -> tuple[list[Token], int, int]:
    """The tokens crossplane's ``_lex_file_object`` yields for ``text`` (already decoded, with
    universal newlines), the depth of braces after the last one and the deepest. When a ``}``
    closes more braces than were opened, the tokens stop there, that ``}`` last, and the depth is
    -1: crossplane's ``_balance_braces`` raises its error before it (and reads nothing after)."""
    depths = [0, 0]
    found = [token for batch in _batches(text, depths) for token in batch]
    return found, depths[0], depths[1]


# Tokens are handed over in lists of this many: a file is never held as tokens whole (a 5 MiB file
# of one-letter words would be 2.5 M tuples), and a list costs less than a token at a time.
_BATCH = 4096


def _batches(text: str, depths: list[int]) -> Iterator[list[Token]]:
    """``tokenize``'s tokens in lists of at most ``_BATCH``; ``depths`` is set to the depth and the
    deepest when the last list is handed over."""
    out: list[Token] = []
    depth = deepest = 0
    append = out.append
    between = _BETWEEN.match
    count = text.count
    end = len(text)
    pos = 0
    line = 1  # the line of `pos` counting the newlines before it (`counted` is where it stopped)
    counted = 0
    while True:
        if len(out) >= _BATCH:
            yield out
            out = []
            append = out.append
        match = between(text, pos)
        if match is None:
            break  # only whitespace left, an unfinished comment or string, a lone backslash
        kind: int = match.lastindex  # type: ignore[assignment]  # one group always matches
        start = match.start(kind)
        pos = match.end()
        line += count("\n", counted, start)
        counted = start
        if kind == 5:
            word = match.group(5)
            # an escaped newline that starts a word is counted on the word's own line
            word_line = line + 1 if word[0] == "\\" and word[1] == "\n" else line
            if pos >= end:
                break  # the end of the stream drops an unfinished word
            if text[pos] == "{" and word[-1] == "$":
                expanded = _expanded(text, pos, word)
                if expanded is None:
                    break
                word, pos = expanded
            elif pos + 1 == end and text[pos] == "\\":
                break
            append((word, word_line, False))
        elif kind == 4:
            special = match.group(4)
            append((special, line, False))
            if special == "{":
                depth += 1
                if depth > deepest:
                    deepest = depth
            elif special == "}":
                depth -= 1
                if depth < 0:
                    break
        elif kind == 1:
            append((match.group(1), line, False))
        else:
            body = match.group(kind)
            if "\\" in body:
                body = body.replace('\\"', '"') if kind == 2 else body.replace("\\'", "'")
            append((body, line, True))
    depths[0], depths[1] = depth, deepest
    yield out


def _expanded(text: str, pos: int, word: str) -> tuple[str, int] | None:
    """The word ``word`` (ending in ``$``) goes on at ``pos`` (a ``{``): ``(the whole word, where
    it ends)``, or ``None`` if the stream ends inside it. Parts are joined once: a line of
    ``${a}${a}...`` costs linear time."""
    parts = [word]
    end = len(text)
    while True:  # at `pos`: a `{` after a word ending in `$`
        found = _EXPANSION.match(text, pos)
        if found is None:
            return None
        parts.append(found.group())
        pos = found.end()
        if text[pos - 1] == "}":
            # the unit after `}` goes through crossplane's checks without the whitespace one
            if pos >= end or (pos + 1 == end and text[pos] == "\\"):
                return None
            if text[pos] in _SPECIAL:
                return "".join(parts), pos
            width = 2 if text[pos] == "\\" else 1
            parts.append(text[pos:pos + width])
            pos += width
        rest = _WORD_REST.match(text, pos)
        if rest is not None and rest.end() > pos:  # it always matches, maybe the empty string
            parts.append(rest.group())
            pos = rest.end()
        if pos >= end or (pos + 1 == end and text[pos] == "\\"):
            return None
        if text[pos] != "{" or parts[-1][-1] != "$":
            return "".join(parts), pos


def lex(filename: str) -> Iterator[Token]:
    """``crossplane.lexer.lex``: the file's tokens, braces balanced as crossplane balances them
    (the error is raised when the stream reaches it, as crossplane's generator does). A file with
    a token spelled like a directive of a registered external lexer is lexed by crossplane.

    A function returning the stream rather than a generator: crossplane's own lexer, where it
    lexes, then runs with no frame of ours beneath it, so it meets the recursion limit exactly
    where it would alone; and like crossplane's, it raises nothing itself (crossplane's ``parse``
    calls it outside its ``try``): a file that cannot be read raises when the stream is read."""
    import crossplane.lexer

    try:
        with open(filename, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except Exception as error:  # noqa: BLE001 - raised where crossplane's generator raises it
        return _raising(error)
    external = crossplane.lexer.EXTERNAL_LEXERS
    # (+ 1: this frame is one below where the stream is read, by crossplane's parse)
    room = sys.getrecursionlimit() - _stack_depth() - 1 - _STACK_MARGIN
    # Most files are streamed: none of their text is spelled like a registered directive, and they
    # hold too few braces to nest near the limit. The others are lexed whole first, to decide.
    if (external and any(name in text for name in external)) or text.count("{") >= room:
        found, depth, deepest = tokenize(text)
        if (external and not external.keys().isdisjoint(map(_TEXT, found))) or deepest >= room:
            theirs: Iterator[Token] = crossplane.lexer.lex(filename)
            return theirs
        return _balanced(iter((found,)), [depth, deepest], filename)
    depths = [0, 0]
    return _balanced(_batches(text, depths), depths, filename)


def _balanced(batches: Iterator[list[Token]], depths: list[int], filename: str) -> Iterator[Token]:
    """The tokens, with crossplane's brace errors where its ``_balance_braces`` raises them
    (``depths``: the depth and deepest, set when the last batch comes)."""
    from crossplane.errors import NgxParserSyntaxError

    last = None
    for batch in batches:
        if depths[0] < 0:  # the last batch, ending with a `}` too many
            yield from batch[:-1]
            raise NgxParserSyntaxError('unexpected "}"', filename, batch[-1][1])
        yield from batch
        if batch:
            last = batch[-1]
    if depths[0] > 0 and last is not None:
        raise NgxParserSyntaxError('unexpected end of file, expecting "}"', filename, last[1])


def _raising(error: Exception) -> Iterator[Token]:
    raise error
    yield  # (a generator: the error comes when the stream is read)


def _stack_depth() -> int:
    """How many frames are below the caller's (the generator's body runs on top of the frame
    that called ``next``)."""
    frame = sys._getframe(1)
    depth = 0
    while frame is not None:
        depth += 1
        frame = frame.f_back  # type: ignore[assignment]  # None at the bottom
    return depth


def parser() -> Any:
    """The function to call as ``crossplane.parse``: crossplane's own ``parse`` with ``lex`` for
    its lexer when that is safe (see the module's docstring), else ``crossplane.parse`` itself.
    Called rather than wrapped, so that the parse runs as deep in the stack as crossplane's would."""
    import crossplane
    import crossplane.lexer
    import crossplane.parser

    original = crossplane.parser.parse
    if (crossplane.parser.lex is not crossplane.lexer.lex
            or crossplane.parse is not original or "lex" not in original.__code__.co_names):
        return crossplane.parse
    namespace = dict(original.__globals__)
    namespace["lex"] = lex
    ours = types.FunctionType(original.__code__, namespace, original.__name__,
                              original.__defaults__, original.__closure__)
    ours.__kwdefaults__ = original.__kwdefaults__
    return ours


def parse(filename: str, **options: Any) -> Any:
    """``crossplane.parse(filename, **options)`` through ``parser()`` (one frame deeper)."""
    return parser()(filename, **options)
