"""The path patterns of ``exclude`` and ``suppress`` (configuration and policy): gitignore-style,
with ``pathspec``, as users know them from ``.gitignore``.

- a pattern without a slash matches at any depth: ``Dockerfile`` matches ``app/Dockerfile``;
- a leading ``/`` anchors at the scan root: ``/Dockerfile`` matches the root's only;
- a trailing ``/`` matches folders (and so everything in them): ``legacy/``;
- ``*`` stays within a folder, ``**`` crosses folders: ``k8s/**/*.yaml``; ``!`` re-includes.

A pattern a backtracking regular expression engine could take minutes on (the same bound as for
``.gitignore`` files, ``auditor.ignore._bounded``) is not applied: for ``exclude`` that means the
files are audited, for ``suppress`` that the findings are shown, never the other way round.
Discovery (``auditor.discovery``), the exclude judge (``auditor.policy``) and the suppressions
(``auditor.suppressions``) all match through this module, so they cannot disagree.
"""
from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec


class PathPatterns:
    """Compiled patterns; ``matches(path, is_dir)`` with ``path`` relative, ``/``-separated."""

    def __init__(self, patterns: Iterable[str]) -> None:
        from auditor.ignore import _bounded

        self.patterns = tuple(patterns)
        self.applied = tuple(p for p in self.patterns if p.strip() and _bounded(p))
        self._spec = _compile(self.applied) if self.applied else None

    def __bool__(self) -> bool:
        return self._spec is not None

    def matches(self, path: str, is_dir: bool = False) -> bool:
        if self._spec is None:
            return False
        path = path.strip("/")
        if not path:
            return False
        return bool(self._spec.match_file(path + "/" if is_dir else path))


@lru_cache(maxsize=256)
def _compile(patterns: tuple[str, ...]) -> GitIgnoreSpec | None:
    import pathspec

    try:
        return pathspec.GitIgnoreSpec.from_lines(list(patterns))
    except Exception:  # noqa: BLE001 - pathspec rejects one: compile the others one by one
        kept = []
        for pattern in patterns:
            try:
                pathspec.GitIgnoreSpec.from_lines([pattern])
                kept.append(pattern)
            except Exception:  # noqa: BLE001 - an invalid pattern matches nothing
                continue
        return pathspec.GitIgnoreSpec.from_lines(kept) if kept else None


def matches(pattern: str, path: str, is_dir: bool = False) -> bool:
    """One pattern against one path (``suppress`` entries)."""
    return PathPatterns((pattern,)).matches(path, is_dir)
