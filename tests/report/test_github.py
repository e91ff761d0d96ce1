"""GitHub Actions workflow commands: one annotation per active finding, escaped the way
@actions/core escapes, so nothing from the audited tree can start a second command."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from auditor.api import scan
from auditor.engine import AuditResult
from auditor.report.github import escape_data, escape_property, render_github
from tests.conftest import FIXTURES

ANNOTATION = re.compile(r"^::(error|warning|notice) (?P<props>[^:]*)::(?P<message>.*)$")


def annotations_of(result: AuditResult) -> list[str]:
    stream = io.StringIO()
    render_github(result, stream)
    return stream.getvalue().splitlines()


@pytest.fixture(autouse=True)
def _workspace_elsewhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Paths are made relative to $GITHUB_WORKSPACE; by default the tests' scan roots are not
    inside it, so paths stay relative to the scan root."""
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path / "elsewhere"))


def test_escaping_follows_actions_core() -> None:
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_the_most_severe_go_first_capped_at_ten_of_each_kind_then_a_summary() -> None:
    result = scan([FIXTURES / "noncompliant"])
    lines = annotations_of(result)
    command = {"critical": "error", "high": "error", "medium": "warning", "low": "notice", "info": "notice"}
    kinds = [ANNOTATION.match(line).group(1) for line in lines]  # type: ignore[union-attr]
    wanted = {kind: sum(1 for f in result.active_findings if command[f.severity] == kind) for kind in command.values()}
    assert wanted["error"] > 10 and wanted["warning"] > 10, wanted  # the fixture overflows GitHub's limits
    assert kinds.count("error") == 10 and kinds.count("warning") == 10 and kinds.count("notice") <= 10
    assert kinds == sorted(kinds, key=["error", "warning", "notice"].index)  # errors, then warnings, then notices
    findings = [line for line in lines if "file=" in line]
    errors = [line for line in findings if line.startswith("::error")]
    # the criticals come before every high
    severities = [line.split("::")[2].split("]")[0].lstrip("[") for line in errors]
    assert severities == sorted(severities, key=["critical", "high"].index)
    assert severities[0] == "critical"
    for line in findings:
        match = ANNOTATION.match(line)
        assert match, line
        props = dict(part.split("=", 1) for part in match.group("props").split(","))
        assert props["title"][:5] in {f.rule_id for f in result.active_findings}
    last = lines[-1]
    assert last.startswith("::notice title=auditor::")
    left = len(result.active_findings) + sum(c.status == "error" for c in result.controls.values()) - len(lines) + 1
    assert f"{left} more annotations not shown" in last


def test_every_finding_is_annotated_when_under_the_limits(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM node:latest\nRUN npm install\nUSER root\n", encoding="utf-8")
    result = scan([tmp_path], select=["DF003", "DF005", "DF008", "DF012", "DF018"])
    lines = annotations_of(result)
    findings = [line for line in lines if "file=" in line]
    assert 3 <= len(findings) == len(result.active_findings) <= 9
    assert "more annotations not shown" not in lines[-1]
    rank = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
    shown = [rank[line.split("::")[2].split("]")[0].lstrip("[")] for line in findings]
    assert shown == sorted(shown)


def test_the_exact_shape_of_one_annotation(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM node:20-alpine\nUSER root\n", encoding="utf-8")
    result = scan([tmp_path], select=["DF008"])
    (finding,) = [f for f in result.findings if f.rule_id == "DF008"]
    title = escape_property(f"DF008 {finding.title}")
    assert annotations_of(result)[0] == (
        f"::error file=Dockerfile,line=2,endLine=2,col=1,title={title}::[high] {escape_data(finding.message)}")


def test_hostile_names_and_messages_stay_inside_one_command(hostile_result: AuditResult) -> None:
    lines = annotations_of(hostile_result)
    assert all(line.startswith("::") for line in lines)
    assert all("\x1b" not in line and "\u202e" not in line for line in lines)
    assert any("file=d%2Ce%3Af/Dockerfile.50%25," in line for line in lines), lines
    staged = [line for line in lines if "<script>" in line]
    assert staged
    for line in staged:
        match = ANNOTATION.match(line)
        assert match, line
        # The message's own "::add-mask::" is harmless: only a line's start begins a command.
        assert "%250A" in match.group("message") or "%0A" not in match.group("message")


def test_suppressed_findings_are_not_annotated(hostile_result: AuditResult) -> None:
    suppressed = [f for f in hostile_result.findings if f.suppressed]
    assert suppressed
    assert not any(f"file={f.span.path},line={f.span.line}," in line and f.rule_id in line
                   for f in suppressed for line in annotations_of(hostile_result))


def test_unchecked_controls_become_warnings(hostile_result: AuditResult) -> None:
    unchecked = [c.rule_id for c in hostile_result.controls.values() if c.status == "error"]
    lines = annotations_of(hostile_result)
    assert len(unchecked) > 10  # more than GitHub shows: the first ten, the rest counted
    for rule_id in unchecked[:10]:
        assert f"::warning title={rule_id} not checked::" in "\n".join(lines)
    medium = sum(f.severity == "medium" for f in hostile_result.active_findings)
    assert f"{len(unchecked) - 10 + medium} warnings" in lines[-1]


def test_paths_are_relative_to_the_workspace(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    project = tmp_path / "deploy"
    project.mkdir()
    (project / "Dockerfile").write_text("FROM node:20-alpine\nUSER root\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    assert "file=deploy/Dockerfile," in annotations_of(scan([project], select=["DF008"]))[0]
