"""auditor.patterns: a pattern compiled on first use behaves as the compiled pattern."""
from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from auditor.patterns import on_first_use


def test_it_matches_substitutes_and_reports_as_the_compiled_pattern() -> None:
    text = "FROM node:20 AS build\nfrom alpine\n"
    lazy, eager = on_first_use(r"^from\s+(\S+)", re.I | re.M), re.compile(r"^from\s+(\S+)", re.I | re.M)
    assert "match" not in vars(lazy)  # nothing compiled yet
    assert lazy.findall(text) == eager.findall(text) == ["node:20", "alpine"]
    assert lazy.sub(r"<\1>", text) == eager.sub(r"<\1>", text)
    assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in eager.finditer(text)]
    assert (lazy.pattern, lazy.flags, lazy.groups) == (eager.pattern, eager.flags, eager.groups)
    assert "match" in vars(lazy)  # compiled once, its methods now plain attributes
    assert on_first_use(b"[0-9]+").findall(b"a1b22") == [b"1", b"22"]


def test_a_bad_pattern_fails_when_first_used_and_copies_still_work() -> None:
    bad = on_first_use("(unclosed")
    with pytest.raises(re.error):
        bad.search("x")
    made = on_first_use("a+")
    assert copy.copy(made).match("aa") is not None and copy.deepcopy(made).match("b") is None


def test_a_scan_without_templates_leaves_the_template_patterns_uncompiled(tmp_path: Path) -> None:
    """In a fresh interpreter (an earlier test may have used them here)."""
    import json
    import os
    import subprocess
    import sys

    tree = tmp_path / "tree"
    (tree / "nginx").mkdir(parents=True)
    (tree / "Dockerfile").write_text("FROM node:20-alpine\nUSER 1001\nCMD [\"node\", \"server.js\"]\n", encoding="utf-8")
    (tree / "nginx" / "nginx.conf").write_text("events {}\nhttp { server { listen 8080; } }\n", encoding="utf-8")
    code = f"""
import io, json, contextlib
from auditor.cli import main
from auditor.parsers import nginx
with contextlib.redirect_stdout(io.StringIO()):
    main(["scan", {str(tree)!r}, "--no-external", "--no-cache"])
compiled = ["match" in vars(nginx._PLACEHOLDER), "match" in vars(nginx._TEMPLATE_VAR)]
print(json.dumps([compiled, nginx._TEMPLATE_VAR.sub("X", "a ${{HOST}} b")]))
"""
    repo = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(repo)})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [[False, False], "a X b"]


def test_a_used_pattern_with_named_groups_pickles_and_copies_as_the_pattern() -> None:
    import pickle

    made = on_first_use(r"(?P<year>\d{4})-(?P<month>\d\d)")
    assert made.match("2026-11").groupdict() == {"year": "2026", "month": "11"}  # used: groupindex kept
    again = pickle.loads(pickle.dumps(made))
    assert again.match("2026-11")["month"] == "11"
    assert copy.deepcopy(made) is made and copy.copy(made) is made
