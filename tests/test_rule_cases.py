"""Every annotated case under fixtures/cases/ gives exactly the findings its annotations state."""
from __future__ import annotations

import pytest

from auditor.api import scan
from auditor.config import Config
from tests.rule_cases import Case, collect_cases

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
