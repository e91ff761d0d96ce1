"""Rule parameters, typed: converted once, when the configuration is loaded, so a check computes
with a rate, a size or a quantity and never parses (or silently drops) a value itself.

A parameter's spec in ``rules/<ID>.yaml`` holds its JSON type (checked by jsonschema) and, for a
value with a unit, its ``kind``; the conversion of every kind is written here and nowhere else:

``rate``      nginx request rate ``10r/s`` / ``600r/m``    -> ``Rate`` (per second, as written)
``size``      Compose memory size ``512m`` / ``2G`` / bytes -> ``int`` bytes
``quantity``  Kubernetes quantity ``500m`` / ``2Gi`` / ``1`` -> ``KubernetesQuantity``
``duration``  seconds, or an nginx time ``1y`` / ``30d``    -> ``int`` seconds
``uid``       a user ID, 0 to 2**31 - 1                     -> ``int``

A value that does not convert is a ``ParameterError`` naming the parameter; the configuration
loader turns it into an error that names the file and the key (exit code 2), the catalog loader
into an error that names the rule file.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing

if TYPE_CHECKING:
    from typing import Any, NamedTuple

    from auditor.model.quantity import Exact
else:
    from auditor.record import NamedTuple

KINDS = ("rate", "size", "quantity", "duration", "uid")
MAX_UID = 2**31 - 1  # the kernel's uid_t is 32 bits; -1 is reserved


class ParameterError(ValueError):
    """A parameter value that is not of its declared kind; the message names the parameter."""


class Rate(NamedTuple):
    """An nginx request rate: ``per_second`` to compare with, ``text`` to quote in messages."""

    per_second: float
    text: str

    def __str__(self) -> str:
        return self.text


class KubernetesQuantity(NamedTuple):
    """A Kubernetes quantity in base units (cores, bytes), exact, with the text as written."""

    amount: Exact
    text: str

    def __str__(self) -> str:
        return self.text


class Params(Mapping[str, "Any"]):
    """One rule's parameters: the catalog's defaults, the architecture profile and the project's
    configuration merged, each value converted to its kind. Read-only: checks only read it."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        self._values = dict(values or {})

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Params({self._values!r})"


def to_rate(value: Any) -> Rate:
    from auditor.model.nginx import parse_rate

    per_second = parse_rate(value) if isinstance(value, str) else None
    if per_second is None:
        raise ParameterError(f"{_shown(value)} is not an nginx rate such as 10r/s or 600r/m")
    return Rate(per_second, value.strip())


def to_size(value: Any) -> int:
    from auditor.model.compose import parse_memory

    size = None if isinstance(value, bool) else parse_memory(value)
    if size is None:
        raise ParameterError(f"{_shown(value)} is not a size such as 512m or 2G")
    return size


def to_quantity(value: Any) -> KubernetesQuantity:
    from auditor.model.quantity import QuantityError, parse_quantity

    try:
        return KubernetesQuantity(parse_quantity(value), str(value))
    except QuantityError:
        raise ParameterError(f"{_shown(value)} is not a Kubernetes quantity such as 500m, 2 or 2Gi") from None


def to_duration(value: Any) -> int:
    from auditor.model.nginx import parse_time

    seconds = value if isinstance(value, int) and not isinstance(value, bool) else \
        parse_time(value) if isinstance(value, str) else None
    if seconds is None or seconds < 0 or seconds != int(seconds):
        raise ParameterError(f"{_shown(value)} is not a duration in whole seconds such as 3600 or 1h")
    return int(seconds)


def to_uid(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_UID:
        raise ParameterError(f"{_shown(value)} is not a user ID (an integer from 0 to {MAX_UID})")
    return value


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "rate": to_rate, "size": to_size, "quantity": to_quantity, "duration": to_duration, "uid": to_uid}


def convert(name: str, spec: Mapping[str, Any], value: Any) -> Any:
    """``value`` as the kind ``spec`` declares (unchanged when it declares none)."""
    kind = spec.get("kind")
    if kind is None:
        return value
    try:
        return CONVERTERS[kind](value)
    except ParameterError as error:
        raise ParameterError(f"{name}: {error}") from None


def typed(specs: Mapping[str, Mapping[str, Any]], values: Mapping[str, Any]) -> Params:
    """``values`` (a rule's merged parameters) converted by their specs; a value without a spec
    (the AR rules' document trust flag) passes as is."""
    return Params({name: convert(name, specs[name], value) if name in specs else value
                   for name, value in values.items()})


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


_MATCHERS: dict[tuple[str, ...], Callable[[str], bool]] = {}


def fnmatcher(patterns: Iterable[str]) -> Callable[[str], bool]:
    """Whether a name matches any of a parameter's shell-style ``patterns``, as ``any(fnmatchcase(name,
    p) for p in patterns)`` answers (case-sensitive), with one regular expression made once per list
    (XF005 asks it for every file of every project, DF015 for every ENV and ARG)."""
    key = tuple(patterns)
    matcher = _MATCHERS.get(key)
    if matcher is None:
        import fnmatch
        import re

        if not key:
            matcher = _MATCHERS[key] = _matches_nothing
        else:
            match = re.compile("|".join(f"(?:{fnmatch.translate(pattern)})" for pattern in key)).match
            matcher = _MATCHERS[key] = lambda name: match(name) is not None
    return matcher


def _matches_nothing(name: str) -> bool:
    return False
