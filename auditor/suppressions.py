"""Suppressions written where the finding is, and in the configuration.

    RUN apk add curl   # auditor: ignore=DF016 reason="curl is the health probe" until=2027-01-31
    # auditor: ignore=DF008,DF009 reason="debug image, never deployed"
    USER root

A comment after code applies to its own line; a comment on a line of its own applies to the next
line that is not itself a comment (so several can be stacked). A reason is required; a
suppression without one, an expired one, or one naming an unknown rule does not suppress and is
itself reported (AUD002), as is one that matches nothing. Only real comments count: in YAML, text
inside a block or quoted scalar that looks like a directive is data; elsewhere, a directive inside
a quoted string on its line (``RUN echo "# auditor: ..."``) is not one.

The comments come from the audited tree, so parsing them is linear in the line's length (one
left-to-right scan, no backtracking regular expression), and a configured suppression whose rule
pattern is empty or names no rule matches nothing (it is reported, never a wildcard).
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass, field
    from typing import Any
else:
    from auditor.record import dataclass, field

from auditor import globs
from auditor.findings import Finding, Suppression
from auditor.model.span import Span
from auditor.patterns import on_first_use

# Possessive quantifiers: the match is found in one pass whatever the spacing (no backtracking).
_MARKER = on_first_use(r"(?:#|//)[ \t]*+auditor:[ \t]*+ignore[ \t]*+=")
_COMMENT_LINE = on_first_use(r"^[ \t]*+(?:#|//)")
_RULE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_,")
_RULE_PATTERN = on_first_use(r"[A-Z]{2,4}[0-9]{0,3}\*?")  # an ID (DF008), a family (DF) or DF00*


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
    # the next line that is not itself a comment, for every line, computed once from the end
    # (so a stack of thousands of directive lines costs one pass, not one pass each)
    next_code = [0] * (len(lines) + 2)
    next_code[len(lines) + 1] = len(lines) + 1
    for number in range(len(lines), 0, -1):
        next_code[number] = next_code[number + 1] if _COMMENT_LINE.match(lines[number - 1]) else number
    found: list[InlineSuppression] = []
    scalar_lines: set[tuple[int, int]] | None = None
    for index, line in enumerate(lines):
        if "auditor:" not in line:
            continue
        parsed = _directive(line)
        if parsed is None:
            continue
        column, rules, options = parsed
        if path.endswith((".yaml", ".yml")):
            if scalar_lines is None:
                scalar_lines = _yaml_scalar_positions(text)
            if (index + 1, column) in scalar_lines or (index + 1, -1) in scalar_lines:
                continue  # inside a block or quoted scalar: data, not a comment
        elif _quoted_at(line, column):
            continue  # RUN echo "# auditor: ...", add_header X "# auditor: ...": a string, not a comment
        own_line = _COMMENT_LINE.match(line) is not None
        target = next_code[index + 2] if own_line else index + 1
        suppression = InlineSuppression(rules, options.get("reason", "").strip(), None,
                                        Span(path, index + 1, column + 1), target)
        suppression.problem = _problem(suppression.reason, options.get("until"), today, suppression)
        found.append(suppression)
    return found


def _quoted_at(line: str, column: int) -> bool:
    """Whether ``column`` of the line is inside a '...' or "..." string opened on that line (one
    pass; a backslash escapes inside double quotes)."""
    quote, position = "", 0
    while position < column:
        character = line[position]
        if quote == '"' and character == "\\":
            position += 2
            continue
        if quote and character == quote:
            quote = ""
        elif not quote and character in "\"'":
            quote = character
        position += 1
    return bool(quote)


def _directive(line: str) -> tuple[int, tuple[str, ...], dict[str, str]] | None:
    """(0-based column, rules, options) of an ``auditor: ignore=`` comment, in one linear scan."""
    match = _MARKER.search(line)
    if match is None:
        return None
    length, position = len(line), match.end()
    tokens: list[str] = []
    while True:  # rule tokens (DF008, DF008,DF009) up to the first option key or anything else
        while position < length and line[position] in " \t":
            position += 1
        end = position
        while end < length and line[end] in _RULE_CHARS:
            end += 1
        if end == position or (end < length and line[end] == "="):
            break
        tokens.append(line[position:end])
        position = end
        if position < length and line[position] not in " \t":
            break
    rules = tuple(r.strip().upper() for r in ",".join(tokens).split(",") if r.strip())
    if not rules:
        return None
    return match.start(), rules, _options(line, position)


def _options(line: str, position: int) -> dict[str, str]:
    """``key=value`` pairs (value bare, "double-quoted" with backslash escapes, or 'single'),
    scanned left to right once; a quote with no closing quote is remembered, never rescanned."""
    options: dict[str, str] = {}
    length = len(line)
    unclosed: dict[str, int] = {}  # quote -> a position from which it has no closing quote
    while position < length:
        character = line[position]
        if not (character.isalnum() or character == "_"):
            position += 1
            continue
        end = position
        while end < length and (line[end].isalnum() or line[end] == "_"):
            end += 1
        if end >= length or line[end] != "=":
            position = end
            continue
        key, start = line[position:end], end + 1
        value, position = _value(line, start, unclosed)
        options.setdefault(key, value)
    return options


def _value(line: str, start: int, unclosed: dict[str, int]) -> tuple[str, int]:
    length = len(line)
    quote = line[start] if start < length and line[start] in "\"'" else ""
    if quote and not (quote in unclosed and start >= unclosed[quote]):
        close = _closing_quote(line, start + 1, quote)
        if close >= 0:
            body = line[start + 1:close]
            return (re.sub(r"\\(.)", r"\1", body) if quote == '"' else body), close + 1
        unclosed[quote] = start
    end = start
    while end < length and not line[end].isspace():
        end += 1
    return line[start:end].strip("\"'"), end


def _closing_quote(line: str, position: int, quote: str) -> int:
    """Index of the quote closing at ``position`` (a backslash escapes in double quotes), or -1."""
    length = len(line)
    while position < length:
        character = line[position]
        if character == "\\" and quote == '"':
            position += 2
            continue
        if character == quote:
            return position
        position += 1
    return -1


def _yaml_scalar_positions(text: str) -> set[tuple[int, int]]:
    """(line, column) of each ``#``/``//`` inside a YAML scalar that is quoted or spans lines
    (1-based line, 0-based column; column -1: the whole line is inside a block scalar). There it
    is text, not a comment. A file that does not tokenize has none (it is an AUD001 anyway)."""
    from auditor.pyyaml import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    lines = text.splitlines()
    covered: set[tuple[int, int]] = set()

    def mark(line: int, start: int, stop: int | None) -> None:
        if 0 < line <= len(lines):
            content = lines[line - 1]
            stop = len(content) if stop is None else stop
            column = content.find("#", start, stop)
            while column >= 0:
                covered.add((line, column - 1 if column > start and content[column - 1] == "/" else column))
                column = content.find("#", column + 1, stop)
            column = content.find("//", start, stop)
            while column >= 0:
                covered.add((line, column))
                column = content.find("//", column + 2, stop)

    try:
        for token in yaml.scan(text, Loader=loader):
            if not isinstance(token, yaml.ScalarToken):
                continue
            first, last = token.start_mark.line + 1, token.end_mark.line + 1
            if token.plain and first == last:
                continue
            if token.style in ("|", ">"):  # a comment may follow the indicator on its own line
                covered.update((line, -1) for line in range(first + 1, last))
                mark(last, 0, token.end_mark.column)
                continue
            mark(first, token.start_mark.column, None if last > first else token.end_mark.column)
            covered.update((line, -1) for line in range(first + 1, last))
            if last > first:
                mark(last, 0, token.end_mark.column)
    except yaml.YAMLError:
        return covered
    return covered


def _problem(reason: str, until: str | None, today: dt.date,
             record: InlineSuppression | ConfigSuppression) -> str:
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


class Suppressor:
    """The suppressions of a run, applied finding by finding: the inline ones of ``sources`` and the
    configured ones. Marks which were used, so that the partitions of a tree (each with its own
    files' inline suppressions, in worker processes) and the run's own findings (the external
    scanners') can share one record: ``used`` and ``add_used`` carry it across, ``problems`` then
    says which are invalid or unused (AUD002), exactly as one pass over every finding would."""

    def __init__(self, sources: dict[str, str], config_entries: Iterable[dict[str, Any]],
                 known_rules: Iterable[str], today: dt.date | None = None, enabled: bool = True) -> None:
        today = today or dt.date.today()
        known = set(known_rules)
        self.enabled = enabled
        self.inline = [s for path, text in sorted(sources.items()) for s in parse_inline(path, text, today)]
        self.by_line: dict[tuple[str, int], list[InlineSuppression]] = {}
        for suppression in self.inline:
            self.by_line.setdefault((suppression.comment.path, suppression.applies_to_line), []).append(suppression)
            unknown = [r for r in suppression.rules if r not in known]
            if unknown and not suppression.problem:
                suppression.problem = f"no rule {', '.join(unknown)}; `auditor rules` lists them"
        self.configured: list[ConfigSuppression] = []
        for entry in config_entries:
            record = ConfigSuppression(str(entry.get("rule", "")).strip().upper(), str(entry.get("path", "*")),
                                       str(entry.get("reason", "")), None)
            record.problem = _rule_pattern_problem(record.rule, known) or \
                _problem(record.reason, entry.get("until"), today, record)
            self.configured.append(record)

    def mark(self, finding: Finding) -> Finding:
        """The finding, suppressed if an inline or configured suppression applies."""
        if not self.enabled:
            return finding
        applied = _inline_match(finding, self.by_line) or _config_match(finding, self.configured)
        return finding if applied is None else _suppressed(finding, applied)

    def used(self) -> tuple[list[tuple[str, int]], list[int]]:
        """Which suppressions matched a finding: inline ones by (file, line of the comment),
        configured ones by their position in the configuration."""
        return ([(s.comment.path, s.comment.line) for s in self.inline if s.used],
                [index for index, entry in enumerate(self.configured) if entry.used])

    def add_used(self, inline: Iterable[tuple[str, int]], configured: Iterable[int]) -> None:
        """Record what another Suppressor of the same run (a partition's) found used."""
        wanted = set(inline)
        for suppression in self.inline:
            if (suppression.comment.path, suppression.comment.line) in wanted:
                suppression.used = True
        for index in configured:
            self.configured[index].used = True

    def problems(self) -> list[tuple[Span, str]]:
        """Suppressions that are invalid or matched nothing (for AUD002), inline ones first (by
        file), then the configured ones."""
        problems: list[tuple[Span, str]] = []
        if not self.enabled:
            return problems
        for record in self.inline:
            if record.problem:
                problems.append((record.comment, record.problem))
            elif not record.used:
                problems.append((record.comment, f"unused suppression of {', '.join(record.rules)}: "
                                 "it matches no finding; remove it"))
        for configured_entry in self.configured:
            where = Span("(configuration)", 1)
            if configured_entry.problem:
                problems.append((where, f"suppress {configured_entry.rule} {configured_entry.path}: "
                                 f"{configured_entry.problem}"))
            elif not configured_entry.used:
                problems.append((where, f"unused configured suppression of {configured_entry.rule} "
                                 f"for {configured_entry.path!r}"))
        return problems


def apply_suppressions(findings: list[Finding], sources: dict[str, str], config_entries: Iterable[dict[str, Any]],
                       known_rules: Iterable[str], today: dt.date | None = None,
                       enabled: bool = True) -> SuppressionReport:
    """Mark suppressed findings and report suppressions that are invalid or unused."""
    suppressor = Suppressor(sources, config_entries, known_rules, today, enabled)
    return SuppressionReport([suppressor.mark(finding) for finding in findings], suppressor.problems())


def _inline_match(finding: Finding, by_line: dict[tuple[str, int], list[InlineSuppression]]) -> InlineSuppression | None:
    for suppression in by_line.get((finding.span.path, finding.span.line), []):
        if finding.rule_id in suppression.rules:
            if suppression.problem:
                return None
            suppression.used = True
            return suppression
    return None


def _rule_pattern_problem(pattern: str, known: set[str]) -> str:
    """Why a configured rule pattern cannot be used: it must be a rule ID, a family prefix (DF) or
    an ID prefix with ``*`` (DF00*) that names at least one known rule; never empty (which would
    otherwise match every rule)."""
    if not pattern:
        return "an empty rule pattern matches nothing; name a rule ID such as DF008"
    if not _RULE_PATTERN.fullmatch(pattern):
        return f"rule pattern {pattern!r} is not a rule ID or family prefix (DF008, DF, DF00*); it matches nothing"
    prefix = pattern.rstrip("*")
    if not any(rule_id.startswith(prefix) for rule_id in known):
        return f"no rule matches {pattern!r}; `auditor rules` lists them"
    return ""


def _config_match(finding: Finding, configured: list[ConfigSuppression]) -> ConfigSuppression | None:
    for entry in configured:
        prefix = entry.rule.rstrip("*")
        if entry.problem or not prefix or not finding.rule_id.startswith(prefix):
            continue
        if globs.matches(entry.path, finding.span.path):  # gitignore-style, as exclude
            entry.used = True
            return entry
    return None


def _suppressed(finding: Finding, record: InlineSuppression | ConfigSuppression) -> Finding:
    kind = "inline" if isinstance(record, InlineSuppression) else "config"
    span = record.comment if isinstance(record, InlineSuppression) else None
    from dataclasses import replace

    return replace(finding, suppression=Suppression(kind, record.reason, span))
