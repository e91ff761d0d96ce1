"""Bounded everywhere, linear everywhere (issue 11, attack 8): the inputs that used to cost minutes
or gigabytes now complete with the right result. These tests assert behaviour only; the time and
memory of each probe are measured by benchmarks/bench_probes.py, not here. Scans that could hang
run in a child process with a hard timeout (harness.py), so a regression fails instead of freezing."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from auditor.findings import Finding
from auditor.model.span import Span
from auditor.suppressions import apply_suppressions, parse_inline
from tests.adversarial.corpus import _write
from tests.adversarial.harness import scan

TODAY = dt.date(2026, 1, 1)
SPACES = " " * 40_000


def _finding(rule_id: str, path: str, line: int) -> Finding:
    return Finding(rule_id, "high", "title", "message", Span(path, line), "", f"{rule_id}{line:08x}")


# --- the suppression comment parser ----------------------------------------------------------------


def test_a_suppression_with_40000_spaces_is_read_correctly_through_a_real_scan(tmp_path: Path) -> None:
    # the old regular expression backtracked quadratically over these spaces (minutes; the
    # harness's timeout fails it); the list is DF008 and DF009 all the same
    _write(tmp_path, "Dockerfile", "FROM node:20-alpine\n"
                                   f'# auditor: ignore=DF008,{SPACES},DF009 reason="root for apk"\nUSER root\n')
    run = scan(tmp_path, "--select", "DF008")
    assert run.report is not None
    [finding] = [f for f in run.report["findings"] if f["rule_id"] == "DF008"]
    assert finding["suppressed"] == {"kind": "inline", "reason": "root for apk"}
    assert run.exit_code == 0
    assert not [f for f in run.report["findings"] if f["rule_id"] == "AUD002" and "DF008" in f["message"]]


@pytest.mark.parametrize("comment, rules, reason", [
    (f"# auditor: ignore=DF008{SPACES}x", ("DF008", "X"), ""),
    (f"# auditor: ignore={SPACES}", None, None),
    (f"# auditor: ignore=DF008 {'a' * 40_000}", ("DF008", "A" * 40_000), ""),
    ('# auditor: ignore=DF008 ' + 'a="' * 15_000, ("DF008",), ""),
    ("# auditor: ignore=DF008 " + "a='b=\"" * 10_000, ("DF008",), ""),
    ("# auditor: ignore=" + "DF008," * 10_000 + ' reason="many"', ("DF008",) * 10_000, "many"),
    ('# auditor: ignore=DF008 reason="say \\"why\\"" until=2027-01-31', ("DF008",), 'say "why"'),
    ("#" * 40_000, None, None),
    ("// auditor: ignore=NX003 reason=bare", ("NX003",), "bare"),
])
def test_pathological_directives_parse_to_the_expected_result(comment: str, rules, reason) -> None:  # type: ignore[no-untyped-def]
    found = parse_inline("Dockerfile", f"FROM node:20-alpine\n{comment}\nUSER root\n", TODAY)
    if rules is None:
        assert found == []
        return
    [suppression] = found
    assert suppression.rules == rules and suppression.reason == reason
    assert suppression.applies_to_line == 3


def test_a_stack_of_twenty_thousand_directive_lines_all_point_at_the_next_code_line() -> None:
    text = '# auditor: ignore=DF008 reason="x"\n' * 20_000 + "USER root\n"
    found = parse_inline("Dockerfile", text, TODAY)
    assert len(found) == 20_000 and {s.applies_to_line for s in found} == {20_001}


def test_yaml_text_that_looks_like_a_directive_is_not_a_suppression() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n"
        "  script: |\n"
        '    # auditor: ignore=KS001 reason="inside a block scalar"\n'
        "    echo hi\n"
        '  quoted: "one # auditor: ignore=KS002 reason=x\n'
        '    # auditor: ignore=KS002 reason=y"\n'
        '  real: 1  # auditor: ignore=KS003 reason="a real comment"\n'
        '  block: >  # auditor: ignore=KS004 reason="a comment after the indicator"\n'
        "    folded\n")
    found = parse_inline("k8s/config.yaml", text, TODAY)
    assert [(s.rules, s.comment.line) for s in found] == [(("KS003",), 11), (("KS004",), 12)]
    # outside YAML, lines are read one by one: only the directive after an opening quote on its
    # own line is recognised as a string (a multi-line string's next line cannot be told apart)
    assert [s.comment.line for s in parse_inline("notes.conf", text, TODAY)] == [7, 10, 11, 12]


@pytest.mark.parametrize("line, expected", [
    ('RUN echo "# auditor: ignore=DF016 reason=smuggled" && apk add curl', 0),
    ("RUN echo '# auditor: ignore=DF016 reason=smuggled'", 0),
    ('    add_header X-Note "a \\" # auditor: ignore=NG003 reason=smuggled";', 0),
    ('RUN apk add curl  # auditor: ignore=DF016 reason="curl is the probe"', 1),
    ('RUN echo "done" # auditor: ignore=DF016 reason="after the string"', 1),
])
def test_a_directive_inside_a_quoted_string_is_not_a_comment(line: str, expected: int) -> None:
    assert len(parse_inline("Dockerfile", f"FROM node:20-alpine\n{line}\n", TODAY)) == expected


def test_a_block_scalar_directive_does_not_hide_the_finding_below_it() -> None:
    text = "data:\n  script: |\n    # auditor: ignore=KS012 reason=smuggled\n    x\nspec: 1\n"
    finding = _finding("KS012", "k8s/pod.yaml", 4)
    report = apply_suppressions([finding], {"k8s/pod.yaml": text}, [], ["KS012"], today=TODAY)
    assert not report.findings[0].suppressed


# --- configured suppressions: an empty or unknown pattern is never a wildcard -------------------------


@pytest.mark.parametrize("pattern", ["", "   ", "*", "?", "D?008", "XX", "XX999", "DF008 ", "df"])
def test_a_configured_rule_pattern_that_names_no_rule_matches_nothing(pattern: str) -> None:
    findings = [_finding("DF008", "Dockerfile", 2), _finding("KS012", "k8s/pod.yaml", 3)]
    entry = {"rule": pattern, "path": "*", "reason": "hide everything"}
    report = apply_suppressions(findings, {}, [entry], ["DF008", "KS012"], today=TODAY)
    if pattern.strip().upper() == "DF":  # a family prefix is a real pattern: it hides DF only
        assert [f.suppressed for f in report.findings] == [True, False]
        return
    if pattern.strip().upper() == "DF008":
        assert [f.suppressed for f in report.findings] == [True, False]
        return
    assert not any(f.suppressed for f in report.findings), pattern
    assert report.problems and "matches nothing" in report.problems[0][1] or \
        "no rule matches" in report.problems[0][1]


def test_a_configured_id_prefix_with_a_star_hides_only_those_rules() -> None:
    findings = [_finding("DF008", "Dockerfile", 2), _finding("DF019", "Dockerfile", 1), _finding("KS012", "k.yaml", 3)]
    report = apply_suppressions(findings, {}, [{"rule": "DF00*", "reason": "legacy image"}],
                                ["DF008", "DF019", "KS012"], today=TODAY)
    assert [f.suppressed for f in report.findings] == [True, False, False]


# --- jobs ---------------------------------------------------------------------------------------------


def test_jobs_is_clamped_to_the_cpus_whatever_is_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import concurrent.futures

    from auditor.api import scan as api_scan
    from auditor.parallel import POOL_THRESHOLD, available_cpus, worker_count

    assert worker_count(300) == min(300, available_cpus()) and worker_count(0) == available_cpus()
    assert worker_count(1) == 1 and worker_count(-5) == available_cpus()
    # a real scan that takes the process pool: record what it is asked for (the pool still runs)
    asked: list[int] = []
    real_pool = concurrent.futures.ProcessPoolExecutor

    class RecordingPool(real_pool):  # type: ignore[misc, valid-type]
        def __init__(self, max_workers: int | None = None, **kwargs) -> None:  # type: ignore[no-untyped-def]
            asked.append(max_workers or 0)
            super().__init__(max_workers=max_workers, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", RecordingPool)
    for app in range(4):
        _write(tmp_path, f"app{app}/Dockerfile", "FROM node:20-alpine\nUSER 1001\n")
        _write(tmp_path, f"app{app}/docker-compose.yml", "services:\n  web:\n    build: .\n")
        for index in range(POOL_THRESHOLD // 4):
            _write(tmp_path, f"app{app}/src/f{index}.txt", "x\n")
    result = api_scan([tmp_path], select=["DF008"], jobs=300)
    assert result.controls["DF008"].status == "pass"
    if available_cpus() > 1:
        assert asked == [available_cpus()], asked
    else:
        assert asked == [], asked  # one CPU: no pool at all


# --- Kubernetes lookups -------------------------------------------------------------------------------


def test_ks012_finds_each_pods_service_account_among_thousands(tmp_path: Path) -> None:
    from auditor.api import scan as api_scan

    per_file = 2_000
    for number, namespace in enumerate(("a", "b", "a")):
        documents = [f"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: quiet\n  namespace: {namespace}\n"
                     + ("automountServiceAccountToken: false\n" if namespace == "a" else "")]
        for index in range(per_file):
            account = "quiet" if index % 2 == 0 else "default"
            documents.append(f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{number}-{index}\n"
                             f"  namespace: {namespace}\nspec:\n  serviceAccountName: {account}\n"
                             "  containers:\n  - name: c\n    image: nginx:1.27\n")
        _write(tmp_path, f"k8s/pods{number}.yaml", "---\n".join(documents))
    result = api_scan([tmp_path], select=["KS012"])
    control = result.controls["KS012"]
    failures = [f for f in result.findings if f.rule_id == "KS012"]
    # in namespace a the "quiet" account turns the token off: those pods pass; every other fails
    passed = [e for e in control.evidence if "uses ServiceAccount quiet with" in e.text]
    assert len(passed) == 2 * per_file // 2
    assert len(failures) == 3 * per_file - len(passed)
    assert control.status == "fail"


# --- baselines --------------------------------------------------------------------------------------


def test_a_baseline_over_the_cap_is_refused_without_being_parsed(tmp_path: Path) -> None:
    from auditor import baseline

    _write(tmp_path, "tree/Dockerfile", "FROM node:20-alpine\nUSER 1001\n")
    big = tmp_path / "baseline.json"
    with open(big, "wb") as handle:  # sparse: over the cap on disk, no time spent writing it
        handle.truncate(baseline.MAX_BASELINE_BYTES + 1)
    run = scan(tmp_path / "tree", "--baseline", str(big))
    assert run.exit_code == 2 and "Traceback" not in run.stderr, run.stderr
    assert "-byte cap" in run.stderr
    assert os.path.getsize(big) > baseline.MAX_BASELINE_BYTES
