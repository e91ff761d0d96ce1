"""``--format json``: the machine-readable report, described by ``schemas/report.schema.json``.

Deterministic: findings sorted by file, line, column and rule; no timestamps or timings, so two
runs over the same tree give byte-identical output.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import IO, Any

from auditor import __version__
from auditor.engine import AuditResult
from auditor.findings import SEVERITIES, STATUSES, ControlResult, Evidence, Finding, Related
from auditor.model.span import Span
from auditor.textsafe import json_escape


SCHEMA_URI = "https://github.com/auditor/auditor/schemas/report.schema.json"
_CHUNK = 2000  # findings or evidence entries encoded at once


def _location(span: Span) -> dict[str, Any]:
    return {"file": span.path, "line": span.line, "column": span.column,
            "end_line": span.end_line or span.line}


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    span = finding.span
    data: dict[str, Any] = {
        "rule_id": finding.rule_id, "severity": finding.severity, "title": finding.title,
        "message": finding.message, "file": span.path, "line": span.line, "column": span.column,
        "end_line": span.end_line or span.line, "evidence": finding.snippet,
        "fingerprint": finding.fingerprint,
        "related": _related(finding.related) if finding.related else [],
        "suppressed": None if finding.suppression is None else
        {"kind": finding.suppression.kind, "reason": finding.suppression.reason},
    }
    if finding.properties:
        data["properties"] = finding.properties
    return data


def _related(related: Sequence[Related]) -> list[dict[str, Any]]:
    return [{**_location(r.span), "message": r.message} for r in related]


def _control_to_dict(result: AuditResult, control: ControlResult) -> dict[str, Any]:
    return {"rule_id": control.rule_id,
            "title": result.rules[control.rule_id].title if control.rule_id in result.rules else control.rule_id,
            "severity": result.severities.get(control.rule_id, "info"), "status": control.status,
            "reason": control.reason,
            "evidence": _evidence(control.evidence)}


def _evidence(evidence: Sequence[Evidence]) -> list[dict[str, Any]]:
    return [{"file": span.path, "line": span.line, "column": span.column,
             "end_line": span.end_line or span.line, "text": text, "snippet": snippet}
            for span, text, snippet in evidence]  # inlined: hundreds of thousands


def _head(result: AuditResult) -> dict[str, Any]:
    """The report's keys before ``findings``."""
    return {"$schema": SCHEMA_URI, "tool": {"name": "auditor", "version": __version__},
            "roots": result.roots, "config": result.config_source}


def _tail(result: AuditResult) -> dict[str, Any]:
    """The report's keys after ``controls``."""
    by_severity = result.severity_counts()
    by_status = Counter(c.status for c in result.controls.values())
    return {
        "notes": [{**_location(n.span), "message": n.message} for n in result.notes],
        "scanners": [_scanner_run(run) for run in result.scanner_runs],
        "policy": _policy(result),
        "summary": {
            "files": result.files_scanned,
            "findings": {severity: by_severity[severity] for severity in SEVERITIES},
            "suppressed": result.suppressed_count(),
            "controls": {status: by_status[status] for status in STATUSES},
        },
    }


def result_to_dict(result: AuditResult) -> dict[str, Any]:
    return {**_head(result),
            "findings": [finding_to_dict(f) for f in result.findings],
            "controls": [_control_to_dict(result, c) for c in result.controls.values()],
            **_tail(result)}


def _policy(result: AuditResult) -> dict[str, Any]:
    """Where the configuration came from and what the audited tree's configuration weakened."""
    if result.policy is None:
        return {"config": result.config_source, "config_from_tree": False, "floor": None, "blocking": False,
                "weakenings": []}
    policy: dict[str, Any] = result.policy.to_dict()
    return policy


def _scanner_run(run: Any) -> dict[str, Any]:
    return {"scanner": run.scanner, "command": list(run.command), "version": run.version,
            "binary_sha256": run.binary_sha256, "error": run.error, "findings": len(run.findings)}


def render_json(result: AuditResult, stream: IO[str]) -> None:
    """The report of ``result_to_dict`` as one line of JSON, written piece by piece: a monorepo's
    report (hundreds of thousands of findings and evidence locations) is never held whole in
    memory as one string, nor as one tree of dictionaries.

    Findings and evidence entries are written straight from the records (``_Fragments``: the
    text json's C encoder would give their dictionaries, without building them); everything
    else goes through json's encoder (without indent: its C encoder); `jq .` pretty-prints it.
    textsafe.json_escape: C1 controls, bidi, zero-width and tag characters (legal in JSON strings,
    but they make a path or message display differently from what it is; U+2028/2029 end a line
    in JavaScript) become \\u escapes, so the decoded document is identical; a byte of a file name
    that is not UTF-8 has no JSON form and is written as the text \\xff. The escaping works
    character by character, so escaping each piece gives the same text as escaping the whole."""
    encode = _ENCODER.encode
    fragments = _Fragments()

    def write(text: str) -> None:
        stream.write(json_escape(text))

    def copy(parts: Iterator[bytes]) -> None:
        """JSON text the partitions wrote (``fragment_text``: escaped, UTF-8), as it is."""
        binary = getattr(stream, "buffer", None) if _utf8(stream) else None
        if binary is not None:
            stream.flush()
        for data in parts:
            if binary is not None:
                binary.write(data)
            else:
                stream.write(data.decode("utf-8"))

    def members(values: dict[str, Any]) -> None:
        for key, value in values.items():
            write(f",{encode(key)}:{encode(value)}")

    head = _head(result)
    write("{" + encode(head)[1:-1])
    write(',"findings":[')
    written = _written(result.findings)
    if written is not None:  # each partition's findings, rendered where it was audited
        copy(written)
    else:
        findings = iter(result.findings)  # iterated, not sliced: it may be read from the spool (auditor.stream)
        finding = fragments.finding
        start = 0
        while chunk := [finding(f) for f in islice(findings, _CHUNK)]:
            write(("," if start else "") + ",".join(chunk))
            start += 1
    write('],"controls":[')
    pieces: list[str] = []
    size = 0
    evidence = fragments.evidence
    for index, control in enumerate(result.controls.values()):
        separator = "," if index else ""
        empty = ControlResult(control.rule_id, control.status, (), control.reason)
        opening = separator + encode(_control_to_dict(result, empty))[:-len("]}")]  # ends '"evidence":['
        entries = control.evidence
        parts = _written(entries)
        if parts is not None:
            write("".join(pieces) + opening)
            pieces, size = [], 0
            copy(parts)
            write("]}")
            continue
        if len(entries) <= _CHUNK:
            pieces.append(opening + ",".join([evidence(e) for e in entries]) + "]}")
            size += len(entries) + 1
            if size >= _CHUNK:
                write("".join(pieces))
                pieces, size = [], 0
            continue
        # a control with a monorepo's evidence: its list in pieces too
        write("".join(pieces) + opening)
        pieces, size = [], 0
        remaining = iter(entries)
        start = 0
        while piece := [evidence(e) for e in islice(remaining, _CHUNK)]:
            write(("," if start else "") + ",".join(piece))
            start += 1
        write("]}")
    write("".join(pieces))
    write("]")
    members(_tail(result))
    write("}\n")


def _written(items: Any) -> Iterator[bytes] | None:
    """The JSON text of spooled findings or evidence as the partitions rendered it, if they did."""
    parts = getattr(items, "json_parts", None)
    return parts() if parts is not None else None


def _utf8(stream: IO[str]) -> bool:
    encoding = getattr(stream, "encoding", None)
    return isinstance(encoding, str) and encoding.lower().replace("-", "").replace("_", "") == "utf8" \
        and getattr(stream, "errors", "strict") == "strict" and getattr(stream, "newlines", None) is None


def fragment_text(findings: Iterable[Finding], evidence: Mapping[str, Sequence[Evidence]] | None = None
                  ) -> tuple[bytes, dict[str, bytes]] | None:
    """The text ``render_json`` writes for these findings, and for each control's evidence
    entries (``evidence``: rule -> entries), each joined with commas, escaped and encoded as the
    report is (None when it cannot be encoded so: the report then renders them itself)."""
    if len(_HEADS) > 4096:  # (a rule's ID, severity and title: a few hundred, whatever the tree)
        _HEADS.clear()
    fragments = _Fragments(_HEADS)  # the heads a worker renders, made once for all its partitions
    finding, entry = fragments.finding, fragments.evidence
    try:
        return (json_escape(",".join([finding(f) for f in findings])).encode("utf-8"),
                {rule_id: json_escape(",".join([entry(e) for e in entries])).encode("utf-8")
                 for rule_id, entries in (evidence or {}).items()})
    except UnicodeError:
        return None


def evidence_text_and_rows(evidence: Mapping[str, Sequence[Evidence]]
                           ) -> tuple[dict[str, bytes] | None, dict[str, list[tuple[Any, ...]]]]:
    """Each control's evidence (rule -> entries) as ``fragment_text`` writes it (None when it
    cannot be encoded so) and as the spool's plain rows (``auditor.stream.evidence_rows``), made
    in one pass over the entries."""
    fragments = _Fragments()
    texts: dict[str, bytes] | None = {}
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for rule_id, entries in evidence.items():
        text, rows[rule_id] = fragments.evidence_and_rows(entries)
        if texts is not None:
            try:
                texts[rule_id] = json_escape(text).encode("utf-8")
            except UnicodeError:
                texts = None
    return texts, rows


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_HEADS: dict[tuple[str, str, str], str] = {}  # fragment_text's finding heads, kept between calls
_TEXT = json.encoder.encode_basestring  # what that encoder writes for a string (C, when built)


class _Fragments:
    """The JSON text of findings and evidence entries, exactly as ``_ENCODER`` writes
    ``finding_to_dict(f)`` and ``_evidence([e])``'s entry, made with one format string each: the
    parts a report repeats (a rule's ID, severity and title; a file's name; a quoted line) are
    encoded once per report. A record with a value of another type than the auditor makes (a
    number that is not a plain int, text that is not a string) goes the way of the dictionaries."""

    def __init__(self, heads: dict[tuple[str, str, str], str] | None = None) -> None:
        self.heads: dict[tuple[str, str, str], str] = {} if heads is None else heads
        self.files: dict[str, str] = {}  # '"file":"a/b","line":'
        self.quoted: dict[str, str] = {}

    def _file(self, path: str) -> str:
        text = self.files[path] = f'"file":{_TEXT(path)},"line":'
        return text

    def _quoted(self, snippet: str) -> str:
        text = self.quoted[snippet] = _TEXT(snippet)
        return text

    def _head(self, key: tuple[str, str, str]) -> str:
        text = self.heads[key] = '{"rule_id":%s,"severity":%s,"title":%s,"message":' % tuple(map(_TEXT, key))
        return text

    def finding(self, finding: Finding) -> str:
        try:
            path, line, column, end_line, _ = finding.span
            if end_line is None:
                end_line = line
            if type(line) is not int or type(end_line) is not int or (column is not None and type(column) is not int):
                raise TypeError(line, column, end_line)
            key = (finding.rule_id, finding.severity, finding.title)
            related = _ENCODER.encode(_related(finding.related)) if finding.related else "[]"
            suppression = finding.suppression
            suppressed = "null" if suppression is None else \
                _ENCODER.encode({"kind": suppression.kind, "reason": suppression.reason})
            properties = f',"properties":{_ENCODER.encode(finding.properties)}}}' if finding.properties else "}"
            return (f'{self.heads.get(key) or self._head(key)}{_TEXT(finding.message)},'
                    f'{self.files.get(path) or self._file(path)}{line},'
                    f'"column":{"null" if column is None else column},"end_line":{end_line},'
                    f'"evidence":{self.quoted.get(finding.snippet) or self._quoted(finding.snippet)},'
                    f'"fingerprint":{_TEXT(finding.fingerprint)},"related":{related},"suppressed":{suppressed}'
                    f'{properties}')
        except (TypeError, ValueError):
            return _ENCODER.encode(finding_to_dict(finding))

    def evidence_and_rows(self, entries: Sequence[Evidence]) -> tuple[str, list[tuple[Any, ...]]]:
        """The entries' text joined with commas (``evidence`` each) and their plain rows."""
        files, quoted = self.files, self.quoted
        parts: list[str] = []
        rows: list[tuple[Any, ...]] = []
        for entry in entries:
            span, text, snippet = entry
            path, line, column, end_line, end_column = span
            rows.append(((path, line, column, end_line, end_column), text, snippet))
            try:
                if end_line is None:
                    end_line = line
                if type(line) is not int or type(end_line) is not int or \
                        (column is not None and type(column) is not int):
                    raise TypeError(line, column, end_line)
                parts.append(f'{{{files.get(path) or self._file(path)}{line},'
                             f'"column":{"null" if column is None else column},"end_line":{end_line},'
                             f'"text":{_TEXT(text)},"snippet":{quoted.get(snippet) or self._quoted(snippet)}}}')
            except (TypeError, ValueError):
                parts.append(self.evidence(entry))
        return ",".join(parts), rows

    def evidence(self, entry: Evidence) -> str:
        try:
            span, text, snippet = entry
            path, line, column, end_line, _ = span
            if end_line is None:
                end_line = line
            if type(line) is not int or type(end_line) is not int or (column is not None and type(column) is not int):
                raise TypeError(line, column, end_line)
            return (f'{{{self.files.get(path) or self._file(path)}{line},'
                    f'"column":{"null" if column is None else column},"end_line":{end_line},'
                    f'"text":{_TEXT(text)},"snippet":{self.quoted.get(snippet) or self._quoted(snippet)}}}')
        except (TypeError, ValueError):
            return _ENCODER.encode(_evidence([entry])[0])
