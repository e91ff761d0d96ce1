"""Rendered manifests (Helm, Kustomize) -> a ``KubernetesSet`` whose spans point at the files of
the tree that wrote each value: the template, the patch, the ``images:`` entry or the base.

The renderers do not say which source line produced which output line, so each rendered line is
placed by what it says: the same line written in a source file (a patch's ``privileged: true``)
or, failing that, the same key at or after the previous placement in the primary source (a
template's ``privileged: {{ .Values.privileged }}``). A line found nowhere keeps the placement
of the line before it. The rendered line itself is kept as the finding's snippet.
"""
from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Callable
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import Any

from auditor.model.span import ParseProblem, Span
from auditor.model.yaml import YamlDocument, YList, YMap
from auditor.parsers.yaml_loader import load_yaml_documents

_KEY = re.compile(r"""^(?:-\s+)*(?P<key>[^\s:#'"{][^:]*?|"[^"]*"|'[^']*'):(?:\s|$)""")


def line_key(line: str) -> str | None:
    match = _KEY.match(line.strip())
    return match["key"].strip("'\"") if match else None


class SourceIndex:
    """Where each stripped line and each key is written in one source file."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.exact: dict[str, list[int]] = {}
        self.keys: dict[str, list[int]] = {}
        for number, line in enumerate(text.splitlines(), 1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            self.exact.setdefault(stripped.removeprefix("- ").strip(), []).append(number)
            key = line_key(line)
            if key:
                self.keys.setdefault(key, []).append(number)

    @staticmethod
    def _after(lines: list[int] | None, pointer: int) -> int | None:
        if not lines:
            return None
        index = bisect.bisect_left(lines, pointer)
        return lines[index] if index < len(lines) else lines[0]

    def exact_line(self, stripped: str, pointer: int = 0) -> int | None:
        return self._after(self.exact.get(stripped), pointer)

    def key_line(self, key: str | None, pointer: int = 0) -> int | None:
        return self._after(self.keys.get(key), pointer) if key else None


Placement = Callable[[str], Span | None]


def place_lines(rendered: str, primary: SourceIndex, overrides: tuple[SourceIndex, ...] = (),
                special: Placement | None = None) -> list[Span]:
    """For each rendered line (index 0 = line 1) the span of the source line that wrote it."""
    spans: list[Span] = []
    pointer = 0
    last = Span(primary.path, 1)
    for line in rendered.splitlines():
        stripped = line.strip().removeprefix("- ").strip()
        placed: Span | None = None
        if stripped and not stripped.startswith("#"):
            for index in overrides:
                found = index.exact_line(stripped)
                if found:
                    placed = Span(index.path, found)
                    break
            if placed is None:
                found = primary.exact_line(stripped, pointer)
                if found is None and special is not None:
                    placed = special(line)
                if placed is None:
                    found = found or primary.key_line(line_key(line), pointer)
                    if found:
                        pointer = found
                        placed = Span(primary.path, found)
        if placed is not None:
            last = placed
        spans.append(last)
    return spans


def _moved(span: Span, table: list[Span]) -> Span:
    if 1 <= span.line <= len(table):
        return table[span.line - 1]
    return table[-1] if table else span


def remap(value: Any, table: list[Span], seen: set[int] | None = None) -> None:
    """Rewrite every span of a parsed YAML tree through ``table`` (in place)."""
    seen = set() if seen is None else seen
    todo = [value]
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        if isinstance(item, YMap):
            seen.add(id(item))
            item.span = _moved(item.span, table)
            for key in list(item._key_spans):
                item._key_spans[key] = _moved(item._key_spans[key], table)
            for key in list(item._value_spans):
                item._value_spans[key] = _moved(item._value_spans[key], table)
            todo.extend(item.values())
        elif isinstance(item, YList):
            seen.add(id(item))
            item.span = _moved(item.span, table)
            item._item_spans = [_moved(span, table) for span in item._item_spans]
            todo.extend(item)


def parse_rendered(text: str, label_path: str, table_for: Callable[[str], list[Span]],
                   snippets: dict[tuple[str, int], str]) -> tuple[list[YamlDocument], list[ParseProblem]]:
    """Parse one rendered document stream and place it (``table_for(text)`` gives the spans);
    ``snippets`` collects the rendered line shown for each placed source line ("" where the
    line rendered differently for different objects)."""
    documents, problems = load_yaml_documents(text, label_path)
    table = table_for(text)
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip() and number <= len(table):
            key, shown = (table[number - 1].path, table[number - 1].line), line.strip()
            if snippets.setdefault(key, shown) != shown:
                # a template line rendered differently for different objects (a `range`): no one
                # rendered line is right for every finding there, so none is shown ("" makes the
                # report quote the template's own line)
                snippets[key] = ""
    placed = []
    for document in documents:
        remap(document.root, table)
        placed.append(dataclasses.replace(document, path=_moved(document.span, table).path,
                                          span=_moved(document.span, table)))
    problems = [ParseProblem(_moved(p.span, table), f"the rendered output is not valid YAML: {p.message}")
                for p in problems]
    return placed, problems
