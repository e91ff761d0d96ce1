"""Terminal output. Colour and ``rich`` live here only.

One function, ``use_color``, decides: ``--color always|never|auto``; auto means no ``NO_COLOR``
(https://no-color.org), then ``FORCE_COLOR`` set (https://force-color.org: CI logs that render
colour), else a terminal on stdout with ``TERM`` not ``dumb``. Without colour the
report is written as plain text without importing rich at all, which keeps a pre-commit hook fast.
"""
from __future__ import annotations

import os
import sys
from collections import Counter
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import IO, Any

from auditor.catalog import Rule
from auditor.engine import AuditResult
from auditor.external import skipped_scanners  # one wording for every format
from auditor.findings import SEVERITIES, SEVERITY_RANK, Finding
from auditor.textsafe import display

SEVERITY_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow",
                  "low": "cyan", "info": "dim"}
STATUS_STYLE = {"pass": "green", "fail": "bold red", "not_applicable": "dim", "error": "magenta",
                "suppressed": "blue"}


def use_color(choice: str = "auto", stream: IO[str] | None = None) -> bool:
    if choice == "always":
        return True
    if choice == "never":
        return False
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR", "") != "":
        return False
    if os.environ.get("FORCE_COLOR", "").lower() not in ("", "0", "false", "no"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def _lines(result: AuditResult, threshold: str, quiet: bool) -> list[list[tuple[str, str]]]:
    """The report as lines of (text, style) segments; text is already made printable."""
    out: list[list[tuple[str, str]]] = []
    shown = [f for f in result.findings if not f.suppressed]
    by_file: dict[str, list[Finding]] = {}
    for finding in shown:
        by_file.setdefault(finding.span.path, []).append(finding)
    for path, findings in by_file.items():
        out.append([(display(path), "bold underline")])
        for finding in findings:
            location = f"{finding.span.line}:{finding.span.column or 1}"
            out.append([("  " + location.ljust(8), "dim"), (finding.severity.ljust(9), SEVERITY_STYLE[finding.severity]),
                        (finding.rule_id.ljust(8), "bold"), (display(finding.message), "")])
            if finding.snippet and not quiet:
                out.append([("          │ ", "dim"), (display(finding.snippet), "dim")])
            for related in finding.related:
                out.append([("          ↳ also ", "dim"), (display(f"{related.span.path}:{related.span.line}"), "dim"),
                            (display(f" {related.message}" if related.message else ""), "dim")])
        out.append([])
    if not quiet and result.notes:
        out.append([("Not checked", "bold")])
        for note in result.notes:
            out.append([("  " + display(f"{note.span.path}:{note.span.line}").ljust(28) + " ", "dim"),
                        (display(note.message), "")])
        out.append([])
    out += _policy_lines(result, quiet)
    if quiet:
        return out
    counts = Counter(f.severity for f in shown)
    statuses = Counter(c.status for c in result.controls.values())
    suppressed = sum(1 for f in result.findings if f.suppressed)
    severity_parts: list[tuple[str, str]] = []
    for severity in SEVERITIES:
        if counts[severity]:
            severity_parts += [(f"{counts[severity]} {severity}", SEVERITY_STYLE[severity]), (", ", "")]
    summary = [("Findings: ", "bold")] + (severity_parts[:-1] if severity_parts else [("none", "green")])
    if suppressed:
        summary.append((f" ({suppressed} suppressed)", "dim"))
    out.append(summary)
    from auditor.report import SARIF_MAX_RESULTS as MAX_RESULTS  # GitHub's limit of results per SARIF run

    if len(result.findings) > MAX_RESULTS:
        out.append([(f"SARIF keeps the {MAX_RESULTS} most severe of {len(result.findings)} findings "
                     f"(GitHub's limit per run); {len(result.findings) - MAX_RESULTS} are left out of it "
                     "and listed by count in its tool notifications. The JSON report has them all.", "yellow")])
    control_parts: list[tuple[str, str]] = [("Controls: ", "bold")]
    for status in ("pass", "fail", "error", "not_applicable", "suppressed"):
        if statuses[status]:
            control_parts += [(f"{statuses[status]} {status.replace('_', ' ')}", STATUS_STYLE[status]), ("  ", "")]
    out.append(control_parts)
    skipped = skipped_scanners(result)
    if skipped:
        out.append([("Scanners: ", "bold"), (display(skipped), "dim")])
    failing = result.at_or_above(threshold)
    blocking = result.policy.blocking if result.policy is not None else []
    verdict = (f"FAIL: {len(failing)} finding(s) at or above '{threshold}'", "bold red") if failing else \
        ("FAIL: " + display(blocking[0].change), "bold red") if blocking else \
        ("Not gating (--fail-on none): exit code 0 whatever was found", "bold") if threshold == "none" else \
        (f"OK: nothing at or above '{threshold}'", "bold green")
    out.append([verdict, (f"  ({result.files_scanned} files in {result.duration_seconds * 1000:.0f} ms)", "dim")])
    return out


def _policy_lines(result: AuditResult, quiet: bool) -> list[list[tuple[str, str]]]:
    """What the audited tree's configuration weakened (a reviewer must see it), with the floor
    that refused some of it. Quiet mode keeps only what fails the gate."""
    policy = result.policy
    if policy is None:
        return []
    listed = policy.blocking if quiet else policy.listed
    if not listed:
        return []
    source = display(policy.config or "configuration")
    heading = f"Weakened by the audited tree's configuration ({source})"
    if policy.floor:
        heading += f"; policy floor {display(policy.floor)}"
    out: list[list[tuple[str, str]]] = [[(heading, "bold")]]
    for weakening in listed:
        style = "bold red" if weakening.level == "error" and not weakening.refused else \
            ("dim" if weakening.refused else "yellow")
        out.append([("  " + display(weakening.setting).ljust(26), "dim"), (display(weakening.change), style),
                    (" (refused by the policy floor)" if weakening.refused else "", "dim")])
    out.append([])
    return out


def render_text(result: AuditResult, stream: IO[str], *, color: bool, threshold: str = "high",
                quiet: bool = False) -> None:
    blocking = result.policy is not None and result.policy.blocking
    if quiet and not blocking and not result.at_or_above(threshold) and \
            not [f for f in result.findings if not f.suppressed]:
        return  # a pre-commit hook stays silent when there is nothing to say
    lines = _lines(result, threshold, quiet)
    if not color:
        stream.write("".join("".join(text for text, _ in line) + "\n" for line in lines))
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(file=stream, force_terminal=True, highlight=False, soft_wrap=True)
    for line in lines:
        text = Text()
        for segment, style in line:
            text.append(segment, style=style or None)  # Text.append never parses markup
        console.print(text)


def render_concise(result: AuditResult, stream: IO[str], *, color: bool = False) -> None:
    """One line a finding, ``path:line:col: ID severity message``, as ruff and hadolint print
    them: terminals and editors (VS Code, vim's quickfix, Emacs' compile mode) turn the location
    into a link. The column is the parser's where it knows one, else 1. Suppressed findings are
    left out; nothing is printed for a clean tree."""
    for finding in result.findings:
        if finding.suppressed:
            continue
        location = display(f"{finding.span.path}:{finding.span.line}:{finding.span.column or 1}")
        message = display(finding.message).replace("\n", " ")
        if color:
            style = {"critical": "\x1b[1;37;41m", "high": "\x1b[1;31m", "medium": "\x1b[33m", "low": "\x1b[36m",
                     "info": "\x1b[2m"}[finding.severity]
            stream.write(f"\x1b[1m{location}:\x1b[0m \x1b[1m{finding.rule_id}\x1b[0m "
                         f"{style}{finding.severity}\x1b[0m {message}\n")
        else:
            stream.write(f"{location}: {finding.rule_id} {finding.severity} {message}\n")


def render_rules_table(rules: dict[str, Any], stream: IO[str], *, color: bool) -> None:
    rows = [(r.id, r.severity, r.title, getattr(r, "note_severity", None)) for r in rules.values()]
    if not color:
        for rule_id, severity, title, note in rows:
            shown = f"{severity}/{note}" if note else severity
            stream.write(f"{rule_id:<8}{shown:<12}{title}" + (f" (notes: {note})" if note else "") + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="auditor controls", show_lines=False)
    table.add_column("ID", style="bold")
    table.add_column("Severity")
    table.add_column("Control")
    for rule_id, severity, title, note in rows:
        notes = f" [{SEVERITY_STYLE[note]}](notes: {note})[/]" if note else ""
        table.add_row(rule_id, f"[{SEVERITY_STYLE[severity]}]{severity}[/]{notes}", display(title).replace("[", "\\["))
    Console(file=stream, force_terminal=True).print(table)


def render_explain(rule: Rule, stream: IO[str], *, color: bool) -> None:
    sections = [("What it checks", rule.summary), ("Why it matters", rule.rationale), ("How to fix it", rule.remediation)]
    text = [f"{rule.id} {rule.name} ({getattr(rule, 'severity_label', rule.severity)})", rule.title, ""]
    for heading, body in sections:
        text += [heading, "  " + body.replace("\n", "\n  "), ""]
    if rule.parameters:
        text.append("Parameters (set under `rules: {%s: {...}}` in .auditor.yaml)" % rule.id)
        for name, spec in rule.parameters.items():
            text.append(f"  {name} = {spec['default']!r}: {spec['description']}")
        text.append("")
    for label in ("bad", "good"):
        if rule.examples.get(label):
            text.append(("Non-compliant" if label == "bad" else "Compliant") + f" example ({rule.examples.get('filename', '')})")
            text += ["  " + line for line in rule.examples[label].rstrip().splitlines()] + [""]
    if rule.references:
        text.append("References")
        text += [f"  {ref['title']}: {ref['url']}" for ref in rule.references]
    if not color:
        stream.write("\n".join(text) + "\n")
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(file=stream, force_terminal=True, highlight=False)
    headings = {h for h, _ in sections} | {"References"}
    for index, line in enumerate(text):
        style = "bold" if index == 0 or line in headings or line.startswith(("Parameters", "Non-compliant", "Compliant")) else ""
        console.print(Text(line, style=style))


__all__ = ["render_text", "render_concise", "skipped_scanners", "render_rules_table", "render_explain", "use_color", "SEVERITY_RANK"]
