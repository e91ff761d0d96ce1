"""Shell text of a Dockerfile ``RUN`` -> the simple commands the shell may run.

``RUN`` in shell form hands its text to ``/bin/sh -c``. Finding ``npm ci`` in it by splitting
words at ``;``/``&&`` breaks on the first compound command (``if [ -f package-lock.json ]; then
npm ci; fi`` yields the "command" ``then npm ci``), so the text is parsed with tree-sitter-bash,
a real (error-tolerant) POSIX/bash grammar, and walked into simple commands.

A command is reported wherever the shell MAY run it: both branches of an ``if``, every ``elif``
and ``case`` branch, after ``&&`` and ``||``, in loops and function bodies, in subshells, in
``$(...)``/``<(...)`` (they run too: ``sh -c "$(curl ...)"`` runs ``curl``), and inside the
scripts a shell is handed: ``sh -c '...'``, ``bash -c "..."`` (exec form too), ``sh <<EOF``.
Each command carries the branches it runs under, so a finding can say "in the elif [ -f
package-lock.json ] branch".

Words are read literally, without expansion: quotes are removed and escapes undone as the shell
would, and a word holding ``$VAR``, ``${...}``, ``$(...)`` or arithmetic keeps its text as written
and is marked not literal. Glob characters stay as written (they are literal text until the
shell meets the filesystem).

Positions are offsets into the text given; ``auditor.model.dockerfile`` maps them back to
Dockerfile lines through continuation lines. Parses are cached per text: a corpus repeats the
same ``RUN`` lines, and several controls read the same instruction.
"""
from __future__ import annotations

import functools
import posixpath
import re
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing

from auditor.patterns import on_first_use

if TYPE_CHECKING:
    from typing import NamedTuple

    from tree_sitter import Node, Parser
else:  # mypy sees typing's NamedTuple; auditor.record builds the same classes cheaper
    from auditor.record import NamedTuple

# sh -c 'sh -c "..."' nests; past this depth the inner text is not opened (a hostile file could
# nest thousands of levels; no real Dockerfile nests more than two or three).
MAX_NESTING = 8
# Commands read per RUN. A real RUN has tens, a long heredoc script a few hundred; a hostile one
# could hold a million, and controls compare commands pairwise (DF006: cleanup after install).
MAX_COMMANDS = 2000
_MAX_UPSTREAM = 16
SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "busybox"})
# Programs that run the command that follows them (after their own options).
_WRAPPER_VALUE_OPTIONS = {
    "sudo": frozenset({"-u", "--user", "-g", "--group", "-C", "-D", "--chdir", "-h", "-p", "-r", "-t", "-U"}),
    "env": frozenset({"-u", "--unset", "-C", "--chdir", "-S", "--split-string"}),
    "nice": frozenset({"-n", "--adjustment"}),
    "exec": frozenset({"-a"}),
    "time": frozenset({"-f", "--format", "-o", "--output"}),
    "nohup": frozenset(),
    "command": frozenset(),
    "stdbuf": frozenset({"-i", "-o", "-e"}),
    "timeout": frozenset({"-s", "--signal", "-k", "--kill-after"}),
}
# Wrappers whose first operand is a user (or a duration), not the command.
_WRAPPER_FIRST_OPERAND = frozenset({"su-exec", "gosu", "chroot", "timeout"})
_WRAPPERS = frozenset(_WRAPPER_VALUE_OPTIONS) | _WRAPPER_FIRST_OPERAND


class Branch(NamedTuple):
    """One construct a command runs under. ``kind``: ``if`` (the then-branch), ``elif``, ``else``,
    ``case``, ``and`` (after ``X &&``), ``or`` (after ``X ||``: only when X fails), ``loop``,
    ``function``, ``substitution`` (inside ``$(...)``/``<(...)``), ``script`` (inside
    ``sh -c``/``sh <<EOF``). ``text`` is the condition as written, ``offset`` where the construct
    starts (two ``if [ -f x ]`` in one script are different branches)."""

    kind: str
    text: str
    offset: int


# Branch kinds that decide whether a command runs at all in a build that succeeds. ``and`` is not
# one: in ``npm ci && npm cache clean --force`` the clean runs whenever the install succeeded,
# and an install that fails fails the build.
CONDITIONAL = frozenset({"if", "elif", "else", "case", "or", "loop", "function"})


class ShellCommand(NamedTuple):
    """One simple command: ``argv`` as the shell would pass it (``literal[i]`` is False for a word
    holding an expansion, kept as written), leading ``VAR=value`` assignments apart."""

    argv: tuple[str, ...]
    literal: tuple[bool, ...]
    assignments: tuple[str, ...]
    branches: tuple[Branch, ...]
    offset: int  # where the command starts in the parsed text
    line: int = 0  # 1-based Dockerfile position, filled in by the model
    column: int = 0
    upstream: tuple[ShellCommand, ...] = ()  # earlier commands of its pipeline: its stdin
    substituted: tuple[ShellCommand, ...] = ()  # commands of its words' $(...) and <(...)

    @property
    def program(self) -> tuple[str, ...]:
        """``argv`` without the wrappers that run what follows them: ``sudo -E bash`` -> ``bash``,
        ``env NODE_ENV=production npm ci`` -> ``npm ci``."""
        return _unwrap(self.argv)

    @property
    def name(self) -> str:
        """The program's file name (``/sbin/apk`` -> ``apk``), '' when there is none."""
        program = self.program
        return program[0].rpartition("/")[2] if program else ""  # posixpath.basename, inlined

    @property
    def inline_assignments(self) -> tuple[str, ...]:
        """``VAR=value`` in force for the command: leading ones and those given to ``env``."""
        extra = tuple(w for w in self.argv[: len(self.argv) - len(self.program)]
                      if "=" in w and not w.startswith("-") and w.split("=", 1)[0].isidentifier())
        return self.assignments + extra

    @property
    def conditional(self) -> bool:
        return any(branch.kind in CONDITIONAL for branch in self.branches)

    @property
    def text(self) -> str:
        return " ".join(self.program)

    def branch_phrase(self) -> str:
        """The branch the command runs in, for a message: 'in the elif [ -f package-lock.json ]
        branch'; '' when it runs unconditionally."""
        for branch in reversed(self.branches):
            if branch.kind in ("if", "elif"):
                return f"in the {branch.kind} {branch.text} branch"
            if branch.kind == "else":
                return f"in the else branch of {branch.text}"
            if branch.kind == "case":
                return f"in the case {branch.text} branch"
            if branch.kind == "or":
                return f"only when '{branch.text}' fails (||)"
            if branch.kind == "loop":
                return f"in the loop {branch.text}"
            if branch.kind == "function":
                return f"in function {branch.text}"
        return ""

    def runs_whenever(self, other: ShellCommand) -> bool:
        """Whether this command runs on every path the shell takes through ``other`` (same
        conditional branches, or fewer), after it: ``npm ci && npm cache clean --force``, or an
        ``if`` chain followed by a cleanup."""
        mine = [b for b in self.branches if b.kind in CONDITIONAL]
        theirs = [b for b in other.branches if b.kind in CONDITIONAL]
        return (self.line, self.offset) > (other.line, other.offset) and theirs[: len(mine)] == mine


class ShellScript(NamedTuple):
    """Every command a script may run (nested scripts and substitutions included, in source
    order) and what could not be parsed (offset, message)."""

    commands: tuple[ShellCommand, ...]
    problems: tuple[tuple[int, str], ...]


@functools.lru_cache(maxsize=1)
def _parser() -> Parser:
    from auditor.parsers.grammars import binding, parser_for

    return parser_for(binding("tree_sitter_bash").language())


@functools.lru_cache(maxsize=4096)
def parse_script(text: str, depth: int = 0) -> ShellScript:
    """Parse shell text; offsets in the result are character offsets into ``text``."""
    data = text.encode("utf-8")
    tree = _parser().parse(data)
    walker = _Walker(text, data, depth)
    try:
        walker.statements(tree.root_node, ())
    except RecursionError:  # hostile nesting such as 20,000 `$(` in one RUN
        walker.problems.append((0, "shell text nested too deeply to read"))
    except _TooManyCommands as stop:
        walker.problems.append((stop.offset, f"more than {MAX_COMMANDS} commands; the rest not read"))
    if tree.root_node.has_error and not walker.problems:
        walker.problems.append((0, "shell syntax not understood"))
    return ShellScript(tuple(sorted(walker.commands, key=lambda c: c.offset)), tuple(walker.problems))


def exec_commands(argv: tuple[str, ...]) -> ShellScript:
    """Exec form (``RUN ["npm", "ci"]``): no shell, so the words are literal; a shell started
    with ``-c`` (``["sh", "-c", "..."]``) runs its script, parsed as such (offsets are then
    into that script: the JSON array has no shell text of its own)."""
    if not argv:
        return ShellScript((), ())
    command = ShellCommand(argv, (True,) * len(argv), (), (), 0)
    script = script_operand(command)
    if script is None or not argv[script].strip():
        return ShellScript((command,), ())
    inner = parse_script(argv[script], 1)
    branch = Branch("script", " ".join(argv[:script]), 0)
    nested = tuple(c._replace(branches=(branch, *c.branches)) for c in inner.commands)
    return ShellScript((command, *nested), tuple((0, message) for _, message in inner.problems))


def script_operand(command: ShellCommand) -> int | None:
    """Index in ``argv`` of the script a shell is given with ``-c`` (``sh -c``, ``bash -ec``,
    ``su user -c``), or None."""
    program = command.program
    if not program:
        return None
    offset = len(command.argv) - len(program)
    name = posixpath.basename(program[0])
    if name in SHELLS:
        words = program[1:]
        if name == "busybox" and words and words[0] in SHELLS:
            words = words[1:]
            offset += 1
        index = 0
        while index < len(words):
            word = words[index]
            if word == "--" or not word.startswith(("-", "+")):
                return None
            if word in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
                index += 2  # the option takes a value: `bash -o pipefail -c '...'`
                continue
            if word.startswith("-") and not word.startswith("--") and "c" in word[1:]:
                found = offset + 2 + index
                return found if found < len(command.argv) else None
            index += 1
        return None
    if name in ("su", "runuser"):
        for index, word in enumerate(program[1:-1], 1):
            if word in ("-c", "--command"):
                return offset + index + 1
    return None


def _stdin_script(command: ShellCommand) -> bool:
    """A shell reading its script from stdin: ``sh``, ``bash -e``, ``sh -s -- args``."""
    program = command.program
    if not program or posixpath.basename(program[0]) not in SHELLS:
        return False
    for word in program[1:]:
        if word == "--":
            return True
        if not word.startswith(("-", "+")):
            return False  # a script file operand
        if word.startswith("-") and not word.startswith("--") and "c" in word[1:]:
            return False
    return True


_ESCAPE_IN_WORD = re.compile(r"\\(.)", re.DOTALL)
_ESCAPE_IN_DOUBLE = on_first_use(r"\\([\\\"$`\n])")
_ANSI = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b",
         "e": "\x1b", "f": "\f", "v": "\v"}


class _TooManyCommands(Exception):
    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


class _Walker:
    """Walks one parse tree, collecting commands with their branches."""

    def __init__(self, text: str, data: bytes, depth: int) -> None:
        self.text, self.data, self.depth = text, data, depth
        self.char_at: list[int] | None = None if text.isascii() else _char_offsets(text)
        self.commands: list[ShellCommand] = []
        self.problems: list[tuple[int, str]] = []

    def offset(self, node: Node) -> int:
        byte = node.start_byte
        return byte if self.char_at is None else self.char_at[min(byte, len(self.char_at) - 1)]

    def source(self, node: Node) -> str:
        return self.data[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def brief(self, nodes: list[Node]) -> str:
        """Condition text for a message, whitespace collapsed, cut at 80 characters."""
        if not nodes:
            return ""
        text = " ".join(self.data[nodes[0].start_byte:nodes[-1].end_byte].decode("utf-8", "replace").split())
        return text if len(text) <= 80 else text[:77] + "..."

    # -- statements -------------------------------------------------------------------------
    def statements(self, node: Node, branches: tuple[Branch, ...]) -> list[ShellCommand]:
        """Walk the named children of a statement list; returns the top-level commands found."""
        found: list[ShellCommand] = []
        for child in node.named_children:
            found.extend(self.statement(child, branches))
        return found

    def statement(self, node: Node, branches: tuple[Branch, ...]) -> list[ShellCommand]:
        kind = node.type
        if kind == "command":
            return self.command(node, branches)
        if kind == "list":
            return self.and_or_list(node, branches)
        if kind == "pipeline":
            return self.pipeline(node, branches)
        if kind == "redirected_statement":
            return self.redirected(node, branches)
        if kind == "if_statement":
            return self.if_statement(node, branches)
        if kind == "case_statement":
            return self.case_statement(node, branches)
        if kind in ("for_statement", "c_style_for_statement", "while_statement", "until_statement"):
            return self.loop(node, branches)
        if kind == "function_definition":
            name = node.child_by_field_name("name")
            body = node.child_by_field_name("body")
            label = self.source(name) if name is not None else "?"
            return self.statement(body, (*branches, Branch("function", label, self.offset(node)))) if body else []
        if kind in ("compound_statement", "subshell", "do_group", "negated_command", "program"):
            return self.statements(node, branches)
        if kind in ("declaration_command", "unset_command"):
            return self.command(node, branches)
        if kind == "ERROR" or node.is_missing:
            self.problems.append((self.offset(node), f"shell syntax not understood near "
                                                     f"'{self.brief([node])[:40]}'"))
            return self.statements(node, branches)
        if kind in ("comment", "heredoc_body", "heredoc_start", "heredoc_end"):
            return []
        # test_command, variable_assignment(s), arithmetic...: no command of their own, but
        # their words may hold $(...) that runs one.
        self.substitutions(node, branches)
        return []

    def and_or_list(self, node: Node, branches: tuple[Branch, ...]) -> list[ShellCommand]:
        # `a && b || c` is a left-deep tree, (list (list a && b) || c): flatten it without
        # recursion, so that a RUN chaining hundreds of commands with && stays within the stack.
        chain: list[Node] = []
        current = node
        while current.type == "list":
            chain[:0] = current.children[1:]
            current = current.children[0] if current.children else current
            if not current.is_named:
                break
        chain.insert(0, current)
        # Each operand depends on the outcome of everything before it, not on each earlier
        # operator: in `npm ci && npm audit || true && npm cache clean --force` the clean runs
        # whenever `npm ci && npm audit || true` succeeded, i.e. whenever the install did.
        found: list[ShellCommand] = []
        left: list[Node] = []
        inner = branches
        for child in chain:
            if not child.is_named and child.type in ("&&", "||"):
                kind = "and" if child.type == "&&" else "or"
                inner = (*branches, Branch(kind, self.brief(left), self.offset(child)))
            elif child.is_named:
                found.extend(self.statement(child, inner))
                left.append(child)
        return found

    def pipeline(self, node: Node, branches: tuple[Branch, ...]) -> list[ShellCommand]:
        found: list[ShellCommand] = []
        upstream: list[ShellCommand] = []
        for child in node.named_children:
            start = len(self.commands)
            self.statement(child, branches)
            element = self.commands[start:]
            if upstream:
                # Re-record the element's commands with what feeds their stdin: the nearest
                # _MAX_UPSTREAM commands before them (a real pipeline has a handful), kept flat
                # so that a long hostile pipeline stays linear, not exponential.
                fed = tuple(upstream[-_MAX_UPSTREAM:])
                element = [c._replace(upstream=fed) for c in element]
                self.commands[start:] = element
            found.extend(element)
            upstream.extend(c._replace(upstream=()) for c in element)
        return found

    def redirected(self, node: Node, branches: tuple[Branch, ...]) -> list[ShellCommand]:
        body = node.child_by_field_name("body")
        found = self.statement(body, branches) if body is not None else []
        for redirect in node.children_by_field_name("redirect"):
            if redirect.type == "heredoc_redirect":
                heredoc = next((c for c in redirect.named_children if c.type == "heredoc_body"), None)
                # `sh <<EOF` / `bash -e <<'EOF'`: the body is the script the shell runs.
                if heredoc is not None and len(found) == 1 and _stdin_script(found[0]):
                    self.nested(self.source(heredoc), self.offset(heredoc), branches,
                                Branch("script", f"{found[0].text} <<heredoc", self.offset(node)))
            else:
                self.substitutions(redirect, branches)
        return found

    def if_statement(self, node: Node, branches: tuple[Branch, ...]) -> list[ShellCommand]:
        found: list[ShellCommand] = []
        conditions = list(node.children_by_field_name("condition"))
        named_conditions = [c for c in conditions if c.is_named]
        for condition in named_conditions:
            found.extend(self.statement(condition, branches))
        label = "if " + self.brief(named_conditions)
        then = (*branches, Branch("if", self.brief(named_conditions), self.offset(node)))
        for index, child in enumerate(node.children):
            if not child.is_named or node.field_name_for_child(index) == "condition":
                continue
            if child.type == "elif_clause":
                found.extend(self.elif_clause(child, branches))
            elif child.type == "else_clause":
                found.extend(self.statements(child, (*branches, Branch("else", label, self.offset(child)))))
            else:
                found.extend(self.statement(child, then))
        return found

    def elif_clause(self, node: Node, branches: tuple[Branch, ...]) -> list[ShellCommand]:
        found: list[ShellCommand] = []
        condition: list[Node] = []
        body: list[Node] = []
        seen_then = False
        for child in node.children:
            if not child.is_named:
                seen_then = seen_then or child.type == "then"
            elif seen_then:
                body.append(child)
            else:
                condition.append(child)
        branch = Branch("elif", self.brief(condition), self.offset(node))
        for child in (*condition, *body):  # the condition runs once the earlier ones failed
            found.extend(self.statement(child, (*branches, branch)))
        return found

    def case_statement(self, node: Node, branches: tuple[Branch, ...]) -> list[ShellCommand]:
        value = node.child_by_field_name("value")
        subject = self.source(value) if value is not None else "?"
        if value is not None:
            self.substitutions(value, branches)
        found: list[ShellCommand] = []
        for item in node.named_children:
            if item.type != "case_item":
                continue
            patterns = [self.source(p) for p in item.children_by_field_name("value")]
            branch = Branch("case", f"{subject} in {'|'.join(patterns)})", self.offset(item))
            for index, child in enumerate(item.children):
                if child.is_named and item.field_name_for_child(index) != "value":
                    found.extend(self.statement(child, (*branches, branch)))
        return found

    def loop(self, node: Node, branches: tuple[Branch, ...]) -> list[ShellCommand]:
        found: list[ShellCommand] = []
        body = node.child_by_field_name("body")
        head = [c for c in node.named_children if c != body]
        for child in head:
            if node.type in ("while_statement", "until_statement"):
                found.extend(self.statement(child, branches))
            else:
                self.substitutions(child, branches)
        label = f"{node.children[0].type} {self.brief(head)}".strip()
        if body is not None:
            found.extend(self.statement(body, (*branches, Branch("loop", label, self.offset(node)))))
        return found

    # -- commands and words -----------------------------------------------------------------
    def command(self, node: Node, branches: tuple[Branch, ...]) -> list[ShellCommand]:
        assignments: list[str] = []
        words: list[str] = []
        literal: list[bool] = []
        start = len(self.commands)
        for index, child in enumerate(node.children):
            field = node.field_name_for_child(index)
            if child.type == "variable_assignment" and not words:
                text, _ = self.word(child)
                assignments.append(text)
                self.substitutions(child, branches)
            elif field in ("name", "argument") or (node.type != "command" and child.is_named):
                text, plain = self.word(child)
                words.append(text)
                literal.append(plain)
                self.substitutions(child, branches)
            elif child.type in ("file_redirect", "herestring_redirect"):
                self.substitutions(child, branches)
            elif not child.is_named and node.type != "command":
                words.append(child.type)  # `export`, `local`, `unset`...
                literal.append(True)
        substituted = tuple(self.commands[start:])
        command = ShellCommand(tuple(words), tuple(literal), tuple(assignments), branches,
                               self.offset(node), substituted=substituted)
        if not words:
            return []
        if len(self.commands) >= MAX_COMMANDS:
            raise _TooManyCommands(command.offset)
        self.commands.append(command)
        script = script_operand(command)
        if script is not None and literal[script]:
            argument = _argument_nodes(node)[script] if script < len(_argument_nodes(node)) else None
            if argument is not None:
                start_offset = self.offset(argument) + (1 if argument.type in ("string", "raw_string") else 0)
                self.nested(words[script], start_offset, branches,
                            Branch("script", " ".join(command.program[:2]), self.offset(node)))
        return [command]

    def nested(self, text: str, offset: int, branches: tuple[Branch, ...], branch: Branch) -> None:
        if self.depth + 1 > MAX_NESTING:
            self.problems.append((offset, f"shell scripts nested more than {MAX_NESTING} deep; not read"))
            return
        inner = parse_script(text, self.depth + 1)
        limit = len(self.text)
        for command in inner.commands:
            self.commands.append(self._shift(command, offset, (*branches, branch), limit))
        self.problems.extend((min(offset + at, limit), message) for at, message in inner.problems)

    def _shift(self, command: ShellCommand, offset: int, prefix: tuple[Branch, ...], limit: int) -> ShellCommand:
        """A nested script's command in the outer text's coordinates (exact for a quoted string
        without escapes and for heredoc bodies; near otherwise)."""
        return command._replace(
            offset=min(offset + command.offset, limit),
            branches=prefix + tuple(b._replace(offset=offset + b.offset) for b in command.branches),
            upstream=tuple(self._shift(c, offset, prefix, limit) for c in command.upstream),
            substituted=tuple(self._shift(c, offset, prefix, limit) for c in command.substituted))

    def substitutions(self, node: Node, branches: tuple[Branch, ...]) -> None:
        """Commands run by ``$(...)``, backquotes and ``<(...)`` anywhere inside ``node``."""
        stack = [node]
        while stack:
            current = stack.pop()
            if current.type in ("command_substitution", "process_substitution"):
                self.statements(current, (*branches, Branch("substitution", self.brief([current]),
                                                            self.offset(current))))
                continue
            stack.extend(reversed(current.named_children))

    def word(self, node: Node) -> tuple[str, bool]:
        """A word's value without quotes and escapes; (text as written, False) when it holds an
        expansion."""
        kind = node.type
        if kind == "word":
            return _ESCAPE_IN_WORD.sub(r"\1", self.source(node)), True
        if kind == "command_name":
            return self.word(node.named_children[0]) if node.named_child_count == 1 else (self.source(node), False)
        if kind == "raw_string":
            return self.source(node)[1:-1], True
        if kind == "number":
            return self.source(node), True
        if kind == "ansi_c_string":
            return re.sub(r"\\(.)", lambda m: _ANSI.get(m.group(1), "\\" + m.group(1)), self.source(node)[2:-1]), True
        if kind in ("string", "translated_string"):
            parts: list[str] = []
            plain = True
            for child in node.named_children:
                if child.type == "string_content":
                    parts.append(_ESCAPE_IN_DOUBLE.sub(lambda m: "" if m.group(1) == "\n" else m.group(1),
                                                       self.source(child)))
                else:
                    parts.append(self.source(child))
                    plain = False
            if node.named_child_count == 0:
                return "", True
            return "".join(parts), plain
        if kind == "concatenation":
            texts, flags = zip(*(self.word(child) for child in node.named_children)) if node.named_child_count else ((), ())
            return "".join(texts), all(flags)
        if kind == "variable_assignment":
            name = node.child_by_field_name("name")
            value = node.child_by_field_name("value")
            value_text, plain = self.word(value) if value is not None else ("", True)
            return f"{self.source(name) if name else ''}={value_text}", plain
        return self.source(node), False


def _char_offsets(text: str) -> list[int]:
    """Character offset of every UTF-8 byte offset of ``text`` (tree-sitter counts bytes)."""
    table: list[int] = []
    for index, character in enumerate(text):
        table.extend([index] * len(character.encode("utf-8")))
    table.append(len(text))
    return table


def _argument_nodes(node: Node) -> list[Node]:
    """The name and argument nodes of a command, in order (what ``argv`` is built from)."""
    return [child for index, child in enumerate(node.children)
            if node.field_name_for_child(index) in ("name", "argument")]


def _unwrap(argv: tuple[str, ...]) -> tuple[str, ...]:
    if argv and argv[0].rpartition("/")[2] not in _WRAPPERS:
        return argv  # the usual command, asked for by every control that reads RUN lines
    index = 0
    while index < len(argv):
        name = posixpath.basename(argv[index])
        if name not in _WRAPPER_VALUE_OPTIONS and name not in _WRAPPER_FIRST_OPERAND:
            break
        takes_value = _WRAPPER_VALUE_OPTIONS.get(name, frozenset())
        index += 1
        while index < len(argv) and argv[index].startswith("-") and argv[index] != "-":
            option = argv[index]
            index += 1
            if option == "--":
                break
            if option in takes_value and "=" not in option:
                index += 1
        if name in ("env", "sudo"):  # both take VAR=value before the command
            while index < len(argv) and "=" in argv[index] and argv[index].split("=", 1)[0].isidentifier():
                index += 1
        if name in _WRAPPER_FIRST_OPERAND and index < len(argv):
            index += 1  # the user of gosu/su-exec, the new root of chroot, the duration of timeout
    return argv[index:]
