"""The deployment as one system: which files describe the same running app, and what each of them
says about it.

Per-file models answer "what does this file say"; the cross-file (XF) controls need "which
Dockerfile builds the image that this compose service runs, that this Kubernetes container pulls
and that this nginx ``proxy_pass`` reaches". A ``Deployment`` is that answer for one app: its
Dockerfile and runtime stage, the compose services and Kubernetes containers that run its image,
the nginx locations that proxy to it, the Next.js app it packages, and the *claims* each layer
makes about it (runtime UID, port, health path, read-only root filesystem and writable space).
A monorepo with several apps has several deployments.

The links are made the way Docker, Compose, Kubernetes and nginx make them (see
``auditor.parsers.deployment``), and each deployment records how it was linked (``links``) so
that ``auditor model`` can show a user how their repository was understood.

Build it with ``deployments_of(project)``: built once per ``Project`` and kept on it.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from auditor.model.span import Span

if TYPE_CHECKING:
    from auditor.model.compose import ComposeFile, Service
    from auditor.model.dockerfile import Dockerfile, Stage
    from auditor.model.dockerignore import DockerIgnore
    from auditor.model.kubernetes import Container, Service as KubernetesService, Workload
    from auditor.model.nextjs import NextApp
    from auditor.model.nginx import Location, NginxConfig, ProxyPass
    from auditor.model.project import Project

#: Layer names, in the order the request travels backwards (proxy first, image last).
LAYERS = ("nginx", "Kubernetes", "compose", "Dockerfile", "Next.js")

#: Workload roles: ``app`` is the Next.js application, ``proxy`` the nginx-like reverse proxy in
#: front of it, ``other`` any other workload (databases, caches, workers, third-party images).
ROLES = ("app", "proxy", "other")


@dataclass(frozen=True, slots=True)
class WorkloadRole:
    """What one workload is, and why the auditor thinks so. ``kind`` is ``Dockerfile``,
    ``compose service`` or ``Kubernetes container``; ``key`` identifies the workload's node
    (see ``role_key``)."""

    kind: str
    name: str
    role: str
    evidence: str
    span: Span
    key: tuple[Any, ...]


def role_key(node: Any) -> tuple[Any, ...]:
    """The identity of a workload node across views of the model: a Dockerfile by path, a
    compose service by (file, name), a Kubernetes container by its span."""
    from auditor.model.compose import Service
    from auditor.model.dockerfile import Dockerfile
    from auditor.model.kubernetes import Container

    if isinstance(node, Dockerfile):
        return ("Dockerfile", node.path)
    if isinstance(node, Service):
        return ("compose service", node.span.path, node.name)
    if isinstance(node, Container):
        return ("Kubernetes container", node.span)
    raise TypeError(f"not a workload: {type(node).__name__}")


@dataclass(frozen=True, slots=True)
class Claim:
    """What one layer states about the app: ``value`` is a UID (``int``, ``None`` when a user
    name cannot be resolved), a tuple of ports, or a health path; ``subject`` says who states it
    (``USER nextjs``, ``compose service 'app' user``) for messages."""

    layer: str
    subject: str
    value: Any
    span: Span

    @property
    def where(self) -> str:
        return f"{self.span.path}:{self.span.line}"

    def describe(self) -> str:
        return f"{self.subject} ({self.where})"


@dataclass(frozen=True, slots=True)
class ComposeRef:
    """A compose service that runs the app's image."""

    file: ComposeFile
    service: Service

    @property
    def span(self) -> Span:
        return self.service.span

    @property
    def label(self) -> str:
        return f"compose service '{self.service.name}' ({self.file.path})"


@dataclass(frozen=True, slots=True)
class WritableMount:
    """A place a read-only container can still write to: a tmpfs, an ``emptyDir`` or a
    writable volume mounted at ``target``."""

    target: str
    kind: str
    span: Span

    def covers(self, path: str) -> bool:
        target = self.target.rstrip("/") or "/"
        return path == target or path.startswith(target.rstrip("/") + "/")


@dataclass(frozen=True, slots=True)
class ContainerRef:
    """A Kubernetes container running the app's image, with the Services selecting its pods and
    the writable mounts of its pod (``emptyDir`` and writable volumes; read from the manifest)."""

    workload: Workload
    container: Container
    services: tuple[KubernetesService, ...]
    writable_mounts: tuple[WritableMount, ...] = ()

    @property
    def span(self) -> Span:
        return self.container.span

    @property
    def label(self) -> str:
        return f"{self.workload.kind} {self.workload.name}, container {self.container.name}"


@dataclass(frozen=True, slots=True)
class ProxyRoute:
    """An nginx location that proxies to the app. ``target`` is what the host names (``compose
    service 'app'``, ``Kubernetes Service storefront``, or the bare host); ``port_spans`` are the
    lines that carry the ports (``server app:3000;`` in an upstream, else the ``proxy_pass``)."""

    config: NginxConfig
    location: Location
    proxy: ProxyPass
    host: str
    ports: tuple[int, ...]
    port_spans: tuple[Span, ...]
    target: str
    kubernetes_service: KubernetesService | None = None

    @property
    def span(self) -> Span:
        return self.port_spans[0] if self.port_spans else self.proxy.span


@dataclass(frozen=True, slots=True)
class ReadOnlyRoot:
    """A container of the app that runs with a read-only root filesystem, with the writable
    mounts it has. ``span`` is the block that should hold the writable space (the compose
    service key, the container's ``- name:``); ``setting`` the line that makes it read-only."""

    layer: str
    subject: str
    span: Span
    setting: Span
    writable: tuple[WritableMount, ...]


@dataclass(frozen=True, slots=True)
class Deployment:
    """One app of the repository, as every layer describes it."""

    name: str
    dockerfile: Dockerfile | None
    stage: Stage | None  # the runtime stage: ``build.target`` or the last one
    images: tuple[str, ...]  # image names the app runs as (compose ``image``, Kubernetes ``image``)
    compose: tuple[ComposeRef, ...]
    containers: tuple[ContainerRef, ...]
    routes: tuple[ProxyRoute, ...]
    next_app: NextApp | None
    build_contexts: tuple[str, ...]  # folders sent to the builder ('' = the scan root)
    workdir: str  # the runtime stage's WORKDIR ('/app' when no Dockerfile is known)
    uids: tuple[Claim, ...]
    ports: tuple[Claim, ...]  # container ports: value = tuple of ints
    service_ports: tuple[tuple[Claim, KubernetesService], ...]  # ports that must be a Service's `port`
    health: tuple[Claim, ...]  # value = URL path
    read_only: tuple[ReadOnlyRoot, ...]
    links: tuple[str, ...]  # how the pieces were tied together, for `auditor model`

    @property
    def span(self) -> Span:
        """The deployment's primary artifact: its Dockerfile, else its first service or container."""
        if self.stage is not None:
            return self.stage.span
        if self.compose:
            return self.compose[0].span
        if self.containers:
            return self.containers[0].span
        return self.routes[0].span

    @property
    def layers(self) -> tuple[str, ...]:
        present = {"nginx": bool(self.routes), "Kubernetes": bool(self.containers),
                   "compose": bool(self.compose), "Dockerfile": self.dockerfile is not None,
                   "Next.js": self.next_app is not None}
        return tuple(layer for layer in LAYERS if present[layer])


@dataclass(frozen=True, slots=True)
class BuildContext:
    """A folder sent to the Docker builder ('' = the scan root), the Dockerfile built from it and
    the ``.dockerignore`` that filters it (``None`` when there is none: everything is sent)."""

    directory: str
    dockerfile: Dockerfile
    dockerignore: DockerIgnore | None

    def sends(self, path: str) -> bool:
        """Whether a file (relative to the scan root) reaches the builder."""
        if self.directory and not path.startswith(self.directory + "/"):
            return False
        inside = path[len(self.directory) + 1:] if self.directory else path
        return self.dockerignore is None or not self.dockerignore.excludes(inside)


@dataclass(frozen=True, slots=True)
class SystemModel:
    """Every deployment of the project, every Docker build context, and what the deployments
    did not claim (an nginx location that proxies to no known app)."""

    deployments: tuple[Deployment, ...]
    build_contexts: tuple[BuildContext, ...] = ()
    unlinked_routes: tuple[ProxyRoute, ...] = ()
    git_ignored: frozenset[str] = frozenset()  # files of the tree a .gitignore leaves out
    workloads: tuple[WorkloadRole, ...] = ()  # every workload with its role and the evidence
    # Next.js app folder -> the Dockerfiles that build it (see dockerfiles_for)
    app_dockerfiles: Mapping[str, tuple[Dockerfile, ...]] = field(default_factory=dict)

    def dockerfiles_for(self, app: NextApp) -> tuple[Dockerfile, ...]:
        """The Dockerfiles that build a Next.js app: in, below or directly above its folder, or
        linked to it by a deployment (its build context)."""
        return self.app_dockerfiles.get(app.dir, ())

    def role_of(self, node: Any) -> WorkloadRole | None:
        by_key = {w.key: w for w in self.workloads}
        return by_key.get(role_key(node))


_CACHE_KEY = "_auditor_system_model"


def deployments_of(project: Project) -> SystemModel:
    """The project's deployment model, built on first use and kept on the project.

    ``Project`` is a frozen dataclass without slots, so it has an instance ``__dict__``; the model
    is stored there the way ``functools.cached_property`` stores its value (frozen only guards
    ``__setattr__``), which ties its lifetime to the project without a global cache."""
    cached = project.__dict__.get(_CACHE_KEY)
    if cached is None:
        from auditor.parsers.deployment import build_system_model

        cached = build_system_model(project)
        project.__dict__[_CACHE_KEY] = cached
    return cached


def role_view(project: Project, roles: tuple[str, ...] | None) -> Project:
    """The project as a check of a rule that applies to ``roles`` sees it: Dockerfiles, compose
    services and Kubernetes containers of other roles left out (a workload left with no
    container is left out too), every compose service and container carrying its role. The one
    place where a rule's ``applies_to`` is enforced; views are built once per role set."""
    wanted = frozenset(roles or ROLES)
    views = project.__dict__.setdefault("_auditor_role_views", {})
    view = views.get(wanted)
    if view is not None:
        return view
    model = deployments_of(project)
    by_key = {w.key: w for w in model.workloads}

    def role(node: Any) -> WorkloadRole | None:
        return by_key.get(role_key(node))

    def keep(node: Any) -> bool:
        found = role(node)
        return (found.role if found else "other") in wanted

    compose_files = []
    for compose in project.compose_files:
        services = tuple(replace(s, role=found.role, role_evidence=found.evidence)
                         if (found := role(s)) is not None else s for s in compose.services)
        compose_files.append(replace(compose, services=tuple(s for s in services if s.role in wanted)))
    # A workload's containers annotated with their roles, built once for every view (a tree of
    # 45,000 Pods would otherwise copy each one once per role set).
    annotated_workloads = project.__dict__.setdefault("_auditor_annotated_workloads", {})

    def annotated(workload: Any) -> tuple[Any, frozenset[str]]:
        cached = annotated_workloads.get(id(workload))  # the project keeps the workload alive
        if cached is None:
            def mark(containers: tuple[Any, ...]) -> tuple[Any, ...]:
                return tuple(replace(c, role=found.role) if (found := role(c)) is not None and c.role != found.role
                             else c for c in containers)

            pod = workload.pod
            containers, inits = mark(pod.containers), mark(pod.init_containers)
            changed = any(new is not old for new, old in zip(containers + inits, pod.containers + pod.init_containers))
            marked = replace(workload, pod=replace(pod, containers=containers, init_containers=inits)) \
                if changed else workload
            present = frozenset((c.role or "other") for c in containers + inits)
            cached = annotated_workloads[id(workload)] = (marked, present)
        return cached

    def containers_of(kubernetes: Any) -> Any:
        workloads = []
        for workload in kubernetes.workloads:
            if workload.pod is None:
                workloads.append(workload)
                continue
            marked, present = annotated(workload)
            if present <= wanted:
                if present:
                    workloads.append(marked)  # every container is of a wanted role: no copy
                continue

            def of_wanted_roles(containers: tuple[Any, ...]) -> tuple[Any, ...]:
                return tuple(c for c in containers if (c.role or "other") in wanted)

            pod = replace(marked.pod, containers=of_wanted_roles(marked.pod.containers),
                          init_containers=of_wanted_roles(marked.pod.init_containers))
            if pod.containers or pod.init_containers:
                workloads.append(replace(marked, pod=pod))
        return replace(kubernetes, workloads=tuple(workloads), indexes={})

    kubernetes = containers_of(project.kubernetes) if project.kubernetes is not None else None
    rendered = tuple(containers_of(k) for k in getattr(project, "rendered_kubernetes", ()))
    view = replace(project, dockerfiles=tuple(d for d in project.dockerfiles if keep(d)),
                   compose_files=tuple(compose_files), kubernetes=kubernetes, rendered_kubernetes=rendered)
    view.__dict__[_CACHE_KEY] = replace(model, deployments=tuple(
        d for d in model.deployments if "app" in wanted))
    view.__dict__["_auditor_role_views"] = {wanted: view}
    views[wanted] = view
    return view


def to_dict(model: SystemModel) -> dict[str, Any]:
    """A JSON-ready view of the model (``auditor model --format json``)."""

    def claim(c: Claim) -> dict[str, Any]:
        value = list(c.value) if isinstance(c.value, tuple) else c.value
        return {"layer": c.layer, "subject": c.subject, "value": value, "file": c.span.path, "line": c.span.line}

    def mount(m: WritableMount) -> dict[str, Any]:
        return {"target": m.target, "kind": m.kind, "file": m.span.path, "line": m.span.line}

    deployments = []
    for d in model.deployments:
        deployments.append({
            "name": d.name,
            "layers": list(d.layers),
            "nginx": [{"config": r.config.path, "location": r.location.label, "proxy_pass": r.proxy.url,
                       "host": r.host, "ports": list(r.ports), "target": r.target,
                       "file": r.span.path, "line": r.span.line} for r in d.routes],
            "kubernetes": [{"workload": f"{c.workload.kind}/{c.workload.name}", "container": c.container.name,
                            "image": c.container.image.raw if c.container.image else None,
                            "services": [s.name for s in c.services],
                            "file": c.span.path, "line": c.span.line} for c in d.containers],
            "compose": [{"file": c.file.path, "service": c.service.name, "image": c.service.image,
                         "line": c.span.line} for c in d.compose],
            "images": list(d.images),
            "dockerfile": None if d.dockerfile is None else {
                "file": d.dockerfile.path, "stage": d.stage.name if d.stage else None,
                "line": d.stage.span.line if d.stage else 1, "workdir": d.workdir,
                "build_contexts": list(d.build_contexts)},
            "next_app": None if d.next_app is None else {
                "dir": d.next_app.dir, "routes": [r.route for r in d.next_app.api_routes]},
            "uids": [claim(c) for c in d.uids],
            "ports": [claim(c) for c in d.ports],
            "service_ports": [{**claim(c), "service": s.name} for c, s in d.service_ports],
            "health_paths": [claim(c) for c in d.health],
            "read_only": [{"layer": r.layer, "subject": r.subject, "file": r.span.path, "line": r.span.line,
                           "writable": [mount(m) for m in r.writable]} for r in d.read_only],
            "links": list(d.links),
        })
    return {
        "workloads": [{"kind": w.kind, "name": w.name, "role": w.role, "evidence": w.evidence,
                       "file": w.span.path, "line": w.span.line} for w in model.workloads],
        "deployments": deployments,
        "build_contexts": [{"directory": c.directory or ".", "dockerfile": c.dockerfile.path,
                            "dockerignore": c.dockerignore.path if c.dockerignore else None}
                           for c in model.build_contexts],
        "unlinked_nginx": [{"config": r.config.path, "location": r.location.label, "proxy_pass": r.proxy.url,
                            "file": r.span.path, "line": r.span.line} for r in model.unlinked_routes],
    }
