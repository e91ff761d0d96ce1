"""Discovered files -> ``Project``: each file read once, decoded once and given to its parser.

Every parse runs under the per-file time budget (``parse_timeout``, see ``parsers/limits.py``).
Not checked fails closed: a file of an audited kind that runs out of the budget, is over the size
cap, has lines too long to parse in bounded time, or cannot be read becomes a ``NotChecked``
problem (an AUD003 finding, so the gate fails) and its target is marked not checked
(``unparsed``: its controls are ``error``), never passed and never not applicable.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import replace
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from types import MappingProxyType
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing

from auditor import progress
from auditor.discovery import Discovered
from auditor.model.dockerignore import parse_dockerignore
from auditor.model.project import Project
from auditor.model.span import Note, NotChecked, ParseProblem, Span
from auditor.model.yaml import YamlDocument, YMap
from auditor.parsers.compose import parse_compose
from auditor.parsers.dockerfile import parse_dockerfile
from auditor.parsers.limits import ParseTimeout, time_budget
from auditor.parsers.renderable import CHART_FILE, any_renderable
from auditor.parsers.yaml_loader import load_yaml_documents
from auditor.patterns import on_first_use
from auditor.regular_file import READ_CAP, read_regular_file

if TYPE_CHECKING:
    from typing import Any, TypeVar

    from auditor.model.compose import ComposeFile
    from auditor.model.deployment import SystemModel
    from auditor.model.dockerfile import Dockerfile
    from auditor.model.dockerignore import DockerIgnore
    from auditor.model.kubernetes import KubernetesSet
    from auditor.model.nextjs import NextApp
    from auditor.model.nginx import NginxConfig
    from auditor.parsers.configmap_nginx import Mount
    from auditor.parsers.kustomize import Kustomization
    from auditor.parsers.render import Limits

_TEMPLATE = on_first_use(r"\{\{.*?\}\}", re.DOTALL)
# No real Dockerfile has a line this long, and splitting a RUN line into shell words (what the
# checks do) costs time quadratic in the length of one word: a 4 MB line would take minutes.
MAX_DOCKERFILE_LINE = 100_000
if TYPE_CHECKING:
    _T = TypeVar("_T")


def read_text(root: Path, relative: str, contents: dict[str, bytes] | None = None, cap: int = READ_CAP
              ) -> tuple[str | None, ParseProblem | None]:
    """The file as text, or the problem that stopped it: unreadable, over ``cap`` bytes, binary,
    not UTF-8. ``contents``: bytes already read (by relative path), taken from there instead of
    the disk (the incremental cache read them to hash them: what is parsed is what was hashed)."""
    progress.file_done()  # the progress display's count (a no-op unless `auditor scan` shows one)
    data = contents.pop(relative, None) if contents else None
    if data is None:
        try:
            data = read_regular_file(f"{root}/{relative}", cap)
        except OSError as exc:
            return None, NotChecked(Span(relative, 1), f"file not readable: {exc.strerror or exc}; not checked")
    if b"\0" in data[:8192]:
        return None, ParseProblem(Span(relative, 1), "binary content (NUL bytes) where text was expected")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return None, ParseProblem(Span(relative, line), f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})")


def _longest_line(text: str) -> tuple[int, int]:
    """(length, 1-based line number) of the longest line."""
    longest, number = 0, 1
    for index, line in enumerate(text.split("\n"), 1):
        if len(line) > longest:
            longest, number = len(line), index
    return longest, number


class _Build:
    """One project while it is being parsed: what every per-file-type step reads (the discovered
    files, the bounds) and what each adds (its models in ``parsed``, problems, notes, texts). A
    file that could not be checked is recorded in one place (``not_checked``)."""

    def __init__(self, found: Discovered, parse_timeout: float, max_include_depth: int,
                 max_file_size: int, helm_values: tuple[str, ...], contents: dict[str, bytes] | None = None) -> None:
        self.found, self.root = found, found.root
        self.contents = contents  # files' bytes already read, by relative path (read_text)
        self.parse_timeout, self.max_include_depth = parse_timeout, max_include_depth
        self.max_file_size, self.helm_values = max_file_size, helm_values
        self.sources: dict[str, str] = {}
        self.problems: list[ParseProblem] = []
        self.notes: list[Note] = []
        self.unparsed: dict[str, list[str]] = {}
        self.compose_files: list[ComposeFile] = []
        self.dockerfiles: list[Dockerfile] = []
        self.named_dockerfiles: list[str] = []
        self.dockerignores: list[DockerIgnore] = []
        self.charts: list[str] = []
        self.kustomizations: dict[str, Kustomization] = {}
        self.kubernetes: KubernetesSet | None = None
        self.rendered: list[KubernetesSet] = []
        self.unrendered: list[ParseProblem] = []
        self.mounts: list[Mount] = []
        self.nginx_configs: list[NginxConfig] = []
        self.next_apps: list[NextApp] = []

    def not_checked(self, target: str, path: str, problem: ParseProblem | None = None) -> None:
        """``path`` (of ``target``'s kind) was not checked: its controls end as error, never passed."""
        if problem is not None:
            self.problems.append(problem)
        self.unparsed.setdefault(target, []).append(path)

    def text_of(self, relative: str, target: str) -> str | None:
        text, problem = read_text(self.root, relative, self.contents, self.max_file_size)
        if text is None:
            self.not_checked(target, relative, problem)
            return None
        if target == "dockerfile" and len(text) > MAX_DOCKERFILE_LINE:
            length, line = _longest_line(text)
            if length > MAX_DOCKERFILE_LINE:
                self.not_checked(target, relative, NotChecked(Span(relative, line), (
                    f"a line of {length:,} characters is over the {MAX_DOCKERFILE_LINE:,}-character cap; "
                    "not checked")))
                return None
        self.sources[relative] = text
        return text

    def bounded(self, relatives: list[str], target: str, parse: Callable[[], _T]) -> _T | None:
        """``parse()`` under the time budget; on timeout a NotChecked on each file and None."""
        try:
            with time_budget(self.parse_timeout):
                return parse()
        except ParseTimeout as exc:
            for relative in relatives:
                self.not_checked(target, relative, NotChecked(Span(relative, 1), f"{exc}; not checked"))
            return None
        except Exception as exc:  # noqa: BLE001 - a parser defect must not end the audit
            # Parsers return problems rather than raise; this is the net under a bug in one,
            # so that one odd file is reported (AUD001) and every other file is still checked.
            for relative in relatives:
                self.not_checked(target, relative, ParseProblem(Span(relative, 1), (
                    f"the {target} parser failed on this file ({type(exc).__name__}: {exc}); not checked, "
                    "please report it")))
            return None

    def parsed(self, relative: str, target: str, file_problems: list[ParseProblem]) -> None:
        self.problems.extend(file_problems)
        if file_problems:
            self.not_checked(target, relative)

    def absorb(self, target: str, file_problems: Sequence[ParseProblem],
               file_notes: Sequence[Note | ParseProblem]) -> None:
        """A builder's problems and notes (a note saying a file was not checked is a problem)."""
        problems, notes = _route(file_problems, file_notes)
        self.problems.extend(problems)
        self.notes.extend(notes)
        for problem in problems:
            self.not_checked(target, problem.span.path)


def _discovery_notes(build: _Build) -> None:
    skipped = not_checked_targets(build.found)
    for note in build.found.notes:
        target = skipped.get(note.span.path)
        if target is None:
            build.notes.append(note)
            continue
        # a file of an audited kind that discovery did not read (size cap, FIFO, unreadable)
        message = note.message if "not checked" in note.message else \
            note.message.removesuffix("; not read") + "; not checked"
        build.not_checked(target, note.span.path, NotChecked(note.span, message))


def _compose(build: _Build) -> None:
    for relative in build.found.compose:
        text = build.text_of(relative, "compose")
        if text is None:
            continue
        composed = build.bounded([relative], "compose", lambda: parse_compose(text, relative))
        if composed is not None:
            compose, file_problems = composed
            build.parsed(relative, "compose", file_problems)
            if compose is not None:
                build.compose_files.append(compose)


def _dockerfiles(build: _Build) -> None:
    # After compose: a file its `build.dockerfile` names is a Dockerfile whatever its name.
    build.named_dockerfiles = _compose_dockerfiles(build)
    for relative in build.found.dockerfiles + build.named_dockerfiles:
        text = build.text_of(relative, "dockerfile")
        if text is None:
            continue
        result = build.bounded([relative], "dockerfile", lambda: parse_dockerfile(text, relative))
        if result is not None:
            dockerfile, file_problems = result
            build.parsed(relative, "dockerfile", file_problems)
            if dockerfile.stages:
                build.dockerfiles.append(dockerfile)


def _manifests(build: _Build) -> None:
    """Plain Kubernetes manifests. Helm charts and Kustomize overlays are rendered (``_renders``):
    the files of a chart, and the files a kustomization names, are audited through their renders."""
    found = build.found
    if not found.yaml:
        return  # no manifest, chart or overlay: their parsers are not even imported
    rendered: set[str] = set()  # the files of charts and overlays: audited through their renders
    if any_renderable(found.yaml):
        from auditor.parsers.helm import chart_of, find_charts
        from auditor.parsers.kustomize import is_kustomization, read_kustomization, referenced_files

        build.charts = charts = find_charts(found.yaml)
        for relative in found.yaml:
            if is_kustomization(relative) and chart_of(relative, charts) is None:
                text = build.text_of(relative, "kubernetes")
                if text is not None:
                    build.kustomizations[relative] = read_kustomization(relative, text)
        rendered.update(referenced_files(build.kustomizations), build.kustomizations,
                        (relative for relative in found.yaml if chart_of(relative, charts) is not None))
    manifests: list[YamlDocument] = []
    for relative in found.yaml:
        if relative in rendered:
            continue
        text = build.text_of(relative, "kubernetes")
        if text is None:
            continue
        loaded = build.bounded([relative], "kubernetes", lambda: load_yaml_documents(text, relative))
        if loaded is None:
            continue
        documents, file_problems = loaded
        if file_problems and _TEMPLATE.search(text):
            # a templated file outside any chart (envsubst, Jinja, a stray Helm template) that is
            # not YAML as written: not ours to render
            build.notes.append(Note(Span(relative, _first_template_line(text)),
                                    "contains template expressions ({{ }}) outside a Helm chart and is not "
                                    "valid YAML as written; not checked"))
            continue
        build.parsed(relative, "kubernetes", file_problems)
        manifests.extend(doc for doc in documents if _is_manifest(doc))
    if manifests:
        from auditor.parsers.kubernetes import build_kubernetes

        built = build.bounded(sorted({m.path for m in manifests}), "kubernetes", lambda: build_kubernetes(manifests))
        if built is not None:
            kubernetes, file_problems, file_notes = built
            from auditor.model.kubernetes import project_folders

            build.kubernetes = replace(kubernetes, project_folders=project_folders(found.files))  # links stop there
            build.absorb("kubernetes", file_problems, file_notes)


def _dockerignores(build: _Build) -> None:
    for relative in build.found.dockerignores:
        text = build.text_of(relative, "dockerfile")
        if text is not None:
            build.dockerignores.append(parse_dockerignore(text, relative))


def _renders(build: _Build) -> None:
    if not build.charts and not build.kustomizations:
        return
    from auditor.parsers.render import Limits

    limits = Limits(timeout=max(30.0, 6 * build.parse_timeout) if build.parse_timeout else 60.0)
    for result in _render_charts(build.root, build.charts, build.helm_values, limits, build.notes) + \
            _render_overlays(build.root, build.kustomizations, limits):
        if result.failed is not None:
            build.unrendered.append(result.failed)
            build.not_checked("kubernetes", result.failed.span.path)
            continue
        build.problems.extend(result.problems)
        build.notes.extend(result.notes)
        for problem in result.problems:
            build.not_checked("kubernetes", problem.span.path)
        if result.kubernetes is not None:
            build.rendered.append(result.kubernetes)


def _nginx(build: _Build) -> None:
    """nginx files, and nginx configuration inside ConfigMaps and Compose ``configs: content:``,
    with the table of what each image and container copies or mounts where
    (parsers/configmap_nginx.py)."""
    from auditor.parsers import configmap_nginx

    root, found = build.root, build.found

    def holder_text(path: str) -> str:
        return build.sources.get(path) or read_text(root, path, build.contents)[0] or ""

    k8s_objects = [o for k in ([build.kubernetes] if build.kubernetes is not None else []) + build.rendered
                   for o in k.objects]
    embedded = {**configmap_nginx.from_configmaps(k8s_objects, holder_text),
                **configmap_nginx.from_compose(build.compose_files, holder_text)}
    build.mounts = (configmap_nginx.dockerfile_mounts(build.dockerfiles, lambda path: _is_tree_dir(root, path))
                    + configmap_nginx.compose_mounts(build.compose_files)
                    + configmap_nginx.kubernetes_mounts(k8s_objects))
    if not (found.nginx or embedded):
        return
    from auditor.parsers.nginx import parse_nginx

    # the budget applies per file, inside: one slow include must not cost the whole tree
    file_problems: Sequence[ParseProblem]
    file_notes: Sequence[Note | ParseProblem]
    try:
        configs, file_problems, file_notes = parse_nginx(
            root, found.nginx, max_include_depth=build.max_include_depth, parse_timeout=build.parse_timeout,
            max_file_size=build.max_file_size, embedded=embedded,
            mounts={m.container_path: m.source for m in build.mounts})
        build.nginx_configs = list(configs)
    except Exception as exc:  # noqa: BLE001 - the same net as bounded(), without its budget
        file_notes = []
        file_problems = [ParseProblem(Span(path, 1), f"the nginx parser failed ({type(exc).__name__}: "
                                      f"{exc}); not checked, please report it") for path in found.nginx]
    build.absorb("nginx", file_problems, file_notes)


def _next_apps(build: _Build) -> None:
    found = build.found
    if not found.next_files:
        return
    from auditor.parsers.nextjs import build_next_apps

    # C parsers (json, tree-sitter) on size-capped input: one budget for the whole app set
    built = build.bounded(list(found.next_files), "nextjs", lambda: build_next_apps(build.root, found.next_files))
    if built is not None:
        build.next_apps, file_problems, file_notes = built
        build.absorb("nextjs", file_problems, file_notes)


#: The per-file-type parsers, in the order they run: compose before Dockerfiles (a compose
#: ``build.dockerfile`` names a Dockerfile), Kubernetes and compose before nginx (ConfigMaps and
#: compose ``configs`` carry nginx configuration).
_STEPS: tuple[tuple[str, Callable[[_Build], None]], ...] = (
    ("discovery notes", _discovery_notes),
    ("compose", _compose),
    ("dockerfile", _dockerfiles),
    ("dockerignore", _dockerignores),
    ("kubernetes", _manifests),
    ("helm and kustomize", _renders),
    ("nginx", _nginx),
    ("nextjs", _next_apps),
)


def build_project(found: Discovered, *, parse_timeout: float = 10.0, max_include_depth: int = 10,
                  max_file_size: int = 5 * 1024 * 1024, roles: dict[str, str] | None = None,
                  helm_values: tuple[str, ...] | list[str] = (), contents: dict[str, bytes] | None = None) -> Project:
    """Parse everything ``found`` lists, then link it into the deployment graph: the one place a
    ``Project`` is built. ``parse_timeout`` is each file's time budget in seconds (0: none),
    ``max_include_depth`` bounds nginx ``include`` nesting and ``max_file_size`` the files reached
    through includes (discovery already applied it to the files it found). ``helm_values``:
    values files (tree paths) each chart is rendered with once more. ``contents``: files' bytes
    already read, by relative path (each taken once, instead of reading the file: ``read_text``)."""
    build = _Build(found, parse_timeout, max_include_depth, max_file_size, tuple(helm_values), contents)
    for _kind, step in _STEPS:
        step(build)
    recognised = set(found.dockerfiles + build.named_dockerfiles + found.compose + found.yaml + found.nginx
                     + found.dockerignores + found.next_files) - set(found.too_large)
    project = Project(
        root=found.root, files=tuple(found.files), dockerfiles=tuple(build.dockerfiles),
        dockerignores=tuple(build.dockerignores), compose_files=tuple(build.compose_files),
        kubernetes=build.kubernetes, nginx_configs=tuple(build.nginx_configs), next_apps=tuple(build.next_apps),
        problems=tuple(build.problems), notes=tuple(build.notes),
        unparsed={k: tuple(sorted(set(v))) for k, v in build.unparsed.items()},
        sources=build.sources, role_overrides=dict(roles or {}), mounts=tuple(build.mounts),
        rendered_kubernetes=tuple(build.rendered), unrendered=tuple(build.unrendered),
        recognised=tuple(sorted(recognised)))
    return with_deployments(project)


def with_deployments(project: Project) -> Project:
    """The project with its deployment graph (``Project.system``), built here, once, eagerly, and
    each Kubernetes container carrying the role the graph gives it (``fill_container_roles``)."""
    from auditor.parsers.deployment import build_system_model

    system = build_system_model(project)
    fill_container_roles(project, system)
    release_modelled_manifests(project)
    return replace(project, system=system)


_RELEASED: Mapping[str, Any] = MappingProxyType({})


def release_modelled_manifests(project: Project) -> None:
    """Drop the loaded YAML of every object read into a model of its own (workloads, Services,
    Ingresses, HPAs): the parsers, the nginx ConfigMap mounts and the deployment graph have read
    it, and the checks read those kinds through their models. Written on objects no one else
    holds yet (the project is being built); the YAML trees are most of a manifest's memory."""
    from auditor.model.kubernetes import MODELLED_KINDS

    for kubernetes in ([project.kubernetes] if project.kubernetes is not None else []) + list(project.rendered_kubernetes):
        for obj in kubernetes.objects:
            if obj.kind in MODELLED_KINDS:
                object.__setattr__(obj, "raw", _RELEASED)  # construction-time, see the docstring


def fill_container_roles(project: Project, system: SystemModel) -> None:
    """Set ``Container.role`` on the containers of a project being built, as its deployment graph
    decides it. The graph is made from the containers themselves, so their role cannot go to
    their constructor; it is written once here, on containers no one else holds yet (the project
    is not returned), instead of every rule's view copying each container, its pod and its
    workload to carry it (45,000 of each for a manifest of 45,000 Pods)."""
    roles = {found.key: found.role for found in system.workloads}
    for kubernetes in ([project.kubernetes] if project.kubernetes is not None else []) + list(project.rendered_kubernetes):
        for _, container in kubernetes.containers():
            role = roles.get(("Kubernetes container", container.span))  # role_key(), without its imports
            if role is not None and container.role != role:
                object.__setattr__(container, "role", role)  # construction-time, see the docstring


def _compose_dockerfiles(build: _Build) -> list[str]:
    """Files of the tree that a compose ``build.dockerfile`` names and discovery did not take for
    a Dockerfile by their name (``docker/web.df``): regular, inside the tree, under the size cap."""
    import os
    import stat

    found, max_file_size = build.found, build.max_file_size
    listed = set(found.files)
    known = set(found.dockerfiles) | found.too_large
    named: list[str] = []
    for compose in build.compose_files:
        for service in compose.services:
            path = compose.service_dockerfile_path(service)
            if path is None or path in known or path not in listed:
                continue
            known.add(path)
            try:
                info = os.stat(found.root / path)  # discovery kept no link that leaves the tree
            except OSError as exc:
                build.not_checked("dockerfile", path, NotChecked(Span(path, 1), f"not read: {exc.strerror}; not checked"))
                continue
            if not stat.S_ISREG(info.st_mode):
                build.not_checked("dockerfile", path, NotChecked(Span(path, 1), "not a regular file (FIFO, socket or "
                                                                                "device); not checked"))
            elif info.st_size > max_file_size:
                build.not_checked("dockerfile", path, NotChecked(Span(path, 1), (
                    f"{info.st_size:,} bytes is over the {max_file_size:,}-byte size cap; not checked")))
            else:
                named.append(path)
    return sorted(named)
def _route(problems: Sequence[ParseProblem], notes: Sequence[Note | ParseProblem]
           ) -> tuple[list[ParseProblem], list[Note]]:
    """A builder may report a file it could not check among its notes: it is a problem (AUD003)."""
    moved: list[ParseProblem] = [note for note in notes if isinstance(note, NotChecked)]
    return list(problems) + moved, [note for note in notes if isinstance(note, Note)]


def not_checked_targets(found: Discovered) -> dict[str, str]:
    """Files of an audited kind that discovery counted but did not read (over the size cap, not
    a regular file, unreadable), with the check target each would have fed."""
    read = set(found.dockerfiles + found.compose + found.yaml + found.nginx + found.dockerignores
               + found.next_files)
    noted = {note.span.path for note in found.notes}
    candidates = (noted & set(found.files)) - read
    targets = {}
    for relative in sorted(candidates):
        target = _target_of_oversized(found.root, relative)
        if target:
            targets[relative] = target
    return targets


def _target_of_oversized(root: Path, relative: str) -> str | None:
    """The check target a file skipped for its size would have fed, so that its controls end as
    not checked rather than not applicable. A big ``*.yaml`` counts as Kubernetes only if its
    head looks like a manifest (large OpenAPI or CI files are common and are not manifests)."""
    import os
    import stat

    from auditor.discovery import classify, looks_like_nginx

    kind = classify(relative)
    if kind in ("nginx?", "yaml"):
        try:  # never open a FIFO to sniff it: the open would block
            regular = stat.S_ISREG(os.stat(root / relative).st_mode)
        except OSError:
            regular = False
        if not regular:
            return None
    if kind == "nginx?":
        return "nginx" if looks_like_nginx(str(root / relative)) else None
    if kind == "yaml":
        try:
            with open(root / relative, "rb") as handle:
                head = handle.read(64 * 1024)
        except OSError:
            return None
        return "kubernetes" if b"apiVersion" in head and b"kind" in head else None
    return {"dockerfile": "dockerfile", "dockerignore": "dockerfile", "compose": "compose",
            "next": "nextjs"}.get(kind or "")


def _is_manifest(document: YamlDocument) -> bool:
    root = document.root
    return isinstance(root, YMap) and "apiVersion" in root and "kind" in root


def _first_template_line(text: str) -> int:
    match = _TEMPLATE.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else 1




class _Rendered:
    """One chart render or overlay: its KubernetesSet, or the AUD004 problem that stopped it."""

    def __init__(self) -> None:
        self.kubernetes: KubernetesSet | None = None
        self.failed: ParseProblem | None = None
        self.problems: list[ParseProblem] = []
        self.notes: list[Note] = []


def _render_charts(root: Path, charts: list[str], helm_values: tuple[str, ...], limits: Limits,
                   notes: list[Note]) -> list[_Rendered]:
    from auditor.parsers.helm import chart_of, render_chart, renderer_available
    from auditor.parsers.rendered import SourceIndex, parse_rendered, place_lines

    results: list[_Rendered] = []
    if not charts:
        return results
    from auditor.model.project import normalized_inside_root

    named, helm_values = helm_values, ()
    for values in named:
        cleaned = normalized_inside_root(values)
        if not cleaned or chart_of(cleaned, charts) is None:
            notes.append(Note(Span("(configuration)", 1), f"Helm values file {values!r} named in the configuration "
                                                          "is in no chart of the audited tree; not used"))
        else:
            helm_values += (cleaned,)
    renderer = renderer_available()
    for chart in charts:
        chart_file = posixpath.join(chart, CHART_FILE) if chart else CHART_FILE
        for extra in [()] + [(v,) for v in helm_values if chart_of(v, charts) == chart]:
            rendered = render_chart(root, chart, extra, limits, renderer)
            result = _Rendered()
            results.append(result)
            if rendered.error is not None:
                result.failed = ParseProblem(Span(chart_file, 1), f"{rendered.label} was not rendered, so none of "
                                             f"its manifests were checked: {rendered.error}")
                continue
            result.notes = [Note(Span(chart_file, 1), f"{rendered.label}: {note}") for note in rendered.notes]
            snippets: dict[tuple[str, int], str] = {}
            documents: list[YamlDocument] = []
            for path, text in rendered.sections:
                template, _ = read_text(root, path)
                index = SourceIndex(path, template or "")
                placed, file_problems = parse_rendered(text, path, partial(place_lines, primary=index), snippets)
                documents.extend(d for d in placed if _is_manifest(d))
                result.problems.extend(file_problems)
            _build_set(result, documents, rendered.label + f" (rendered by {rendered.renderer})", snippets)
    return results


def _render_overlays(root: Path, kustomizations: dict[str, Kustomization], limits: Limits) -> list[_Rendered]:
    from auditor.parsers.kustomize import entry_points, render_overlay, renderer_command
    from auditor.parsers.rendered import SourceIndex, parse_rendered, place_lines

    results: list[_Rendered] = []
    if not kustomizations:
        return results
    command = renderer_command()
    by_folder = {k.folder: k for k in kustomizations.values()}
    indexes: dict[str, SourceIndex] = {}
    texts: dict[str, str] = {}

    def text(path: str) -> str:
        if path not in texts:
            texts[path] = read_text(root, path)[0] or ""
        return texts[path]

    def index(path: str) -> SourceIndex:
        if path not in indexes:
            indexes[path] = SourceIndex(path, text(path))
        return indexes[path]

    for overlay in entry_points(kustomizations):
        own = by_folder[overlay].path
        rendered = render_overlay(root, overlay, kustomizations, limits, command)
        result = _Rendered()
        results.append(result)
        if rendered.error is not None:
            result.failed = ParseProblem(Span(own, 1), f"{rendered.label} was not rendered, so none of its "
                                         f"manifests were checked: {rendered.error}")
            continue
        snippets: dict[tuple[str, int], str] = {}
        documents: list[YamlDocument] = []
        for document in rendered.documents:
            origin = document["origin"] or own
            changed_by = [kustomizations[k] for k in document["transformers"] if k in kustomizations]
            patches = tuple(index(p) for k in changed_by for p in k.patches)
            special = _image_entry(changed_by, text)
            placed, file_problems = parse_rendered(
                document["text"], origin,
                partial(place_lines, primary=index(origin), overrides=patches, special=special), snippets)
            documents.extend(d for d in placed if _is_manifest(d))
            result.problems.extend(file_problems)
        _build_set(result, documents, rendered.label + f" (rendered by {rendered.renderer})", snippets)
    return results


def _image_entry(changed_by: list[Kustomization], text: Callable[[str], str]) -> Callable[[str], Span | None]:
    """Places a rendered ``image:`` line at the ``images:`` entry (newTag, digest, newName) of a
    kustomization that set it."""
    def place(line: str) -> Span | None:
        stripped = line.strip().removeprefix("- ").strip()
        if not stripped.startswith("image:"):
            return None
        image = stripped[len("image:"):].strip().strip("'\"")
        for kustomization in changed_by:
            found = None
            for number, source in enumerate(text(kustomization.path).splitlines(), 1):
                key, _, value = source.strip().removeprefix("- ").partition(":")
                value = value.strip().strip("'\"")
                if key.strip() in ("digest", "newTag", "newName") and value and value in image:
                    found = found or number
                    if key.strip() in ("digest", "newTag"):
                        return Span(kustomization.path, number)
            if found:
                return Span(kustomization.path, found)
        return None
    return place


def _build_set(result: _Rendered, documents: list[YamlDocument], label: str,
               snippets: dict[tuple[str, int], str]) -> None:
    from auditor.parsers.kubernetes import build_kubernetes

    if not documents:
        return
    kubernetes, problems, notes = build_kubernetes(documents)
    # one render is one deployment: its objects link with each other wherever their spans point
    # (a base file, a patch, a template), and with nothing outside it
    result.kubernetes = replace(kubernetes, origin=label, snippets=snippets, indexes={},
                                project_folders=frozenset({""}))
    result.problems.extend(problems)
    result.notes.extend(notes)


def _is_tree_dir(root: Path, relative: str) -> bool:
    """A folder of the tree (not through a link leaving it)."""
    import os

    path = os.path.realpath(root / relative)
    real_root = os.path.realpath(root)
    return (path == real_root or path.startswith(real_root + os.sep)) and os.path.isdir(path)
