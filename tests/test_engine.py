"""The rule engine (auditor/engine.py) through its public entry points: which rules run
(``select_rules``), how outcomes become findings and control statuses, what a check that raises or
cannot decide does to its control, and how configured severities, suppressions and parse errors
reach the result. Real rules on real files throughout; only the defective checks are stand-ins
(a check that raises or yields Unknown on demand does not exist in the catalog, and must not)."""
from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.api import scan
from auditor.catalog import Rule, load_catalog
from auditor.config import Config
from auditor.engine import AuditResult, fingerprint, select_rules
from auditor.findings import Fail, Outcome, Pass, Unknown
from auditor.model.span import Span

CATALOG = load_catalog()
ENGINE_RULES = {rule_id for rule_id, rule in CATALOG.items() if rule.target == "engine"}
ROOT_DOCKERFILE = 'FROM node:20-alpine\nWORKDIR /app\nUSER root\nCMD ["node", "server.js"]\n'
UID_DOCKERFILE = 'FROM node:20-alpine\nWORKDIR /app\nUSER 1001\nCMD ["node", "server.js"]\n'


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def tree_with(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "tree"
    for name, text in files.items():
        write(root / name, text)
    return root


def stand_in_check(monkeypatch: pytest.MonkeyPatch, rule_id: str,
                   check: Callable[[Any, Any], Iterator[Outcome]]) -> None:
    """Replace one rule's check module for this test: the engine imports checks by module name,
    so the stand-in is what it finds. It judges whole documents, as most checks do."""
    rule = CATALOG[rule_id]
    module = types.ModuleType(rule.check_module)
    module.ID = rule_id  # type: ignore[attr-defined]
    module.NODES = "document"  # type: ignore[attr-defined]
    module.check = check  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, rule.check_module, module)


def control(result: AuditResult, rule_id: str) -> tuple[str, str]:
    found = result.controls[rule_id]
    return found.status, found.reason


# --- select_rules ---------------------------------------------------------------------------------


def test_select_rules_without_selection_takes_every_enabled_rule() -> None:
    assert select_rules(CATALOG, Config()) == CATALOG


def test_select_is_by_prefix_and_keeps_the_engine_rules() -> None:
    chosen = select_rules(CATALOG, Config(), select=["DF00"])
    assert set(chosen) == {r for r in CATALOG if r.startswith("DF00")} | ENGINE_RULES
    assert ENGINE_RULES and all(r.startswith("AUD") for r in ENGINE_RULES)


def test_ignore_is_by_prefix_and_wins_over_select() -> None:
    chosen = select_rules(CATALOG, Config(), select=["DF", "DC"], ignore=["DC", "DF008"])
    assert "DF008" not in chosen and not any(r.startswith("DC") for r in chosen)
    assert "DF009" in chosen and ENGINE_RULES <= set(chosen)


def test_ignore_can_turn_off_an_engine_rule() -> None:
    assert "AUD001" not in select_rules(CATALOG, Config(), ignore=["AUD001"])


def test_configured_select_applies_when_the_command_line_selects_nothing() -> None:
    config = Config(select=["NG"], ignore=["NG001"])
    chosen = set(select_rules(CATALOG, config))
    assert chosen == {r for r in CATALOG if r.startswith("NG") and r != "NG001"} | ENGINE_RULES
    # the command line's selection replaces the configured one; the ignores add up
    assert set(select_rules(CATALOG, config, select=["KS"])) == \
        {r for r in CATALOG if r.startswith("KS")} | ENGINE_RULES


def test_a_rule_disabled_in_the_configuration_is_not_selected_even_when_named() -> None:
    config = Config(rules={"DF008": {"enabled": False}})
    assert "DF008" not in select_rules(CATALOG, config, select=["DF008"])
    assert "DF008" in select_rules(CATALOG, Config(rules={"DF008": {"enabled": True}}), select=["DF008"])


def test_a_selection_that_matches_nothing_leaves_only_the_engine_rules() -> None:
    assert set(select_rules(CATALOG, Config(), select=["ZZ"])) == ENGINE_RULES


# --- outcomes, findings and statuses ---------------------------------------------------------------


def test_a_fail_becomes_a_stamped_finding_and_fails_the_control(tmp_path: Path) -> None:
    root = tree_with(tmp_path, {"Dockerfile": ROOT_DOCKERFILE})
    result = scan([root], select=["DF008"])
    (finding,) = [f for f in result.findings if f.rule_id == "DF008"]
    assert (finding.span.path, finding.span.line) == ("Dockerfile", 3)
    assert finding.severity == CATALOG["DF008"].severity == "high"
    assert finding.title == CATALOG["DF008"].title
    assert finding.snippet == "USER root"
    assert len(finding.fingerprint) == 32 and finding.suppression is None
    status, _ = control(result, "DF008")
    assert status == "fail"
    assert [(e.span.line, e.snippet) for e in result.controls["DF008"].evidence] == [(3, "USER root")]


def test_a_pass_passes_the_control_with_its_evidence(tmp_path: Path) -> None:
    root = tree_with(tmp_path, {"Dockerfile": UID_DOCKERFILE})
    result = scan([root], select=["DF008"])
    assert [f for f in result.findings if f.rule_id == "DF008"] == []
    assert control(result, "DF008") == ("pass", "")
    assert [e.span.path for e in result.controls["DF008"].evidence] == ["Dockerfile"]


def test_a_rule_without_files_of_its_target_is_not_applicable(tmp_path: Path) -> None:
    root = tree_with(tmp_path, {"Dockerfile": UID_DOCKERFILE})
    result = scan([root], select=["DF008", "NG001"])
    status, reason = control(result, "NG001")
    assert status == "not_applicable" and "no nginx files" in reason


def test_a_check_with_nothing_to_say_leaves_its_control_not_applicable(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in_check(monkeypatch, "DF008", lambda document, params: iter(()))
    result = scan([tree_with(tmp_path, {"Dockerfile": ROOT_DOCKERFILE})], select=["DF008"])
    status, reason = control(result, "DF008")
    assert status == "not_applicable" and reason


def test_findings_are_sorted_by_place_and_fingerprints_survive_moved_lines(tmp_path: Path) -> None:
    first = scan([tree_with(tmp_path / "a", {"Dockerfile": "FROM node\nUSER root\n"})])
    moved = scan([tree_with(tmp_path / "b", {"Dockerfile": "FROM node\n\n\n# moved\nUSER root\n"})])
    assert [f.sort_key() for f in first.findings] == sorted(f.sort_key() for f in first.findings)
    before = {f.rule_id: f for f in first.findings if f.rule_id == "DF008"}
    after = {f.rule_id: f for f in moved.findings if f.rule_id == "DF008"}
    assert (before["DF008"].span.line, after["DF008"].span.line) == (2, 5)
    assert before["DF008"].fingerprint == after["DF008"].fingerprint


def test_fingerprint_tells_identical_lines_apart_and_ignores_spacing() -> None:
    span = Span("Dockerfile", 7)
    assert fingerprint("DF008", span, "USER   root", 0) == fingerprint("DF008", Span("Dockerfile", 9), "USER root", 0)
    assert fingerprint("DF008", span, "USER root", 0) != fingerprint("DF008", span, "USER root", 1)
    assert fingerprint("DF008", span, "USER root", 0) != fingerprint("DF009", span, "USER root", 0)
    assert fingerprint("DF008", span, "USER root", 0) != fingerprint("DF008", Span("app/Dockerfile", 7), "USER root", 0)


# --- a check that raises, a check that cannot decide --------------------------------------------------


def _raising(document: Any, params: Any) -> Iterator[Outcome]:
    yield Fail(Span("Dockerfile", 2), "found before the defect")
    raise RuntimeError("the check tripped over its own feet")


def test_a_check_that_raises_is_an_error_naming_the_exception_and_the_audit_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in_check(monkeypatch, "DF008", _raising)
    root = tree_with(tmp_path, {"Dockerfile": "FROM node:latest\nUSER root\n",
                                "docker-compose.yml": "services:\n  app:\n    image: node:latest\n    privileged: true\n"})
    result = scan([root])
    status, reason = control(result, "DF008")
    assert status == "error"
    assert reason == "internal error in the DF008 check: RuntimeError: the check tripped over its own feet"
    # every other control was still decided, on both files: the defect stopped one check only
    assert {r for r, rule in result.rules.items() if rule.has_check or r in ENGINE_RULES} <= set(result.controls)
    others = {r: c.status for r, c in result.controls.items() if r != "DF008"}
    assert "error" not in others.values(), others
    assert {"DF002", "DF009"} <= {f.rule_id for f in result.findings if f.span.path == "Dockerfile"}
    assert {f.span.path for f in result.findings} == {"Dockerfile", "docker-compose.yml"}


def test_a_check_that_raises_on_its_first_step_is_an_error_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(document: Any, params: Any) -> Iterator[Outcome]:
        raise KeyError("uid")

    stand_in_check(monkeypatch, "DF009", broken)
    result = scan([tree_with(tmp_path, {"Dockerfile": ROOT_DOCKERFILE})], select=["DF008", "DF009"])
    assert control(result, "DF009") == ("error", "internal error in the DF009 check: KeyError: 'uid'")
    assert control(result, "DF008")[0] == "fail"


def test_what_the_calls_before_a_raising_one_found_stays_the_controls_evidence(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A node check called once per stage: the first stage passes, the second trips the check.
    The control is an error, and its evidence still shows the first stage's pass."""
    def per_stage(stage: Any, dockerfile: Any, params: Any) -> Outcome:
        if stage.index:
            raise ValueError("second stage")
        return Pass(stage, "first stage seen")

    stand_in_check(monkeypatch, "DF008", per_stage)  # type: ignore[arg-type]
    sys.modules[CATALOG["DF008"].check_module].NODES = "dockerfile.stage"  # type: ignore[attr-defined]
    root = tree_with(tmp_path, {"Dockerfile": "FROM node:20-alpine AS build\nFROM node:20-alpine\nUSER 1001\n"})
    result = scan([root], select=["DF008"])
    assert control(result, "DF008") == ("error", "internal error in the DF008 check: ValueError: second stage")
    assert [(e.span.line, e.text) for e in result.controls["DF008"].evidence] == [(1, "first stage seen")]


def test_unknown_without_a_failure_makes_the_control_error_with_the_place_and_reason(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def undecided(document: Any, params: Any) -> Iterator[Outcome]:
        yield Pass(Span("Dockerfile", 1), "base image seen")
        yield Unknown(Span("Dockerfile", 3), "USER comes from a build argument that is not set")

    stand_in_check(monkeypatch, "DF008", undecided)
    result = scan([tree_with(tmp_path, {"Dockerfile": ROOT_DOCKERFILE})], select=["DF008"])
    status, reason = control(result, "DF008")
    assert status == "error"  # never pass: Unknown is not absent
    assert reason == "not checked: Dockerfile:3: USER comes from a build argument that is not set"
    evidence = {(e.span.line, e.text) for e in result.controls["DF008"].evidence}
    assert (3, "not checked: USER comes from a build argument that is not set") in evidence
    assert not [f for f in result.findings if f.rule_id == "DF008"]


def test_a_failure_beside_an_unknown_still_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def mixed(document: Any, params: Any) -> Iterator[Outcome]:
        yield Unknown(Span("Dockerfile", 1), "templated base image")
        yield Fail(Span("Dockerfile", 3), "final stage ends as USER root; add USER 1001")

    stand_in_check(monkeypatch, "DF008", mixed)
    result = scan([tree_with(tmp_path, {"Dockerfile": ROOT_DOCKERFILE})], select=["DF008"])
    assert control(result, "DF008")[0] == "fail"
    assert [(f.span.line, f.message) for f in result.findings if f.rule_id == "DF008"] == \
        [(3, "final stage ends as USER root; add USER 1001")]


def test_a_check_may_grade_a_sub_case_with_its_own_severity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def graded(document: Any, params: Any) -> Iterator[Outcome]:
        yield Fail(Span("Dockerfile", 3), "root, but only in a debug image", severity="low")

    stand_in_check(monkeypatch, "DF008", graded)
    result = scan([tree_with(tmp_path, {"Dockerfile": ROOT_DOCKERFILE})], select=["DF008"])
    (finding,) = [f for f in result.findings if f.rule_id == "DF008"]
    assert finding.severity == (CATALOG["DF008"].note_severity or "low")


# --- configuration: parameters, severities, suppressions ------------------------------------------


def test_configured_parameters_reach_the_check(tmp_path: Path) -> None:
    root = tree_with(tmp_path, {"Dockerfile": UID_DOCKERFILE.replace("1001", "10001")})
    assert control(scan([root], select=["DF009"]), "DF009")[0] == "fail"  # the default UID is 1001
    result = scan([root], select=["DF009"], config=Config(rules={"DF009": {"uid": 10001}}))
    assert control(result, "DF009") == ("pass", "")


def test_a_configured_severity_stamps_the_finding_and_the_result(tmp_path: Path) -> None:
    root = tree_with(tmp_path, {"Dockerfile": ROOT_DOCKERFILE})
    result = scan([root], select=["DF008"], config=Config(rules={"DF008": {"severity": "low"}}))
    (finding,) = [f for f in result.findings if f.rule_id == "DF008"]
    assert finding.severity == "low" and result.severities["DF008"] == "low"
    assert result.at_or_above("high") == [] and result.at_or_above("low") == [finding]
    assert result.at_or_above("none") == []


def test_a_configured_suppression_with_a_reason_suppresses_and_names_it(tmp_path: Path) -> None:
    root = tree_with(tmp_path, {"Dockerfile": ROOT_DOCKERFILE, "app/Dockerfile": ROOT_DOCKERFILE})
    config = Config(suppress=[{"rule": "DF008", "path": "app/*", "reason": "debug image, never deployed"}])
    result = scan([root], select=["DF008"], config=config)
    by_path = {f.span.path: f for f in result.findings if f.rule_id == "DF008"}
    assert by_path["Dockerfile"].suppression is None
    suppression = by_path["app/Dockerfile"].suppression
    assert suppression is not None and (suppression.kind, suppression.reason) == ("config", "debug image, never deployed")
    assert [f.span.path for f in result.active_findings if f.rule_id == "DF008"] == ["Dockerfile"]
    assert control(result, "DF008")[0] == "fail"  # one finding is still active


def test_a_control_whose_every_finding_is_suppressed_is_suppressed(tmp_path: Path) -> None:
    text = 'FROM node:20-alpine\n# auditor: ignore=DF008 reason="init container needs root"\nUSER root\n'
    result = scan([tree_with(tmp_path, {"Dockerfile": text})], select=["DF008"])
    status, reason = control(result, "DF008")
    assert (status, reason) == ("suppressed", "init container needs root")
    assert control(result, "AUD002")[0] == "pass"


def test_a_suppression_without_a_reason_suppresses_nothing_and_is_reported(tmp_path: Path) -> None:
    text = "FROM node:20-alpine\n# auditor: ignore=DF008\nUSER root\n"
    result = scan([tree_with(tmp_path, {"Dockerfile": text})], select=["DF008"])
    assert control(result, "DF008")[0] == "fail"
    (problem,) = [f for f in result.findings if f.rule_id == "AUD002"]
    assert (problem.span.path, problem.span.line) == ("Dockerfile", 2) and "reason" in problem.message
    assert control(result, "AUD002")[0] == "fail"


# --- parse errors ---------------------------------------------------------------------------------


def test_a_file_that_does_not_parse_is_an_aud001_finding_and_its_controls_are_not_passed(tmp_path: Path) -> None:
    root = tree_with(tmp_path, {"docker-compose.yml": "services:\n  app:\n    image: [unclosed\n"})
    result = scan([root], select=["DC"])
    (problem,) = [f for f in result.findings if f.rule_id == "AUD001"]
    assert problem.span.path == "docker-compose.yml" and problem.span.line >= 3
    assert control(result, "AUD001")[0] == "fail"
    statuses = {r: c.status for r, c in result.controls.items() if r.startswith("DC")}
    assert statuses and "pass" not in statuses.values(), statuses
    assert all(c.reason for r, c in result.controls.items() if r.startswith("DC") and c.status == "error")


def test_a_broken_file_does_not_stop_the_others_from_being_checked(tmp_path: Path) -> None:
    root = tree_with(tmp_path, {"broken/docker-compose.yml": "services: [\n",
                                "Dockerfile": ROOT_DOCKERFILE})
    result = scan([root], select=["DF008", "DC"])
    assert [f.span.path for f in result.findings if f.rule_id == "AUD001"] == ["broken/docker-compose.yml"]
    assert [f.span.path for f in result.findings if f.rule_id == "DF008"] == ["Dockerfile"]
    assert result.files_scanned == 2


def test_the_rules_that_ran_are_in_the_result_with_their_severities(tmp_path: Path) -> None:
    result = scan([tree_with(tmp_path, {"Dockerfile": ROOT_DOCKERFILE})], select=["DF008"])
    assert set(result.rules) == {"DF008"} | ENGINE_RULES
    assert all(isinstance(rule, Rule) for rule in result.rules.values())
    assert result.severities == {r: CATALOG[r].severity for r in result.rules}


def test_each_finding_is_its_controls_evidence_at_the_same_place() -> None:
    """A failure is a finding and an evidence entry of its control: the same span, message and
    quoted line (the entry is made from the finding's own strings)."""
    from tests.conftest import FIXTURES

    result = scan([FIXTURES / "noncompliant"])
    assert result.findings
    for finding in result.findings:
        if finding.rule_id.startswith("AUD"):
            continue
        entries = result.controls[finding.rule_id].evidence
        assert (finding.span, finding.message, finding.snippet) in {(e.span, e.text, e.snippet) for e in entries}


def test_fingerprints_are_the_documented_digest(tmp_path: Path) -> None:
    """Baselines match findings by fingerprint, so its text never changes: SHA-256 of rule, file,
    the anchor line with its whitespace folded (``<file>`` for a finding about the whole file) and
    the occurrence of that line in the file, NUL-separated, first 32 hex digits."""
    import hashlib

    write(tmp_path / "Dockerfile", "FROM node:latest\nUSER   root\nRUN echo\nUSER root\nEXPOSE 22\nEXPOSE  22\n")
    findings = scan([tmp_path]).findings

    def digests(rule_id: str, content: str, count: int) -> set[str]:
        return {hashlib.sha256(f"{rule_id}\0Dockerfile\0{content}\0{n}".encode()).hexdigest()[:32]
                for n in range(count)}

    def of(rule_id: str) -> set[str]:
        return {f.fingerprint for f in findings if f.rule_id == rule_id}

    assert of("DF008") == digests("DF008", "USER root", 1)
    assert of("DF019") == digests("DF019", "<file>", 1)  # line 1, no column: the whole file
    assert of("DF011") == digests("DF011", "EXPOSE 22", 3)  # two lines alike once folded, three findings
    assert of("DF008") == {fingerprint("DF008", Span("Dockerfile", 4, 1), "USER root", 0)}


def test_a_finding_about_a_file_that_is_not_configuration_quotes_none_of_it(tmp_path: Path) -> None:
    """A committed .env is named by a finding (XF005) but never quoted: its line would be the
    secret. The quote is decided per file once, and a line of the same text in a Dockerfile is
    still quoted."""
    write(tmp_path / ".env", "FROM node:20\n")
    write(tmp_path / "Dockerfile", "FROM node:20\nCOPY .env /app/.env\nUSER 1001\n")
    findings = scan([tmp_path]).findings
    about_env = [f for f in findings if f.span.path == ".env"]
    assert about_env and all(f.snippet == "" for f in about_env)
    assert {f.snippet for f in findings if f.span.path == "Dockerfile" and f.span.line == 1} == {"FROM node:20"}


# --- what the engine keeps from one project to the next (engine._plans) ---------------------------


def _checked(root: Path, rules: dict[str, Rule], config: Config) -> dict[str, tuple[str, int]]:
    """run_checks on the tree's project, as a worker runs it on each of its projects in turn."""
    from auditor.discovery import discover
    from auditor.engine import run_checks
    from auditor.parsers.project import build_project

    project = build_project(discover([root], root, exclude=[], max_file_size=config.max_file_size,
                                     max_files=config.max_files))
    findings, controls = run_checks(project, rules, config)
    return {rule_id: (found.status, len(found.evidence)) for rule_id, found in controls.items()} | {
        f"{finding.rule_id}@{finding.span.line}": (finding.severity, 0) for finding in findings}


def test_a_rule_setting_changed_in_place_between_projects_reaches_the_next_project(tmp_path: Path) -> None:
    """The parameters and severity worked out for the first project are kept for the next ones
    only while the configuration says the same: changed in place (a nested value, a severity),
    the next project is checked with the new values."""
    root = tree_with(tmp_path, {"Dockerfile": UID_DOCKERFILE.replace("1001", "10001")})
    rules = {rule_id: CATALOG[rule_id] for rule_id in ("DF009",)}
    config = Config(rules={"DF009": {"uid": 1001}})
    assert _checked(root, rules, config)["DF009"][0] == "fail"
    config.rules["DF009"]["uid"] = 10001  # the same Config and rules, one value changed in place
    assert _checked(root, rules, config)["DF009"][0] == "pass"
    config.rules["DF009"].update(uid=1001, severity="low")
    assert _checked(root, rules, config)["DF009@3"] == ("low", 0)


def test_a_check_module_stood_in_between_projects_is_the_one_that_runs(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    root = tree_with(tmp_path, {"Dockerfile": ROOT_DOCKERFILE})
    rules = {"DF008": CATALOG["DF008"]}
    config = Config()
    assert _checked(root, rules, config)["DF008"] == ("fail", 1)  # the real check, its plan kept
    stand_in_check(monkeypatch, "DF008", lambda document, params: iter((Pass(document, "stand-in"),)))
    assert _checked(root, rules, config)["DF008"] == ("pass", 1)


def test_the_rules_run_follow_the_rules_given_for_each_project(tmp_path: Path) -> None:
    root = tree_with(tmp_path, {"Dockerfile": ROOT_DOCKERFILE})
    rules = {"DF008": CATALOG["DF008"]}
    config = Config()
    assert set(_checked(root, rules, config)) == {"DF008", "DF008@3"}
    rules["DF009"] = CATALOG["DF009"]  # the same dict, one more rule
    assert {"DF008", "DF009"} <= set(_checked(root, rules, config))
    del rules["DF008"]
    assert "DF008" not in _checked(root, rules, config)


def test_two_threads_with_one_configuration_and_other_rules_each_get_their_own_plans() -> None:
    """The plans of the last rules asked for are kept with those rules as one value. Kept as two,
    a thread switch between keeping the rules and keeping their plans paired one thread's rules
    with the other's plans, and from then on every call got the wrong plans. The switch is made
    here, deterministically, at the plans' lookup of their first rule: the other "thread" asks
    for its rules right then."""
    from typing import Any

    from auditor.catalog import load_catalog
    from auditor.config import Config
    from auditor.engine import _Plans, select_rules

    catalog, config = load_catalog(), Config()
    plans = _Plans(config)
    chosen = {"DF": select_rules(catalog, config, ["DF"], []), "KS": select_rules(catalog, config, ["KS"], [])}

    class SwitchingOnce(dict[str, Any]):
        switched = False

        def get(self, key: str, default: Any = None) -> Any:
            if not self.switched:
                self.switched = True
                plans.checked_plans(chosen["KS"])  # the other thread runs here
            return super().get(key, default)

    plans.by_id = SwitchingOnce()
    first = plans.checked_plans(chosen["DF"])
    assert {plan.rule.id[:2] for plan in first} == {"DF"}
    for prefix in ("KS", "DF", "KS"):
        assert {plan.rule.id[:2] for plan in plans.checked_plans(chosen[prefix])} == {prefix}
