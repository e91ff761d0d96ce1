"""``.dockerignore``: which paths the Docker build context leaves out."""
from __future__ import annotations

import re
from functools import cached_property, lru_cache
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass
else:
    from auditor.record import dataclass

from auditor.model.span import Span


@dataclass(frozen=True, slots=True)
class IgnorePattern:
    pattern: str  # cleaned: no leading "/" or "./", no trailing "/"
    negated: bool
    span: Span


@lru_cache(maxsize=1024)
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """Docker's matcher: Go ``filepath.Match`` per segment plus ``**`` for any number of them.
    A pattern also excludes everything below a matched folder. Translated once per pattern text
    (every project of a tree repeats ``node_modules``, ``.git``, ``.env*``)."""
    out = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**", index):
            out.append(".*")
            index += 2
            if pattern.startswith("/", index):
                out[-1] = "(.*/)?"
                index += 1
            continue
        out.append({"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char)))
        index += 1
    return re.compile("".join(out) + "(/.*)?$")


@dataclass(frozen=True)
class DockerIgnore:
    path: str
    span: Span
    patterns: tuple[IgnorePattern, ...]

    @property
    def directory(self) -> str:
        return self.path.rpartition("/")[0]

    @cached_property
    def _compiled(self) -> list[tuple[re.Pattern[str], bool]]:
        return [(_pattern_regex(p.pattern), p.negated) for p in self.patterns]

    def excludes(self, relative_to_context: str) -> bool:
        """Whether a path (relative to the build context) is left out; the last match wins."""
        excluded = False
        for regex, negated in self._compiled:
            if regex.match(relative_to_context):
                excluded = not negated
        return excluded

    def pattern_for(self, relative_to_context: str) -> IgnorePattern | None:
        """The last pattern deciding a path, for evidence."""
        decided = None
        for (regex, _), pattern in zip(self._compiled, self.patterns):
            if regex.match(relative_to_context):
                decided = pattern
        return decided


def parse_dockerignore(text: str, path: str) -> DockerIgnore:
    patterns = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line[1:].strip() if negated else line
        while pattern.startswith(("./", "/")):
            pattern = pattern[2:] if pattern.startswith("./") else pattern[1:]
        pattern = pattern.rstrip("/") or "."
        patterns.append(IgnorePattern(pattern, negated, Span(path, number, 1)))
    return DockerIgnore(path, Span(path, 1), tuple(patterns))
