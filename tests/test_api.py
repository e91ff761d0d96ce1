"""The auditor as a library (auditor/api.py): ``scan(paths) -> AuditResult`` on the example
deployments, with what the command line passes it (a scan root, a configuration, a selection),
giving what ``auditor scan`` reports, and leaving the audited tree as it was."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from auditor.api import scan
from auditor.catalog import load_catalog
from auditor.config import Config
from auditor.engine import AuditResult
from tests.conftest import FIXTURES, run_auditor

CATALOG = load_catalog()
NONCOMPLIANT = FIXTURES / "noncompliant"
COMPLIANT = FIXTURES / "compliant"


@pytest.fixture(scope="module")
def noncompliant() -> AuditResult:
    return scan([NONCOMPLIANT])


def _expected(root: Path) -> set[tuple[str, str, int]]:
    return {(e["rule"], e["path"], int(e["line"])) for e in yaml.safe_load((root / "expected.yaml").read_text()) or []}


def test_scan_of_a_folder_reports_relative_to_it(noncompliant: AuditResult) -> None:
    assert noncompliant.root == NONCOMPLIANT and noncompliant.roots == [str(NONCOMPLIANT)]
    assert noncompliant.files_scanned > 10
    assert all(not Path(f.span.path).is_absolute() and (NONCOMPLIANT / f.span.path).is_file()
               for f in noncompliant.findings)
    assert {(f.rule_id, f.span.path, f.span.line) for f in noncompliant.findings if not f.rule_id.startswith("SC")} \
        == _expected(NONCOMPLIANT)


def test_every_rule_that_ran_has_a_control_and_every_finding_a_rule(noncompliant: AuditResult) -> None:
    assert set(noncompliant.rules) == set(CATALOG)
    assert set(noncompliant.controls) == set(CATALOG)
    assert {f.rule_id for f in noncompliant.findings} <= set(noncompliant.rules)
    failing = {rule_id for rule_id, control in noncompliant.controls.items() if control.status == "fail"}
    assert failing == {f.rule_id for f in noncompliant.active_findings}


def test_the_library_never_runs_the_external_scanners(noncompliant: AuditResult) -> None:
    assert noncompliant.scanner_runs == []
    for rule_id in ("SC001", "SC002", "SC003", "SC004"):
        control = noncompliant.controls[rule_id]
        assert control.status == "not_applicable" and "skipped" in control.reason


def test_a_compliant_deployment_has_no_active_finding() -> None:
    result = scan([str(COMPLIANT)])  # a path may be given as text
    assert result.active_findings == [] and result.at_or_above("info") == []
    statuses = {control.status for control in result.controls.values()}
    assert "fail" not in statuses and "error" not in statuses and "pass" in statuses


def test_select_ignore_and_config_are_applied(tmp_path: Path) -> None:
    selected = scan([NONCOMPLIANT], select=["DF"], ignore=["DF008"])
    assert {f.rule_id for f in selected.findings} - {"AUD001", "AUD002", "AUD003", "AUD004"} <= \
        {r for r in CATALOG if r.startswith("DF") and r != "DF008"}
    assert "DF008" not in selected.controls and "DF001" in selected.controls
    config = Config(rules={"DF008": {"severity": "info"}}, ignore=["NG"])
    configured = scan([NONCOMPLIANT], config=config)
    assert {f.severity for f in configured.findings if f.rule_id == "DF008"} == {"info"}
    assert not any(rule_id.startswith("NG") for rule_id in configured.controls)


def test_files_named_under_a_scan_root_are_reported_alone_relative_to_it() -> None:
    result = scan([NONCOMPLIANT / "Dockerfile", NONCOMPLIANT / "docker-compose.yml"], scan_root=NONCOMPLIANT)
    assert result.root == NONCOMPLIANT and result.files_scanned == 2
    per_file = {(f.rule_id, f.span.path, f.span.line) for f in result.findings
                if CATALOG[f.rule_id].target in ("dockerfile", "compose")}
    assert per_file and per_file == {(rule, path, line) for rule, path, line in _expected(NONCOMPLIANT)
                        if CATALOG[rule].target in ("dockerfile", "compose")}
    assert not [f for f in result.findings if f.span.path.startswith(("nginx/", "k8s/"))]


def test_a_path_that_does_not_exist_is_noted_not_raised(tmp_path: Path) -> None:
    result = scan([tmp_path / "missing"], scan_root=tmp_path)  # (the default root would be the cwd)
    assert result.files_scanned == 0 and result.findings == []
    assert [(note.span.path.endswith("missing"), "not read" in note.message) for note in result.notes] == [(True, True)]


def test_the_library_gives_what_the_command_line_reports(noncompliant: AuditResult) -> None:
    done = run_auditor("scan", str(NONCOMPLIANT), "--no-external", "--format", "json")
    assert done.returncode == 1, done.stderr
    reported = json.loads(done.stdout)["findings"]
    assert sorted((f["rule_id"], f["file"], f["line"], f["fingerprint"]) for f in reported) == \
        sorted((f.rule_id, f.span.path, f.span.line, f.fingerprint) for f in noncompliant.findings)


def test_scanning_twice_gives_the_same_result_and_leaves_the_tree_as_it_was(tmp_path: Path) -> None:
    tree = tmp_path / "copy"
    shutil.copytree(NONCOMPLIANT, tree)
    before = {path: (path.stat().st_mtime_ns, path.read_bytes()) for path in tree.rglob("*") if path.is_file()}
    first, second = scan([tree]), scan([tree])
    assert [(f.rule_id, f.span, f.message, f.fingerprint) for f in first.findings] == \
        [(f.rule_id, f.span, f.message, f.fingerprint) for f in second.findings]
    after = {path: (path.stat().st_mtime_ns, path.read_bytes()) for path in tree.rglob("*") if path.is_file()}
    assert after == before
