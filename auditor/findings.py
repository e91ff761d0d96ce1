"""What checks yield (``Fail``/``Pass``/``Unknown``) and what the engine turns them into (``Finding``,
``ControlResult``). Checks never build locations or repeat their own ID: the engine stamps those."""
from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator and typing's NamedTuple; auditor.record builds the same classes cheaper
    from dataclasses import dataclass, field
    from typing import Any, NamedTuple, NoReturn
else:
    from auditor.record import NamedTuple, dataclass, field

from auditor.model.span import Span

SEVERITIES = ("critical", "high", "medium", "low", "info")
SEVERITY_RANK = {name: rank for rank, name in enumerate(reversed(SEVERITIES))}  # info=0 .. critical=4
STATUSES = ("pass", "fail", "not_applicable", "error", "suppressed")


def span_of(node: Any) -> Span:
    """The span of a model node, or the span itself."""
    return node if isinstance(node, Span) else node.span


@dataclass(frozen=True, slots=True)
class Fail:
    node: Any
    message: str
    severity: str | None = None
    related: Sequence[Any] = ()


@dataclass(frozen=True, slots=True)
class Pass:
    node: Any
    evidence: str


@dataclass(frozen=True, slots=True)
class Unknown:
    """The check could not decide at this node: its input was not read (an include outside the
    tree, a template variable, an unrendered chart). Unknown is not absent: a control with an
    Unknown and no Fail is ``error`` (not checked), never ``pass`` and never ``fail``."""

    node: Any
    reason: str


Outcome = Fail | Pass | Unknown


class Related(NamedTuple):
    span: Span
    message: str = ""


@dataclass(frozen=True, slots=True)
class Suppression:
    kind: str  # "inline" | "config" | "baseline"
    reason: str
    span: Span | None = None


class _NoProperties(dict[str, "Any"]):
    """The properties of a finding that has none: one empty, read-only dictionary shared by all of
    them (a monorepo has hundreds of thousands of findings; an empty dict each is 64 bytes).
    Pickled and copied as itself."""

    __slots__ = ()

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("a finding's properties are read-only")

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _read_only

    def __reduce__(self) -> str:
        return "NO_PROPERTIES"


NO_PROPERTIES: dict[str, Any] = _NoProperties()


def _no_properties() -> dict[str, Any]:
    return NO_PROPERTIES


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    severity: str
    title: str
    message: str
    span: Span
    snippet: str
    fingerprint: str = ""
    related: tuple[Related, ...] = ()
    properties: dict[str, Any] = field(default_factory=_no_properties)  # a scanner's (package, advisory...)
    suppression: Suppression | None = None

    @property
    def suppressed(self) -> bool:
        return self.suppression is not None

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.span.path, self.span.line, self.span.column or 0, self.rule_id, self.message)


def sort_findings(findings: list[Finding]) -> None:
    """Sort ``findings`` in place into ``Finding.sort_key`` order (file, line, column, rule,
    message), stably: one stable pass per key, the last key first. Each pass's keys are values the
    findings already hold, where one pass on ``sort_key`` makes a tuple per finding (about 50 MB
    at once for the half-million findings of a large manifest) and compares tuples."""
    findings.sort(key=_message)
    findings.sort(key=_rule_id)
    findings.sort(key=_column)
    findings.sort(key=_line)
    findings.sort(key=_path)


_message, _rule_id = attrgetter("message"), attrgetter("rule_id")
_path, _line = attrgetter("span.path"), attrgetter("span.line")


def _column(finding: Finding) -> int:
    return finding.span.column or 0


class _Draft:
    """A ``Finding`` while the engine fills it: the same slots without the frozen ``__setattr__``,
    so each field is one plain slot store instead of an ``object.__setattr__`` call (0.3 us a
    finding instead of 1-2 us; a monorepo has hundreds of thousands). ``stamped`` then makes it
    a ``Finding``: two classes with the same slots over ``object`` may exchange ``__class__``."""

    __slots__ = Finding.__slots__

    def __init__(self, rule_id: str, severity: str, title: str, message: str, span: Span, snippet: str,
                 fingerprint: str, related: tuple[Related, ...], properties: dict[str, Any]) -> None:
        self.rule_id = rule_id
        self.severity = severity
        self.title = title
        self.message = message
        self.span = span
        self.snippet = snippet
        self.fingerprint = fingerprint
        self.related = related
        self.properties = properties
        self.suppression = None


def stamped(rule_id: str, severity: str, title: str, message: str, span: Span, snippet: str,
            fingerprint: str, related: tuple[Related, ...], properties: dict[str, Any]) -> Finding:
    """``Finding(rule_id, ..., properties)`` (not suppressed), made the engine's cheap way."""
    draft = _Draft(rule_id, severity, title, message, span, snippet, fingerprint, related, properties)
    object.__setattr__(draft, "__class__", Finding)
    return draft  # type: ignore[return-value]


class Evidence(NamedTuple):
    """What decided a control at one place (a NamedTuple: one per pass and per failure, so
    hundreds of thousands on a monorepo)."""

    span: Span
    text: str
    snippet: str = ""


@dataclass(frozen=True, slots=True)
class ControlResult:
    rule_id: str
    status: str  # one of STATUSES
    evidence: Sequence[Evidence]  # what decided it: passes and failures alike (a tuple, or read from the spool)
    reason: str = ""  # for not_applicable / error: why


class _ControlDraft:
    """A ``ControlResult`` while the engine fills it (see ``_Draft``): one per rule and project,
    so 71,000 on a tree of 1,000 projects."""

    __slots__ = ControlResult.__slots__

    def __init__(self, rule_id: str, status: str, evidence: Sequence[Evidence], reason: str) -> None:
        self.rule_id = rule_id
        self.status = status
        self.evidence = evidence
        self.reason = reason


def control_result(rule_id: str, status: str, evidence: Sequence[Evidence], reason: str = "") -> ControlResult:
    """``ControlResult(rule_id, status, evidence, reason)``, made the engine's cheap way."""
    draft = _ControlDraft(rule_id, status, evidence, reason)
    object.__setattr__(draft, "__class__", ControlResult)
    return draft  # type: ignore[return-value]
