"""The Dockerfile model: instructions grouped into build stages, with ``ARG`` defaults resolved in
``FROM`` as BuildKit does, exec/shell form told apart and heredoc bodies attached."""
from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from auditor.model.image import ImageRef  # noqa: F401  (re-exported: checks import it from here)
from auditor.model.span import Span

_SHELL_OPERATORS = frozenset({"&&", "||", ";", "|", "&", ";;", "|&"})
_REFERENCE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


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

    @property
    def shell_commands(self) -> tuple[tuple[str, ...], ...]:
        """The simple commands a ``RUN`` runs, as word lists: split at newlines (heredoc bodies),
        ``&&``, ``||``, ``;`` and ``|``; quotes removed as the shell would. Good enough to find
        ``npm ci`` or ``apk add`` and their options; not a shell interpreter."""
        if self.exec_args is not None:
            return (self.exec_args,) if self.exec_args else ()
        commands: list[tuple[str, ...]] = []
        for line in self.command_text.replace("\\\n", " ").splitlines():
            current: list[str] = []
            for word in _shell_words(line):
                if word in _SHELL_OPERATORS:
                    if current:
                        commands.append(tuple(current))
                    current = []
                else:
                    current.append(word)
            if current:
                commands.append(tuple(current))
        return tuple(commands)

    @property
    def copy_sources(self) -> tuple[str, ...]:
        """``COPY``/``ADD`` sources (every operand but the last), exec or shell form."""
        operands = self._copy_operands()
        return operands[:-1] if len(operands) >= 2 else ()

    @property
    def copy_destination(self) -> str | None:
        operands = self._copy_operands()
        return operands[-1] if len(operands) >= 2 else None

    def _copy_operands(self) -> tuple[str, ...]:
        if self.exec_args is not None:
            return self.exec_args
        return tuple(_shell_words(self.arguments, operators=False))


@dataclass(frozen=True, slots=True)
class Stage:
    index: int
    name: str | None  # the ``AS name`` alias
    base: ImageRef
    from_instruction: Instruction
    instructions: tuple[Instruction, ...]  # after FROM, in order
    parent: int | None = None  # index of the earlier stage this one is built FROM, if any

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

    def lineage(self, stage: Stage) -> tuple[Stage, ...]:
        """The stage and the earlier stages it is built ``FROM``, oldest first: what the stage's
        filesystem and image settings (``ENV``, ``USER``, ``EXPOSE``...) start from."""
        chain = [stage]
        while chain[-1].parent is not None and len(chain) <= len(self.stages):
            chain.append(self.stages[chain[-1].parent])
        return tuple(reversed(chain))

    def inherited_instructions(self, stage: Stage) -> Iterator[Instruction]:
        """Every instruction that shaped the stage, its parents' first."""
        for ancestor in self.lineage(stage):
            yield from ancestor.instructions

    def last_inherited(self, stage: Stage, keyword: str) -> Instruction | None:
        """The last ``keyword`` instruction in force for the stage, parents included."""
        found = None
        for instruction in self.inherited_instructions(stage):
            if instruction.keyword == keyword:
                found = instruction
        return found

    def copies_from_stages(self, stage: Stage) -> Iterator[tuple[Instruction, Stage]]:
        """``COPY --from=<earlier stage>`` instructions of the stage with the stage they name
        (``--from`` an image, or a later stage, is left out)."""
        for instruction in stage.all("COPY"):
            reference = instruction.flags.get("from")
            source = self.stage_named(reference) if reference else None
            if source is not None and source.index < stage.index:
                yield instruction, source

    def variables(self, stage: Stage, until: Instruction | None = None) -> dict[str, Variable]:
        """``ENV`` and ``ARG`` values in scope at ``until`` (default: the end of the stage).

        ``ENV`` is inherited from parent stages; an ``ARG`` is scoped to its own stage and takes
        the global default when declared without one (Docker's rules). ``$VAR`` references in
        values are expanded from what is in scope, as BuildKit does.
        """
        scope: dict[str, Variable] = {}
        lineage = self.lineage(stage)
        for ancestor in lineage:
            # A parent's ARGs are gone in the child stage; its ENV values, expanded then, stay.
            scope = {name: variable for name, variable in scope.items() if variable.kind == "ENV"}
            for instruction in ancestor.instructions:
                if instruction is until:
                    return scope
                if instruction.keyword == "ENV":
                    for name, value in parse_assignments(instruction.arguments):
                        scope[name] = Variable(name, expand(value or "", scope), "ENV", instruction)
                elif instruction.keyword == "ARG":
                    for name, value in parse_assignments(instruction.arguments):
                        if value is None:
                            value = self.global_args.get(name)
                            expanded = value
                        else:
                            expanded = expand(value, scope)
                        if name not in scope or scope[name].kind == "ARG":
                            scope[name] = Variable(name, expanded, "ARG", instruction)
        return scope

    def workdir(self, stage: Stage) -> str:
        """The working directory at the end of the stage ('/' when never set)."""
        current = "/"
        for instruction in self.inherited_instructions(stage):
            if instruction.keyword == "WORKDIR":
                target = instruction.arguments.strip().strip("\"'")
                current = target if target.startswith("/") else current.rstrip("/") + "/" + target
        return current.rstrip("/") or "/"


    def user_uid(self, stage: Stage, name: str) -> tuple[str, Instruction | None] | None:
        """The UID of a user as the Dockerfile shows it: numeric, ``root``, the ``-u``/``--uid`` of
        the last ``adduser``/``useradd`` creating it in the stage or its parents (with that
        instruction), or a user the base image is known to bring; None when not shown."""
        if name.isdigit():
            return name, None
        if name == "root":
            return "0", None
        for instruction in reversed(list(self.inherited_instructions(stage))):
            for command in instruction.shell_commands if instruction.keyword == "RUN" else ():
                words = _without_wrappers(command)
                if words and words[0].rsplit("/", 1)[-1] in ("adduser", "useradd"):
                    uid = _created_uid(words, name)
                    if uid is not None:
                        return uid, instruction
        known = _IMAGE_USERS.get(self.lineage(stage)[0].base.name, {}).get(name)
        return (known, None) if known else None

@dataclass(frozen=True, slots=True)
class Variable:
    """An ``ENV`` or ``ARG`` in scope; ``value`` is ``None`` for an ``ARG`` with no default."""

    name: str
    value: str | None
    kind: str  # "ENV" | "ARG"
    instruction: Instruction

    @property
    def span(self) -> Span:
        return self.instruction.span


def expand(text: str, scope: Mapping[str, Variable]) -> str:
    """``$VAR``/``${VAR}``/``${VAR:-word}``/``${VAR:+word}`` expanded from ``scope``; unknown
    variables stay as written."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(4)
        operator, word = match.group(2), match.group(3)
        known = scope.get(name)
        value = known.value if known is not None else None
        if operator in (":-", "-"):
            return value if value else (word or "")
        if operator in (":+", "+"):
            return (word or "") if value else ""
        return value if value is not None else match.group(0)

    return _REFERENCE.sub(replace, text)


_ASSIGNMENT = re.compile(r"""([A-Za-z_][A-Za-z0-9_.-]*)(?:=("(?:[^"\\]|\\.)*"|'[^']*'|\S*))?""")


def parse_assignments(text: str) -> list[tuple[str, str | None]]:
    """``ARG``/``ENV``/``LABEL`` operands: ``A=1 B="two words"``, ``NAME`` alone, or the legacy
    ``ENV NAME value with spaces`` form."""
    stripped = text.strip()
    first_space = re.search(r"\s", stripped)
    if first_space and "=" not in stripped[: first_space.start()]:
        name, value = stripped[: first_space.start()], stripped[first_space.end():].strip()
        return [(name, value)]
    pairs: list[tuple[str, str | None]] = []
    for match in _ASSIGNMENT.finditer(stripped):
        name, value = match.group(1), match.group(2)
        if value is not None and len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        pairs.append((name, value))
    return pairs


@functools.lru_cache(maxsize=4096)
def _shell_words_cached(text: str, operators: bool) -> tuple[str, ...]:
    return tuple(_split_shell_words(text, operators))


def _shell_words(text: str, operators: bool = True) -> tuple[str, ...]:
    """Cached: several checks (DF005, DF006, DF010, DF016, DF017) read the same RUN lines."""
    return _shell_words_cached(text, operators)


def _split_shell_words(text: str, operators: bool = True) -> list[str]:
    """Shell words of one line; with ``operators`` the control operators are words of their own.
    Unbalanced quotes fall back to splitting on whitespace (Docker would fail the build anyway)."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|" if operators else False)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        words = list(lexer)
    except ValueError:
        return text.split()
    # A comment starts only at the beginning of a word, unlike shlex's default.
    for index, word in enumerate(words):
        if word.startswith("#"):
            return words[:index]
    return words


# Options of adduser (BusyBox and Debian) and useradd that take a value.
_USER_VALUE_OPTIONS = frozenset({
    "-u", "--uid", "-g", "--gid", "-G", "--groups", "--ingroup", "-h", "--home", "-d", "--home-dir",
    "-s", "--shell", "-c", "--comment", "--gecos", "-k", "--skel", "-e", "--expiredate", "-f",
    "--inactive", "-K", "--key", "-p", "--password", "-b", "--base-dir", "-Z", "--selinux-user",
    "--firstuid", "--lastuid", "--firstgid", "--lastgid", "--conf", "--extrausers"})
# Users that images bring along: the official node images have `node` with UID 1000.
_IMAGE_USERS = {"node": {"node": "1000"}}
_WRAPPERS = frozenset({"sudo", "exec", "env", "time", "nice", "command"})


def _without_wrappers(command: tuple[str, ...]) -> tuple[str, ...]:
    """A simple command without leading ``VAR=value`` assignments and wrappers like ``sudo``."""
    index = 0
    while index < len(command) and (command[index] in _WRAPPERS or (
            "=" in command[index] and command[index].split("=", 1)[0].isidentifier())):
        index += 1
    return command[index:]


def _created_uid(words: tuple[str, ...], name: str) -> str | None:
    """The ``-u``/``--uid`` of an ``adduser``/``useradd`` command whose login name is ``name``."""
    uid, positional, index = None, [], 1
    while index < len(words):
        word = words[index]
        option, _, attached = word.partition("=")
        if option in ("-u", "--uid"):
            uid = attached or (words[index + 1] if index + 1 < len(words) else None)
        elif word.startswith("-u") and word[2:].isdigit():
            uid = word[2:]
        if word.startswith("-") and option in _USER_VALUE_OPTIONS and not attached:
            index += 1
        elif not word.startswith("-"):
            positional.append(word)
        index += 1
    return uid if positional[:1] == [name] else None
