"""The Dockerfile model: instructions grouped into build stages, with ``ARG`` defaults resolved in
``FROM`` as BuildKit does, exec/shell form told apart and heredoc bodies attached."""
from __future__ import annotations

import bisect
import functools
import posixpath
import re
import shlex
from collections.abc import Callable, Iterator, Mapping
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator and typing's NamedTuple; auditor.record builds the same classes cheaper
    from dataclasses import dataclass, field
    from typing import NamedTuple
else:
    from auditor.record import NamedTuple, dataclass, field

from auditor.model.image import ImageRef  # noqa: F401  (re-exported: checks import it from here)
from auditor.model.span import Span
from auditor.model.user import UserSpec
from auditor.parsers.shell import ShellCommand, exec_commands, parse_script

_REFERENCE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


@dataclass(frozen=True, slots=True)
class Heredoc:
    """A ``<<EOF`` body (BuildKit syntax), kept as text with the line it starts on."""

    delimiter: str
    body: str
    span: Span


class Script(NamedTuple):
    """Shell text a ``RUN`` runs (continuations joined as Docker joins them, heredoc bodies
    appended) with anchors: (offset in ``text``, line, column) where each source line piece starts."""

    text: str
    anchors: tuple[tuple[int, int, int], ...]

    def locator(self) -> Callable[[int], tuple[int, int]]:
        """A function giving the Dockerfile (line, column) of a character of ``text``."""
        starts = [anchor[0] for anchor in self.anchors]

        def position(offset: int) -> tuple[int, int]:
            if not starts:
                return 0, 0
            at, line, column = self.anchors[max(bisect.bisect_right(starts, offset) - 1, 0)]
            return line, column + max(offset - at, 0)

        return position


class ShellView(NamedTuple):
    """A RUN's parsed commands with Dockerfile positions, and what was not understood as
    (line, column, message); ``npm``: the commands that run npm, in order (``npm_commands``, asked
    by DF005, DF006, DF007 and the npm audit runner for every RUN)."""

    commands: tuple[ShellCommand, ...]
    problems: tuple[tuple[int, int, str], ...]
    npm: tuple[ShellCommand, ...] = ()


_NO_SHELL = ShellView((), ())  # what any instruction but RUN runs


def _viewed(commands: tuple[ShellCommand, ...], problems: tuple[tuple[int, int, str], ...]) -> ShellView:
    return ShellView(commands, problems, tuple(command for command in commands if command.name == "npm"))


@functools.lru_cache(maxsize=4096)
def _run_shell(scripts: tuple[Script, ...], exec_args: tuple[str, ...] | None, exec_line: int) -> ShellView:
    """Cached per RUN text: DF005, DF006, DF007, DF009, DF010, DF016 and DF017 all read the same
    RUN lines, and a corpus repeats them."""
    if exec_args is not None:
        parsed = exec_commands(exec_args)
        return _viewed(tuple(_placed(c, None, exec_line) for c in parsed.commands),
                       tuple((exec_line, 1, message) for _, message in parsed.problems))
    commands: list[ShellCommand] = []
    problems: list[tuple[int, int, str]] = []
    for script in scripts:
        parsed = parse_script(script.text)
        position = script.locator()
        commands.extend(_placed(c, position, 0) for c in parsed.commands)
        problems.extend((*position(offset), message) for offset, message in parsed.problems)
    return _viewed(tuple(commands), tuple(problems))


def _placed(command: ShellCommand, position: Callable[[int], tuple[int, int]] | None, line: int) -> ShellCommand:
    found_line, column = position(command.offset) if position is not None else (line, 1)
    return command._replace(
        line=found_line, column=column,
        upstream=tuple(_placed(c, position, line) for c in command.upstream),
        substituted=tuple(_placed(c, position, line) for c in command.substituted))


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
    scripts: tuple[Script, ...] = ()  # a shell-form RUN's shell text (see parsers/dockerfile.py)

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
    def shell(self) -> ShellView:
        """What a ``RUN`` runs, parsed: every simple command the shell may run (both branches of
        an ``if``, after ``&&`` and ``||``, inside ``sh -c '...'`` and heredoc scripts), each with
        the branches it runs under and its Dockerfile line and column. Exec form is one command
        with literal words (or the script of ``["sh", "-c", "..."]``). Empty for other keywords."""
        if self.keyword != "RUN":
            return _NO_SHELL
        return _run_shell(self.scripts, self.exec_args, self.span.line if self.exec_args is not None else 0)

    @property
    def commands(self) -> tuple[ShellCommand, ...]:
        return self.shell.commands

    def unreadable_shell(self, *words: str) -> str | None:
        """Why this ``RUN``'s commands may be incomplete (shell text not understood), when its
        text mentions any of ``words`` (all text when none is given); else None."""
        if self.keyword != "RUN":
            return None  # nothing else runs shell text
        problems = self.shell.problems
        if not problems:
            return None
        text = self.source + "".join(heredoc.body for heredoc in self.heredocs)
        if words and not any(word in text for word in words):
            return None
        line, column, message = problems[0]
        return f"RUN at line {self.span.line}: {message} (line {line}, column {column}), so its commands are not all known"

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
        return _copy_words(self.arguments)


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
        if UserSpec(name, None).is_root:  # the one spelling of root (auditor.model.user)
            return "0", None
        for instruction in reversed(list(self.inherited_instructions(stage))):
            for command in instruction.commands:
                words = command.program
                if command.name in ("adduser", "useradd"):
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


@functools.lru_cache(maxsize=4096)
def parse_assignments(text: str) -> tuple[tuple[str, str | None], ...]:
    """``ARG``/``ENV``/``LABEL`` operands: ``A=1 B="two words"``, ``NAME`` alone, or the legacy
    ``ENV NAME value with spaces`` form. Cached per text: ``Dockerfile.variables`` reads every
    ENV and ARG of a stage's lineage again for each check that asks (DF011, DF015, DF018)."""
    stripped = text.strip()
    first_space = re.search(r"\s", stripped)
    if first_space and "=" not in stripped[: first_space.start()]:
        name, value = stripped[: first_space.start()], stripped[first_space.end():].strip()
        return ((name, value),)
    pairs: list[tuple[str, str | None]] = []
    for match in _ASSIGNMENT.finditer(stripped):
        name, value = match.group(1), match.group(2)
        if value is not None and len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        pairs.append((name, value))
    return tuple(pairs)


@functools.lru_cache(maxsize=4096)
def _copy_words(text: str) -> tuple[str, ...]:
    """``COPY``/``ADD`` operands of the shell-like form: split at whitespace, quotes removed.
    Unbalanced quotes fall back to plain whitespace splitting."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return tuple(lexer)
    except ValueError:
        return tuple(text.split())


# Options of adduser (BusyBox and Debian) and useradd that take a value.
_USER_VALUE_OPTIONS = frozenset({
    "-u", "--uid", "-g", "--gid", "-G", "--groups", "--ingroup", "-h", "--home", "-d", "--home-dir",
    "-s", "--shell", "-c", "--comment", "--gecos", "-k", "--skel", "-e", "--expiredate", "-f",
    "--inactive", "-K", "--key", "-p", "--password", "-b", "--base-dir", "-Z", "--selinux-user",
    "--firstuid", "--lastuid", "--firstgid", "--lastgid", "--conf", "--extrausers"})
# Users that images bring along: the official node images have `node` with UID 1000.
_IMAGE_USERS = {"node": {"node": "1000"}}


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


# Every spelling npm accepts for `npm install` (npm/lib/commands/install.js aliases).
NPM_INSTALL = frozenset({"install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta",
                         "isntal", "isntall", "add"})
NPM_CLEAN_INSTALL = frozenset({"ci", "clean-install", "ic", "install-clean", "isntall-clean"})
PRODUCTION_FLAGS = frozenset({"--omit=dev", "--only=production", "--only=prod", "--production"})
# npm options written before the subcommand that take a value (`npm --prefix /app ci`).
_NPM_VALUE_OPTIONS = frozenset({"--prefix", "-C", "--cache", "--registry", "--userconfig",
                                "--loglevel", "-w", "--workspace"})


class NpmCommand(NamedTuple):
    """One ``npm <subcommand> ...`` a ``RUN`` may run (``words`` exclude ``npm`` itself)."""

    command: ShellCommand
    instruction: Instruction

    @property
    def words(self) -> tuple[str, ...]:
        return self.command.program[1:]

    @property
    def inline_env(self) -> tuple[str, ...]:
        """``NODE_ENV=production npm ci``, ``env NODE_ENV=production npm ci``."""
        return self.command.inline_assignments

    @property
    def subcommand(self) -> str:
        words = self.words
        index = 0
        while index < len(words) and words[index].startswith("-"):
            index += 2 if words[index] in _NPM_VALUE_OPTIONS else 1
        return words[index] if index < len(words) else ""

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
        subcommand = self.subcommand  # is_install or is_clean_install, the subcommand read once
        return (subcommand in NPM_INSTALL and not self.is_global) or subcommand in NPM_CLEAN_INSTALL

    @property
    def production_only(self) -> bool:
        words = list(self.words)
        paired = {f"{a}={b}" for a, b in zip(words, words[1:]) if a in ("--omit", "--only")}
        return bool((set(words) | paired) & PRODUCTION_FLAGS) or "NODE_ENV=production" in self.inline_env

    @property
    def text(self) -> str:
        """The command for a message, with the branch it runs in when it is conditional:
        \'npm ci\' (line 9, in the elif [ -f package-lock.json ] branch)."""
        shown = "'npm " + " ".join(self.words) + "'"
        where = self.command.branch_phrase()
        if self.command.line != self.instruction.span.line:
            shown += f" (line {self.command.line}{', ' + where if where else ''})"
        elif where:
            shown += f" ({where})"
        return shown


def npm_commands(instruction: Instruction) -> Iterator[NpmCommand]:
    for command in instruction.shell.npm:
        yield NpmCommand(command, instruction)


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
            after_install = after_install or (other.instruction is command.instruction
                                              and other.command.offset == command.command.offset)
    return False


class InstallStep(NamedTuple):
    """One ``npm install``/``npm ci`` of the project's dependencies in a stage: whether it leaves
    only production dependencies, and whether its stage's ``node_modules`` reach the final image."""

    stage: Stage
    command: NpmCommand
    production_only: bool
    ships: bool


def install_steps(doc: Dockerfile) -> list[InstallStep]:
    """Every npm dependency install of the Dockerfile, stage by stage, from the same helpers DF005
    judges each install with (shipping_stages, installs_production_only); npm audit's runner reads
    it through omits_dev_dependencies."""
    shipping = {stage.index for stage in shipping_stages(doc)}
    return [InstallStep(stage, command, installs_production_only(doc, stage, command), stage.index in shipping)
            for stage in doc.stages for command in stage_npm_commands(doc, stage)
            if command.installs_dependencies]


def ships_only_production_dependencies(doc: Dockerfile) -> bool | None:
    """Whether the npm dependencies the final image ships are production-only: True when every
    npm install in a stage whose ``node_modules`` reach the final image leaves devDependencies
    out, False when one does not, None when no such stage installs with npm."""
    verdicts = [step.production_only for step in install_steps(doc) if step.ships]
    return all(verdicts) if verdicts else None


def omits_dev_dependencies(doc: Dockerfile) -> bool:
    """Whether the image this Dockerfile builds ships production dependencies only, so that
    devDependencies never ship and ``npm audit --omit=dev`` applies: every shipping install is
    production-only, or no shipping stage installs with npm while a build stage does (the
    canonical deps -> builder -> standalone runner). A Dockerfile without stages: False."""
    steps = install_steps(doc)
    shipped = [step.production_only for step in steps if step.ships]
    return all(shipped) if shipped else bool(steps)


def normalized(path: str) -> str:
    """A COPY operand without quotes, ``./`` prefixes and trailing slashes ('.' for the root)."""
    return posixpath.normpath(path.strip("\"'")) if path else "."


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
