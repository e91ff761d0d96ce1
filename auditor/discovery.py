"""Which files in the tree the auditor reads, and as what.

Recognition is by name first (cheap) and by content only where names are ambiguous: any
``*.yaml`` may be a Kubernetes manifest, any ``*.conf`` may be nginx. Nothing outside the scan
root is read: symlinks are followed only when they resolve inside it, and never into folders (a
symlinked folder could loop or escape).
"""
from __future__ import annotations

import os
import re
import stat
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass, field
else:
    from auditor.record import dataclass, field
from pathlib import Path

from auditor.globs import PathPatterns
from auditor.ignore import CACHE_DIRS, IGNORE_BUDGET, Ignores
from auditor.model.span import Note, Span

# Never walked, even with --no-ignore: version control data, dependencies, Next.js build output.
SKIPPED_DIRS = frozenset({".git", "node_modules", ".next", ".hg", ".svn", "__pycache__", ".venv"})
NGINX_DIR_NAMES = frozenset({"nginx", "conf.d", "sites-enabled", "sites-available"})
NEXT_CONFIG_NAMES = frozenset({"next.config.js", "next.config.mjs", "next.config.ts", "next.config.cjs"})
# Names that start like a Dockerfile but are something else: a module, a document, a data file.
_NOT_A_DOCKERFILE = (".py", ".pyc", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".go", ".rb", ".rs", ".java", ".sh",
                     ".md", ".markdown", ".rst", ".txt", ".adoc", ".html", ".json", ".yaml", ".yml", ".toml",
                     ".xml", ".lock", ".snap", ".orig", ".rej", ".swp", ".png", ".svg")
_COMPOSE = re.compile(r"^(docker-)?compose[^/]*\.ya?ml$")
_NGINX_SNIFF = re.compile(
    rb"^\s*(server|http|events|location|upstream|listen|server_name|add_header|proxy_pass|"
    rb"ssl_certificate|limit_req_zone|gzip|include|"
    # snippets of plain directives (a TLS policy, server_tokens) are nginx configuration too
    rb"ssl_[a-z_]+|server_tokens|proxy_[a-z_]+|limit_req|gzip_[a-z_]+|expires|try_files|"
    rb"client_max_body_size)\b[^\n]*[;{]", re.MULTILINE)
_API_ROUTE = re.compile(r"(^|/)(src/)?(pages/api/.+\.(js|jsx|ts|tsx|mjs)|app/api/(.+/)?route\.(js|ts|mjs|jsx|tsx))$")


@dataclass
class Discovered:
    """What the walk found, by kind; paths are relative to the root and ``/``-separated."""

    root: Path
    files: list[str] = field(default_factory=list)  # every regular file seen, for XF005 and NX
    dockerfiles: list[str] = field(default_factory=list)
    compose: list[str] = field(default_factory=list)
    yaml: list[str] = field(default_factory=list)  # candidates for Kubernetes manifests
    nginx: list[str] = field(default_factory=list)
    dockerignores: list[str] = field(default_factory=list)
    next_files: list[str] = field(default_factory=list)  # package.json, lockfiles, next.config.*, API routes
    notes: list[Note] = field(default_factory=list)
    too_large: set[str] = field(default_factory=set)

    @property
    def lockfiles(self) -> list[str]:
        return [p for p in self.next_files if p.rpartition("/")[2] == "package-lock.json"]


def classify(relative: str) -> str | None:
    """The kind of file by its name alone; ``"nginx?"``/``"yaml"`` mean: look at the content."""
    name = relative.rpartition("/")[2]
    lowered = name.lower()
    if name == ".dockerignore" or lowered.endswith(".dockerignore"):
        return "dockerignore"  # BuildKit also reads <Dockerfile name>.dockerignore beside it
    if _is_dockerfile_name(lowered):
        return "dockerfile"
    if _COMPOSE.match(lowered):
        return "compose"
    if name in ("package.json", "package-lock.json") or name in NEXT_CONFIG_NAMES or _API_ROUTE.search(relative):
        return "next"
    if lowered.endswith((".yaml", ".yml")):
        return "yaml"
    parents = set(relative.split("/")[:-1])
    # nginx templates: the official image renders /etc/nginx/templates/*.template with envsubst;
    # projects also keep *.conf.tpl. Read with ${VAR} as unknown (auditor/parsers/nginx.py).
    if lowered.endswith((".conf.template", ".conf.tpl")) or \
            ("templates" in parents and lowered.endswith(".template")):
        return "nginx?"
    if lowered.endswith(".conf") or (parents & NGINX_DIR_NAMES and "." not in name) or \
            (parents & NGINX_DIR_NAMES and lowered.endswith((".nginx", ".vhost"))):
        return "nginx?"
    return None


def _is_dockerfile_name(lowered: str) -> bool:
    """``Dockerfile``, ``dockerfile``, ``Dockerfile.prod``, ``Dockerfile-prod``, ``web.Dockerfile``,
    ``Containerfile*`` (any case), but not a document or program about Dockerfiles
    (``dockerfile.py``, ``Dockerfile.md``)."""
    if lowered.endswith(_NOT_A_DOCKERFILE):
        return False
    stem = lowered.split(".", 1)[0].split("-", 1)[0].split("_", 1)[0]
    return stem in ("dockerfile", "containerfile") or lowered.endswith((".dockerfile", ".containerfile"))


def discover(roots: list[Path], scan_root: Path, exclude: list[str] | None = None,
             max_file_size: int = 5 * 1024 * 1024, max_files: int = 100_000,
             no_ignore: bool = False) -> Discovered:
    """Walk ``roots`` (folders or files under ``scan_root``) and sort what is found by kind.

    Unless ``no_ignore``: tool caches, virtual environments (a folder holding ``pyvenv.cfg``) and
    what ``.gitignore`` ignores are left out as ``auditor.ignore`` describes (a tracked file never
    is); a root given explicitly is always read."""
    found = Discovered(scan_root)
    patterns = PathPatterns(exclude or [])
    real_root = os.path.realpath(scan_root)
    pending: list[str] = []
    for root in roots:
        absolute = os.path.abspath(root)
        relative = os.path.relpath(absolute, scan_root).replace(os.sep, "/")
        pending.append("" if relative == "." else relative)
    given = set(pending)
    ignores = None if no_ignore else Ignores(scan_root)
    seen: set[str] = set()
    while pending:
        relative = pending.pop()
        absolute = os.path.join(scan_root, relative) if relative else str(scan_root)
        try:
            info = os.lstat(absolute)
        except OSError as exc:
            found.notes.append(Note(Span(relative or ".", 1), f"not read: {exc.strerror}"))
            continue
        is_dir = stat.S_ISDIR(info.st_mode)
        # excluded before anything is said of it (a link out of the tree included); a folder named
        # on the command line is walked even when a pattern matches it, a file is not
        if relative and (not is_dir or relative not in given) and patterns.matches(relative, is_dir):
            continue
        if stat.S_ISLNK(info.st_mode):
            target = os.path.realpath(absolute)
            if os.path.commonpath([target, real_root]) != real_root:
                found.notes.append(Note(Span(relative, 1), "symbolic link points outside the audited tree; not followed"))
                continue
            if os.path.isdir(target):
                found.notes.append(Note(Span(relative, 1), "symbolic link to a folder; not followed"))
                continue
        if is_dir:
            if ignores is not None and relative not in given and \
                    (relative.rpartition("/")[2] in CACHE_DIRS or ignores.ignored(relative, True)) and \
                    not ignores.tracked(relative, True):
                continue
            try:
                entries = sorted(os.listdir(absolute), reverse=True)
            except OSError as exc:
                found.notes.append(Note(Span(relative or ".", 1), f"folder not read: {exc.strerror}"))
                continue
            if ignores is not None:
                if "pyvenv.cfg" in entries and relative not in given:
                    continue  # a Python virtual environment, whatever its name
                ignores.enter(relative, entries)
            for entry in entries:
                child = f"{relative}/{entry}" if relative else entry
                if entry in SKIPPED_DIRS:
                    continue
                pending.append(child)
            continue
        if relative in seen:
            continue
        seen.add(relative)
        if len(found.files) >= max_files:
            found.notes.append(Note(Span(relative, 1), f"file cap of {max_files} reached; the rest of the tree was not read"))
            break
        found.files.append(relative)
        if ignores is not None and relative not in given and ignores.ignored(relative, False) and \
                not ignores.tracked(relative, False):
            continue  # listed (XF005 asks where secret files go) but not audited
        kind = classify(relative)
        if kind is None:
            continue
        if stat.S_ISLNK(info.st_mode):
            try:
                info = os.stat(absolute)
            except OSError as exc:  # a dangling link or a link loop
                found.notes.append(Note(Span(relative, 1), f"not read: {exc.strerror}"))
                continue
        if not stat.S_ISREG(info.st_mode):
            # A FIFO would block the read forever, a device could be endless (/dev/zero).
            found.notes.append(Note(Span(relative, 1), "not a regular file (FIFO, socket or device); not read"))
            continue
        size = info.st_size
        if size > max_file_size:
            found.notes.append(Note(Span(relative, 1), f"{size:,} bytes is over the {max_file_size:,}-byte size cap; not checked"))
            found.too_large.add(relative)
            continue
        if kind == "nginx?":
            if not looks_like_nginx(absolute):
                continue
            kind = "nginx"
        {"dockerfile": found.dockerfiles, "compose": found.compose, "yaml": found.yaml, "nginx": found.nginx,
         "dockerignore": found.dockerignores, "next": found.next_files}[kind].append(relative)
    if ignores is not None and ignores.exhausted:
        found.notes.append(Note(Span(".", 1), f".gitignore matching took over {IGNORE_BUDGET:.0f} s; "
                                              "what it ignores was read from there on"))
    for bucket in (found.files, found.dockerfiles, found.compose, found.yaml, found.nginx, found.dockerignores, found.next_files):
        bucket.sort()
    return found


def looks_like_nginx(path: str) -> bool:
    """Whether the head of the file reads like nginx configuration (no NUL, a known directive)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(64 * 1024)
    except OSError:
        return True  # unreadable: let the parser report it rather than skip it silently
    return b"\0" not in head and bool(_NGINX_SNIFF.search(head))
