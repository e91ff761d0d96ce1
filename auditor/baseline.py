"""Baselines: record today's findings so that a CI gate fails only on new ones.

A baseline holds fingerprints (rule, file, the anchor line's content, occurrence; never line
numbers), so moving code around does not make old findings look new.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from auditor import __version__
from auditor.findings import Finding, Suppression
from auditor.textsafe import json_escape

BASELINE_VERSION = 1


class BaselineError(Exception):
    """The baseline file cannot be read; the message says how to recreate it."""


@dataclass
class BaselineComparison:
    findings: list[Finding]  # baselined ones marked suppressed (kind "baseline")
    new: list[Finding]
    unchanged: list[Finding]
    fixed: list[dict[str, Any]]  # baseline entries no finding matches any more


def baseline_document(findings: list[Finding]) -> dict[str, Any]:
    return {"version": BASELINE_VERSION, "tool": {"name": "auditor", "version": __version__},
            "findings": [{"fingerprint": f.fingerprint, "rule_id": f.rule_id, "file": f.span.path,
                          "line": f.span.line, "message": f.message}
                         for f in findings if not f.suppressed or f.suppression.kind == "baseline"]}


def write_baseline(findings: list[Finding], path: Path) -> int:
    document = baseline_document(findings)
    # json_escape: a file name that is not UTF-8 is recorded as the text \\xff (JSON has no form
    # for the byte; the fingerprint holds the real name), invisible characters as \\u escapes.
    path.write_text(json_escape(json.dumps(document, indent=2, ensure_ascii=False)) + "\n", encoding="utf-8")
    return len(document["findings"])


def read_baseline(path: Path) -> list[dict[str, Any]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"baseline {path}: {exc.strerror}; create one with `auditor baseline create -o {path}`") from exc
    except ValueError as exc:
        raise BaselineError(f"baseline {path} is not JSON ({exc}); recreate it with `auditor baseline create`") from exc
    if not isinstance(document, dict) or document.get("version") != BASELINE_VERSION or \
            not isinstance(document.get("findings"), list):
        raise BaselineError(f"baseline {path} is not an auditor baseline (version {BASELINE_VERSION}); recreate it")
    return [entry for entry in document["findings"] if isinstance(entry, dict) and "fingerprint" in entry]


def compare(findings: list[Finding], entries: list[dict[str, Any]]) -> BaselineComparison:
    known = {entry["fingerprint"]: entry for entry in entries}
    matched: set[str] = set()
    result = BaselineComparison([], [], [], [])
    for finding in findings:
        if finding.fingerprint in known and not finding.suppressed:
            matched.add(finding.fingerprint)
            finding = replace(finding, suppression=Suppression("baseline", "in the baseline"))
            result.unchanged.append(finding)
        elif not finding.suppressed:
            result.new.append(finding)
        result.findings.append(finding)
    result.fixed = [entry for fingerprint, entry in known.items() if fingerprint not in matched]
    return result
