"""Every annotated case under fixtures/cases/ gives exactly the findings its annotations state, and
every rule with a check has a failing and a passing case."""
from __future__ import annotations

import re

import pytest

from auditor.api import scan
from auditor.catalog import load_catalog
from auditor.config import Config
from tests.rule_cases import CASES as CASES_DIR
from tests.rule_cases import REPO, Case, collect_cases

CASES = collect_cases()


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case_findings_match_annotations(case: Case) -> None:
    config = Config(rules={case.rule_id: case.params} if case.params else {})
    result = scan([case.directory], config=config, select=[case.rule_id])
    found = {(f.span.path, f.span.line) for f in result.findings if f.rule_id == case.rule_id}
    missing = case.expected - found - case.known_misses
    unexpected = found - case.expected - case.known_false_positives
    assert not missing and not unexpected, (
        f"{case.name}: missing {sorted(missing)}, unexpected {sorted(unexpected)}; "
        f"messages: {[(f.span.path, f.span.line, f.message) for f in result.findings]}")
    control = result.controls.get(case.rule_id)
    unknown = {(e.span.path, e.span.line): e.text for e in (control.evidence if control else ())
               if e.text.startswith("not checked: ")}
    missing_unknown = {place: text for place, text in case.unknowns.items()
                       if place not in unknown or text not in unknown[place]}
    assert not missing_unknown, (f"{case.name}: expected Unknown at {missing_unknown}; "
                                 f"got {unknown}")
    if case.rule_id.startswith("NG"):
        assert set(unknown) <= set(case.unknowns), (
            f"{case.name}: unexpected Unknown {sorted(set(unknown) - set(case.unknowns))}: {unknown}")
    if case.unknowns and not case.expected:
        assert control is not None and control.status == "error", control
    problems = [f for f in result.findings if f.rule_id == "AUD001"]
    assert not problems, f"case files must parse: {[(f.span.path, f.span.line, f.message) for f in problems]}"


CATALOG = load_catalog()
CHECKED_RULES = sorted(rule.id for rule in CATALOG.values() if rule.has_check)


def _status(case: Case) -> str:
    config = Config(rules={case.rule_id: case.params} if case.params else {})
    control = scan([case.directory], config=config, select=[case.rule_id]).controls.get(case.rule_id)
    return control.status if control is not None else "absent"


@pytest.mark.parametrize("rule_id", CHECKED_RULES)
def test_every_checked_rule_has_failing_and_passing_cases(rule_id: str) -> None:
    """A failing case is one that expects a finding. A passing case either marks a near miss
    with ``ok: <this rule's ID>`` (an ``ok:`` naming another rule, or none, does not count) in a
    case where the check ran, or expects nothing at all and leaves the control ``pass``: a case
    where the check found nothing to look at (``not_applicable``) proves nothing."""
    mine = [case for case in CASES if case.rule_id == rule_id]
    assert any(case.expected for case in mine), f"{rule_id} has no failing case in fixtures/cases/{rule_id}/"
    statuses: dict[str, str] = {}
    for case in [c for c in mine if c.near_misses] + [c for c in mine if c.clean and not c.near_misses]:
        statuses[case.name] = _status(case)
        ran = statuses[case.name] in ("pass", "fail") if case.near_misses else statuses[case.name] == "pass"
        if ran:
            return
    pytest.fail(f"{rule_id} has no passing case: no `ok: {rule_id}` near miss and no case without expectations "
                f"that passes (cases tried, with the control's status: {statuses or 'none'})")


def test_from_an_id_the_rule_check_and_cases_are_found_as_the_architecture_page_says() -> None:
    """docs/architecture.md: the ID's letters name the family folder; then rules/<ID>.yaml,
    auditor/checks/<family>/<id>.py and fixtures/cases/<ID>/ hold the rule, check and cases."""
    page = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    folders = dict(re.findall(r"^\| ([A-Z]+) \| `([a-z_]+)` \|", page, re.MULTILINE))
    assert folders, "docs/architecture.md has no prefix table"
    for rule_id, rule in CATALOG.items():
        prefix = re.match(r"[A-Z]+", rule_id)
        assert prefix and folders.get(prefix.group()) == rule.family, f"{rule_id}: family {rule.family}, page {folders}"
        assert (REPO / "rules" / f"{rule_id}.yaml").is_file()
        if rule.has_check:
            check = REPO / "auditor" / "checks" / rule.family / f"{rule_id.lower()}.py"
            assert check.is_file() and rule.check_module == f"auditor.checks.{rule.family}.{rule_id.lower()}"
            assert (CASES_DIR / rule_id).is_dir(), f"{rule_id}: no fixtures/cases/{rule_id}/"
