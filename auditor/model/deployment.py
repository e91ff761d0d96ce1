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

The parsers build it (``auditor.parsers.deployment.build_system_model``) when the project is
built, and the project holds it (``Project.system``; ``deployments_of(project)`` reads it).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass, field
    from typing import Any, Protocol
else:
    from auditor.record import dataclass, field

from auditor.model.span import Span

if TYPE_CHECKING:
    from auditor.model.compose import ComposeFile, Service
    from auditor.model.dockerfile import Dockerfile, Stage
    from auditor.model.dockerignore import DockerIgnore
    from auditor.model.kubernetes import Container, Service as KubernetesService, Workload
    from auditor.model.nextjs import NextApp
    from auditor.model.nginx import Location, NginxConfig, ProxyPass

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
    compose service by (file, name), a Kubernetes container by its span. (Called twice per
    container by the linker: the kind of key is looked up by the node's class, once per class.)"""
    key = _ROLE_KEYS.get(node.__class__)
    if key is None:
        key = _ROLE_KEYS[node.__class__] = _role_key_of(node.__class__)
    return key(node)


_ROLE_KEYS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


def _role_key_of(kind: type) -> Callable[[Any], tuple[Any, ...]]:
    from auditor.model.compose import Service
    from auditor.model.dockerfile import Dockerfile

    if issubclass(kind, Dockerfile):
        return lambda node: ("Dockerfile", node.path)
    if issubclass(kind, Service):
        return lambda node: ("compose service", node.span.path, node.name)
    from auditor.model.kubernetes import Container  # only once a container is asked about

    if issubclass(kind, Container):
        return lambda node: ("Kubernetes container", node.span)
    raise TypeError(f"not a workload: {kind.__name__}")


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
    def file_line(self) -> str:
        return f"{self.span.path}:{self.span.line}"

    def describe(self) -> str:
        return f"{self.subject} ({self.file_line})"


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


if TYPE_CHECKING:
    class _HasSystem(Protocol):
        @property
        def system(self) -> SystemModel: ...


def deployments_of(project: _HasSystem) -> SystemModel:
    """The project's deployment model: built once, when the project is built
    (``auditor.parsers.project.build_project`` calls ``auditor.parsers.deployment``)."""
    return project.system


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
