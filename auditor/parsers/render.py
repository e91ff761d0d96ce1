"""Running a renderer (helm, kubectl kustomize, the Helm SDK) on untrusted input, boxed.

A chart or an overlay of the audited tree is hostile input to its renderer: a template can loop,
allocate, or try to reach the network or files beyond its folder. Every render therefore runs in
a child process with

- a wall-clock timeout and a CPU-time limit (``RLIMIT_CPU``),
- an address-space limit (``RLIMIT_AS``) and a cap on what it may write (``RLIMIT_FSIZE``: its
  output goes to a private temporary file, so the cap also bounds the output),
- no network: in a new network namespace (``unshare --net``) where the machine allows one, and
  with proxies pointed at a closed local port in any case,
- a private empty ``HOME`` and working directory outside the audited tree, and a minimal
  environment (no ``KUBECONFIG``, no credentials, no plugin folders).

The programs are found on the auditor's own ``PATH``; nothing in the tree chooses them.
"""
from __future__ import annotations

import os
import resource
from collections.abc import Callable
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass
else:
    from auditor.record import dataclass
from functools import lru_cache

from auditor.programs import find_program

DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY = 2 * 1024 ** 3      # address space, bytes (the Go runtime alone needs ~1 GiB of it)
DEFAULT_OUTPUT = 64 * 1024 * 1024   # rendered output, bytes


class RenderError(Exception):
    """The renderer could not produce output; the message says why, for the report."""


@dataclass(frozen=True)
class Limits:
    timeout: float = DEFAULT_TIMEOUT
    memory: int = DEFAULT_MEMORY
    output: int = DEFAULT_OUTPUT


def program(name: str) -> str | None:
    """The absolute path of ``name`` on the auditor's PATH (absolute entries only), or None."""
    return find_program(name)


@lru_cache(maxsize=1)
def network_namespace_prefix() -> tuple[str, ...]:
    """``unshare --net --map-root-user`` when this machine lets an unprivileged process make a
    network namespace (probed once); otherwise nothing, and only the proxy settings apply."""
    import subprocess  # only when a chart is rendered: not on every scan

    unshare = find_program("unshare")
    if unshare is None:
        return ()
    prefix = (unshare, "--net", "--map-root-user")
    true = find_program("true") or "/bin/true"
    try:
        probe = subprocess.run([*prefix, true], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return ()
    return prefix if probe.returncode == 0 else ()


def _limit(limits: Limits) -> Callable[[], None]:  # a preexec function
    cpu = max(1, int(limits.timeout) + 1)

    def apply() -> None:
        os.setsid()
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory, limits.memory))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.output, limits.output))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def boxed_env(home: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    closed = "http://127.0.0.1:9"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "LANG": "C.UTF-8",
        "TMPDIR": home, "XDG_CONFIG_HOME": home, "XDG_CACHE_HOME": home, "XDG_DATA_HOME": home,
        "HTTP_PROXY": closed, "HTTPS_PROXY": closed, "http_proxy": closed, "https_proxy": closed,
        "NO_PROXY": "", "no_proxy": "", "GIT_ALLOW_PROTOCOL": "none", "GIT_TERMINAL_PROMPT": "0",
        "KUBECONFIG": os.path.join(home, "no-kubeconfig"), "KUSTOMIZE_PLUGIN_HOME": os.path.join(home, "no-plugins"),
        "HELM_CACHE_HOME": home, "HELM_CONFIG_HOME": home, "HELM_DATA_HOME": home, "HELM_PLUGINS": os.path.join(home, "no-plugins"),
    }
    env.update(extra or {})
    return env


def run_boxed(argv: list[str], limits: Limits, *, env_extra: dict[str, str] | None = None) -> str:
    """``argv``'s standard output, run boxed (see the module doc); ``RenderError`` on a timeout,
    a limit hit, a non-zero exit or output that is not UTF-8."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="auditor-render-") as home:
        out_path, err_path = os.path.join(home, "stdout"), os.path.join(home, "stderr")
        command = [*network_namespace_prefix(), *argv]
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            try:
                process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=home,
                                           env=boxed_env(home, env_extra), preexec_fn=_limit(limits),
                                           close_fds=True)
            except OSError as exc:
                raise RenderError(f"could not start {argv[0]}: {exc.strerror or exc}") from exc
            try:
                code = process.wait(timeout=limits.timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()
                raise RenderError(f"rendering took longer than {limits.timeout:g} s; stopped") from None
        with open(err_path, "rb") as handle:
            stderr = handle.read(4000).decode("utf-8", "replace")
        if code != 0:
            lowered = stderr.lower()
            if any(marker in lowered for marker in ("out of memory", "cannot allocate memory", "memoryerror",
                                                     "failed to reserve", "pthread_create failed")):
                raise RenderError(f"it ran out of its {limits.memory // (1024 * 1024)} MiB memory limit")
            if code < 0:
                reason = {9: "killed (CPU time limit)", 24: "killed (CPU time limit)",
                          25: f"its output exceeded {limits.output // (1024 * 1024)} MiB"}.get(-code, f"killed by signal {-code}")
                raise RenderError(f"the renderer was {reason}" if not reason.startswith("its") else reason)
            raise RenderError(_last_lines(stderr) or f"exit status {code}")
        with open(out_path, "rb") as handle:
            data = handle.read(limits.output + 1)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RenderError("the rendered output is not valid UTF-8") from exc


def _last_lines(text: str, count: int = 3) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " / ".join(lines[-count:])[:600]
