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


@pytest.mark.parametrize("name", ["compliant", "noncompliant", "portmismatch"])
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
