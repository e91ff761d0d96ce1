"""Runs every scanner concurrently and turns anything unexpected into SC004, never an
exception: the audit must report a scanner that failed, not die with it."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass
else:
    from auditor.record import dataclass
from pathlib import Path

from auditor.scanners import npm_audit, severity, trivy
from auditor.scanners.failures import TRIVY_INSTALL_HINT, failed_run
from auditor.scanners.process import resolve_executable, where_looked
from auditor.scanners.records import ScannerOptions, ScannerRun

_INTERNAL_HINT = "this is a bug in the auditor: report it with the command line that triggered it"


@dataclass(frozen=True, slots=True)
class _Unavailable:
    """Why Trivy must not run at all (it is missing, or not the pinned binary)."""

    kind: str
    reason: str
    binary_sha256: str | None = None


def run_all(root: Path, lockfiles: list[str], options: ScannerOptions) -> list[ScannerRun]:
    try:
        return _run_all(Path(root).resolve(), lockfiles, options)
    except Exception as error:  # noqa: BLE001 - last resort: a scanner failure is a finding
        return [failed_run("auditor", ("run_scanners",), "internal-error",
                           f"failed unexpectedly: {type(error).__name__}: {error}", _INTERNAL_HINT)]


def _run_all(root: Path, lockfiles: list[str], options: ScannerOptions) -> list[ScannerRun]:
    trivy_scanners = ["trivy fs", "trivy config"] + (["trivy image"] if options.image else [])
    planned: list[Future[list[ScannerRun]]] = []
    with ThreadPoolExecutor(max_workers=len(lockfiles) + 2, thread_name_prefix="scanner") as pool:
        # npm first: its runs start while the Trivy binary is being hashed.
        for relative in lockfiles:
            planned.append(pool.submit(_guarded, "npm audit", partial(_npm, root, relative, options)))
        with tempfile.TemporaryDirectory(prefix="auditor-trivy-") as workdir:
            context = _trivy_context(root, options, Path(workdir))
            if isinstance(context, _Unavailable):
                planned += [_done(_trivy_unavailable(name, context, options)) for name in trivy_scanners]
            else:
                planned.append(pool.submit(_guarded, "trivy config", partial(trivy.run_config, context)))
                # fs and image both open Trivy's vulnerability database (a bbolt file, locked
                # while open for writing): one after the other rather than waiting on the lock.
                planned.append(pool.submit(
                    _guarded, "trivy fs", partial(_database_runs, context, options)))
            runs = [run for future in planned for run in _as_list(future.result())]
    order = {name: index for index, name in enumerate(trivy_scanners + ["npm audit"])}
    return sorted(runs, key=lambda run: order.get(run.scanner, len(order)))


def _npm(root: Path, relative: str, options: ScannerOptions) -> ScannerRun:
    if severity.threshold(options.severity_threshold_npm) is None:
        return failed_run("npm audit", ("npm", "audit"), "bad-threshold",
                          f"was given an unknown severity threshold "
                          f"{options.severity_threshold_npm!r}",
                          "use one of critical, high, moderate, low, info")
    return npm_audit.run(root, relative, options)


def _database_runs(context: trivy.TrivyContext, options: ScannerOptions) -> list[ScannerRun]:
    runs = [trivy.run_fs(context)]
    if options.image:
        runs.append(trivy.run_image(context, options.image))
    return runs


def _trivy_context(
    root: Path, options: ScannerOptions, workdir: Path
) -> trivy.TrivyContext | _Unavailable:
    """The context to run Trivy with, or why it must not run."""
    minimum = severity.threshold(options.severity_threshold_trivy)
    if minimum is None:
        return _Unavailable("bad-threshold", "was given an unknown severity threshold "
                            f"{options.severity_threshold_trivy!r}")
    path = resolve_executable(options.trivy_path, "trivy")
    if path is None:
        return _Unavailable("not-found", f"could not start: trivy not found "
                            f"({where_looked(options.trivy_path, 'trivy')})")
    sha256 = trivy.binary_sha256(path, options.digest_cache)
    pin = (options.trivy_sha256 or "").strip().lower()
    if pin and sha256 != pin:
        return _Unavailable("pin-mismatch", f"was refused: {path} has SHA-256 {sha256}, not the "
                            f"pinned {pin}", sha256)
    trivy.prepare_workdir(workdir)
    return trivy.TrivyContext(
        root=root, binary=trivy.TrivyBinary(path, sha256), options=options, minimum=minimum,
        workdir=workdir, cache_dir=_trivy_cache_dir(root, options, workdir),
    )


def _trivy_cache_dir(root: Path, options: ScannerOptions, workdir: Path) -> str | None:
    """The configured cache; else Trivy's default (where a downloaded database lives). Never a
    folder inside the audited tree (auditing one's home directory, or a cache named by a path
    that leads into the tree): Trivy writes there, so this run's private temporary folder is used."""
    fallback = str(workdir / "cache")
    if options.cache_dir:
        chosen = Path(options.cache_dir).expanduser()
        if not chosen.is_absolute() or chosen.resolve().is_relative_to(root):
            return fallback
        return str(chosen)
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "trivy"
    if default.resolve().is_relative_to(root):
        return fallback
    return None


def _trivy_unavailable(scanner: str, why: _Unavailable, options: ScannerOptions) -> list[ScannerRun]:
    remedies = {
        "not-found": TRIVY_INSTALL_HINT,
        "pin-mismatch": "verify where this binary came from; if it is a release you trust, "
                        "set AUDITOR_TRIVY_SHA256 (or scanners.trivy_sha256 in your own config) to its SHA-256",
        "bad-threshold": "use one of CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN",
    }
    command = (options.trivy_path or "trivy", scanner.split()[1])
    return [failed_run(scanner, command, why.kind, why.reason, remedies[why.kind],
                       binary_sha256=why.binary_sha256)]


def _guarded(scanner: str, work: Callable[[], ScannerRun | list[ScannerRun]]) -> list[ScannerRun]:
    try:
        return _as_list(work())
    except Exception as error:  # noqa: BLE001 - one broken scanner must not hide the others
        return [failed_run(scanner, (scanner,), "internal-error",
                           f"failed unexpectedly: {type(error).__name__}: {error}", _INTERNAL_HINT)]


def _as_list(result: ScannerRun | list[ScannerRun]) -> list[ScannerRun]:
    return result if isinstance(result, list) else [result]


def _done(runs: list[ScannerRun]) -> Future[list[ScannerRun]]:
    future: Future[list[ScannerRun]] = Future()
    future.set_result(runs)
    return future
