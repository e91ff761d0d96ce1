"""The catalog is whole and honest: every rule file validates, every rule has a check and every
check a rule, and each rule's documented examples really fail and pass (that every rule has
failing and passing cases is checked in tests/test_rule_cases.py)."""
from __future__ import annotations

import importlib
import os
import pkgutil
import re
from pathlib import Path

import pytest
import yaml

from auditor.api import scan
from auditor.catalog import load_catalog, rules_dir, validate_rule_documents
from tests.rule_cases import REPO

CATALOG = load_catalog()
CONTROLS_MD = REPO.parent / "shared" / "CONTROLS.md"


def test_every_rule_file_validates_against_the_schema() -> None:
    documents = {p.name: yaml.safe_load(p.read_text()) for p in sorted(rules_dir().glob("*.yaml"))}
    assert documents
    assert validate_rule_documents(documents) == []


def test_schema_rejects_a_broken_rule() -> None:
    broken = {"DF999.yaml": {"id": "DF999", "name": "Not Kebab", "severity": "urgent"}}
    errors = validate_rule_documents(broken)
    assert any("severity" in e for e in errors) and any("name" in e for e in errors)
    assert any("'title' is a required property" in e for e in errors)


def _check_modules() -> set[str]:
    import auditor.checks as checks

    found = set()
    for family in pkgutil.iter_modules(checks.__path__):
        package = importlib.import_module(f"auditor.checks.{family.name}")
        for module in pkgutil.iter_modules(package.__path__):
            if not module.name.startswith("_"):
                found.add(f"auditor.checks.{family.name}.{module.name}")
    return found


def test_every_rule_has_a_check_and_every_check_a_rule() -> None:
    expected = {rule.check_module for rule in CATALOG.values() if rule.has_check}
    modules = _check_modules()
    assert sorted(expected - modules) == [], "rules without a check module"
    assert sorted(modules - expected) == [], "check modules without a rule file"
    for name in modules:
        module = importlib.import_module(name)
        assert module.ID == name.rsplit(".", 1)[1].upper()
        assert callable(module.check)


@pytest.mark.parametrize("rule_id", [r.id for r in CATALOG.values() if r.examples])
def test_documented_examples_fail_and_pass(rule_id: str, tmp_path: Path) -> None:
    rule = CATALOG[rule_id]
    for label, should_fail in (("bad", True), ("good", False)):
        folder = tmp_path / label
        files = dict(rule.examples.get("context") or {})
        files[rule.examples["filename"]] = rule.examples[label]
        for name, text in files.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        result = scan([folder], select=[rule_id])
        fired = [f for f in result.findings if f.rule_id == rule_id]
        assert bool(fired) == should_fail, f"{rule_id} examples.{label}: findings {[f.message for f in fired]}"
        assert not [f for f in result.findings if f.rule_id == "AUD001"], f"{rule_id} examples.{label} must parse"


def test_catalog_ids_match_the_control_catalog() -> None:
    if not CONTROLS_MD.is_file():
        pytest.skip(f"{CONTROLS_MD} is not beside the repository")
    catalog_ids = set(re.findall(r"^\| ((?:DF|DC|NG|KS|NX|SC|XF)\d{3}) \|", CONTROLS_MD.read_text(), re.MULTILINE))
    ours = {rule_id for rule_id in CATALOG if not rule_id.startswith(("AUD", "AR"))}  # AR: issue 13, ours
    assert ours <= catalog_ids, f"rules not in CONTROLS.md: {sorted(ours - catalog_ids)}"


def _forge_catalog_entries(cache_home: Path) -> None:
    """What a scanned tree that holds the user's cache folder could plant there: the validated
    catalog with every rule switched to severity 'info', as the old unsigned ``rules-*.json`` file
    and as a store entry with a made-up signature."""
    import hashlib
    import json

    from auditor import catalog, store

    sources = catalog._read_sources(rules_dir())
    digest = hashlib.sha256((catalog.SCHEMA_DIR / "rule.schema.json").read_bytes())
    for name, data in sources.items():
        digest.update(name.encode() + b"\0" + data + b"\0")
    key = digest.hexdigest()
    documents = {}
    for data in sources.values():
        document = yaml.safe_load(data)
        documents[document["id"]] = {**document, "severity": "info"}
    payload = json.dumps(documents).encode()
    folder = cache_home / "auditor"
    planted = Path(store.entry_path(str(folder), "catalog", key))
    planted.parent.mkdir(parents=True)
    (folder / f"rules-{key[:32]}.json").write_bytes(payload)
    planted.write_bytes(store.FORMAT + bytes(32) + payload)


def test_a_catalog_planted_in_the_cache_folder_is_never_trusted(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    cache_home = tmp_path / "tree" / ".cache"  # a home directory audited, or a CI home in the checkout
    _forge_catalog_entries(cache_home)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    monkeypatch.delenv("AUDITOR_NO_CACHE", raising=False)
    load_catalog.cache_clear()
    try:
        rules = load_catalog()
        assert rules["DF001"].severity != "info"
        assert {rule.severity for rule in rules.values()} != {"info"}
        load_catalog.cache_clear()  # the second load reads the entry the first one signed
        assert load_catalog() == rules
    finally:
        load_catalog.cache_clear()


@pytest.fixture
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("AUDITOR_CACHE_DIR", raising=False)
    monkeypatch.delenv("AUDITOR_NO_CACHE", raising=False)
    load_catalog.cache_clear()
    yield tmp_path / "cache" / "auditor"
    load_catalog.cache_clear()


def test_a_second_load_reads_the_catalog_by_the_files_identity_without_reading_them(
        private_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor import catalog

    first = load_catalog()
    assert len(list((private_cache / "catalog-by-identity").rglob("*"))) == 2  # a folder and the entry
    load_catalog.cache_clear()

    def unread(directory: Path) -> dict[str, bytes]:
        raise AssertionError("the rule files were read")

    monkeypatch.setattr(catalog, "_read_sources", unread)
    assert load_catalog() == first


def test_an_edit_that_keeps_the_size_changes_the_identity_and_the_catalog(
        private_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from auditor import catalog

    rules = tmp_path / "rules"
    shutil.copytree(rules_dir(), rules)
    monkeypatch.setattr(catalog, "_RACY_SECONDS", -3600.0)  # the copies count as settled at once
    assert load_catalog(rules)["DF001"].severity == "medium"
    assert list((private_cache / "catalog-by-identity").rglob("*"))  # kept under the copies' identity
    load_catalog.cache_clear()
    rule = rules / "DF001.yaml"
    text = rule.read_text(encoding="utf-8")
    assert "severity: medium\n" in text
    status = rule.stat()
    rule.write_text(text.replace("severity: medium\n", "severity: low   \n", 1), encoding="utf-8")
    os.utime(rule, ns=(status.st_atime_ns, status.st_mtime_ns))  # even with its modification time put back
    assert rule.stat().st_size == status.st_size and rule.stat().st_mtime_ns == status.st_mtime_ns
    assert load_catalog(rules)["DF001"].severity == "low"  # the change time differs: the files are read


def test_a_forged_entry_under_the_files_identity_is_never_trusted(private_cache: Path) -> None:
    import marshal

    from auditor import catalog, store

    rules = load_catalog()
    identity, _ = catalog._files_identity(rules_dir())
    assert identity is not None
    documents = {rule.id: {"id": rule.id} for rule in rules.values()}  # what a tree could plant
    planted = Path(store.entry_path(str(private_cache), "catalog-by-identity", identity))
    assert planted.exists()  # the entry the first load wrote, replaced here by the tree's
    planted.write_bytes(store.FORMAT + bytes(32) + marshal.dumps(documents))
    load_catalog.cache_clear()
    assert load_catalog() == rules


def test_rule_files_changed_within_the_timestamps_grain_are_not_kept_by_identity(
        private_cache: Path, tmp_path: Path) -> None:
    """A just-written rule file could change again with the same times on a coarse file system:
    its identity is not recorded (the content-keyed entry still is)."""
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(rules_dir(), rules)
    assert load_catalog(rules)["DF001"].severity == "medium"
    assert not list((private_cache / "catalog-by-identity").rglob("*")) and list((private_cache / "catalog").rglob("*"))


def test_a_catalog_store_inside_an_audited_tree_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tree that holds the user's cache folder (its home audited, a CI home in the checkout) with a
    key of its own and a catalog signed with it, every severity lowered to info: trusted before
    the tree is named, never once it is."""
    import json

    from auditor import catalog, store

    tree = tmp_path / "tree"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tree / ".cache"))
    monkeypatch.delenv("AUDITOR_NO_CACHE", raising=False)
    monkeypatch.setattr(catalog, "_AUDITED_TREES", [])
    load_catalog.cache_clear()
    try:
        genuine = load_catalog()  # writes the entries a tree could ship, signed with the key it ships
        planted = store.open_store(str(tree / ".cache" / "auditor"))
        assert planted is not None
        sources = catalog._read_sources(rules_dir())
        documents = {rule_id: {**json.loads(json.dumps(document)), "severity": "info"}
                     for rule_id, document in catalog._parse_and_validate(sources).items()}
        for kind, key, payload in (("catalog", _content_key(sources), json.dumps(documents).encode()),
                                   ("catalog-by-identity", catalog._files_identity(rules_dir())[0],
                                    __import__("marshal").dumps(documents))):
            planted.write(kind, str(key), payload)
        load_catalog.cache_clear()
        assert {rule.severity for rule in load_catalog().values()} == {"info"}  # the attack, unnamed
        catalog.distrust_inside(tree)  # what scan, baseline, report and model do first
        assert load_catalog() == genuine
    finally:
        load_catalog.cache_clear()


def _content_key(sources: dict[str, bytes]) -> str:
    from auditor import catalog
    from auditor.digests import content_digest

    digest = content_digest()
    digest.update((catalog.SCHEMA_DIR / "rule.schema.json").read_bytes())
    for name, data in sources.items():
        digest.update(name.encode() + b"\0" + data + b"\0")
    return digest.hexdigest()


def test_the_scan_command_names_its_tree_before_it_loads_the_catalog(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor import catalog
    from auditor.cli import main

    named: list[tuple[str, ...]] = []
    real = catalog.distrust_inside
    monkeypatch.setattr(catalog, "distrust_inside", lambda *trees: named.append(tuple(map(str, trees))) or real(*trees))
    tree = tmp_path / "tree"
    (tree / "app").mkdir(parents=True)
    (tree / "app" / "Dockerfile").write_text("FROM node:20-alpine\nUSER 1001\n", encoding="utf-8")
    monkeypatch.setattr(catalog, "_AUDITED_TREES", [])
    main(["scan", str(tree), "--no-external", "-q", "--no-cache", "--fail-on", "none"])
    assert named and str(tree) in named[0]


def test_catalog_entries_unused_for_a_month_are_pruned_too(tmp_path: Path) -> None:
    import time

    from auditor import store

    folder = tmp_path / "auditor"
    opened = store.open_store(str(folder))
    assert opened is not None
    old = time.time() - 31 * 86400
    for kind in ("catalog", "catalog-by-identity"):
        opened.write(kind, "ab" * 32, b"{}")
        os.utime(store.entry_path(str(folder), kind, "ab" * 32), (old, old))
    os.utime(folder / "pruned", (old, old))
    store.open_store(str(folder))  # prunes once a day
    assert not [path for kind in ("catalog", "catalog-by-identity") for path in (folder / kind).rglob("ab" * 32)]
