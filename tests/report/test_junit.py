"""JUnit XML: one test case per control, failures list their findings, and nothing from the
audited tree can break the XML."""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

from auditor.api import scan
from auditor.engine import AuditResult
from auditor.report.junit import render_junit
from tests.conftest import FIXTURES, run_auditor


def junit_of(result: AuditResult) -> ET.Element:
    stream = io.StringIO()
    render_junit(result, stream)
    text = stream.getvalue()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    # Parsing the UTF-8 bytes is what a CI server does; it rejects any character XML 1.0 forbids.
    return ET.fromstring(text.encode("utf-8"))


def cases(root: ET.Element) -> dict[str, ET.Element]:
    return {case.get("name", "").split(" ", 1)[0]: case for case in root.iter("testcase")}


def test_one_test_case_per_control_grouped_by_family() -> None:
    result = scan([FIXTURES / "noncompliant"])
    root = junit_of(result)
    assert set(cases(root)) == set(result.controls)
    for suite in root.iter("testsuite"):
        family = suite.get("name", "").removeprefix("auditor.")
        assert {case.get("classname") for case in suite.iter("testcase")} == {family}
    assert int(root.get("tests", "-1")) == len(result.controls)


def test_counts_match_the_control_statuses() -> None:
    result = scan([FIXTURES / "noncompliant"])
    root = junit_of(result)
    statuses = [c.status for c in result.controls.values()]
    assert int(root.get("failures", "-1")) == statuses.count("fail")
    assert int(root.get("errors", "-1")) == statuses.count("error")
    assert int(root.get("skipped", "-1")) == statuses.count("not_applicable") + statuses.count("suppressed")
    for suite in root.iter("testsuite"):
        assert int(suite.get("failures", "-1")) == len(list(suite.iter("failure")))


def test_a_failing_control_lists_each_finding_as_file_line_message() -> None:
    result = scan([FIXTURES / "cases" / "DF008"], select=["DF008"])
    failure = cases(junit_of(result))["DF008"].find("failure")
    assert failure is not None and failure.get("type") == "high"
    findings = [f for f in result.findings if f.rule_id == "DF008"]
    lines = (failure.text or "").splitlines()
    assert len(lines) == len(findings)
    for line, finding in zip(lines, findings):
        assert line.startswith(f"{finding.span.path}:{finding.span.line} [high] {finding.message}")


def test_passing_not_applicable_and_unchecked_controls(hostile_result: AuditResult) -> None:
    by_id = cases(junit_of(hostile_result))
    statuses = {rule_id: c.status for rule_id, c in hostile_result.controls.items()}
    unchecked = next(rule_id for rule_id, status in statuses.items() if status == "error")
    error = by_id[unchecked].find("error")
    assert error is not None and "did not parse" in (error.get("message") or "")
    not_applicable = next(rule_id for rule_id, status in statuses.items() if status == "not_applicable")
    skipped = by_id[not_applicable].find("skipped")
    assert skipped is not None and (skipped.get("message") or "").startswith("not applicable")
    passed = next(rule_id for rule_id, status in statuses.items() if status == "pass")
    assert list(by_id[passed]) in ([], [by_id[passed].find("system-out")])


def test_a_suppressed_control_is_skipped_with_its_reason(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        'FROM node:20-alpine\n# auditor: ignore=DF008 reason="debug image, never deployed"\nUSER root\n', encoding="utf-8")
    case = cases(junit_of(scan([tmp_path], select=["DF008"])))["DF008"]
    skipped = case.find("skipped")
    assert skipped is not None and skipped.get("message") == "suppressed: debug image, never deployed"
    assert "inline: debug image" in (case.findtext("system-out") or "")


def test_hostile_text_is_escaped_and_control_characters_removed(hostile_result: AuditResult) -> None:
    stream = io.StringIO()
    render_junit(hostile_result, stream)
    text = stream.getvalue()
    assert "<script>" not in text and "\x1b" not in text and "\x07" not in text
    root = ET.fromstring(text.encode("utf-8"))
    messages = " ".join((f.text or "") for f in root.iter("failure"))
    assert '<script>alert(1)</script>' in messages  # escaped in the file, intact once parsed


def test_junit_survives_a_file_name_that_is_not_utf8(undecodable_name_tree: Path) -> None:
    junit_of(scan([undecodable_name_tree]))


def test_the_cli_writes_junit(tmp_path: Path) -> None:
    out = tmp_path / "junit.xml"
    done = run_auditor("scan", str(FIXTURES / "noncompliant"), "--no-external", "--format", f"junit:{out}")
    assert done.returncode == 1, done.stderr
    assert ET.parse(out).getroot().tag == "testsuites"
