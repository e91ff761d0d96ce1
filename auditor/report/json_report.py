"""``--format json``: the machine-readable report, described by ``schemas/report.schema.json``.

Deterministic: findings sorted by file, line, column and rule; no timestamps or timings, so two
runs over the same tree give byte-identical output.
"""
from __future__ import annotations

import json
from collections import Counter
from typing import IO, Any

from auditor import __version__
from auditor.engine import AuditResult
from auditor.findings import SEVERITIES, STATUSES, Finding
from auditor.model.span import Span
from auditor.textsafe import json_escape


SCHEMA_URI = "https://github.com/auditor/auditor/schemas/report.schema.json"


def _location(span: Span) -> dict[str, Any]:
    return {"file": span.path, "line": span.line, "column": span.column,
            "end_line": span.end_line or span.line}


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    data: dict[str, Any] = {
        "rule_id": finding.rule_id, "severity": finding.severity, "title": finding.title,
        "message": finding.message, **_location(finding.span), "evidence": finding.snippet,
        "fingerprint": finding.fingerprint,
        "related": [{**_location(r.span), "message": r.message} for r in finding.related],
        "suppressed": None if finding.suppression is None else
        {"kind": finding.suppression.kind, "reason": finding.suppression.reason},
    }
    if finding.properties:
        data["properties"] = finding.properties
    return data


def result_to_dict(result: AuditResult) -> dict[str, Any]:
    active = result.active_findings
    by_severity = Counter(f.severity for f in active)
    by_status = Counter(c.status for c in result.controls.values())
    return {
        "$schema": SCHEMA_URI,
        "tool": {"name": "auditor", "version": __version__},
        "roots": result.roots,
        "config": result.config_source,
        "findings": [finding_to_dict(f) for f in result.findings],
        "controls": [
            {"rule_id": c.rule_id, "title": result.rules[c.rule_id].title if c.rule_id in result.rules else c.rule_id,
             "severity": result.severities.get(c.rule_id, "info"), "status": c.status, "reason": c.reason,
             "evidence": [{"file": span.path, "line": span.line, "column": span.column,
                           "end_line": span.end_line or span.line, "text": text, "snippet": snippet}
                          for span, text, snippet in c.evidence]}  # inlined: hundreds of thousands
            for c in result.controls.values()],
        "notes": [{**_location(n.span), "message": n.message} for n in result.notes],
        "scanners": [_scanner_run(run) for run in result.scanner_runs],
        "policy": _policy(result),
        "summary": {
            "files": result.files_scanned,
            "findings": {severity: by_severity[severity] for severity in SEVERITIES},
            "suppressed": sum(1 for f in result.findings if f.suppressed),
            "controls": {status: by_status[status] for status in STATUSES},
        },
    }


def _policy(result: AuditResult) -> dict[str, Any]:
    """Where the configuration came from and what the audited tree's configuration weakened."""
    if result.policy is None:
        return {"config": result.config_source, "config_from_tree": False, "floor": None, "blocking": False,
                "weakenings": []}
    return result.policy.to_dict()


def _scanner_run(run: Any) -> dict[str, Any]:
    return {"scanner": run.scanner, "command": list(run.command), "version": run.version,
            "binary_sha256": run.binary_sha256, "error": run.error, "findings": len(run.findings)}


def render_json(result: AuditResult, stream: IO[str]) -> None:
    # Without indent json uses its C encoder: a monorepo's report (hundreds of thousands of
    # evidence locations) encodes ten times faster. `jq .` pretty-prints it.
    text = json.dumps(result_to_dict(result), ensure_ascii=False, separators=(",", ":"))
    # textsafe.json_escape: C1 controls, bidi, zero-width and tag characters (legal in JSON strings,
    # but they make a path or message display differently from what it is; U+2028/2029 end a line
    # in JavaScript) become \\u escapes, so the decoded document is identical; a byte of a file name
    # that is not UTF-8 has no JSON form and is written as the text \\xff.
    stream.write(json_escape(text))
    stream.write("\n")
