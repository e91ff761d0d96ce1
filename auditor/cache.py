"""The incremental cache: a partition's parse-and-check outcome, kept in the user's cache folder.

A tree of independent projects (``auditor.parallel.partitions``) is audited project by project;
an unchanged project is not parsed or checked again on the next run. Each partition has one
record (``Entry``, signed under a name made of the scanned root and the partition's folder)
holding its files' digests and the outcome of its last audit under a key that covers everything
that outcome depends on (the outcome is used only when the key is the same now; another
configuration's replaces it). A process writes its records into one pack of its own
(``auditor.store.Pack``: one file, not one a partition), and the main process keeps an index of
the tree (where each partition's newest record is, signed) for the next run:

- the project's files: every file discovery saw in it, by relative path and SHA-256 of the bytes
  (never by name or timestamp alone: the tree chooses those), and what discovery noted about them;
- the auditor: its version, a digest of its code, rules and schemas, the Python version;
- the configuration: the effective parameters, severity and enablement of every selected rule,
  bounds, roles, Helm values and the architecture profile, plus the content of what the checks
  read outside the project (files at the tree's root, the architecture document, CI files);
- the helm and kubectl programs that render charts and overlays (path, size, modification time);
- the absolute root, since messages may name it.

What is kept is what the key covers: a partition's Dockerfiles, compose and YAML files are parsed
from the very bytes hashed for its key (up to a few megabytes), and an outcome is kept only when a
``stat`` after parsing finds every file as it was hashed (nginx and Next.js files, read by their
own parsers, may otherwise have been read after a change).

Only parse and check results are kept: the external scanners (Trivy, npm audit) always run, and
suppressions, the baseline and the changed-files filter are applied after, on every run. An entry
holds the outcome in the form the spool and the JSON report take it (``auditor.parallel.PartitionRows``:
findings and evidence as pickled rows, and their JSON text), uncompressed (some 70 KB a project),
so an unchanged project is copied as bytes; its text is used only where nothing suppresses,
compares or filters its findings. When a ``stat`` of every file shows every project of the tree is
kept (``ResultCache.kept_as_is``), the main process copies them without starting worker processes.

The folder comes from the user, never from the tree (``--cache-dir``, ``AUDITOR_CACHE_DIR``,
``scanners.cache_dir`` in the user's configuration, else ``$XDG_CACHE_HOME/auditor``); a folder
inside the audited tree is never used. Entries are written with mode 0600 in a 0700 folder (a new
one in place, an existing one replaced whole through a temporary file and ``os.replace``), and
signed (HMAC-SHA-256) under a per-user key kept in the folder; an entry that is corrupt,
truncated, from another format or signed for another key is ignored, never trusted and never a
crash. ``--no-cache`` (``AUDITOR_NO_CACHE=1``) turns it off.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import Any

from auditor.digests import SIGNATURE_SIZE, compare_digest
from auditor.store import FORMAT, Pack, Store, inside, is_pack_name, open_store

if TYPE_CHECKING:
    from auditor.catalog import Rule
    from auditor.config import Config
    from auditor.discovery import Discovered

_HASH_BLOCK = 1 << 20
_RACY_SECONDS = 2.0  # a file changed this recently may change again within the timestamp's grain
# Text in these kinds of file that climbs out of its folder may reach another project's files
# (an nginx include, a kustomize base, a chart dependency): such a project is never cached.
_REACHING_KINDS = ("nginx", "yaml", "compose")
# The kinds of file the parsers read through ``parsers.project.read_text``: their bytes, read to
# be hashed, are kept for it (up to _KEPT_BYTES a partition); nginx and Next.js files, and
# whatever else the partition holds (images, bundles), are hashed block by block, not kept.
_READ_AS_TEXT = ("dockerfiles", "compose", "yaml", "dockerignores")
_KEPT_BYTES = 8 * 1024 * 1024


# ------------------------------------------------------------------ digests


def file_digest(path: Path | str, cap: int | None = None, reaching: bool = False) -> str | None:
    """SHA-256 of a regular file's bytes (never blocks on a FIFO); None if it cannot be read, or,
    with ``reaching``, if its text climbs out of its folder (``../``). A file over ``cap`` bytes is
    never read by the parsers (discovery and includes stop at the size cap): it is known by its
    size, inode and modification and change times instead, so a huge or sparse file in a hostile
    tree costs a ``stat``, not a read of every byte."""
    return _digest_and_identity(path, cap, reaching)[0]


def _digest_and_identity(path: Path | str, cap: int | None = None, reaching: bool = False,
                         keep: dict[str, bytes] | None = None, keep_as: str = ""
                         ) -> tuple[str | None, os.stat_result | None]:
    """``file_digest``, and the file's ``fstat`` as it was opened (None when it could not be opened).
    ``keep``: the bytes hashed are put there too, as ``keep_as`` (the parsers then read them, not
    the file again: what is parsed is what the key covers)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None, None
    info = None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            return None, info
        if cap is not None and info.st_size > cap:
            return (f"over the cap: {info.st_size} {info.st_dev} {info.st_ino} {info.st_mtime_ns} "
                    f"{info.st_ctime_ns}", info)
        digest = hashlib.sha256()
        tail = b""
        blocks: list[bytes] = []
        # the size and one byte more first: a small file (all of a project's) in one read
        size = info.st_size + 1 if info.st_size < _HASH_BLOCK else _HASH_BLOCK
        while True:
            block = os.read(descriptor, size)
            if not block:
                if keep is not None:
                    keep[keep_as] = blocks[0] if len(blocks) == 1 else b"".join(blocks)
                return digest.hexdigest(), info
            if reaching and (b"../" in tail + block or b"..\\" in tail + block):
                return None, info
            tail = block[-2:]
            digest.update(block)
            if keep is not None:
                blocks.append(block)
            size = _HASH_BLOCK
    except OSError:
        return None, info
    finally:
        os.close(descriptor)


_CODE_DIGEST: list[str] = []


def code_digest() -> str:
    """The auditor's code, rules and schemas (once per process): a changed check, parser or rule
    file changes every key."""
    if not _CODE_DIGEST:
        from auditor import __version__
        from auditor.catalog import PACKAGE_DIR, rules_dir

        digest = hashlib.sha256(f"{__version__}\0{sys.version}\0".encode())
        folders = [PACKAGE_DIR, rules_dir()]
        for folder in folders:
            for path in sorted(_code_files(folder)):
                digest.update(os.path.relpath(path, folder).encode() + b"\0")
                digest.update((file_digest(path) or "unreadable").encode() + b"\0")
        digest.update("\0".join(_installed_distributions()).encode("utf-8", "surrogateescape"))
        _CODE_DIGEST.append(digest.hexdigest())
    return _CODE_DIGEST[0]


def _installed_distributions() -> list[str]:
    """Every installed distribution with its version (the ``*.dist-info`` folder names): a new
    PyYAML, crossplane or tree-sitter may parse differently. One listing per import folder, far
    cheaper than asking importlib.metadata for each."""
    names: list[str] = []
    for entry in sys.path:
        if not entry.endswith(("site-packages", "dist-packages")):
            continue
        try:
            names.extend(f"{entry}/{name}" for name in os.listdir(entry) if name.endswith((".dist-info", ".egg-info")))
        except OSError:
            continue
    return sorted(names)


def _code_files(folder: Path) -> Iterable[str]:
    for current, folders, files in os.walk(folder):
        folders[:] = [name for name in folders if name != "__pycache__"]
        for name in files:
            if name.endswith((".py", ".yaml", ".json", ".j2", ".html", ".md")):
                yield os.path.join(current, name)


def _program_identity(name: str) -> str:
    from auditor.programs import find_program

    found = find_program(name)
    if not found:
        return f"{name}: none"
    try:
        info = os.stat(found)
    except OSError:
        return f"{name}: {found} unreadable"
    return f"{name}: {os.path.realpath(found)} {info.st_size} {info.st_mtime_ns}"


def _settings_digest(config: Config, rules: Mapping[str, Rule]) -> dict[str, Any]:
    """What of the configuration reaches parsing and checking (machinery that does not, such as
    worker count and scanner programs, is left out; suppressions are applied after, but are kept
    in so a reader never wonders)."""
    from dataclasses import fields

    settings = {item.name: getattr(config, item.name) for item in fields(config)
                if item.name not in ("jobs", "scanners", "cache_folder", "tree_settings", "trusted_keys")}
    settings["rules_in_force"] = {rule_id: [config.enabled(rule), config.severity_for(rule),
                                            config.parameters_for(rule)] for rule_id, rule in rules.items()}
    return settings


class ResultCache:
    """Lookups and stores of partition outcomes for one run (picklable: it goes to the workers)."""

    __slots__ = ("store", "run_key", "cap", "index", "written", "pack", "taken")

    def __init__(self, store: Store, run_key: str, cap: int, index: dict[str, list[Any]] | None = None) -> None:
        self.store = store
        self.run_key = run_key
        self.cap = cap  # the size cap: a bigger file is never read, nor hashed
        self.index = index or {}  # partition (its folder and "/") -> where its record is (Store.read_at)
        self.written: dict[str, list[Any]] = {}  # the records this process wrote, where they are
        self.pack: Pack | None = None  # where this process writes them, made at the first
        self.taken: dict[str, list[Any]] = {}  # every record this process wrote (take_written)

    def __getstate__(self) -> tuple[Store, str, int, dict[str, list[Any]]]:
        return self.store, self.run_key, self.cap, self.index  # a worker writes packs of its own

    def __setstate__(self, state: tuple[Store, str, int, dict[str, list[Any]]]) -> None:
        self.__init__(*state)  # type: ignore[misc]

    def record(self, scope: str, name: str, parts: list[bytes | memoryview]) -> None:
        """The partition's record written (to this process's pack) and its place noted."""
        if self.pack is None:
            self.pack = self.store.pack("results")
        location = self.pack.append(name, parts)
        if location is not None:
            self.written[scope] = location

    def take_written(self) -> dict[str, list[Any]]:
        """Where the records written since the last call are (their pack closed): a chunk's
        summary takes them to the main process, which saves the run's index (``save_index``).
        Also kept in ``taken``: a run stopped part way (Ctrl-C, an error) indexes what this
        process wrote before it stopped."""
        if self.pack is not None:
            self.pack.close()
            self.pack = None
        written, self.written = self.written, {}
        self.taken.update(written)
        return written

    def save_index(self, root: Path, written: Mapping[str, list[Any]]) -> None:
        """The index of the tree's records, for the next run: the one this run started from with
        the records it ``written`` in their partitions' places. Partitions this run did not look
        at keep theirs (a pre-commit run reads only the projects of the files it is given); a
        record whose pack is gone (pruned) is dropped. Written only when it changed, whole
        (another run's, meanwhile, is replaced); the packs the index named before and names no
        more are removed: a run that rewrites every record (another configuration, a changed
        file every project's checks read) leaves no copy of the old ones behind."""
        before = {location[0] for location in self.index.values()}
        gone = {name for name in before if not self.store.has_pack("results", name)}  # pruned since
        index = {scope: location for scope, location in {**self.index, **written}.items() if location[0] not in gone}
        if index == self.index:
            return
        if not self.store.write("results-index", index_name(root), json.dumps(
                index, separators=(",", ":")).encode("utf-8", "surrogateescape")):
            return  # (a full disk: the index on disk still names the old packs, which are kept)
        for name in before - {location[0] for location in index.values()} - gone:
            self.store.remove_pack("results", name)
        self.index = index

    def key_for(self, part: Discovered, known: _KnownDigests | None = None) -> str | None:
        """The partition's key, or None when it must not be cached (a file that cannot be read,
        is not a regular file, or an nginx/YAML file that climbs out of its folder)."""
        digest = hashlib.sha256(self.run_key.encode() + b"\0")
        reaching = {path for kind in _REACHING_KINDS for path in getattr(part, kind)}
        as_text = {path for kind in _READ_AS_TEXT for path in getattr(part, kind)}
        root = str(part.root)
        for relative in sorted(set(part.files)):
            full = f"{root}/{relative}"
            data_digest = known.digest(full, self.cap, relative in reaching, relative if relative in as_text else "") \
                if known is not None else file_digest(full, self.cap, relative in reaching)
            if data_digest is None:
                return None
            digest.update(f"{len(relative)}:{relative}\0{data_digest}\0".encode("utf-8", "surrogateescape"))
        listing = {kind: sorted(getattr(part, kind)) for kind in
                   ("dockerfiles", "compose", "yaml", "nginx", "dockerignores", "next_files")}
        listing["notes"] = sorted(repr((note.span, note.message)) for note in part.notes)
        listing["too_large"] = sorted(part.too_large)
        digest.update(json.dumps(listing, sort_keys=True).encode("utf-8", "surrogateescape"))
        return digest.hexdigest()

    def lookup(self, part: Discovered, scope: str, key: str | None | bool = False) -> Entry:
        """The partition's record (``Entry``), read where the partition is audited (a worker
        process), and its key: computed here (``key`` False), its files known by their identity
        where they were hashed before (a ``stat``, not a read), or the one the main process
        computed for a tree it found all kept (``kept_as_is``)."""
        entry = Entry(self, part, scope)
        if key is False:
            entry.key = self.key_for(part, entry.known)
            entry.hashed = True
        elif isinstance(key, str):
            entry.key = key
        return entry

    def kept_as_is(self, part: Discovered, scope: str) -> str | None:
        """The partition's key when every one of its files is as it was when last hashed (its
        identity matches the partition's record: a ``stat`` each, nothing read) and an outcome is
        kept under it; else None. The main process asks this to know, before starting any worker,
        whether the whole tree can come from the cache."""
        entry = Entry(self, part, scope, recorded_only=True)
        if entry.stored is None:  # (a record holds an outcome exactly when it holds its key)
            return None
        key = self.key_for(part, entry.known)
        return key if key is not None and key == entry.stored else None


class Entry:
    """A partition's record in the cache: each of its files' digest by the file's identity
    (``_KnownDigests``), and the outcome of its last audit with the key it was made under. One
    signed entry a partition, named after the scanned root and the partition's folder (``scope``),
    found where the tree's index says (``ResultCache.index``), written to the process's pack
    (``ResultCache.record``), so the files' digests and the outcome are read and written together.
    An outcome is used only where its key is the partition's key now."""

    __slots__ = ("cache", "scope", "name", "known", "stored", "body", "key", "hashed")

    def __init__(self, cache: ResultCache, part: Discovered, scope: str, recorded_only: bool = False) -> None:
        self.cache = cache
        self.scope = scope
        self.name = record_name(part.root, scope)
        self.stored: str | None = None  # the key the kept outcome was made under
        self.body = b""  # the kept outcome, pickled
        self.key: str | None = None  # the partition's key now (None: it must not be cached)
        self.hashed = False  # whether the key was computed here (else the files' digests were not looked at)
        files: dict[str, list[Any]] = {}
        location = cache.index.get(scope)
        if location is None:
            pass  # never kept (or not in the index the run started with)
        elif recorded_only:  # the head alone (digests and key), under its own signature: the
            head = _read_head(cache.store, self.name, location)  # outcome is read, whole, where it is used
            if head is not None:
                files, self.stored = head
        else:
            payload = cache.store.read_at("results", self.name, location)
            if payload is not None:
                parsed = parse_record(payload)
                if parsed is not None:
                    files, self.stored, self.body = parsed
        self.known = _KnownDigests(cache.store, part.root, scope, recorded_only, files)

    def outcome(self) -> Any:
        """The kept outcome when it was made under the partition's key, else None (missing,
        corrupt, foreign or tampered records were never read: ``Store.read``)."""
        if self.key is None or self.key != self.stored or not self.body:
            return None
        import pickle

        try:
            # the signature proves this user's auditor wrote these bytes for this partition and key
            return pickle.loads(self.body)
        except Exception:  # noqa: BLE001 - a signed but undecodable entry: a miss, never a crash
            return None

    def refresh(self) -> None:
        """A kept outcome used: the record written again only when a file's identity changed
        (touched, copied back) while its digest did not."""
        if self.hashed and (self.known.changed or len(self.known.seen) != len(self.known.known)):
            self._write(self.stored, self.body)

    def keep(self, outcome: Any) -> None:
        """The partition's new outcome kept under its key with its files' digests (``outcome``
        None, or a partition that must not be cached: the digests alone, when they changed).
        Kept uncompressed: an outcome is mostly its findings and evidence as spool frames and JSON
        text (``auditor.parallel.PartitionRows``), copied as they are on the next run, where
        inflating them would cost more than the whole copy (a few tens of kilobytes a project)."""
        if outcome is not None and self.key is not None:
            import io

            buffer = io.BytesIO()
            try:
                fast_pickler(buffer).dump(outcome)
            except Exception:  # noqa: BLE001 - an outcome that cannot be pickled is simply not kept
                pass
            else:
                with buffer.getbuffer() as body:  # written as it is, not copied
                    self._write(self.key, body)
                return
        if self.hashed and (self.known.changed or len(self.known.seen) != len(self.known.known)) \
                or self.stored is not None:
            self._write(None, b"")

    def _write(self, key: str | None, body: bytes | memoryview) -> None:
        self.cache.record(self.scope, self.name, record_parts(self.cache.store, self.name, key,
                                                                  self.known.seen, body))


def index_name(root: Path) -> str:
    """The name of the index of the tree ``root``'s records (``ResultCache.save_index``)."""
    return hashlib.sha256(f"{FORMAT.decode()}\0index\0{root}".encode("utf-8", "surrogateescape")).hexdigest()


def _read_index(store: Store, root: Path) -> dict[str, list[Any]]:
    """The index the last run of ``root`` saved (empty when there is none, or it is not ours)."""
    payload = store.read("results-index", index_name(root))
    if payload is None:
        return {}
    try:
        index = json.loads(payload)
    except ValueError:
        return {}
    if not isinstance(index, dict):
        return {}
    # (signed, so written by this user's auditor; a place that is not one is dropped all the same)
    return {scope: location for scope, location in index.items()
            if isinstance(scope, str) and isinstance(location, list) and len(location) == 3
            and is_pack_name(location[0])}


def record_name(root: Path, scope: str) -> str:
    """The name of the record of the partition ``scope`` (its folder and "/") of the tree ``root``."""
    return hashlib.sha256(f"{FORMAT.decode()}\0partition\0{root}\0{scope}".encode(
        "utf-8", "surrogateescape")).hexdigest()


_HEAD_KIND = "results-head"  # what a record's head is signed as (never taken for a whole entry)
_HEAD_READ = 16 * 1024  # bytes read first for a record's head (eight files' digests: 1.7 KB)


def record_parts(store: Store, name: str, key: str | None, files: dict[str, list[Any]], body: bytes | memoryview
                 ) -> list[bytes | memoryview]:
    """The record ``name``: the length of its head (4 bytes), the head (its files' digests and the
    key of its outcome, as JSON), the head's own signature, then the pickled outcome; as parts, in
    order. The whole is signed as every entry is (``Store.write``); the head's signature lets the
    main process read the head alone (``_read_head``: whether a whole tree is kept), not the
    tens of kilobytes of outcome it then reads again where it is used."""
    head = json.dumps({"key": key, "files": files}, separators=(",", ":")).encode("utf-8", "surrogateescape")
    return [len(head).to_bytes(4, "big"), head, store.sign(_HEAD_KIND, name, head), body]


def parse_record(payload: bytes) -> tuple[dict[str, list[Any]], str | None, bytes] | None:
    """A record's digests, key and pickled outcome (``record_parts``; its whole was verified
    by ``Store.read``); None when it is not one."""
    parsed = _parse_head(payload)
    if parsed is None:
        return None
    files, key, end = parsed
    return files, key, payload[end + SIGNATURE_SIZE:]


def _parse_head(payload: bytes) -> tuple[dict[str, list[Any]], str | None, int] | None:
    """A record's digests and key, and where its head ends; None when it is not one."""
    size = int.from_bytes(payload[:4], "big")
    if len(payload) < 4 + size + SIGNATURE_SIZE:
        return None
    try:
        head = json.loads(payload[4:4 + size])
    except ValueError:
        return None
    if not isinstance(head, dict):
        return None
    files, key = head.get("files"), head.get("key")
    if not isinstance(files, dict) or not (key is None or isinstance(key, str)):
        return None
    return files, key, 4 + size


def _read_head(store: Store, name: str, location: list[Any]) -> tuple[dict[str, list[Any]], str | None] | None:
    """The record's digests and key, read alone and verified under the head's own signature
    (None: missing, not a record, tampered, or signed under another key)."""
    prefix = store.read_prefix_at("results", name, location, _HEAD_READ)
    if prefix is not None and len(prefix) >= 4:
        needed = 4 + int.from_bytes(prefix[:4], "big") + SIGNATURE_SIZE
        if len(prefix) < needed and needed <= _HEAD_CAP:  # a partition of many files: the rest of its head
            prefix = store.read_prefix_at("results", name, location, needed)
    if prefix is None or len(prefix) < 4:
        return None
    end = 4 + int.from_bytes(prefix[:4], "big")
    # verified before it is parsed: nothing of an entry is read as data until its signature holds
    if len(prefix) < end + SIGNATURE_SIZE or not compare_digest(
            prefix[end:end + SIGNATURE_SIZE], store.sign(_HEAD_KIND, name, prefix[4:end])):
        return None
    parsed = _parse_head(prefix)
    return None if parsed is None else parsed[:2]


_HEAD_CAP = 64 * 1024 * 1024  # bytes; a head is kilobytes (the digests of a partition's files)


_POSITIONAL: dict[type, tuple[str, ...] | None] = {}


class _KnownDigests:
    """The SHA-256 of each file of the tree as last seen, by its identity (device, inode, size,
    modification and change time), so an unchanged file costs a ``stat``, not a read: git's index
    does the same. The change time is set by the kernel on every write, rename or ``utime`` and no
    user can set it back, so a file of a hostile tree cannot keep an identity while its bytes
    change. A file changed in the last moments is not recorded (its times may not yet tell the
    next change apart: git's "racy" entries). Kept, signed, per scanned root and partition: in the
    partition's record (``Entry``), so each is read where its partition is; the root's own files'
    (``scope`` "") in a record of their own."""

    __slots__ = ("store", "key", "known", "seen", "changed", "now", "recorded_only", "contents", "kept_bytes",
                 "identities")

    def __init__(self, store: Store, root: Path, scope: str = "", recorded_only: bool = False,
                 known: dict[str, list[Any]] | None = None) -> None:
        """``known``: the record as a partition's ``Entry`` holds it; else read from (and saved
        to) a record of its own."""
        self.store = store
        self.recorded_only = recorded_only  # a file not recorded as it is: None, never read
        self.key = hashlib.sha256(f"{FORMAT.decode()}\0digests\0{root}\0{scope}".encode(
            "utf-8", "surrogateescape")).hexdigest()
        self.known: dict[str, list[Any]] = known if known is not None else {}
        self.seen: dict[str, list[Any]] = {}
        self.contents: dict[str, bytes] = {}  # the partition's files read to be hashed, by relative path
        self.kept_bytes = 0
        self.identities: dict[str, tuple[int, ...]] = {}  # path -> the identity its digest stands for
        self.changed = False
        self.now = time.time()
        payload = store.read("digests", self.key) if known is None else None
        if payload is not None:
            try:
                loaded = json.loads(payload)
                self.known = loaded if isinstance(loaded, dict) else {}
            except ValueError:
                self.known = {}

    def digest(self, path: str, cap: int, reaching: bool, relative: str = "") -> str | None:
        """``relative``: a file of the partition, whose bytes, when read here, are kept for the
        parsers (``contents``)."""
        record = self.known.get(path)
        keep = self.contents if relative and self.kept_bytes < _KEPT_BYTES else None
        if record is None and not self.recorded_only:  # never seen: its identity from the open file
            digest, info = _digest_and_identity(path, cap, reaching, keep, relative)
            if info is not None:
                self._seen(path, info, digest, reaching)
                self._used(path, info, keep, relative)
            return digest
        try:
            info = os.stat(path)
        except OSError:
            return None
        identity = [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]
        if isinstance(record, list) and len(record) == 3 and record[0] == identity and (record[2] or not reaching) \
                and isinstance(record[1], str):
            self.seen[path] = record
            self._used(path, info, None, "")
            return record[1]
        if self.recorded_only:
            return None
        digest = _digest_and_identity(path, cap, reaching, keep, relative)[0]
        self._seen(path, info, digest, reaching)
        self._used(path, info, keep, relative)
        return digest

    def _used(self, path: str, info: os.stat_result, keep: dict[str, bytes] | None, relative: str) -> None:
        """The identity the file's digest stands for in the key (``unchanged``), and the bytes kept."""
        self.identities[path] = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
        if keep is not None:
            self.kept_bytes += len(keep.get(relative, b""))

    def unchanged(self) -> bool:
        """Whether every file whose digest went into the key is still as it was then (a ``stat``
        each): parsers that read a file themselves (nginx, Next.js, helm), or a file known by its
        identity and not read to be hashed, may have read other bytes than the key covers if it
        changed since; the outcome is then not kept under that key."""
        for path, identity in self.identities.items():
            try:
                info = os.stat(path)
            except OSError:
                return False
            if (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns) != identity:
                return False
        return True

    def _seen(self, path: str, info: os.stat_result, digest: str | None, reaching: bool) -> None:
        """The file's digest recorded by its identity, unless it changed in the last moments."""
        if digest is not None and self.now - max(info.st_mtime_ns, info.st_ctime_ns) / 1e9 > _RACY_SECONDS:
            self.seen[path] = [[info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns],
                               digest, reaching]
            self.changed = True

    def save(self) -> None:
        if self.changed or len(self.seen) != len(self.known):
            self.store.write("digests", self.key, json.dumps(self.seen, separators=(",", ":")).encode(
                "utf-8", "surrogateescape"))


def _positional_fields(kind: type) -> tuple[str, ...] | None:
    """How to rebuild an object of ``kind`` fast: pickle's default for a slotted dataclass runs
    ``__setstate__`` in Python (25 us an object: 3 s for 1,000 projects' findings) and a NamedTuple
    its generated ``__new__``. The fields, to call the dataclass with in order; ``()`` for a plain
    NamedTuple (``tuple.__new__`` takes it whole); None for anything else, or a class whose
    constructor would not give the same object back (``__post_init__``, a custom ``__init__``)."""
    import collections
    import dataclasses

    if kind.__dict__.get("__reduce__") or kind.__dict__.get("__reduce_ex__"):
        return None
    if issubclass(kind, tuple):
        plain = getattr(collections.namedtuple("Probe", ""), "__getnewargs__").__code__
        newargs = getattr(kind, "__getnewargs__", None)
        return () if kind.__dictoffset__ == 0 and getattr(newargs, "__code__", None) is plain else None
    if not dataclasses.is_dataclass(kind) or hasattr(kind, "__post_init__"):
        return None
    params = getattr(kind, "__dataclass_params__", None)
    declared = dataclasses.fields(kind)
    if not getattr(params, "init", False) or not all(item.init for item in declared):
        return None
    return tuple(item.name for item in declared)


_PICKLER: list[type] = []


def fast_pickler(buffer: Any) -> Any:
    """A pickler into ``buffer`` that rebuilds records fast (``_positional_fields``); its class
    made once per process."""
    import pickle

    if not _PICKLER:
        class Pickler(pickle.Pickler):
            def reducer_override(self, obj: Any) -> Any:
                kind = type(obj)
                if kind not in _POSITIONAL:
                    _POSITIONAL[kind] = _positional_fields(kind)
                names = _POSITIONAL[kind]
                if names is None:
                    return NotImplemented
                if not names:  # a NamedTuple: built by tuple.__new__ in C, not its generated __new__
                    return tuple.__new__, (kind, tuple(obj))
                return kind, tuple(getattr(obj, name) for name in names)

        _PICKLER.append(Pickler)
    return _PICKLER[0](buffer, protocol=pickle.HIGHEST_PROTOCOL)


def _outside_digest(found: Discovered, groups: list[list[str]], config: Config,
                    known: _KnownDigests | None = None) -> str | None:
    """The files the checks of every partition may read besides their own: whatever discovery saw
    outside the partitions (the root's files), the architecture document, Helm values files, and
    the CI files and conventional documents at the root (the AR checks read them even where
    discovery does not go). None when that cannot be known cheaply and safely: no cache this run."""
    from auditor.checks.architecture._document import CI_FILES, CI_FOLDERS, CONVENTIONAL

    root = found.root
    covered = {folder for group in groups for folder in group}
    paths = {path for path in found.files if not _under_any(path, covered)}
    paths.update(CONVENTIONAL)
    paths.update(CI_FILES)
    for folder in CI_FOLDERS:
        walked = _walk_inside(root, folder, _OUTSIDE_FILES_CAP - len(paths))
        if walked is None:
            return None
        paths.update(walked)
    document = (config.architecture or {}).get("document")
    trusted = str(document) if document and config.architecture.get("_trusted") else None
    if document:
        paths.add(str(document))
    paths.update(str(value) for value in (config.helm or {}).get("values", []))
    digest = hashlib.sha256()
    for relative in sorted(paths):
        full = Path(relative) if os.path.isabs(relative) else root / relative
        if not os.path.lexists(full):
            state = "absent"
        elif relative != trusted and not inside(Path(os.path.realpath(full)), root):
            state = "outside the tree"  # never read by the checks: they stay in the tree
        elif os.path.isdir(full):
            state = "a folder"
        else:
            state = (known.digest(str(full), config.max_file_size, False) if known is not None
                     else file_digest(full, config.max_file_size)) or ""
            if not state:
                return None  # unreadable, or not a regular file: unknown input, no caching this run
        digest.update(f"{relative}\0{state}\0".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def _under_any(path: str, folders: set[str]) -> bool:
    """Whether ``path`` lies under one of ``folders`` (a set lookup per folder above it: a tree of
    1,000 partitions made ``str.startswith`` with a 1,000-prefix tuple cost 14 ms a run)."""
    end = path.find("/")
    while end != -1:
        if path[:end] in folders:
            return True
        end = path.find("/", end + 1)
    return False


_OUTSIDE_FILES_CAP = 20_000  # files outside the partitions; beyond, the run goes without a cache


def _walk_inside(root: Path, folder: str, budget: int) -> list[str] | None:
    """The files under ``root/folder`` as paths to hash, never outside the tree (a hostile
    ``scripts -> /`` would have the whole disk hashed; the AR checks do not read there either);
    None when over ``budget``."""
    top = os.path.realpath(root / folder)
    if not inside(Path(top), root) or not os.path.isdir(top):
        return []
    found: list[str] = []
    for current, folders, files in os.walk(top):
        folders.sort()
        found.extend(os.path.relpath(os.path.join(current, name), root) for name in files)
        if len(found) > budget:
            return None
    return found


def open_results(config: Config, rules: Mapping[str, Rule], found: Discovered,
                 groups: list[list[str]]) -> ResultCache | None:
    """The cache for this run, or None when it is off or cannot be used safely."""
    store = open_store(config.cache_folder)
    if store is None:
        return None
    known = _KnownDigests(store, found.root)  # unchanged files at the root cost a stat, not a read
    outside = _outside_digest(found, groups, config, known)
    if outside is None:
        return None
    known.save()
    run = {"format": FORMAT.decode(), "code": code_digest(), "root": str(found.root),
           "settings": _settings_digest(config, rules), "outside": outside,
           "programs": [_program_identity("helm"), _program_identity("kubectl")]}
    run_key = hashlib.sha256(json.dumps(run, sort_keys=True, default=_canonical).encode("utf-8", "surrogateescape"))
    return ResultCache(store, run_key.hexdigest(), config.max_file_size, _read_index(store, found.root))


def _canonical(value: Any) -> Any:
    """JSON for what json does not know; a set in a stable order (string hashing varies by process)."""
    if isinstance(value, (set, frozenset)):
        return sorted(repr(item) for item in value)
    return repr(value)


def worth_keeping(outcome: Any) -> bool:
    """An outcome with a file not checked (a parse timeout, an unreadable file, a chart helm could
    not render) depends on more than the files: it is not kept, so the next run tries again. Nor is
    one that read a file its key does not cover (discovery does not follow a symlinked folder; an
    nginx include does, into another project's files; helm and kubectl read their folders
    themselves, git-ignored and symlinked ones included)."""
    from auditor.model.span import NotChecked

    if getattr(outcome, "read_unlisted", ()):
        return False
    if any(isinstance(problem, NotChecked) for problem in getattr(outcome, "problems", ())):
        return False
    return not any(finding.rule_id in ("AUD003", "AUD004") for finding in getattr(outcome, "findings", ()))


# ------------------------------------------------------------------ program digests


def program_digest(path: Path, folder: str | None) -> str | None:
    """SHA-256 of a program (Trivy is 174 MB: 0.3 s a run), kept by (path, device, inode, size,
    modification and change time): any write to the file changes its change time, which no user
    can set back. A file changed in the last moments is hashed but not kept (its timestamps may
    not yet tell the next change apart)."""
    store = open_store(folder)
    try:
        before = os.stat(path)
    except OSError:
        return None
    identity = f"{os.path.realpath(path)}\0{before.st_dev}\0{before.st_ino}\0{before.st_size}\0" \
               f"{before.st_mtime_ns}\0{before.st_ctime_ns}"
    key = hashlib.sha256(identity.encode("utf-8", "surrogateescape")).hexdigest()
    if store is not None:
        kept = store.read("programs", key)
        if kept is not None and len(kept) == 64:
            return kept.decode("ascii", "replace")
    digest = file_digest(path)
    if digest is None or store is None:
        return digest
    try:
        after = os.stat(path)
    except OSError:
        return digest
    same = (after.st_ino, after.st_size, after.st_mtime_ns, after.st_ctime_ns) == \
           (before.st_ino, before.st_size, before.st_mtime_ns, before.st_ctime_ns)
    if same and time.time() - after.st_ctime_ns / 1e9 > _RACY_SECONDS:
        store.write("programs", key, digest.encode("ascii"))
    return digest


__all__ = ["Entry", "ResultCache", "code_digest", "fast_pickler", "file_digest", "open_results",
           "open_store", "program_digest", "worth_keeping"]
