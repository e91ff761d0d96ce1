"""Regular expressions compiled when first used, not when their module is imported.

``re.compile`` parses and compiles a pattern in Python: a tenth of a millisecond for a typical
one, and a module-level pattern is paid for by every run that imports its module, used or not.
Patterns that most runs never match (a heredoc in a Dockerfile, a ``${VAR}`` in an nginx
template, an ``auditor: ignore`` comment, PyYAML's YAML 1.1 resolvers) are made with
``on_first_use`` instead: the object stands for the compiled pattern and compiles it the first
time one of its attributes is read. From then on its methods are its own attributes (bound
methods of the compiled pattern), read as fast as the pattern's own.
"""
from __future__ import annotations

import re
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import Any, AnyStr

_COMPILE = re.compile
_METHODS = ("match", "fullmatch", "search", "sub", "subn", "split", "findall", "finditer", "scanner", "pattern",
            "flags", "groups", "groupindex")


class CompiledOnFirstUse:
    """What ``re.compile(pattern, flags)`` returns, compiled when one of its attributes is first read."""

    def __init__(self, pattern: Any, flags: Any = 0) -> None:
        self._arguments = (pattern, flags)

    def __getattr__(self, name: str) -> Any:  # only for names not yet in the instance's dict
        if name.startswith("__"):
            raise AttributeError(name)  # copy, pickle and the like probing for special methods
        compiled = _COMPILE(*self._arguments)
        self.__dict__.update({method: getattr(compiled, method) for method in _METHODS})
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._arguments[0]!r})"

    # pickled and copied as the pattern it stands for (a used one holds ``groupindex``, a
    # mappingproxy, which neither pickle nor deepcopy takes); a pattern is immutable: copies are itself
    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return type(self), self._arguments

    def __copy__(self) -> CompiledOnFirstUse:
        return self

    def __deepcopy__(self, memo: Any) -> CompiledOnFirstUse:
        return self


def on_first_use(pattern: AnyStr, flags: int = 0) -> re.Pattern[AnyStr]:
    """``re.compile(pattern, flags)``, compiled the first time it is used."""
    compiled: re.Pattern[AnyStr] = CompiledOnFirstUse(pattern, flags)  # type: ignore[assignment]
    return compiled


__all__ = ["CompiledOnFirstUse", "on_first_use"]
