"""The audit reads; it never writes into the audited tree, and the static audit never touches the
network.

A read-only copy of the fixtures is scanned with the scanners on (Trivy, when the venv ships it)
and every output format; the tree must be byte-for-byte unchanged with no file added or removed.
Permission bits do not stop root (CI containers often run as root), so the hash comparison is
the real assertion; the read-only bits add a second net for ordinary users.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO

TREES = ("compliant", "noncompliant", "cases")
TRIVY = Path(sys.executable).parent / "trivy"


def _snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """Every entry under ``root``: content hash (or link target / "dir") and mode."""
    entries: dict[str, tuple[str, int]] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                entries[relative] = ("link:" + os.readlink(path), info.st_mode)
            elif stat.S_ISDIR(info.st_mode):
                entries[relative] = ("dir", info.st_mode)
            else:
                entries[relative] = (hashlib.sha256(path.read_bytes()).hexdigest(), info.st_mode)
    return entries


def _make_read_only(root: Path) -> None:
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            if not path.is_symlink():
                path.chmod(path.stat().st_mode & ~0o222)
    root.chmod(root.stat().st_mode & ~0o222)


def _make_writable(root: Path) -> None:
    root.chmod(root.stat().st_mode | 0o200)
    for folder, dirs, _ in os.walk(root):
        for name in dirs:
            (Path(folder) / name).chmod((Path(folder) / name).stat().st_mode | 0o200)


@pytest.fixture(scope="module")
def read_only_fixtures(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("readonly") / "fixtures"
    root.mkdir()
    for name in TREES:
        shutil.copytree(FIXTURES / name, root / name, symlinks=True)
    _make_read_only(root)
    yield root
    _make_writable(root)


def _run(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "AUDITOR_DEBUG")}
    env["PYTHONPATH"] = str(REPO)
    # the scanners' caches go to a throw-away home, never into the audited tree
    return subprocess.run([sys.executable, "-m", "auditor", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("tree", TREES)
def test_scan_leaves_a_read_only_tree_byte_for_byte_unchanged(tree: str, read_only_fixtures: Path,
                                                              tmp_path: Path) -> None:
    target = read_only_fixtures / tree
    before = _snapshot(read_only_fixtures)
    args = ["scan", str(target), "--format", "text", "--format", f"json:{tmp_path / 'r.json'}",
            "--format", f"sarif:{tmp_path / 'r.sarif'}", "--format", f"junit:{tmp_path / 'r.xml'}",
            "--format", f"markdown:{tmp_path / 'r.md'}", "--fail-on", "none"]
    if TRIVY.exists():
        args += ["--trivy", str(TRIVY)]
    # run from inside the tree: a stray relative write (a cache, a lock) would land right here
    done = _run(args, cwd=target)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    after = _snapshot(read_only_fixtures)
    assert sorted(set(after) - set(before)) == [], "files created in the audited tree"
    assert sorted(set(before) - set(after)) == [], "files removed from the audited tree"
    changed = [path for path in before if before[path] != after[path]]
    assert changed == [], f"changed in the audited tree: {changed}"
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["summary"]["files"] > 0


def test_static_audit_opens_no_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process, the static path (no scanners) with every way to reach the network refused.
    (A mock only because a machine without any network cannot be created in-process.)"""
    from auditor.api import scan

    attempts: list[str] = []

    def refuse(name: str):  # type: ignore[no-untyped-def]
        def refused(*args, **kwargs):  # type: ignore[no-untyped-def]
            attempts.append(f"{name}{args[:2]!r}")
            raise OSError("network access attempted by the static audit")
        return refused

    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect_ex"))
    monkeypatch.setattr(socket.socket, "sendto", refuse("sendto"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    for tree in TREES:
        result = scan([FIXTURES / tree])
        assert result.files_scanned > 0
    assert attempts == []


@pytest.mark.skipif(shutil.which("unshare") is None, reason="unshare (util-linux) is not installed")
def test_static_audit_gives_the_same_report_without_any_network(tmp_path: Path) -> None:
    """Out of process: in a namespace with no network interface at all (``unshare -rn``), the
    static audit gives the very same JSON report as with the network."""
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"unshare -rn is not permitted here: {probe.stderr.decode(errors='replace').strip()}")
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "AUDITOR_DEBUG")}
    env["PYTHONPATH"] = str(REPO)
    outputs = []
    for wrap in ([], ["unshare", "-rn"]):
        done = subprocess.run([*wrap, sys.executable, "-m", "auditor", "scan", str(FIXTURES / "noncompliant"),
                               "--no-external", "--format", "json", "--fail-on", "none"],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]


def test_python_m_auditor_run_inside_the_tree_never_imports_the_trees_modules(tmp_path: Path) -> None:
    # `python -m` puts the current folder first on sys.path: a CI job running the auditor in its
    # checkout would import the tree's own `dockerfile_parse.py` in place of the library, and run it
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(FIXTURES / "noncompliant" / "Dockerfile", tree / "Dockerfile")
    ran = tmp_path / "planted-module-ran"
    (tree / "dockerfile_parse.py").write_text(f"open({str(ran)!r}, 'w').close()\nraise ImportError('planted')\n")
    done = _run(["scan", ".", "--no-external", "--format", "json", "--fail-on", "none"], cwd=tree)
    assert done.returncode == 0, done.stderr
    assert not ran.exists()
    report = json.loads(done.stdout)
    assert report["controls"] and not [f for f in report["findings"] if f["rule_id"] in ("AUD001", "AUD003")]
