"""GitLab's Code Quality and SAST reports, validated against JSON schemas as the SARIF is.

GitLab publishes neither schema on PyPI or npm (the SAST one lives only in its
security-report-schemas repository, which this machine cannot reach), so
tests/data/gitlab/*.schema.json are written from GitLab's documentation of both formats: the
required fields, enums, lengths and formats GitLab's ingestion enforces. Said here so nobody takes
them for the official files."""
from __future__ import annotations

import datetime
import io
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from auditor.api import scan
from auditor.engine import AuditResult
from auditor.report.gitlab import render_codequality, render_sast, result_to_codequality, result_to_sast
from tests.conftest import FIXTURES, run_auditor

SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "gitlab"


def _errors(document: Any, schema_name: str) -> list[str]:
    schema = json.loads((SCHEMAS / schema_name).read_text())
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    return [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(document)]


@pytest.fixture(scope="module")
def noncompliant() -> AuditResult:
    return scan([FIXTURES / "noncompliant"])


def test_the_schemas_reject_what_gitlab_rejects() -> None:
    """The hand-written schemas are not vacuous: each refuses a report GitLab would refuse."""
    assert _errors([{"description": "x", "check_name": "A", "fingerprint": "f", "severity": "high",
                     "location": {"path": "a", "lines": {"begin": 1}}}], "codequality.schema.json")
    assert _errors([{"description": "x", "check_name": "A", "fingerprint": "f", "severity": "major",
                     "location": {"path": "a"}}], "codequality.schema.json")
    assert _errors({"version": "15.0.7", "vulnerabilities": [{"id": "1", "identifiers": [],
                                                             "location": {}}]}, "sast-report-format.schema.json")
    assert _errors({"version": "15.0.7", "vulnerabilities": [], "scan": {
        "analyzer": {}, "scanner": {}, "type": "sast", "start_time": "2026-01-01 00:00", "end_time": "x",
        "status": "ok"}}, "sast-report-format.schema.json")


def test_codequality_is_valid_and_has_one_issue_per_open_finding(noncompliant: AuditResult) -> None:
    report = result_to_codequality(noncompliant)
    assert _errors(report, "codequality.schema.json") == []
    assert len(report) == len(noncompliant.active_findings)
    assert len({issue["fingerprint"] for issue in report}) == len(report)  # GitLab drops repeats
    ranks = ["blocker", "critical", "major", "minor", "info"]
    severities = [ranks.index(issue["severity"]) for issue in report]
    assert severities == sorted(severities)
    df008 = next(issue for issue in report if issue["check_name"] == "DF008")
    finding = next(f for f in noncompliant.active_findings if f.rule_id == "DF008")
    assert df008["location"] == {"path": finding.span.path, "lines": {"begin": finding.span.line,
                                                                       "end": finding.span.end_line or finding.span.line}}
    assert df008["severity"] == "critical" and df008["description"].startswith("DF008 ")


def test_sast_is_valid_with_rule_and_cwe_identifiers(noncompliant: AuditResult) -> None:
    report = result_to_sast(noncompliant, now=datetime.datetime(2026, 11, 30, 8, 0, tzinfo=datetime.timezone.utc))
    assert _errors(report, "sast-report-format.schema.json") == []
    assert report["scan"]["end_time"] == "2026-11-30T08:00:00" and report["scan"]["type"] == "sast"
    vulnerabilities = report["vulnerabilities"]
    assert len(vulnerabilities) == len(noncompliant.active_findings)
    assert len({v["id"] for v in vulnerabilities}) == len(vulnerabilities)
    df008 = next(v for v in vulnerabilities if v["identifiers"][0]["value"] == "DF008")
    assert df008["severity"] == "High"
    assert {"type": "cwe", "name": "CWE-250", "value": "250",
            "url": "https://cwe.mitre.org/data/definitions/250.html"} in df008["identifiers"]
    assert df008["location"]["file"] == "Dockerfile"


def test_hostile_text_stays_data_and_suppressed_findings_stay_out(hostile_result: AuditResult) -> None:
    sast, quality = result_to_sast(hostile_result), result_to_codequality(hostile_result)
    assert _errors(sast, "sast-report-format.schema.json") == []
    assert _errors(quality, "codequality.schema.json") == []
    serialized = json.dumps([sast, quality], ensure_ascii=False)
    assert "\x1b" not in serialized and "\u202e" not in serialized
    assert len(quality) == len(hostile_result.active_findings) < len(hostile_result.findings)
    # controls that could not be checked are the scan's warnings
    assert any(m["level"] == "warn" and "not checked" in m["value"] for m in sast["scan"]["messages"])


def test_the_cli_writes_both_gitlab_formats(tmp_path: Path) -> None:
    quality, sast = tmp_path / "gl-code-quality-report.json", tmp_path / "gl-sast-report.json"
    done = run_auditor("scan", str(FIXTURES / "cases" / "DF008"), "--no-external",
                       "--format", f"gitlab-codequality:{quality}", "--format", f"gitlab-sast:{sast}")
    assert done.returncode in (0, 1), done.stderr
    assert _errors(json.loads(quality.read_text()), "codequality.schema.json") == []
    assert _errors(json.loads(sast.read_text()), "sast-report-format.schema.json") == []
    assert json.loads(quality.read_text())


def test_render_functions_write_the_documents(noncompliant: AuditResult) -> None:
    stream = io.StringIO()
    render_codequality(noncompliant, stream)
    assert json.loads(stream.getvalue()) == result_to_codequality(noncompliant)
    stream = io.StringIO()
    render_sast(noncompliant, stream)
    assert json.loads(stream.getvalue())["vulnerabilities"] == result_to_sast(noncompliant)["vulnerabilities"]
