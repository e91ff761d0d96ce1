"""YAML values that remember where they came from.

Compose files and Kubernetes manifests are plain mappings and lists, so the model keeps them as
``dict``/``list`` subclasses (cheap, familiar to read in a check) and records the span of every
key and value beside them. Scalars stay plain Python values; ask the parent for their span.
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass
    from typing import Any
else:
    from auditor.record import dataclass

from auditor.model.span import Span


class YMap(dict["Any", "Any"]):
    """A mapping with the span of the mapping itself and of each key and value."""

    __slots__ = ("span", "_key_spans", "_value_spans")

    def __init__(self, span: Span) -> None:
        super().__init__()
        self.span = span
        self._key_spans: dict[Any, Span] = {}
        self._value_spans: dict[Any, Span] = {}

    def key_span(self, key: Any) -> Span:
        """Where ``key:`` is written; the mapping's own span when the key is absent."""
        return self._key_spans.get(key, self.span)

    def value_span(self, key: Any) -> Span:
        return self._value_spans.get(key, self.key_span(key))

    def set_positioned(self, key: Any, value: Any, key_span: Span, value_span: Span) -> None:
        self[key] = value
        self._key_spans[key] = key_span
        self._value_spans[key] = value_span


class YList(list["Any"]):
    """A sequence with the span of the sequence and of each item."""

    __slots__ = ("span", "_item_spans")

    def __init__(self, span: Span) -> None:
        super().__init__()
        self.span = span
        self._item_spans: list[Span] = []

    def item_span(self, index: int) -> Span:
        try:
            return self._item_spans[index]
        except IndexError:
            return self.span

    def append_positioned(self, value: Any, span: Span) -> None:
        self.append(value)
        self._item_spans.append(span)


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """One document of a (possibly multi-document) YAML file."""

    path: str
    index: int
    span: Span
    root: Any  # YMap, YList or a scalar
    # False when no string the loader built for it (key or value) holds both `{{` and `}}`, so
    # no Go-template marker is anywhere in it; True when one did (perhaps only in a value that a
    # later duplicate key or a merge replaced); None when not known
    template_markers: bool | None = None


def get_path(value: Any, *keys: Any, default: Any = None) -> Any:
    """``get_path(doc, "spec", "template", "spec")``: walk mappings, returning ``default`` on any miss."""
    for key in keys:
        if isinstance(value, dict):
            if key not in value:
                return default
            value = value[key]
        elif isinstance(value, list) and isinstance(key, int) and -len(value) <= key < len(value):
            value = value[key]
        else:
            return default
    return value
