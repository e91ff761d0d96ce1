"""The rule engine: run every selected check on the documents of its target, stamp locations,
severities and fingerprints, and decide each control's status.

A check that raises is a bug in the auditor, not in the audited project: its control is reported
as ``error`` with the exception, and the rest of the audit goes on.
"""
from __future__ import annotations

import re
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from operator import is_
from pathlib import Path
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass, field
    from typing import Any
else:
    from auditor.record import dataclass, field

from auditor.catalog import Rule
from auditor.config import Config
from auditor.digests import sha256 as _sha256
from auditor.dispatch import Walk, load_check, outcomes, walks
from auditor.findings import (NO_PROPERTIES, SEVERITY_RANK, ControlResult, Evidence, Fail, Finding, Pass,
                              Related, Unknown, control_result, sort_findings, span_of, stamped)
from auditor.model.deployment import ROLES
from auditor.model.project import Project
from auditor.model.span import Note, NotChecked, Span

if TYPE_CHECKING:
    from types import ModuleType

    from auditor.params import Params
    from auditor.parallel import Streamed
    from auditor.stream import Finishing

SNIPPET_LIMIT = 200
# Rules tagged so anchor on the line that holds a secret (ENV API_TOKEN=..., a Trivy secret
# match): their snippets are redacted. Rules about secret *files* quote nothing of them anyway.
SECRET_LITERAL = "secret-literal"
_WHITESPACE = re.compile(r"\s+")


@dataclass
class AuditResult:
    root: Path
    roots: list[str]
    rules: dict[str, Rule]  # the rules that ran, by ID
    severities: dict[str, str]  # effective severity per rule (after configuration)
    findings: Sequence[Finding]  # a list, or read from the spool (auditor.stream.FindingStream)
    controls: dict[str, ControlResult]
    notes: list[Note]
    files_scanned: int
    duration_seconds: float = 0.0
    scanner_runs: list[Any] = field(default_factory=list)
    config_source: str | None = None
    baseline_fixed: list[dict[str, Any]] = field(default_factory=list)
    baseline_used: bool = False
    report_paths: set[str] | None = None  # changed-files mode: only these files were reported on
    policy: Any = None  # auditor.policy.PolicyReport: the configuration's provenance and weakenings

    @property
    def active_findings(self) -> list[Finding]:
        return [f for f in self.findings if not f.suppressed]

    def severity_counts(self) -> Counter[str]:
        """Open (not suppressed) findings by severity, without reading them again when counted."""
        tally = getattr(self.findings, "tally", None)
        if tally is not None:
            return Counter(tally.severities)
        return Counter(f.severity for f in self.findings if f.suppression is None)

    def suppressed_count(self) -> int:
        tally = getattr(self.findings, "tally", None)
        if tally is not None:
            return int(tally.suppressed)
        return sum(1 for f in self.findings if f.suppression is not None)

    def fails(self, threshold: str) -> bool:
        """Whether an open finding is at or above ``threshold`` (the exit code's question)."""
        if threshold == "none":
            return False
        floor = SEVERITY_RANK[threshold]
        return any(count and SEVERITY_RANK[severity] >= floor for severity, count in self.severity_counts().items())

    def close(self) -> None:
        """Remove the spool the findings and evidence are read from (a tree of many projects);
        the result cannot be rendered after. Dropping the result removes it too."""
        spool = getattr(self.findings, "spool", None)
        if spool is not None:
            spool.close()

    def at_or_above(self, threshold: str) -> list[Finding]:
        if threshold == "none":
            return []
        floor = SEVERITY_RANK[threshold]
        return [f for f in self.active_findings if SEVERITY_RANK[f.severity] >= floor]


def select_rules(catalog: dict[str, Rule], config: Config, select: Iterable[str] = (),
                 ignore: Iterable[str] = ()) -> dict[str, Rule]:
    """Rules whose ID starts with a ``select`` prefix (all when none) and with no ``ignore`` prefix.
    The engine's own rules (parse errors) stay on under ``select``: a file that did not parse
    matters whatever was selected."""
    chosen = tuple(select) or tuple(config.select)
    dropped = tuple(ignore) + tuple(config.ignore)
    selected = {}
    for rule_id, rule in catalog.items():
        if not config.enabled(rule) or (dropped and rule_id.startswith(dropped)):
            continue
        if chosen and not rule_id.startswith(chosen) and rule.target != "engine":
            continue
        selected[rule_id] = rule
    return selected


_SECRET_VALUE = re.compile(r"(?P<lead>[=:]\s*)(?P<value>\S.*)$")


def redact(line: str) -> str:
    """A line with its value hidden (``ENV API_TOKEN=<redacted>``): reports of secret rules must
    not copy the secret they found into a CI log or a SARIF upload."""
    return _SECRET_VALUE.sub(lambda m: m.group("lead") + "<redacted>", line, count=1)


def _quotable(project: Project, path: str) -> bool:
    """Only files the auditor reads as configuration are quoted: a finding about another file (a
    committed ``.env``, a key file) must not copy its content."""
    return not project.recognised or path in project.recognised_set


def _quote_text(project: Project, line: str, secret: bool) -> str:
    """A line of a quotable file as a report quotes it: stripped, redacted for a secret rule, cut.

    Kept per project by the line's text: a line repeated across a manifest's documents (``image:
    x``) is quoted once and its findings share the string."""
    quoted = project.memo.quoted
    key = (line, secret)
    text = quoted.get(key)
    if text is None:
        stripped = line.strip()
        text = quoted[key] = (redact(stripped) if secret else stripped)[:SNIPPET_LIMIT]
    return text


def fingerprint(rule_id: str, span: Span, line_text: str, occurrence: int) -> str:
    """Stable across unrelated edits: built from the rule, the file and the anchor line's
    content (whitespace folded), not its number, so moving code keeps the fingerprint; the
    occurrence index tells identical lines in one file apart."""
    return _fingerprint(rule_id, span, _WHITESPACE.sub(" ", line_text).strip(), occurrence)


def _fingerprint(rule_id: str, span: Span, content: str, occurrence: int) -> str:
    """``fingerprint`` of the anchor line's content with its whitespace already folded."""
    if span.line == 1 and span.column is None:
        content = "<file>"  # about the file as a whole: what is written on line 1 is incidental
    # surrogateescape: a file name that is not UTF-8 still gets a fingerprint
    digest = _sha256(f"{rule_id}\0{span.path}\0{content}\0{occurrence}".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:32]


class _Stamper:
    """Turns outcomes into findings with snippets and fingerprints (occurrences counted per file).

    Per finding this is a few dictionary lookups and one SHA-256: each distinct line's folded text
    and quoted snippet are made once (a manifest of thousands of Pods repeats its lines), and
    nothing is kept per line number (half a million findings anchor on a hundred thousand lines)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        # (rule, path, folded line) -> [findings so far, their fingerprint's head, the head for the file]
        self.seen: dict[tuple[str, str, str], list[Any]] = {}
        self.folded: dict[str, str] = {}  # a line's text -> its whitespace folded
        self.files: dict[str, tuple[list[str], bool]] = {}  # path -> its lines (Project.line_text), _quotable
        self.quoted: tuple[dict[str, str], dict[str, str]] = ({}, {})  # a line's text -> its quote, redacted

    def _file(self, path: str) -> tuple[list[str], bool]:
        """A file's lines, split once per project (``Project.line_text``), and whether it is quoted."""
        project = self.project
        project.line_text(path, 1)
        known = self.files[path] = (project.memo.lines[path], _quotable(project, path))
        return known

    def finding(self, rule: Rule, severity: str, message: str, span: Span,
                related: tuple[Related, ...] = (), properties: dict[str, Any] | None = None,
                identity: str | None = None, snippet: str | None = None) -> Finding:
        """``snippet``: the quoted line when it is not the file's own (a rendered chart's line)."""
        path, line = span.path, span.line
        lines, quotable = self.files.get(path) or self._file(path)
        text = lines[line - 1] if 0 < line <= len(lines) else ""  # Project.line_text
        source = text if identity is None else identity
        folded = self.folded.get(source)
        if folded is None:
            folded = self.folded[source] = _WHITESPACE.sub(" ", source).strip()
        key = (rule.id, path, folded)
        counted = self.seen.get(key)
        if counted is None:
            counted = self.seen[key] = [0, None, None]
        occurrence = counted[0]
        counted[0] = occurrence + 1
        # _fingerprint's text, its constant head encoded once per key: the anchor line's content, or
        # "<file>" for a finding about the file as a whole
        whole = 2 if line == 1 and span.column is None else 1
        head = counted[whole]
        if head is None:
            content = "<file>" if whole == 2 else folded
            head = counted[whole] = f"{rule.id}\0{path}\0{content}\0".encode("utf-8", "surrogateescape")
        if snippet is None:
            snippet = self._quoted(text, SECRET_LITERAL in rule.tags) if quotable else ""
        return stamped(rule.id, severity, rule.title, message, span, snippet,
                       _sha256(head + str(occurrence).encode()).digest()[:16].hex(), related,
                       properties or NO_PROPERTIES)

    def quote(self, span: Span, secret: bool = False) -> str:
        """The anchor line's snippet (``_quote_text`` of its line, if its file is ``_quotable``), its
        value redacted when ``secret``."""
        path, line = span.path, span.line
        lines, quotable = self.files.get(path) or self._file(path)
        if not quotable:
            return ""
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        snippet = self.quoted[secret].get(text)
        return snippet if snippet is not None else self._quoted(text, secret)

    def quote_secret(self, span: Span) -> str:
        """``quote`` with the value redacted (a bound method a rule's loop picks once)."""
        return self.quote(span, True)

    def _quoted(self, text: str, secret: bool) -> str:
        quoted = self.quoted[secret]
        snippet = quoted.get(text)
        if snippet is None:
            snippet = quoted[text] = _quote_text(self.project, text, secret)
        return snippet


class _Plan:
    """What the engine needs to run one rule, worked out on the rule's first project with files of
    its target and kept for the next ones (``_plans``): its check module and how to walk its nodes,
    its parameters and its severity under the configuration."""

    __slots__ = ("rule", "wanted", "target", "module_name", "loaded", "module", "walks", "params", "severity",
                 "secret", "documents_key", "unparsed_key")

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.module_name = rule.check_module
        self.wanted = frozenset(rule.applies_to or ROLES)  # the key of the project's view (role_view)
        self.target = rule.target
        self.loaded = False  # the module and parameters: only for a rule that has documents to judge
        self.module: ModuleType | None = None
        self.walks: tuple[Walk, ...] = ()
        self.params: Params | None = None
        self.severity = ""
        self.secret = SECRET_LITERAL in rule.tags
        self.documents_key = (self.wanted, self.target)  # _Run.documents' key
        self.unparsed_key = (rule.target, rule.family)  # _Run.unparsed's key

    def load(self, config: Config) -> None:
        rule = self.rule
        self.module = load_check(self.module_name)
        self.walks = walks(self.module)
        self.params = config.parameters_for(rule)  # may raise ConfigError, as it always did here
        self.severity = config.severity_for(rule)
        self.loaded = True


class _Plans:
    """The plans of one configuration's rules, by rule ID, while its rule settings and architecture
    profile stay what they were when the first was made (``state``)."""

    __slots__ = ("config", "state", "by_id", "last")

    def __init__(self, config: Config) -> None:
        self.config = config
        self.state = _config_state(config)
        self.by_id: dict[str, _Plan] = {}
        # the rules of the last ``checked_plans`` call, in order, and their plans (for those that
        # have a check): one attribute, read and replaced whole, so that two threads auditing with
        # one configuration but other rules never pair one's rules with the other's plans
        self.last: tuple[tuple[Rule, ...], list[_Plan]] = ((), [])

    def checked_plans(self, rules: dict[str, Rule]) -> list[_Plan]:
        """The plans of the rules that have a check, in ``rules``' order."""
        kept, checked = self.last
        if len(kept) != len(rules) or not all(map(is_, kept, rules.values())):
            kept = tuple(rules.values())
            checked = [_plan(self.by_id, rule) for rule in kept if rule.has_check]
            self.last = kept, checked
        return checked


def _config_state(config: Config) -> str:
    """What the plans depend on in a configuration (``Config.parameters_for``, ``severity_for``),
    as text: a value changed in place, however deep, changes it."""
    return repr((config.rules, config.architecture))


_last_plans: list[_Plans] = []  # the last configuration's: an audit's projects all share one


def _plans(config: Config) -> _Plans:
    """The rule plans for ``config``: made for the first project and reused for the next ones
    of the run (a worker audits hundreds), made afresh when the configuration or its rule settings
    changed since."""
    kept = _last_plans[0] if _last_plans else None
    if kept is None or kept.config is not config or kept.state != _config_state(config):
        kept = _Plans(config)
        _last_plans[:] = [kept]
    return kept


def _plan(plans: dict[str, _Plan], rule: Rule) -> _Plan:
    plan = plans.get(rule.id)
    if plan is None or plan.rule is not rule:
        plan = plans[rule.id] = _Plan(rule)
    return plan


class _Run:
    """One project's run of the rules: its stamper, and what several rules ask of the project
    alike (the documents of a target through a role set, the files of a target not read)."""

    __slots__ = ("project", "stamper", "documents", "unparsed", "walked")

    def __init__(self, project: Project, stamper: _Stamper) -> None:
        self.project = project
        self.stamper = stamper
        # the nodes of each kind of each document, walked once for all the rules (dispatch.outcomes):
        # by the document's id, while ``documents`` holds it
        self.walked: dict[tuple[Any, int], list[tuple[Any, Any]]] = {}
        self.documents: dict[tuple[frozenset[str], str], list[Any]] = {}
        self.unparsed: dict[tuple[str, str], tuple[str, ...]] = {}

    def documents_for(self, plan: _Plan) -> list[Any]:
        """The documents of the rule's target, in the view of its roles only (``role_view``)."""
        key = plan.documents_key
        documents = self.documents.get(key)
        if documents is None:
            project = self.project
            view = project.memo.views.get(plan.wanted) or project.for_roles(plan.rule.applies_to)
            documents = self.documents[key] = view.documents_for(plan.target)
        return documents

    def unparsed_inputs(self, rule: Rule) -> tuple[str, ...]:
        key = (rule.target, rule.family)  # _Plan.unparsed_key
        unparsed = self.unparsed.get(key)
        if unparsed is None:
            unparsed = self.unparsed[key] = _unparsed_inputs(rule, self.project)
        return unparsed


def run_checks(project: Project, rules: dict[str, Rule], config: Config) -> tuple[list[Finding], dict[str, ControlResult]]:
    stamper = _Stamper(project)
    run = _Run(project, stamper)
    findings: list[Finding] = []
    controls: dict[str, ControlResult] = {}
    for plan in _plans(config).checked_plans(rules):
        rule_findings, control = _run_plan(plan, run, config)
        findings.extend(rule_findings)
        controls[plan.rule.id] = control
    # AUD001: a file whose content is malformed; AUD003: a file the auditor did not check within
    # its bounds (size, time, depth, unreadable); AUD004: a chart or overlay not rendered. All fail
    # the gate at their default severity.
    not_checked = [p for p in project.problems if isinstance(p, NotChecked)]
    malformed = [p for p in project.problems if not isinstance(p, NotChecked)]
    unrendered = list(getattr(project, "unrendered", ()))
    for rule_id, problems in (("AUD001", malformed), ("AUD003", not_checked), ("AUD004", unrendered)):
        engine_rule = rules.get(rule_id)
        if engine_rule is None:
            continue
        severity = config.severity_for(engine_rule)
        for problem in problems:
            findings.append(stamper.finding(engine_rule, severity, problem.message, problem.span))
        controls[rule_id] = ControlResult(rule_id, "fail" if problems else "pass",
                                          tuple(Evidence(p.span, p.message) for p in problems))
    return findings, controls


_WHY_UNPARSED = "did not parse or was not read (AUD001, AUD003)"
# Evidence(span, text, snippet) without its Python-level __new__ (one per pass and per failure)
_evidence = tuple.__new__
_modules = sys.modules
_TARGET_OF_FAMILY = {"dockerfile": "dockerfile", "compose": "compose", "nginx": "nginx",
                     "kubernetes": "kubernetes", "nextjs": "nextjs"}


def _unparsed_inputs(rule: Rule, project: Project) -> tuple[str, ...]:
    """Files this rule should have read but could not: a project-wide rule reads its family's
    files (DC006 reads compose files), a cross-file rule reads every kind."""
    if rule.target != "project":
        return tuple(project.unparsed.get(rule.target, ()))
    family_target = _TARGET_OF_FAMILY.get(rule.family)
    if family_target:
        return tuple(project.unparsed.get(family_target, ()))
    return tuple(sorted({path for paths in project.unparsed.values() for path in paths}))


def _not_run(rule: Rule, project: Project, unparsed: tuple[str, ...]) -> ControlResult:
    """The control's result when no document of its target is there to run its check on: its
    module is then not even imported, so a family without files costs nothing at start-up.
    (A project-wide rule always runs: DF019 judges a .dockerignore without a Dockerfile.)"""
    if unparsed:
        return ControlResult(rule.id, "error", (), f"not checked: {', '.join(unparsed)} {_WHY_UNPARSED}")
    if project.documents_for(rule.target):
        return ControlResult(rule.id, "not_applicable", (), f"applies to {' and '.join(rule.applies_to)} "
                                                            f"workloads; the {rule.target} files have none")
    return ControlResult(rule.id, "not_applicable", (), f"no {rule.target} files in the audited tree")


def _run_rule(rule: Rule, project: Project, config: Config, stamper: _Stamper
              ) -> tuple[list[Finding], ControlResult]:
    """One rule on one project (what ``run_checks`` does for each)."""
    return _run_plan(_plan(_plans(config).by_id, rule), _Run(project, stamper), config)


def _run_plan(plan: _Plan, run: _Run, config: Config) -> tuple[list[Finding], ControlResult]:
    rule, stamper = plan.rule, run.stamper
    documents = run.documents.get(plan.documents_key)
    if documents is None:
        documents = run.documents_for(plan)
    unparsed = run.unparsed.get(plan.unparsed_key)
    if unparsed is None:
        unparsed = run.unparsed_inputs(rule)
    if not documents:
        return [], _not_run(rule, run.project, unparsed)
    # loaded once; again when the check module is not the one imported now (a test may stand another in)
    if not plan.loaded or _modules.get(plan.module_name) is not plan.module:
        plan.load(config)
    module, params = plan.module, plan.params
    assert module is not None and params is not None
    severity = plan.severity
    findings: list[Finding] = []
    evidence: list[Evidence] = []
    unknowns: list[str] = []
    secret = plan.secret
    quote = stamper.quote_secret if secret else stamper.quote
    reported: set[tuple[str, int, str]] = set()  # identical findings (manifests repeating names) once
    try:
        for document in documents:
            # a rendered deployment (Helm chart, Kustomize overlay): named in each message, its
            # rendered line as the snippet (parsers/rendered.py)
            origin = getattr(document, "origin", "")
            rendered = getattr(document, "snippets", None)
            suffix = f" [in {origin}]" if origin else ""
            snippet = quote  # the anchor line of the file, as quoted in reports

            if rendered:
                def snippet(span: Span, rendered: dict[tuple[str, int], str] = rendered) -> str:
                    line = rendered.get((span.path, span.line))
                    # "": the line rendered differently for different objects (a `range`)
                    return quote(span) if not line else (redact(line) if secret else line)[:SNIPPET_LIMIT]

            for outcome in outcomes(module, document, params, plan.walks, run.walked):
                node = outcome.node
                span = node if isinstance(node, Span) else node.span
                kind = outcome.__class__
                if kind is Pass:  # the most common outcome first (isinstance below for subclasses)
                    evidence.append(_evidence(Evidence, (span, outcome.evidence + suffix, snippet(span))))  # type: ignore[union-attr]
                elif isinstance(outcome, Fail):
                    message = outcome.message + suffix
                    seen = (span.path, span.line, message)
                    if seen in reported:
                        continue
                    reported.add(seen)
                    # each related place says what is there (its line), for SARIF's links and the text report
                    related = tuple(Related(span_of(node), " ".join(snippet(span_of(node)).split())[:120])
                                    for node in outcome.related) if outcome.related else ()
                    # a note (a check's own lower severity) takes the catalog's note severity
                    level = (rule.note_severity or outcome.severity) if outcome.severity else severity
                    finding = stamper.finding(rule, level, message, span, related,
                                              snippet=snippet(span) if rendered else None)
                    findings.append(finding)
                    evidence.append(_evidence(Evidence, (span, message, finding.snippet)))  # the finding's own strings
                elif isinstance(outcome, Pass):
                    evidence.append(_evidence(Evidence, (span, outcome.evidence + suffix, snippet(span))))
                elif isinstance(outcome, Unknown):
                    unknowns.append(f"{span.path}:{span.line}: {outcome.reason}{suffix}")
                    evidence.append(Evidence(span, f"not checked: {outcome.reason}{suffix}", snippet(span)))
    except Exception as exc:  # a defect in a check must not end the audit
        reason = f"internal error in the {rule.id} check: {type(exc).__name__}: {exc}"
        return findings, ControlResult(rule.id, "error", tuple(evidence), reason)
    if findings:
        status, reason = "fail", ""
    elif unknowns:
        status, reason = "error", "not checked: " + "; ".join(unknowns)
    elif unparsed:
        status, reason = "error", f"not fully checked: {', '.join(unparsed)} {_WHY_UNPARSED}"
    elif evidence:
        status, reason = "pass", ""
    else:
        status, reason = "not_applicable", f"nothing in the {rule.target} files that this control applies to"
    return findings, control_result(rule.id, status, tuple(evidence), reason)


def finishing_for(config: Config, rules: dict[str, Rule], *, suppress: bool = True,
                  baseline: list[dict[str, Any]] | None = None, report_paths: set[str] | None = None,
                  known_rule_ids: Iterable[str] | None = None, json: bool = False) -> Finishing:
    """What ``audit`` applies to every finding (suppressions, the baseline, the changed-files
    filter), in a form the partitions' workers take along (``json``: and render their part of the
    JSON report)."""
    import datetime as dt

    from auditor.baseline import known_fingerprints
    from auditor.stream import Finishing

    return Finishing(list(config.suppress), list(known_rule_ids or rules), suppress, dt.date.today(),
                     None if baseline is None else frozenset(known_fingerprints(baseline)),
                     None if report_paths is None else frozenset(report_paths), json)


def audit(project: Project, rules: dict[str, Rule], config: Config, roots: list[str], *,
          suppress: bool = True, baseline: list[dict[str, Any]] | None = None,
          report_paths: set[str] | None = None, known_rule_ids: Iterable[str] | None = None,
          external: Any = None, streamed: Streamed | None = None, finishing: Finishing | None = None,
          suppression_sources: dict[str, str] | None = None) -> AuditResult:
    """Check, then apply suppressions (inline and configured), the baseline, and the changed-files
    filter (``report_paths``: the whole tree is read for context, only these files reported).

    ``external`` is a future of the scanners' runs (started as parsing starts, so they run while
    the static checks do), ``None`` when the scanners were skipped. ``streamed``: the checks already
    ran partition by partition (``auditor.parallel``), their findings finished with ``finishing``
    where they were produced and kept in its spool; the result then reads them from there."""
    from auditor.baseline import known_fingerprints
    from auditor.external import fold_runs
    from auditor.stream import FindingStream, Tally

    started = time.perf_counter()
    finishing = finishing or finishing_for(config, rules, suppress=suppress, baseline=baseline,
                                           report_paths=report_paths, known_rule_ids=known_rule_ids)
    if streamed is None:
        findings, controls = run_checks(project, rules, config)
        sources = suppression_sources if suppression_sources is not None else project.all_sources()
        tally = Tally()
    else:  # the partitions' findings are in the spool, finished; what is left is the run's own
        findings, controls = [], dict(streamed.controls)
        sources = streamed.suppression_sources
        tally = streamed.tally
    runs = external.result() if external is not None else None
    overrides = {rule_id: config.rules[rule_id]["severity"] for rule_id in rules
                 if "severity" in config.rules.get(rule_id, {})}
    external_findings, external_controls = fold_runs(runs, project, rules, _Stamper(project), overrides)
    findings += external_findings
    controls.update(external_controls)
    suppressor = finishing.suppressor(sources)
    suppressor.add_used(tally.used_inline, tally.used_config)  # what the partitions' findings used
    # Trivy's inline ignores come as AUD002 findings of the `trivy config` run (scanners/trivy.py)
    inline = [Evidence(f.span, f.message) for f in findings if f.rule_id == "AUD002"]
    kept = finishing.finish(findings, suppressor, tally)
    aud002 = rules.get("AUD002")
    if aud002 is not None:
        problems = suppressor.problems()
        stamper = _Stamper(project)
        config_label = config.source or "(configuration)"
        kept += finishing.finish([stamper.finding(aud002, config.severity_for(aud002), message,
                                                  span if span.path != "(configuration)"
                                                  else Span(_relative(config_label, project), 1))
                                  for span, message in problems], None, tally)
        controls["AUD002"] = ControlResult("AUD002", "fail" if problems or inline else "pass",
                                           tuple(Evidence(span, message) for span, message in problems)
                                           + tuple(inline))
    fixed: list[dict[str, Any]] = []
    if baseline is not None:
        fixed = [entry for fingerprint, entry in known_fingerprints(baseline).items()
                 if fingerprint not in tally.matched]
    if report_paths is not None:
        for rule_id, control in list(controls.items()):
            if control.status == "fail" and not tally.rules.get(rule_id, (0,))[0]:
                controls[rule_id] = ControlResult(rule_id, "not_applicable", control.evidence,
                                                  "fails only outside the files reported on (changed-files mode)")
    for rule_id, control in list(controls.items()):
        record = tally.rules.get(rule_id)
        if control.status == "fail" and record is not None and record[0] and not record[1]:
            controls[rule_id] = ControlResult(rule_id, "suppressed", control.evidence, "; ".join(sorted(record[2])))
    sort_findings(kept)  # into Finding.sort_key order
    reported: Sequence[Finding] = kept if streamed is None else \
        FindingStream(streamed.spool, streamed.frames, streamed.strays, kept, tally)
    return AuditResult(
        root=project.root, roots=roots, rules=rules,
        severities={rule_id: config.severity_for(rule) for rule_id, rule in rules.items()},
        findings=reported, controls=dict(sorted(controls.items())),
        notes=sorted(project.notes, key=lambda n: (n.span.path, n.span.line, n.message)),
        files_scanned=len(project.files), duration_seconds=time.perf_counter() - started,
        config_source=config.source, baseline_fixed=fixed, scanner_runs=list(runs or []),
        baseline_used=baseline is not None, report_paths=report_paths)


def _relative(path: str, project: Project) -> str:
    try:
        return Path(path).resolve().relative_to(project.root.resolve()).as_posix()
    except ValueError:
        return path
