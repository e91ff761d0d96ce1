"""``--format junit``: JUnit XML with one test case per control, so CI dashboards (GitLab's
test report, Jenkins, Azure DevOps) show pass/fail per control.

One ``testsuite`` per family (classname = the family, name = "ID title"). A failing control
carries a ``<failure>`` listing each active finding as ``file:line message``; a control that could
not be checked an ``<error>``; a not-applicable or fully suppressed control is ``<skipped>``.
Suppressed and baselined findings are listed in the case's ``system-out``, never as failures.

XML 1.0 cannot carry most control characters at all (not even escaped), so every text from the
audited tree goes through ``textsafe.display`` first; ElementTree then escapes markup characters.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import IO

from auditor.catalog import FAMILY_BY_PREFIX
from auditor.engine import AuditResult
from auditor.findings import ControlResult, Finding
from auditor.textsafe import display

_SKIPPED_STATUSES = ("not_applicable", "suppressed")


def render_junit(result: AuditResult, stream: IO[str]) -> None:
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = result_to_junit(result)
    ET.indent(root)
    stream.write(ET.tostring(root, encoding="unicode"))
    stream.write("\n")


def result_to_junit(result: AuditResult) -> ET.Element:
    findings_by_rule: dict[str, list[Finding]] = defaultdict(list)
    for finding in result.findings:
        findings_by_rule[finding.rule_id].append(finding)
    controls = dict(result.controls)
    for rule_id in findings_by_rule:  # a finding whose rule has no control result still shows
        controls.setdefault(rule_id, ControlResult(rule_id, "fail", ()))
    by_family: dict[str, list[ControlResult]] = defaultdict(list)
    for rule_id in sorted(controls):
        by_family[_family(rule_id, result)].append(controls[rule_id])

    suites = ET.Element("testsuites", name="auditor")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for family in sorted(by_family):
        suite = ET.SubElement(suites, "testsuite", name=f"auditor.{family}")
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for control in by_family[family]:
            kind = _add_case(suite, family, control, findings_by_rule.get(control.rule_id, []), result)
            counts["tests"] += 1
            if kind:
                counts[kind] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", "0")
    kind = _add_policy_case(suites, result)
    if kind is not None:
        totals["tests"] += 1
        if kind:
            totals[kind] += 1
    for key, value in totals.items():
        suites.set(key, str(value))
    return suites


def _add_policy_case(suites: ET.Element, result: AuditResult) -> str | None:
    """What the audited tree's configuration weakened: one test case that lists it, failing when
    the configuration left nothing to audit. None when there is nothing to list."""
    policy = result.policy
    if policy is None or not policy.listed:
        return None
    suite = ET.SubElement(suites, "testsuite", name="auditor.configuration")
    case = ET.SubElement(suite, "testcase", classname="configuration",
                         name=_xml(f"weakenings by {policy.config or 'the configuration'}"), time="0")
    lines = [_xml(weakening.text()) for weakening in policy.listed]
    kind = ""
    if policy.blocking:
        ET.SubElement(case, "failure", message=_xml(policy.blocking[0].change), type="configuration").text = "\n".join(lines)
        kind = "failures"
    ET.SubElement(case, "system-out").text = "\n".join(lines)
    for key, value in (("tests", 1), ("failures", 1 if kind else 0), ("errors", 0), ("skipped", 0)):
        suite.set(key, str(value))
    suite.set("time", "0")
    return kind


def _family(rule_id: str, result: AuditResult) -> str:
    rule = result.rules.get(rule_id)
    if rule is not None:
        return rule.family
    prefix = rule_id.rstrip("0123456789")
    return FAMILY_BY_PREFIX.get(prefix, "other")


def _add_case(suite: ET.Element, family: str, control: ControlResult, findings: list[Finding],
              result: AuditResult) -> str | None:
    """Add the control's test case; returns which counter it adds to (None: it passed)."""
    rule = result.rules.get(control.rule_id)
    title = rule.title if rule is not None else control.rule_id
    severity = result.severities.get(control.rule_id, rule.severity if rule else "info")
    case = ET.SubElement(suite, "testcase", classname=family, name=_xml(f"{control.rule_id} {title}"), time="0")
    active = [f for f in findings if not f.suppressed]
    waived = [f for f in findings if f.suppressed]
    kind: str | None = None
    if control.status == "fail" and active:
        failure = ET.SubElement(case, "failure", type=severity,
                                message=_xml(f"{len(active)} finding(s): {_line(active[0])}"))
        failure.text = "\n".join(_line(f) for f in active)
        kind = "failures"
    elif control.status == "fail":
        # The changed-files mode reports only some files: the control failed elsewhere.
        failure = ET.SubElement(case, "failure", type=severity,
                                message="failed outside the reported files")
        failure.text = "the findings are in files this run does not report on (--diff-base / FILE arguments)"
        kind = "failures"
    elif control.status == "error":
        error = ET.SubElement(case, "error", type="not_checked", message=_xml(control.reason or "not checked"))
        error.text = _xml(control.reason or "not checked")
        kind = "errors"
    elif control.status in _SKIPPED_STATUSES:
        reason = control.reason or control.status.replace("_", " ")
        label = "suppressed: " if control.status == "suppressed" else "not applicable: "
        ET.SubElement(case, "skipped", message=_xml(label + reason))
        kind = "skipped"
    output = [f"{_span(e.span.path, e.span.line)} {_xml(e.text)}" for e in control.evidence] if control.status == "pass" else []
    output += [f"{_line(f)} [{f.suppression.kind}: {_xml(f.suppression.reason)}]" for f in waived if f.suppression]
    if output:
        ET.SubElement(case, "system-out").text = "\n".join(output)
    return kind


def _xml(text: str) -> str:
    """Text XML 1.0 can carry: controls, surrogates, U+FFFE/U+FFFF and undecodable bytes (shown
    as ``\\xff``) all become visible escapes."""
    return display(text)


def _span(path: str, line: int) -> str:
    return f"{_xml(path)}:{line}"


def _line(finding: Finding) -> str:
    return f"{_span(finding.span.path, finding.span.line)} [{finding.severity}] {_xml(finding.message)}"
