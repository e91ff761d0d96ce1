"""Suppressions written where the finding is, and in the configuration.

    RUN apk add curl   # auditor: ignore=DF016 reason="curl is the health probe" until=2027-01-31
    # auditor: ignore=DF008,DF009 reason="debug image, never deployed"
    USER root

A comment after code applies to its own line; a comment on a line of its own applies to the next
line that is not itself a comment (so several can be stacked). A reason is required; a
suppression without one, an expired one, or one naming an unknown rule does not suppress and is
itself reported (AUD002), as is one that matches nothing.
"""
from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from auditor.findings import Finding, Suppression
from auditor.model.span import Span

_DIRECTIVE = re.compile(r"(?:#|//)\s*auditor:\s*ignore\s*=\s*([A-Za-z0-9_,\s]+?)(?=\s+\w+=|\s*$)(.*)$")
_OPTION = re.compile(r"""(\w+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S+)""")
_COMMENT_LINE = re.compile(r"^\s*(#|//)")


@dataclass
class InlineSuppression:
    rules: tuple[str, ...]
    reason: str
    until: dt.date | None
    comment: Span  # where the comment is written
    applies_to_line: int
    problem: str = ""  # why it cannot suppress (missing reason, expired, bad date)
    used: bool = False


@dataclass
class ConfigSuppression:
    rule: str
    path: str
    reason: str
    until: dt.date | None
    used: bool = False
    problem: str = ""


@dataclass
class SuppressionReport:
    findings: list[Finding]  # with .suppression set where suppressed
    problems: list[tuple[Span, str]] = field(default_factory=list)  # for AUD002


def parse_inline(path: str, text: str, today: dt.date) -> list[InlineSuppression]:
    if "auditor:" not in text:
        return []
    lines = text.splitlines()
    found = []
    for index, line in enumerate(lines):
        match = _DIRECTIVE.search(line)
        if not match:
            continue
        rules = tuple(r.strip().upper() for r in match.group(1).split(",") if r.strip())
        options = {k: v.strip("\"'") for k, v in _OPTION.findall(match.group(2))}
        own_line = _COMMENT_LINE.match(line) is not None
        target = index + 1
        if own_line:
            target = index + 2
            while target <= len(lines) and _COMMENT_LINE.match(lines[target - 1]):
                target += 1
        suppression = InlineSuppression(rules, options.get("reason", "").strip(), None,
                                        Span(path, index + 1, match.start() + 1), target)
        suppression.problem = _problem(suppression.reason, options.get("until"), today, suppression)
        found.append(suppression)
    return found


def _problem(reason: str, until: str | None, today: dt.date, record: Any) -> str:
    if until:
        try:
            record.until = dt.date.fromisoformat(until)
        except ValueError:
            return f"until={until!r} is not a date (YYYY-MM-DD); the suppression is ignored"
        if record.until < today:
            return f"suppression expired on {record.until.isoformat()}; the finding is reported again"
    if not reason:
        return 'suppression without a reason does not suppress; add reason="why this is acceptable"'
    return ""


def apply_suppressions(findings: list[Finding], sources: dict[str, str], config_entries: Iterable[dict[str, Any]],
                       known_rules: Iterable[str], today: dt.date | None = None,
                       enabled: bool = True) -> SuppressionReport:
    """Mark suppressed findings and report suppressions that are invalid or unused."""
    today = today or dt.date.today()
    known = set(known_rules)
    report = SuppressionReport([])
    inline = [s for path, text in sorted(sources.items()) for s in parse_inline(path, text, today)]
    by_line: dict[tuple[str, int], list[InlineSuppression]] = {}
    for suppression in inline:
        by_line.setdefault((suppression.comment.path, suppression.applies_to_line), []).append(suppression)
        unknown = [r for r in suppression.rules if r not in known]
        if unknown and not suppression.problem:
            suppression.problem = f"no rule {', '.join(unknown)}; `auditor rules` lists them"
    configured = []
    for entry in config_entries:
        record = ConfigSuppression(str(entry["rule"]).upper(), entry.get("path", "*"), entry.get("reason", ""), None)
        record.problem = _problem(record.reason, entry.get("until"), today, record)
        configured.append(record)
    for finding in findings:
        suppression = None
        if enabled:
            suppression = _inline_match(finding, by_line) or _config_match(finding, configured)
        report.findings.append(finding if suppression is None else _suppressed(finding, suppression))
    if enabled:
        for record in inline:
            if record.problem:
                report.problems.append((record.comment, record.problem))
            elif not record.used:
                report.problems.append((record.comment, f"unused suppression of {', '.join(record.rules)}: "
                                        "it matches no finding; remove it"))
        for entry in configured:
            where = Span("(configuration)", 1)
            if entry.problem:
                report.problems.append((where, f"suppress {entry.rule} {entry.path}: {entry.problem}"))
            elif not entry.used:
                report.problems.append((where, f"unused configured suppression of {entry.rule} for {entry.path!r}"))
    return report


def _inline_match(finding: Finding, by_line: dict[tuple[str, int], list[InlineSuppression]]) -> InlineSuppression | None:
    for suppression in by_line.get((finding.span.path, finding.span.line), []):
        if finding.rule_id in suppression.rules:
            if suppression.problem:
                return None
            suppression.used = True
            return suppression
    return None


def _config_match(finding: Finding, configured: list[ConfigSuppression]) -> ConfigSuppression | None:
    for entry in configured:
        if entry.problem or not finding.rule_id.startswith(entry.rule):
            continue
        if fnmatch.fnmatch(finding.span.path, entry.path):
            entry.used = True
            return entry
    return None


def _suppressed(finding: Finding, record: InlineSuppression | ConfigSuppression) -> Finding:
    kind = "inline" if isinstance(record, InlineSuppression) else "config"
    span = record.comment if isinstance(record, InlineSuppression) else None
    from dataclasses import replace

    return replace(finding, suppression=Suppression(kind, record.reason, span))
