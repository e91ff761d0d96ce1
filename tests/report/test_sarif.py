"""SARIF 2.1.0: every log the tests produce passes the official schema and Microsoft's Multitool
(with GitHub's ingestion rules) with no error, and carries what code scanning needs."""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlparse

import pytest

from auditor.api import scan
from auditor.catalog import load_catalog
from auditor.engine import AuditResult
from auditor.report.sarif import LEVEL, SECURITY_SEVERITY, ordered, render_sarif, result_to_sarif
from tests.conftest import FIXTURES, run_auditor
from tests.support.sarif_validation import multitool_errors, require_multitool, schema_errors

from .conftest import HOSTILE

Sarif = dict[str, Any]


def sarif_of(result: AuditResult) -> Sarif:
    stream = io.StringIO()
    render_sarif(result, stream)
    sarif: Sarif = json.loads(stream.getvalue())
    return sarif


def assert_valid(sarif: Sarif, directory: Path, *, multitool: bool) -> None:
    """Both validators, zero errors. The Multitool is slow (seconds per log), so only the logs
    that matter most run through it; the schema check runs on every one."""
    assert schema_errors(sarif) == []
    if multitool:
        require_multitool()
        path = directory / "validate.sarif"
        path.write_text(json.dumps(sarif, indent=2, ensure_ascii=False), encoding="utf-8")
        assert multitool_errors(path) == []


def the_run(sarif: Sarif) -> Sarif:
    run: Sarif = sarif["runs"][0]
    return run


# --- validity -----------------------------------------------------------------------------------


def test_sarif_of_the_noncompliant_fixture_passes_both_validators(tmp_path: Path) -> None:
    sarif = sarif_of(scan([FIXTURES / "noncompliant"]))
    assert the_run(sarif)["results"], "the non-compliant fixture must produce results"
    assert_valid(sarif, tmp_path, multitool=True)


def test_sarif_of_a_hostile_tree_passes_both_validators(hostile_result: AuditResult, tmp_path: Path) -> None:
    sarif = sarif_of(hostile_result)
    assert any("suppressions" in r for r in the_run(sarif)["results"])
    assert the_run(sarif)["invocations"][0].get("toolExecutionNotifications")
    assert_valid(sarif, tmp_path, multitool=True)


@pytest.mark.parametrize("case", sorted(p.name for p in (FIXTURES / "cases").iterdir() if p.is_dir()))
def test_sarif_of_every_case_folder_passes_the_schema(case: str) -> None:
    sarif = sarif_of(scan([FIXTURES / "cases" / case]))
    assert schema_errors(sarif) == []


def test_the_compliant_fixture_gives_a_full_run_with_no_results(tmp_path: Path) -> None:
    sarif = sarif_of(scan([FIXTURES / "compliant"]))
    assert the_run(sarif)["results"] == []
    assert len(the_run(sarif)["tool"]["driver"]["rules"]) == len(load_catalog())
    assert schema_errors(sarif) == []


# --- the driver ---------------------------------------------------------------------------------


def test_the_driver_lists_every_rule_of_the_catalog_even_when_one_is_selected() -> None:
    sarif = sarif_of(scan([FIXTURES / "cases" / "DF008"], select=["DF008"]))
    rules = the_run(sarif)["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == sorted(load_catalog())
    for rule in rules:
        catalog_rule = load_catalog()[rule["id"]]
        assert rule["shortDescription"]["text"] == catalog_rule.title
        assert rule["fullDescription"]["text"] == catalog_rule.summary
        assert catalog_rule.remediation.split()[0] in rule["help"]["text"]
        assert "**How to fix it.**" in rule["help"]["markdown"]
        assert rule["helpUri"].startswith("https://")
        assert rule["defaultConfiguration"]["level"] == LEVEL[catalog_rule.severity]
        assert rule["properties"]["security-severity"] == SECURITY_SEVERITY[catalog_rule.severity]
        assert "security" in rule["properties"]["tags"]


def test_the_help_shows_the_compliant_example_in_a_fence_of_its_language() -> None:
    rules = {r["id"]: r for r in the_run(sarif_of(scan([FIXTURES / "compliant"])))["tool"]["driver"]["rules"]}
    good = load_catalog()["DF008"].examples["good"].rstrip("\n")
    assert f"```dockerfile\n{good}\n```" in rules["DF008"]["help"]["markdown"]


def test_security_severity_and_level_follow_the_documented_scale() -> None:
    assert SECURITY_SEVERITY == {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}
    assert LEVEL == {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}


# --- results ------------------------------------------------------------------------------------


def test_results_point_at_the_files_through_srcroot(hostile_tree: Path, hostile_result: AuditResult) -> None:
    run = the_run(sarif_of(hostile_result))
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base.startswith("file:///") and base.endswith("/")
    assert Path(unquote(urlparse(base).path)) == hostile_tree.resolve()
    for result in run["results"]:
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        uri = location["artifactLocation"]["uri"]
        assert not urlparse(uri).scheme, uri  # relative: GitHub maps it onto the checkout
        resolved = unquote(urlparse(urljoin(base, uri)).path, errors="surrogateescape")
        assert Path(resolved).is_file(), uri
        assert location["region"]["startLine"] >= 1


def test_artifact_uris_percent_encode_hostile_names(hostile_result: AuditResult) -> None:
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in the_run(sarif_of(hostile_result))["results"]}
    assert "a%20b%23c/%C3%BC/Dockerfile" in uris
    assert "d%2Ce%3Af/Dockerfile.50%25" in uris


def test_result_fields_match_the_finding(hostile_result: AuditResult) -> None:
    run = the_run(sarif_of(hostile_result))
    rules = run["tool"]["driver"]["rules"]
    assert len(run["results"]) == len(hostile_result.findings)
    for result, finding in zip(run["results"], ordered(hostile_result.findings)):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == finding.rule_id
        assert result["level"] == LEVEL[finding.severity]
        assert result["partialFingerprints"] == {"auditorFingerprint/v1": finding.fingerprint}
        assert result["properties"]["severity"] == finding.severity


def test_messages_cannot_forge_placeholders_links_or_control_characters(hostile_result: AuditResult) -> None:
    sarif = sarif_of(hostile_result)
    texts = [r["message"]["text"] for r in the_run(sarif)["results"]]
    staged = [t for t in texts if "x\"<script>" in t]
    assert staged, texts
    for text in staged:
        assert "{{0}}" in text  # SARIF §3.11.5: a literal brace is doubled
        assert "\\[x\\](1)" in text  # §3.11.6: brackets escaped, no embedded link to location 1
    serialized = json.dumps(sarif, ensure_ascii=False)
    assert "\x1b" not in serialized and "\u202e" not in serialized and "\x07" not in serialized
    justifications = [s["justification"] for r in the_run(sarif)["results"] for s in r.get("suppressions", [])]
    assert any("\\x1b[2J" in j for j in justifications), justifications


def test_an_inline_suppression_keeps_the_result_with_its_reason_and_place(hostile_result: AuditResult) -> None:
    run = the_run(sarif_of(hostile_result))
    suppressed = [r for r in run["results"] if r.get("suppressions")]
    assert [r["ruleId"] for r in suppressed] == ["DF008"]
    (suppression,) = suppressed[0]["suppressions"]
    assert suppression["kind"] == "inSource"
    assert suppression["justification"].startswith("debug image")
    assert suppression["location"]["physicalLocation"]["region"]["startLine"] == 2
    assert "baselineState" not in suppressed[0]  # no baseline was used


def test_parse_failures_and_notes_become_tool_notifications(hostile_result: AuditResult) -> None:
    invocation = the_run(sarif_of(hostile_result))["invocations"][0]
    assert invocation["executionSuccessful"] is True  # the audited files were broken, not the tool
    notifications = invocation["toolExecutionNotifications"]
    unchecked = [n for n in notifications if "associatedRule" in n]
    assert any(n["associatedRule"]["id"].startswith("NG") and "did not parse" in n["message"]["text"]
               for n in unchecked)
    assert all(n["level"] == "warning" for n in unchecked)


def test_a_note_about_the_tree_carries_its_location(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.20\nUSER 1001\n", encoding="utf-8")
    (tmp_path / "outside.conf").symlink_to("/etc/hostname")
    notes = [n for n in the_run(sarif_of(scan([tmp_path])))["invocations"][0].get("toolExecutionNotifications", [])
             if n["level"] == "note" and n["message"]["text"].startswith("not checked")]
    assert notes and all("locations" in n for n in notes)
    assert any(n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "outside.conf" for n in notes), notes


def test_two_runs_give_byte_identical_logs(hostile_tree: Path) -> None:
    first, second = io.StringIO(), io.StringIO()
    render_sarif(scan([hostile_tree]), first)
    render_sarif(scan([hostile_tree]), second)
    assert first.getvalue() == second.getvalue()


def test_result_to_sarif_is_the_rendered_document(hostile_result: AuditResult) -> None:
    assert sarif_of(hostile_result) == json.loads(json.dumps(result_to_sarif(hostile_result)))


def test_the_cli_writes_sarif_and_text_in_one_run(tmp_path: Path) -> None:
    out = tmp_path / "out.sarif"
    done = run_auditor("scan", str(FIXTURES / "cases" / "DF008"), "--no-external", "--select", "DF008",
                       "--format", f"sarif:{out}", "--format", "text")
    assert done.returncode == 1, done.stderr
    assert "DF008" in done.stdout
    sarif = json.loads(out.read_text(encoding="utf-8"))
    assert {r["ruleId"] for r in the_run(sarif)["results"]} >= {"DF008"}
    assert schema_errors(sarif) == []


def test_the_hostile_marker_reaches_the_report(hostile_result: AuditResult) -> None:
    # Guards the fixture itself: if the parser stopped echoing the stage name, the escaping
    # tests above would pass without testing anything.
    assert any(HOSTILE.split("|")[0].replace(" ", "")[:12] in f.message for f in hostile_result.findings)


def test_sarif_stays_valid_when_a_file_name_is_not_utf8(undecodable_name_tree: Path, tmp_path: Path) -> None:
    sarif = sarif_of(scan([undecodable_name_tree]))
    assert schema_errors(sarif) == []
    json.dumps(sarif, ensure_ascii=False).encode("utf-8")  # no lone surrogate left anywhere


def test_a_file_name_that_is_not_utf8_gets_its_findings(undecodable_name_tree: Path) -> None:
    result = scan([undecodable_name_tree], select=["DF008"])
    assert result.controls["DF008"].status == "fail"
    sarif = sarif_of(result)
    assert the_run(sarif)["invocations"][0]["executionSuccessful"] is True
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in the_run(sarif)["results"]}
    assert "Dockerfile.%FF%FE" in uris  # the original bytes, percent-encoded
