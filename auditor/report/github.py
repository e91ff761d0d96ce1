"""``--format github``: GitHub Actions workflow commands, so each finding shows as an annotation on
the pull request's diff:

    ::error file=app/Dockerfile,line=12,endLine=12,col=1,title=DF008 Final stage runs as...::message

critical/high become ``error``, medium ``warning``, low/info ``notice``. GitHub shows only 10
annotations of each kind per step: they go out most severe first, at most 10 errors, 10 warnings
and 9 notices, and a last summary notice counts what was left out. Suppressed and baselined
findings are not annotated (they are not what the change introduced). Controls that could not be
checked and a summary go out as ``notice``/``warning`` lines without a file.

Escaping follows @actions/core (``toCommandValue``/``escapeData``/``escapeProperty``): ``%``, CR
and LF in the message; additionally ``:`` and ``,`` in properties. Control characters from the
audited tree are first made visible by ``textsafe.display``, so a file cannot smuggle a second workflow
command (``::add-mask::``, ``::stop-commands::``) onto its own line.

Paths: GitHub resolves ``file=`` against the workspace, so when the scan root lies inside
``$GITHUB_WORKSPACE`` (or the current folder) the path is prefixed with the way from there.
"""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import IO

from auditor.engine import AuditResult
from auditor.findings import SEVERITIES, SEVERITY_RANK, Finding
from auditor.textsafe import display

COMMAND = {"critical": "error", "high": "error", "medium": "warning", "low": "notice", "info": "notice"}


# GitHub shows at most 10 annotations of each kind per step (errors, warnings, notices); the
# rest are dropped silently. So the most severe go out first, each kind is capped here, and a last
# summary notice says what was left out (one notice is kept for it).
MAX_PER_KIND = {"error": 10, "warning": 10, "notice": 9}


def render_github(result: AuditResult, stream: IO[str]) -> None:
    prefix = _workspace_prefix(result.root)
    candidates: list[tuple[str, str]] = []  # (command, line), most severe first
    active = sorted((f for f in result.findings if not f.suppressed),
                    key=lambda f: -SEVERITY_RANK.get(f.severity, 0))  # stable: by file and line within
    policy = result.policy
    if policy is not None:  # what the audited tree's configuration weakened, for the reviewer
        for weakening in policy.listed:
            command = "error" if weakening.level == "error" and not weakening.refused else "warning"
            title = f"configuration weakening ({policy.config or 'configuration'})"
            candidates.append((command, f"::{command} title={escape_property(_clean(title))}::"
                                        f"{escape_data(_clean(weakening.text()))}"))
    for control in result.controls.values():  # what could not be checked, before any medium finding
        if control.status == "error":
            candidates.append(("warning", f"::warning title={escape_property(control.rule_id + ' not checked')}::"
                                          f"{escape_data(_clean(control.reason))}"))
    candidates += [(COMMAND.get(f.severity, "warning"), annotation(f, prefix)) for f in active]
    # errors first, then warnings, then notices: GitHub lists them in the order they came
    order = {"error": 0, "warning": 1, "notice": 2}
    candidates.sort(key=lambda item: order[item[0]])
    emitted: Counter[str] = Counter()
    left_out: Counter[str] = Counter()
    for command, line in candidates:
        if emitted[command] < MAX_PER_KIND[command]:
            emitted[command] += 1
            stream.write(line + "\n")
        else:
            left_out[command] += 1
    summary = _summary(result)
    from auditor.report.console import skipped_scanners

    skipped = skipped_scanners(result)
    if skipped:
        summary += f"; scanners: {skipped}"
    if left_out:
        shown = ", ".join(f"{n} {kind}{'s' if n > 1 else ''}" for kind, n in left_out.items())
        summary += (f"; {sum(left_out.values())} more annotations not shown ({shown}): GitHub shows 10 of each kind "
                    "per step, the most severe are above; the SARIF upload and the step summary list them all")
    stream.write(f"::notice title=auditor::{escape_data(summary)}\n")


def annotation(finding: Finding, prefix: str = "") -> str:
    span = finding.span
    properties = [f"file={escape_property(_clean(prefix + span.path))}", f"line={max(1, span.line)}"]
    if span.end_line and span.end_line >= span.line:
        properties.append(f"endLine={span.end_line}")
    if span.column:
        properties.append(f"col={span.column}")
        if span.end_column and (span.end_line or span.line) == span.line and span.end_column > span.column:
            properties.append(f"endColumn={span.end_column}")
    properties.append(f"title={escape_property(_clean(f'{finding.rule_id} {finding.title}'))}")
    message = f"[{finding.severity}] {_clean(finding.message)}"
    return f"::{COMMAND.get(finding.severity, 'warning')} {','.join(properties)}::{escape_data(message)}"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _clean(text: str) -> str:
    return display(text)


def _workspace_prefix(root: Path) -> str:
    workspace = os.environ.get("GITHUB_WORKSPACE") or os.getcwd()
    try:
        relative = root.resolve().relative_to(Path(workspace).resolve()).as_posix()
    except (ValueError, OSError):
        return ""
    return "" if relative in ("", ".") else relative + "/"


def _summary(result: AuditResult) -> str:
    active = Counter(f.severity for f in result.active_findings)
    counts = ", ".join(f"{active[s]} {s}" for s in SEVERITIES if active[s]) or "no findings"
    suppressed = sum(1 for f in result.findings if f.suppressed)
    statuses = Counter(c.status for c in result.controls.values())
    controls = ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in sorted(statuses.items()))
    return f"{counts}; {suppressed} suppressed or baselined; controls: {controls}"
