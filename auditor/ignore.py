"""What discovery leaves out: tool caches, virtual environments and what ``.gitignore`` ignores.

Git is never run for this (a tree's git configuration can run programs, see issue 11); the
``.gitignore`` files are read with ``pathspec`` (git's own pattern semantics: nested files, the
deepest one deciding, ``!`` re-includes, ``/``-anchoring, directory-only patterns), from the
repository root down, and the repository's index (``.git/index``) is read directly, as data, to
know which files are tracked. As in git, a tracked file is never ignored: a Dockerfile added with
``git add -f`` despite a ``.gitignore`` that names it is audited, so a ``.gitignore`` cannot hide
a committed file from the audit. What is ignored and untracked is what a CI checkout does not
have (build output, local overrides, dependencies): folders so ignored are not walked; files so
ignored are listed (XF005 asks whether a secret file that git leaves out is still sent in a
Docker build context) but not parsed or audited.

Without a readable index (no ``.git`` folder, ``.git`` a file pointing elsewhere, which is never
followed, an index over the size cap or in an unknown format) nothing is known to be tracked and
the ``.gitignore`` files alone decide.
"""
from __future__ import annotations

import os
import stat
import struct
import time
from pathlib import Path
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing

from auditor.patterns import on_first_use

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

#: Tool caches and build output: not walked unless they hold a tracked file (``build/`` holds
#: Dockerfiles in the Go project layout) or ``--no-ignore`` is given.
CACHE_DIRS = frozenset({
    ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache", ".tox", ".nox", ".terraform",
    ".turbo", ".cache", ".parcel-cache", ".nyc_output", ".gradle", ".eggs", ".pnpm-store", ".yarn",
    "venv", "dist", "build", "coverage",
})
MAX_GITIGNORE = 1024 * 1024
MAX_PATTERNS = 5_000  # per .gitignore; the rest of a longer one is not applied
MAX_INDEX = 64 * 1024 * 1024
#: Seconds all ``.gitignore`` matching of one walk may take; past it, ignores are no longer
#: applied (more is audited, nothing is hidden) and discovery says so.
IGNORE_BUDGET = 2.0


def repository_root(path: Path) -> Path | None:
    """The nearest folder at or above ``path`` that holds ``.git`` (a folder or a worktree's file)."""
    current = Path(os.path.abspath(path))
    for folder in (current, *current.parents):
        if os.path.lexists(folder / ".git"):
            return folder
    return None


def read_regular(path: str, cap: int) -> bytes | None:
    """The content of ``path`` if it is a regular file (not a link, FIFO or device: a FIFO would
    block the read forever) of at most ``cap`` bytes, else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > cap:
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(cap + 1)[:cap]
    except OSError:
        return None
    finally:
        os.close(fd)


def tracked_files(repository: Path) -> frozenset[str] | None:
    """Paths (relative to ``repository``, ``/``-separated) the git index lists, or ``None``.

    Reads index versions 2, 3 and 4 (SHA-1 object names); anything else, or a malformed index,
    is ``None`` (not known), never an exception."""
    git = repository / ".git"
    if not os.path.isdir(git) or os.path.islink(git):
        return None  # a worktree's or submodule's `.git` file names a folder elsewhere: not followed
    data = read_regular(str(git / "index"), MAX_INDEX)
    if data is None or len(data) < 12 or data[:4] != b"DIRC":
        return None
    version, count = struct.unpack(">II", data[4:12])
    if version not in (2, 3, 4):
        return None
    names: set[str] = set()
    offset, previous = 12, b""
    try:
        for _ in range(count):
            start = offset
            flags = struct.unpack(">H", data[offset + 60:offset + 62])[0]
            offset += 62
            if flags & 0x4000:  # extended flags (version 3 and later)
                offset += 2
            if version == 4:
                strip, offset = _varint(data, offset)
                end = data.index(b"\0", offset)
                if strip > len(previous):
                    return None
                name = previous[:len(previous) - strip] + data[offset:end]
                offset = end + 1
            else:
                end = data.index(b"\0", offset)
                name = data[offset:end]
                offset = start + ((end - start) // 8 + 1) * 8  # NUL padding to a multiple of 8
            if offset > len(data):
                return None
            previous = name
            names.add(os.fsdecode(name))
    except (ValueError, struct.error, IndexError):
        return None
    return frozenset(names)


def _varint(data: bytes, offset: int) -> tuple[int, int]:
    """Git's offset encoding (``varint.c``): 7 bits a byte, each continuation adding one."""
    byte = data[offset]
    offset += 1
    value = byte & 0x7F
    while byte & 0x80:
        byte = data[offset]
        offset += 1
        value = ((value + 1) << 7) | (byte & 0x7F)
    return value, offset


class Ignores:
    """Decides, path by path during the walk, whether git would ignore it.

    ``scan_root`` is what paths are relative to; the ``.gitignore`` files of the folders from the
    repository root down to the scan root's parent are read first, those inside as the walk lists
    their folders."""

    def __init__(self, scan_root: Path, *, above: bool = True) -> None:
        self.scan_root = Path(os.path.abspath(scan_root))
        self.repository = repository_root(self.scan_root)
        self._specs: dict[str, GitIgnoreSpec] = {}  # folder relative to the scan root ("" the root) -> spec
        self._above: list[tuple[str, GitIgnoreSpec]] = []  # (way from that folder to the scan root, spec), nearest first
        self._tracked: frozenset[str] | None = None
        self._tracked_dirs: frozenset[str] = frozenset()
        self._tracked_loaded = False
        self._prefix = ""  # the way from the repository root to the scan root
        self._spent = 0.0
        self.exhausted = False  # the matching budget ran out: nothing more is ignored
        if self.repository is not None and self.repository != self.scan_root:
            self._prefix = self.scan_root.relative_to(self.repository).as_posix() + "/"
        if above and self._prefix and self.repository is not None:
            parts = self._prefix.rstrip("/").split("/")
            for depth in range(len(parts) - 1, -1, -1):  # the scan root's parent ... the repository root
                spec = _spec(self.repository.joinpath(*parts[:depth]))
                if spec is not None:
                    self._above.append(("/".join(parts[depth:]) + "/", spec))

    def enter(self, relative: str, entries: list[str]) -> None:
        """The walk lists the folder ``relative``; read its ``.gitignore`` if it has one."""
        if ".gitignore" in entries:
            spec = _spec(self.scan_root / relative if relative else self.scan_root)
            if spec is not None:
                self._specs[relative] = spec

    def ignored(self, relative: str, is_dir: bool) -> bool:
        """Whether git ignores ``relative``: the deepest ``.gitignore`` with a matching rule
        decides, and in it the last matching rule."""
        if self.exhausted or not (self._specs or self._above):
            return False
        started = time.perf_counter()
        try:
            return self._ignored(relative, is_dir)
        finally:
            self._spent += time.perf_counter() - started
            self.exhausted = self._spent > IGNORE_BUDGET

    def _ignored(self, relative: str, is_dir: bool) -> bool:
        candidate = relative + "/" if is_dir else relative
        folder = relative
        while folder:
            folder = folder.rpartition("/")[0]
            spec = self._specs.get(folder)
            if spec is not None:
                decided = spec.check_file(candidate[len(folder) + 1:] if folder else candidate).include
                if decided is not None:
                    return bool(decided)
        for prefix, spec in self._above:
            decided = spec.check_file(prefix + candidate).include
            if decided is not None:
                return bool(decided)
        return False

    def tracked(self, relative: str, is_dir: bool) -> bool:
        """Whether the index lists ``relative`` (a folder: any file below it)."""
        if not self._tracked_loaded:
            self._tracked_loaded = True
            if self.repository is not None:
                self._tracked = tracked_files(self.repository)
                if self._tracked is not None:
                    self._tracked_dirs = frozenset(
                        name[:index] for name in self._tracked for index in _slashes(name))
        if self._tracked is None:
            return False
        name = self._prefix + relative
        return name in (self._tracked_dirs if is_dir else self._tracked)


def git_ignored(root: Path, files: list[str]) -> frozenset[str]:
    """Which of ``files`` (relative to ``root``) the ``.gitignore`` files among them ignore: pure
    ``.gitignore`` semantics, the index not consulted and nothing above ``root`` read (XF005 asks
    what a project's own ``.gitignore`` leaves out of its commits). Under the same matching
    budget; past it, the remaining files count as not ignored (reported as committed: more, never
    less)."""
    ignores = Ignores(root, above=False)
    for path in files:
        folder, _, name = path.rpartition("/")
        if name == ".gitignore":
            ignores.enter(folder, [name])
    return frozenset(path for path in files if ignores.ignored(path, False))


def _spec(folder: Path) -> GitIgnoreSpec | None:
    """The compiled ``.gitignore`` of ``folder``, or None (none, not a regular file, too large)."""
    data = read_regular(str(folder / ".gitignore"), MAX_GITIGNORE)
    if data is None:
        return None
    import pathspec

    lines = [line for line in data.decode("utf-8", "surrogateescape").splitlines()[:MAX_PATTERNS] if _bounded(line)]
    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except Exception:  # noqa: BLE001 - a pattern pathspec rejects: that file is not applied
        return None


_STARS = on_first_use(r"\*+")


def _bounded(line: str) -> bool:
    """Whether a pattern is safe for a backtracking regular expression engine on any path of
    the tree. pathspec compiles each to a Python regex: three ``**`` segments, or four ``*`` in
    one segment, take seconds to minutes on a hostile path (``a/a/...`` 2,000 deep). Such a
    pattern is not applied, so what it would ignore is audited."""
    segments = line.strip().lstrip("!").strip("/").split("/")
    return sum(1 for s in segments if s == "**") <= 2 and \
        all(len(_STARS.findall(s)) <= 3 for s in segments if s != "**")


def _slashes(name: str) -> list[int]:
    return [index for index, char in enumerate(name) if char == "/"]
