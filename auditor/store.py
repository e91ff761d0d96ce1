"""The signed store in the user's cache folder: entries read verified, never trusted half written.

Both caches of the auditor keep their entries here: the validated rule catalog
(``auditor.catalog``) and the incremental cache of parse-and-check outcomes (``auditor.cache``).
The folder is made private (0700, ours, not a link); every entry is signed (HMAC-SHA-256, or
keyed BLAKE2b for the catalog: ``_STARTUP_KINDS``) under a per-user key kept in the folder, so an
entry that is corrupt, truncated, of another format, signed under another key or placed there by
anyone else (an audited tree that holds the cache folder) is ignored, never trusted and never a
crash. This module imports nothing of the auditor but ``auditor.digests``: it is the bottom layer
of both caches (and says whether a path lies within a folder: `inside`).
"""
from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from auditor.digests import SIGNATURE_SIZE, compare_digest, signature

TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    Buffer = bytes | bytearray | memoryview  # what is written and signed as it is

FORMAT = b"auditor-cache 2\n"  # bump when the entry layout or its signature changes (2: the catalog's is keyed BLAKE2b)
_MAC_SIZE = SIGNATURE_SIZE  # = HMAC-SHA-256's
# Every run reads the rule catalog's entry (190 KB; ``auditor.catalog`` keeps it under the rule
# files' contents and under their identities on disk): it is signed with keyed BLAKE2b, which needs
# no OpenSSL at start-up (``auditor.digests``). The incremental cache reads megabytes (70 KB a
# project) in runs that load OpenSSL anyway (``auditor.cache`` hashes files with it), whose
# HMAC-SHA-256 is twice as fast there. The kind is part of what is signed, so an entry of one kind
# never passes for another.
_STARTUP_KINDS = frozenset({"catalog", "catalog-by-identity"})
_KEY_FILE = "key"
_ENTRY_CAP = 256 * 1024 * 1024  # bytes; a partition's outcome is kilobytes, never read a huge file
_READ_BLOCK = 1 << 20
_IOV_MAX = 1024  # parts given to one writev (the POSIX minimum of IOV_MAX)
_DAY = 86400.0
_UNUSED_DAYS = 30  # an entry not used for this long is removed


def default_folder() -> Path:
    """``$XDG_CACHE_HOME/auditor``, else ``~/.cache/auditor`` (a relative XDG value is ignored, as
    the XDG specification says)."""
    base = os.environ.get("XDG_CACHE_HOME") or ""
    if base and os.path.isabs(base):
        return Path(base) / "auditor"
    return Path(os.path.expanduser("~")) / ".cache" / "auditor"


def cache_folder(configured: str | None, scan_root: Path) -> str | None:
    """The auditor's cache folder: ``<configured>/auditor`` when the user named a cache folder
    (Trivy's database lives in the folder itself), else the XDG default. ``None`` when it would lie
    inside the audited tree (auditing one's home directory) or is not absolute: the tree must never
    hold what the auditor trusts."""
    if configured:
        chosen = Path(os.path.expanduser(configured))
        if not chosen.is_absolute():
            return None
        folder = chosen / "auditor"
    else:
        folder = default_folder()
        if not folder.is_absolute():
            return None  # no home directory to keep a cache in
    if inside(folder, scan_root):
        return None
    return str(folder)


# ------------------------------------------------------------------ the folder and its key


def entry_path(folder: str, kind: str, key: str) -> str:
    """Where the entry ``key`` of ``kind`` lives: ``<folder>/<kind>/<first hex digit>/<key>``.
    Sixteen folders a kind, not 256: a cold run makes each folder it writes to (a ``mkdir`` and
    its checks, some 0.2 ms each on ext4), and a kind holds a few thousand entries, which one
    folder's hashed index finds as fast. (Strings, not pathlib: one per entry read.)"""
    return os.path.join(folder, kind, key[:1], key)


def _private_folder(path: Path | str) -> bool:
    """Create ``path`` (0700) if needed; True when it is a real folder (not a link) of ours that
    nobody else may write to: in a folder others can write, they could swap in links or files of
    their own. A folder of ours made with a loose umask (group-writable) is tightened first."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        info = os.lstat(path)
        if not stat.S_ISDIR(info.st_mode) or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
            return False
        if info.st_mode & 0o022:
            os.chmod(path, stat.S_IMODE(info.st_mode) & ~0o022)
            info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and not info.st_mode & 0o022


def _secret(folder: Path) -> bytes | None:
    """The per-user signing key (32 random bytes, mode 0600), created on first use. A key file that
    is not ours alone (another owner, readable by others, the wrong size) is replaced: what it
    signed is then no longer trusted."""
    path = folder / _KEY_FILE
    for _ in range(2):
        key = _read_private(path, 64)
        if key is not None and len(key) == 32:
            return key
        import secrets  # only to make the key (random, base64, hmac, tempfile, shutil: a few ms)
        import tempfile

        untrusted = os.path.lexists(path)
        try:
            descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".key-")
        except OSError:
            return None
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(secrets.token_bytes(32))
            if untrusted:
                os.replace(temporary, path)
            else:
                os.link(temporary, path)  # fails if another process made it first: then read theirs
        except FileExistsError:
            pass
        except OSError:
            return None
        finally:
            _unlink(temporary)
    return None


def _open_private(path: Path | str) -> tuple[int, os.stat_result] | None:
    """An open descriptor of a regular file of ours nobody else can read or write (never through
    a link, never blocking on a FIFO), and its ``fstat``; None otherwise."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        info = os.fstat(descriptor)
        if stat.S_ISREG(info.st_mode) and not info.st_mode & 0o077 \
                and not (hasattr(os, "getuid") and info.st_uid != os.getuid()):
            return descriptor, info
    except OSError:
        pass
    except BaseException:  # (Ctrl-C, SIGTERM's unwinding: the descriptor closed all the same)
        os.close(descriptor)
        raise
    os.close(descriptor)
    return None


def _read_private(path: Path | str, cap: int) -> bytes | None:
    """A regular file of ours nobody else can read or write, at most ``cap`` bytes; else None."""
    opened = _open_private(path)
    if opened is None:
        return None
    descriptor, info = opened
    try:
        if info.st_size > cap:
            return None
        chunks = []
        remaining = info.st_size + 1
        while remaining > 0:
            chunk = os.read(descriptor, min(remaining, _READ_BLOCK))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
        return data if len(data) <= cap else None  # (a file grown past the cap since its fstat)
    except OSError:
        return None
    finally:
        os.close(descriptor)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


class Store:
    """Signed entries under ``<folder>/<kind>/``: read verified; a new one written in place, an
    existing one replaced whole (``write``)."""

    __slots__ = ("folder", "secret", "private")

    def __init__(self, folder: str, secret: bytes) -> None:
        self.folder = folder
        self.secret = secret
        self.private: set[str] = set()  # folders this process found private (made 0700 by it or checked)

    def _mac(self, kind: str, key: str, payload: bytes | Sequence[Buffer]) -> bytes:
        """The entry's signature over its format, kind, key and ``payload`` (bytes, or parts of it
        in order: the same signature as over their concatenation, without making it)."""
        head = FORMAT + kind.encode() + b"\0" + key.encode() + b"\0"
        if kind in _STARTUP_KINDS:
            whole = payload if isinstance(payload, bytes) else b"".join(payload)
            return signature(self.secret, head + whole)
        import hashlib
        import hmac

        if isinstance(payload, bytes):
            return hmac.digest(self.secret, head + payload, "sha256")
        mac = hmac.new(self.secret, head, hashlib.sha256)
        for part in payload:
            mac.update(part)
        return mac.digest()

    def read(self, kind: str, key: str) -> bytes | None:
        where = entry_path(self.folder, kind, key)
        payload = self._verified(kind, key, _read_private(where, _ENTRY_CAP))
        if payload is not None:
            _refresh(where)
        return payload

    def _verified(self, kind: str, key: str, data: bytes | None) -> bytes | None:
        """The payload of an entry's bytes (format, signature, payload) when they are the entry
        ``key`` of ``kind`` signed under this store's key; else None."""
        if data is None or not data.startswith(FORMAT) or len(data) < len(FORMAT) + _MAC_SIZE:
            return None
        mac = data[len(FORMAT):len(FORMAT) + _MAC_SIZE]
        payload = data[len(FORMAT) + _MAC_SIZE:]
        if not compare_digest(mac, self._mac(kind, key, payload)):
            return None  # tampered, truncated, or signed under another key: never trusted
        return payload

    def has_pack(self, kind: str, name: str) -> bool:
        return is_pack_name(name) and os.path.isfile(os.path.join(self.folder, kind, _PACKS, name))

    def remove_pack(self, kind: str, name: str) -> None:
        """A pack no index names any more (a concurrent run reading it then finds a miss)."""
        if is_pack_name(name):
            _unlink(os.path.join(self.folder, kind, _PACKS, name))

    def pack(self, kind: str) -> Pack:
        """A new pack of ``kind``'s entries (``Pack``), its file made at its first entry."""
        return Pack(self, kind)

    def read_at(self, kind: str, key: str, location: Any) -> bytes | None:
        """The entry ``key`` of ``kind`` at ``location`` in a pack (``Pack.append``), verified as
        ``read`` verifies an entry of its own; None when it is not there, or not that entry."""
        data = self._pack_bytes(kind, location, None)
        return self._verified(kind, key, data)

    def read_prefix_at(self, kind: str, key: str, location: Any, size: int) -> bytes | None:
        """At most the first ``size`` bytes of the payload of the entry at ``location`` in a pack,
        NOT verified (the entry's own signature covers it whole): for a part the caller verifies
        under a signature of its own (a record's head). None when there is no entry of ours there."""
        data = self._pack_bytes(kind, location, len(FORMAT) + _MAC_SIZE + size)
        if data is None or not data.startswith(FORMAT) or len(data) < len(FORMAT) + _MAC_SIZE:
            return None
        return data[len(FORMAT) + _MAC_SIZE:]

    def _pack_bytes(self, kind: str, location: Any, limit: int | None) -> bytes | None:
        """The bytes of the entry at ``location`` ([pack name, offset, length]), at most ``limit``
        of them, from a pack file of ours nobody else can read or write; None otherwise."""
        if not (isinstance(location, list) and len(location) == 3 and is_pack_name(location[0])
                and type(location[1]) is int and type(location[2]) is int
                and location[1] >= 0 and len(FORMAT) + _MAC_SIZE <= location[2] <= _ENTRY_CAP):
            return None
        name, offset, length = location
        where = os.path.join(self.folder, kind, _PACKS, name)
        opened = _open_private(where)
        if opened is None:
            return None
        descriptor, info = opened
        try:
            if offset + length > info.st_size:
                return None
            wanted = length if limit is None else min(length, limit)
            data = os.pread(descriptor, wanted, offset)
        except OSError:
            return None
        finally:
            os.close(descriptor)
        if len(data) != wanted:
            return None
        _refresh(where)
        return data

    def sign(self, kind: str, key: str, payload: bytes) -> bytes:
        """The signature of ``payload`` as the entry ``key`` of ``kind`` (for a part of an entry
        that its reader verifies alone: ``read_prefix_at``)."""
        return self._mac(kind, key, payload)

    def write(self, kind: str, key: str, payload: bytes | Sequence[Buffer]) -> bool:
        """A new entry is created where it goes and written there: a reader that meets it half
        written (another run) sees a signature that does not match, a miss, as it would for a
        damaged entry. An existing one is replaced whole (a temporary file, then a rename), so
        what a reader finds there is always one entry or the other. ``payload``: its bytes, or
        their parts in order (written and signed as they are, never joined: a partition's outcome
        is tens of kilobytes). True when the entry is there now, whole."""
        if isinstance(payload, (bytearray, memoryview)):  # bytes-like but not bytes: one part
            payload = [payload]
        parent = os.path.dirname(entry_path(self.folder, kind, key))
        if parent not in self.private:  # a folder of the cache (ours, 0700) stays so during a run
            if not (_private_folder(os.path.join(self.folder, kind)) and _private_folder(parent)):
                return False
            self.private.add(parent)
        path = os.path.join(parent, key)
        parts = [FORMAT, self._mac(kind, key, payload), *((payload,) if isinstance(payload, bytes) else payload)]
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except FileExistsError:
            return self._replace(parent, path, parts)
        except OSError:
            return False
        try:
            created = os.fstat(descriptor)
        except OSError:
            os.close(descriptor)
            return False
        try:
            _write_all_and_close(descriptor, parts)
        except OSError:  # half written: never left to be read as a miss by every run, but only if
            try:         # the path still names this file (another run may have replaced it whole since)
                now = os.lstat(path)
            except OSError:
                return False
            if (now.st_dev, now.st_ino) == (created.st_dev, created.st_ino):
                _unlink(path)
            return False
        return True

    @staticmethod
    def _replace(parent: str, path: str, parts: list[Buffer]) -> bool:
        import tempfile

        try:
            descriptor, temporary = tempfile.mkstemp(dir=parent, prefix=".tmp-")
        except OSError:
            return False
        try:
            _write_all_and_close(descriptor, parts)
            os.replace(temporary, path)
        except OSError:
            _unlink(temporary)
            return False
        return True


_PACKS = "packs"  # a kind's folder of packs (Pack)
_PACK_NAME_SIZE = 32


def is_pack_name(name: Any) -> bool:
    """A pack's name as ``Pack`` makes them (lowercase hex): nothing else is ever opened as one."""
    return isinstance(name, str) and len(name) == _PACK_NAME_SIZE and all(c in "0123456789abcdef" for c in name)


class Pack:
    """Entries of one kind appended to one new file of their own, each located by ``[pack name,
    offset, length]``: a cold run keeps a record for each of a thousand partitions, and creating
    a file costs more than writing tens of kilobytes into one (0.1-1 ms on ext4, longer while the
    file system is busy). Each entry is signed as a store entry is (its format, kind and key), so
    read back by its location (``Store.read_at``) it is verified alone; a pack is never written
    again once closed, and a failed write ends it (the entries before stay good)."""

    __slots__ = ("store", "kind", "name", "descriptor", "size")

    def __init__(self, store: Store, kind: str) -> None:
        self.store = store
        self.kind = kind
        self.name = ""
        self.descriptor: int | None = None  # -1: ended by a failed write
        self.size = 0

    def append(self, key: str, payload: bytes | Sequence[Buffer]) -> list[Any] | None:
        """The entry ``key`` appended (``payload``: its bytes or their parts, as ``Store.write``
        takes them): where it is, or None when it could not be written."""
        if isinstance(payload, (bytearray, memoryview)):
            payload = [payload]
        if self.descriptor is None:
            self._open()
        if self.descriptor is None or self.descriptor < 0:
            return None
        parts = [FORMAT, self.store._mac(self.kind, key, payload),
                 *((payload,) if isinstance(payload, bytes) else payload)]
        length = sum(len(memoryview(part).cast("B")) for part in parts)
        try:
            _write_all(self.descriptor, parts)
        except OSError:
            self.close()
            self.descriptor = -1
            return None
        location = [self.name, self.size, length]
        self.size += length
        return location

    def _open(self) -> None:
        folder = os.path.join(self.store.folder, self.kind)
        packs = os.path.join(folder, _PACKS)
        if packs not in self.store.private:
            if not (_private_folder(folder) and _private_folder(packs)):
                self.descriptor = -1
                return
            self.store.private.add(packs)
        self.name = os.urandom(_PACK_NAME_SIZE // 2).hex()
        try:
            self.descriptor = os.open(os.path.join(packs, self.name),
                                      os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError:
            self.descriptor = -1

    def close(self) -> None:
        if self.descriptor is not None and self.descriptor >= 0:
            try:
                os.close(self.descriptor)
            except OSError:
                pass
            self.descriptor = -1


def _write_all_and_close(descriptor: int, parts: list[Buffer]) -> None:
    """``_write_all``, the descriptor closed whatever happens."""
    try:
        _write_all(descriptor, parts)
    finally:
        os.close(descriptor)


def _write_all(descriptor: int, parts: list[Buffer]) -> None:
    """Every byte of ``parts``, in order, to the open file (one ``writev`` where it takes them all)."""
    views = [memoryview(part).cast("B") for part in parts if len(part)]
    while views:
        written = os.writev(descriptor, views[:_IOV_MAX]) if hasattr(os, "writev") \
            else os.write(descriptor, views[0])
        if not written:
            raise OSError("no progress writing the cache entry")
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if written:
            views[0] = views[0][written:]


def _refresh(path: Path | str) -> None:
    """Mark an entry in use (its modification time), at most once a day: pruning keeps it."""
    try:
        if os.stat(path).st_mtime < time.time() - _DAY:
            os.utime(path)
    except OSError:
        pass


def _prune(folder: Path) -> None:
    """Once a day: remove entries unused for ``_UNUSED_DAYS`` days (each change of a project or of
    the auditor leaves one behind) and temporary files a killed run left."""
    marker = folder / "pruned"
    now = time.time()
    try:
        if now - os.stat(marker).st_mtime < _DAY:
            return
    except OSError:
        pass
    try:
        marker.touch(mode=0o600)
        os.utime(marker)
    except OSError:
        return
    for kind in ("results", "results-index", "programs", "digests", "catalog", "catalog-by-identity"):
        for current, _, names in os.walk(folder / kind):
            for name in names:
                path = os.path.join(current, name)
                try:
                    age = now - os.lstat(path).st_mtime
                except OSError:
                    continue
                if age > _UNUSED_DAYS * _DAY or (name.startswith(".tmp-") and age > 3600):
                    _unlink(path)


def open_store(folder: str | None) -> Store | None:
    """The store in ``folder`` (``None``: the cache is off), or None when the folder cannot be
    made private or its key cannot be read: the audit then runs without a cache."""
    if not folder:
        return None
    path = Path(folder)
    if not _private_folder(path):
        return None
    secret = _secret(path)
    if secret is None:
        return None
    _prune(path)
    return Store(folder, secret)




def inside(path: Path, root: Path) -> bool:
    """Whether ``path`` (as written, or where its symbolic links lead) is within ``root``."""
    real_root = os.path.realpath(root)
    for candidate in (os.path.abspath(path), os.path.realpath(path)):
        if os.path.commonpath([candidate, real_root]) == real_root or \
                os.path.commonpath([candidate, os.path.abspath(root)]) == os.path.abspath(root):
            return True
    return False


__all__ = ["FORMAT", "Pack", "Store", "cache_folder", "default_folder", "inside", "is_pack_name", "open_store"]
