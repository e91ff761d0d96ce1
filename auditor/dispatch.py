"""How the engine hands a check its input, and what it keeps of the outcomes.

A check module declares ``NODES``, the kind of node it judges (or a tuple of kinds, run in that
order), and the engine calls its ``check`` once per node of that kind, as gixy calls a plugin
for each directive it lists in ``directives = [...]``. A check returns one outcome (or ``None``:
nothing to say about this node) or yields several:

NODES                       the engine calls                          once for
--------------------------  ----------------------------------------  -----------------------------
"document"                  check(document, params)                   each document of the target
"dockerfile.stage"          check(stage, dockerfile, params)          every stage, in order
"dockerfile.final_stage"    check(stage, dockerfile, params)          the stage that ships, if any
"dockerfile.instruction"    check(instruction, dockerfile, params)    every instruction
"nginx.directive"           check(directive, config, params)          every directive, depth first
"nginx.server"              check(server, config, params)             every server block
"nginx.location"            check(location, site, params)             every location, implicit ones
                                                                      too (Site: config, server)
"compose.service"           check(service, compose_file, params)      every service
"kubernetes.workload"       check(workload, kubernetes, params)       every workload
"kubernetes.container"      check(container, workload, params)        every container, init first
"kubernetes.ingress"        check(ingress, kubernetes, params)        every Ingress

A check of ``"nginx.directive"`` may name the directives it judges (``DIRECTIVES = {"ssl_ciphers"}``),
and one of ``"dockerfile.instruction"`` the keywords (``KEYWORDS = {"CMD"}``), as gixy's plugins
list ``directives = [...]``: the engine then calls it for those nodes only.

``"document"`` is for a control that judges the document as a whole (does any server listen on
443?); every other check judges one node and never loops over its document. No check
deduplicates: many nodes share one anchor (an inherited header, an ``http {}`` setting, a
pod-level securityContext), and the engine reports each anchor once per document, and for the
Kubernetes kinds once per workload (a Helm ``range`` renders several workloads from one template
line, so they share its spans). Of the
outcomes at one span, the first of each kind (fail, pass, unknown) stands, and a fail suppresses
later passes there. The outcomes of one call are the check's own and are all kept, so a
document-level check sees no deduplication.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from types import ModuleType
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import Any

from auditor.findings import Fail, Outcome, Pass, Unknown
from auditor.model.span import Span
from auditor.params import Params

if TYPE_CHECKING:  # the models are imported by the checks that need them, not to load the engine
    from typing import NamedTuple

    from auditor.model.nginx import NginxConfig, Server
else:  # mypy sees typing's NamedTuple; auditor.record builds the same classes cheaper
    from auditor.record import NamedTuple

DOCUMENT = "document"
CheckResult = Outcome | Iterable[Outcome] | None  # what ``check`` returns


class Site(NamedTuple):
    """Where an nginx location sits: its root config and its server block."""

    config: NginxConfig
    server: Server


def _nginx_directives(config: Any) -> Iterator[tuple[Any, Any]]:
    # without recursion: blocks nest deeply in a hostile config
    stack = list(reversed(config.directives))
    while stack:
        directive = stack.pop()
        yield directive, config
        stack.extend(reversed(directive.block or ()))


def _nginx_servers(config: Any) -> Iterator[tuple[Any, Any]]:
    return ((server, config) for server in config.servers)


def _nginx_locations(config: Any) -> Iterator[tuple[Any, Site]]:
    return ((location, Site(config, server)) for server, location in config.locations())


def _dockerfile_stages(dockerfile: Any) -> Iterator[tuple[Any, Any]]:
    return ((stage, dockerfile) for stage in dockerfile.stages)


def _dockerfile_final_stage(dockerfile: Any) -> Iterator[tuple[Any, Any]]:
    return ((stage, dockerfile) for stage in (dockerfile.final_stage,) if stage is not None)


def _dockerfile_instructions(dockerfile: Any) -> Iterator[tuple[Any, Any]]:
    return ((instruction, dockerfile) for instruction in dockerfile.instructions)


def _compose_services(compose_file: Any) -> Iterator[tuple[Any, Any]]:
    return ((service, compose_file) for service in compose_file.services)


def _kubernetes_workloads(kubernetes: Any) -> Iterator[tuple[Any, Any]]:
    return ((workload, kubernetes) for workload in kubernetes.workloads)


def _kubernetes_containers(kubernetes: Any) -> Iterable[tuple[Any, Any]]:
    return [(container, workload) for workload, container in kubernetes.containers()]


def _kubernetes_ingresses(kubernetes: Any) -> Iterator[tuple[Any, Any]]:
    return ((ingress, kubernetes) for ingress in kubernetes.ingresses)


# node kind -> the (node, context) pairs of one document
NODE_KINDS: dict[str, Callable[[Any], Iterable[tuple[Any, Any]]]] = {
    "dockerfile.stage": _dockerfile_stages,
    "dockerfile.final_stage": _dockerfile_final_stage,
    "dockerfile.instruction": _dockerfile_instructions,
    "nginx.directive": _nginx_directives,
    "nginx.server": _nginx_servers,
    "nginx.location": _nginx_locations,
    "compose.service": _compose_services,
    "kubernetes.workload": _kubernetes_workloads,
    "kubernetes.container": _kubernetes_containers,
    "kubernetes.ingress": _kubernetes_ingresses,
}


# node kind -> (the check module's attribute naming the nodes it judges, the node's attribute it names)
NODE_NAMES: dict[str, tuple[str, str]] = {
    "nginx.directive": ("DIRECTIVES", "name"),
    "dockerfile.instruction": ("KEYWORDS", "keyword"),
}


def judged_names(module: ModuleType, kind: str) -> frozenset[str] | None:
    """The directive names or instruction keywords a check of ``kind`` is limited to (None: all)."""
    declared = NODE_NAMES.get(kind)
    names = getattr(module, declared[0], None) if declared is not None else None
    return frozenset(names) if names is not None else None


class CheckDefinitionError(Exception):
    """A check module that does not declare what it judges (a defect of the auditor)."""


def node_kinds(module: ModuleType) -> tuple[str, ...]:
    """The kinds a check module declares in ``NODES``, validated."""
    declared = getattr(module, "NODES", None)
    kinds = (declared,) if isinstance(declared, str) else tuple(declared or ())
    unknown = [kind for kind in kinds if kind != DOCUMENT and kind not in NODE_KINDS]
    if not kinds or unknown:
        raise CheckDefinitionError(
            f"{module.__name__} must declare NODES as one of {', '.join((DOCUMENT, *NODE_KINDS))} "
            f"(found {declared!r})")
    return kinds


def load_check(module_name: str) -> ModuleType:
    """A check module, imported on first use: the engine asks only for rules whose target has
    documents, so a family without files costs nothing at start-up."""
    module = importlib.import_module(module_name)
    node_kinds(module)
    return module


class _Anchors:
    """The anchors already reported for one rule in one document, one set per outcome kind (the
    fail set is also what keeps a later pass quiet at a failed span). An anchor is a span, or
    (workload, span) where each workload is judged on its own (``scope``). O(1) per outcome: the
    common call (one outcome) takes a path of its own, and no object is made per workload (a
    manifest of 45,000 Pods)."""

    __slots__ = ("fails", "passes", "unknowns")

    def __init__(self) -> None:
        self.fails: set[Any] = set()
        self.passes: set[Any] = set()
        self.unknowns: set[Any] = set()

    def reported(self, outcome: Outcome) -> set[Any]:
        """The set of anchors already reported with ``outcome``'s kind."""
        kind = outcome.__class__
        if kind is Pass:
            return self.passes
        if kind is Fail:
            return self.fails
        if kind is Unknown:
            return self.unknowns
        # a subclass of an outcome kind
        return self.fails if isinstance(outcome, Fail) else self.unknowns if isinstance(outcome, Unknown) else self.passes

    def new(self, result: CheckResult, scope: int | None = None) -> list[Outcome]:
        """The outcomes of one call that no earlier call reported (within ``scope``: the id of
        the workload the call judged, when anchors are per workload), then remember them."""
        if result is None:
            return []
        if isinstance(result, (Fail, Pass, Unknown)):  # one outcome: nothing of this call to weigh
            node = result.node
            span = node if isinstance(node, Span) else node.span
            anchor = span if scope is None else (scope, span)
            reported = self.reported(result)
            if anchor in reported or (reported is self.passes and anchor in self.fails):
                return []
            reported.add(anchor)
            return [result]
        fresh: list[Outcome] = []
        remember: list[tuple[set[Any], Any]] = []
        passes, fails, reported_of = self.passes, self.fails, self.reported
        for outcome in result:
            node = outcome.node
            span = node if isinstance(node, Span) else node.span
            anchor = span if scope is None else (scope, span)
            kind_anchors = passes if outcome.__class__ is Pass else reported_of(outcome)
            if anchor in kind_anchors or (kind_anchors is passes and anchor in fails):
                continue
            fresh.append(outcome)
            remember.append((kind_anchors, anchor))
        # remembered after the call: its own outcomes at one span are all kept
        for reported, anchor in remember:
            reported.add(anchor)
        return fresh


class Walk(NamedTuple):
    """How to reach the nodes of one kind a check module declares: worked out once per module
    (``walks``), where each document would otherwise look its declarations up again."""

    nodes: Callable[[Any], Iterable[tuple[Any, Any]]] | None  # None: the document itself
    names: frozenset[str] | None  # the names it judges (DIRECTIVES, KEYWORDS); None: every node
    attribute: str  # the node's attribute ``names`` are of
    owner_of: Callable[[Any, Any], Any] | None  # the workload a node's anchors belong to, if any


def walks(module: ModuleType) -> tuple[Walk, ...]:
    """The walks of a check module's ``NODES``, in its order (validated: ``node_kinds``)."""
    found = []
    for kind in node_kinds(module):
        if kind == DOCUMENT:
            found.append(Walk(None, None, "", None))
            continue
        names = judged_names(module, kind)
        found.append(Walk(NODE_KINDS[kind], names, NODE_NAMES[kind][1] if names is not None else "",
                          _WORKLOAD_OF.get(kind)))
    return tuple(found)


def outcomes(module: ModuleType, document: Any, params: Params,
             plan: tuple[Walk, ...] | None = None,
             walked: dict[tuple[Any, int], list[tuple[Any, Any]]] | None = None) -> Iterator[Outcome]:
    """Every outcome of the check on one document: called once per node of its kinds, each
    anchor reported once per document, or per workload for the Kubernetes kinds (see the module
    docstring). ``plan``: the module's ``walks``, when the caller keeps them. ``walked``: the
    (node, context) pairs of each kind of each document, kept by the caller while it holds the
    documents (seven nginx checks walk a config's locations, eight a manifest's containers)."""
    check = module.check
    anchors = _Anchors()
    new = anchors.new
    passes, fails, unknowns = anchors.passes, anchors.fails, anchors.unknowns
    for nodes, names, attribute, owner_of in plan if plan is not None else walks(module):
        if nodes is None:
            yield from new(check(document, params))
            continue
        if walked is None:
            pairs: Iterable[tuple[Any, Any]] = nodes(document)
        else:
            key = (nodes, id(document))
            pairs = walked.get(key)  # type: ignore[assignment]
            if pairs is None:
                pairs = walked[key] = list(nodes(document))
        for node, context in pairs:
            if names is not None and getattr(node, attribute) not in names:
                continue
            result = check(node, context, params)
            if result is None:
                continue
            # A chart's `range` renders several workloads from one template line: they share
            # its spans, yet each is a workload of its own and is judged on its own. (The
            # document holds the workloads, so their ids stay theirs while this runs.)
            scope = None if owner_of is None else id(owner_of(node, context))
            kind = result.__class__
            if kind is Pass or kind is Fail or kind is Unknown:  # one outcome: _Anchors.new's own path, inline
                found = result.node
                span = found if isinstance(found, Span) else found.span
                anchor = span if scope is None else (scope, span)
                reported = passes if kind is Pass else fails if kind is Fail else unknowns
                if anchor in reported or (kind is Pass and anchor in fails):
                    continue
                reported.add(anchor)
                yield result
                continue
            if isinstance(result, (Fail, Pass, Unknown)):  # one outcome of a subclass of a kind
                yield from new(result, scope)
                continue
            # several outcomes (_Anchors.new's loop, inline): remembered after the call, so that
            # its own outcomes at one span are all kept
            fresh: list[Outcome] = []
            remember: list[tuple[set[Any], Any]] = []
            for outcome in result:
                found = outcome.node
                span = found if isinstance(found, Span) else found.span
                anchor = span if scope is None else (scope, span)
                kind = outcome.__class__
                reported = passes if kind is Pass else fails if kind is Fail else anchors.reported(outcome)
                if anchor in reported or (reported is passes and anchor in fails):
                    continue
                fresh.append(outcome)
                remember.append((reported, anchor))
            for reported, anchor in remember:
                reported.add(anchor)
            yield from fresh


# node kind -> the workload a node belongs to (its anchors are that workload's)
_WORKLOAD_OF: dict[str, Callable[[Any, Any], Any]] = {
    "kubernetes.workload": lambda workload, kubernetes: workload,
    "kubernetes.container": lambda container, workload: workload,
}
