"""auditor.parsers.nginx_lexer against crossplane's own lexer: the same tokens, the same syntax
errors at the same point of the stream, the same ``crossplane.parse`` payloads; external lexers,
other callers of crossplane, templates, embedded texts and the time budget."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import crossplane
import crossplane.lexer
import crossplane.parser
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from auditor.parsers import nginx_lexer

REPO = Path(__file__).resolve().parents[2]
# what auditor.parsers.nginx passes, and crossplane's defaults (the analyzer on) without includes
OPTION_SETS: list[dict[str, Any]] = [
    dict(single=True, comments=True, catch_errors=True, check_ctx=False, check_args=False),
    dict(single=True),
]


def _outcome(lex: Callable[[str], Iterator[tuple[str, int, bool]]], path: str) -> list[Any]:
    """Every token, then the error that ended the stream (class, message, line): crossplane's
    syntax errors, and whatever an external lexer raises (the lua extension's own error)."""
    seen: list[Any] = []
    try:
        for token in lex(path):
            seen.append(token)
    except Exception as error:  # noqa: BLE001 - compared, not swallowed
        seen.append((type(error).__name__, str(error), getattr(error, "lineno", None)))
    return seen


def _write(data: bytes) -> str:
    handle, path = tempfile.mkstemp(prefix="auditor-lexer-test-", suffix=".conf")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    return path


def _assert_same(path: str) -> list[Any]:
    theirs = _outcome(crossplane.lexer.lex, path)
    assert _outcome(nginx_lexer.lex, path) == theirs
    for options in OPTION_SETS:
        assert nginx_lexer.parse(path, **options) == crossplane.parse(path, **options)
    return theirs


# Pieces that reach every branch of crossplane's lexer: quotes of both kinds, escapes of each
# special character, `${` and `$x{`, braces, semicolons, comments, each kind of whitespace
# (str.isspace: \x0b \x0c \x1c \x85 \xa0 \u2028 \u3000), CR and CRLF (universal newlines),
# non-ASCII, bytes that are not UTF-8, and a directive crossplane's lua extension lexes itself.
FRAGMENTS = [piece.encode() for piece in [
    "a", "b1", "x.y/z", "$", "{", "}", ";", '"', "'", "\\", "#", " ", "  ", "\t", "\n", "\r", "\r\n",
    "\x0b", "\x0c", "\x1c", "\x85", "\xa0", "\u2028", "\u3000", "é", "日本", "\U0001f600", "${",
    "$x{", "${a}", "\\\n", '\\"', "\\'", "\\\\", "\\{", "\\}", "\\;", "\\$", "\\#", "\\ ", "listen",
    "server", "if", "(", ")", "location", "content_by_lua_block", "\x00"]] + [
    b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf"]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40).map(b"".join))
@example(b"${a} b;")
@example(b"a { b; } }")
@example(b"content_by_lua_block { ngx.say('}') }")
def test_tokens_errors_and_payloads_equal_crossplanes_on_generated_text(data: bytes) -> None:
    path = _write(data)
    try:
        _assert_same(path)
    finally:
        os.unlink(path)


# crossplane's quirks, written out (both lexers must give exactly this)
CASES: list[tuple[bytes, list[Any]]] = [
    (b"listen 80;\n", [("listen", 1, False), ("80", 1, False), (";", 1, False)]),
    (b"a#b c;", [("a#b", 1, False), ("c", 1, False), (";", 1, False)]),
    (b'"a"#b\nc;', [("a", 1, True), ("#b", 1, False), ("c", 2, False), (";", 2, False)]),
    (b";#x\\\ny;", [(";", 1, False), ("#x", 1, False), ("y", 2, False), (";", 2, False)]),
    (b"${a} b;", [("${a} b", 1, False), (";", 1, False)]),
    (b"x${a b} c;", [("x${a b", 1, False), ("NgxParserSyntaxError", 'unexpected "}" in %s:1', 1)]),
    (b"s \\${a}{", [("s", 1, False), ("\\${a}", 1, False), ("{", 1, False),
                    ("NgxParserSyntaxError", 'unexpected end of file, expecting "}" in %s:1', 1)]),
    (b"a\\\nb;", [("a\\\nb", 1, False), (";", 2, False)]),
    (b"\\\nb;", [("\\\nb", 2, False), (";", 2, False)]),
    (b"a b", [("a", 1, False)]),
    (b'a "bc', [("a", 1, False)]),
    (b"a #c", [("a", 1, False)]),
    (b"a\\", []),
    (b'a"b"c;', [('a"b"c', 1, False), (";", 1, False)]),
    (b'"x\\"y" \'x\\"y\' "";', [('x"y', 1, True), ('x\\"y', 1, True), ("", 1, True), (";", 1, False)]),
    (b"a\r\nb;\rc;", [("a", 1, False), ("b", 2, False), (";", 2, False), ("c", 3, False), (";", 3, False)]),
    (b"x\xff\xa0;", [("x\ufffd\ufffd", 1, False), (";", 1, False)]),
    (b"a\xc2\xa0b;", [("a", 1, False), ("b", 1, False), (";", 1, False)]),
    (b"a { b; } }\nc;", [("a", 1, False), ("{", 1, False), ("b", 1, False), (";", 1, False),
                         ("}", 1, False), ("NgxParserSyntaxError", 'unexpected "}" in %s:1', 1)]),
    (b"a {\nb;", [("a", 1, False), ("{", 1, False), ("b", 2, False), (";", 2, False),
                  ("NgxParserSyntaxError", 'unexpected end of file, expecting "}" in %s:2', 2)]),
    (b'"{" "}";', [("{", 1, True), ("}", 1, True), (";", 1, False)]),
]


@pytest.mark.parametrize(("data", "expected"), CASES, ids=[repr(c[0])[2:-1][:30] for c in CASES])
def test_crossplanes_quirks_are_kept(data: bytes, expected: list[Any]) -> None:
    path = _write(data)
    try:
        expected = [tuple(x % path if isinstance(x, str) and "%s" in x else x for x in item)
                    for item in expected]
        assert _assert_same(path) == expected
    finally:
        os.unlink(path)


def _repository_files() -> list[Path]:
    """Every file of fixtures/ and tests/data/ (not only nginx: any text is a fine differential
    input), up to 200 KB each."""
    found = []
    for top in (REPO / "fixtures", REPO / "tests" / "data"):
        found.extend(p for p in sorted(top.rglob("*")) if p.is_file() and p.stat().st_size <= 200_000)
    return found


def test_every_repository_file_lexes_and_parses_as_with_crossplane() -> None:
    files = _repository_files()
    assert len(files) > 300
    nginx_files = 0
    for path in files:
        tokens = _outcome(crossplane.lexer.lex, str(path))
        assert _outcome(nginx_lexer.lex, str(path)) == tokens, path
        if path.suffix in (".conf", ".template") or "nginx" in path.name:
            nginx_files += 1
            for options in OPTION_SETS:
                assert nginx_lexer.parse(str(path), **options) == crossplane.parse(str(path), **options), path
    assert nginx_files > 50


@pytest.mark.parametrize("corpus", ["corpus-100-seed7", "corpus-1000-seed7"])
def test_the_benchmark_corpora_lex_and_parse_as_with_crossplane(corpus: str) -> None:
    root = Path("/tmp/auditor-bench") / corpus
    if not root.is_dir():
        pytest.skip(f"{root} is generated by benchmarks/bench_scan.py; not on this machine")
    files = sorted(root.rglob("*.conf"))
    assert files
    for path in files:
        assert _outcome(nginx_lexer.lex, str(path)) == _outcome(crossplane.lexer.lex, str(path)), path
        options = OPTION_SETS[0]
        assert nginx_lexer.parse(str(path), **options) == crossplane.parse(str(path), **options), path


def test_whitespace_is_str_isspace_for_every_code_point() -> None:
    # the patterns' \s must be the predicate crossplane uses (char.isspace())
    import re

    pattern = re.compile(r"\s")
    assert [c for c in map(chr, range(0x110000)) if bool(pattern.match(c)) != c.isspace()] == []


def test_nesting_near_the_recursion_limit_fails_as_with_crossplane(tmp_path: Path) -> None:
    # crossplane's parser recurses once per block and its lexer's generators sit on top: around
    # the limit it fails at another depth, or with "... while calling a Python object", than a
    # flatter lexer would. Such files are lexed by crossplane itself; every depth gives its payload.
    limit = sys.getrecursionlimit()
    path = tmp_path / "deep.conf"
    statuses = set()
    # every depth near the limit (a step of 9 once hid a window of two depths where ours failed):
    # parser() is called as nginx.py calls it, at the depth crossplane.parse would run
    for depth in list(range(limit - 110, limit + 5)) + [limit * 5]:
        path.write_text("a {\n" * depth + "b;\n" + "}\n" * depth)
        for options in OPTION_SETS:
            theirs = crossplane.parse(str(path), **options)
            ours = nginx_lexer.parser()(str(path), **options)
            sys.setrecursionlimit(limit * 10)  # comparing payloads this deep recurses too
            try:
                same = ours == theirs
            finally:
                sys.setrecursionlimit(limit)
            assert same, (depth, ours["errors"], theirs["errors"])
            statuses.add(theirs["status"])
    assert statuses == {"ok", "failed"}  # both sides of the limit were reached


# --- external lexers ------------------------------------------------------------------------

LUA = b"""http {
    server {
        location / {
            content_by_lua_block {
                ngx.say("} ; {")  -- a brace in a string
            }
        }
    }
}
"""


def test_a_file_with_a_lua_block_is_lexed_by_crossplane_and_its_lua_extension(tmp_path: Path) -> None:
    assert "content_by_lua_block" in crossplane.lexer.EXTERNAL_LEXERS  # registered at import
    path = tmp_path / "lua.conf"
    path.write_bytes(LUA)
    theirs = _assert_same(str(path))
    lua_body = [t for t in theirs if "ngx.say" in t[0]]
    assert len(lua_body) == 1  # the extension took the block whole: one token
    # our own tokens split it: the fallback is what makes the outcome right
    assert not [t for t in nginx_lexer.tokenize(LUA.decode())[0] if t == lua_body[0]]


def test_a_lexer_registered_later_is_honoured_per_file(tmp_path: Path) -> None:
    calls = []

    def whole_line(chars: Iterator[tuple[str, int]], directive: str) -> Iterator[tuple[str, int, bool]]:
        calls.append(directive)
        text, line = "", 0
        for char, line in chars:
            if char == "\n":
                break
            text += char
        yield (text, line, True)
        yield (";", line, False)

    plain = tmp_path / "plain.conf"
    plain.write_bytes(b"events {}\nmy_raw a { b ; c\n")
    before = _outcome(nginx_lexer.lex, str(plain))
    crossplane.lexer.register_external_lexer(["my_raw"], whole_line)
    try:
        during = _assert_same(str(plain))
        assert calls and during != before
        assert ("a { b ; c", 3, True) in during  # the newline ending it counts
    finally:
        del crossplane.lexer.EXTERNAL_LEXERS["my_raw"]
    assert _outcome(nginx_lexer.lex, str(plain)) == before


# --- other callers of crossplane in the process --------------------------------------------------


def test_crossplane_is_never_modified_even_while_our_lexer_runs(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    original_lex, original_parse = crossplane.parser.lex, crossplane.parser.parse
    assert original_lex is crossplane.lexer.lex
    seen = []
    real = nginx_lexer._batches

    def watching(text: str, depths: list[int]) -> Any:
        seen.append((crossplane.parser.lex is original_lex, crossplane.parse is original_parse))
        return real(text, depths)

    monkeypatch.setattr(nginx_lexer, "_batches", watching)
    path = tmp_path / "nginx.conf"
    path.write_text("events {}\nhttp { server { listen 80; } }\n")
    nginx_lexer.parse(str(path), single=True)
    assert seen == [(True, True)]
    assert crossplane.parser.lex is original_lex and crossplane.parse is original_parse


def test_a_patched_crossplane_lexer_is_used_not_ours(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    used = []

    def theirs(filename: str) -> Iterator[tuple[str, int, bool]]:
        used.append(filename)
        return crossplane.lexer.lex(filename)

    monkeypatch.setattr(crossplane.parser, "lex", theirs)
    path = tmp_path / "nginx.conf"
    path.write_text("events {}\n")
    assert nginx_lexer.parse(str(path), single=True)["config"][0]["parsed"][0]["directive"] == "events"
    assert used == [str(path)]


def test_threads_parsing_with_both_lexers_at_once_get_crossplanes_payloads() -> None:
    files = [str(p) for p in _repository_files() if p.suffix == ".conf"][:40]
    expected = {f: crossplane.parse(f, single=True) for f in files}
    failures: list[str] = []

    def work(parse: Callable[..., Any]) -> None:
        for _ in range(3):
            for f in files:
                if parse(f, single=True) != expected[f]:
                    failures.append(f)

    threads = [threading.Thread(target=work, args=(parse,))
               for parse in (crossplane.parse, nginx_lexer.parse) * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


# --- hostile input ------------------------------------------------------------------------------

HOSTILE = {  # name: (a piece, repeated), each built at 2 MB and compared with crossplane at 20 KB
    "quotes": '"',
    "single_quotes": "'",
    "backslashes": "\\",
    "escaped_quotes_unterminated": '\\"',
    "dollar_braces": "${",
    "expansions": "${a}",
    "expansions_with_escapes": "${a\\}",
    "hashes": "#",
    "one_long_word": "a",
    "braces": "{",
    "closing_braces": "}",
    "semicolons_and_spaces": "; ",
    "escaped_newlines": "\\\n",
    "crlf": "a\r\n",
    "quoted_escapes": '"\\\\\\"',
}


@pytest.mark.parametrize("piece", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_input_is_lexed_as_crossplane_does_and_in_linear_time(piece: str) -> None:
    small = _write(("x " + piece * (20_000 // len(piece))).encode())
    try:
        _assert_same(small)
    finally:
        os.unlink(small)
    # 2 MB: a quadratic pattern or loop would not finish within the suite's run (4e12 steps);
    # the tokens grow with the input, and the result is the same shape as the small one's
    big_text = "x " + piece * (2_000_000 // len(piece))
    tokens = nginx_lexer.tokenize(big_text)[0]
    small_tokens = nginx_lexer.tokenize("x " + piece * (20_000 // len(piece)))[0]
    assert len(tokens) in (len(small_tokens), pytest.approx(len(small_tokens) * 100, rel=0.01))
    assert sum(len(t[0]) for t in tokens) <= len(big_text)


# In a child process: a gc callback (hypothesis installs one in this process) runs when a
# collection happens, and a budget's exception raised while it runs is swallowed as unraisable.
_BUDGET_SCRIPT = """
import sys
from pathlib import Path
from auditor.parsers import nginx_lexer
from auditor.parsers.limits import ParseTimeout, time_budget
from auditor.parsers.nginx import parse_nginx

try:
    with time_budget(0.02):
        nginx_lexer.tokenize("a;" * 2_500_000)  # 5 M tokens: far more than 0.02 s of CPU
    print("lexer: finished")
except ParseTimeout:
    print("lexer: interrupted")
root = Path(sys.argv[1])
(root / "nginx.conf").write_text("events {}\\nhttp {\\n" + "add_header X-A b;\\n" * 200_000 + "}\\n")
_, problems, _ = parse_nginx(root, ["nginx.conf"], parse_timeout=0.02)
for problem in problems:
    print(type(problem).__name__, problem.span.line, problem.message)
"""


def test_the_time_budget_still_interrupts_our_lexer_and_a_slow_file_is_not_checked(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", _BUDGET_SCRIPT, str(tmp_path)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "lexer: interrupted", "NotChecked 1 parsing took longer than the 0.02 s time budget; not checked"]


# --- templates and embedded texts go through the same path ----------------------------------------


def test_templates_and_configmap_texts_use_our_lexer_and_scan_as_with_crossplane(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.api import scan

    folders = [REPO / "fixtures" / "configmap-nginx", REPO / "fixtures" / "cases" / "NG001",
               REPO / "fixtures" / "cases" / "NG002", REPO / "fixtures" / "cases" / "NG011"]

    def outcome() -> list[Any]:
        result = scan(folders, ignore=["SC"], jobs=1)
        return sorted((f.rule_id, f.span.path, f.span.line, f.message) for f in result.findings)

    lexed: list[str] = []
    real = nginx_lexer._batches

    def watching(text: str, depths: list[int]) -> Any:
        lexed.append(text)
        return real(text, depths)

    monkeypatch.setattr(nginx_lexer, "_batches", watching)
    ours = outcome()
    assert any("@@auditor-envsubst:" in text for text in lexed)  # a template's placeholder copy
    assert any("server_tokens on;" in text and "\nkind:" not in text for text in lexed)  # a ConfigMap key
    monkeypatch.setattr(nginx_lexer, "parser", lambda: crossplane.parse)
    lexed.clear()
    assert outcome() == ours
    assert lexed == []


def test_a_file_that_cannot_be_read_raises_when_its_stream_is_read_as_with_crossplane(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.conf")
    stream = nginx_lexer.lex(missing)  # crossplane's parse calls lex outside its try: no error yet
    with pytest.raises(FileNotFoundError):
        next(stream)
    for options in OPTION_SETS:
        assert nginx_lexer.parser()(missing, **options) == crossplane.parse(missing, **options)


def test_a_file_is_lexed_in_batches_never_held_as_tokens_whole(tmp_path: Path) -> None:
    # a 5 MiB file of one-letter words would be 2.5 M token tuples at once (~200 MB)
    path = tmp_path / "many.conf"
    path.write_text("a " * (3 * nginx_lexer._BATCH) + ";\nb {\n" + "c;\n" * 10)  # and a block left open
    sizes = [len(batch) for batch in nginx_lexer._batches(path.read_text(), [0, 0])]
    assert len(sizes) > 3 and max(sizes) <= nginx_lexer._BATCH
    assert _outcome(nginx_lexer.lex, str(path)) == _outcome(crossplane.lexer.lex, str(path))
    extra = tmp_path / "extra.conf"
    extra.write_text("a " * (nginx_lexer._BATCH - 1) + ";\n}\nb;\n")  # a `}` too many, first of a batch
    assert _outcome(nginx_lexer.lex, str(extra)) == _outcome(crossplane.lexer.lex, str(extra))
