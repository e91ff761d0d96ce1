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
  of their own file; each (folder, pattern) is expanded once per scan, so ``include *.conf`` in
  thousands of files costs one directory listing.

Unknown is not absent: an include that is not read (outside the tree, no match, over the depth or
file cap) stays in the spliced tree as an ``include`` directive carrying the reason
(``Directive.reason``), at the level where it was written, so the model can tell which settings it
could have changed. Two kinds of include are *not* unknown:
- nginx's stock files, when the tree does not hold its own copy, are read as their known contents
  (``STOCK_FILES``): ``mime.types`` (a ``types`` block), ``fastcgi_params``/``fastcgi.conf``/
  ``uwsgi_params``/``scgi_params`` (only ``*_param`` lines), ``koi-utf``/``koi-win``/``win-utf``
  (``charset_map``), Debian's ``proxy_params`` (four ``proxy_set_header``) and
  ``snippets/fastcgi-php.conf``. None of them sets a header, TLS, limit or value the controls read.
- a glob whose folder exists in the tree and holds no match: the tree says what is there.

Templates (``*.conf.template`` rendered by the official image's envsubst, ``*.conf.tpl``) are read
with ``${VAR}`` kept as written; the model and checks treat such values as unknown.
"""
from __future__ import annotations

import fnmatch
import glob
import os
import stat
import tempfile
from collections import deque
from dataclasses import replace
from pathlib import Path, PurePosixPath
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass, field
    from typing import Any
else:
    from auditor.record import dataclass, field

from auditor.model.nginx import Directive, NginxConfig, build_config, is_template
from auditor.model.span import Note, NotChecked, ParseProblem, Span
from auditor.parsers.limits import ParseTimeout, time_budget
from auditor.patterns import on_first_use

_ETC_NGINX = "/etc/nginx/"
_MAIN_CONTEXT = frozenset({"http", "events", "stream", "mail"})
_OUTSIDE = "points outside the audited tree; not read"
_NO_MATCH = "matches no file in the audited tree; not read"

# nginx's stock files by their name under the prefix, with the directives a control could read.
# Debian's proxy_params (nginx-common): four proxy_set_header lines; snippets/fastcgi-php.conf:
# fastcgi_split_path_info, try_files $fastcgi_script_name =404, set, fastcgi_param, fastcgi_index,
# include fastcgi.conf; snippets/snakeoil.conf: the snakeoil ssl_certificate and key. The others
# hold only types/charset_map/*_param lines.
STOCK_FILES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "mime.types": (), "fastcgi_params": (), "fastcgi.conf": (), "uwsgi_params": (),
    "scgi_params": (), "koi-utf": (), "koi-win": (), "win-utf": (),
    "proxy_params": (("proxy_set_header", ("Host", "$http_host")),
                     ("proxy_set_header", ("X-Real-IP", "$remote_addr")),
                     ("proxy_set_header", ("X-Forwarded-For", "$proxy_add_x_forwarded_for")),
                     ("proxy_set_header", ("X-Forwarded-Proto", "$scheme"))),
    "snippets/snakeoil.conf": (("ssl_certificate", ("/etc/ssl/certs/ssl-cert-snakeoil.pem",)),
                               ("ssl_certificate_key",
                                ("/etc/ssl/private/ssl-cert-snakeoil.key",))),
    "snippets/fastcgi-php.conf": (("try_files", ("$fastcgi_script_name", "=404")),
                                  ("fastcgi_index", ("index.php",))),
}
# Files the audit never reads but whose kind is known: certbot's options-ssl-nginx.conf holds only
# TLS session, protocol and cipher settings (its versions differ: older ones enable TLSv1 and
# TLSv1.1), so it leaves ssl_protocols and ssl_ciphers unknown and nothing else.
SCOPED_FILES: dict[str, frozenset[str]] = {
    "options-ssl-nginx.conf": frozenset({"ssl_protocols", "ssl_ciphers", "ssl_session_cache",
                                         "ssl_session_timeout", "ssl_session_tickets",
                                         "ssl_prefer_server_ciphers"}),
}
# crossplane glues `${VAR} ssl` into one token; templates are lexed with placeholders instead.
_TEMPLATE_VAR = on_first_use(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PLACEHOLDER = on_first_use(r"@@auditor-envsubst:([A-Za-z_][A-Za-z0-9_]*)@@")


@dataclass(slots=True)
class _Reader:
    """Parses each file once (crossplane) and answers path questions inside the scan root."""

    root: Path
    real_root: str
    problems: list[ParseProblem] = field(default_factory=list)
    notes: list[Note | ParseProblem] = field(default_factory=list)  # a NotChecked is a problem
    parse_timeout: float = 10.0
    max_file_size: int = 5 * 1024 * 1024
    _cache: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _expanded: dict[tuple[str, str], tuple[str, ...] | None] = field(default_factory=dict)
    _listing: dict[str, list[str]] = field(default_factory=dict)
    # nginx text held inside another file (a ConfigMap data key, a Compose `configs: content:`):
    # id -> (text, the file holding it, the line of that file where its line 1 is, whether its
    # lines follow one another there, as in a YAML literal block); see parsers/configmap_nginx.py
    embedded: dict[str, tuple[str, str, int, bool]] = field(default_factory=dict)
    # the project's mount table: container path (file or folder) -> tree path or embedded id
    mounts: dict[str, str] = field(default_factory=dict)

    def mounted(self, pattern: str) -> tuple[str, ...] | None:
        """An absolute include through the mount table: the files mounted or copied there."""
        found: list[str] = []
        for where, source in sorted(self.mounts.items(), key=lambda item: -len(item[0])):
            if fnmatch.fnmatchcase(where, pattern) and (source in self.embedded or self.expand("", source)):
                found.append(source)
            elif pattern.startswith(where + "/") and source not in self.embedded:
                inside = self.expand(source, pattern[len(where) + 1:])
                if inside:
                    found.extend(inside)
        return tuple(dict.fromkeys(found)) or None

    def shown(self, rel: str) -> str:
        """The file a span points at: the holder of an embedded text, else ``rel`` itself."""
        held = self.embedded.get(rel)
        return held[1] if held else rel

    def _parse_embedded(self, rel: str) -> list[dict[str, Any]]:
        from auditor.parsers.nginx_lexer import parser  # crossplane's parser, our lexer

        text, holder, first, block = self.embedded[rel]
        folder = tempfile.mkdtemp(prefix="auditor-nginx-")
        source = os.path.join(folder, "embedded.conf")
        try:
            with open(source, "w", encoding="utf-8") as handle:
                handle.write(text)
            with time_budget(self.parse_timeout):
                payload = parser()(source, single=True, comments=True, catch_errors=True,
                                   check_ctx=False, check_args=False)
        except (ParseTimeout, RecursionError, Exception) as error:  # noqa: BLE001 - never crash on input
            self.problems.append(ParseProblem(Span(holder, first), f"cannot parse embedded nginx text {rel}: {error}"))
            return []
        finally:
            for name in (source,):
                if os.path.exists(name):
                    os.unlink(name)
            os.rmdir(folder)

        def line(number: Any) -> int:
            return first + int(number or 1) - 1 if block else first

        def shift(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
            for statement in statements:
                statement["line"] = line(statement.get("line"))
                if statement.get("block"):
                    shift(statement["block"])
            return statements
        for reported in payload.get("errors", []):
            message = str(reported.get("error", "parse error")).split(" in ")[0] or "parse error"
            self.problems.append(ParseProblem(Span(holder, line(reported.get("line"))), f"nginx syntax: {message}"))
        configs = payload.get("config") or [{}]
        return shift(configs[0].get("parsed", []))

    def statements(self, rel: str) -> list[dict[str, Any]]:
        if rel not in self._cache:
            self._cache[rel] = self._parse(rel)
        return self._cache[rel]

    def _parse(self, rel: str) -> list[dict[str, Any]]:
        # lazy: only scans with nginx files pay for crossplane; its parser, our lexer
        from auditor.parsers.nginx_lexer import parser

        if rel in self.embedded:
            return self._parse_embedded(rel)

        absolute = str(self.root / rel)
        # Included files were never seen by discovery: apply its bounds here (a FIFO would block
        # the read forever; a huge file would cost crossplane's pure-Python lexer minutes).
        try:
            info = os.stat(absolute)
        except OSError as error:
            self.problems.append(NotChecked(Span(rel, 1), f"file not readable: {error.strerror}; not checked"))
            return []
        if not stat.S_ISREG(info.st_mode):
            self.notes.append(NotChecked(Span(rel, 1), "not a regular file; not read"))
            return []
        if info.st_size > self.max_file_size:
            self.notes.append(NotChecked(Span(rel, 1), f"{info.st_size:,} bytes is over the "
                                                       f"{self.max_file_size:,}-byte size cap; not checked"))
            return []
        source, temporary = absolute, None
        try:
            if is_template(rel):
                source = temporary = _placeholder_copy(absolute)
            with time_budget(self.parse_timeout):
                payload = parser()(source, single=True, comments=True, catch_errors=True,
                                   check_ctx=False, check_args=False)
        except ParseTimeout as timeout:
            # AUD003 rather than a Note: the file's directives are missing from its config, so
            # every nginx control must end as not checked, which a parse problem ensures.
            self.problems.append(NotChecked(Span(rel, 1), f"{timeout}; not checked"))
            return []
        except RecursionError:
            self.problems.append(ParseProblem(Span(rel, 1), "nginx blocks nested too deeply to read"))
            return []
        except Exception as error:  # crossplane should catch everything; never let input crash us
            self.problems.append(ParseProblem(Span(rel, 1), f"cannot parse nginx file: {error}"))
            return []
        finally:
            if temporary is not None:
                os.unlink(temporary)
        for reported in payload.get("errors", []):
            message = str(reported.get("error", "parse error")).replace(source, rel)
            # crossplane appends " in <file>:<line>"; the span already says where.
            message = message.split(f" in {rel}")[0] or "parse error"
            self.problems.append(ParseProblem(Span(rel, reported.get("line") or 1),
                                              f"nginx syntax: {message}"))
        configs = payload.get("config") or [{}]
        parsed = configs[0].get("parsed", [])
        return _restore_placeholders(parsed) if temporary is not None else parsed

    def inside(self, absolute: str) -> bool:
        real = os.path.realpath(absolute)
        return real == self.real_root or real.startswith(self.real_root + os.sep)

    def rel(self, absolute: str) -> str:
        return PurePosixPath(os.path.relpath(absolute, self.root).replace(os.sep, "/")).as_posix()

    def expand(self, directory: str, pattern: str) -> tuple[str, ...] | None:
        """Files matching ``pattern`` under ``directory`` (relative to the root), sorted, as
        relative paths; ``None`` if the pattern leaves the root. Cached per (folder, pattern)."""
        key = (directory, pattern)
        if key not in self._expanded:
            self._expanded[key] = self._expand(directory, pattern)
        return self._expanded[key]

    def _expand(self, directory: str, pattern: str) -> tuple[str, ...] | None:
        base = os.path.normpath(os.path.join(self.root, directory, pattern))
        if not (base == str(self.root) or base.startswith(str(self.root) + os.sep)):
            return None
        if glob.has_magic(pattern):
            folder, _, last = base.rpartition(os.sep)
            if glob.has_magic(folder):
                escaped = glob.escape(os.path.join(str(self.root), directory))
                matches = sorted(glob.glob(os.path.join(escaped, pattern)))
            else:  # the usual `conf.d/*.conf`: one listing per folder, whatever the pattern
                matches = [os.path.join(folder, name) for name in self._list(folder)
                           if fnmatch.fnmatchcase(name, last) and
                           (last.startswith(".") or not name.startswith("."))]
        else:
            matches = [base] if os.path.exists(base) else []
        files = [m for m in matches if os.path.isfile(m)]
        if any(not self.inside(m) for m in files):
            return None
        return tuple(self.rel(m) for m in files)

    def expand_rendered(self, directory: str, pattern: str) -> tuple[str, ...] | None:
        """``pattern`` as nginx sees it, or, for ``conf.d/...``, the official image's templates
        rendered there (``templates/X.template`` becomes ``conf.d/X``)."""
        matches = self.expand(directory, pattern)
        if matches or not pattern.startswith("conf.d/"):
            return matches
        rendered = self.expand(directory, "templates/" + pattern[len("conf.d/"):] + ".template")
        return rendered if rendered else matches

    def _list(self, folder: str) -> list[str]:
        if folder not in self._listing:
            try:
                self._listing[folder] = sorted(os.listdir(folder))
            except OSError:
                self._listing[folder] = []
        return self._listing[folder]

    def folder_exists(self, directory: str, pattern: str) -> bool:
        """Whether the fixed folder part of a glob exists inside the tree."""
        fixed = []
        for part in pattern.split("/")[:-1]:
            if glob.has_magic(part):
                break
            fixed.append(part)
        folder = os.path.normpath(os.path.join(self.root, directory, *fixed))
        return os.path.isdir(folder) and self.inside(folder)


def _placeholder_copy(absolute: str) -> str:
    """A temporary copy (outside the tree) of a template with ``${VAR}`` as one-token
    placeholders; the caller removes it."""
    with open(absolute, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    handle_fd, path = tempfile.mkstemp(prefix="auditor-nginx-", suffix=".conf")
    with os.fdopen(handle_fd, "w", encoding="utf-8") as out:
        out.write(_TEMPLATE_VAR.sub(lambda m: f"@@auditor-envsubst:{m.group(1)}@@", text))
    return path


def _restore_placeholders(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for stmt in statements:
        stmt["args"] = [_PLACEHOLDER.sub(lambda m: "${" + m.group(1) + "}", str(arg))
                        for arg in stmt.get("args", [])]
        if stmt.get("block"):
            _restore_placeholders(stmt["block"])
    return statements


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


def _stock(pattern: str) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    name = pattern[len(_ETC_NGINX):] if pattern.startswith(_ETC_NGINX) else pattern
    return STOCK_FILES.get(name)


class _Splicer:
    """Splices one root config; collects Notes; bounded by depth, file count and cycles."""

    def __init__(self, reader: _Reader, root_rel: str, max_depth: int, max_files: int,
                 prefixes: list[str] | None = None) -> None:
        self.reader = reader
        self.prefixes = prefixes if prefixes is not None else [_parent_dir(root_rel)]
        self.max_depth = max_depth
        self.max_files = max_files
        self.spliced_files = 0
        self.files: list[str] = [root_rel]
        self.notes: list[Note | ParseProblem] = []  # a NotChecked is a problem (parsers/project routes it)
        self._cap_reported = False
        self._cycle_spans: set[Span] = set()

    def resolve(self, pattern: str, including: str) -> tuple[list[str], str | None]:
        """(files, reason it was not read). Tries the prefix, then the including file's dir."""
        if pattern.startswith("/") and self.reader.mounts:
            mounted = self.reader.mounted(pattern)
            if mounted:
                return list(mounted), None
        if pattern.startswith("/"):
            if not pattern.startswith(_ETC_NGINX):
                return [], _OUTSIDE
            pattern = pattern[len(_ETC_NGINX):]
            absolute = True
        else:
            absolute = False
        outside = False
        candidates = list(dict.fromkeys(self.prefixes + [_parent_dir(including)]))
        for directory in candidates:
            matches = self.reader.expand_rendered(directory, pattern)
            if matches is None:
                outside = True
            elif matches:
                return list(matches), None
        if glob.has_magic(pattern) and any(self.reader.folder_exists(d, pattern)
                                           for d in candidates):
            return [], None  # the folder is in the tree and holds no match: nginx reads nothing
        if outside or absolute:
            return [], _OUTSIDE
        return [], _NO_MATCH

    def splice(self, statements: list[dict[str, Any]], rel: str,
               stack: tuple[str, ...]) -> tuple[Directive, ...]:
        out: list[Directive] = []
        append = out.append
        shown = self.reader.shown(rel)
        for stmt in statements:
            name = stmt.get("directive", "")
            if name == "#":
                continue
            span = Span(shown, int(stmt.get("line") or 1))
            args = tuple(map(str, stmt.get("args", ())))
            block = stmt.get("block")
            if block is None:
                if name == "include" and "block" not in stmt:
                    out.extend(self._include(args, span, rel, stack))
                    continue
                append(Directive(name, args, span))
            else:
                append(Directive(name, args, span, self.splice(block, rel, stack)))
        return tuple(out)

    def _unread(self, pattern: str, span: Span, reason: str,
                kind: type[Note] | type[NotChecked] = Note) -> Directive:
        # kind NotChecked: the auditor's own bound stopped it (an AUD003 finding, not a note)
        self.notes.append(kind(span, f"include {pattern} {reason}"))
        return Directive("include", (pattern,), span, None, reason)

    def _include(self, args: tuple[str, ...], span: Span, rel: str,
                 stack: tuple[str, ...]) -> list[Directive]:
        if not args:
            return []
        pattern = args[0]
        files, reason = self.resolve(pattern, rel)
        if reason:
            stock = _stock(pattern)
            if stock is not None:
                self.notes.append(Note(span, f"include {pattern} is not in the audited tree; "
                                             "read as nginx's stock file of that name"))
                return [Directive(name, values, span) for name, values in stock]
            marker = self._unread(pattern, span, reason)
            if pattern.rpartition("/")[2] in SCOPED_FILES:
                marker = replace(marker, may_set=SCOPED_FILES[pattern.rpartition("/")[2]])
            return [marker]
        out: list[Directive] = []
        for included in files:
            if included in stack:
                if span not in self._cycle_spans:  # one note per include line
                    self._cycle_spans.add(span)
                    chain = " -> ".join(stack[stack.index(included):] + (included,))
                    self.notes.append(Note(span, f"include cycle {chain}; not followed"))
                continue
            if len(stack) > self.max_depth:  # one marker for the whole include
                out.append(self._unread(pattern, span, f"is nested deeper than "
                                                       f"{self.max_depth} levels; not read", NotChecked))
                break
            if self.spliced_files >= self.max_files:
                if not self._cap_reported:
                    self.notes.append(NotChecked(span, f"more than {self.max_files} included files; "
                                                       f"{included} and the rest not read"))
                    self._cap_reported = True
                # One marker for the rest of this include, not one per file.
                out.append(Directive("include", (pattern,), span, None,
                                     f"goes over the {self.max_files}-file include cap; "
                                     f"{included} and the rest not read"))
                break
            self.spliced_files += 1
            if included not in self.files:
                self.files.append(included)
            out.extend(self.splice(self.reader.statements(included), included,
                                   stack + (included,)))
        return out


def _find_roots(reader: _Reader, paths: list[str], max_files: int) -> list[str]:
    """Files nothing else includes, in the order given; then, to cover include cycles, the
    first file not reached from any root, repeatedly.

    Linear in the include graph: each file's patterns resolve to shared, cached match lists
    (``include *.conf`` in 2,000 files is one list, visited once)."""
    edges: dict[str, list[tuple[str, ...]]] = {}
    queue = deque(dict.fromkeys(paths))
    queued: dict[int, tuple[str, ...]] = {}
    limit = max(max_files, len(paths))
    while queue and len(edges) < limit:
        rel = queue.popleft()
        if rel in edges:
            continue
        targets = []
        for pattern in dict.fromkeys(_include_patterns(reader.statements(rel))):
            matches = _loose_resolve(reader, pattern, rel)
            if matches:
                targets.append(matches)
                if id(matches) not in queued:  # each shared list is queued once
                    queued[id(matches)] = matches
                    queue.extend(t for t in matches if t not in edges)
        edges[rel] = targets
    # Who is included by another file (a file including only itself stays a root): per
    # distinct match list, its sources (two are enough to know).
    sources: dict[int, set[str]] = {}
    for source, targets in edges.items():
        for matches in targets:
            holders = sources.setdefault(id(matches), set())
            if len(holders) < 2:
                holders.add(source)
    included: set[str] = set()
    for key, holders in sources.items():
        matches = queued[key]
        included.update(matches if len(holders) > 1 else
                        (t for t in matches if t not in holders))
    roots = [p for p in dict.fromkeys(paths) if p not in included]
    reached: set[str] = set()
    seen_lists: set[int] = set()
    for root in roots:
        _reach(edges, root, reached, seen_lists)
    for path in dict.fromkeys(paths):
        if path not in reached:
            roots.append(path)
            _reach(edges, path, reached, seen_lists)
    return roots


def _loose_resolve(reader: _Reader, pattern: str, rel: str) -> tuple[str, ...]:
    """Who-includes-whom, before the prefix is known: try the file's directory and each
    ancestor up to the root."""
    if pattern.startswith("/") and reader.mounts:
        mounted = reader.mounted(pattern)
        if mounted:
            return mounted
    if pattern.startswith("/"):
        if not pattern.startswith(_ETC_NGINX):
            return ()
        pattern = pattern[len(_ETC_NGINX):]
    directory = _parent_dir(rel)
    while True:
        matches = reader.expand_rendered(directory, pattern)
        if matches:
            return matches
        if not directory:
            return ()
        directory = _parent_dir(directory)


def _reach(edges: dict[str, list[tuple[str, ...]]], start: str, seen: set[str],
           seen_lists: set[int]) -> None:
    todo = [start]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for matches in edges.get(node, ()):
            if id(matches) not in seen_lists:
                seen_lists.add(id(matches))
                todo.extend(matches)


def _main_dirs(reader: _Reader, paths: list[str]) -> list[str]:
    """Folders of the tree's main configs (files with ``http``/``events`` ...): nginx's prefix."""
    return list(dict.fromkeys(
        _parent_dir(p) for p in paths
        if any(s.get("directive") in _MAIN_CONTEXT for s in reader.statements(p))))


def _fragment_prefixes(root_rel: str, main_dirs: list[str]) -> list[str]:
    """Where a fragment's relative includes resolve: the main config's folder (deepest one
    above the fragment first), then the fragment's own folder and its ancestors (nginx's prefix
    is usually the folder above ``conf.d/``), then any other main config's folder."""
    own = _parent_dir(root_rel)
    above = sorted((d for d in main_dirs if d == "" or own == d or own.startswith(d + "/")),
                   key=len, reverse=True)
    others = [d for d in main_dirs if d not in above]
    ancestors = [own]
    while ancestors[-1]:
        ancestors.append(_parent_dir(ancestors[-1]))
    return list(dict.fromkeys(above + ancestors + others))


def _http_context(fragment: str, mains: list[str],
                  spliced: dict[str, tuple[Directive, ...]]) -> tuple[Directive, ...]:
    """What an http-level fragment inherits: the http-level settings (not the servers, not the
    includes it does not read) of the tree's main config nearest above it, else the only one. The
    fragment is most likely one of the files that config's ``include conf.d/*.conf`` reads
    once deployed (h5bp's ``conf.d/templates/``, the image's ``templates/``)."""
    if not mains:
        if {"sites-available", "sites-enabled"} & set(fragment.split("/")[:-1]):
            # A Debian/Ubuntu host's site: its nginx.conf (not in the tree) sets gzip and
            # ssl_protocols (TLSv1 and TLSv1.1 included in its stock file), and no headers.
            return (Directive("include", (), Span(fragment, 1), None,
                              "the host's /etc/nginx/nginx.conf (Debian's stock file sets gzip "
                              f"and ssl_protocols for every site) is not in the audited tree",
                              frozenset({"gzip", "gzip_types", "ssl_protocols", "ssl_ciphers"})),)
        return ()
    folder = _parent_dir(fragment)
    above = [m for m in mains if _parent_dir(m) == "" or folder == _parent_dir(m)
             or folder.startswith(_parent_dir(m) + "/")]
    if not above and len(mains) > 1:
        return ()  # several unrelated main configs (a monorepo): none is known to be its http
    chosen = max(above, key=lambda m: len(_parent_dir(m))) if above else mains[0]
    http = next((d for d in spliced[chosen] if d.name == "http" and d.block is not None), None)
    return tuple(d for d in (http.block if http is not None else ()) or ()
                 if d.name not in ("server", "include"))


def parse_nginx(root: Path, paths: list[str], *, max_include_depth: int = 10,
                max_include_files: int = 500, parse_timeout: float = 10.0,
                max_file_size: int = 5 * 1024 * 1024,
                embedded: dict[str, tuple[str, str, int, bool]] | None = None,
                mounts: dict[str, str] | None = None,
                ) -> tuple[list[NginxConfig], list[ParseProblem], list[Note | ParseProblem]]:
    """Parse the nginx files discovery found (``paths``, relative to ``root``): one model per
    root config, the parse problems of every file read, and Notes for includes not followed.
    ``parse_timeout`` is each file's time budget (seconds); ``max_file_size`` caps included
    files, which discovery did not see."""
    root = Path(root)
    reader = _Reader(root, os.path.realpath(root), parse_timeout=parse_timeout,
                     max_file_size=max_file_size, embedded=dict(embedded or {}),
                     mounts=dict(mounts or {}))
    paths = list(paths) + [key for key in reader.embedded if key not in paths]
    notes: dict[Note | ParseProblem, None] = {}
    main_dirs = _main_dirs(reader, paths)
    roots = _find_roots(reader, paths, max_include_files)
    spliced: dict[str, tuple[Directive, ...]] = {}
    files: dict[str, tuple[str, ...]] = {}
    mains = [r for r in roots if any(s.get("directive") in _MAIN_CONTEXT
                                     for s in reader.statements(r))]
    for root_rel in mains + [r for r in roots if r not in mains]:  # mains first: the context
        main = root_rel in mains
        prefixes = None if main else _fragment_prefixes(root_rel, main_dirs)
        splicer = _Splicer(reader, root_rel, max_include_depth, max_include_files, prefixes)
        spliced[root_rel] = splicer.splice(reader.statements(root_rel), root_rel, (root_rel,))
        files[root_rel] = tuple(splicer.files)
        notes.update(dict.fromkeys(splicer.notes))
    configs = [build_config(r, spliced[r], files[r],
                            context=() if r in mains else _http_context(r, mains, spliced))
               for r in roots]
    tls = {c.path: tuple(s.span for s in c.servers
                         if s.uses_tls and not s.implicit and 443 in s.ports) for c in configs}
    configs = [replace(c, tls_elsewhere=tuple(span for path, spans in tls.items()
                                              if path != c.path for span in spans))
               for c in configs]
    if reader.embedded:  # an embedded config is reported at the file that holds it
        configs = [replace(c, path=reader.shown(c.path)) for c in configs]
    notes.update(dict.fromkeys(reader.notes))
    problems = list(dict.fromkeys(reader.problems))
    return configs, problems, list(notes)
