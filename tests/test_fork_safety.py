"""No thread of the auditor's runs while the audit forks its worker processes.

A fork copies the locks that other threads hold, and the copy is never released in the child: an
import running in another thread holds its module's lock, so a worker forked meanwhile waits
forever when it imports that module too (the parse time budget counts CPU time, which waiting
does not use). The external scanners run in threads that import as they go; the audit starts them
once its workers exist."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES, REPO

_WATCH_FORKS = """
import json, os, sys, threading
forks = []
def before_fork():
    if threading.current_thread() is threading.main_thread():
        forks.append(sorted(t.name for t in threading.enumerate() if t is not threading.main_thread()))
os.register_at_fork(before=before_fork)
import auditor.parallel
auditor.parallel.POOL_THRESHOLD = 0  # the pool even for a small tree
from auditor.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
open(os.environ["FORKS_SEEN"], "w").write(json.dumps(forks))
"""


def test_the_audits_workers_are_forked_before_the_external_scanners_start(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    for index in range(3):  # projects with a lockfile: npm audit's thread reads their Dockerfile
        shutil.copytree(FIXTURES / "noncompliant", tree / f"app-{index}")
    report = tmp_path / "report.json"
    seen = tmp_path / "forks.json"
    env = {**os.environ, "PYTHONPATH": str(REPO), "npm_config_registry": "http://127.0.0.1:9/",
           "FORKS_SEEN": str(seen)}
    done = subprocess.run(
        [sys.executable, "-c", _WATCH_FORKS, "scan", str(tree), "--jobs", "2", "--no-cache",
         "--trivy", str(tmp_path / "no-trivy-here"), "--format", "json", "-o", str(report), "--fail-on", "none"],
        env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    forks = json.loads(seen.read_text())
    assert forks, "the audit forked no worker"
    assert all(threads == [] for threads in forks), forks  # no other thread at any fork of the audit
    # and the scanners did run, after the workers: their runs are in the report
    sc004 = [f["message"] for f in json.loads(report.read_text())["findings"] if f["rule_id"] == "SC004"]
    assert any("trivy" in message.lower() for message in sc004), sc004
