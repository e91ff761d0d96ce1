"""nginx files -> one ``NginxConfig`` per root config, with ``include`` spliced in as nginx does.

crossplane reads one file at a time (``single=True``): it must never follow includes itself,
because an absolute ``include /etc/nginx/...`` would read the host's files. Includes are resolved
here, inside the scan root only:
- a relative pattern is relative to the *prefix*, the directory of the root config (nginx's
  ``conf_prefix``); if nothing matches there, the including file's own directory is tried;
- ``/etc/nginx/<rest>`` maps onto the same directories (the usual ``COPY nginx/ /etc/nginx/``);
- anything else absolute, or anything resolving outside the root (``..``, symlinks), is a Note,
  never read;
- globs expand sorted, like glob(3) in ``ngx_conf_include``; included directives keep the spans
  of their own file.
"""
from __future__ import annotations

import glob
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from auditor.model.nginx import Directive, NginxConfig, build_config
from auditor.model.span import Note, ParseProblem, Span
from auditor.parsers.limits import ParseTimeout, time_budget

_ETC_NGINX = "/etc/nginx/"
_MAIN_CONTEXT = frozenset({"http", "events", "stream", "mail"})


@dataclass(slots=True)
class _Reader:
    """Parses each file once (crossplane) and answers path questions inside the scan root."""

    root: Path
    real_root: str
    problems: list[ParseProblem] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    parse_timeout: float = 10.0
    max_file_size: int = 5 * 1024 * 1024
    _cache: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def statements(self, rel: str) -> list[dict[str, Any]]:
        if rel not in self._cache:
            self._cache[rel] = self._parse(rel)
        return self._cache[rel]

    def _parse(self, rel: str) -> list[dict[str, Any]]:
        import crossplane  # lazy: only scans with nginx files pay for it

        absolute = str(self.root / rel)
        # Included files were never seen by discovery: apply its bounds here (a FIFO would block
        # the read forever; a huge file would cost crossplane's pure-Python lexer minutes).
        try:
            info = os.stat(absolute)
        except OSError as error:
            self.problems.append(ParseProblem(Span(rel, 1), f"file not readable: {error.strerror}"))
            return []
        if not stat.S_ISREG(info.st_mode):
            self.notes.append(Note(Span(rel, 1), "not a regular file; not read"))
            return []
        if info.st_size > self.max_file_size:
            self.notes.append(Note(Span(rel, 1), f"{info.st_size:,} bytes is over the "
                                                 f"{self.max_file_size:,}-byte size cap; not checked"))
            return []
        try:
            with time_budget(self.parse_timeout):
                payload = crossplane.parse(absolute, single=True, comments=True, catch_errors=True,
                                           check_ctx=False, check_args=False)
        except ParseTimeout as timeout:
            # AUD001 rather than a Note: the file's directives are missing from its config, so
            # every nginx control must end as not checked, which a parse problem ensures.
            self.problems.append(ParseProblem(Span(rel, 1), f"{timeout}; not checked"))
            return []
        except RecursionError:
            self.problems.append(ParseProblem(Span(rel, 1), "nginx blocks nested too deeply to read"))
            return []
        except Exception as error:  # crossplane should catch everything; never let input crash us
            self.problems.append(ParseProblem(Span(rel, 1), f"cannot parse nginx file: {error}"))
            return []
        for error in payload.get("errors", []):
            message = str(error.get("error", "parse error")).replace(absolute, rel)
            # crossplane appends " in <file>:<line>"; the span already says where.
            message = message.split(f" in {rel}")[0] or "parse error"
            self.problems.append(ParseProblem(Span(rel, error.get("line") or 1),
                                              f"nginx syntax: {message}"))
        configs = payload.get("config") or [{}]
        return configs[0].get("parsed", [])

    def inside(self, absolute: str) -> bool:
        real = os.path.realpath(absolute)
        return real == self.real_root or real.startswith(self.real_root + os.sep)

    def rel(self, absolute: str) -> str:
        return PurePosixPath(os.path.relpath(absolute, self.root).replace(os.sep, "/")).as_posix()

    def expand(self, directory: str, pattern: str) -> list[str] | None:
        """Files matching ``pattern`` under ``directory`` (relative to the root), sorted, as
        relative paths; ``None`` if the pattern leaves the root."""
        base = os.path.normpath(os.path.join(self.root, directory, pattern))
        if not (base == str(self.root) or base.startswith(str(self.root) + os.sep)):
            return None
        if glob.has_magic(pattern):
            escaped = glob.escape(os.path.join(str(self.root), directory))
            matches = sorted(glob.glob(os.path.join(escaped, pattern)))
        else:
            matches = [base] if os.path.exists(base) else []
        files = [m for m in matches if os.path.isfile(m)]
        if any(not self.inside(m) for m in files):
            return None
        return [self.rel(m) for m in files]


def _parent_dir(rel: str) -> str:
    parent = PurePosixPath(rel).parent.as_posix()
    return "" if parent == "." else parent


def _include_patterns(statements: list[dict[str, Any]]) -> list[str]:
    patterns = []
    for stmt in statements:
        if stmt.get("directive") == "include" and stmt.get("args"):
            patterns.append(stmt["args"][0])
        patterns.extend(_include_patterns(stmt.get("block") or []))
    return patterns


class _Splicer:
    """Splices one root config; collects Notes; bounded by depth, file count and cycles."""

    def __init__(self, reader: _Reader, root_rel: str, max_depth: int, max_files: int) -> None:
        self.reader = reader
        self.prefixes = [_parent_dir(root_rel)]
        self.max_depth = max_depth
        self.max_files = max_files
        self.spliced_files = 0
        self.files: list[str] = [root_rel]
        self.notes: list[Note] = []
        self._cap_reported = False

    def resolve(self, pattern: str, including: str) -> tuple[list[str], str | None]:
        """(files, reason it was not read). Tries the prefix, then the including file's dir."""
        if pattern.startswith("/"):
            if not pattern.startswith(_ETC_NGINX):
                return [], "points outside the audited tree; not read"
            pattern = pattern[len(_ETC_NGINX):]
            absolute = True
        else:
            absolute = False
        outside = False
        for directory in dict.fromkeys(self.prefixes + [_parent_dir(including)]):
            matches = self.reader.expand(directory, pattern)
            if matches is None:
                outside = True
            elif matches:
                return matches, None
        if outside or absolute:
            return [], "points outside the audited tree; not read"
        if "*" in pattern or "?" in pattern or "[" in pattern:
            return [], None  # an empty glob is fine for nginx too
        return [], "matches no file in the audited tree; not read"

    def splice(self, statements: list[dict[str, Any]], rel: str,
               stack: tuple[str, ...]) -> tuple[Directive, ...]:
        out: list[Directive] = []
        for stmt in statements:
            name = stmt.get("directive", "")
            if name == "#":
                continue
            span = Span(rel, int(stmt.get("line") or 1))
            args = tuple(str(arg) for arg in stmt.get("args", []))
            if name == "include" and "block" not in stmt:
                out.extend(self._include(args, span, rel, stack))
                continue
            block = stmt.get("block")
            out.append(Directive(name, args, span,
                                 None if block is None else self.splice(block, rel, stack)))
        return tuple(out)

    def _include(self, args: tuple[str, ...], span: Span, rel: str,
                 stack: tuple[str, ...]) -> list[Directive]:
        if not args:
            return []
        pattern = args[0]
        files, reason = self.resolve(pattern, rel)
        if reason:
            self.notes.append(Note(span, f"include {pattern} {reason}"))
        out: list[Directive] = []
        for included in files:
            if included in stack:
                chain = " -> ".join(stack[stack.index(included):] + (included,))
                self.notes.append(Note(span, f"include cycle {chain}; not followed"))
                continue
            if len(stack) > self.max_depth:
                self.notes.append(Note(span, f"include {included} nested deeper than "
                                             f"{self.max_depth} levels; not read"))
                continue
            if self.spliced_files >= self.max_files:
                if not self._cap_reported:
                    self.notes.append(Note(span, f"more than {self.max_files} included files; "
                                                 f"{included} and the rest not read"))
                    self._cap_reported = True
                continue
            self.spliced_files += 1
            if included not in self.files:
                self.files.append(included)
            out.extend(self.splice(self.reader.statements(included), included,
                                   stack + (included,)))
        return out


def _find_roots(reader: _Reader, paths: list[str], max_files: int) -> list[str]:
    """Files nothing else includes, in the order given; then, to cover include cycles, the
    first file not reached from any root, repeatedly."""
    edges: dict[str, list[str]] = {}
    queue = list(dict.fromkeys(paths))
    while queue and len(edges) < max(max_files, len(paths)):
        rel = queue.pop(0)
        if rel in edges:
            continue
        targets: list[str] = []
        for pattern in _include_patterns(reader.statements(rel)):
            targets.extend(_loose_resolve(reader, pattern, rel))
        edges[rel] = targets
        queue.extend(t for t in targets if t not in edges)
    included = {t for source, targets in edges.items() for t in targets if t != source}
    roots = [p for p in dict.fromkeys(paths) if p not in included]
    reached = set()
    for root in roots:
        reached |= _reachable(edges, root)
    for path in dict.fromkeys(paths):
        if path not in reached:
            roots.append(path)
            reached |= _reachable(edges, path)
    return roots


def _loose_resolve(reader: _Reader, pattern: str, rel: str) -> list[str]:
    """Who-includes-whom, before the prefix is known: try the file's directory and each
    ancestor up to the root."""
    if pattern.startswith("/"):
        if not pattern.startswith(_ETC_NGINX):
            return []
        pattern = pattern[len(_ETC_NGINX):]
    directory = _parent_dir(rel)
    while True:
        matches = reader.expand(directory, pattern)
        if matches:
            return matches
        if not directory:
            return []
        directory = _parent_dir(directory)


def _reachable(edges: dict[str, list[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(edges.get(node, []))
    return seen


def parse_nginx(root: Path, paths: list[str], *, max_include_depth: int = 10,
                max_include_files: int = 500, parse_timeout: float = 10.0,
                max_file_size: int = 5 * 1024 * 1024
                ) -> tuple[list[NginxConfig], list[ParseProblem], list[Note]]:
    """Parse the nginx files discovery found (``paths``, relative to ``root``): one model per
    root config, the parse problems of every file read, and Notes for includes not followed.
    ``parse_timeout`` is each file's time budget (seconds); ``max_file_size`` caps included
    files, which discovery did not see."""
    root = Path(root)
    reader = _Reader(root, os.path.realpath(root), parse_timeout=parse_timeout,
                     max_file_size=max_file_size)
    configs: list[NginxConfig] = []
    notes: dict[Note, None] = {}
    for root_rel in _find_roots(reader, paths, max_include_files):
        splicer = _Splicer(reader, root_rel, max_include_depth, max_include_files)
        statements = reader.statements(root_rel)
        if not any(s.get("directive") in _MAIN_CONTEXT for s in statements):
            # A stand-alone conf.d/ fragment: nginx's prefix is usually the directory above it.
            splicer.prefixes.append(_parent_dir(_parent_dir(root_rel)))
        directives = splicer.splice(statements, root_rel, (root_rel,))
        configs.append(build_config(root_rel, directives, tuple(splicer.files)))
        notes.update(dict.fromkeys(splicer.notes))
    notes.update(dict.fromkeys(reader.notes))
    problems = list(dict.fromkeys(reader.problems))
    return configs, problems, list(notes)
