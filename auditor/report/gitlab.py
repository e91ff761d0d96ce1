"""GitLab's two report formats, for a merge request's widgets:

* ``--format gitlab-codequality``: the Code Quality report (``artifacts:reports:codequality``), a
  JSON array of issues in Code Climate's shape: ``description``, ``check_name``, a unique
  ``fingerprint``, ``severity`` (info, minor, major, critical, blocker) and
  ``location.path``/``location.lines.begin``.
* ``--format gitlab-sast``: the SAST security report (``artifacts:reports:sast``), schema 15.x:
  a ``scan`` (analyzer, scanner, type ``sast``, start and end times, status, messages) and one
  vulnerability per finding with its identifiers (the rule, its CWE, the advisory's CVE/GHSA),
  severity and file location.

Suppressed and baselined findings are left out of both (GitLab has no place for a waiver; the
SARIF and JSON reports keep them). Paths are relative to the scan root, which is where GitLab
resolves them when the scan runs at the repository's root. Text from the audited tree is made
printable (``textsafe.display``); JSON does the rest of the escaping.
"""
from __future__ import annotations

import datetime
import json
import uuid
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import IO, Any

from auditor import __version__
from auditor.engine import AuditResult
from auditor.findings import Finding
from auditor.report import taxonomy
from auditor.report.sarif import INFORMATION_URI, RULE_HELP_URI, ordered
from auditor.textsafe import display

SAST_SCHEMA_VERSION = "15.0.7"
CODEQUALITY_SEVERITY = {"critical": "blocker", "high": "critical", "medium": "major", "low": "minor", "info": "info"}
SAST_SEVERITY = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low", "info": "Info"}
_NAMESPACE = uuid.UUID("5b1f2c1e-7f3d-4c1a-9a53-0d6f1f0c9b41")  # the auditor's: ids stable per fingerprint
_VENDOR = {"name": "auditor"}


def _text(text: str, limit: int | None = None) -> str:
    clean = display(text)
    return clean if limit is None or len(clean) <= limit else clean[: limit - 1] + "…"


def _open(result: AuditResult) -> list[Finding]:
    return [f for f in ordered(list(result.findings)) if not f.suppressed]


def _fingerprint(finding: Finding) -> str:
    return finding.fingerprint or uuid.uuid5(_NAMESPACE, f"{finding.rule_id}\0{finding.span.path}\0"
                                              f"{finding.span.line}\0{finding.message}").hex


# --- Code Quality ------------------------------------------------------------------------------


def result_to_codequality(result: AuditResult) -> list[dict[str, Any]]:
    issues: list[dict[str, Any]] = []
    seen: set[str] = set()
    for finding in _open(result):
        fingerprint = _fingerprint(finding)
        if fingerprint in seen:  # GitLab drops an issue whose fingerprint repeats
            fingerprint = uuid.uuid5(_NAMESPACE, f"{fingerprint}\0{len(seen)}").hex
        seen.add(fingerprint)
        line = max(1, finding.span.line)
        issues.append({
            "type": "issue",
            "description": _text(f"{finding.rule_id} {finding.message}"),
            "check_name": finding.rule_id,
            "fingerprint": fingerprint,
            "severity": CODEQUALITY_SEVERITY.get(finding.severity, "major"),
            "categories": ["Security"],
            "location": {"path": _text(finding.span.path or "."),
                         "lines": {"begin": line, "end": max(line, finding.span.end_line or line)}},
        })
    return issues


def render_codequality(result: AuditResult, stream: IO[str]) -> None:
    stream.write(json.dumps(result_to_codequality(result), indent=2, ensure_ascii=False) + "\n")


# --- SAST --------------------------------------------------------------------------------------


def _identifiers(finding: Finding) -> list[dict[str, str]]:
    identifiers = [{"type": "auditor_rule", "name": f"auditor {finding.rule_id}", "value": finding.rule_id,
                    "url": RULE_HELP_URI.format(anchor=finding.rule_id.lower())}]
    properties = finding.properties
    for key, kind in (("cve", "cve"), ("ghsa", "ghsa")):
        value = properties.get(key)
        if isinstance(value, str) and value:
            identifier = {"type": kind, "name": _text(value), "value": _text(value)}
            url = properties.get("url")
            if isinstance(url, str) and url.startswith("https://") and value.lower() in url.lower():
                identifier["url"] = url
            identifiers.append(identifier)
    number = taxonomy.cwe(finding.rule_id)
    if number is not None:
        identifiers.append({"type": "cwe", "name": f"CWE-{number}", "value": str(number),
                            "url": f"https://cwe.mitre.org/data/definitions/{number}.html"})
    return identifiers


def _vulnerability(finding: Finding) -> dict[str, Any]:
    line = max(1, finding.span.line)
    vulnerability: dict[str, Any] = {
        "id": str(uuid.uuid5(_NAMESPACE, _fingerprint(finding))),
        "name": _text(f"{finding.rule_id} {finding.title}", 255),
        "description": _text(finding.message, 1_048_576),
        "severity": SAST_SEVERITY.get(finding.severity, "Unknown"),
        "identifiers": _identifiers(finding),
        "location": {"file": _text(finding.span.path or "."), "start_line": line,
                     "end_line": max(line, finding.span.end_line or line)},
    }
    return vulnerability


def _time(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def result_to_sast(result: AuditResult, now: datetime.datetime | None = None) -> dict[str, Any]:
    end = (now or datetime.datetime.now(datetime.timezone.utc)).replace(microsecond=0)
    start = end - datetime.timedelta(seconds=int(result.duration_seconds + 0.999))
    messages: list[dict[str, str]] = []
    for control in result.controls.values():
        if control.status == "error":
            messages.append({"level": "warn", "value": _text(f"{control.rule_id} not checked: {control.reason}")})
    for run in result.scanner_runs:
        if run.error:
            messages.append({"level": "warn", "value": _text(f"{run.scanner} could not run: {run.error}")})
    internal = any(c.status == "error" and c.reason.startswith("internal error") for c in result.controls.values())
    tool = {"id": "auditor", "name": "auditor", "version": __version__, "vendor": _VENDOR, "url": INFORMATION_URI}
    return {
        "version": SAST_SCHEMA_VERSION,
        "scan": {
            "analyzer": dict(tool), "scanner": dict(tool), "type": "sast",
            "start_time": _time(start), "end_time": _time(end),
            "status": "failure" if internal else "success", "messages": messages,
        },
        "vulnerabilities": [_vulnerability(f) for f in _open(result)],
    }


def render_sast(result: AuditResult, stream: IO[str]) -> None:
    stream.write(json.dumps(result_to_sast(result), indent=2, ensure_ascii=False) + "\n")
