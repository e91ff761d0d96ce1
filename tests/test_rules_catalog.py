"""The catalog is whole and honest: every rule file validates, every rule has a check and every
check a rule, and each rule's documented examples really fail and pass (that every rule has
failing and passing cases is checked in tests/test_rule_cases.py)."""
from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest
import yaml

from auditor.api import scan
from auditor.catalog import load_catalog, rules_dir, validate_rule_documents
from tests.rule_cases import REPO

CATALOG = load_catalog()
CONTROLS_MD = REPO.parent / "shared" / "CONTROLS.md"


def test_every_rule_file_validates_against_the_schema() -> None:
    documents = {p.name: yaml.safe_load(p.read_text()) for p in sorted(rules_dir().glob("*.yaml"))}
    assert documents
    assert validate_rule_documents(documents) == []


def test_schema_rejects_a_broken_rule() -> None:
    broken = {"DF999.yaml": {"id": "DF999", "name": "Not Kebab", "severity": "urgent"}}
    errors = validate_rule_documents(broken)
    assert any("severity" in e for e in errors) and any("name" in e for e in errors)
    assert any("'title' is a required property" in e for e in errors)


def _check_modules() -> set[str]:
    import auditor.checks as checks

    found = set()
    for family in pkgutil.iter_modules(checks.__path__):
        package = importlib.import_module(f"auditor.checks.{family.name}")
        for module in pkgutil.iter_modules(package.__path__):
            if not module.name.startswith("_"):
                found.add(f"auditor.checks.{family.name}.{module.name}")
    return found


def test_every_rule_has_a_check_and_every_check_a_rule() -> None:
    expected = {rule.check_module for rule in CATALOG.values() if rule.has_check}
    modules = _check_modules()
    assert sorted(expected - modules) == [], "rules without a check module"
    assert sorted(modules - expected) == [], "check modules without a rule file"
    for name in modules:
        module = importlib.import_module(name)
        assert module.ID == name.rsplit(".", 1)[1].upper()
        assert callable(module.check)


@pytest.mark.parametrize("rule_id", [r.id for r in CATALOG.values() if r.examples])
def test_documented_examples_fail_and_pass(rule_id: str, tmp_path: Path) -> None:
    rule = CATALOG[rule_id]
    for label, should_fail in (("bad", True), ("good", False)):
        folder = tmp_path / label
        files = dict(rule.examples.get("context") or {})
        files[rule.examples["filename"]] = rule.examples[label]
        for name, text in files.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        result = scan([folder], select=[rule_id])
        fired = [f for f in result.findings if f.rule_id == rule_id]
        assert bool(fired) == should_fail, f"{rule_id} examples.{label}: findings {[f.message for f in fired]}"
        assert not [f for f in result.findings if f.rule_id == "AUD001"], f"{rule_id} examples.{label} must parse"


def test_catalog_ids_match_the_control_catalog() -> None:
    if not CONTROLS_MD.is_file():
        pytest.skip(f"{CONTROLS_MD} is not beside the repository")
    catalog_ids = set(re.findall(r"^\| ((?:DF|DC|NG|KS|NX|SC|XF)\d{3}) \|", CONTROLS_MD.read_text(), re.MULTILINE))
    ours = {rule_id for rule_id in CATALOG if not rule_id.startswith(("AUD", "AR"))}  # AR: issue 13, ours
    assert ours <= catalog_ids, f"rules not in CONTROLS.md: {sorted(ours - catalog_ids)}"
