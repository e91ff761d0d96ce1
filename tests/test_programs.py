"""Every program the auditor runs (git, Trivy, npm, helm, kubectl) is looked up the same way: a
relative PATH entry is the working directory's folder, maybe the audited tree's, and is skipped."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from auditor import gitcmd
from auditor.parsers.render import program


@pytest.mark.parametrize("name", ["helm", "kubectl", "git"])
def test_a_program_in_a_relative_path_entry_is_never_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           name: str) -> None:
    tree_bin = tmp_path / "bin"
    tree_bin.mkdir()
    fake = tree_bin / name
    fake.write_text("#!/bin/sh\ntouch MARKER\n")
    fake.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", os.pathsep.join(["bin", "", "."]))
    assert program(name) is None
    if name == "git":
        assert gitcmd.git_binary() is None
    monkeypatch.setenv("PATH", str(tree_bin))  # the same folder, named absolutely by the user: found
    assert program(name) == str(fake)
