"""Collects the annotated rule cases under ``fixtures/cases/<ID>/`` (Semgrep style).

``# ruleid: ID`` (``// ruleid: ID`` in JS) on its own line expects a finding of that rule on the
next line that is not itself an annotation; ``# ok: ID`` marks a near miss that must stay quiet
(recorded in ``Case.near_misses``; it counts as the rule's passing case only with the rule's own
ID, see ``tests/test_rule_cases.py``); ``todoruleid:``/``todook:`` record known
misses without failing. ``# unknownid: ID [text]`` expects the check to yield an Unknown (the control
is not checked, never pass or fail) on the next line, whose reason contains ``text``; nginx cases
(``NG*``) also fail on an Unknown no annotation expects. ``expect.yaml`` lists expectations where
comments cannot go. A first line
``# params: {...}`` overrides the rule's parameters for the case.

A case folder holding files is one small project; a case folder holding only folders makes each
of them a project of its own.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
CASES = REPO / "fixtures" / "cases"
_ANNOTATION = re.compile(r"^\s*(#|//)\s*(ruleid|ok|todoruleid|todook|unknownid):\s*([A-Z]+[0-9]{3})\b"
                         r"[ \t]*(.*?)\s*$")
_PARAMS = re.compile(r"^\s*(#|//)\s*params:\s*(\{.*\})\s*$")


@dataclass
class Case:
    rule_id: str
    directory: Path
    expected: set[tuple[str, int]] = field(default_factory=set)
    known_misses: set[tuple[str, int]] = field(default_factory=set)  # todoruleid
    known_false_positives: set[tuple[str, int]] = field(default_factory=set)  # todook
    params: dict[str, Any] = field(default_factory=dict)
    unknowns: dict[tuple[str, int], str] = field(default_factory=dict)  # unknownid: -> text
    near_misses: set[tuple[str, int]] = field(default_factory=set)  # ok: <this case's rule ID>

    @property
    def clean(self) -> bool:
        """No failure, Unknown or known miss is expected anywhere in the case."""
        return not (self.expected or self.unknowns or self.known_misses)

    @property
    def name(self) -> str:
        return self.directory.relative_to(CASES).as_posix()


def _annotations(case: Case, path: Path) -> None:
    relative = path.relative_to(case.directory).as_posix()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (UnicodeDecodeError, OSError):
        return
    pending: list[tuple[str, str, str]] = []
    for number, line in enumerate(lines, start=1):
        params = _PARAMS.match(line)
        if params and number == 1:
            case.params.update(json.loads(params.group(2)))
            continue
        match = _ANNOTATION.match(line)
        if match:
            pending.append((match.group(2), match.group(3), match.group(4)))
            continue
        for kind, rule_id, text in pending:
            if rule_id != case.rule_id:
                continue
            if kind == "unknownid":
                case.unknowns[(relative, number)] = text
                continue
            target = {"ruleid": case.expected, "todoruleid": case.known_misses,
                      "todook": case.known_false_positives, "ok": case.near_misses}.get(kind)
            if target is not None:
                target.add((relative, number))
        pending = []


def _load(case: Case) -> Case:
    for path in sorted(case.directory.rglob("*")):
        if path.is_file() and path.name != "expect.yaml":
            _annotations(case, path)
    expect = case.directory / "expect.yaml"
    if expect.is_file():
        for entry in yaml.safe_load(expect.read_text()) or []:
            if entry["rule"] == case.rule_id:
                case.expected.add((entry["path"], int(entry["line"])))
    return case


def collect_cases() -> list[Case]:
    cases: list[Case] = []
    for rule_dir in sorted(p for p in CASES.iterdir() if p.is_dir()):
        children = list(rule_dir.iterdir())
        if children and all(child.is_dir() for child in children):
            cases.extend(_load(Case(rule_dir.name, child)) for child in sorted(children))
        else:
            cases.append(_load(Case(rule_dir.name, rule_dir)))
    return cases
