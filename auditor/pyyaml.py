"""PyYAML, imported once for the whole auditor without compiling patterns it does not use.

PyYAML compiles regular expressions as it is imported: the pure-Python reader's "non-printable"
class (a third of the package's import, 5 ms: a character class spanning most of Unicode), the
YAML 1.1 implicit resolvers and the timestamp pattern. The auditor parses with libyaml and
resolves plain scalars itself (``auditor.parsers.yaml_loader``), so in most runs none of them is
ever matched. While PyYAML's modules run, ``re.compile`` hands out patterns compiled on first use
instead: the same object for every call that reaches it, so ``yaml.safe_load`` of a configuration
file still resolves ``yes`` and ``1.5`` as before. Every module of the auditor imports PyYAML from
here (``from auditor.pyyaml import yaml``), so whichever runs first does it this way.

The replacement is in place only during that import, and only for the thread that imports: a
scanner or progress thread may be running meanwhile, and a pattern it compiles is a real
``re.Pattern`` (``re.sub(pattern, ...)`` and ``isinstance`` need one).
"""
from __future__ import annotations

import re
from _thread import get_ident
from collections.abc import Iterator
from contextlib import contextmanager
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import Any

from auditor.patterns import CompiledOnFirstUse

_COMPILE = re.compile


@contextmanager
def _patterns_compiled_on_first_use() -> Iterator[None]:
    importer = get_ident()

    def compile(pattern: Any, flags: Any = 0) -> Any:
        if get_ident() == importer:
            return CompiledOnFirstUse(pattern, flags)
        return _COMPILE(pattern, flags)  # another thread's pattern: compiled as ever

    setattr(re, "compile", compile)
    try:
        yield
    finally:
        setattr(re, "compile", _COMPILE)


with _patterns_compiled_on_first_use():
    import yaml as yaml
    import yaml.constructor
    import yaml.resolver

__all__ = ["yaml"]
