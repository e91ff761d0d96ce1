"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning and every other SARIF viewer.

One run. The driver lists **every** rule of the catalog, not only those that ran or fired: that is
how a consumer tells "this rule ran and found nothing" (close the alert) from "this rule is
unknown". Locations are relative to ``%SRCROOT%`` (the scan root), so GitHub maps them onto the
checkout wherever the scan ran. Suppressed findings keep their result and carry ``suppressions``;
with a baseline every result carries ``baselineState``.

Text from audited files is data: it goes through ``textsafe.display`` (undecodable bytes, control,
bidi and invisible characters shown as escapes) and then through SARIF's own message escaping (§3.11.5 braces,
§3.11.6 embedded links), so a file cannot forge a placeholder or a link. Deterministic: no
timestamps, so two runs over the same tree give byte-identical logs.
"""
from __future__ import annotations

import dataclasses
import gzip
import json
import re
from collections.abc import Sequence
from pathlib import PurePosixPath
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import IO, Any
from urllib.parse import quote

from auditor import __version__
from auditor.catalog import Rule
from auditor.engine import AuditResult
from auditor.findings import SEVERITY_RANK, Finding, Suppression
from auditor.model.span import Span
from auditor.report import SARIF_MAX_RESULTS, taxonomy
from auditor.textsafe import display, json_escape

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://github.com/auditor/auditor"
RULE_HELP_URI = INFORMATION_URI + "/blob/main/docs/rules.md#{anchor}"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "auditorFingerprint/v1"

# GitHub ranks security alerts by this score (CVSS-like, 0.0-10.0, a string): over 9.0 is
# critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SUPPRESSION_KIND = {"inline": "inSource", "config": "external"}
# Code-fence languages for a rule's compliant example, by the file name the example is written to.
_FENCE_LANGUAGE = {".yaml": "yaml", ".yml": "yaml", ".conf": "nginx", ".json": "json", ".js": "javascript",
                   ".mjs": "javascript", ".cjs": "javascript", ".ts": "typescript", ".tsx": "tsx"}
_LINK_BRACKETS = re.compile(r"([\[\]])")
# GitHub code scanning accepts at most 25,000 results per run and a gzip-compressed upload of
# at most 10 MB (https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning#validating-your-sarif-file).
MAX_RESULTS = SARIF_MAX_RESULTS
MAX_GZIP_BYTES = 10 * 1000 * 1000
# Where the run's results are about the whole scanned tree (a scanner that could not run).
ROOT_PATHS = (".", "")


def category(result: AuditResult, chosen: str | None = None) -> str:
    """``automationDetails.id``: ``CATEGORY/`` (GitHub keys a run's alerts by it, so two uploads
    of different trees do not close each other's alerts). The ``--sarif-category`` chosen, else
    ``auditor/`` plus the scan root's name."""
    if chosen:
        name = chosen.strip().strip("/")
    else:
        name = "auditor/" + (result.root.resolve().name or "root")
    name = "".join(c if c.isalnum() or c in "-_./" else "-" for c in display(name)) or "auditor"
    return name + "/"


def render_sarif(result: AuditResult, stream: IO[str], sarif_category: str | None = None, *,
                 root_uri: str | None = None) -> None:
    """``root_uri``: the scan root's URI when it is not this machine's (``auditor merge`` renders a
    report scanned elsewhere; "" for none known); by default the root resolved here."""
    # The text the size check made is the text written: the indented encoder is pure Python
    # (about 7 s for 25,000 results), so it runs once per log, not twice.
    stream.write(_sized_log(result, sarif_category, root_uri=root_uri)[1])
    stream.write("\n")


def _dump(document: dict[str, Any]) -> str:
    # json_escape: whatever string did not pass through _text (a rule's own text) still leaves
    # no raw control or invisible character in the log.
    return json_escape(json.dumps(document, indent=2, ensure_ascii=False))


def ordered(findings: list[Finding]) -> list[Finding]:
    """Most severe first; suppressed and baselined findings after every open one (stable, so
    the engine's order by file and line holds within a severity)."""
    return sorted(findings, key=lambda f: (f.suppressed, -SEVERITY_RANK.get(f.severity, 0)))


def result_to_sarif(result: AuditResult, sarif_category: str | None = None, *,
                    max_results: int = MAX_RESULTS, max_gzip_bytes: int = MAX_GZIP_BYTES) -> dict[str, Any]:
    """The log; at most ``max_results`` results (the most severe), fewer if the gzip-compressed
    log would exceed ``max_gzip_bytes``; what was left out is a tool execution notification."""
    return _sized_log(result, sarif_category, max_results=max_results, max_gzip_bytes=max_gzip_bytes)[0]


def _sized_log(result: AuditResult, sarif_category: str | None, *, max_results: int = MAX_RESULTS,
               max_gzip_bytes: int = MAX_GZIP_BYTES, root_uri: str | None = None) -> tuple[dict[str, Any], str]:
    """The log and its text, cut to fit ``max_results`` and ``max_gzip_bytes``."""
    findings = _merge_root_failures(ordered(list(result.findings)))
    limit = min(len(findings), max_results)
    while True:
        document = _document(result, findings, limit, sarif_category, root_uri)
        text = _dump(document)
        if limit == 0 or len(gzip.compress(text.encode("utf-8", "surrogateescape"))) <= max_gzip_bytes:
            return document, text
        limit = limit * 8 // 10


def _document(result: AuditResult, findings: list[Finding], limit: int, sarif_category: str | None,
              root_uri: str | None = None) -> dict[str, Any]:
    from auditor.catalog import load_catalog

    catalog = dict(load_catalog())
    catalog.update(result.rules)  # a rule the run knows and the installed catalog does not
    rule_ids = sorted(catalog)
    kept = findings[:limit]
    rules = [_rule(catalog[rule_id], result.severities.get(rule_id)) for rule_id in rule_ids]
    # one rule per advisory (CVE, GHSA) the scanners reported, after the catalog's rules
    advisories: dict[str, dict[str, Any]] = {}
    for finding in kept:
        advisory = _advisory_id(finding)
        if advisory and advisory not in catalog and advisory not in advisories:
            advisories[advisory] = _advisory_rule(advisory, finding, result.severities.get(finding.rule_id))
    rules += [advisories[key] for key in sorted(advisories)]
    rule_index = {rule["id"]: index for index, rule in enumerate(rules)}
    baseline_used = result.baseline_used
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "auditor", "version": __version__, "semanticVersion": __version__,
            "informationUri": INFORMATION_URI,
            "rules": rules,
        }},
        "automationDetails": {"id": category(result, sarif_category)},
        "invocations": [_invocation(result, rule_index, left_out=findings[limit:], total=len(findings))],
        "originalUriBaseIds": {SRCROOT: {"uri": _root_uri(result)} if root_uri is None
                               else {"uri": root_uri} if root_uri else {}},
        "results": [_result(f, rule_index, baseline_used) for f in kept],
        "columnKind": "unicodeCodePoints",
    }
    if result.baseline_fixed:
        # Not "absent" results: GitHub ignores baselineState and would show a fixed finding, at
        # a location that may no longer exist, as an open alert. The run's property bag keeps
        # the record for whoever reads the log.
        run["properties"] = {"baselineFixed": [
            {key: _text(str(entry[key])) if isinstance(entry.get(key), str) else entry.get(key)
             for key in ("rule_id", "file", "line", "message", "fingerprint") if key in entry}
            for entry in result.baseline_fixed]}
    policy = result.policy
    if policy is not None and (policy.weakenings or policy.floor):
        # What the audited tree's configuration weakened, so a reviewer of the upload sees it
        run.setdefault("properties", {})["policy"] = {
            "config": _text(policy.config) if policy.config else None, "configFromTree": policy.from_tree,
            "floor": _text(policy.floor) if policy.floor else None, "blocking": bool(policy.blocking),
            "weakenings": [{"setting": _text(w.setting), "change": _text(w.change), "level": w.level,
                            "refused": w.refused} for w in policy.weakenings]}
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


# --- text --------------------------------------------------------------------------------------


def _text(text: str) -> str:
    """Plain text safe for any SARIF string: undecodable bytes of file names (``\\xff``), control,
    bidi and invisible characters become visible escapes."""
    return display(text)


def _message(text: str) -> dict[str, str]:
    """A result or notification message: braces doubled (SARIF §3.11.5: a literal ``{`` would
    otherwise read as a ``{0}`` placeholder) and square brackets escaped (§3.11.6: ``[x](1)``
    would otherwise be an embedded link to a related location)."""
    escaped = _text(text).replace("{", "{{").replace("}", "}}")
    return {"text": _LINK_BRACKETS.sub(r"\\\1", escaped) or "(no message)"}


# --- the driver's rules ------------------------------------------------------------------------


def _tags(rule: Rule) -> list[str]:
    tags = [taxonomy.tag(t) for t in ["security", rule.family, *rule.tags]]
    number = taxonomy.cwe(rule.id)
    if number is not None:
        tags.append(f"external/cwe/cwe-{number}")
    return list(dict.fromkeys(tags))


def _rule(rule: Rule, effective_severity: str | None) -> dict[str, Any]:
    severity = effective_severity or rule.severity
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.summary},
        "help": {"text": _help_text(rule), "markdown": _help_markdown(rule)},
        "helpUri": RULE_HELP_URI.format(anchor=rule.id.lower()),
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": {
            "tags": _tags(rule),
            "frameworks": list(rule.frameworks),
            "precision": taxonomy.precision(rule.id),
            "security-severity": SECURITY_SEVERITY[severity],
        },
    }


def _example(rule: Rule) -> tuple[str, str]:
    good = (rule.examples or {}).get("good", "")
    filename = (rule.examples or {}).get("filename", "")
    suffix = PurePosixPath(filename).suffix.lower()
    language = "dockerfile" if "dockerfile" in filename.lower() else _FENCE_LANGUAGE.get(suffix, "")
    return good.rstrip("\n"), language


def _help_text(rule: Rule) -> str:
    parts = [rule.summary, f"Why: {rule.rationale}", f"Fix: {rule.remediation}"]
    good, _ = _example(rule)
    if good:
        parts.append("Compliant example:\n" + "\n".join(f"  {line}" for line in good.splitlines()))
    parts += [f"Reference: {ref.get('title', '')} {ref.get('url', '')}".rstrip() for ref in rule.references]
    return "\n\n".join(parts)


def _help_markdown(rule: Rule) -> str:
    parts = [rule.summary, f"**Why it matters.** {rule.rationale}", f"**How to fix it.** {rule.remediation}"]
    good, language = _example(rule)
    if good:
        fence = "`" * max(3, _longest_backtick_run(good) + 1)
        parts.append(f"**Compliant example**\n\n{fence}{language}\n{good}\n{fence}")
    if rule.references:
        parts.append("**References**\n\n" + "\n".join(
            f"- [{ref.get('title', ref.get('url', ''))}]({ref.get('url', '')})" for ref in rule.references))
    if rule.frameworks:
        parts.append("Frameworks: " + ", ".join(rule.frameworks))
    return "\n\n".join(parts)


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


# --- advisories: one rule per CVE/GHSA ----------------------------------------------------------

_ADVISORY_ID = re.compile(r"^(?:CVE-\d{4}-\d{4,}|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}|[A-Z][A-Z0-9]{1,15}-[A-Za-z0-9._:-]{1,64})$")


def _advisory_id(finding: Finding) -> str | None:
    """The advisory a scanner's vulnerability finding is about (its SARIF rule), or None."""
    if finding.rule_id not in taxonomy.ADVISORY_CONTROLS:
        return None
    advisory = finding.properties.get("vulnerability_id")
    if not isinstance(advisory, str) or not _ADVISORY_ID.match(advisory):
        return None
    return advisory


def _advisory_rule(advisory: str, finding: Finding, effective_severity: str | None) -> dict[str, Any]:
    """A rule for one advisory, as Trivy's own SARIF has: its ID, title and link; the control
    it belongs to (SC001, SC003) in ``properties.control``."""
    properties = finding.properties
    url = properties.get("url")
    title = _text(finding.title)
    severity = finding.severity
    rule: dict[str, Any] = {
        "id": advisory,
        "name": _text(f"{properties.get('package') or 'package'} {advisory}"),
        "shortDescription": {"text": title},
        "fullDescription": {"text": title},
        "help": {"text": _text(f"{title}. Upgrade the package to a fixed version"
                               + (f"; advisory: {url}" if isinstance(url, str) and url else "") + "."),
                 "markdown": _text(f"{title}.\n\nUpgrade the package to a fixed version."
                                   + (f" Advisory: <{url}>" if isinstance(url, str) and url else ""))},
        "defaultConfiguration": {"level": LEVEL.get(severity, "warning")},
        "properties": {
            "tags": ["security", "vulnerability", "supply-chain",
                     f"external/cwe/cwe-{taxonomy.cwe(finding.rule_id) or 1395}"],
            "precision": taxonomy.precision(finding.rule_id),
            "security-severity": SECURITY_SEVERITY.get(severity, "5.5"),
            "control": finding.rule_id,
        },
    }
    if isinstance(url, str) and url.startswith(("https://", "http://")):
        rule["helpUri"] = quote(url, safe=":/?#[]@!$&'()*+,;=%-._~")
    return rule


def _merge_root_failures(findings: list[Finding]) -> list[Finding]:
    """Every scanner that could not run is one SC004 at the scanned root: several failures (trivy
    missing fails `trivy fs` and `trivy config` alike) become one result naming each."""
    failures = [f for f in findings if f.rule_id == "SC004" and f.span.path in ROOT_PATHS and not f.suppressed]
    if len(failures) < 2:
        return findings
    first = failures[0]
    merged = dataclasses.replace(first, message="; ".join(dict.fromkeys(f.message for f in failures)),
                                 properties={"failures": [_json_safe(f.properties) for f in failures]})
    rest = set(map(id, failures[1:]))
    return [merged if f is first else f for f in findings if id(f) not in rest]


# --- locations ---------------------------------------------------------------------------------


def _root_uri(result: AuditResult) -> str:
    # SARIF §3.14.14: a base URI ends with a slash, or relative references resolve one level up.
    uri = result.root.resolve().as_uri()
    return uri if uri.endswith("/") else uri + "/"


def artifact_uri(path: str) -> str:
    """A scan-root-relative path as a relative URI reference: every byte but unreserved characters
    and ``/`` percent-encoded (spaces, ``#``, ``%``, ``:`` and non-ASCII names alike; a ``:`` in
    the first segment would otherwise read as a scheme)."""
    return quote(path, safe="/", errors="surrogateescape") or "."


def _physical_location(span: Span, snippet: str = "") -> dict[str, Any]:
    if span.path in ROOT_PATHS:
        # the scanned tree itself (a folder): no snippet of a file that is not there; GitHub
        # requires a region (GH1003), so the first line stands for the whole
        return {"artifactLocation": {"uri": ".", "uriBaseId": SRCROOT}, "region": {"startLine": 1}}
    start_line = max(1, span.line)
    region: dict[str, Any] = {"startLine": start_line}
    if span.column and span.column > 0:
        region["startColumn"] = span.column
    end_line = max(start_line, span.end_line or start_line)
    region["endLine"] = end_line
    if span.end_column and span.end_column > 0 and (end_line > start_line or span.end_column > (span.column or 1)):
        region["endColumn"] = span.end_column
    if snippet:
        region["snippet"] = {"text": _text(snippet)}
    return {"artifactLocation": {"uri": artifact_uri(span.path), "uriBaseId": SRCROOT}, "region": region}


def _location(span: Span, snippet: str = "", message: str = "", identifier: int | None = None) -> dict[str, Any]:
    location: dict[str, Any] = {}
    if identifier is not None:
        location["id"] = identifier
    location["physicalLocation"] = _physical_location(span, snippet)
    if message:
        location["message"] = _message(message)
    return location


# --- results -----------------------------------------------------------------------------------


def _result(finding: Finding, rule_index: dict[str, int], baseline_used: bool) -> dict[str, Any]:
    sarif: dict[str, Any] = {"ruleId": finding.rule_id}
    if finding.rule_id in rule_index:
        sarif["ruleIndex"] = rule_index[finding.rule_id]
    advisory = _advisory_id(finding)
    if advisory and advisory in rule_index:
        sarif = {"ruleId": advisory, "ruleIndex": rule_index[advisory]}
    sarif["level"] = LEVEL.get(finding.severity, "warning")
    message = _message(finding.message)
    if finding.related:
        # each related place has a message of its own and the result's message links it
        # (`[EXPOSE 3000](1)`): GitHub shows related locations only through such links
        labels = [_related_label(related.message, related.span) for related in finding.related]
        links = ", ".join(f"[{_link_text(label)}]({number})" for number, label in enumerate(labels, start=1))
        message = {"text": f"{message['text']} (see {links})"}
        sarif["relatedLocations"] = [
            _location(related.span, message=label, identifier=number)
            for number, (related, label) in enumerate(zip(finding.related, labels), start=1)]
    sarif["message"] = message
    sarif["locations"] = [_location(finding.span, finding.snippet)]
    if finding.fingerprint:
        sarif["partialFingerprints"] = {FINGERPRINT_KEY: finding.fingerprint}
    suppression = finding.suppression
    if suppression is not None and suppression.kind in SUPPRESSION_KIND:
        sarif["suppressions"] = [_suppression(suppression)]
    if baseline_used:
        baselined = suppression is not None and suppression.kind == "baseline"
        sarif["baselineState"] = "unchanged" if baselined else "new"
    properties: dict[str, Any] = {"severity": finding.severity,
                                  "security-severity": SECURITY_SEVERITY.get(finding.severity, "5.5")}
    properties.update(_json_safe(finding.properties))
    sarif["properties"] = properties
    return sarif


def _related_label(message: str, span: Span) -> str:
    text = " ".join(display(message).split())
    if len(text) > 80:
        text = text[:79] + "…"
    return text or f"{span.path}:{span.line}"


def _link_text(label: str) -> str:
    """Link text inside ``[...](n)``: braces doubled, brackets backslash-escaped (§3.11.6)."""
    return _LINK_BRACKETS.sub(r"\\\1", _text(label).replace("{", "{{").replace("}", "}}"))


def _suppression(suppression: Suppression) -> dict[str, Any]:
    sarif: dict[str, Any] = {"kind": SUPPRESSION_KIND[suppression.kind], "status": "accepted",
                             "justification": _text(suppression.reason)}
    if suppression.span is not None:
        sarif["location"] = _location(suppression.span)
    return sarif


def _json_safe(value: Any) -> Any:
    """A scanner's property bag as plain JSON with every string made printable."""
    if isinstance(value, dict):
        return {_text(str(key)): _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    if isinstance(value, str):
        return _text(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return _text(str(value))


# --- the invocation ----------------------------------------------------------------------------


def _invocation(result: AuditResult, rule_index: dict[str, int], left_out: Sequence[Finding] = (),
                total: int = 0) -> dict[str, Any]:
    notifications: list[dict[str, Any]] = []
    if left_out:
        counts = {s: sum(1 for f in left_out if f.severity == s) for s in SECURITY_SEVERITY}
        breakdown = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        notifications.append({
            "message": _message(f"{len(left_out)} of {total} results were left out of this log ({breakdown}): "
                                f"GitHub accepts at most {MAX_RESULTS} results per run and {MAX_GZIP_BYTES // 1_000_000} MB "
                                "compressed, so the most severe were kept; the JSON report has them all"),
            "level": "warning", "descriptor": {"id": "results-left-out"}})
    internal_error = False
    for control in result.controls.values():
        if control.status != "error":
            continue
        # A check that raised is a defect of the auditor (the run did not fully succeed); a
        # control left unchecked because the audited file did not parse is the file's problem.
        internal = control.reason.startswith("internal error")
        internal_error |= internal
        notifications.append({
            "message": _message(f"{control.rule_id}: {control.reason}"),
            "level": "error" if internal else "warning",
            "associatedRule": _rule_reference(control.rule_id, rule_index),
        })
    from auditor.external import skipped_scanners

    skipped = skipped_scanners(result)
    if skipped:  # said the same way in every format: the scanners' controls were not run
        notifications.append({"message": _message(f"Scanners: {skipped}"), "level": "note",
                              "descriptor": {"id": "scanners-skipped"}})
    for scanner_run in result.scanner_runs:
        if scanner_run.error:
            notifications.append({"message": _message(f"{scanner_run.scanner} could not run: {scanner_run.error}"),
                                  "level": "warning"})
    for note in result.notes:
        notifications.append({"message": _message(f"not checked: {note.message}"), "level": "note",
                              "locations": [_location(note.span)]})
    invocation: dict[str, Any] = {"executionSuccessful": not internal_error}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation


def _rule_reference(rule_id: str, rule_index: dict[str, int]) -> dict[str, Any]:
    reference: dict[str, Any] = {"id": rule_id}
    if rule_id in rule_index:
        reference["index"] = rule_index[rule_id]
    return reference
