"""``auditor merge``: the organisation-wide view, built from the JSON reports of many repositories.

An audit is per repository, so a sweep of many runs as many CI jobs, each writing the JSON report
(``auditor scan --format json -o report.json``). ``read_report`` turns one such report back into
the ``AuditResult`` the auditor reports from, so each repository's compliance report (HTML,
Markdown) and SARIF log are written by the very renderers ``auditor report`` and ``auditor scan``
use (auditor.report.compliance, auditor.report.sarif); this module adds only the table of
repositories by control (``MergedReport``) and its HTML, Markdown and JSON forms.

A report is untrusted input: it comes from another job, perhaps another team's pipeline, and may be
truncated, hand-edited or not a report at all. ``read_report`` checks every field it uses (type,
range, a control this auditor's catalog knows) and raises ``ReportError`` naming the file and the
JSON path of the first thing wrong; it never trusts the report's own summary. Nothing read from a
report chooses a place to write: output file names are built from a sanitised form of the
repository name behind a sequence number. Names and texts are printed through textsafe.display
(and Jinja2's autoescape in HTML, md_escape in Markdown) like every other report.

Checking by hand rather than with jsonschema and ``schemas/report.schema.json``: the schema check
took 5 s on the 8 MB report of a 200-project corpus (0.1 s to parse it), and a monorepo's report is
far larger; the checks here follow that schema field by field.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import IO, Any, NamedTuple

from auditor import __version__
from auditor.catalog import Rule
from auditor.engine import AuditResult
from auditor.findings import (SEVERITIES, SEVERITY_RANK, STATUSES, ControlResult, Evidence, Finding, Related,
                              Suppression)
from auditor.model.span import Note, Span
from auditor.report.compliance import (FAMILY_TITLE, REPORT_STATUSES, STATUS_LABEL, ComplianceReport,
                                       Verdict, verdict)
from auditor.report.markdown import escape as md_escape
from auditor.textsafe import display, json_escape

MERGED_SCHEMA_URI = "https://github.com/auditor/auditor/schemas/merged.schema.json"
RULE_ID = re.compile(r"^[A-Z]+[0-9]{3}$")
SUPPRESSION_KINDS = ("inline", "config", "baseline")
WEAKENING_LEVELS = ("info", "warning", "error")
#: Where each repository's own reports go inside the output folder.
REPOSITORY_FOLDER = "repositories"


class ReportError(Exception):
    """A report that cannot be merged; the message names the file and says what is wrong."""


class _Malformed(Exception):
    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")


# ---------------------------------------------------------------------------------------------
# Reading one report


def compatible(theirs: str, ours: str = __version__) -> bool:
    """A report is read by an auditor of the same major and minor version: the JSON report's fields
    and the catalog's controls change only with the minor version (0.1.0 reads 0.1.x reports)."""
    def release(version: str) -> tuple[str, str] | None:
        match = re.match(r"(\d+)\.(\d+)(?:\.|$)", version)
        return (match.group(1), match.group(2)) if match else None

    return release(theirs) is not None and release(theirs) == release(ours)


def load_json(path: Path) -> dict[str, Any]:
    """The report's document, or ReportError saying why it is not one (unreadable, empty, not UTF-8,
    truncated, not JSON, not an auditor JSON report, written by an incompatible auditor)."""
    shown = display(str(path))
    try:
        if path.is_dir():
            raise ReportError(f"{shown}: a folder, not a JSON report")
        if not path.is_file():  # a pipe or device: merge reads each report twice (to check, then to write)
            raise ReportError(f"{shown}: not a regular file; save the report to a file first")
        raw = path.read_bytes()
    except OSError as exc:
        raise ReportError(f"{shown}: cannot read it: {exc.strerror or exc}") from exc
    if not raw.strip():
        raise ReportError(f"{shown}: the file is empty (did the scan's job fail before writing it?)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReportError(f"{shown}: not UTF-8 text (byte {exc.start}): not an auditor JSON report") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            raise ReportError(f"{shown}: truncated: the JSON stops at line {exc.lineno} before the report ends "
                              "(was the upload or download cut short?)") from exc
        raise ReportError(f"{shown}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise ReportError(f"{shown}: not an auditor JSON report (nested too deeply)") from exc
    if not isinstance(data, dict):
        raise ReportError(f"{shown}: not an auditor JSON report (the document is a JSON {_kind(data)}, "
                          "not an object)")
    if "runs" in data and "version" in data:
        raise ReportError(f"{shown}: a SARIF log, not the JSON report: merge reads the reports written by "
                          "`auditor scan --format json -o report.json`")
    tool = data.get("tool")
    if isinstance(tool, dict) and tool.get("name") == "auditor" and "repositories" in data:
        raise ReportError(f"{shown}: a merged report (auditor merge's own output): merge the scans' JSON "
                          "reports instead")
    if not isinstance(tool, dict) or tool.get("name") != "auditor" or "controls" not in data:
        raise ReportError(f"{shown}: not an auditor JSON report (no \"tool\": {{\"name\": \"auditor\"}} and "
                          "\"controls\"): write one with `auditor scan --format json -o report.json`")
    version = tool.get("version")
    if not isinstance(version, str) or not compatible(version):
        raise ReportError(f"{shown}: written by auditor {display(str(version))}; this is auditor {__version__}, "
                          f"which reads reports of auditor {'.'.join(__version__.split('.')[:2])}.x: run the "
                          "scans and the merge with the same auditor release")
    return data


def _kind(value: Any) -> str:
    return {list: "array", str: "string", bool: "boolean", int: "number", float: "number",
            type(None): "null", dict: "object"}.get(type(value), type(value).__name__)


def _get(obj: dict[str, Any], key: str, where: str, *kinds: type, optional: bool = False) -> Any:
    if key not in obj:
        if optional:
            return None
        raise _Malformed(where, f"missing \"{key}\"")
    value = obj[key]
    if value is None and optional:
        return None
    # bool is an int in Python; a line number of `true` is still wrong
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        expected = " or ".join(_kind(kind()) for kind in kinds)
        raise _Malformed(f"{where}.{key}", f"expected a {expected}, found a {_kind(value)}")
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Malformed(where, f"expected an object, found a {_kind(value)}")
    return value


def _array(obj: dict[str, Any], key: str, where: str, optional: bool = False) -> list[Any]:
    value = _get(obj, key, where, list, optional=optional)
    return [] if value is None else list(value)


def _one_of(value: str, choices: tuple[str, ...], where: str) -> str:
    if value not in choices:
        raise _Malformed(where, f"{display(value)!r} is not one of {', '.join(choices)}")
    return value


def _span(obj: dict[str, Any], where: str) -> Span:
    line = _get(obj, "line", where, int)
    if line < 1:
        raise _Malformed(f"{where}.line", f"{line} is not a line number")
    column = _get(obj, "column", where, int, optional=True)
    end_line = _get(obj, "end_line", where, int, optional=True)
    return Span(_get(obj, "file", where, str), line, column, end_line or line)


def _finding(obj: dict[str, Any], where: str) -> Finding:
    rule_id = _get(obj, "rule_id", where, str)
    if not RULE_ID.match(rule_id):
        raise _Malformed(f"{where}.rule_id", f"{display(rule_id)!r} is not a rule ID")
    related = []
    for index, item in enumerate(_array(obj, "related", where)):
        place = f"{where}.related[{index}]"
        item = _object(item, place)
        related.append(Related(_span(item, place), _get(item, "message", place, str, optional=True) or ""))
    suppressed = _get(obj, "suppressed", where, dict, optional=True)
    suppression = None
    if suppressed is not None:
        kind = _one_of(_get(suppressed, "kind", f"{where}.suppressed", str), SUPPRESSION_KINDS,
                       f"{where}.suppressed.kind")
        suppression = Suppression(kind, _get(suppressed, "reason", f"{where}.suppressed", str, optional=True) or "")
    return Finding(rule_id, _one_of(_get(obj, "severity", where, str), SEVERITIES, f"{where}.severity"),
                   _get(obj, "title", where, str), _get(obj, "message", where, str), _span(obj, where),
                   _get(obj, "evidence", where, str), _get(obj, "fingerprint", where, str), tuple(related),
                   _shallow(_get(obj, "properties", where, dict, optional=True) or {}, f"{where}.properties"),
                   suppression)


#: A scanner's property bag is a few levels deep; the SARIF writer walks it recursively.
MAX_PROPERTY_DEPTH = 32


def _shallow(value: dict[str, Any], where: str) -> dict[str, Any]:
    level = 0
    current: list[Any] = [value]
    while current:
        level += 1
        if level > MAX_PROPERTY_DEPTH:
            raise _Malformed(where, f"nested more than {MAX_PROPERTY_DEPTH} levels deep")
        current = [child for item in current for child in (item.values() if isinstance(item, dict) else item)
                   if isinstance(child, (dict, list))]
    return value


def _control(obj: dict[str, Any], where: str) -> tuple[ControlResult, str]:
    evidence = []
    for index, item in enumerate(_array(obj, "evidence", where)):
        place = f"{where}.evidence[{index}]"
        item = _object(item, place)
        evidence.append(Evidence(_span(item, place), _get(item, "text", place, str),
                                 _get(item, "snippet", place, str)))
    control = ControlResult(_get(obj, "rule_id", where, str), _one_of(_get(obj, "status", where, str), STATUSES,
                                                                       f"{where}.status"),
                            tuple(evidence), _get(obj, "reason", where, str))
    return control, _one_of(_get(obj, "severity", where, str), SEVERITIES, f"{where}.severity")


class ScannerRecord(NamedTuple):
    """An external scanner's run as the JSON report records it (what the SARIF invocation reads)."""

    scanner: str
    command: tuple[str, ...]
    version: str | None
    binary_sha256: str | None
    error: str | None


def _policy(obj: dict[str, Any] | None, where: str) -> Any:
    from auditor.policy import PolicyReport, Weakening

    if obj is None:
        return PolicyReport()
    weakenings = []
    for index, item in enumerate(_array(obj, "weakenings", where)):
        place = f"{where}.weakenings[{index}]"
        item = _object(item, place)
        weakenings.append(Weakening(_get(item, "setting", place, str), _get(item, "change", place, str),
                                    _one_of(_get(item, "level", place, str), WEAKENING_LEVELS, f"{place}.level"),
                                    bool(_get(item, "refused", place, bool))))
    return PolicyReport(_get(obj, "config", where, str, optional=True), bool(_get(obj, "config_from_tree", where, bool)),
                        _get(obj, "floor", where, str, optional=True), weakenings)


def result_from_report(data: dict[str, Any], catalog: dict[str, Rule]) -> AuditResult:
    """The AuditResult a JSON report was written from, as far as the report records it (every field
    the compliance and SARIF renderers read). Raises _Malformed at the first field that is wrong."""
    roots = _array(data, "roots", "$")
    for index, root in enumerate(roots):
        if not isinstance(root, str):
            raise _Malformed(f"$.roots[{index}]", f"expected a string, found a {_kind(root)}")
    findings = [_finding(_object(item, f"$.findings[{i}]"), f"$.findings[{i}]")
                for i, item in enumerate(_array(data, "findings", "$"))]
    controls, severities = _controls(data)
    unknown = sorted({rule_id for rule_id in controls if rule_id not in catalog}
                     | {f.rule_id for f in findings if f.rule_id not in catalog})
    if unknown:
        shown = ", ".join(display(rule_id) for rule_id in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        raise _Malformed("$.controls", f"written with another catalog: {shown} unknown to auditor {__version__}")
    notes = [Note(_span(_object(item, f"$.notes[{i}]"), f"$.notes[{i}]"),
                  _get(_object(item, f"$.notes[{i}]"), "message", f"$.notes[{i}]", str))
             for i, item in enumerate(_array(data, "notes", "$"))]
    scanners = [_scanner(_object(item, f"$.scanners[{i}]"), f"$.scanners[{i}]")
                for i, item in enumerate(_array(data, "scanners", "$", optional=True))]
    summary = _object(_get(data, "summary", "$", dict), "$.summary")
    return AuditResult(root=Path(roots[0]) if roots else Path("."), roots=list(roots),
                       rules={rule_id: catalog[rule_id] for rule_id in controls}, severities=severities,
                       findings=findings, controls=controls, notes=notes,
                       files_scanned=_get(summary, "files", "$.summary", int), scanner_runs=scanners,
                       config_source=_get(data, "config", "$", str, optional=True),
                       policy=_policy(_get(data, "policy", "$", dict, optional=True), "$.policy"))


def _controls(data: dict[str, Any]) -> tuple[dict[str, ControlResult], dict[str, str]]:
    """The report's controls by rule ID (in the report's order) and their effective severities."""
    controls: dict[str, ControlResult] = {}
    severities: dict[str, str] = {}
    for index, item in enumerate(_array(data, "controls", "$")):
        control, severity = _control(_object(item, f"$.controls[{index}]"), f"$.controls[{index}]")
        if control.rule_id in controls:
            raise _Malformed(f"$.controls[{index}].rule_id", f"{display(control.rule_id)} is listed twice")
        controls[control.rule_id] = control
        severities[control.rule_id] = severity
    return controls, severities


def _scanner(item: dict[str, Any], place: str) -> ScannerRecord:
    command = tuple(str(part) for part in _array(item, "command", place, optional=True))
    return ScannerRecord(_get(item, "scanner", place, str), command, _get(item, "version", place, str, optional=True),
                         _get(item, "binary_sha256", place, str, optional=True),
                         _get(item, "error", place, str, optional=True))


class Loaded(NamedTuple):
    result: AuditResult
    version: str  # the auditor that wrote the report


def read_report(path: Path, catalog: dict[str, Rule]) -> Loaded:
    """One JSON report as an AuditResult; ReportError naming the file for anything wrong."""
    data = load_json(path)
    try:
        return Loaded(result_from_report(data, catalog), str(data["tool"]["version"]))
    except _Malformed as exc:
        raise ReportError(f"{display(str(path))}: not a valid auditor JSON report at {exc}") from exc


def default_name(path: Path, result: AuditResult) -> str:
    """The repository's name: the scan root's folder name (a CI checkout is named after its
    repository: /home/runner/work/api/api, /builds/team/api), else the report file's name without
    ``.json``."""
    if len(result.roots) == 1:
        root = result.roots[0]
        name = (PureWindowsPath(root) if "\\" in root else PurePosixPath(root)).name
        if name:
            return name
    return path.name[:-5] if path.name.lower().endswith(".json") and len(path.name) > 5 else path.name


def root_uri(root: str) -> str | None:
    """The scan root as the scanning machine knew it (``file:///home/runner/work/api/api/``), not
    resolved on this machine (whose folders are not the scan's); None when it was not absolute."""
    for pure in (PurePosixPath(root), PureWindowsPath(root)):
        if pure.is_absolute():
            uri = pure.as_uri()
            return uri if uri.endswith("/") else uri + "/"
    return None


# ---------------------------------------------------------------------------------------------
# The table of repositories by control


class Cell(NamedTuple):
    """One repository's result for one control."""

    status: str  # one of compliance.REPORT_STATUSES
    severity: str  # the repository's effective severity for the control
    findings: int  # open (not suppressed) findings
    suppressed: int
    evidence: int  # places the control looked at, passing and failing
    reason: str
    pointer: str  # JSON Pointer to the control in the repository's report ("" when it did not run)

    @property
    def shown_count(self) -> int | None:
        """The number a cell shows: findings when it fails, places checked when it passes."""
        if self.status == "fail":
            return self.findings
        if self.status == "suppressed":
            return self.suppressed
        if self.status in ("pass", "error"):
            return self.evidence or None
        return None

    @property
    def description(self) -> str:
        parts = [STATUS_LABEL[self.status]]
        if self.findings:
            parts.append(f"{self.findings} finding{'s' if self.findings != 1 else ''}")
        if self.suppressed:
            parts.append(f"{self.suppressed} suppressed")
        if self.evidence:
            parts.append(f"{self.evidence} place{'s' if self.evidence != 1 else ''} checked")
        if self.reason:
            parts.append(self.reason)
        return "; ".join(parts)


class Repository(NamedTuple):
    name: str
    source: str  # the JSON report, as given on the command line
    slug: str  # file name stem of its own reports under repositories/
    version: str  # the auditor that wrote its report
    root: str
    files: int
    verdict: Verdict
    counts: dict[str, int]  # controls by status
    findings: dict[str, int]  # open findings by severity
    blocking: bool  # its configuration left nothing to audit


class MergedRow(NamedTuple):
    rule: Rule
    cells: tuple[Cell, ...]

    def counts(self) -> Counter[str]:
        return Counter(cell.status for cell in self.cells)


class MergedReport(NamedTuple):
    repositories: tuple[Repository, ...]
    rows: tuple[MergedRow, ...]
    generated: str

    def verdict(self) -> Verdict:
        words = Counter(repository.verdict.word for repository in self.repositories)
        total = len(self.repositories)
        failing = words["not compliant"] + words["nothing audited"]
        detail = ", ".join(f"{count} {word}" for word, count in words.items())
        if failing:
            return Verdict("not compliant", "fail", f"{failing} of {total} repositories are not compliant ({detail}).")
        if words["incomplete"]:
            return Verdict("incomplete", "error", f"No repository fails, but {words['incomplete']} of {total} could "
                           f"not be fully checked ({detail}).")
        return Verdict("compliant", "pass", f"All {total} repositories are compliant.")

    def by_family(self) -> dict[str, list[MergedRow]]:
        families: dict[str, list[MergedRow]] = {}
        for row in self.rows:
            families.setdefault(row.rule.family, []).append(row)
        return families


def slug(index: int, width: int, name: str) -> str:
    """``03-payments-api``: the sequence number keeps two names that sanitise alike apart, and the
    name part holds only ASCII letters, digits, ``.``, ``_`` and ``-`` (never ``..`` or a
    leading dot), so a hostile name cannot choose where a file is written."""
    clean = re.sub(r"[^A-Za-z0-9_.-]+", "-", name)
    clean = re.sub(r"\.{2,}", ".", clean).strip("-.")[:60].strip("-.")
    return f"{index:0{width}d}" + (f"-{clean}" if clean else "")


def summarise(name: str, source: str, slug_name: str, result: AuditResult, report: ComplianceReport,
              version: str) -> tuple[Repository, list[Cell]]:
    """One repository's column of the table (``report`` is its compliance report, built from
    ``result`` with the catalog's rows in catalog order) and its line in the repositories table."""
    positions = {rule_id: index for index, rule_id in enumerate(result.controls)}
    cells = []
    for row in report.rows:
        open_findings = sum(1 for f in row.findings if not f.suppressed)
        pointer = f"/controls/{positions[row.rule.id]}" if row.rule.id in positions else ""
        cells.append(Cell(row.status, row.severity, open_findings, len(row.findings) - open_findings,
                          len(row.evidence), row.reason, pointer))
    severities = Counter(f.severity for f in result.active_findings)
    repository = Repository(name, source, slug_name, version, result.roots[0] if result.roots else "",
                            result.files_scanned, verdict(report), dict(report.counts()),
                            {level: severities[level] for level in SEVERITIES},
                            bool(result.policy is not None and result.policy.blocking))
    return repository, cells


def build_merged(columns: list[tuple[Repository, list[Cell]]], rules: list[Rule], generated: str) -> MergedReport:
    """The table: ``rules`` in catalog order (the compliance report's row order) by repository."""
    rows = tuple(MergedRow(rule, tuple(cells[index] for _, cells in columns)) for index, rule in enumerate(rules))
    return MergedReport(tuple(repository for repository, _ in columns), rows, generated)


def gate(report: MergedReport, threshold: str) -> list[Repository]:
    """The repositories that fail ``--fail-on threshold`` as ``auditor scan`` would have failed:
    an open finding at or above it, or a configuration that left nothing to audit."""
    if threshold == "none":
        return [repository for repository in report.repositories if repository.blocking]
    floor = SEVERITY_RANK[threshold]
    return [repository for repository in report.repositories if repository.blocking
            or any(count and SEVERITY_RANK[level] >= floor for level, count in repository.findings.items())]


# ---------------------------------------------------------------------------------------------
# Rendering: JSON, HTML, Markdown


def merged_to_dict(report: MergedReport, links: dict[str, str]) -> dict[str, Any]:
    """``links``: format -> file extension of the per-repository reports that were written."""
    judged = report.verdict()
    return {
        "$schema": MERGED_SCHEMA_URI,
        "tool": {"name": "auditor", "version": __version__},
        "verdict": {"word": judged.word, "text": judged.text},
        "repositories": [
            {"name": r.name, "report": r.source, "auditor_version": r.version, "root": r.root, "files": r.files,
             "verdict": r.verdict.word, "controls": {status: r.counts.get(status, 0) for status in REPORT_STATUSES},
             "findings": r.findings,
             "outputs": {kind: f"{REPOSITORY_FOLDER}/{r.slug}{extension}" for kind, extension in links.items()}}
            for r in report.repositories],
        "controls": [
            {"rule_id": row.rule.id, "title": row.rule.title, "family": row.rule.family, "severity": row.rule.severity,
             "cells": [{"repository": repository.name, "status": cell.status, "severity": cell.severity,
                        "findings": cell.findings, "suppressed": cell.suppressed, "evidence": cell.evidence,
                        "reason": cell.reason, "pointer": cell.pointer}
                       for repository, cell in zip(report.repositories, row.cells)]}
            for row in report.rows],
    }


def render_merged_json(report: MergedReport, stream: IO[str], links: dict[str, str]) -> None:
    stream.write(json_escape(json.dumps(merged_to_dict(report, links), indent=1, ensure_ascii=False)))
    stream.write("\n")


def merged_to_html(report: MergedReport, link_extension: str | None) -> str:
    """``link_extension``: ``.html`` when each repository's HTML report was written (cells link to
    its control), else None (cells are not links)."""
    from auditor.report.compliance import _environment

    template = _environment().get_template("merged.html.j2")
    totals = Counter(cell.status for row in report.rows for cell in row.cells)
    return str(template.render(report=report, verdict=report.verdict(), statuses=REPORT_STATUSES,
                               label=STATUS_LABEL, families=report.by_family(), family_title=FAMILY_TITLE,
                               severities=SEVERITIES, totals=totals, folder=REPOSITORY_FOLDER,
                               extension=link_extension))


def render_merged_html(report: MergedReport, stream: IO[str], link_extension: str | None) -> None:
    stream.write(merged_to_html(report, link_extension))


def _md_cell(cell: Cell, target: str | None) -> str:
    count = cell.shown_count
    text = STATUS_LABEL[cell.status] + (f" {count}" if count is not None else "")
    return f"[{text}]({target})" if target else text


def merged_to_markdown(report: MergedReport, link_extension: str | None) -> str:
    judged = report.verdict()
    names = [md_escape(repository.name) for repository in report.repositories]
    lines = [f"# Compliance across {len(report.repositories)} repositories", "", report.generated, "",
             f"**Verdict: {judged.word.upper()}.** {md_escape(judged.text)}", "", "## Repositories", "",
             "| repository | verdict | " + " | ".join(STATUS_LABEL[s] for s in REPORT_STATUSES)
             + " | open findings | files | report |",
             "|---|---|" + "---:|" * len(REPORT_STATUSES) + "---|---:|---|"]
    for repository, name in zip(report.repositories, names):
        shown = f"[{name}]({REPOSITORY_FOLDER}/{repository.slug}{link_extension})" if link_extension else name
        findings = ", ".join(f"{count} {level}" for level, count in repository.findings.items() if count) or "none"
        lines.append(f"| {shown} | {repository.verdict.word} | "
                     + " | ".join(str(repository.counts.get(s, 0) or "") for s in REPORT_STATUSES)
                     + f" | {findings} | {repository.files} | {md_escape(repository.source)} |")
    lines += ["", "## Controls by repository", "",
              "Each cell: the control's status in that repository, with the number of open findings (fail) "
              "or of places checked (pass)" + (", linked to its evidence." if link_extension else "."), ""]
    for family, rows in report.by_family().items():
        lines += [f"### {md_escape(FAMILY_TITLE.get(family, family))}", "",
                  "| control | severity | " + " | ".join(names) + " |",
                  "|---|---|" + "---|" * len(names)]
        for row in rows:
            cells = [_md_cell(cell, f"{REPOSITORY_FOLDER}/{repository.slug}{link_extension}#{row.rule.id.lower()}"
                              if link_extension else None)
                     for repository, cell in zip(report.repositories, row.cells)]
            lines.append(f"| {row.rule.id} {md_escape(row.rule.title)} | {row.rule.severity} | "
                         + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def render_merged_markdown(report: MergedReport, stream: IO[str], link_extension: str | None) -> None:
    stream.write(merged_to_markdown(report, link_extension))
