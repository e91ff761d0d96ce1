"""The position builder as it was before it was made cheaper (main at 47bc346), kept as the
reference the differential tests compare ``auditor.parsers.yaml_loader`` with: same values, same
positions, same problems, on generated YAML and on every YAML file of the fixtures and corpora.

Only the builder is frozen here; the libyaml loader (``_Loader``) and the budgets are the
package's own, so both sides parse the same node graph.
"""
from __future__ import annotations

import re
from typing import Any

from auditor.model.span import ParseProblem, Span
from auditor.model.yaml import YamlDocument, YList, YMap
from auditor.parsers.yaml_loader import (
    MAX_DEPTH,
    MAX_EXPANDED_NODES,
    MAX_NODES,
    SHARED_LINE_NUMBERS,
    YamlTooComplex,
    _Loader,
)
from auditor.pyyaml import yaml

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


def resolve_plain_scalar(text: str) -> Any:
    """The value of an unquoted scalar, per YAML 1.2 core schema (plus 1.1 booleans)."""
    lowered = text.lower()
    if lowered in _NULLS:
        return None
    if lowered in _BOOLS:
        return _BOOLS[lowered]
    if _INT.match(text):
        return int(text)
    if _HEX.match(text):
        return int(text, 16)
    if _OCT.match(text):
        return int(text[2:], 8)
    if _FLOAT.match(text) and any(ch.isdigit() for ch in text):
        return float(text)
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


class _Builder:
    """Builds one document's values from libyaml's node graph, each node once.

    Every node's span is made once (by its parent, or for the root by the caller); plain scalars
    are resolved once per distinct text in the file (``scalars``), and their values shared.
    Collections are memoised by node, so an alias is one shared value; only when the document
    has an alias is the expanded size weighed (without one it is the node count, already
    bounded)."""

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

    def build(self, node: Any, span: Span, depth: int = 0) -> Any:  # a yaml.Node
        if depth > MAX_DEPTH:
            raise YamlTooComplex(f"nesting deeper than {MAX_DEPTH} levels")
        self.count += 1
        if self.count > MAX_NODES:
            raise YamlTooComplex(f"more than {MAX_NODES:,} YAML nodes")
        kind = node.__class__
        if kind is yaml.ScalarNode:
            text = node.value
            if "{{" in text and "}}" in text:
                self.template_markers = True
            if node.style or node.tag == _STR_TAG:  # quoted, or `!!str 22:22`: stays text
                return text
            value = self.scalars.get(text, _MISSING)
            if value is _MISSING:
                value = self.scalars[text] = resolve_plain_scalar(text)
            return value
        built = self.built.get(id(node))
        if built is not None:
            self.aliased = True
            return built
        if kind is yaml.SequenceNode:
            seq = YList(span)
            self.built[id(node)] = seq
            spans = seq._item_spans
            for item in node.value:
                item_span = self.span(item)
                seq.append(self.build(item, item_span, depth + 1))
                spans.append(item_span)
            return seq
        mapping = YMap(span)
        self.built[id(node)] = mapping
        key_spans, value_spans = mapping._key_spans, mapping._value_spans
        merged: list[tuple[Any, Any, Span, Span]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG or (key_node.value == "<<" and not key_node.style):
                merged.extend(self._merge_sources(value_node, depth))
                continue
            key_span = self.span(key_node)
            map_key = self.build(key_node, key_span, depth + 1)
            if isinstance(map_key, (dict, list)):
                # Complex keys are never meaningful in our formats; a mapping as a key is what an
                # unquoted template expression parses as (`image: {{ .Values.image }}` is a flow
                # mapping whose key is a flow mapping), so the key says so, where it was written
                map_key = (f"{{{{ a mapping as a key at line {key_span.line}, column {key_span.column}: "
                           "an unquoted template expression }}" if isinstance(map_key, dict)
                           else str(key_node.value))
                if "{{" in map_key and "}}" in map_key:
                    self.template_markers = True
            if map_key in key_spans:
                self.problems.append(ParseProblem(
                    key_span,
                    f"duplicate key {map_key!r} (first at line {mapping.key_span(map_key).line}); "
                    "Compose and kubectl reject the file, PyYAML keeps the last value"))
            value_span = self.span(value_node)
            mapping[map_key] = self.build(value_node, value_span, depth + 1)
            key_spans[map_key] = key_span
            value_spans[map_key] = value_span
        # `<<` merges never override keys written in the mapping itself
        for map_key, value, key_span, value_span in merged:
            if map_key not in mapping:
                mapping.set_positioned(map_key, value, key_span, value_span)
        return mapping

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
