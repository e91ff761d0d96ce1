"""Dockerfile text -> ``auditor.model.dockerfile.Dockerfile``.

dockerfile-parse splits instructions and joins continuation lines; it does not know BuildKit
heredocs (``RUN <<EOF``), so their bodies are re-attached here from the raw lines. It is given an
in-memory file object: with a path it would write the content back to disk.
"""
from __future__ import annotations

import io
import json
import posixpath
import re
import sys
from types import ModuleType

from auditor.model.dockerfile import Dockerfile, Heredoc, Instruction, Script, Stage, parse_assignments
from auditor.model.image import ImageRef
from auditor.model.span import ParseProblem, Span
from auditor.patterns import on_first_use

TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import Any

    from dockerfile_parse import DockerfileParser

KNOWN_INSTRUCTIONS = frozenset(
    "ADD ARG CMD COPY ENTRYPOINT ENV EXPOSE FROM HEALTHCHECK LABEL MAINTAINER ONBUILD RUN SHELL "
    "STOPSIGNAL USER VOLUME WORKDIR".split())
FLAG_INSTRUCTIONS = frozenset({"ADD", "COPY", "FROM", "RUN", "HEALTHCHECK"})
MAX_STAGES = 1000
MAX_EXPANSION = 64 * 1024  # characters an ARG substitution may produce

_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_FLAG = on_first_use(r"--([a-z][a-z-]*)(?:=(\S*))?\s*")
_CONTINUATION = re.compile(r"\\[ \t]*$")
_KEYWORD_AND_FLAGS = re.compile(r"\s*[A-Za-z]+\s*(?:--[a-z][a-z-]*(?:=\S*)?\s*)*")
_BARE_HEREDOCS = on_first_use(r"\s*(?:<<-?([\"']?)[A-Za-z_][A-Za-z0-9_]*\1\s*)+")
_SHEBANG = on_first_use(r"#!\s*(\S+)(?:\s+(\S+))?")
_SHELL_NAMES = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "busybox"})
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


def substitute_args(text: str, values: dict[str, str | None]) -> tuple[str, bool]:
    """Expand ``$VAR``, ``${VAR}``, ``${VAR:-default}`` and ``${VAR:+alt}`` from ARG defaults.

    Returns the text and whether every variable had a value (a FROM left unresolved is still
    checked, but the checks can tell that the image is not known for certain).
    """
    complete = True

    def replace(match: re.Match[str]) -> str:
        nonlocal complete
        name = match.group(1) or match.group(4)
        operator, word = match.group(2), match.group(3)
        value = values.get(name)
        if operator in (":-", "-"):
            return value if value else (word or "")
        if operator in (":+", "+"):
            return (word or "") if value else ""
        if value is None:
            complete = False
            return match.group(0)
        return value

    expanded = _VARIABLE.sub(replace, text)
    if len(expanded) > MAX_EXPANSION:
        # ARG A1=${A0}${A0}, A2=${A1}${A1} ... doubles at each step: 40 lines would need
        # terabytes. Past the cap the value is left unexpanded, i.e. not known for certain.
        return text, False
    return expanded, complete


def _split_flags(keyword: str, text: str) -> tuple[dict[str, str], str]:
    flags: dict[str, str] = {}
    if keyword not in FLAG_INSTRUCTIONS:
        return flags, text
    rest = text.lstrip()
    while rest.startswith("--"):
        match = _FLAG.match(rest)
        if not match:
            break
        # A repeated flag (several --mount) keeps every value, space-separated.
        name, value = match.group(1), match.group(2) or ""
        flags[name] = f"{flags[name]} {value}" if name in flags else value
        rest = rest[match.end():]
    return flags, rest


def _exec_args(keyword: str, text: str) -> tuple[str, ...] | None:
    if keyword not in {"CMD", "ENTRYPOINT", "RUN", "SHELL", "HEALTHCHECK", "ADD", "COPY", "VOLUME"}:
        return None
    candidate = text
    if keyword == "HEALTHCHECK":
        _, _, candidate = text.partition("CMD")
    candidate = candidate.strip()
    if not candidate.startswith("["):
        return None
    try:
        parsed = json.loads(candidate)
    except ValueError:
        return None  # Docker falls back to shell form for an invalid JSON array too
    if isinstance(parsed, list) and all(isinstance(item, str) for item in parsed):
        return tuple(parsed)
    return None


def _read_heredocs(keyword: str, value: str, lines: list[str], after: int, path: str,
                   problems: list[ParseProblem]) -> tuple[tuple[Heredoc, ...], int]:
    """Bodies of the heredocs opened on this instruction; returns them and the next free line."""
    if keyword not in {"RUN", "COPY", "ADD"}:
        return (), after
    heredocs = []
    line_index = after
    for match in _HEREDOC.finditer(value):
        strip_tabs, delimiter = match.group(1) == "-", match.group(3)
        start = line_index
        while line_index < len(lines):
            candidate = lines[line_index].rstrip("\r\n")
            if (candidate.lstrip("\t") if strip_tabs else candidate) == delimiter:
                break
            line_index += 1
        body = "".join(lines[start:line_index])
        if line_index >= len(lines):
            problems.append(ParseProblem(Span(path, after), f"heredoc <<{delimiter} never ends"))
        heredocs.append(Heredoc(delimiter, body, Span(path, start + 1, None, line_index + 1)))
        line_index += 1
    return tuple(heredocs), line_index


def _blank_continuations(text: str) -> str:
    """The text with each empty line met inside a continuation turned into a bare comment.

    BuildKit skips such lines (with a warning) and the instruction goes on; dockerfile-parse ends
    the instruction there and reads the rest (`elif ...; then npm ci; fi`) as unknown
    instructions. A comment line is skipped by both, and keeps every line number."""
    if "\\\n" not in text and "\\\r\n" not in text and not re.search(r"\\[ \t]+\r?\n", text):
        return text
    lines = text.split("\n")
    continuing = False
    for index, line in enumerate(lines):
        stripped = line.strip()
        if continuing and not stripped:
            lines[index] = "#"
        elif not (continuing and stripped.startswith("#")):
            continuing = _CONTINUATION.search(line.rstrip("\r")) is not None
    return "\n".join(lines)


def _joined_lines(lines: list[str], start: int, end: int) -> tuple[str, list[tuple[int, int, int]]]:
    """An instruction's lines joined as Docker joins them, with anchors mapping the text back.

    BuildKit removes the escape character and the newline at a continuation, adds nothing, and
    drops comment lines and empty lines met inside a continuation. Each anchor is (offset in the
    joined text, 1-based line, 1-based column) of the line piece starting there.
    """
    pieces: list[str] = []
    anchors: list[tuple[int, int, int]] = []
    offset = 0
    for index in range(start, min(end, len(lines) - 1) + 1):
        raw = lines[index].rstrip("\n").rstrip("\r")
        if index > start and (not raw.strip() or raw.lstrip().startswith("#")):
            continue
        continued = _CONTINUATION.search(raw)
        piece = raw[: continued.start()] if continued else raw
        anchors.append((offset, index + 1, 1))
        pieces.append(piece)
        offset += len(piece)
    return "".join(pieces), anchors


def _heredoc_script(heredoc: Heredoc, anchors: list[tuple[int, int, int]], offset: int,
                    delimiter: bool) -> str:
    """The heredoc body (and its closing delimiter) as script text, anchoring each of its lines."""
    text = heredoc.body + (heredoc.delimiter + "\n" if delimiter else "")
    line = heredoc.span.line
    for piece in text.splitlines(keepends=True):
        anchors.append((offset, line, 1))
        offset += len(piece)
        line += 1
    return text


_LEADING_HEREDOCS = re.compile(r"\s*(?:<<-?([\"']?)[A-Za-z_][A-Za-z0-9_]*\1\s*)+")


def _heredoc_markers_last(command_line: str) -> str:
    """``<<EOF sh -e`` (BuildKit's documented spelling) as ``sh -e <<EOF``: the same redirection,
    in the order the shell grammar reads. The markers are blanked in place, so that every other
    offset of the line still maps to its column; only for a single command."""
    leading = _LEADING_HEREDOCS.match(command_line)
    if leading is None or not command_line[leading.end():].strip() or re.search(r"[;&|]", command_line):
        return command_line
    markers = command_line[: leading.end()]
    return " " * len(markers) + command_line[leading.end():] + " " + markers.strip()


def _run_scripts(lines: list[str], start: int, end: int, exec_form: bool,
                 heredocs: tuple[Heredoc, ...]) -> tuple[Script, ...]:
    """The shell text a shell-form ``RUN`` runs, keyword and ``--flags`` removed.

    ``RUN <<EOF`` alone (BuildKit) runs each heredoc body as a script of its own, by its shebang
    when it has one: a ``#!/usr/bin/env python3`` body is not shell and is left out. Otherwise
    the heredocs are input to the command line's commands (``RUN bash <<EOF``, ``RUN cat <<EOF >
    file``), so they are appended to it as a shell would read them.
    """
    if exec_form:
        return ()
    joined, anchors = _joined_lines(lines, start, end)
    skip = _KEYWORD_AND_FLAGS.match(joined)
    cut = skip.end() if skip else 0
    command_line = joined[cut:]
    shifted: list[tuple[int, int, int]] = []
    for index, (at, line, column) in enumerate(anchors):
        following = anchors[index + 1][0] if index + 1 < len(anchors) else None
        if following is not None and following <= cut:
            continue  # a line holding only the keyword and flags
        shifted.append((at - cut, line, column) if at >= cut else (0, line, column + cut - at))
    if heredocs and _BARE_HEREDOCS.fullmatch(command_line):
        scripts = []
        for heredoc in heredocs:
            shebang = _SHEBANG.match(heredoc.body)
            interpreter = shebang and posixpath.basename(
                shebang.group(2) if shebang.group(1).endswith("/env") and shebang.group(2) else shebang.group(1))
            if interpreter and interpreter not in _SHELL_NAMES:
                continue
            body_anchors: list[tuple[int, int, int]] = []
            scripts.append(Script(_heredoc_script(heredoc, body_anchors, 0, False), tuple(body_anchors)))
        return tuple(scripts)
    text = _heredoc_markers_last(command_line)
    for heredoc in heredocs:
        text += "\n"
        text += _heredoc_script(heredoc, shifted, len(text), True)
    return (Script(text, tuple(shifted)),)


class _LoggerUntilLoggingIsLoaded:
    """dockerfile-parse's module logger, made while nothing in the process had imported ``logging``
    (see _dockerfile_parser). A debug message can only reach a handler that the process configured,
    through the ``logging`` module: while that is not imported, no handler exists and the root
    logger's level is WARNING, so the message is dropped, as ``logging`` itself would drop it. Once
    anything has imported ``logging``, and for every other call, the real logger of that name
    takes it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.real: Any = None  # the real logger, once logging is loaded

    def debug(self, message: object, *args: object, **kwargs: Any) -> None:
        if self.real is None:
            logging = sys.modules.get("logging")
            if logging is None or isinstance(logging, _LoggingStandIn):
                return
            import logging  # not the entry itself: another thread may still be running its import

            self.real = logging.getLogger(self.name)
        # one frame up: the record names dockerfile-parse's caller, as its own logger would
        kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1
        self.real.debug(message, *args, **kwargs)

    def __getattr__(self, attribute: str) -> object:
        if isinstance(sys.modules.get("logging"), _LoggingStandIn):  # still being imported: see
            raise AttributeError(attribute)                          # _dockerfile_parser's fallback
        import logging

        return getattr(logging.getLogger(self.name), attribute)


class _LoggingStandIn(ModuleType):
    """What ``import logging`` gives dockerfile-parse while it is imported (its ``getLogger`` only)."""

    @staticmethod
    def getLogger(name: str) -> _LoggerUntilLoggingIsLoaded:  # noqa: N802 (logging's name)
        return _LoggerUntilLoggingIsLoaded(name)

    def __getattr__(self, name: str) -> object:
        """Anything else: during the import, missing (dockerfile-parse is then imported again with
        ``logging`` itself); afterwards (dockerfile-parse's functions keep this module as their
        ``logging``), the real module's."""
        if sys.modules.get("logging") is self:
            raise AttributeError(name)
        import logging

        return getattr(logging, name)


def _dockerfile_parser() -> type[DockerfileParser]:
    """dockerfile-parse's parser class, imported on first use. Its module imports ``logging`` to
    make a logger that a scan only ever calls with debug messages; ``logging``, with ``weakref``,
    ``string`` and the rest it imports, is 5% of a cold one-project scan, and nothing else of a
    ``--no-external`` scan needs it. So, while the process has no thread but this one (a thread
    importing ``logging`` meanwhile would be handed the stand-in: ``import`` reads ``sys.modules``
    without a lock) and nothing has imported ``logging`` yet, dockerfile-parse is imported with a
    stand-in for it, whose logger drops debug messages until ``logging`` is loaded (see
    _LoggerUntilLoggingIsLoaded). A release of dockerfile-parse that uses more of ``logging`` as it
    is imported (a ``NullHandler``, a level) is imported again, as usual; so is every import made
    while other threads run (the command line's scanners and pools import ``logging`` first)."""
    global _parser_class
    if _parser_class is not None:
        return _parser_class
    # Never the entry of sys.modules itself: another thread (npm audit's reads the Dockerfile while
    # this one parses the tree) may be running the module's import, and the entry is then the
    # module half made; ``import`` waits for that thread to finish it.
    if "logging" not in sys.modules and _threads_started() == 0:
        stand_in = sys.modules["logging"] = _LoggingStandIn("logging")
        try:
            from dockerfile_parse import DockerfileParser
            _parser_class = DockerfileParser
            return DockerfileParser
        except (AttributeError, ImportError):  # it needs more of logging: import both as ever
            for name in [name for name in sys.modules if name.partition(".")[0] == "dockerfile_parse"]:
                del sys.modules[name]
        finally:
            if sys.modules.get("logging") is stand_in:
                del sys.modules["logging"]
    from dockerfile_parse import DockerfileParser

    _parser_class = DockerfileParser
    return DockerfileParser


_parser_class: type[DockerfileParser] | None = None  # dockerfile-parse's parser, once wholly imported


def _threads_started() -> int:
    """Threads running besides the main one (``threading.active_count() - 1``, without importing
    ``threading``)."""
    import _thread

    count: int = getattr(_thread, "_count")()
    return count


def parse_dockerfile(text: str, path: str) -> tuple[Dockerfile, list[ParseProblem]]:
    DockerfileParser = _dockerfile_parser()  # noqa: N806 (deferred: only when a Dockerfile is read)

    problems: list[ParseProblem] = []
    # dockerfile-parse reads bytes from its file object (the stubs say IO[str]; it decodes itself)
    source = io.BytesIO(_blank_continuations(text).encode("utf-8"))
    parser = DockerfileParser(fileobj=source, env_replace=False)  # type: ignore[arg-type]
    try:
        structure = parser.structure
    except Exception as exc:  # dockerfile-parse has no error type of its own
        problems.append(ParseProblem(Span(path, 1), f"Dockerfile not readable: {exc}"))
        structure = []
    lines = text.splitlines(keepends=True)
    instructions: list[Instruction] = []
    consumed_until = 0  # raw line index below which heredoc bodies were already taken
    for item in structure:
        start, end = item["startline"], item["endline"]
        if start < consumed_until:
            continue  # a heredoc body line that dockerfile-parse took for an instruction
        keyword = item["instruction"].upper()
        span = Span(path, start + 1, 1, end + 1)
        if keyword == "COMMENT":
            continue
        if keyword not in KNOWN_INSTRUCTIONS:
            problems.append(ParseProblem(span, f"unknown instruction {keyword!r}"))
            continue
        value = item["value"]
        heredocs, consumed_until = _read_heredocs(keyword, value, lines, end + 1, path, problems)
        flags, arguments = _split_flags(keyword, value)
        exec_args = _exec_args(keyword, arguments)
        scripts = _run_scripts(lines, start, end, exec_args is not None, heredocs) if keyword == "RUN" else ()
        instructions.append(Instruction(keyword, arguments, flags, exec_args, heredocs, span,
                                        item["content"], scripts))
    stages, global_args = _group_stages(instructions, path, problems)
    return Dockerfile(path, Span(path, 1), tuple(instructions), tuple(stages), global_args), problems


def _group_stages(instructions: list[Instruction], path: str, problems: list[ParseProblem]
                  ) -> tuple[list[Stage], dict[str, str | None]]:
    global_args: dict[str, str | None] = {}
    stages: list[Stage] = []
    current: tuple[Instruction, ImageRef, str | None, int | None] | None = None
    body: list[Instruction] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            if current:
                stages.append(Stage(len(stages), current[2], current[1], current[0], tuple(body), current[3]))
            if len(stages) >= MAX_STAGES:
                problems.append(ParseProblem(instruction.span, f"more than {MAX_STAGES} stages; the rest not read"))
                current = None
                break
            current, body = _from(instruction, global_args, stages), []
        elif current is None:
            if instruction.keyword == "ARG":
                for name, default in parse_assignments(instruction.arguments):
                    resolved, _ = substitute_args(default, global_args) if default is not None else (None, True)
                    global_args[name] = resolved
            else:
                problems.append(ParseProblem(instruction.span,
                                             f"{instruction.keyword} before the first FROM"))
        else:
            body.append(instruction)
    if current:
        stages.append(Stage(len(stages), current[2], current[1], current[0], tuple(body), current[3]))
    if not stages and not problems:
        problems.append(ParseProblem(Span(path, 1), "no FROM instruction: not a Dockerfile Docker can build"))
    return stages, global_args


def _from(instruction: Instruction, global_args: dict[str, str | None], stages: list[Stage]
          ) -> tuple[Instruction, ImageRef, str | None, int | None]:
    words = instruction.arguments.split()
    image_text = words[0] if words else ""
    alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
    expanded, complete = substitute_args(image_text, global_args)
    earlier = next((s for s in stages if s.name and s.name.lower() == expanded.lower()), None)
    if earlier is not None:  # FROM builder: inherits the earlier stage's base
        return instruction, earlier.base, alias, earlier.index
    return instruction, ImageRef.parse(expanded, resolved=complete and "$" not in expanded), alias, None
