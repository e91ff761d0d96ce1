"""Kustomize: each overlay rendered by a real Kustomize, boxed, and audited as its own deployment.

A folder with ``kustomization.yaml`` that no other kustomization uses (as a resource, base or
component) is an entry point, an overlay; ``dev`` and ``prod`` are rendered and checked
separately, never merged. A base is audited through the overlays that use it. A manifest that a
kustomization references is audited only through the overlays (it is not deployed alone); a
manifest that no kustomization references is audited as a plain manifest (the audit cannot know
it is not applied with ``kubectl apply -f``, so it is checked rather than skipped).

Renderer: ``kubectl kustomize`` (kubectl carries Kustomize) or ``kustomize build``, on PATH. It
runs boxed (``parsers/render.py``) from a private folder outside the tree holding a one-line
wrapper kustomization that adds Kustomize's own origin annotations, with
``--load-restrictor LoadRestrictionsRootOnly`` and without plugins, exec functions or Helm. A
kustomization that names a remote resource (a URL, a Git repository) or a path outside the
audited tree is not rendered: it is reported as not checked.

A finding points at the file that set the value: a patch that writes the line, the ``images:``
entry that set the tag, or the resource file the object came from.
"""
from __future__ import annotations

import os
import posixpath
import tempfile
from pathlib import Path
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass, field
    from typing import Any
else:
    from auditor.record import dataclass, field

from auditor.pyyaml import yaml

from auditor.parsers.render import Limits, RenderError, program, run_boxed
from auditor.parsers.renderable import KUSTOMIZATION_NAMES

INSTALL_HINT = ("install a renderer: kubectl (which carries Kustomize, "
                "https://kubernetes.io/docs/tasks/tools/) or kustomize "
                "(https://kubectl.docs.kubernetes.io/installation/kustomize/) on PATH")
_REFERENCE_KEYS = ("resources", "bases", "components")
_FILE_KEYS = ("patchesStrategicMerge", "crds", "configurations")
_REMOTE_MARKERS = ("://", "git@", "github.com/", "gitlab.com/", "bitbucket.org/", "?ref=", "//")


@dataclass
class Kustomization:
    path: str                 # the kustomization file, relative to the scan root
    folder: str
    data: dict[str, Any]
    references: list[str] = field(default_factory=list)   # folders/files it pulls in (tree paths)
    files: list[str] = field(default_factory=list)        # every file it names (patches included)
    patches: list[str] = field(default_factory=list)
    problem: str | None = None                            # why it cannot be rendered


@dataclass
class OverlayRender:
    overlay: str              # folder, relative to the scan root
    renderer: str = ""
    documents: list[dict[str, Any]] = field(default_factory=list)  # {text, origin, transformers}
    error: str | None = None
    used: list[str] = field(default_factory=list)          # kustomization files of the overlay's graph

    @property
    def label(self) -> str:
        return f"Kustomize overlay {self.overlay or '.'}"


def is_kustomization(path: str) -> bool:
    return posixpath.basename(path) in KUSTOMIZATION_NAMES


def _join(folder: str, entry: str) -> str | None:
    if entry.startswith("/"):
        return None
    joined = posixpath.normpath(posixpath.join(folder, entry)) if folder else posixpath.normpath(entry)
    if joined == ".." or joined.startswith("../"):
        return None
    return "" if joined == "." else joined


def read_kustomization(path: str, text: str) -> Kustomization:
    folder = posixpath.dirname(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return Kustomization(path, folder, {}, problem=f"not valid YAML: {exc}")
    if not isinstance(data, dict):
        return Kustomization(path, folder, {}, problem="not a mapping")
    result = Kustomization(path, folder, data)

    def entries(key: str) -> list[str]:
        value = data.get(key)
        return [str(v) for v in value if isinstance(v, (str, int))] if isinstance(value, list) else []

    def add(entry: str, bucket: list[str]) -> None:
        if any(marker in entry for marker in _REMOTE_MARKERS):
            result.problem = f"it names a remote resource ({entry}), which the audit does not fetch"
            return
        joined = _join(folder, entry)
        if joined is None:
            result.problem = f"it names {entry}, outside the audited tree"
            return
        bucket.append(joined)
        result.files.append(joined)

    for key in _REFERENCE_KEYS:
        for entry in entries(key):
            add(entry, result.references)
    for key in _FILE_KEYS:
        for entry in entries(key):
            add(entry, result.patches)
    for key in ("patches", "patchesJson6902"):
        value = data.get(key)
        for item in value if isinstance(value, list) else []:
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                add(item["path"], result.patches)
    for key in ("configMapGenerator", "secretGenerator"):
        value = data.get(key)
        for item in value if isinstance(value, list) else []:
            for entry in (item.get("files") or []) if isinstance(item, dict) else []:
                if isinstance(entry, str):
                    add(entry.split("=", 1)[-1], result.files)
    for key in ("generators", "transformers", "validators", "helmCharts", "helmChartInflationGenerator"):
        if data.get(key):
            result.problem = f"it uses `{key}`, which runs plugins or programs; not rendered"
    return result


def entry_points(kustomizations: dict[str, Kustomization]) -> list[str]:
    """Overlay folders: kustomization folders that no other kustomization pulls in."""
    folders = {k.folder: k for k in kustomizations.values()}
    used = {ref for k in kustomizations.values() for ref in k.references}
    return sorted(folder for folder in folders if folder not in used)


def graph(overlay: str, kustomizations: dict[str, Kustomization]) -> list[Kustomization]:
    """The overlay's kustomization and every one it pulls in, transitively."""
    by_folder = {k.folder: k for k in kustomizations.values()}
    todo, seen, found = [overlay], set(), []
    while todo:
        folder = todo.pop()
        if folder in seen or folder not in by_folder:
            continue
        seen.add(folder)
        found.append(by_folder[folder])
        todo.extend(by_folder[folder].references)
    return found


def referenced_files(kustomizations: dict[str, Kustomization]) -> set[str]:
    """Every file some kustomization names (resources, patches): audited through overlays."""
    return {f for k in kustomizations.values() for f in k.files}


def renderer_command() -> list[str] | None:
    kubectl = program("kubectl")
    if kubectl:
        return [kubectl, "kustomize"]
    kustomize = program("kustomize")
    if kustomize:
        return [kustomize, "build"]
    return None


def render_overlay(root: Path, overlay: str, kustomizations: dict[str, Kustomization],
                   limits: Limits | None = None, command: list[str] | None = None) -> OverlayRender:
    """Render one overlay; never raises (a failure is ``.error``)."""
    limits = limits or Limits()
    result = OverlayRender(overlay)
    members = graph(overlay, kustomizations)
    result.used = [k.path for k in members]
    for member in members:
        if member.problem:
            result.error = f"{member.path}: {member.problem}"
            return result
    command = command or renderer_command()
    if command is None:
        result.error = f"no Kustomize renderer is available; {INSTALL_HINT}"
        return result
    result.renderer = " ".join(Path(command[0]).name.split()) + " " + command[1]
    real_root = os.path.realpath(root)
    target = os.path.realpath(root / overlay) if overlay else real_root
    if not (target == real_root or target.startswith(real_root + os.sep)):
        result.error = "the overlay folder leaves the audited tree (a symbolic link)"
        return result
    with tempfile.TemporaryDirectory(prefix="auditor-kustomize-") as work:
        wrapper = os.path.join(work, "wrapper")
        os.mkdir(wrapper)
        relative = os.path.relpath(target, wrapper)
        with open(os.path.join(wrapper, "kustomization.yaml"), "w", encoding="utf-8") as handle:
            yaml.safe_dump({"resources": [relative],
                            "buildMetadata": ["originAnnotations", "transformerAnnotations"]}, handle)
        try:
            output = run_boxed([*command, "--load-restrictor", "LoadRestrictionsRootOnly", wrapper], limits)
        except RenderError as exc:
            result.error = str(exc)
            return result
    for text in _documents(output):
        origin, transformers = _provenance(text, wrapper, real_root)
        result.documents.append({"text": text, "origin": origin, "transformers": transformers})
    return result


def _documents(stream: str) -> list[str]:
    documents: list[str] = []
    lines: list[str] = []
    for line in stream.splitlines(keepends=True):
        if line.rstrip() == "---":
            if "".join(lines).strip():
                documents.append("".join(lines))
            lines = []
        else:
            lines.append(line)
    if "".join(lines).strip():
        documents.append("".join(lines))
    return documents


def _tree_path(reported: str, wrapper: str, real_root: str) -> str | None:
    absolute = os.path.realpath(os.path.join(wrapper, reported))
    if absolute == real_root or absolute.startswith(real_root + os.sep):
        return os.path.relpath(absolute, real_root).replace(os.sep, "/")
    return None


def _provenance(text: str, wrapper: str, real_root: str) -> tuple[str | None, list[str]]:
    """(the file the object came from, the kustomization files whose transformers changed it)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None, []
    annotations = ((data or {}).get("metadata") or {}).get("annotations") or {} if isinstance(data, dict) else {}
    origin = None
    try:
        found = yaml.safe_load(annotations.get("config.kubernetes.io/origin") or "") or {}
        if isinstance(found, dict):
            origin = _tree_path(str(found.get("path") or found.get("configuredIn") or ""), wrapper, real_root)
    except yaml.YAMLError:
        pass
    transformers: list[str] = []
    try:
        steps = yaml.safe_load(annotations.get("alpha.config.kubernetes.io/transformations") or "") or []
        for step in steps if isinstance(steps, list) else []:
            where = _tree_path(str((step or {}).get("configuredIn") or ""), wrapper, real_root)
            if where and where not in transformers:
                transformers.append(where)
    except (yaml.YAMLError, AttributeError):
        pass
    return origin, transformers
