"""The Dockerfile model: instructions grouped into build stages, with ``ARG`` defaults resolved in
``FROM`` as BuildKit does, exec/shell form told apart and heredoc bodies attached."""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from auditor.model.span import Span

_DIGEST = re.compile(r"@(sha256:[0-9a-fA-F]{64})$")


@dataclass(frozen=True, slots=True)
class ImageRef:
    """``[registry/]repository[:tag][@digest]``, split the way Docker reads it."""

    raw: str
    registry: str | None
    repository: str
    tag: str | None
    digest: str | None
    resolved: bool = True  # False when an ARG in FROM had no default we could substitute

    @property
    def name(self) -> str:
        """The last path segment of the repository: ``node`` for ``docker.io/library/node``."""
        return self.repository.rsplit("/", 1)[-1]

    @property
    def is_scratch(self) -> bool:
        return self.repository == "scratch"

    @classmethod
    def parse(cls, text: str, resolved: bool = True) -> ImageRef:
        rest, digest = text, None
        match = _DIGEST.search(rest)
        if match:
            digest, rest = match.group(1), rest[: match.start()]
        elif "@" in rest:
            rest, digest = rest.split("@", 1)
        registry = None
        first, _, remainder = rest.partition("/")
        # A first segment with a dot, a colon or "localhost" is a registry host, not a namespace.
        if remainder and ("." in first or ":" in first or first == "localhost"):
            registry, rest = first, remainder
        repository, tag = rest, None
        last_slash = rest.rfind("/")
        colon = rest.rfind(":")
        if colon > last_slash:
            repository, tag = rest[:colon], rest[colon + 1:]
        return cls(text, registry, repository.lower() if repository else repository, tag or None,
                   digest, resolved)


@dataclass(frozen=True, slots=True)
class Heredoc:
    """A ``<<EOF`` body (BuildKit syntax), kept as text with the line it starts on."""

    delimiter: str
    body: str
    span: Span


@dataclass(frozen=True, slots=True)
class Instruction:
    """One instruction, continuation lines joined.

    ``arguments`` is the text after the keyword with leading ``--flag=value`` options removed
    (they are in ``flags``); ``exec_args`` holds the JSON array of the exec form, else ``None``.
    """

    keyword: str
    arguments: str
    flags: Mapping[str, str]
    exec_args: tuple[str, ...] | None
    heredocs: tuple[Heredoc, ...]
    span: Span
    source: str  # the instruction as written, continuation lines included

    @property
    def exec_form(self) -> bool:
        return self.exec_args is not None

    @property
    def command_text(self) -> str:
        """What the instruction runs, as one string, heredoc bodies included (for RUN checks)."""
        parts = [" ".join(self.exec_args) if self.exec_args is not None else self.arguments]
        parts.extend(heredoc.body for heredoc in self.heredocs)
        return "\n".join(parts)


@dataclass(frozen=True, slots=True)
class Stage:
    index: int
    name: str | None  # the ``AS name`` alias
    base: ImageRef
    from_instruction: Instruction
    instructions: tuple[Instruction, ...]  # after FROM, in order

    @property
    def span(self) -> Span:
        return self.from_instruction.span

    def all(self, keyword: str) -> Iterator[Instruction]:
        return (i for i in self.instructions if i.keyword == keyword)

    def last(self, keyword: str) -> Instruction | None:
        found = [i for i in self.instructions if i.keyword == keyword]
        return found[-1] if found else None

    @property
    def label(self) -> str:
        return f"stage '{self.name}'" if self.name else f"stage {self.index}"


@dataclass(frozen=True, slots=True)
class Dockerfile:
    path: str
    span: Span
    instructions: tuple[Instruction, ...]
    stages: tuple[Stage, ...]
    global_args: Mapping[str, str | None] = field(default_factory=dict)  # ARGs before the first FROM

    @property
    def directory(self) -> str:
        """The folder holding the Dockerfile ('' for the scan root): the usual build context."""
        return self.path.rpartition("/")[0]

    @property
    def final_stage(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    def stage_named(self, reference: str) -> Stage | None:
        """The stage a ``--from=`` names: by alias or by index."""
        for stage in self.stages:
            if stage.name and stage.name.lower() == reference.lower():
                return stage
        if reference.isdigit() and int(reference) < len(self.stages):
            return self.stages[int(reference)]
        return None
