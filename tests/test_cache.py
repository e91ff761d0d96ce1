"""The incremental cache (auditor/cache.py): an unchanged project is not parsed or checked again,
any change of content, configuration or auditor is a miss, a cached run gives the very report a
fresh run gives, and neither a damaged entry nor the audited tree can make it trust anything.

Hits and misses are observed by counting the real parse-and-check calls of a serial run
(``--jobs 1``: in this process); nothing is mocked. Every test has its own cache folder."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import auditor
import auditor.cache as cache
import auditor.parallel as parallel
from auditor.cli import main
from auditor.store import entry_path

ROOT_USER = 'FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nUSER root\nCMD ["node", "server.js"]\n'
NON_ROOT = ROOT_USER.replace("USER root", "USER 1001")
COMPOSE = "services:\n  web:\n    build: .\n    ports:\n      - \"3000:3000\"\n"
PROJECTS = ("alpha", "bravo", "charlie")


def make_tree(root: Path) -> Path:
    """Three independent projects (a Dockerfile and a compose file each): three partitions."""
    for name in PROJECTS:
        (root / name).mkdir(parents=True)
        (root / name / "Dockerfile").write_text(ROOT_USER if name == "alpha" else NON_ROOT, encoding="utf-8")
        (root / name / "docker-compose.yml").write_text(COMPOSE, encoding="utf-8")
    return root


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "tree")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache home of this test's own (the XDG default the auditor then uses)."""
    folder = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    monkeypatch.delenv("AUDITOR_CACHE_DIR", raising=False)
    monkeypatch.delenv("AUDITOR_NO_CACHE", raising=False)
    return folder


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The folder of every partition really parsed and checked (the real function, observed)."""
    seen: list[str] = []
    real = parallel._parse_and_check

    def counting(found, rule_ids, config, *contents):  # type: ignore[no-untyped-def]
        seen.append(sorted(found.files)[0].split("/")[0])
        return real(found, rule_ids, config, *contents)

    monkeypatch.setattr(parallel, "_parse_and_check", counting)
    yield seen


def scan_json(tree: Path | list[str], tmp_path: Path, *extra: str) -> str:
    output = tmp_path / "report.json"
    paths = [str(tree)] if isinstance(tree, Path) else tree
    code = main(["scan", *paths, "--no-external", "--jobs", "1", "--fail-on", "none", "--quiet",
                 "--format", f"json:{output}", *extra])
    assert code == 0
    return output.read_text(encoding="utf-8")


class Kept:
    """A partition's record in the cache: where the index says it is (a pack and a place in it)."""

    def __init__(self, scope: str, pack: Path, offset: int, length: int) -> None:
        self.scope, self.pack, self.offset, self.length = scope, pack, offset, length
        self.name = pack.name  # (a name in the cache folder)

    def read_bytes(self) -> bytes:
        with open(self.pack, "rb") as handle:
            handle.seek(self.offset)
            return handle.read(self.length)

    def write_bytes(self, data: bytes) -> None:
        """The record's bytes replaced in its pack (what follows it moves when the length differs)."""
        whole = self.pack.read_bytes()
        self.pack.write_bytes(whole[:self.offset] + data + whole[self.offset + self.length:])


def entries(home: Path) -> list[Kept]:
    """The partitions' records the cache's indexes name, last in the pack first (so that changing
    one's length leaves the places of the others as they are)."""
    found = []
    for index in sorted((home / "auditor" / "results-index").rglob("*")):
        if not index.is_file():
            continue
        located = json.loads(index.read_bytes()[len(cache.FORMAT) + 32:])
        for scope, (pack, offset, length) in located.items():
            found.append(Kept(scope, home / "auditor" / "results" / "packs" / pack, offset, length))
    return sorted(found, key=lambda kept: (str(kept.pack), -kept.offset))


def packs(home: Path) -> list[Path]:
    return sorted(p for p in (home / "auditor" / "results").rglob("*") if p.is_file())


def files_hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the cache reads to hash from now on (the real reader behind ``file_digest``, which
    a file never seen before is hashed by directly, observed)."""
    reads: list[str] = []
    real = cache._digest_and_identity

    def counting(path, cap=None, reaching=False, keep=None, keep_as=""):  # type: ignore[no-untyped-def]
        reads.append(str(path))
        return real(path, cap, reaching, keep, keep_as)

    monkeypatch.setattr(cache, "_digest_and_identity", counting)
    return reads


# --- hits and misses ----------------------------------------------------------------------------


def test_a_second_scan_parses_nothing_and_reports_the_same(tree: Path, home: Path, parsed: list[str],
                                                           tmp_path: Path) -> None:
    first = scan_json(tree, tmp_path)
    assert sorted(parsed) == list(PROJECTS)
    assert len(entries(home)) == 3
    parsed.clear()
    second = scan_json(tree, tmp_path)
    assert parsed == []
    assert second == first
    assert "DF008" in first  # alpha's USER root, reported from the cache too
    parsed.clear()
    assert scan_json(tree, tmp_path, "--no-cache") == first
    assert sorted(parsed) == list(PROJECTS)


def test_worker_processes_keep_their_outcomes_and_the_next_run_uses_them(tree: Path, home: Path, parsed: list[str],
                                                                          tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "POOL_THRESHOLD", 0)  # the pool even for three small projects
    pooled = scan_json(tree, tmp_path, "--jobs", "2")
    assert len(entries(home)) == 3  # written by the workers (forked: their parses are not counted here)
    parsed.clear()
    assert scan_json(tree, tmp_path, "--jobs", "2") == pooled
    assert parsed == []
    assert pooled == scan_json(tree, tmp_path, "--no-cache")


def test_a_changed_file_is_parsed_again_and_only_its_project(tree: Path, home: Path, parsed: list[str],
                                                             tmp_path: Path) -> None:
    scan_json(tree, tmp_path)
    (tree / "bravo" / "Dockerfile").write_text(ROOT_USER, encoding="utf-8")
    parsed.clear()
    cached = scan_json(tree, tmp_path)
    assert parsed == ["bravo"]
    assert cached == scan_json(tree, tmp_path, "--no-cache")
    assert '"bravo/Dockerfile"' in cached


def test_the_key_is_the_content_not_the_timestamp(tree: Path, home: Path, parsed: list[str],
                                                  tmp_path: Path) -> None:
    """Same size, same modification time, other bytes: still a miss (the tree sets timestamps)."""
    scan_json(tree, tmp_path)
    dockerfile = tree / "charlie" / "Dockerfile"
    before = dockerfile.stat()
    dockerfile.write_text(NON_ROOT.replace("1001", "0000"), encoding="utf-8")  # USER 0000: root, same size
    os.utime(dockerfile, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert dockerfile.stat().st_size == before.st_size
    parsed.clear()
    cached = scan_json(tree, tmp_path)
    assert parsed == ["charlie"]
    assert cached == scan_json(tree, tmp_path, "--no-cache")


def test_a_file_over_the_size_cap_is_known_without_being_read(tree: Path, home: Path, parsed: list[str],
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file the parsers never read (over the cap) is not hashed either (a sparse terabyte in a
    hostile tree costs a stat), yet rewriting it is still a miss: its change time moved."""
    monkeypatch.setenv("AUDITOR_MAX_FILE_SIZE", "2000")
    big = tree / "alpha" / "public" / "video.bin"
    big.parent.mkdir()
    big.write_bytes(b"a" * 5000)
    scan_json(tree, tmp_path)
    parsed.clear()
    scan_json(tree, tmp_path)
    assert parsed == []
    before = big.stat()
    big.write_bytes(b"b" * 5000)
    os.utime(big, ns=(before.st_atime_ns, before.st_mtime_ns))
    scan_json(tree, tmp_path)
    assert parsed == ["alpha"]


def test_an_unchanged_file_is_not_read_again_yet_any_rewrite_is_seen(tree: Path, home: Path, parsed: list[str],
                                                                    tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Each file's SHA-256 is kept by its identity (inode, size, modification and change time):
    the next run only stats it. A rewrite keeping size and modification time still changes the
    change time, which no user can set back: it is read again, and its project is a miss."""
    monkeypatch.setattr(cache, "_RACY_SECONDS", -1.0)  # the tree was written just now
    reads = files_hashed(monkeypatch)
    first = scan_json(tree, tmp_path)
    reads.clear()
    parsed.clear()
    assert scan_json(tree, tmp_path) == first
    assert (parsed, [r for r in reads if str(tree) in r]) == ([], [])
    dockerfile = tree / "bravo" / "Dockerfile"
    before = dockerfile.stat()
    dockerfile.write_text(NON_ROOT.replace("1001", "0000"), encoding="utf-8")  # root again, same size
    os.utime(dockerfile, ns=(before.st_atime_ns, before.st_mtime_ns))
    reads.clear()
    cached = scan_json(tree, tmp_path)
    assert parsed == ["bravo"]
    assert str(dockerfile) in reads
    assert cached == scan_json(tree, tmp_path, "--no-cache")


def test_what_is_parsed_is_what_was_hashed(tree: Path, home: Path, parsed: list[str], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A file rewritten between its hashing and its parsing (an editor saving, a hostile tree) is
    parsed as it was hashed, so the outcome kept under the key is the outcome of the bytes the key
    covers; and a cold run reads each such file once, not again to parse it."""
    expected = scan_json(tree, tmp_path, "--no-cache")
    parsed.clear()
    dockerfile = tree / "bravo" / "Dockerfile"
    real = cache._digest_and_identity

    def rewriting(path, *arguments):  # type: ignore[no-untyped-def]
        result = real(path, *arguments)
        if str(path) == str(dockerfile):  # root again, once it is hashed
            dockerfile.write_text(NON_ROOT.replace("USER 1001", "USER 0"), encoding="utf-8")
        return result

    from auditor.parsers import project

    opened: list[str] = []
    real_read = getattr(project, "read_regular_file", None)
    monkeypatch.setattr(project, "read_regular_file", lambda path, *cap: opened.append(path) or real_read(path, *cap),
                        raising=False)
    monkeypatch.setattr(cache, "_digest_and_identity", rewriting)
    assert scan_json(tree, tmp_path) == expected
    assert sorted(parsed) == sorted(PROJECTS)
    # parsed from the bytes hashed (a compose file is also read whole by the main process, to
    # know whether it builds from a sibling folder: parallel.partitions)
    assert [path for path in opened if path.endswith("Dockerfile")] == []
    monkeypatch.setattr(cache, "_digest_and_identity", real)
    assert scan_json(tree, tmp_path, "--no-cache") != expected  # (the rewrite is a finding of its own)


def test_a_new_or_renamed_file_is_a_miss(tree: Path, home: Path, parsed: list[str], tmp_path: Path) -> None:
    scan_json(tree, tmp_path)
    (tree / "alpha" / "Dockerfile").rename(tree / "alpha" / "Containerfile")
    (tree / "bravo" / ".dockerignore").write_text("node_modules\n.git\n.env*\n.next\n", encoding="utf-8")
    parsed.clear()
    cached = scan_json(tree, tmp_path)
    assert sorted(parsed) == ["alpha", "bravo"]
    assert cached == scan_json(tree, tmp_path, "--no-cache")


@pytest.mark.parametrize("setting", [
    "rules:\n  DF008:\n    severity: low\n",  # a severity
    "rules:\n  DF019:\n    required: [node_modules]\n",  # a parameter
    "rules:\n  DF008:\n    enabled: false\n",  # a rule turned off
])
def test_a_configuration_change_is_a_miss_everywhere(tree: Path, home: Path, parsed: list[str],
                                                     tmp_path: Path, setting: str) -> None:
    """(A configuration file at the tree's root would make the tree one deployment, not cached:
    the configuration comes from outside it here.)"""
    configuration = tmp_path / "auditor.yaml"
    configuration.write_text("rules: {}\n", encoding="utf-8")
    scan_json(tree, tmp_path, "--config", str(configuration))
    configuration.write_text(setting, encoding="utf-8")
    parsed.clear()
    cached = scan_json(tree, tmp_path, "--config", str(configuration))
    assert sorted(parsed) == list(PROJECTS)
    parsed.clear()
    assert scan_json(tree, tmp_path, "--config", str(configuration)) == cached  # then kept in turn
    assert parsed == []
    assert cached == scan_json(tree, tmp_path, "--config", str(configuration), "--no-cache")


def test_a_run_packs_its_records_in_one_file_found_by_a_signed_index(tree: Path, home: Path,
                                                                       parsed: list[str], tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A cold run writes one signed record a partition (its files' digests and its outcome with
    the key it was made under), all in one pack a chunk of partitions (creating a file costs more
    than writing tens of kilobytes: 0.1-1 ms each on ext4, a thousand a cold run), and an index of
    the tree saying where each is; the root's own files' digests, when it has any, go in one more
    entry. An outcome made under another key (another selection of rules) replaces the
    partition's outcome in the index, it is not kept beside it: each configuration is a miss when
    the other ran last."""
    monkeypatch.setattr(cache, "_RACY_SECONDS", -1.0)  # the tree was written just now
    first = scan_json(tree, tmp_path)

    def files(kind: str) -> list[Path]:
        return sorted(p for p in (home / "auditor" / kind).rglob("*") if p.is_file())

    assert len(entries(home)) == 3 and len(packs(home)) == 1 and files("digests") == []  # the root holds no file
    from auditor.store import open_store

    store = open_store(str(home / "auditor"))
    assert store is not None
    assert sorted(kept.scope for kept in entries(home)) == [f"{name}/" for name in PROJECTS]
    for kept in entries(home):
        location = [kept.pack.name, kept.offset, kept.length]
        payload = store.read_at("results", cache.record_name(tree, kept.scope), location)
        record = cache.parse_record(payload) if payload is not None else None
        assert record is not None
        digests, key, body = record
        assert key and body
        name = kept.scope.rstrip("/")
        assert sorted(digests) == [str(tree / name / "Dockerfile"), str(tree / name / "docker-compose.yml")]
        assert store.read_at("results", cache.record_name(tree, "other/"), location) is None  # its name signed
    parsed.clear()
    only = scan_json(tree, tmp_path, "--select", "DF008")
    assert sorted(parsed) == list(PROJECTS) and len(entries(home)) == 3  # replaced, not added
    assert len(packs(home)) == 1  # the first run's pack, which the index names no more, is removed
    parsed.clear()
    replacing = packs(home)
    assert scan_json(tree, tmp_path, "--select", "DF008") == only and parsed == []
    assert packs(home) == replacing  # a hit writes nothing
    assert scan_json(tree, tmp_path) == first and sorted(parsed) == list(PROJECTS)


def test_selected_rules_are_part_of_the_key(tree: Path, home: Path, parsed: list[str], tmp_path: Path) -> None:
    scan_json(tree, tmp_path)
    parsed.clear()
    only = scan_json(tree, tmp_path, "--select", "DF008")
    assert sorted(parsed) == list(PROJECTS)
    assert only == scan_json(tree, tmp_path, "--select", "DF008", "--no-cache")


def test_another_auditor_version_is_a_miss(tree: Path, home: Path, parsed: list[str], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    scan_json(tree, tmp_path)
    monkeypatch.setattr(auditor, "__version__", auditor.__version__ + ".post1")
    monkeypatch.setattr(cache, "_CODE_DIGEST", [])  # computed once per process: this process "upgraded"
    parsed.clear()
    scan_json(tree, tmp_path)
    assert sorted(parsed) == list(PROJECTS)


def test_the_catalog_digest_covers_the_rule_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import auditor.catalog as catalog

    rules = tmp_path / "rules"
    shutil.copytree(catalog.rules_dir(), rules)
    monkeypatch.setattr(catalog, "rules_dir", lambda: rules)
    monkeypatch.setattr(cache, "_CODE_DIGEST", [])
    before = cache.code_digest()
    rule = rules / "DF008.yaml"
    rule.write_text(rule.read_text(encoding="utf-8").replace("severity: high", "severity: critical", 1),
                    encoding="utf-8")
    monkeypatch.setattr(cache, "_CODE_DIGEST", [])
    assert cache.code_digest() != before


def test_what_the_checks_read_outside_the_projects_is_part_of_the_key(tree: Path, home: Path, parsed: list[str],
                                                                     tmp_path: Path) -> None:
    """The architecture document and CI files at the root are read by every project's AR checks:
    a change there is a miss everywhere. A CI folder that is a link out of the tree is neither
    read by the checks nor hashed."""
    (tree / "ARCHITECTURE.md").write_text("# Architecture\n\nThe app runs as UID 1001.\n", encoding="utf-8")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "deploy.sh").write_text("docker build .\n", encoding="utf-8")
    (tree / "scripts").symlink_to(outside)
    scan_json(tree, tmp_path)
    (outside / "deploy.sh").write_text("docker build --no-cache .\n", encoding="utf-8")
    parsed.clear()
    assert scan_json(tree, tmp_path) == scan_json(tree, tmp_path, "--no-cache")
    assert sorted(parsed) == list(PROJECTS)  # by the --no-cache run alone: the link was not followed
    (tree / "ARCHITECTURE.md").write_text("# Architecture\n\nThe app runs as UID 0.\n", encoding="utf-8")
    parsed.clear()
    assert scan_json(tree, tmp_path) == scan_json(tree, tmp_path, "--no-cache")
    assert sorted(parsed) == sorted(PROJECTS * 2)


# --- a damaged entry is ignored, never trusted, never a crash ------------------------------------


def _damage_truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


def _damage_flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))


def _damage_garbage(path: Path) -> None:
    path.write_bytes(b"\x80\x04not a cache entry at all")


def _damage_foreign_format(path: Path) -> None:
    path.write_bytes(path.read_bytes().replace(cache.FORMAT, b"auditor-cache 0\n", 1))


def _damage_empty(path: Path) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize("damage", [_damage_truncate, _damage_flip, _damage_garbage, _damage_foreign_format,
                                    _damage_empty])
def test_a_damaged_entry_is_ignored_and_rewritten(tree: Path, home: Path, parsed: list[str], tmp_path: Path,
                                                  damage: Callable[[Path], None]) -> None:
    first = scan_json(tree, tmp_path)
    for entry in entries(home):
        damage(entry)
    parsed.clear()
    assert scan_json(tree, tmp_path) == first
    assert sorted(parsed) == list(PROJECTS)
    parsed.clear()
    assert scan_json(tree, tmp_path) == first  # rewritten whole
    assert parsed == []


def test_an_entry_moved_to_another_key_is_refused(tree: Path, home: Path, parsed: list[str], tmp_path: Path) -> None:
    """Each record is signed together with its partition's name: a valid record of another
    project is no hit, even where the index itself (signed with the user's key, as the auditor
    writes it) says it is this project's."""
    from auditor.store import open_store

    first = scan_json(tree, tmp_path)
    store = open_store(str(home / "auditor"))
    assert store is not None
    one, two, three = entries(home)
    where = {kept.scope: [kept.pack.name, kept.offset, kept.length] for kept in (one, two, three)}
    moved = {one.scope: where[two.scope], two.scope: where[three.scope], three.scope: where[one.scope]}
    store.write("results-index", cache.index_name(tree), json.dumps(moved).encode())
    parsed.clear()
    assert scan_json(tree, tmp_path) == first
    assert sorted(parsed) == list(PROJECTS)


@pytest.mark.parametrize("change", ["removed", "readable by others"])
def test_entries_signed_with_another_key_are_refused(tree: Path, home: Path, parsed: list[str], tmp_path: Path,
                                                     change: str) -> None:
    first = scan_json(tree, tmp_path)
    key = home / "auditor" / "key"
    if change == "removed":
        key.unlink()  # a new key: what the old one signed is not ours any more
    else:
        key.chmod(0o644)  # anyone may have read it, and signed entries with it: replaced
    parsed.clear()
    assert scan_json(tree, tmp_path) == first
    assert sorted(parsed) == list(PROJECTS)
    assert len(key.read_bytes()) == 32 and key.stat().st_mode & 0o777 == 0o600
    parsed.clear()
    assert scan_json(tree, tmp_path) == first
    assert parsed == []


def test_a_cache_folder_made_with_a_loose_umask_is_tightened(tree: Path, home: Path, parsed: list[str],
                                                              tmp_path: Path) -> None:
    first = scan_json(tree, tmp_path)
    (home / "auditor").chmod(0o777)
    parsed.clear()
    assert scan_json(tree, tmp_path) == first
    assert parsed == []  # every entry is still ours, signed by our key
    assert (home / "auditor").stat().st_mode & 0o777 == 0o755


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a file away needs root")
def test_files_owned_by_another_user_are_never_trusted(tree: Path, home: Path, parsed: list[str],
                                                       tmp_path: Path) -> None:
    """Someone else's entry (or key) in the folder, even with the right bytes, is not ours."""
    first = scan_json(tree, tmp_path)
    stranger = 54321
    for pack in packs(home):
        os.chown(pack, stranger, stranger)
    parsed.clear()
    assert scan_json(tree, tmp_path) == first
    assert sorted(parsed) == list(PROJECTS)
    index = next(p for p in (home / "auditor" / "results-index").rglob("*") if p.is_file())
    os.chown(index, stranger, stranger)
    parsed.clear()
    assert scan_json(tree, tmp_path) == first
    assert sorted(parsed) == list(PROJECTS)
    os.chown(home / "auditor" / "key", stranger, stranger)
    parsed.clear()
    assert scan_json(tree, tmp_path) == first
    assert sorted(parsed) == list(PROJECTS)  # a key not ours alone is replaced: nothing it signed is trusted
    assert (home / "auditor" / "key").stat().st_uid == os.getuid()
    os.chown(home / "auditor", stranger, stranger)
    parsed.clear()
    assert scan_json(tree, tmp_path) == first
    assert sorted(parsed) == list(PROJECTS)


def test_entries_and_key_are_private(tree: Path, home: Path, tmp_path: Path) -> None:
    scan_json(tree, tmp_path)
    assert (home / "auditor" / "key").stat().st_mode & 0o777 == 0o600
    written = packs(home) + [p for p in (home / "auditor" / "results-index").rglob("*") if p.is_file()]
    assert len(written) == 2
    for entry in written:
        assert entry.stat().st_mode & 0o777 == 0o600
        assert entry.parent.stat().st_mode & 0o777 == 0o700
    assert not [p for p in (home / "auditor").rglob(".tmp-*")]  # written whole, then renamed


def test_entries_unused_for_a_month_are_pruned_and_used_ones_kept(tree: Path, home: Path, parsed: list[str],
                                                                  tmp_path: Path) -> None:
    scan_json(tree, tmp_path)
    (pack,) = packs(home)
    now = time.time()
    os.utime(pack, (now - 2 * 86400, now - 2 * 86400))
    os.utime(home / "auditor" / "pruned", (now - 2 * 86400, now - 2 * 86400))  # last pruned two days ago
    parsed.clear()
    scan_json(tree, tmp_path)
    assert parsed == [] and pack.stat().st_mtime > now - 60  # a hit marks it in use
    os.utime(pack, (now - 31 * 86400, now - 31 * 86400))
    os.utime(home / "auditor" / "pruned", (now - 2 * 86400, now - 2 * 86400))
    parsed.clear()
    scan_json(tree, tmp_path)
    assert sorted(parsed) == list(PROJECTS)  # pruned: parsed and kept again
    assert not pack.exists() and len(packs(home)) == 1 and len(entries(home)) == 3


# --- the tree chooses nothing ------------------------------------------------------------------


def test_the_tree_cannot_name_the_cache_folder(tree: Path, home: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    (tree / ".auditor.yaml").write_text(f"scanners:\n  cache_dir: {tmp_path / 'chosen'}\n", encoding="utf-8")
    code = main(["scan", str(tree), "--no-external", "--jobs", "1", "--quiet"])
    assert code == 2
    assert "scanners.cache_dir" in capsys.readouterr().err
    assert not (tmp_path / "chosen").exists()


@pytest.mark.parametrize("how", ["environment", "flag"])
def test_a_cache_folder_inside_the_audited_tree_is_never_used(tree: Path, home: Path, parsed: list[str],
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              how: str) -> None:
    """Auditing one's home directory, or a cache named by a path into the tree: nothing is
    written there and nothing read from there (the tree could hold forged entries)."""
    before = sorted(str(p) for p in tree.rglob("*"))
    if how == "environment":
        monkeypatch.setenv("XDG_CACHE_HOME", str(tree / ".cache"))
        extra: tuple[str, ...] = ()
    else:
        extra = ("--cache-dir", str(tree / "alpha"))
    first = scan_json(tree, tmp_path, *extra)
    parsed.clear()
    assert scan_json(tree, tmp_path, *extra) == first
    assert sorted(parsed) == list(PROJECTS)
    assert sorted(str(p) for p in tree.rglob("*")) == before


def test_file_names_that_look_like_cache_paths_change_nothing(tmp_path: Path, home: Path, parsed: list[str]) -> None:
    """A project named like a key, a results folder or the key file is just a project."""
    tree = make_tree(tmp_path / "tree")
    scan_json(tree, tmp_path)
    key = entries(home)[0].name
    hostile = tree / key
    hostile.mkdir()
    (hostile / "Dockerfile").write_text(ROOT_USER, encoding="utf-8")
    (hostile / "docker-compose.yml").write_text(COMPOSE, encoding="utf-8")
    parsed.clear()
    cached = scan_json(tree, tmp_path)
    assert parsed == [key]
    assert cached == scan_json(tree, tmp_path, "--no-cache")


# --- off switches --------------------------------------------------------------------------------


def test_no_cache_flag_reads_and_writes_nothing(tree: Path, home: Path, parsed: list[str], tmp_path: Path) -> None:
    scan_json(tree, tmp_path, "--no-cache")
    scan_json(tree, tmp_path, "--no-cache")
    assert sorted(parsed) == sorted(PROJECTS * 2)
    assert not (home / "auditor" / "results").exists()


def test_auditor_no_cache_environment(tree: Path, home: Path, parsed: list[str], tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    scan_json(tree, tmp_path)
    monkeypatch.setenv("AUDITOR_NO_CACHE", "1")
    parsed.clear()
    scan_json(tree, tmp_path)
    assert sorted(parsed) == list(PROJECTS)


def test_cache_dir_flag_and_environment_move_the_cache(tree: Path, home: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    scan_json(tree, tmp_path, "--cache-dir", str(tmp_path / "by-flag"))
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path / "by-env"))
    scan_json(tree, tmp_path)
    for chosen in ("by-flag", "by-env"):
        assert len(entries(tmp_path / chosen)) == 3
    assert not (home / "auditor" / "results").exists()


# --- what is applied after the cache ------------------------------------------------------------


def test_baseline_and_suppressions_apply_to_cached_outcomes(tree: Path, home: Path, parsed: list[str],
                                                            tmp_path: Path) -> None:
    (tree / "alpha" / "Dockerfile").write_text(ROOT_USER.replace(
        "USER root", '# auditor: ignore=DF008 reason="the image drops privileges in its entrypoint"\nUSER root'),
        encoding="utf-8")
    baseline = tmp_path / "baseline.json"
    assert main(["baseline", "create", str(tree), "--no-external", "-o", str(baseline)]) == 0  # fills the cache
    for extra in ((), ("--baseline", str(baseline)), ("--no-suppress",)):
        parsed.clear()
        cached = scan_json(tree, tmp_path, *extra)
        assert parsed == []
        assert cached == scan_json(tree, tmp_path, "--no-cache", *extra)
    report = json.loads(scan_json(tree, tmp_path))
    assert [f["suppressed"]["kind"] for f in report["findings"] if f["rule_id"] == "DF008"] == ["inline"]
    with_baseline = json.loads(scan_json(tree, tmp_path, "--baseline", str(baseline)))
    assert [f for f in with_baseline["findings"] if not f["suppressed"]] == []


def test_file_arguments_report_their_files_alone_from_cached_outcomes(tree: Path, home: Path, parsed: list[str],
                                                                      tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Files of two projects (pre-commit): their projects are read, only the files reported; the
    filter is applied after the cache, so a cached run reports the same."""
    monkeypatch.chdir(tree)
    files = ["alpha/Dockerfile", "bravo/docker-compose.yml"]
    first = scan_json(files, tmp_path)
    assert sorted(parsed) == ["alpha", "bravo"]
    parsed.clear()
    assert scan_json(files, tmp_path) == first
    assert parsed == []
    assert first == scan_json(files, tmp_path, "--no-cache")
    findings = json.loads(first)["findings"]
    assert findings
    for finding in findings:  # at a given file, or naming one among its related locations
        assert {finding["file"], *(r["file"] for r in finding["related"])} & set(files), finding


# --- the Trivy binary's digest -----------------------------------------------------------------


def test_a_program_digest_is_kept_and_follows_any_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = str(tmp_path / "cache")
    program = tmp_path / "trivy"
    program.write_bytes(b"\x7fELF" + b"a" * 4096)
    monkeypatch.setattr(cache, "_RACY_SECONDS", -1.0)  # the file was written just now; see the next test
    expected = hashlib.sha256(program.read_bytes()).hexdigest()
    assert cache.program_digest(program, folder) == expected
    kept = sorted((tmp_path / "cache" / "programs").rglob("*"))
    assert [p for p in kept if p.is_file()]
    assert cache.program_digest(program, folder) == expected
    before = program.stat()
    program.write_bytes(b"\x7fELF" + b"b" * 4096)  # same size, same modification time, other bytes
    os.utime(program, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert cache.program_digest(program, folder) == hashlib.sha256(program.read_bytes()).hexdigest()


def test_a_replaced_trivy_is_refused_by_its_pin_even_with_a_kept_digest(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The pin (AUDITOR_TRIVY_SHA256) is checked against the kept digest: a binary rewritten in
    place, with its size and modification time put back, is hashed again and refused (SC004). The
    stand-in is a shell script: the real binary is not rewritten by a test."""
    from auditor.scanners import ScannerOptions, run_scanners
    from tests.scanners.helpers import write_stub

    monkeypatch.setattr(cache, "_RACY_SECONDS", -1.0)
    trivy = write_stub(tmp_path / "bin", "trivy", "echo '{}'\n")
    pin = hashlib.sha256(trivy.read_bytes()).hexdigest()
    (tmp_path / "tree").mkdir()
    options = ScannerOptions(trivy_path=str(trivy), trivy_sha256=pin, digest_cache=str(tmp_path / "cache"))
    runs = run_scanners(tmp_path / "tree", [], options)
    assert not [run.error for run in runs if run.error and "pinned" in run.error]
    assert [p for p in (tmp_path / "cache" / "programs").rglob("*") if p.is_file()]  # the digest was kept
    before = trivy.stat()
    trivy.write_bytes(trivy.read_bytes().replace(b"echo", b"true"))
    os.utime(trivy, ns=(before.st_atime_ns, before.st_mtime_ns))
    runs = run_scanners(tmp_path / "tree", [], options)
    refused = [run.error for run in runs if run.error and "pinned" in run.error]
    assert refused and all(pin in error for error in refused), [run.error for run in runs]


def test_a_program_changed_just_now_is_hashed_but_not_kept(tmp_path: Path) -> None:
    program = tmp_path / "trivy"
    program.write_bytes(b"binary")
    assert cache.program_digest(program, str(tmp_path / "cache")) == hashlib.sha256(b"binary").hexdigest()
    assert not (tmp_path / "cache" / "programs").exists()


def test_a_tampered_program_digest_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = str(tmp_path / "cache")
    program = tmp_path / "trivy"
    program.write_bytes(b"the real binary")
    monkeypatch.setattr(cache, "_RACY_SECONDS", -1.0)
    cache.program_digest(program, folder)
    (entry,) = [p for p in (tmp_path / "cache" / "programs").rglob("*") if p.is_file()]
    forged = hashlib.sha256(b"what the pin expects").hexdigest().encode()
    entry.write_bytes(entry.read_bytes()[:-64] + forged)  # the digest changed, the signature not
    assert cache.program_digest(program, folder) == hashlib.sha256(b"the real binary").hexdigest()


def test_without_a_cache_the_program_is_hashed_every_time(tmp_path: Path) -> None:
    program = tmp_path / "trivy"
    program.write_bytes(b"binary")
    assert cache.program_digest(program, None) == hashlib.sha256(b"binary").hexdigest()
    assert cache.program_digest(tmp_path / "missing", None) is None


def test_a_cold_run_hashes_each_file_once_and_a_warm_one_reads_nothing(tree: Path, home: Path, parsed: list[str],
                                                                        tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A missed partition's key is computed once (by the main process) and handed to whoever
    audits it, never hashed again to keep it; the files at the root that every project's checks
    read (the architecture document, CI files) are known by their identity on the next run."""
    monkeypatch.setattr(cache, "_RACY_SECONDS", -1.0)  # the tree was written just now
    (tree / "ARCHITECTURE.md").write_text("# Architecture\n\nThe app runs as UID 1001.\n", encoding="utf-8")
    (tree / "Makefile").write_text("build:\n\tdocker build .\n", encoding="utf-8")
    reads = files_hashed(monkeypatch)
    first = scan_json(tree, tmp_path)
    in_tree = [r for r in reads if r.startswith(str(tree))]
    assert in_tree and len(in_tree) == len(set(in_tree))  # each file of the tree hashed once
    assert str(tree / "ARCHITECTURE.md") in in_tree
    reads.clear()
    parsed.clear()
    assert scan_json(tree, tmp_path) == first
    assert (parsed, [r for r in reads if r.startswith(str(tree))]) == ([], [])
    (tree / "ARCHITECTURE.md").write_text("# Architecture\n\nThe app runs as UID 0.\n", encoding="utf-8")
    assert scan_json(tree, tmp_path) == scan_json(tree, tmp_path, "--no-cache")
    assert sorted(parsed) == sorted(PROJECTS * 2)


# --- an unchanged tree: the kept outcomes copied as they are ------------------------------------


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The worker pools the audit starts (the real pool, observed)."""
    import concurrent.futures

    started: list[int] = []
    real = concurrent.futures.ProcessPoolExecutor

    class Observed(real):  # type: ignore[valid-type, misc]
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            started.append(kwargs.get("max_workers", 0))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Observed)
    yield started


def test_a_tree_whose_every_project_is_kept_starts_no_workers(tree: Path, home: Path, pools: list[int],
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The main process sees from a stat of each file (against the partitions' records) that the
    whole tree is kept, and copies it without forking; one changed file and the pool is back."""
    monkeypatch.setattr(parallel, "POOL_THRESHOLD", 0)  # the pool even for three small projects
    monkeypatch.setattr(cache, "_RACY_SECONDS", -1.0)  # the tree was written just now
    first = scan_json(tree, tmp_path, "--jobs", "2")
    assert len(pools) == 1 and len(entries(home)) == 3
    reads = files_hashed(monkeypatch)
    assert scan_json(tree, tmp_path, "--jobs", "2") == first
    assert len(pools) == 1  # no second pool
    assert [r for r in reads if r.startswith(str(tree))] == []  # known by their identity: nothing read
    assert first == scan_json(tree, tmp_path, "--no-cache", "--jobs", "1")
    (tree / "charlie" / "Dockerfile").write_text(ROOT_USER, encoding="utf-8")
    changed = scan_json(tree, tmp_path, "--jobs", "2")
    assert len(pools) == 2  # something to parse: the workers do it
    assert changed == scan_json(tree, tmp_path, "--no-cache", "--jobs", "1")


def test_the_main_process_reads_each_kept_records_head_alone(tree: Path, home: Path, pools: list[int],
                                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """To know whether the whole tree is kept, the main process reads each record's head (its
    files' digests and key, signed on their own), not its outcome: each record is then read whole
    once, where it is copied to the report."""
    from auditor.store import Store

    monkeypatch.setattr(parallel, "POOL_THRESHOLD", 0)
    monkeypatch.setattr(cache, "_RACY_SECONDS", -1.0)  # the tree was written just now
    first = scan_json(tree, tmp_path, "--jobs", "2")
    whole: list[str] = []
    heads: list[str] = []
    real_read, real_prefix = Store.read_at, Store.read_prefix_at

    def read_at(self: Store, kind: str, key: str, location: object) -> bytes | None:
        whole.append(f"{kind}/{key}")
        return real_read(self, kind, key, location)

    def read_prefix_at(self: Store, kind: str, key: str, location: object, size: int) -> bytes | None:
        heads.append(f"{kind}/{key}")
        return real_prefix(self, kind, key, location, size)

    monkeypatch.setattr(Store, "read_at", read_at)
    monkeypatch.setattr(Store, "read_prefix_at", read_prefix_at)
    assert scan_json(tree, tmp_path, "--jobs", "2") == first
    assert len(pools) == 1  # the whole tree kept: no workers
    records = sorted(f"results/{cache.record_name(tree, kept.scope)}" for kept in entries(home))
    assert len(records) == 3
    assert sorted(heads) == records
    assert sorted(whole) == records


def test_a_kept_record_with_a_tampered_head_is_not_trusted(tree: Path, home: Path, pools: list[int],
                                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A record's head read alone is verified under its own signature: a digest or key changed in
    it (the outcome left as it was) is a miss, never a reason to copy the outcome: the tree goes to
    the workers and the report is a fresh run's."""
    monkeypatch.setattr(parallel, "POOL_THRESHOLD", 0)
    monkeypatch.setattr(cache, "_RACY_SECONDS", -1.0)  # the tree was written just now
    first = scan_json(tree, tmp_path, "--jobs", "2")
    tampered = entries(home)[0]
    data = tampered.read_bytes()
    at = data.index(b'"key":"') + len(b'"key":"')
    tampered.write_bytes(data[:at] + (b"0" if data[at:at + 1] != b"0" else b"1") + data[at + 1:])
    assert scan_json(tree, tmp_path, "--jobs", "2") == first
    assert len(pools) == 2  # not kept: the workers did the tree
    assert first == scan_json(tree, tmp_path, "--no-cache", "--jobs", "1")


def _rewritten_entries(home: Path, tree: Path, change: Callable[[parallel.PartitionRows], None]) -> None:
    """Each kept outcome changed by ``change`` and signed again with the user's key, as the
    auditor itself would have written it (so only the use of its fields is tested)."""
    from auditor.store import open_store

    import io
    import pickle

    store = open_store(str(home / "auditor"))
    assert store is not None
    pack = store.pack("results")
    moved: dict[str, list[object]] = {}
    for entry in entries(home):
        name = cache.record_name(tree, entry.scope)
        payload = store.read_at("results", name, [entry.pack.name, entry.offset, entry.length])
        assert payload is not None
        record = cache.parse_record(payload)
        assert record is not None
        files, key, body = record
        outcome = pickle.loads(body)
        assert isinstance(outcome, parallel.PartitionRows)
        change(outcome)
        buffer = io.BytesIO()
        cache.fast_pickler(buffer).dump(outcome)
        location = pack.append(name, cache.record_parts(store, name, key, files, buffer.getvalue()))
        assert location is not None
        moved[entry.scope] = location
    pack.close()
    store.write("results-index", cache.index_name(tree), json.dumps(moved).encode())


def _marked(outcome: parallel.PartitionRows) -> None:
    if outcome.inside_json:
        outcome.inside_json = outcome.inside_json.replace(b'"rule_id":"DF008"', b'"rule_id":"MARKED"')


def test_the_kept_json_text_is_what_the_report_copies(tree: Path, home: Path, parsed: list[str],
                                                      tmp_path: Path) -> None:
    """A kept outcome holds its findings' JSON text, and an unchanged partition's findings go to
    the report from it, as they are (a marker put into the text shows up in the report)."""
    first = scan_json(tree, tmp_path)
    assert '"rule_id":"DF008"' in first
    _rewritten_entries(home, tree, _marked)
    parsed.clear()
    marked = scan_json(tree, tmp_path)
    assert parsed == []
    assert '"rule_id":"MARKED"' in marked and marked.replace('"rule_id":"MARKED"', '"rule_id":"DF008"') == first


@pytest.mark.parametrize("finishing", ["baseline", "inline suppression", "configured suppression", "file arguments"])
def test_kept_json_text_is_not_used_where_finishing_changes_the_findings(tree: Path, home: Path, parsed: list[str],
                                                                          tmp_path: Path, finishing: str,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Where a suppression, the baseline or the changed-files filter applies to a partition, its
    findings are finished again from their rows; the kept text (made as the checks left them)
    is not copied."""
    extra: list[str] = []
    paths: Path | list[str] = tree
    if finishing == "baseline":
        baseline = tmp_path / "baseline.json"
        assert main(["baseline", "create", str(tree), "--no-external", "-o", str(baseline)]) == 0
        extra = ["--baseline", str(baseline)]
    elif finishing == "inline suppression":
        (tree / "alpha" / "Dockerfile").write_text(ROOT_USER.replace(
            "USER root", '# auditor: ignore=DF008 reason="drops privileges in its entrypoint"\nUSER root'),
            encoding="utf-8")
    elif finishing == "configured suppression":
        config = tmp_path / "auditor.yaml"
        config.write_text('suppress:\n  - rule: DF008\n    path: "alpha/*"\n    reason: "a test image"\n',
                          encoding="utf-8")
        extra = ["--config", str(config)]
    else:
        monkeypatch.chdir(tree)
        paths = ["alpha/Dockerfile", "bravo/docker-compose.yml"]
    first = scan_json(paths, tmp_path, *extra)
    _rewritten_entries(home, tree, _marked)
    parsed.clear()
    again = scan_json(paths, tmp_path, *extra)
    assert parsed == []  # from the cache
    assert again == first and "MARKED" not in again
    assert again == scan_json(paths, tmp_path, "--no-cache", *extra)


def test_a_tampered_json_text_in_an_entry_is_ignored(tree: Path, home: Path, parsed: list[str],
                                                     tmp_path: Path) -> None:
    """The JSON text is kept as it is (uncompressed), inside the signed entry: a byte changed in it
    makes the entry a miss, never a report of what someone wrote there."""
    first = scan_json(tree, tmp_path)
    for entry in entries(home):
        data = entry.read_bytes()
        assert b'"fingerprint":"' in data  # the text is there as the report has it
        entry.write_bytes(data.replace(b'"fingerprint":"', b'"fingerprint":"0', 1))
    parsed.clear()
    assert scan_json(tree, tmp_path) == first
    assert sorted(parsed) == list(PROJECTS)


def test_entries_kept_without_json_text_still_give_the_json_report(tree: Path, home: Path, parsed: list[str],
                                                                   tmp_path: Path) -> None:
    """A text report keeps no JSON text in the cache; a JSON report from those entries renders it."""
    assert main(["scan", str(tree), "--no-external", "--jobs", "1", "--fail-on", "none", "--quiet",
                 "--format", f"text:{tmp_path / 'report.txt'}"]) == 0
    outcomes: list[parallel.PartitionRows] = []
    _rewritten_entries(home, tree, outcomes.append)
    assert outcomes and all(o.inside_json is None and o.evidence_json is None and o.evidence_counts for o in outcomes)
    parsed.clear()
    cached = scan_json(tree, tmp_path)
    assert parsed == []
    assert cached == scan_json(tree, tmp_path, "--no-cache")


def test_the_copied_json_report_is_the_same_on_standard_output(tree: Path, home: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """The partitions' text goes to the report file's bytes, or through a text stream (standard
    output, the progress display's buffer) the same."""
    first = scan_json(tree, tmp_path)
    capsys.readouterr()
    assert main(["scan", str(tree), "--no-external", "--jobs", "1", "--fail-on", "none", "--quiet",
                 "--format", "json"]) == 0
    assert capsys.readouterr().out == first
    assert main(["scan", str(tree), "--no-external", "--jobs", "1", "--fail-on", "none", "--progress", "always",
                 "--format", f"json:{tmp_path / 'shown.json'}"]) == 0
    assert (tmp_path / "shown.json").read_text(encoding="utf-8") == first


def test_an_nginx_include_through_a_symlinked_folder_into_another_project_is_never_kept(
        tree: Path, home: Path, parsed: list[str], tmp_path: Path) -> None:
    """Discovery does not follow a symlinked folder, so the file an include reads through one is
    not in the project's key: that project's outcome is not kept, and a change to the file shows
    on the next run (found by review: the cached run reported the old directive)."""
    (tree / "bravo" / "extra").mkdir()
    shared = tree / "bravo" / "extra" / "tokens.conf"
    shared.write_text("server_tokens off;\n", encoding="utf-8")
    (tree / "alpha" / "nginx").mkdir()
    (tree / "alpha" / "nginx" / "shared").symlink_to("../../bravo/extra", target_is_directory=True)
    (tree / "alpha" / "nginx" / "nginx.conf").write_text(
        "events {}\nhttp {\n    include shared/*.conf;\n    server {\n        listen 8080;\n    }\n}\n", encoding="utf-8")
    def tokens_findings(report: str) -> list[str]:
        return [f"{item['rule_id']} {item['file']}:{item['line']}" for item in json.loads(report)["findings"]
                if item["file"] == "alpha/nginx/shared/tokens.conf"]

    first = scan_json(tree, tmp_path)
    assert tokens_findings(first) == []  # server_tokens off
    shared.write_text("server_tokens on;\n", encoding="utf-8")
    parsed.clear()
    second = scan_json(tree, tmp_path)
    assert "alpha" in parsed  # not from the cache
    assert tokens_findings(second) == ["NG012 alpha/nginx/shared/tokens.conf:1"]
    assert second == scan_json(tree, tmp_path, "--no-cache")


def test_a_damaged_entry_of_a_kept_tree_sends_the_tree_to_the_workers(tree: Path, home: Path, pools: list[int],
                                                                      tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The main process looks an entry up by its name; one that turns out unreadable when it is
    used (damaged, removed since) is a miss like any other: the tree goes to the workers, the
    report is the same, and the entry is written again."""
    monkeypatch.setattr(parallel, "POOL_THRESHOLD", 0)
    monkeypatch.setattr(cache, "_RACY_SECONDS", -1.0)  # the tree was written just now
    first = scan_json(tree, tmp_path, "--jobs", "2")
    damaged = entries(home)[-1]
    _damage_flip(damaged)
    assert scan_json(tree, tmp_path, "--jobs", "2") == first
    assert len(pools) == 2
    assert scan_json(tree, tmp_path, "--jobs", "2") == first
    assert len(pools) == 2  # rewritten by a worker: the whole tree is kept again


def test_a_new_entry_is_written_in_place_and_an_existing_one_replaced_whole(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A new entry is created where it goes (no temporary file and rename: on ext4 each created
    file costs ~0.3 ms, and a cold run writes one a project); one already there is replaced whole
    through a temporary file, so a reader finds the old entry or the new one. Half written (a
    killed run), an entry is a miss, and the next write replaces it."""
    from auditor.store import FORMAT, open_store

    renames: list[tuple[str, str]] = []
    real = os.replace

    def observed(source, target):  # type: ignore[no-untyped-def]
        renames.append((str(source), str(target)))
        real(source, target)

    monkeypatch.setattr(os, "replace", observed)
    store = open_store(str(tmp_path / "cache"))
    assert store is not None
    entry = Path(entry_path(str(tmp_path / "cache"), "results", "ab" * 32))
    store.write("results", "ab" * 32, b"the outcome")
    assert renames == [] and store.read("results", "ab" * 32) == b"the outcome"
    assert entry.stat().st_mode & 0o777 == 0o600
    store.write("results", "ab" * 32, b"another outcome")
    assert [target for _, target in renames] == [str(entry)]
    assert store.read("results", "ab" * 32) == b"another outcome"
    entry.write_bytes(entry.read_bytes()[:len(FORMAT) + 40])  # a run killed while writing it
    assert store.read("results", "ab" * 32) is None
    store.write("results", "ab" * 32, b"the outcome")
    assert store.read("results", "ab" * 32) == b"the outcome"
    assert sorted(p.name for p in entry.parent.iterdir()) == [entry.name]  # no temporary file left


def test_a_failed_write_leaves_another_runs_entry_at_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run A creates the entry and fails to write it (a full disk) after run B has replaced it
    whole: A removes only what it created, so B's entry stays."""
    from auditor import store as store_module

    opened = store_module.open_store(str(tmp_path / "auditor"))
    assert opened is not None
    other = store_module.open_store(str(tmp_path / "auditor"))  # run B, same folder and key
    assert other is not None
    real_write_all = store_module._write_all

    def full_disk(descriptor: int, parts: list[Any]) -> None:
        monkeypatch.setattr(store_module, "_write_all", real_write_all)  # B writes as ever
        other.write("results", "ab" * 32, b"B, whole")  # and replaces the path meanwhile
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_module, "_write_all", full_disk)
    opened.write("results", "ab" * 32, b"A, cut short")
    assert opened.read("results", "ab" * 32) == b"B, whole"


def test_a_write_whose_new_file_cannot_be_examined_gives_up_quietly(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor import store as store_module

    opened = store_module.open_store(str(tmp_path / "auditor"))
    assert opened is not None
    real_fstat = os.fstat

    def failing(descriptor: int) -> os.stat_result:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fstat", failing)
    opened.write("results", "cd" * 32, b"first")  # no exception, no descriptor left open
    monkeypatch.setattr(os, "fstat", real_fstat)
    assert opened.read("results", "cd" * 32) is None  # the empty file it made is a miss
    opened.write("results", "cd" * 32, b"second")  # and the next write replaces it whole
    assert opened.read("results", "cd" * 32) == b"second"


def test_a_rendered_overlay_whose_base_discovery_leaves_out_is_never_kept(
        tree: Path, home: Path, parsed: list[str], tmp_path: Path) -> None:
    """kubectl kustomize reads the overlay's folders itself, a git-ignored base included, which
    is in no cache key: the rendering partition is parsed again on every run, and a change to the
    base shows (found by review: the cached run dropped a privileged container)."""
    import shutil

    project = tree / "alpha" / "k8s"
    shutil.copytree(Path(__file__).resolve().parent.parent / "fixtures" / "kustomize" / "base", project / "base")
    (project / "kustomization.yaml").write_text("resources:\n  - base\n", encoding="utf-8")
    (tree / ".gitignore").write_text("alpha/k8s/base/\n", encoding="utf-8")
    (tree / ".git").mkdir()

    def privileged(report: str) -> list[str]:
        return [f"{item['rule_id']} {item['file']}" for item in json.loads(report)["findings"]
                if "privileged: true" in item["message"]]

    first = scan_json(tree, tmp_path)
    assert privileged(first) == []
    deployment = project / "base" / "deployment.yaml"
    text = deployment.read_text(encoding="utf-8")
    assert text.count("privileged: false") == 1
    deployment.write_text(text.replace("privileged: false", "privileged: true"), encoding="utf-8")
    parsed.clear()
    second = scan_json(tree, tmp_path)
    assert "alpha" in parsed and parsed.count("bravo") == 0  # only the rendering partition again
    assert privileged(second) and second == scan_json(tree, tmp_path, "--no-cache")


@pytest.mark.parametrize("kind", ["results", "catalog"])
def test_an_entry_written_in_parts_is_the_entry_of_their_concatenation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                       kind: str) -> None:
    """A partition's record is written from its parts (head, pickled outcome) without joining
    them: the file, its signature and what is read back are those of the joined bytes, also when
    the system writes fewer bytes than asked at a time."""
    from auditor import store as store_module

    opened = store_module.open_store(str(tmp_path / "auditor"))
    assert opened is not None
    opened.write(kind, "ab" * 32, b"abcdefgh")
    whole = Path(entry_path(str(tmp_path / "auditor"), kind, "ab" * 32)).read_bytes()
    real_writev = os.writev

    def three_at_a_time(descriptor: int, buffers: list[memoryview]) -> int:
        return real_writev(descriptor, [bytes(buffers[0])[:3]])

    monkeypatch.setattr(os, "writev", three_at_a_time)
    opened.write(kind, "cd" * 32, [b"ab", memoryview(b"cde"), b"", bytearray(b"fgh")])
    parted = Path(entry_path(str(tmp_path / "auditor"), kind, "cd" * 32))
    assert opened.read(kind, "cd" * 32) == b"abcdefgh"
    assert parted.read_bytes() != whole  # signed for its own key ...
    parted.write_bytes(whole)
    assert opened.read(kind, "cd" * 32) is None  # ... so another key's entry does not pass for it
    opened.write(kind, "ab" * 32, [b"abcd", b"efgh"])  # replacing an entry, in parts
    assert Path(entry_path(str(tmp_path / "auditor"), kind, "ab" * 32)).read_bytes() == whole
    for bytes_like in (bytearray(b"abcdefgh"), memoryview(b"abcdefgh")):  # one part, not its bytes one by one
        opened.write(kind, "ef" * 32, bytes_like)
        assert opened.read(kind, "ef" * 32) == b"abcdefgh"


def test_a_file_is_outside_the_partitions_unless_a_folder_above_it_is_one() -> None:
    """What the key's outside digest covers: files at the root and in folders no partition holds
    (a partition's folder may be nested: ``services/api``)."""
    folders = {"alpha", "services/api"}
    assert [path for path in ["alpha/Dockerfile", "alpha/k8s/a.yaml", "alphabet/Dockerfile", "Makefile",
                              "services/api/Dockerfile", "services/web/Dockerfile", "services/api",
                              "alpha"] if not cache._under_any(path, folders)] == [
        "alphabet/Dockerfile", "Makefile", "services/web/Dockerfile", "services/api", "alpha"]


def test_an_outcome_parsed_from_a_file_changed_after_hashing_is_not_kept(tree: Path, home: Path, parsed: list[str],
                                                                          tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """nginx files are read by their parser, not from the bytes hashed: one changed between its
    hashing and its parsing makes an outcome of other bytes than the key covers, which is not
    kept. (Kept, it would be served once the file reads as it did when hashed.)"""
    conf = tree / "bravo" / "nginx.conf"
    hashed = "events {}\nhttp {\n  server {\n    listen 80;\n    server_tokens off;\n  }\n}\n"
    conf.write_text(hashed, encoding="utf-8")
    expected = scan_json(tree, tmp_path, "--no-cache")
    real = parallel._parse_and_check

    def swapped(found, rule_ids, config, *contents):  # type: ignore[no-untyped-def]
        if "bravo/nginx.conf" in found.files:  # hashed by now; parsed as it is next
            conf.write_text(hashed.replace("server_tokens off", "server_tokens on"), encoding="utf-8")
        return real(found, rule_ids, config, *contents)

    monkeypatch.setattr(parallel, "_parse_and_check", swapped)
    assert scan_json(tree, tmp_path) != expected  # (what was parsed: server_tokens on)
    monkeypatch.setattr(parallel, "_parse_and_check", real)
    conf.write_text(hashed, encoding="utf-8")  # the bytes the key was made of, back
    assert scan_json(tree, tmp_path) == expected


def test_only_the_text_the_parsers_take_is_kept_from_hashing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bytes read to hash a partition are kept for the parsers only for the kinds they read
    as text, and only up to a budget: an image or a bundle beside the Dockerfile, or thousands of
    manifests, never sit in memory while the partition is parsed and checked."""
    from auditor.discovery import discover
    from auditor.store import open_store

    project = tmp_path / "tree" / "app"
    (project / "k8s").mkdir(parents=True)
    (project / "Dockerfile").write_text(NON_ROOT, encoding="utf-8")
    (project / "logo.png").write_bytes(b"\x89PNG" + bytes(3 * 1024 * 1024))
    (project / "nginx.conf").write_text("events {}\n", encoding="utf-8")
    for number in range(8):
        (project / "k8s" / f"m{number}.yaml").write_text("kind: ConfigMap\n" + "# padding\n" * 60_000,
                                                          encoding="utf-8")  # 600 KB each
    store = open_store(str(tmp_path / "cache"))
    assert store is not None
    results = cache.ResultCache(store, "run", 5 * 1024 * 1024)
    found = discover([tmp_path / "tree"], tmp_path / "tree")
    monkeypatch.setattr(cache, "_KEPT_BYTES", 2 * 1024 * 1024)
    entry = results.lookup(found, "app/")
    assert entry.key is not None
    kept = entry.known.contents
    assert "app/Dockerfile" in kept and not {"app/logo.png", "app/nginx.conf"} & set(kept)
    assert 3 <= sum(path.startswith("app/k8s/") for path in kept) < 8  # up to the budget, then no more
    assert entry.known.kept_bytes == sum(map(len, kept.values())) < 2 * 1024 * 1024 + 700_000


def test_an_entry_in_a_pack_is_read_only_where_it_is_and_as_itself(tmp_path: Path) -> None:
    """A pack's entries are verified one by one: read at its place under its own kind and key, an
    entry is there; any other place, key, kind or pack name (one that is not a pack's, such as a
    path climbing out of the folder) reads nothing, and nothing outside the packs is opened."""
    from auditor.store import open_store

    store = open_store(str(tmp_path / "auditor"))
    assert store is not None
    pack = store.pack("results")
    first = pack.append("ab" * 32, b"the first outcome")
    second = pack.append("cd" * 32, [b"the second ", memoryview(b"outcome")])
    pack.close()
    assert first is not None and second is not None and first[0] == second[0]
    assert store.read_at("results", "ab" * 32, first) == b"the first outcome"
    assert store.read_at("results", "cd" * 32, second) == b"the second outcome"
    assert store.read_prefix_at("results", "cd" * 32, second, 3) == b"the"
    assert store.read_at("results", "cd" * 32, first) is None  # another entry's place
    assert store.read_at("catalog", "ab" * 32, first) is None  # another kind
    name, offset, length = first
    packs_folder = tmp_path / "auditor" / "results" / "packs"
    whole = (packs_folder / name).read_bytes()
    # the same bytes under names that are not a pack's: one climbing out of the packs' folder, one
    # in capitals; and a location before the start of the file
    for decoy in (tmp_path / "auditor" / "results" / ("x" * 29), packs_folder / ("A" * 32)):
        decoy.write_bytes(whole)
        decoy.chmod(0o600)  # ours alone, as a pack is: only its name makes it no pack
    for location in ([name, offset + 1, length], [name, offset, length - 1]):
        assert store.read_at("results", "ab" * 32, location) is None  # (a prefix is read unverified)
    for location in ([name, offset, length + 10 ** 6], [name, -1, length], ["../" + "x" * 29, offset, length],
                     ["A" * 32, offset, length], [name, float(offset), length], [name, offset], "nothing", None):
        assert store.read_at("results", "ab" * 32, location) is None
        assert store.read_prefix_at("results", "ab" * 32, location, 3) is None


def test_a_pack_whose_write_fails_keeps_what_it_wrote_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk part way through an entry ends the pack: the entries before are still read,
    the half-written one and any later one are not kept (no place is given for them)."""
    from auditor import store as store_module

    opened = store_module.open_store(str(tmp_path / "auditor"))
    assert opened is not None
    pack = opened.pack("results")
    kept = pack.append("ab" * 32, b"written whole")
    real = store_module._write_all

    def full_disk(descriptor: int, parts: list[bytes]) -> None:
        os.write(descriptor, b"auditor-ca")  # part of the format line, then the disk is full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_module, "_write_all", full_disk)
    assert pack.append("cd" * 32, b"cut short") is None
    monkeypatch.setattr(store_module, "_write_all", real)
    assert pack.append("ef" * 32, b"after") is None  # the pack ended with the failed write
    pack.close()
    assert kept is not None and opened.read_at("results", "ab" * 32, kept) == b"written whole"


def test_a_damaged_index_is_a_miss_for_the_whole_tree(tree: Path, home: Path, parsed: list[str],
                                                                  tmp_path: Path) -> None:
    """The index is a signed entry like any other: damaged, it finds no record; the run parses
    the tree and writes a new one."""
    first = scan_json(tree, tmp_path)
    index = next(p for p in (home / "auditor" / "results-index").rglob("*") if p.is_file())
    _damage_flip(index)
    parsed.clear()
    assert scan_json(tree, tmp_path) == first
    assert sorted(parsed) == list(PROJECTS)
    parsed.clear()
    assert scan_json(tree, tmp_path) == first and parsed == []


def test_a_scan_of_some_projects_leaves_the_others_indexed(tree: Path, home: Path, parsed: list[str], tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A pre-commit run reads only the projects of the files it is given; the index it saves
    still finds every other project's record, so the next full scan parses nothing."""
    first = scan_json(tree, tmp_path)
    monkeypatch.chdir(tree)
    (tree / "alpha" / "Dockerfile").write_text(NON_ROOT, encoding="utf-8")
    parsed.clear()
    scan_json(["alpha/Dockerfile", "bravo/docker-compose.yml"], tmp_path)
    assert parsed == ["alpha"]  # bravo's record found; charlie's not looked at
    parsed.clear()
    whole = scan_json(tree, tmp_path)
    assert parsed == []  # charlie's record still indexed
    assert len(entries(home)) == 3
    assert whole == scan_json(tree, tmp_path, "--no-cache") != first


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_run_stopped_part_way_keeps_what_it_did(tree: Path, home: Path, parsed: list[str], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch, jobs: str) -> None:
    """Ctrl-C (or a CI job's timeout) while the third project is parsed: the next run parses
    only that one, the two before it are found where the stopped run wrote them (in this
    process, or in the workers of a pool, whose chunks merged before the stop are indexed)."""
    real = parallel._parse_and_check
    monkeypatch.setattr(parallel, "POOL_THRESHOLD", 0)  # with --jobs 2, the pool even for three projects

    def stopped(found, rule_ids, config, *contents):  # type: ignore[no-untyped-def]
        if "charlie/Dockerfile" in found.files:
            raise KeyboardInterrupt
        return real(found, rule_ids, config, *contents)

    monkeypatch.setattr(parallel, "_parse_and_check", stopped)
    code = main(["scan", str(tree), "--no-external", "--jobs", jobs, "--fail-on", "none", "--quiet",
                 "--format", f"json:{tmp_path / 'stopped.json'}"])
    assert code == 130 if jobs == "1" else code != 0  # (a worker's interruption ends the run as an error)
    monkeypatch.setattr(parallel, "_parse_and_check", real)
    parsed.clear()
    assert scan_json(tree, tmp_path, "--jobs", "1") == scan_json(tree, tmp_path, "--no-cache")
    assert parsed[:1] == ["charlie"] and sorted(parsed[1:]) == list(PROJECTS)  # (then the --no-cache scan)


def test_the_old_packs_stay_while_the_new_index_cannot_be_written(tree: Path, home: Path, parsed: list[str],
                                                                   tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that rewrites every record but cannot write its index (a full disk) leaves the old
    index and the packs it names as they were: the next run still finds them."""
    from auditor.store import Store

    first = scan_json(tree, tmp_path)
    (kept_pack,) = packs(home)
    real_write = Store.write

    def no_index(self: Store, kind: str, key: str, payload: object) -> bool:
        return False if kind == "results-index" else real_write(self, kind, key, payload)  # type: ignore[arg-type]

    monkeypatch.setattr(Store, "write", no_index)
    parsed.clear()
    scan_json(tree, tmp_path, "--select", "DF008")  # another key: every record rewritten
    assert sorted(parsed) == list(PROJECTS) and kept_pack.exists()
    monkeypatch.setattr(Store, "write", real_write)
    parsed.clear()
    assert scan_json(tree, tmp_path) == first and parsed == []
