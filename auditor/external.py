"""Folds the external scanners' runs (Trivy, npm audit) into findings and control statuses, so
SC001-SC004 get the same severities, suppressions, baselines and exit codes as every other rule."""
from __future__ import annotations

TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing

from auditor.catalog import Rule
from auditor.findings import ControlResult, Evidence, Finding
from auditor.model.project import Project
from auditor.model.span import Span
from auditor.scanners.records import ScannerFinding, ScannerRun

if TYPE_CHECKING:
    from typing import Any, Protocol

    from auditor.engine import AuditResult

# Which scanner runs decide which control.
SCANNERS_FOR_RULE = {"SC001": ("trivy fs", "trivy image"), "SC002": ("trivy config", "trivy fs"),
                     "SC003": ("npm audit",)}
SKIPPED = "external scanners skipped (--no-external)"


def skipped_scanners(result: AuditResult) -> str:
    """Why the external scanners' controls were skipped (``--no-external``), or '': said the same
    way in every format (text, SARIF, Markdown, GitHub annotations)."""
    for rule_id in ("SC001", "SC002", "SC003", "SC004"):
        control = result.controls.get(rule_id)
        if control is not None and control.status == "not_applicable" and "skipped" in control.reason:
            return "skipped (--no-external)" if "--no-external" in control.reason else control.reason
    return ""


def project_anchor(project: Project) -> Span:
    """Where a finding about the whole project goes: SARIF consumers need a real file, so the
    first lockfile, Dockerfile or other recognised file stands in for the tree."""
    for candidate in ([p for p in project.recognised if p.endswith("package-lock.json")]
                      + [d.path for d in project.dockerfiles] + list(project.recognised) + list(project.files)):
        return Span(candidate, 1)
    return Span(".", 1)


if TYPE_CHECKING:
    class Stamper(Protocol):
        """What the engine hands over to turn a scanner's result into a finding (engine._Stamper)."""

        def finding(self, rule: Rule, severity: str, message: str, span: Span, *,
                    properties: dict[str, Any] | None = None, identity: str | None = None) -> Finding: ...


def _file_order(item: ScannerFinding) -> tuple[str, int, int, str, str, str]:
    span = item.span
    return (span.path, span.line, span.column or 0, item.rule_id, item.identity, item.message)


def fold_runs(runs: list[ScannerRun] | None, project: Project, rules: dict[str, Rule], stamper: Stamper,
              severity_override: dict[str, str]) -> tuple[list[Finding], dict[str, ControlResult]]:
    findings: list[Finding] = []
    controls: dict[str, ControlResult] = {}
    selected = [rule_id for rule_id in ("SC001", "SC002", "SC003", "SC004") if rule_id in rules]
    if runs is None:
        for rule_id in selected:
            controls[rule_id] = ControlResult(rule_id, "not_applicable", (), SKIPPED)
        return findings, controls
    anchor = project_anchor(project)
    evidence: dict[str, list[Evidence]] = {rule_id: [] for rule_id in selected}
    # Trivy misconfigurations our own controls test too (DS-0002 is DF008): reported once, by
    # the control, when it ran; counted on SC002's evidence
    reported_by_ours: dict[str, int] = {}
    for run in runs:
        # in file order: a fingerprint counts the occurrences of one identity in a file, and Trivy
        # lists identical results in no fixed order, so they swapped fingerprints between runs
        # (a baseline would then see one fixed and one new)
        for item in sorted(run.findings, key=_file_order):
            if item.rule_id not in rules:
                continue
            ours = item.properties.get("same_as") if item.rule_id == "SC002" else None
            if ours and ours in rules:
                reported_by_ours[ours] = reported_by_ours.get(ours, 0) + 1
                continue
            # a scanner that could not run is about the scanned tree, not a line of some file
            span = item.span if item.rule_id == "SC004" else anchor if item.span.path in (".", "") else item.span
            message = item.message if item.title in item.message else f"{item.title}: {item.message}"
            severity = severity_override.get(item.rule_id) or item.severity
            properties = dict(item.properties, scanner=run.scanner)
            finding = stamper.finding(rules[item.rule_id], severity, message, span, properties=properties,
                                      identity=item.identity)
            findings.append(finding)
            if item.rule_id in evidence:  # AUD002 (a Trivy inline ignore): the engine decides its control
                evidence[item.rule_id].append(Evidence(span, message, finding.snippet))
    # a lockfile that exists but was not read (over the size cap, unreadable) was never audited:
    # SC003 is then "not checked" (and the file an AUD003), never "no package-lock.json"
    skipped_locks = [path for path in project.unparsed.get("nextjs", ())
                     if path.rpartition("/")[2] == "package-lock.json"]
    for rule_id in selected:
        relevant = [run for run in runs if run.scanner in SCANNERS_FOR_RULE.get(rule_id, ())] if rule_id != "SC004" else runs
        mine = evidence[rule_id]
        if mine:
            controls[rule_id] = ControlResult(rule_id, "fail", tuple(mine))
        elif rule_id == "SC003" and skipped_locks:
            controls[rule_id] = ControlResult(rule_id, "error", (), f"not checked: {', '.join(skipped_locks)} "
                                              "was not read (AUD001, AUD003), so npm audit did not run on it")
        elif not relevant:
            controls[rule_id] = ControlResult(rule_id, "not_applicable", (), _nothing_to_scan(rule_id))
        elif any(run.error for run in relevant) and rule_id != "SC004":
            reasons = "; ".join(f"{run.scanner}: {run.error}" for run in relevant if run.error)
            controls[rule_id] = ControlResult(rule_id, "error", (), f"not checked: {reasons}")
        else:
            ran = tuple(Evidence(anchor, f"{run.scanner} {run.version or ''} ran cleanly".replace("  ", " ")
                                 + (f" ({run.below_threshold} result(s) below the threshold)" if run.below_threshold else ""))
                        for run in relevant)
            if rule_id == "SC002" and reported_by_ours:
                ran += (Evidence(anchor, "Trivy results reported under the auditor's own controls: " + ", ".join(
                    f"{n} as {ours}" for ours, n in sorted(reported_by_ours.items()))),)
            controls[rule_id] = ControlResult(rule_id, "pass", ran)
    return findings, controls


def _nothing_to_scan(rule_id: str) -> str:
    return "no package-lock.json in the audited tree" if rule_id == "SC003" else "no scanner applies"
