"""The whole audited tree, parsed: what every check and every cross-file rule receives."""
from __future__ import annotations

import posixpath
from dataclasses import fields
from collections.abc import Mapping
from operator import is_
from pathlib import Path
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass, field
    from typing import Any
else:
    from auditor.record import dataclass, field

from auditor.model.compose import ComposeFile, Service
from auditor.model.deployment import ROLES, SystemModel, WorkloadRole, role_key
from auditor.model.dockerfile import Dockerfile
from auditor.model.dockerignore import DockerIgnore
from auditor.model.span import Note, ParseProblem

if TYPE_CHECKING:
    from typing import TypeVar

    from auditor.model.kubernetes import Container, KubernetesSet, Workload

    _Record = TypeVar("_Record")
    from auditor.model.nextjs import NextApp
    from auditor.model.nginx import NginxConfig


def normalized_inside_root(path: str) -> str | None:
    """A '/'-separated path normalised against the scan root ('' for the root itself); ``None``
    when it leaves the root or is a remote build context (a Git URL), which the audit cannot see."""
    if "://" in path or path.startswith("git@"):
        return None
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("../") or cleaned == ".." or cleaned.startswith("/"):
        return None
    return "" if cleaned == "." else cleaned


_UNREAD_TEXT_LIMIT = 1024 * 1024
_SHARED_LINES = 1000  # a file of more lines keeps each distinct line once (Project.line_text)


def _read_regular(path: str | Path, limit: int | None) -> str:
    """A regular file's text ('' for anything else, or when over ``limit`` bytes: a folder such
    as the scan root, a device, a FIFO); two files a project are read again for their snippets
    (nginx.conf and package.json)."""
    from auditor.regular_file import READ_CAP, read_regular_file

    try:
        return read_regular_file(str(path), READ_CAP if limit is None else limit).decode("utf-8", errors="replace")
    except OSError:
        return ""


class _Memo:
    """What a project derives from itself on demand and keeps: the views per role set, the
    recognised files as a set, each file's lines. Declared (``Project.memo``), never written into
    the frozen project's ``__dict__``."""

    __slots__ = ("annotated", "derived", "lines", "quoted", "recognised", "roles", "services", "views")

    def __init__(self) -> None:
        self.views: dict[frozenset[str], Project] = {}
        self.annotated: dict[int, Workload] = {}
        self.roles: dict[tuple[Any, ...], WorkloadRole] | None = None  # the system's roles by role_key
        self.services: list[ComposeFile] | None = None  # each compose file, its services carrying their roles
        self.recognised: frozenset[str] | None = None
        self.lines: dict[str, list[str]] = {}
        self.quoted: dict[tuple[str, bool], str] = {}  # a line's snippet (text, secret) -> quoted form
        # what several checks work out alike from the project (a helper's name -> its answer): the
        # project is immutable, so an answer holds for as long as the project does
        self.derived: dict[str, Any] = {}


def _no_deployments() -> SystemModel:
    return SystemModel(())


@dataclass(frozen=True)
class Project:
    root: Path
    files: tuple[str, ...]
    dockerfiles: tuple[Dockerfile, ...] = ()
    dockerignores: tuple[DockerIgnore, ...] = ()
    compose_files: tuple[ComposeFile, ...] = ()
    kubernetes: KubernetesSet | None = None
    nginx_configs: tuple[NginxConfig, ...] = ()
    next_apps: tuple[NextApp, ...] = ()
    problems: tuple[ParseProblem, ...] = ()
    notes: tuple[Note, ...] = ()
    # target -> files of that kind that did not parse: their controls are "not checked", not passed
    unparsed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)  # text of files read, for snippets
    recognised: tuple[str, ...] = ()  # every file read as one of the audited kinds
    role_overrides: Mapping[str, str] = field(default_factory=dict)  # configuration `roles:` (name -> role)
    # each Helm chart render and each Kustomize overlay: its own deployment, checked on its own
    rendered_kubernetes: tuple[KubernetesSet, ...] = ()
    # charts and overlays that could not be rendered: AUD004, their objects not checked
    unrendered: tuple[ParseProblem, ...] = ()
    # what each image and container copies or mounts where (parsers/configmap_nginx.Mount)
    mounts: tuple[Any, ...] = ()
    # the deployment graph with workload roles, built with the project (parsers/deployment.py)
    system: SystemModel = field(default_factory=_no_deployments)
    memo: _Memo = field(default_factory=_Memo, compare=False, repr=False)

    def documents_for(self, target: str) -> list[Any]:
        if target == "dockerfile":
            return list(self.dockerfiles)
        if target == "compose":
            return list(self.compose_files)
        if target == "nginx":
            return list(self.nginx_configs)
        if target == "kubernetes":
            plain = [self.kubernetes] if self.kubernetes is not None and self.kubernetes_present else []
            return plain + [rendered for rendered in self.rendered_kubernetes if rendered.objects]
        if target == "nextjs":
            return list(self.next_apps)
        if target == "project":
            return [self]
        return []

    def for_roles(self, roles: tuple[str, ...] | None) -> Project:
        """The project as a rule that applies to ``roles`` sees it (see ``role_view``)."""
        return role_view(self, roles)

    @property
    def kubernetes_present(self) -> bool:
        return bool(getattr(self.kubernetes, "objects", ()))

    def dockerignore_for(self, context_dir: str, dockerfile_path: str | None = None) -> DockerIgnore | None:
        """The ignore file Docker uses for a build context folder ('' = the scan root):
        BuildKit prefers ``<Dockerfile>.dockerignore`` beside the Dockerfile, then the context's
        ``.dockerignore``."""
        wanted = [f"{dockerfile_path}.dockerignore"] if dockerfile_path else []
        wanted.append(f"{context_dir}/.dockerignore" if context_dir else ".dockerignore")
        by_path = {d.path: d for d in self.dockerignores}
        return next((by_path[path] for path in wanted if path in by_path), None)

    @property
    def recognised_set(self) -> frozenset[str]:
        cached = self.memo.recognised
        if cached is None:
            cached = self.memo.recognised = frozenset(self.recognised)
        return cached

    def text(self, path: str) -> str:
        """A file's text, read once (nginx files are read by crossplane, so not kept at parse time)."""
        text = self.sources.get(path)
        if text is None:
            # a file that was not read (a FIFO, one over the size cap) may carry a finding (AUD003):
            # never block on it, never load a huge one for a snippet
            limit = None if path in self.recognised_set else _UNREAD_TEXT_LIMIT
            text = _read_regular(posixpath.join(self.root, path), limit)
            if isinstance(self.sources, dict):
                self.sources[path] = text
        return text

    def all_sources(self) -> dict[str, str]:
        """Every recognised file's text, for inline suppressions (any of them may hold one)."""
        for path in self.recognised:
            self.text(path)
        return dict(self.sources)

    def line_text(self, path: str, line: int) -> str:
        """One source line (for snippets and fingerprints); reads the file if it was not kept."""
        split = self.memo.lines  # split once per file, not once per finding
        lines = split.get(path)
        if lines is None:
            lines = split[path] = self.text(path).splitlines()
            if len(lines) > _SHARED_LINES:
                # each distinct line kept once: a manifest of thousands of Pods repeats all but a few
                shared: dict[str, str] = {}
                lines[:] = [shared.setdefault(line, line) for line in lines]
        return lines[line - 1] if 0 < line <= len(lines) else ""


_FIELDS: dict[type, tuple[str, ...]] = {}  # a record class -> its fields' names


def _copied(record: _Record, **changes: Any) -> _Record:
    """``dataclasses.replace(record, **changes)`` for the model's records that ``role_view`` copies
    (none has an ``__post_init__`` or a field left out of ``__init__``): the fields set directly,
    without ``replace``'s checks and keyword call (a project's four role views copy the project,
    its compose files and some of its workloads)."""
    cls = record.__class__
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(item.name for item in fields(record))  # type: ignore[arg-type]
    copy = object.__new__(cls)
    if hasattr(record, "__dict__"):  # the project: its fields are its __dict__'s entries
        values = record.__dict__
        copy.__dict__.update({name: values[name] for name in names})
        copy.__dict__.update(changes)
        return copy
    setter = object.__setattr__
    for name in names:
        setter(copy, name, changes[name] if name in changes else getattr(record, name))
    return copy


def role_view(project: Project, roles: tuple[str, ...] | None) -> Project:
    """The project as a check of a rule that applies to ``roles`` sees it: Dockerfiles, compose
    services and Kubernetes containers of other roles left out (a workload left with no
    container is left out too), every compose service and container carrying its role. The one
    place where a rule's ``applies_to`` is enforced; views are built once per role set."""
    wanted = frozenset(roles or ROLES)
    view = project.memo.views.get(wanted)
    if view is not None:
        return view
    model = project.system

    def role(node: Any) -> WorkloadRole | None:
        by_key = project.memo.roles
        if by_key is None:  # made on the first node asked about, once per project
            by_key = project.memo.roles = {w.key: w for w in model.workloads}
        return by_key.get(role_key(node))

    def keep(node: Any) -> bool:
        found = role(node)
        return (found.role if found else "other") in wanted

    # every compose file with its services carrying their roles: worked out once per project, each
    # view keeps its roles' own (the annotated file itself when it keeps them all)
    annotated_files = project.memo.services
    if annotated_files is None:
        annotated_files = project.memo.services = []
        for compose in project.compose_files:
            services = tuple(_copied(s, role=found.role, role_evidence=found.evidence)
                             if (found := role(s)) is not None else s for s in compose.services)
            unchanged = all(map(is_, services, compose.services))
            annotated_files.append(compose if unchanged else _copied(compose, services=services))
    compose_files = []
    for with_roles in annotated_files:
        kept = tuple(s for s in with_roles.services if s.role in wanted)
        compose_files.append(with_roles if len(kept) == len(with_roles.services) else _copied(with_roles, services=kept))
    # A workload's containers annotated with their roles. A project built by build_project has
    # them already (parsers.project.fill_container_roles), so its workloads are used as they are;
    # any other is annotated once for every view.
    annotated_workloads = project.memo.annotated

    def mark(containers: tuple[Container, ...]) -> tuple[Container, ...]:
        return tuple(_copied(c, role=found.role) if (found := role(c)) is not None and c.role != found.role
                     else c for c in containers)

    def annotated(workload: Workload) -> Workload:
        pod = workload.pod
        assert pod is not None
        if all(c.role for c in pod.containers) and all(c.role for c in pod.init_containers):
            return workload
        cached = annotated_workloads.get(id(workload))  # the project keeps the workload alive
        if cached is None:
            containers, inits = mark(pod.containers), mark(pod.init_containers)
            changed = any(new is not old for new, old in zip(containers + inits, pod.containers + pod.init_containers))
            cached = annotated_workloads[id(workload)] = \
                _copied(workload, pod=_copied(pod, containers=containers, init_containers=inits)) if changed else workload
        return cached

    def wanted_role(container: Container) -> bool:
        return (container.role or "other") in wanted

    def containers_of(kubernetes: KubernetesSet) -> KubernetesSet:
        workloads = []
        for workload in kubernetes.workloads:
            if workload.pod is None:
                workloads.append(workload)
                continue
            marked = annotated(workload)
            assert marked.pod is not None
            containers, inits = marked.pod.containers, marked.pod.init_containers
            if all(map(wanted_role, containers)) and all(map(wanted_role, inits)):
                if containers or inits:
                    workloads.append(marked)  # every container is of a wanted role: no copy
                continue
            kept, kept_inits = tuple(filter(wanted_role, containers)), tuple(filter(wanted_role, inits))
            if kept or kept_inits:  # a copy holding the containers of the wanted roles only
                workloads.append(_copied(marked, pod=_copied(marked.pod, containers=kept, init_containers=kept_inits)))
        if len(workloads) == len(kubernetes.workloads) and all(map(is_, workloads, kubernetes.workloads)):
            return kubernetes  # every workload as it is: the set itself, its indexes built once
        return _copied(kubernetes, workloads=tuple(workloads), indexes={})

    kubernetes = containers_of(project.kubernetes) if project.kubernetes is not None else None
    rendered = tuple(containers_of(k) for k in project.rendered_kubernetes)
    view = _copied(project, dockerfiles=tuple(d for d in project.dockerfiles if keep(d)),
                   compose_files=tuple(compose_files), kubernetes=kubernetes, rendered_kubernetes=rendered,
                   system=model if "app" in wanted or not model.deployments else _copied(model, deployments=()),
                   memo=_Memo())
    # kept by the project only: a view that held itself (in its own memo) would be a reference
    # cycle, and every view, with what it copied, would outlive the project until a full collection
    project.memo.views[wanted] = view
    return view
