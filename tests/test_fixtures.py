"""The whole example deployments: compliant stays silent, noncompliant fails every control of the
catalog at exactly the files and lines its expected.yaml states."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from auditor.api import scan
from tests.conftest import FIXTURES, REPO, run_auditor

CONTROLS_MD = REPO.parent / "shared" / "CONTROLS.md"
STATIC_FAMILIES = ("DF", "DC", "NG", "KS", "NX", "XF")


def _expected(root: Path) -> set[tuple[str, str, int]]:
    return {(e["rule"], e["path"], int(e["line"])) for e in yaml.safe_load((root / "expected.yaml").read_text()) or []}


def _found(root: Path) -> set[tuple[str, str, int]]:
    result = scan([root], ignore=["SC"])
    return {(f.rule_id, f.span.path, f.span.line) for f in result.findings}


@pytest.mark.parametrize("name", ["compliant", "noncompliant", "portmismatch", "multiservice"])
def test_findings_are_exactly_the_expected_ones(name: str) -> None:
    root = FIXTURES / name
    if not (root / "expected.yaml").is_file():
        pytest.skip(f"fixtures/{name} has no expected.yaml yet")
    expected, found = _expected(root), _found(root)
    assert sorted(found - expected) == [] and sorted(expected - found) == [], \
        f"unexpected {sorted(found - expected)}; missing {sorted(expected - found)}"


def test_noncompliant_fails_every_static_control_of_the_catalog() -> None:
    if not CONTROLS_MD.is_file():
        pytest.skip("shared/CONTROLS.md is not beside the repository")
    catalog = set(re.findall(r"^\| ((?:%s)\d{3}) \|" % "|".join(STATIC_FAMILIES), CONTROLS_MD.read_text(), re.M))
    catalog.discard("XF006")  # a note about missing layers: the noncompliant fixture has them all
    fired = {rule for rule, _, _ in _found(FIXTURES / "noncompliant")}
    assert sorted(catalog - fired) == []


def test_compliant_passes_on_the_command_line() -> None:
    result = run_auditor("scan", "--no-external", str(FIXTURES / "compliant"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Findings: none" in result.stdout


def test_noncompliant_fails_on_the_command_line() -> None:
    result = run_auditor("scan", "--no-external", str(FIXTURES / "noncompliant"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr


def test_multiservice_gives_each_workload_only_the_controls_of_its_role() -> None:
    """Third-party workloads (redis, postgres) get only hardening controls, the proxy only the
    hardening and proxy controls; every finding outside the app's files is of a rule whose
    applies_to names that workload's role, and each workload has the role its files show."""
    from auditor.catalog import load_catalog
    from auditor.model.deployment import deployments_of
    from auditor.parsers.project import build_project
    from auditor.discovery import discover

    root = FIXTURES / "multiservice"
    model = deployments_of(build_project(discover([root], root)))
    roles = {(w.kind, w.name): w.role for w in model.workloads}
    assert roles == {
        ("Dockerfile", "web/Dockerfile"): "app", ("Dockerfile", "proxy/Dockerfile"): "proxy",
        ("compose service", "web"): "app", ("compose service", "proxy"): "proxy",
        ("compose service", "redis"): "other", ("compose service", "postgres"): "other",
        ("Kubernetes container", "web"): "app", ("Kubernetes container", "nginx"): "proxy",
        ("Kubernetes container", "redis"): "other", ("Kubernetes container", "postgres"): "other"}
    catalog = load_catalog()
    owner = {"docker-compose.yml:7": "proxy", "docker-compose.yml:76": "other", "docker-compose.yml:101": "other",
             "k8s/edge.yaml:31": "proxy", "k8s/postgres.yaml:27": "other", "k8s/redis.yaml:28": "other",
             "proxy/conf.d/bookshop.conf:15": "proxy"}
    result = scan([root], ignore=["SC"])
    assert result.findings, "the fixture's deliberate gaps must be reported"
    for finding in result.findings:
        role = owner[f"{finding.span.path}:{finding.span.line}"]
        assert role in catalog[finding.rule_id].applies_to, (finding.rule_id, role)
    app_only = {rule_id for rule_id, rule in catalog.items() if rule.applies_to == ("app",)}
    assert {"DF004", "DF011", "DF013", "DF018", "DF009", "KS006", "KS009", "XF004"} <= app_only
    # the app's controls ran (on the app) and passed: nothing was silently skipped
    assert {result.controls[rule_id].status for rule_id in ("DF004", "DF011", "DF013", "DF018", "XF002",
                                                            "XF004", "KS009", "KS006")} == {"pass"}
