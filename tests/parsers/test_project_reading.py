"""How the project builder reads a file (parsers/project.py ``read_text``, ``read_regular_file``):
what the tree can put at a discovered path after discovery never blocks, never fills memory."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from auditor.model.span import NotChecked, ParseProblem
from auditor.parsers.project import read_regular_file, read_text


def test_a_regular_file_is_read_whole(tmp_path: Path) -> None:
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "Dockerfile").write_bytes(b"FROM alpine:3.20\n" * 1000)
    assert read_regular_file(str(tmp_path / "empty")) == b""
    assert read_regular_file(str(tmp_path / "Dockerfile")) == b"FROM alpine:3.20\n" * 1000


def test_a_fifo_or_a_folder_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "Dockerfile")  # a plain open and read would wait for a writer forever
    (tmp_path / "compose.yaml").mkdir()
    for name in ("Dockerfile", "compose.yaml"):
        text, problem = read_text(tmp_path, name)
        assert text is None and isinstance(problem, NotChecked)
        assert problem.message == "file not readable: not a regular file; not checked"


def test_a_file_over_the_cap_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "k8s.yaml"
    with open(big, "wb") as handle:
        handle.truncate(64 * 1024 * 1024 * 1024)  # sparse: 64 GiB that a whole read would allocate
    with pytest.raises(OSError, match="over the 5,242,880-byte size cap"):
        read_regular_file(str(big), 5 * 1024 * 1024)
    text, problem = read_text(tmp_path, "k8s.yaml", cap=5 * 1024 * 1024)
    assert text is None and isinstance(problem, NotChecked) and "size cap" in problem.message


def test_bytes_already_read_are_taken_once_instead_of_the_file(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.20\nUSER 0\n", encoding="utf-8")
    contents = {"Dockerfile": "\ufeffFROM alpine:3.20\nUSER 1001\n".encode()}
    assert read_text(tmp_path, "Dockerfile", contents) == ("FROM alpine:3.20\nUSER 1001\n", None)  # BOM dropped
    assert contents == {}
    assert read_text(tmp_path, "Dockerfile", contents) == ("FROM alpine:3.20\nUSER 0\n", None)  # then the disk


def test_binary_and_undecodable_bytes_are_problems_wherever_they_come_from(tmp_path: Path) -> None:
    for data, expected in ((b"FROM alpine\0\n", "binary content"), (b"FROM \xff\n", "not valid UTF-8")):
        (tmp_path / "Dockerfile").write_bytes(data)
        for contents in (None, {"Dockerfile": data}):
            text, problem = read_text(tmp_path, "Dockerfile", contents)
            assert text is None and isinstance(problem, ParseProblem) and expected in problem.message
