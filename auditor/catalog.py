"""The rule catalog: ``rules/*.yaml`` loaded, validated against ``schemas/rule.schema.json`` and
cached.

Validation needs jsonschema and YAML parsing needs PyYAML, together most of a cold start; so the
validated catalog is cached in the user's cache folder (the signed store of ``auditor.cache``),
keyed by a digest of every rule file's bytes (and the schema's), which makes a stale cache
impossible: any edit changes the key. Reading and hashing the 79 files and decoding the JSON entry
was itself a twentieth of a cold one-project scan, so the catalog is also kept under the files'
identities (name, size, inode, modification and change times: what any edit changes, as Python
trusts a module's bytecode by its source's size and time) in ``marshal``'s format; when an identity
has changed, the files are read and the content-keyed entry decides.
"""
from __future__ import annotations

import json
import marshal
import os
import sys
from functools import cache
from pathlib import Path
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass, field
    from typing import Any
else:
    from auditor.record import dataclass, field

from auditor.architecture.profile import known_names as known_profile_names
from auditor.architecture.profile import parameter_value, resolved
from auditor.digests import content_digest
from auditor.params import KINDS

if TYPE_CHECKING:
    from auditor.store import Store

PACKAGE_DIR = Path(__file__).resolve().parent
SCHEMA_DIR = PACKAGE_DIR / "schemas"
FAMILY_BY_PREFIX = {"DF": "dockerfile", "DC": "compose", "NG": "nginx", "KS": "kubernetes",
                    "NX": "nextjs", "SC": "supply_chain", "XF": "cross_file", "AR": "architecture",
                    "AUD": "auditor"}


class CatalogError(Exception):
    """A rule file is missing, unreadable or invalid: a defect of the installation, not of user input."""


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    title: str
    family: str
    target: str
    severity: str
    summary: str
    rationale: str
    remediation: str
    references: tuple[dict[str, str], ...]
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    examples: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    frameworks: tuple[str, ...] = ()
    applies_to: tuple[str, ...] = ("app", "proxy", "other")  # workload roles (see model.deployment.ROLES)
    note_severity: str | None = None  # the severity of the control's notes (findings short of a failure)

    @property
    def severity_label(self) -> str:
        """``high`` or ``high (notes: info)``, as every listing of the catalog shows it."""
        return f"{self.severity} (notes: {self.note_severity})" if self.note_severity else self.severity

    @property
    def defaults(self) -> dict[str, Any]:
        return {name: spec["default"] for name, spec in self.parameters.items()}

    @property
    def check_module(self) -> str:
        """Where the check lives: ``auditor.checks.dockerfile.df008``."""
        return f"auditor.checks.{self.family}.{self.id.lower()}"

    @property
    def has_check(self) -> bool:
        return self.target not in ("external", "engine")


def rules_dir() -> Path:
    """``auditor/_rules`` inside an installed wheel; the repository's ``rules/`` in a checkout."""
    bundled = PACKAGE_DIR / "_rules"
    return bundled if bundled.is_dir() else PACKAGE_DIR.parent / "rules"


_AUDITED_TREES: list[Path] = []  # see distrust_inside


def distrust_inside(*trees: Path | str) -> None:
    """Name trees this process audits: the catalog's store is not used while its folder lies inside
    one of them (one's home audited, a CI home inside the checkout), since the tree could hold a
    key of its own and entries signed with it, and a catalog with every severity lowered would
    turn a failing gate into a passing one. The incremental cache refuses such a folder the same
    way (``auditor.store.cache_folder``). Catalogs loaded before are dropped: they may have come
    from there. Called by every command that reads a tree, before it loads the catalog."""
    new = [tree for tree in (Path(os.path.abspath(item)) for item in trees) if tree not in _AUDITED_TREES]
    if new:
        _AUDITED_TREES.extend(new)
        load_catalog.cache_clear()


def _catalog_store() -> Store | None:
    """The signed store of the user's cache folder (``auditor.cache``), or None when caching is
    off, the folder is not private (``auditor.store``) or lies inside an audited tree
    (``distrust_inside``). The validated catalog is trusted from it only under the user's own key:
    a ``rules-*.json`` or a store entry that a scanned tree holds can never stand in for the rules."""
    if os.environ.get("AUDITOR_NO_CACHE", "").strip().lower() in ("1", "true", "yes"):  # as config reads it
        return None
    from auditor.store import cache_folder, default_folder, open_store

    if any(cache_folder(None, tree) is None for tree in _AUDITED_TREES):  # as the results cache decides
        return None
    return open_store(str(default_folder()))


def _read_sources(directory: Path) -> dict[str, bytes]:
    try:
        names = sorted(name for name in os.listdir(directory) if name.endswith(".yaml") and name != ".yaml")
    except OSError as exc:
        raise CatalogError(f"rule folder {directory} is not readable: {exc}") from exc
    if not names:
        raise CatalogError(f"no rule files in {directory}: is the package installed whole?")
    sources = {}
    for name in names:
        with open(os.path.join(directory, name), "rb") as handle:
            sources[name] = handle.read()
    return sources


def validate_rule_documents(documents: dict[str, Any]) -> list[str]:
    """Every schema violation across the rule files, as ``FILE: path: message`` lines."""
    import jsonschema

    schema = json.loads((SCHEMA_DIR / "rule.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = []
    for filename, document in sorted(documents.items()):
        for error in validator.iter_errors(document):
            pointer = "/".join(str(part) for part in error.absolute_path) or "(top)"
            errors.append(f"{filename}: {pointer}: {error.message}")
        if isinstance(document, dict):
            errors += _parameter_problems(filename, document.get("parameters") or {})
        if isinstance(document, dict) and filename != f"{document.get('id')}.yaml":
            errors.append(f"{filename}: id {document.get('id')!r} does not match the file name")
    return errors


def _parameter_problems(filename: str, parameters: dict[str, Any]) -> list[str]:
    """A ``profile:`` that names no profile value, a ``default`` that is not of its ``kind``."""
    from auditor.params import ParameterError, convert

    problems = []
    for name, spec in parameters.items():
        if not isinstance(spec, dict):
            continue
        if "profile" in spec and spec["profile"] not in known_profile_names():
            problems.append(f"{filename}: parameters/{name}/profile: {spec['profile']!r} is not a profile "
                            f"value (auditor/architecture/profile.py)")
        if "default" in spec and spec.get("kind") in KINDS:
            try:
                convert(name, spec, spec["default"])
            except ParameterError as error:
                problems.append(f"{filename}: parameters/{error}")
    return problems


def _parse_and_validate(sources: dict[str, bytes]) -> dict[str, Any]:
    from auditor.pyyaml import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    documents = {}
    for filename, data in sources.items():
        try:
            documents[filename] = yaml.load(data, Loader=loader)
        except yaml.YAMLError as exc:
            raise CatalogError(f"rule file {filename} is not valid YAML: {exc}") from exc
    errors = validate_rule_documents(documents)
    if errors:
        raise CatalogError("invalid rule files:\n  " + "\n  ".join(errors))
    return {doc["id"]: doc for doc in documents.values()}


@cache
def load_catalog(directory: Path | None = None) -> dict[str, Rule]:
    """Every rule, by ID, in ID order."""
    directory = directory or rules_dir()
    store = _catalog_store()
    identity, settled = _files_identity(directory) if store is not None else (None, False)
    documents = _documents_by_identity(store, identity) if store is not None and identity else None
    if documents is None:
        documents = _documents_by_content(directory, store)
        if store is not None and identity and settled:
            store.write("catalog-by-identity", identity, marshal.dumps(documents))
    defaults = resolved()  # the profile's defaults, computed once for every rule
    return {rule_id: _rule(documents[rule_id], defaults) for rule_id in sorted(documents)}


def _documents_by_content(directory: Path, store: Store | None) -> dict[str, Any]:
    """The rule files read, and their validated documents from the entry keyed by their bytes, or
    parsed and validated (and that entry written)."""
    sources = _read_sources(directory)
    digest = content_digest()
    digest.update((SCHEMA_DIR / "rule.schema.json").read_bytes())
    for name, data in sources.items():
        digest.update(name.encode() + b"\0" + data + b"\0")
    key = digest.hexdigest()
    if store is not None:
        cached = store.read("catalog", key)
        try:
            documents = json.loads(cached) if cached is not None else None
        except ValueError:
            documents = None
        if isinstance(documents, dict):
            return documents
    documents = _parse_and_validate(sources)
    if store is not None:
        store.write("catalog", key, json.dumps(documents).encode())
    return documents


# A file changed this recently may change again without its times changing, where they have a
# coarse grain (1 s on HFS+, 2 s on FAT, a jiffy on older Linux): an identity is recorded only once
# every file is older (git's "racy" entries; auditor.cache waits the same for a file's digest).
_RACY_SECONDS = 2.0


def _files_identity(directory: Path) -> tuple[str | None, bool]:
    """A digest of what identifies the rule files and the schema as they are on disk (each one's
    name, size, inode, modification and change time in nanoseconds) and of this interpreter's
    ``marshal`` format, and whether every file is settled (older than ``_RACY_SECONDS``); None
    when the folder cannot be listed (the content decides then). An edit changes the size or the
    times (the change time even when the modification time is put back) beyond their grain."""
    import time

    digest = content_digest()
    digest.update(f"{sys.version}\0{marshal.version}\0".encode())
    try:
        with os.scandir(directory) as entries:
            found = sorted((entry.name, entry.stat()) for entry in entries
                           if entry.name.endswith(".yaml") and entry.name != ".yaml")
        found.append(("rule.schema.json", os.stat(SCHEMA_DIR / "rule.schema.json")))
    except OSError:
        return None, False
    for name, status in found:
        digest.update(f"{name}\0{status.st_size}\0{status.st_ino}\0{status.st_mtime_ns}\0"
                      f"{status.st_ctime_ns}\0".encode())
    newest = max(max(status.st_mtime_ns, status.st_ctime_ns) for _, status in found) / 1e9
    return digest.hexdigest(), time.time() - newest > _RACY_SECONDS


def _documents_by_identity(store: Store, identity: str) -> dict[str, Any] | None:
    """The validated documents kept under the files' identity: ``marshal`` data, read only from an
    entry signed under the user's own key (the store checks it), so it is the auditor's own."""
    cached = store.read("catalog-by-identity", identity)
    if cached is None:
        return None
    try:
        documents = marshal.loads(cached)
    except (EOFError, ValueError, TypeError):
        return None
    return documents if isinstance(documents, dict) else None


def _rule(doc: dict[str, Any], defaults: dict[str, Any] | None = None) -> Rule:
    return Rule(
        id=doc["id"], name=doc["name"], title=doc["title"], family=doc["family"],
        target=doc["target"], severity=doc["severity"], summary=doc["summary"].strip(),
        rationale=doc["rationale"].strip(), remediation=doc["remediation"].strip(),
        references=tuple(doc["references"]), parameters=_with_profile_defaults(doc.get("parameters") or {}, defaults),
        examples=doc.get("examples") or {}, tags=tuple(doc.get("tags") or ()),
        frameworks=tuple(doc.get("frameworks") or ()),
        applies_to=tuple(doc.get("applies_to") or ("app", "proxy", "other")),
        note_severity=doc.get("note_severity"))


def _with_profile_defaults(parameters: dict[str, Any], defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``profile:`` parameter's default is the profile's default (declared once, in
    ``auditor/architecture/profile.py``), converted as its ``profile_as`` says."""
    if not any("profile" in spec for spec in parameters.values()):
        return dict(parameters)
    if defaults is None:
        defaults = resolved()
    filled = {}
    for name, spec in parameters.items():
        if "profile" in spec:
            spec = {**spec, "default": parameter_value(spec, defaults)}
        filled[name] = spec
    return filled
