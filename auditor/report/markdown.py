"""``--format markdown``: a summary for ``$GITHUB_STEP_SUMMARY`` or a merge-request comment.

A verdict line, counts by severity and by control status, counts per rule (most severe first), a
findings table ordered by severity and, per file, a
collapsible ``<details>`` block with each finding's line. Text from the audited tree (paths,
messages, snippets) is data: every Markdown-significant character is backslash-escaped and ``<``,
``>``, ``&`` become entities, so a file can neither inject HTML nor forge links, emphasis or table
cells. GitHub caps a step summary at 1 MiB, so the tables stop at ``MAX_ROWS`` rows.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import IO

from auditor.engine import AuditResult
from auditor.findings import SEVERITIES, SEVERITY_RANK, STATUSES, Finding
from auditor.textsafe import display

MAX_ROWS = 200
SEVERITY_ICON = {"critical": "🟥", "high": "🟧", "medium": "🟨", "low": "🟦", "info": "⬜"}
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]|~])")


def render_markdown(result: AuditResult, stream: IO[str], threshold: str | None = None) -> None:
    stream.write(result_to_markdown(result, threshold))


def result_to_markdown(result: AuditResult, threshold: str | None = None) -> str:
    lines = ["## auditor", "", _verdict(result, threshold), ""]
    lines += _counts(result)
    from auditor.report.console import skipped_scanners

    skipped = skipped_scanners(result)
    if skipped:
        lines += ["", f"Scanners: {escape(skipped)}"]
    lines += _policy(result)
    # most severe first (stable: by file and line within a severity), so a cut table keeps the worst
    active = sorted(result.active_findings, key=lambda f: -SEVERITY_RANK.get(f.severity, 0))
    if active:
        lines += _by_rule(active)
        lines += ["", "### Findings", "", "| severity | rule | location | message |", "|---|---|---|---|"]
        for finding in active[:MAX_ROWS]:
            lines.append(f"| {SEVERITY_ICON.get(finding.severity, '')} {finding.severity} | {finding.rule_id} "
                         f"| {escape(finding.span.path)}:{finding.span.line} | {escape(finding.message)} |")
        if len(active) > MAX_ROWS:
            lines.append(f"\n… and {len(active) - MAX_ROWS} more; the SARIF or JSON report has them all.")
        lines += ["", "### By file", ""]
        lines += _details(active)
    unchecked = [c for c in result.controls.values() if c.status == "error"]
    if unchecked:
        lines += ["", "### Not checked", ""]
        lines += [f"- **{c.rule_id}**: {escape(c.reason)}" for c in unchecked]
    waived = [f for f in result.findings if f.suppressed]
    if waived:
        lines += ["", f"<details><summary>{len(waived)} suppressed or baselined finding(s)</summary>", ""]
        lines += [f"- {f.rule_id} {escape(f.span.path)}:{f.span.line}: {escape(f.message)} "
                  f"({f.suppression.kind}: {escape(f.suppression.reason)})" for f in waived[:MAX_ROWS] if f.suppression]
        lines += ["", "</details>"]
    if result.baseline_fixed:
        lines += ["", f"{len(result.baseline_fixed)} baselined finding(s) fixed since the baseline was recorded."]
    return "\n".join(lines) + "\n"


def escape(text: str) -> str:
    """Inline Markdown that renders as exactly ``text`` in one table cell or list item."""
    clean = display(text)
    clean = clean.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", clean)


def code(text: str) -> str:
    """An inline code span holding ``text`` literally (for snippets; never inside a table, where
    a ``|`` would still split the cell). The fence is one backtick longer than any run inside."""
    clean = display(text)
    if not clean.strip():
        return ""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", clean)), default=0) + 1)
    return f"{fence} {clean} {fence}"


def _policy(result: AuditResult) -> list[str]:
    """What the audited tree's configuration weakened (refused ones: kept at the policy floor)."""
    policy = result.policy
    if policy is None or not policy.listed:
        return []
    floor = f"; policy floor {code(policy.floor)}" if policy.floor else ""
    lines = ["", f"### Weakened by the audited tree's configuration ({code(policy.config or 'configuration')}{floor})", ""]
    for weakening in policy.listed:
        mark = "❌ " if weakening.level == "error" and not weakening.refused else ""
        lines.append(f"- {mark}{code(weakening.setting)}: {escape(weakening.change)}"
                     + (" *(refused by the policy floor)*" if weakening.refused else ""))
    return lines


def _verdict(result: AuditResult, threshold: str | None) -> str:
    blocking = result.policy.blocking if result.policy is not None else []
    if blocking and not result.at_or_above(threshold or "none"):
        return f"❌ **Failed**: {escape(blocking[0].change)}."
    active = result.active_findings
    counts = Counter(f.severity for f in active)
    breakdown = ", ".join(f"{counts[s]} {s}" for s in SEVERITIES if counts[s])
    if threshold is not None and threshold != "none":
        failing = result.at_or_above(threshold)
        if failing:
            return f"❌ **Failed**: {len(failing)} finding(s) at or above *{threshold}* ({breakdown})."
        if active:
            return f"✅ **Passed** at *{threshold}*: {len(active)} finding(s) below it ({breakdown})."
        return f"✅ **Passed**: no findings at or above *{threshold}*."
    if active:
        return f"❌ **{len(active)} finding(s)** ({breakdown})."
    return "✅ **No findings.**"


def _counts(result: AuditResult) -> list[str]:
    active = Counter(f.severity for f in result.active_findings)
    waived = Counter(f.severity for f in result.findings if f.suppressed)
    statuses = Counter(c.status for c in result.controls.values())
    lines = ["| severity | findings | suppressed |", "|---|---:|---:|"]
    lines += [f"| {SEVERITY_ICON[s]} {s} | {active[s]} | {waived[s]} |" for s in SEVERITIES]
    lines += ["", "| control status | controls |", "|---|---:|"]
    lines += [f"| {status.replace('_', ' ')} | {statuses[status]} |" for status in STATUSES]
    lines += ["", f"{result.files_scanned} file(s) read."]
    return lines


def _by_rule(findings: list[Finding]) -> list[str]:
    """One row per rule with findings: the most severe rules first, then the most findings."""
    count: Counter[str] = Counter(f.rule_id for f in findings)
    worst: dict[str, str] = {}
    titles: dict[str, str] = {}
    for finding in findings:  # already most severe first: the first seen is the worst
        worst.setdefault(finding.rule_id, finding.severity)
        titles.setdefault(finding.rule_id, finding.title)
    order = sorted(count, key=lambda rule: (-SEVERITY_RANK.get(worst[rule], 0), -count[rule], rule))
    lines = ["", "### By rule", "", "| severity | rule | findings | control |", "|---|---|---:|---|"]
    lines += [f"| {SEVERITY_ICON.get(worst[rule], '')} {worst[rule]} | {rule} | {count[rule]} | {escape(titles[rule])} |"
              for rule in order[:MAX_ROWS]]
    if len(order) > MAX_ROWS:
        lines.append(f"\n… and {len(order) - MAX_ROWS} more rules.")
    return lines


def _details(findings: list[Finding]) -> list[str]:
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings[:MAX_ROWS]:
        by_file[finding.span.path].append(finding)
    lines: list[str] = []
    for path, mine in by_file.items():
        # The summary is HTML: entities only, no Markdown there.
        summary = display(path)
        summary = summary.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        lines += [f"<details><summary>{summary} ({len(mine)})</summary>", ""]
        for finding in mine:
            snippet = code(finding.snippet)
            lines.append(f"- line {finding.span.line}, **{finding.rule_id}** ({finding.severity}): "
                         f"{escape(finding.message)}" + (f"<br>{snippet}" if snippet else ""))
        lines += ["", "</details>", ""]
    return lines
