"""Position-keeping YAML loading for Compose files and Kubernetes manifests.

libyaml (``CSafeLoader``) composes the node graph, which is fast and never constructs Python
objects from tags such as ``!!python/object``; we then build values ourselves so that:

* every key and value keeps its line and column;
* scalars follow YAML 1.2's core schema for numbers, as Compose's and Kubernetes' Go parsers do:
  PyYAML's YAML 1.1 resolver would read the port mapping ``22:22`` as the sexagesimal integer 1342;
* anchors, aliases and ``<<`` merge keys work, and an alias is built once and shared, so an
  "billion laughs" document costs its size, not its expansion;
* nesting depth and node count are bounded, and every failure is a ``ParseProblem``.
"""
from __future__ import annotations

import re
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import Any

from auditor.model.span import ParseProblem, Span
from auditor.model.yaml import YamlDocument, YList, YMap
from auditor.pyyaml import yaml  # first: PyYAML is imported there, without its unused patterns

from yaml.constructor import SafeConstructor
from yaml.resolver import BaseResolver

# Plain scalars are resolved here (YAML 1.2 numbers), so the loader must not resolve them the
# YAML 1.1 way first: a resolver without implicit rules tags every untagged scalar with PLAIN_TAG,
# which keeps an explicit `!!str 0o17` (tagged str) apart from a plain `0o17`.
PLAIN_TAG = "tag:auditor,2026:plain"


_DEFAULT_TAGS = {yaml.ScalarNode: PLAIN_TAG, yaml.SequenceNode: BaseResolver.DEFAULT_SEQUENCE_TAG,
                 yaml.MappingNode: BaseResolver.DEFAULT_MAPPING_TAG}


class _Resolving:
    """Every untagged node gets the default tag of its kind: no implicit resolvers, no path
    resolvers, so this is what ``BaseResolver.resolve`` returns, without its per-node lookups
    (libyaml's composer calls it once for every node)."""

    DEFAULT_SCALAR_TAG = PLAIN_TAG

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        return _DEFAULT_TAGS.get(kind, BaseResolver.DEFAULT_MAPPING_TAG)

    # no path resolvers to follow: the composer calls these for every node
    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


try:  # libyaml is much faster; PyYAML wheels ship it, source installs may not
    from yaml._yaml import CParser as _Parser

    # ignore misc: types-PyYAML marks BaseResolver.DEFAULT_SCALAR_TAG Final; _Resolving
    # replaces it on purpose (a third-party stub stricter than PyYAML, which reads it per class)
    class _Loader(_Resolving, _Parser, SafeConstructor, BaseResolver):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            _Parser.__init__(self, stream)
            SafeConstructor.__init__(self)
            BaseResolver.__init__(self)
except ImportError:  # pragma: no cover - depends on the platform's wheel
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    # no-redef: the pure-Python loader stands in for the libyaml one above; misc: as above
    class _Loader(_Resolving, Reader, Scanner, Parser, Composer, SafeConstructor, BaseResolver):  # type: ignore[no-redef,misc]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            BaseResolver.__init__(self)

MAX_DEPTH = 200
MAX_NODES = 1_000_000
# Nodes the document would have with every alias copied out. Values are shared, not copied, but
# checks and models walk them as trees, so a "billion laughs" document (9 aliases of 9 aliases
# ... = 9**10 nodes) would still cost its expansion downstream. go-yaml v3, which Kubernetes and
# Compose use, rejects such documents too ("excessive aliasing").
MAX_EXPANDED_NODES = 1_000_000

_INT = re.compile(r"[-+]?[0-9]+$")  # YAML 1.2 core: 010 is decimal ten
_HEX = re.compile(r"0x[0-9a-fA-F]+$")
_OCT = re.compile(r"0o[0-7]+$")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
# Booleans keep YAML 1.1's spellings: Kubernetes (go-yaml v2 via sigs.k8s.io/yaml) and Compose
# both accept `yes`/`on` where a boolean is expected, so reading them as strings would hide
# `privileged: yes`.
_BOOLS = {"true": True, "false": False, "yes": True, "no": False, "on": True, "off": False}
_NULLS = {"", "~", "null"}

_MERGE_TAG = "tag:yaml.org,2002:merge"


class YamlTooComplex(Exception):
    """Raised inside the builder when a document exceeds the depth or node budget."""


# The first characters a plain scalar other than its own text can start with: a number's digit,
# sign or point (.inf and .nan too), `~`, and the letters of `null` and the booleans. Any other
# plain scalar (`nginx`, `Deployment`, `/app`) is its text, known from one set lookup.
_NUMBER_START = frozenset("0123456789+-.")
_NOT_ALWAYS_TEXT = _NUMBER_START | frozenset(("", "~", *"nNtTfFyYoO"))


def resolve_plain_scalar(text: str) -> Any:
    """The value of an unquoted scalar, per YAML 1.2 core schema (plus 1.1 booleans)."""
    first = text[:1]
    if first not in _NOT_ALWAYS_TEXT:
        return text
    if first not in _NUMBER_START:  # a null or a boolean, or text
        lowered = text.lower()
        if lowered in _NULLS:
            return None
        return _BOOLS.get(lowered, text)
    if _INT.match(text):
        return int(text)
    if _HEX.match(text):
        return int(text, 16)
    if _OCT.match(text):
        return int(text[2:], 8)
    if _FLOAT.match(text) and any(ch.isdigit() for ch in text):
        return float(text)
    lowered = text.lower()
    if lowered in (".inf", "+.inf"):
        return float("inf")
    if lowered == "-.inf":
        return float("-inf")
    if lowered == ".nan":
        return float("nan")
    return text


_LINE_BREAKS = ("\n", "\r", "\x85", "\u2028", "\u2029")  # YAML 1.1's, as libyaml reads them
_new_tuple = tuple.__new__  # Span is a NamedTuple: built in C, without its Python __new__
_STR_TAG = "tag:yaml.org,2002:str"
_MISSING = object()
# YMap and YList made without their Python __init__ (a call each), their slots set in ``build``:
# tests/parsers/test_yaml_loader_differential.py fails if the model gives them another slot
_new_dict, _new_list = dict.__new__, list.__new__
_ScalarNode = yaml.ScalarNode
_SequenceNode = yaml.SequenceNode


class _Builder:
    """Builds one document's values from libyaml's node graph, each node once.

    Every node's span is made once, by its parent (for the root by the caller); plain scalars
    are resolved once per distinct text in the file (``scalars``), and their values shared.
    Collections are memoised by node, so an alias is one shared value; only when the document
    has an alias or a merge is the expanded size weighed (without one it is the node count,
    already bounded).

    Most nodes are scalars: a collection handles its scalar children in its own loop (their
    span, the depth and node budgets, the value) and calls ``build`` only for the collections
    among them. The budgets are checked in the same order as for a node of its own, so a
    document over both fails with the same message whichever way it is built."""

    def __init__(self, path: str, problems: list[ParseProblem], scalars: dict[str, Any],
                 lines: list[int]) -> None:
        self.path = path
        self.problems = problems
        self.built: dict[int, Any] = {}  # id(collection node) -> value: aliases share one value
        self.scalars = scalars  # plain scalar text -> value, shared by a file's documents
        self.count = 0
        self.aliased = False
        self.template_markers = False  # a string holds `{{` and `}}` (YamlDocument.template_markers)
        self.lines = lines  # libyaml's 0-based line -> its 1-based number, one int shared by a file's spans

    def span(self, node: Any) -> Span:
        """The node's span, its line numbers shared with every other span on those lines (a
        manifest of 100,000 lines would otherwise hold an int object per key and per value)."""
        start, end = node.start_mark, node.end_mark
        lines = self.lines
        try:
            line = lines[start.line]
            end_line = line if end.line == start.line else lines[end.line]
        except IndexError:  # a line libyaml counts and the break count did not: its own numbers
            line, end_line = start.line + 1, end.line + 1
        return _new_tuple(Span, (self.path, line, start.column + 1, end_line, end.column + 1))

    def weigh(self, root: yaml.Node) -> None:
        """Raise when ``root`` with every alias expanded has more than MAX_EXPANDED_NODES nodes
        (each distinct node weighed once, so linear in the document)."""
        weights: dict[int, int] = {}

        def weight(node: yaml.Node) -> int:
            if node.__class__ is yaml.ScalarNode:
                return 1
            known = weights.get(id(node))
            if known is not None:
                return known
            if node.__class__ is yaml.SequenceNode:
                total = 1 + sum(weight(item) for item in node.value)
            else:
                total = 1 + sum(weight(k) + weight(v) for k, v in node.value)
            if total > MAX_EXPANDED_NODES:
                raise YamlTooComplex(f"aliases expand to more than {MAX_EXPANDED_NODES:,} nodes "
                                     "(an alias bomb?)")
            weights[id(node)] = total
            return total

        weight(root)

    def scalar(self, node: Any) -> Any:
        """A scalar node's value; ``build``'s loops do the same inline for a collection's items."""
        text = node.value
        if "{{" in text and "}}" in text:
            self.template_markers = True
        if node.style or node.tag == _STR_TAG:  # quoted, or `!!str 22:22`: stays text
            return text
        value = self.scalars.get(text, _MISSING)
        if value is _MISSING:
            value = self.scalars[text] = resolve_plain_scalar(text)
        return value

    # Most nodes are scalars, and a call costs as much as the work on one: a collection's loop
    # does for each scalar child what ``span``, ``build``'s budget checks and ``scalar`` do
    # (keep them in step), and calls ``build`` only for the collections among its children, so
    # the budgets are met in the same order and nesting costs one frame per level, as ever.

    def build(self, node: Any, span: Span, depth: int = 0) -> Any:  # a yaml.Node
        if depth > MAX_DEPTH:
            raise YamlTooComplex(f"nesting deeper than {MAX_DEPTH} levels")
        self.count += 1
        if self.count > MAX_NODES:
            raise YamlTooComplex(f"more than {MAX_NODES:,} YAML nodes")
        if node.__class__ is _ScalarNode:
            return self.scalar(node)
        built = self.built.get(id(node))
        if built is not None:
            self.aliased = True
            return built
        path, lines, scalars = self.path, self.lines, self.scalars
        child_depth = depth + 1
        if node.__class__ is _SequenceNode:
            seq = _new_list(YList)
            seq.span = span
            item_spans: list[Span] = []
            seq._item_spans = item_spans
            self.built[id(node)] = seq
            append_span, append = item_spans.append, seq.append
            for item in node.value:
                start, end = item.start_mark, item.end_mark
                first_line, last_line = start.line, end.line
                try:
                    line = lines[first_line]
                    end_line = line if last_line == first_line else lines[last_line]
                except IndexError:  # as in ``span``
                    line, end_line = first_line + 1, last_line + 1
                item_span = _new_tuple(Span, (path, line, start.column + 1, end_line, end.column + 1))
                if item.__class__ is _ScalarNode:
                    if child_depth > MAX_DEPTH:
                        raise YamlTooComplex(f"nesting deeper than {MAX_DEPTH} levels")
                    self.count += 1
                    if self.count > MAX_NODES:
                        raise YamlTooComplex(f"more than {MAX_NODES:,} YAML nodes")
                    text = item.value
                    if "{{" in text and "}}" in text:
                        self.template_markers = True
                    if item.style or item.tag == _STR_TAG:
                        append(text)
                    else:
                        value = scalars.get(text, _MISSING)
                        if value is _MISSING:
                            value = scalars[text] = resolve_plain_scalar(text)
                        append(value)
                else:
                    append(self.build(item, item_span, child_depth))
                append_span(item_span)
            return seq
        mapping = _new_dict(YMap)
        mapping.span = span
        key_spans: dict[Any, Span] = {}
        value_spans: dict[Any, Span] = {}
        mapping._key_spans, mapping._value_spans = key_spans, value_spans
        self.built[id(node)] = mapping
        merged: list[tuple[Any, Any, Span, Span]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG or (key_node.value == "<<" and not key_node.style):
                merged.extend(self._merge_sources(value_node, depth))
                continue
            start, end = key_node.start_mark, key_node.end_mark
            first_line, last_line = start.line, end.line
            try:
                line = lines[first_line]
                end_line = line if last_line == first_line else lines[last_line]
            except IndexError:  # as in ``span``
                line, end_line = first_line + 1, last_line + 1
            key_span = _new_tuple(Span, (path, line, start.column + 1, end_line, end.column + 1))
            if key_node.__class__ is _ScalarNode:
                if child_depth > MAX_DEPTH:
                    raise YamlTooComplex(f"nesting deeper than {MAX_DEPTH} levels")
                self.count += 1
                if self.count > MAX_NODES:
                    raise YamlTooComplex(f"more than {MAX_NODES:,} YAML nodes")
                map_key = key_node.value
                if "{{" in map_key and "}}" in map_key:
                    self.template_markers = True
                if not (key_node.style or key_node.tag == _STR_TAG):
                    value = scalars.get(map_key, _MISSING)
                    if value is _MISSING:
                        value = scalars[map_key] = resolve_plain_scalar(map_key)
                    map_key = value
            else:
                map_key = self._complex_key(key_node, key_span, child_depth)
            if map_key in key_spans:
                self.problems.append(ParseProblem(
                    key_span,
                    f"duplicate key {map_key!r} (first at line {mapping.key_span(map_key).line}); "
                    "Compose and kubectl reject the file, PyYAML keeps the last value"))
            start, end = value_node.start_mark, value_node.end_mark
            first_line, last_line = start.line, end.line
            try:
                line = lines[first_line]
                end_line = line if last_line == first_line else lines[last_line]
            except IndexError:  # as in ``span``
                line, end_line = first_line + 1, last_line + 1
            value_span = _new_tuple(Span, (path, line, start.column + 1, end_line, end.column + 1))
            if value_node.__class__ is _ScalarNode:
                if child_depth > MAX_DEPTH:
                    raise YamlTooComplex(f"nesting deeper than {MAX_DEPTH} levels")
                self.count += 1
                if self.count > MAX_NODES:
                    raise YamlTooComplex(f"more than {MAX_NODES:,} YAML nodes")
                text = value_node.value
                if "{{" in text and "}}" in text:
                    self.template_markers = True
                if value_node.style or value_node.tag == _STR_TAG:
                    mapping[map_key] = text
                else:
                    value = scalars.get(text, _MISSING)
                    if value is _MISSING:
                        value = scalars[text] = resolve_plain_scalar(text)
                    mapping[map_key] = value
            else:
                mapping[map_key] = self.build(value_node, value_span, child_depth)
            key_spans[map_key] = key_span
            value_spans[map_key] = value_span
        # `<<` merges never override keys written in the mapping itself
        for map_key, value, key_span, value_span in merged:
            if map_key not in mapping:
                mapping.set_positioned(map_key, value, key_span, value_span)
        return mapping

    def _complex_key(self, key_node: Any, key_span: Span, depth: int) -> str:
        """A collection as a key: never meaningful in our formats, so the key is text saying so."""
        map_key = self.build(key_node, key_span, depth)
        # a mapping as a key is what an unquoted template expression parses as (`image: {{
        # .Values.image }}` is a flow mapping whose key is a flow mapping), so the key says so,
        # where it was written
        text = (f"{{{{ a mapping as a key at line {key_span.line}, column {key_span.column}: "
                "an unquoted template expression }}" if isinstance(map_key, dict)
                else str(key_node.value))
        if "{{" in text and "}}" in text:
            self.template_markers = True
        return text

    def _merge_sources(self, value_node: yaml.Node, depth: int) -> list[tuple[Any, Any, Span, Span]]:
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        entries: list[tuple[Any, Any, Span, Span]] = []
        seen: set[Any] = set()
        for source_node in sources:
            source_span = self.span(source_node)
            source = self.build(source_node, source_span, depth + 1)
            if not isinstance(source, YMap):
                self.problems.append(ParseProblem(source_span, "a `<<` merge key must refer to a mapping"))
                continue
            for map_key in source:
                if map_key not in seen:
                    seen.add(map_key)
                    entries.append((map_key, source[map_key], source.key_span(map_key),
                                    source.value_span(map_key)))
        self.aliased = True  # merges copy entries: weigh the document
        return entries


SHARED_LINE_NUMBERS = 1 << 18  # lines whose number objects a file's spans share (about 9 MB at most)


def load_yaml_documents(text: str, path: str) -> tuple[list[YamlDocument], list[ParseProblem]]:
    """Every document of ``text`` that parsed, plus the problems met (never raises)."""
    documents: list[YamlDocument] = []
    problems: list[ParseProblem] = []
    scalars: dict[str, Any] = {}
    # line numbers (1-based) by libyaml's 0-based line: one int object per line, made once; every
    # character libyaml may take for a line break counted (\r\n twice: a few numbers to spare).
    # Capped: a hostile file of blank or comment lines would otherwise cost an int per line with
    # no node on it (100-200 MB for 5 MiB of line breaks); past the cap, spans make their own.
    breaks = sum(text.count(mark) for mark in _LINE_BREAKS)
    lines = list(range(1, min(breaks, SHARED_LINE_NUMBERS) + 3))
    try:
        for index, node in enumerate(yaml.compose_all(text, Loader=_Loader)):  # type: ignore[arg-type]  # (a loader of our own parts)
            if node is None:
                continue
            builder = _Builder(path, problems, scalars, lines)
            span = builder.span(node)
            try:
                root = builder.build(node, span)
                if builder.aliased:
                    builder.weigh(node)
            except YamlTooComplex as exc:
                problems.append(ParseProblem(span, f"YAML document not read: {exc}"))
                continue
            except RecursionError:
                problems.append(ParseProblem(span, "YAML document nested too deeply"))
                continue
            documents.append(YamlDocument(path, index, span, root, builder.template_markers))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and mark is not None and mark.line >= text.count("\n"):
            # "unexpected end of stream" points past the last line; where the unfinished
            # construct (a quoted scalar, a flow sequence) began is where the fix goes
            mark = exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, None)
        reason = " ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
        problems.append(ParseProblem(Span(path, line, column), f"invalid YAML: {reason}"))
    except yaml.YAMLError as exc:  # reader errors (control characters) carry a position too
        position = getattr(exc, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else 1
        problems.append(ParseProblem(Span(path, line), f"invalid YAML: {exc}"))
    except RecursionError:
        problems.append(ParseProblem(Span(path, 1), "YAML nested too deeply to read"))
    return documents, problems
