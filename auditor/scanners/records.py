"""The records the engine folds into its own findings: what each external scanner found or why
it could not run. Plain data, no behaviour, so that importing them costs nothing."""
from __future__ import annotations

TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass, field
    from typing import Any
else:
    from auditor.record import dataclass, field

from auditor.model.span import Span

# A JSON object as a scanner printed it (or as we build one for a report). Its values come from
# outside and are not trusted to have any shape: code reads them with isinstance checks.
JsonObject = dict[str, "Any"]


@dataclass(frozen=True, slots=True)
class ScannerFinding:
    """One result of an external scanner, already mapped onto our rules and severities."""

    rule_id: str  # "SC001" | "SC002" | "SC003" | "SC004"
    severity: str  # ours: critical/high/medium/low/info
    title: str  # "lodash 4.17.15: Prototype Pollution (GHSA-p6mc-m468-83gw)"
    message: str  # one sentence: installed/fixed versions and what to do
    span: Span  # relative to the scan root; "." when the finding is about the whole project
    # vulnerability id, package, installed, fixed, url, cve, dependency path, scanner...
    # (left out of the hash so the record stays hashable)
    properties: JsonObject = field(hash=False)
    identity: str  # stable across runs, for fingerprints and baselines


@dataclass(frozen=True, slots=True)
class ScannerRun:
    """One invocation of one scanner. ``error`` is None only when its output proved it ran."""

    scanner: str  # "trivy fs" | "trivy config" | "trivy image" | "npm audit"
    command: tuple[str, ...]
    version: str | None
    binary_sha256: str | None
    duration_seconds: float
    findings: tuple[ScannerFinding, ...]  # SC004 failures are findings too
    error: str | None
    # Results the scanner reported below the configured threshold: dropped, but counted so the
    # report can say "3 medium advisories below the [high] threshold were not reported".
    below_threshold: int = 0


@dataclass(frozen=True, slots=True)
class ScannerOptions:
    trivy_path: str | None = None
    trivy_sha256: str | None = None  # pin: refuse to run any other binary (SC004)
    image: str | None = None  # --image NAME -> trivy image
    severity_threshold_trivy: str = "HIGH"  # SC001/SC002
    severity_threshold_npm: str = "high"  # SC003
    ignore_unfixed: bool = False
    # False (the default): Trivy downloads and updates its vulnerability database in the user's
    # cache, as Trivy does; True (--offline, AUDITOR_OFFLINE, scanners.offline in the user's own
    # config) for air-gapped machines: --skip-db-update / --skip-check-update, no network at all
    offline: bool = False
    cache_dir: str | None = None
    # the auditor's own cache folder (auditor/cache.py), where the binary's SHA-256 is kept by
    # (path, inode, size, times); None (--no-cache): hash the binary on every run
    digest_cache: str | None = None
    timeout_seconds: float = 300.0
    npm_path: str | None = None
    # None: decide from the Dockerfile next to the lockfile (production-only install in the final
    # stage -> --omit=dev); the engine passes True/False when it knows better.
    npm_omit_dev: bool | None = None
