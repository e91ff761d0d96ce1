"""Source positions shared by every model: where a node came from, 1-based."""
from __future__ import annotations

TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator and typing's NamedTuple; auditor.record builds the same classes cheaper
    from dataclasses import dataclass
    from typing import NamedTuple
else:
    from auditor.record import NamedTuple, dataclass


class Span(NamedTuple):
    """A region of one audited file.

    ``path`` is relative to the scan root and ``/``-separated, so it can go straight into
    reports. Lines and columns are 1-based; a column is ``None`` where the parser cannot know it
    (dockerfile-parse and crossplane report lines only).

    A NamedTuple rather than a frozen dataclass: parsers make one for every key and value of every
    file (half a million on a large monorepo), and a tuple is built in C, several times faster.
    It is just as immutable.
    """

    path: str
    line: int
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" + (f":{self.column}" if self.column else "")

    def with_path(self, path: str) -> Span:
        return self._replace(path=path)


def file_span(path: str) -> Span:
    """The whole file, for findings about a file rather than a line in it (a missing key)."""
    return Span(path, 1, None)


@dataclass(frozen=True, slots=True)
class ParseProblem:
    """A piece of user input a parser could not read; becomes an AUD001 finding at ``span``."""

    span: Span
    message: str


@dataclass(frozen=True, slots=True)
class Note:
    """Something worth telling the reader that is not a finding (an include outside the tree, a
    Helm template, a file Next.js ignores)."""

    span: Span
    message: str


@dataclass(frozen=True, slots=True)
class NotChecked(ParseProblem):
    """A file of an audited kind the auditor could not check within its own bounds: over the size
    cap or the parse-time budget, a line too long, includes nested too deep, unreadable, not a
    regular file. Becomes an AUD003 finding (high by default, so the gate fails) and makes the
    controls the file feeds ``error``; AUD001 is for files whose content is malformed."""
