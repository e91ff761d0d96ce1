"""Running one scanner child process: bounded in time, its whole process group killed on
time-out, output captured as text. Also: which binary will run, and its SHA-256."""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass
else:
    from auditor.record import dataclass
from pathlib import Path

from auditor.programs import absolute_path_entries

# After a kill, how long to wait for the pipes to close. A grandchild that left our process
# group could hold them open forever; we give up on its output rather than hang.
_REAP_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class ProcessResult:
    exit_code: int | None  # None when it never started or was killed
    stdout: str
    stderr: str
    duration_seconds: float
    timed_out: bool = False
    start_error: str | None = None  # OSError text when the binary could not be executed


def run_process(
    command: Sequence[str],
    *,
    cwd: Path,
    timeout_seconds: float,
    env: Mapping[str, str] | None = None,
) -> ProcessResult:
    """Run ``command`` to completion or until ``timeout_seconds``; never raises."""
    started = time.monotonic()
    try:
        # A new session makes the child a process-group leader, so a time-out kills it and
        # everything it spawned (npm runs node, a stub script runs sleep).
        child = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as error:
        return ProcessResult(None, "", "", time.monotonic() - started, start_error=str(error))
    try:
        stdout, stderr = child.communicate(timeout=timeout_seconds)
    except subprocess.TimeoutExpired:
        _kill_group(child)
        stdout, stderr = _reap(child)
        return ProcessResult(
            None, _text(stdout), _text(stderr), time.monotonic() - started, timed_out=True
        )
    return ProcessResult(child.returncode, _text(stdout), _text(stderr), time.monotonic() - started)


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        child.kill()


def _reap(child: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    try:
        return child.communicate(timeout=_REAP_SECONDS)
    except subprocess.TimeoutExpired:
        for pipe in (child.stdout, child.stderr):
            if pipe is not None:
                pipe.close()
        child.wait(timeout=_REAP_SECONDS)
        return b"", b""


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", errors="replace")


def resolve_executable(explicit: str | None, name: str) -> Path | None:
    """The file that will actually run: ``explicit`` (a path, or a name looked up on PATH) or
    ``name`` on PATH, with symlinks resolved so that its hash is the hash of what executes."""
    wanted = explicit or name
    if os.sep in wanted or (os.altsep and os.altsep in wanted):
        candidate = Path(wanted).expanduser()
        # A relative path would be resolved against the working directory, which is often the
        # audited checkout: never run a program the tree placed there.
        if not candidate.is_absolute():
            return None
        found = str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None
    else:
        found = shutil.which(wanted, path=absolute_path_entries())
    return Path(found).resolve() if found else None


def where_looked(explicit: str | None, name: str) -> str:
    """For a not-found message: what was looked for, and why a relative path was refused."""
    if explicit and (os.sep in explicit or (os.altsep and os.altsep in explicit)) \
            and not Path(explicit).expanduser().is_absolute():
        return f"{explicit}: a relative path is refused, give an absolute one"
    return explicit or f"{name} not on PATH"


def file_sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as binary:
            for block in iter(lambda: binary.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def last_lines(text: str, count: int = 5, limit: int = 600) -> str:
    """The tail of a stream, for a failure message: the reason is almost always at the end."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    tail = "\n".join(lines[-count:])
    return tail[-limit:]
