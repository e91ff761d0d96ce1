"""External scanners (Trivy, npm audit) run as subprocesses and folded into SC001-SC004.

Importing this package is cheap: the subprocess and thread machinery loads only when
``run_scanners`` is called.
"""
from __future__ import annotations

from pathlib import Path

from auditor.scanners.records import ScannerFinding, ScannerOptions, ScannerRun

__all__ = ["ScannerFinding", "ScannerOptions", "ScannerRun", "run_scanners"]


def run_scanners(root: Path, lockfiles: list[str], options: ScannerOptions) -> list[ScannerRun]:
    """Run Trivy (fs + config, + image when named) and ``npm audit`` for every lockfile,
    concurrently, each bounded by ``options.timeout_seconds``. Never raises: every failure is a
    ScannerRun with ``error`` set and one SC004 finding."""
    from auditor.scanners.runner import run_all

    return run_all(root, lockfiles, options)
