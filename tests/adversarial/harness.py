"""Runs one hostile scan in a child process with a hard time limit, so a hang fails one case (as a
timeout) instead of freezing the suite; pytest-timeout is not a dependency."""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CASE_TIMEOUT = 60.0  # seconds; the cases take well under this; only a hang gets near it
MEMORY_CAP = 2 * 1024 ** 3  # address space of one hostile scan: a memory bomb fails, not the host
REPO = Path(__file__).resolve().parents[2]


@dataclass
class ScanRun:
    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    report: dict[str, Any] | None


def scan(tree: Path, *args: str, fmt: str = "json", timeout: float = CASE_TIMEOUT,
         wrap: list[str] | None = None, env_extra: dict[str, str] | None = None) -> ScanRun:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "AUDITOR_DEBUG")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(env_extra or {})
    command = [*(wrap or []), sys.executable, "-m", "auditor", "scan", str(tree), "--no-external",
               "--format", fmt, *args]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, timeout=timeout,
                              preexec_fn=_cap_memory)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"scan of {tree} did not finish within {timeout:.0f} s (a hang)") from exc
    seconds = time.perf_counter() - started
    stdout = done.stdout.decode("utf-8", errors="replace")
    stderr = done.stderr.decode("utf-8", errors="replace")
    report = None
    if fmt == "json" and done.returncode in (0, 1):
        report = json.loads(stdout)
    return ScanRun(done.returncode, stdout, stderr, seconds, report)


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
