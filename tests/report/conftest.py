"""A tree built to break report formats: names with spaces, ``#``, ``%``, ``,``, ``:`` and
non-ASCII letters, and contents carrying control characters,
``{0}`` placeholders, quotes, HTML, Markdown links and table pipes."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from auditor.api import scan
from auditor.engine import AuditResult

# Each piece targets one format: ANSI escape (terminals, XML 1.0), {0} (SARIF placeholders),
# [x](1) (SARIF embedded links, Markdown links), <script> (HTML in Markdown), | (table cells),
# `::` and %0A (GitHub workflow commands), bidi override (reads differently than it is).
HOSTILE = '{0}x"<script>alert(1)</script>[x](1)|`tick`|::add-mask::%0A\u202e'


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def hostile_tree(tmp_path: Path) -> Path:
    root = tmp_path / "scan root ü #1"
    _write(root / "a b#c" / "ü" / "Dockerfile",
           f"FROM node:20-alpine AS {HOSTILE.split('|')[0].replace(' ', '')}\n"
           "RUN echo \"\x1b[31m<b>red</b>\x07\" {0} [x](1)\n"
           "USER root\n")
    _write(root / "d,e:f" / "Dockerfile.50%", "FROM alpine:3.20\nUSER 0\n")
    # An inline suppression whose reason carries the hostile text: it reaches SARIF's
    # justification, JUnit's system-out and the Markdown's suppressed list.
    _write(root / "Dockerfile",
           "FROM node:20-alpine\n"
           f"# auditor: ignore=DF008 reason=\"debug image {HOSTILE.replace(chr(34), '')} \x1b[2J\"\n"
           "USER root\n")
    _write(root / "nginx" / "nginx.conf", "events {}\nhttp {\n  server {\n    listen 80;\n")  # unterminated
    _write(root / "k8s" / "bad.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: \"\x1b[31m\n")
    return root


@pytest.fixture
def undecodable_name_tree(hostile_tree: Path) -> Path:
    """The hostile tree plus a Dockerfile whose name is not UTF-8: the OS hands such a name over
    as surrogate escapes, which no UTF-8 encoder accepts unless told how."""
    if os.name != "posix":
        pytest.skip("file names are bytes on POSIX only")
    try:
        with open(os.path.join(os.fsencode(hostile_tree), b"Dockerfile.\xff\xfe"), "wb") as handle:
            handle.write(b"FROM alpine:3.20\nUSER root\n")
    except OSError as error:
        pytest.skip(f"this file system refuses non-UTF-8 names: {error}")
    return hostile_tree


@pytest.fixture
def hostile_result(hostile_tree: Path) -> AuditResult:
    return scan([hostile_tree])
