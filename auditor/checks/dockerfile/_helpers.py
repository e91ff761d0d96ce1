"""Facts about a Dockerfile that several DF checks need."""
from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass

from auditor.model.dockerfile import Dockerfile, Instruction, Stage

ROOT_USERS = frozenset({"root", "0", "root:root", "0:0"})
# Every spelling npm accepts for `npm install` (npm/lib/commands/install.js aliases).
NPM_INSTALL = frozenset({"install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta",
                         "isntal", "isntall", "add"})
NPM_CLEAN_INSTALL = frozenset({"ci", "clean-install", "ic", "install-clean", "isntall-clean"})
PRODUCTION_FLAGS = frozenset({"--omit=dev", "--only=production", "--only=prod", "--production"})
# Wrappers that run the command that follows them.
_PREFIXES = frozenset({"sudo", "exec", "env", "time", "nice", "command"})


@dataclass(frozen=True, slots=True)
class NpmCommand:
    """One ``npm <subcommand> ...`` found in a ``RUN`` (``words`` exclude ``npm`` itself)."""

    words: tuple[str, ...]
    instruction: Instruction
    inline_env: tuple[str, ...] = ()  # ``NODE_ENV=production npm ci``

    @property
    def subcommand(self) -> str:
        return next((w for w in self.words if not w.startswith("-")), "")

    @property
    def is_global(self) -> bool:
        return any(w in ("-g", "--global", "--location=global") for w in self.words)

    @property
    def is_install(self) -> bool:
        """``npm install`` (any alias) of the project's dependencies; ``-g`` tools are not."""
        return self.subcommand in NPM_INSTALL and not self.is_global

    @property
    def is_clean_install(self) -> bool:
        return self.subcommand in NPM_CLEAN_INSTALL

    @property
    def installs_dependencies(self) -> bool:
        return self.is_install or self.is_clean_install

    @property
    def production_only(self) -> bool:
        words = list(self.words)
        paired = {f"{a}={b}" for a, b in zip(words, words[1:]) if a in ("--omit", "--only")}
        return bool((set(words) | paired) & PRODUCTION_FLAGS) or "NODE_ENV=production" in self.inline_env

    @property
    def text(self) -> str:
        return "npm " + " ".join(self.words)


def program_words(command: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A simple command without its leading ``VAR=value`` assignments and wrappers such as
    ``sudo``; returns (assignments, the command proper)."""
    index, assignments = 0, []
    while index < len(command):
        word = command[index]
        if "=" in word and not word.startswith("-") and word.split("=", 1)[0].isidentifier():
            assignments.append(word)
        elif word not in _PREFIXES:
            break
        index += 1
    return tuple(assignments), command[index:]


def npm_commands(instruction: Instruction) -> Iterator[NpmCommand]:
    if instruction.keyword != "RUN":
        return
    for command in instruction.shell_commands:
        assignments, words = program_words(command)
        if words and posixpath.basename(words[0]) == "npm":
            yield NpmCommand(words[1:], instruction, assignments)


def stage_npm_commands(doc: Dockerfile, stage: Stage) -> Iterator[NpmCommand]:
    for instruction in stage.all("RUN"):
        yield from npm_commands(instruction)


def installs_production_only(doc: Dockerfile, stage: Stage, command: NpmCommand) -> bool:
    """Whether the install leaves only production dependencies: an omit flag, NODE_ENV=production
    in force (npm then omits dev dependencies by default), or a later ``npm prune`` to production."""
    if command.production_only:
        return True
    node_env = doc.variables(stage, until=command.instruction).get("NODE_ENV")
    if node_env is not None and node_env.kind == "ENV" and node_env.value == "production":
        return True
    after_install = False
    for instruction in doc.inherited_instructions(stage):
        for other in npm_commands(instruction):
            if after_install and other.subcommand == "prune" and other.production_only:
                return True
            after_install = after_install or other == command
    return False


def normalized(path: str) -> str:
    """A COPY operand without quotes, ``./`` prefixes and trailing slashes ('.' for the root)."""
    cleaned = posixpath.normpath(path.strip("\"'")) if path else "."
    return cleaned


def ends_with(path: str, suffix: str) -> bool:
    """Whether a path's last segments are ``suffix``: ``/app/.next/static/`` ends with ``.next/static``."""
    cleaned = normalized(path)
    return cleaned == suffix or cleaned.endswith("/" + suffix)


def is_whole_tree(doc: Dockerfile, source_stage: Stage, source: str) -> bool:
    """A COPY source naming the source stage's whole working tree: ``/app``, ``.``, ``/``."""
    cleaned = normalized(source)
    return cleaned in (".", "/", "*", "./*", "/app", normalized(doc.workdir(source_stage)))


def carries_node_modules(doc: Dockerfile, source_stage: Stage, source: str) -> bool:
    return ends_with(source, "node_modules") or is_whole_tree(doc, source_stage, source)


def shipping_stages(doc: Dockerfile) -> list[Stage]:
    """The final stage, the stages it is built FROM, and the stages whose ``node_modules`` (or
    whole tree) it copies, with theirs: where an install ends up in the image that ships."""
    final = doc.final_stage
    if final is None:
        return []
    found: dict[int, Stage] = {}
    pending = [final]
    while pending:
        stage = pending.pop()
        for member in doc.lineage(stage):
            if member.index in found:
                continue
            found[member.index] = member
            for instruction, source_stage in doc.copies_from_stages(member):
                if any(carries_node_modules(doc, source_stage, s) for s in instruction.copy_sources):
                    pending.append(source_stage)
    return [found[index] for index in sorted(found)]


def user_name(instruction: Instruction) -> str:
    """The user part of ``USER name[:group]``."""
    return instruction.arguments.strip().split(":", 1)[0]


def is_root_user(instruction: Instruction) -> bool:
    return user_name(instruction) in ("root", "0")


def effective_user(doc: Dockerfile, stage: Stage) -> Instruction | None:
    """The ``USER`` in force at the end of the stage (the one the container runs as); a ``USER``
    of a stage this one is built ``FROM`` carries over."""
    return doc.last_inherited(stage, "USER")
