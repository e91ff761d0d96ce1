"""Baselines: record today's findings so that a CI gate fails only on new ones.

A baseline holds fingerprints (rule, file, the anchor line's content, occurrence; never line
numbers), so moving code around does not make old findings look new.

Some findings are never baselined: SC004 (a scanner could not run) and the auditor's own AUD rules
(a file that did not parse or was not checked, an invalid suppression) say that the audit itself is
incomplete, which is true again on every run, so recording them once would switch the gate off for
good. They are left out of a new baseline and an entry for them is ignored; only an explicit
inline or configured suppression with a reason hides them.

A baseline is input like any other: it is read only if it is a regular file under
``MAX_BASELINE_BYTES`` and every entry has the expected shape; anything else is a usage error
(exit 2) that says what is wrong, never a traceback.
"""
from __future__ import annotations

import json
import os
import stat
from dataclasses import replace
from pathlib import Path
from collections.abc import Collection, Iterable
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass
    from typing import Any
else:
    from auditor.record import dataclass

from auditor import __version__
from auditor.findings import Finding, Suppression
from auditor.patterns import on_first_use
from auditor.textsafe import json_escape

BASELINE_VERSION = 1
# ~200,000 findings; a bigger file is not a baseline worth loading (a 187 MB one took a minute)
MAX_BASELINE_BYTES = 50 * 1024 * 1024
_FINGERPRINT = on_first_use(r"[0-9a-f]{8,64}")
# entry key -> the types it may have (fingerprint is required, the rest is for people reading it)
_ENTRY_FIELDS: dict[str, tuple[type, ...]] = {"fingerprint": (str,), "rule_id": (str,), "file": (str,),
                                              "line": (int,), "message": (str,)}


def baselineable(rule_id: str) -> bool:
    """Whether a finding of this rule may be recorded in (and hidden by) a baseline."""
    return rule_id != "SC004" and not rule_id.startswith("AUD")


class BaselineError(Exception):
    """The baseline file cannot be read; the message says how to recreate it."""


@dataclass
class BaselineComparison:
    findings: list[Finding]  # baselined ones marked suppressed (kind "baseline")
    new: list[Finding]
    unchanged: list[Finding]
    fixed: list[dict[str, Any]]  # baseline entries no finding matches any more


def baseline_document(findings: Iterable[Finding]) -> dict[str, Any]:
    return {"version": BASELINE_VERSION, "tool": {"name": "auditor", "version": __version__},
            "findings": [{"fingerprint": f.fingerprint, "rule_id": f.rule_id, "file": f.span.path,
                          "line": f.span.line, "message": f.message}
                         for f in findings if baselineable(f.rule_id)
                         and (f.suppression is None or f.suppression.kind == "baseline")]}


def write_baseline(findings: Iterable[Finding], path: Path) -> int:
    document = baseline_document(findings)
    # json_escape: a file name that is not UTF-8 is recorded as the text \\xff (JSON has no form
    # for the byte; the fingerprint holds the real name), invisible characters as \\u escapes.
    path.write_text(json_escape(json.dumps(document, indent=2, ensure_ascii=False)) + "\n", encoding="utf-8")
    return len(document["findings"])


def read_baseline(path: Path) -> list[dict[str, Any]]:
    """The entries of a baseline file; ``BaselineError`` (exit 2) for anything that is not one."""
    recreate = f"recreate it with `auditor baseline create -o {path}`"
    data = _read_capped(path, recreate)
    try:
        document = json.loads(data.decode("utf-8"))
    except RecursionError:
        raise BaselineError(f"baseline {path} nests JSON too deeply to be a baseline; {recreate}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise BaselineError(f"baseline {path} is not JSON ({exc}); {recreate}") from None
    if not isinstance(document, dict) or document.get("version") != BASELINE_VERSION or \
            not isinstance(document.get("findings"), list):
        raise BaselineError(f"baseline {path} is not an auditor baseline (version {BASELINE_VERSION}); {recreate}")
    for index, entry in enumerate(document["findings"]):
        problem = _entry_problem(entry)
        if problem:
            raise BaselineError(f"baseline {path}: findings[{index}] {problem}; {recreate}")
    return [entry for entry in document["findings"] if baselineable(entry.get("rule_id", ""))]


def _read_capped(path: Path, recreate: str) -> bytes:
    """The file's bytes: a regular file (a FIFO is never waited on) of at most MAX_BASELINE_BYTES."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise BaselineError(f"baseline {path}: {exc.strerror}; create one with `auditor baseline create -o {path}`") from None
    with os.fdopen(descriptor, "rb") as handle:
        try:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode):
                raise BaselineError(f"baseline {path} is not a regular file")
            if info.st_size > MAX_BASELINE_BYTES:
                raise BaselineError(f"baseline {path} is {info.st_size:,} bytes, over the "
                                    f"{MAX_BASELINE_BYTES:,}-byte cap; {recreate}")
            data = handle.read(MAX_BASELINE_BYTES + 1)
        except OSError as exc:
            raise BaselineError(f"baseline {path}: {exc.strerror}") from None
    if len(data) > MAX_BASELINE_BYTES:  # it grew while being read
        raise BaselineError(f"baseline {path} is over the {MAX_BASELINE_BYTES:,}-byte cap; {recreate}")
    return data


def _entry_problem(entry: Any) -> str:
    if not isinstance(entry, dict):
        return f"is a {_kind(entry)}, not an object"
    if "fingerprint" not in entry:
        return "has no fingerprint"
    for key, types in _ENTRY_FIELDS.items():
        if key in entry and (not isinstance(entry[key], types) or isinstance(entry[key], bool)):
            return f"{key} is a {_kind(entry[key])}, not a {_kind(types[0]())}"
    if not _FINGERPRINT.fullmatch(entry["fingerprint"]):
        return "fingerprint is not a hexadecimal fingerprint"
    return ""


def _kind(value: Any) -> str:
    return {dict: "object", list: "list", str: "string", int: "number", float: "number", bool: "boolean",
            type(None): "null"}.get(type(value), type(value).__name__)


def known_fingerprints(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The entries a baseline may match, by fingerprint (SC004 and AUD entries left out)."""
    return {entry["fingerprint"]: entry for entry in entries
            if isinstance(entry.get("fingerprint"), str) and baselineable(str(entry.get("rule_id", "")))}


def mark(finding: Finding, known: Collection[str], matched: set[str]) -> Finding:
    """The finding, suppressed (kind "baseline") when the baseline knows it; its fingerprint is
    then added to ``matched``. One finding at a time, so the partitions of a tree can be compared
    where they are audited: "fixed" is then the entries no partition matched."""
    if finding.fingerprint in known and not finding.suppressed and baselineable(finding.rule_id):
        matched.add(finding.fingerprint)
        return replace(finding, suppression=_IN_BASELINE)
    return finding


_IN_BASELINE = Suppression("baseline", "in the baseline")


def compare(findings: Iterable[Finding], entries: list[dict[str, Any]]) -> BaselineComparison:
    """Mark findings the baseline knows as suppressed (kind "baseline"); SC004 and AUD findings
    are never matched (see the module docstring), and entries for them are ignored."""
    known = known_fingerprints(entries)
    matched: set[str] = set()
    result = BaselineComparison([], [], [], [])
    for finding in findings:
        marked = mark(finding, known, matched)
        if marked is not finding:
            result.unchanged.append(marked)
        elif not finding.suppressed:
            result.new.append(finding)
        result.findings.append(marked)
    result.fixed = [entry for fingerprint, entry in known.items() if fingerprint not in matched]
    return result
