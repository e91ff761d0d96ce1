"""Parsed files -> ``SystemModel``: tie each app's Dockerfile, compose services, Kubernetes
containers, nginx routes and Next.js app together, and collect what each layer claims.

The links follow the tools' own rules, cheapest evidence first:
- compose ``build.context``/``build.dockerfile`` names the Dockerfile (``build.target`` the stage);
- a compose or Kubernetes ``image`` equal (registry and tag aside) to one a built service runs
  is the same app;
- an nginx ``proxy_pass``/``upstream`` host is a compose service name (Compose's DNS) or a
  Kubernetes Service name (``svc``, ``svc.ns``, ``svc.ns.svc.cluster.local``);
- a Next.js app is the one at the build context;
- when a repository holds a single app, what cannot be linked by name (``localhost``, an image
  pushed under another name) is linked to it, and ``links`` says so.
Every pass is linear in the number of artifacts (dictionaries, no pairwise comparisons), so a
corpus of a thousand projects costs a thousand small builds.
"""
from __future__ import annotations

import posixpath
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass, field
    from typing import Any
else:
    from auditor.record import dataclass, field

from auditor.model.compose import ComposeFile, Service
from auditor.model.deployment import (ROLES, BuildContext, Claim, ComposeRef, ContainerRef, Deployment,
                                      ProxyRoute, ReadOnlyRoot, SystemModel, WorkloadRole, WritableMount,
                                      role_key)
from auditor.model.dockerfile import Dockerfile, Stage, expand
from auditor.model.image import ImageRef
from auditor.model.project import Project, normalized_inside_root
from auditor.model.span import Span
from auditor.model.user import ImageUser, compose_uid, image_user
from auditor.patterns import on_first_use

if TYPE_CHECKING:  # types only: a tree without manifests or Next.js never imports their models
    from auditor.model.kubernetes import Container, KubernetesSet, Workload
    from auditor.model.nextjs import NextApp

DEFAULT_WORKDIR = "/app"
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})
# The path of an HTTP URL in a health command: `wget -qO- http://127.0.0.1:3000/api/health`,
# `curl localhost:3000/api/health`, `fetch('http://localhost:3000/api/health')`.
_HEALTH_URL = on_first_use(r"(?:https?://)?(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\]|[\w.-]+:\d+)(?::\d+)?(/[^\s\"'`|;&>)]*)")
# Kubernetes volume kinds a container can never write to.
_READ_ONLY_VOLUMES = frozenset({"configMap", "secret", "downwardAPI", "projected"})


def health_path(command: str) -> str | None:
    """The URL path a health command requests (query string dropped), or ``None``."""
    match = _HEALTH_URL.search(command)
    return match.group(1).split("?", 1)[0] if match else None


def image_keys(image: str) -> tuple[str, str]:
    """(repository without registry, tag or digest; last path segment) of an image name:
    ``ghcr.io/acme/storefront:1.4.2@sha256:..`` -> (``acme/storefront``, ``storefront``)."""
    repository = ImageRef.parse(image).repository.removeprefix("library/")
    return repository, repository.rsplit("/", 1)[-1]


# Infrastructure images pulled from a registry: never "the app" by elimination.
_INFRASTRUCTURE = ("postgres", "mysql", "mariadb", "redis", "mongo", "memcached", "rabbitmq", "kafka",
                   "zookeeper", "elasticsearch", "opensearch", "minio", "busybox", "alpine", "curl")


def _could_be_the_app(image: str) -> bool:
    """Whether an unmatched image may be the repository's app pushed under another name:
    a namespaced or registry image (``acme/shop``) that is not a known piece of infrastructure
    (``postgres``, ``bitnami/redis``)."""
    name = image_keys(image)[1]
    return _custom(image) and not any(word in name for word in _INFRASTRUCTURE)


def _custom(image: str) -> bool:
    """A namespaced or registry image (``acme/shop``, ``registry.example.com/web``), not an
    official library image (``node``, ``redis``)."""
    return "/" in image_keys(image)[0] or ImageRef.parse(image).registry is not None


# Reverse proxies by image name; service names that say "reverse proxy" even when the image is
# custom (`build: ./edge`); names that say "the app" for a custom image pushed elsewhere.
PROXY_IMAGES = ("nginx", "openresty", "traefik", "caddy", "haproxy", "envoy", "httpd")
PROXY_NAMES = ("proxy", "gateway", "ingress")
APP_NAMES = ("app", "web", "frontend", "nextjs", "next", "site")
# Where the nginx images read their configuration: a container mounting a file there is a proxy.
NGINX_CONFIG_DIRS = ("/etc/nginx", "/usr/local/openresty/nginx/conf", "/usr/local/nginx/conf")


def is_proxy_image(image: str) -> bool:
    name = image_keys(image)[1]
    return any(proxy in name for proxy in PROXY_IMAGES)


def _is_node_image(image: str) -> bool:
    """``node``, ``cgr.dev/chainguard/node``, or an image named for Next.js."""
    name = image_keys(image)[1]
    return name == "node" or "next" in name


def _next_signs(container: Container) -> str | None:
    """What shows a container of a custom image runs Next.js: its port 3000, ``NEXT_*`` or
    ``NODE_ENV`` variables."""
    if any(p.container_port == 3000 for p in container.ports):
        return "it listens on 3000, the Next.js port"
    variable = next((v.name for v in container.env if v.name.startswith("NEXT_") or v.name == "NODE_ENV"), None)
    return f"it sets {variable}" if variable else None


def _grpc(container: Container) -> str | None:
    """The port or probe that shows a container serves gRPC, as written."""
    port = next((p for p in container.ports if p.name and p.name.lower().startswith("grpc")), None)
    if port is not None:
        return f"port {port.name}"
    probe = next((p for p in (container.liveness_probe, container.readiness_probe, container.startup_probe)
                  if p is not None and p.handler == "grpc"), None)
    return f"{probe.kind}Probe grpc" if probe is not None else None


def _mounts_nginx_config(targets: list[str]) -> str | None:
    return next((t for t in targets if t.rstrip("/").startswith(NGINX_CONFIG_DIRS)), None)


def _named_proxy(*texts: str) -> bool:
    return any(word in text.lower() for text in texts for word in PROXY_NAMES + PROXY_IMAGES)


def _next_build(dockerfile: Dockerfile) -> str | None:
    """Why a Dockerfile builds or packages a Next.js app: a RUN that runs ``next build``, or a
    COPY of the build output (``.next/standalone``, ``.next``). ``None`` when it does neither."""
    for stage in dockerfile.stages:
        for instruction in stage.instructions:
            if instruction.keyword == "RUN":
                for command in instruction.commands:
                    joined = " ".join(command.argv)  # both words are in it if anywhere: one look
                    if "next" not in joined or "build" not in joined:
                        continue
                    words = [w.rsplit("/", 1)[-1] for w in command.argv]
                    if any(a == "next" and b == "build" for a, b in zip(words, words[1:])):
                        return f"runs `next build` (line {instruction.span.line})"
            elif instruction.keyword in ("COPY", "ADD"):
                source = next((src for src in instruction.copy_sources
                               if ".next/standalone" in src or src.rstrip("/").endswith(".next")), None)
                if source is not None:
                    return f"copies {source} (line {instruction.span.line})"
    return None


def _dockerfile_role(dockerfile: Dockerfile, next_dirs: dict[str, NextApp]) -> tuple[str, str]:
    """(role, evidence): an nginx-family base makes the proxy; the Next.js build, a package.json
    depending on next beside it, or a Node.js runtime image make the app (a Node.js worker is
    the app too until the configuration says ``roles: {worker: other}``)."""
    final = dockerfile.final_stage
    if final is None:
        return "other", "no build stage"
    base = dockerfile.lineage(final)[0].base.raw
    if is_proxy_image(base):
        return "proxy", f"the final stage is FROM {base}, a reverse-proxy image"
    why = _next_build(dockerfile)
    if why is not None:
        return "app", why
    app = next_dirs.get(dockerfile.directory)
    if app is not None and app.package is not None and app.package.depends_on("next"):
        return "app", f"{app.package.span.path} beside it depends on next"
    if _is_node_image(base):
        return "app", f"the final stage is FROM {base}, a Node.js image"
    return "other", f"the final stage is FROM {base}: no Next.js build, not a reverse proxy"


@dataclass
class _Group:
    """A deployment while it is being assembled."""

    name: str
    dockerfile: Dockerfile | None = None
    stage: Stage | None = None
    images: list[str] = field(default_factory=list)
    compose: list[ComposeRef] = field(default_factory=list)
    containers: list[ContainerRef] = field(default_factory=list)
    routes: list[ProxyRoute] = field(default_factory=list)
    next_app: NextApp | None = None
    contexts: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    named_by_service: bool = False
    scope: str = ""  # the project folder the group was found in (see _Linker.scope_of)

    def add_image(self, image: str | None) -> None:
        if image and image not in self.images:
            self.images.append(image)


class _Linker:
    """Links by name happen within a *scope*: the nearest folder above an artifact that holds a
    Dockerfile, a compose file or a package.json (a project of a monorepo). Compose service names
    (`app`) and the "only app of the repository" rule would otherwise tie every project of a
    monorepo into one deployment. Links by path (compose `build`) and by full image repository
    need no scope."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.groups: list[_Group] = []
        self.by_dockerfile: dict[str, _Group] = {}
        self.by_repository: dict[str, _Group] = {}
        self.by_scoped_repository: dict[tuple[str, str], _Group] = {}
        self.by_image_name: dict[tuple[str, str], _Group] = {}
        self.by_compose_service: dict[tuple[str, str], _Group] = {}
        self.by_kubernetes_service: dict[tuple[str, str], _Group] = {}
        self.groups_in_scope: dict[str, list[_Group]] = {}
        self.unlinked_routes: list[ProxyRoute] = []
        self.roles: dict[tuple[Any, ...], WorkloadRole] = {}
        self.proxy_images: dict[str, str] = {}  # image repository -> who builds it as the proxy
        self.overrides = dict(getattr(project, "role_overrides", None) or {})
        self.project_folders = ({d.directory for d in project.dockerfiles}
                                | {c.directory for c in project.compose_files}
                                | {app.dir for app in project.next_apps})

    def scope_of(self, path: str) -> str:
        """The nearest project folder above ``path``; a file with none above is a project of its
        own folder (case folders side by side, manifests of unrelated apps, do not link)."""
        own = folder = posixpath.dirname(path)
        while folder not in self.project_folders:
            if not folder:
                return own
            folder = posixpath.dirname(folder)
        return folder

    def _scopes_up(self, scope: str) -> list[str]:
        chain = [scope]
        while scope:
            scope = posixpath.dirname(scope)  # the folders above: a Kubernetes folder inside a project
            chain.append(scope)
        return chain

    def _scoped(self, index: dict[tuple[str, str], _Group], scope: str, key: str) -> _Group | None:
        for folder in self._scopes_up(scope):
            if (folder, key) in index:
                return index[(folder, key)]
        return None

    # -- roles ------------------------------------------------------------------------------

    def set_role(self, node: Any, kind: str, name: str, role: str, evidence: str, span: Span,
                 *names: str) -> str:
        """Record a workload's role; a role the configuration assigns by name wins."""
        for key in (name, *names):
            if key in self.overrides and self.overrides[key] in ROLES:
                role, evidence = self.overrides[key], f"the configuration assigns it (roles: {{{key}: {self.overrides[key]}}})"
                break
        self.roles[role_key(node)] = WorkloadRole(kind, name, role, evidence, span, role_key(node))
        return role

    def role(self, node: Any) -> WorkloadRole | None:
        return self.roles.get(role_key(node))

    # -- groups -----------------------------------------------------------------------------

    def new_group(self, name: str, scope: str) -> _Group:
        group = _Group(name, scope=scope)
        self.groups.append(group)
        self.groups_in_scope.setdefault(scope, []).append(group)
        return group

    def index_image(self, group: _Group, image: str | None) -> None:
        if not image:
            return
        group.add_image(image)
        built = group.dockerfile is not None or any(ref.service.build is not None for ref in group.compose)
        if not built and not _custom(image):
            return  # two services pulling node:20-alpine are not one app
        repository, name = image_keys(image)
        if group.dockerfile is not None:  # an image built here may run anywhere in the tree
            self.by_repository.setdefault(repository, group)
        self.by_scoped_repository.setdefault((group.scope, repository), group)
        self.by_image_name.setdefault((group.scope, name), group)

    def find_by_image(self, image: str, scope: str) -> tuple[_Group | None, str]:
        repository, name = image_keys(image)
        group = self._scoped(self.by_scoped_repository, scope, repository)
        if group is not None:
            return group, f"same image repository {repository}"
        group = self._scoped(self.by_image_name, scope, name)
        if group is not None:
            return group, f"same image name {name}"
        if repository in self.by_repository:  # a Kubernetes folder running an image built elsewhere
            return self.by_repository[repository], f"same image repository {repository}"
        return None, ""

    def only_group(self, scope: str) -> _Group | None:
        """The single app of this project (the scope, or the folders above it), if there is one."""
        candidates = [g for folder in self._scopes_up(scope) for g in self.groups_in_scope.get(folder, ())]
        if not candidates and len(self.groups) == 1:
            candidates = self.groups
        return candidates[0] if len(candidates) == 1 else None

    # -- Dockerfiles and compose ------------------------------------------------------------

    def dockerfiles(self) -> None:
        apps = {app.dir: app for app in self.project.next_apps}
        for dockerfile in self.project.dockerfiles:
            role, evidence = _dockerfile_role(dockerfile, apps)
            folder = dockerfile.directory or "."
            anchor = dockerfile.final_stage.span if dockerfile.final_stage else dockerfile.span
            role = self.set_role(dockerfile, "Dockerfile", dockerfile.path, role, evidence, anchor,
                                 folder, posixpath.basename(folder))
            final = dockerfile.final_stage
            if final is None or role != "app":
                continue  # a custom nginx image is the proxy, a worker image no app
            group = self.new_group(dockerfile.directory or dockerfile.path, self.scope_of(dockerfile.path))
            group.dockerfile, group.stage = dockerfile, final
            self.by_dockerfile[dockerfile.path] = group

    def compose(self) -> None:
        pending: list[tuple[ComposeFile, Service]] = []
        for compose in self.project.compose_files:
            for service in compose.services:
                if self.compose_role(compose, service) != "app":
                    continue
                if service.build is not None:
                    self.compose_built(compose, service)
                else:
                    pending.append((compose, service))
        for compose, service in pending:  # pulled images: after every build is known
            scope = self.scope_of(compose.path)
            group, reason = self.find_by_image(service.image or "", scope)
            if group is None:
                group, reason = self.new_group(service.name, scope), "an app service with no build here"
            self.attach_compose(group, compose, service, reason)
        for compose in self.project.compose_files:  # a pulled image an app service builds is the app
            for service in compose.services:
                found = self.role(service)
                if found is not None and found.role == "other" and service.image and not found.evidence.startswith("the configuration"):
                    group, reason = self.find_by_image(service.image, self.scope_of(compose.path))
                    if group is not None and group.dockerfile is not None:
                        self.set_role(service, "compose service", service.name, "app", f"runs the app's image ({reason})",
                                      service.span)
                        self.attach_compose(group, compose, service, reason)

    def compose_role(self, compose: ComposeFile, service: Service) -> str:
        image = service.image or ""
        built = compose.service_dockerfile_path(service)
        dockerfile_role = self.roles.get(("Dockerfile", built)) if built else None
        targets = [m.target for m in service.volumes if m.target]
        if dockerfile_role is not None:
            role, evidence = dockerfile_role.role, f"builds {built}: {dockerfile_role.evidence}"
        elif image and is_proxy_image(image):
            role, evidence = "proxy", f"image {image} is a reverse proxy"
        elif (mounted := _mounts_nginx_config(targets)) is not None:
            role, evidence = "proxy", f"mounts nginx configuration at {mounted}"
        elif _named_proxy(service.name, *((service.build.context, service.build.dockerfile) if service.build else ())):
            role, evidence = "proxy", f"its name or build folder says reverse proxy ({service.name})"
        elif service.build is not None:
            role, evidence = "app", f"built here from {service.build.context} (its Dockerfile is not in the audited tree)"
        elif image and _is_node_image(image):
            role, evidence = "app", f"image {image} is a Node.js image"
        elif image and service.name.lower() in APP_NAMES and _could_be_the_app(image):
            role, evidence = "app", f"named {service.name} and runs a custom image ({image})"
        else:
            role, evidence = "other", f"third-party image {image}" if image else "no image and no build"
        role = self.set_role(service, "compose service", service.name, role, evidence, service.span)
        if role == "proxy" and image and service.build is not None:
            self.proxy_images.setdefault(image_keys(image)[0], f"compose service '{service.name}' builds it as the proxy")
        return role

    def compose_built(self, compose: ComposeFile, service: Service) -> None:
        assert service.build is not None
        path = compose.service_dockerfile_path(service)
        group = self.by_dockerfile.get(path or "")
        if group is None:
            group, _ = self.find_by_image(service.image or "", self.scope_of(compose.path))
            group = group or self.new_group(service.name, self.scope_of(compose.path))
            reason = f"builds {path or service.build.context}, which is not in the audited tree"
        else:
            reason = f"build: context {service.build.context}, dockerfile {service.build.dockerfile}"
            if service.build.target and group.dockerfile is not None:
                group.stage = group.dockerfile.stage_named(service.build.target) or group.stage
            context = normalized_inside_root(posixpath.join(compose.directory, service.build.context))
            if context is not None and context not in group.contexts:
                group.contexts.append(context)
        self.attach_compose(group, compose, service, reason)

    def attach_compose(self, group: _Group, compose: ComposeFile, service: Service, reason: str) -> None:
        group.compose.append(ComposeRef(compose, service))
        group.links.append(f"compose service '{service.name}' ({compose.path}): {reason}")
        self.index_image(group, service.image)
        self.by_compose_service.setdefault((self.scope_of(compose.path), service.name), group)
        if not group.named_by_service:  # "app" says more than "Dockerfile"
            group.name, group.named_by_service = service.name, True

    # -- Kubernetes -------------------------------------------------------------------------

    def kubernetes(self) -> None:
        if self.project.kubernetes is not None:
            self.kubernetes_set(self.project.kubernetes, link=True)
        for rendered in getattr(self.project, "rendered_kubernetes", ()):  # Helm, Kustomize
            self.kubernetes_set(rendered, link=False)  # roles only: rendered sets link within themselves

    def kubernetes_set(self, kubernetes: KubernetesSet, link: bool) -> None:
        mains: dict[int, Container] = {}
        unmatched: dict[str, list[Container]] = {}  # scope -> main containers no image links
        for workload in kubernetes.workloads:
            main = next((c for c in (workload.pod.containers if workload.pod else ())
                         if c.image is not None and not is_proxy_image(c.image.raw)
                         and image_keys(c.image.raw)[0] not in self.proxy_images), None)
            if main is not None and main.image is not None:
                mains[id(workload)] = main
                scope = self.scope_of(workload.span.path)
                if self.find_by_image(main.image.raw, scope)[0] is None and _could_be_the_app(main.image.raw) \
                        and _grpc(main) is None:
                    unmatched.setdefault(scope, []).append(main)
        apps_here = {scope: self.custom_apps(scope, mains) for scope, mains in unmatched.items()}
        for workload in kubernetes.workloads:
            scope = self.scope_of(workload.span.path)
            main = mains.get(id(workload))
            chosen = apps_here.get(scope, {})
            linked: list[tuple[Container, _Group, str]] = []
            for container in workload.containers:
                group, reason = self.container_role(workload, container, scope, main,
                                                    chosen.get(id(container)) if container is main else None, link)
                if group is not None:
                    linked.append((container, group, reason))
            for container, group, reason in linked:
                self.attach_container(kubernetes, workload, container, group, reason)

    def custom_apps(self, scope: str, mains: list[Container]) -> dict[int, str]:
        """Which main containers of custom images no build matches are the app, and why: those
        showing Next.js; else, when the project builds an app, the single one (pushed under
        another name); else, when nothing here is known to be the app, every one of them (which
        is Next.js cannot be told: ``roles:`` in the configuration says it)."""
        signed = {id(c): f"{why}" for c in mains if (why := _next_signs(c))}
        if signed:
            return signed
        if self.only_group(scope) is not None or any(self.groups_in_scope.get(f) for f in self._scopes_up(scope)):
            return {id(mains[0]): "the only custom image of the project no build matches"} if len(mains) == 1 else {}
        return {id(c): "no app is built here and nothing tells which custom image is the Next.js app"
                for c in mains}

    def container_role(self, workload: Workload, container: Container, scope: str,
                       main: Container | None, chosen: str | None, link: bool = True) -> tuple[_Group | None, str]:
        """The container's role (recorded), and the app group it joins when it is the app."""
        image = container.image.raw if container.image else ""
        mounted = _mounts_nginx_config(_mount_paths(container))
        group, reason = self.find_by_image(image, scope) if image else (None, "")
        if image and is_proxy_image(image):
            role, evidence = "proxy", f"image {image} is a reverse proxy"
        elif mounted is not None:
            role, evidence = "proxy", f"mounts nginx configuration at {mounted}"
        elif image and image_keys(image)[0] in self.proxy_images:
            role, evidence = "proxy", f"runs the proxy's image ({self.proxy_images[image_keys(image)[0]]})"
        elif group is not None:
            role, evidence = "app", f"runs the app's image ({reason})"
        elif image and _is_node_image(image):
            role, evidence = "app", f"image {image} is a Node.js image"
            reason = "a Node.js image not built here"
        elif (grpc := _grpc(container)) is not None:
            role, evidence = "other", f"serves gRPC ({grpc}), which a Next.js app does not"
        elif chosen is not None:
            role, evidence = "app", f"the main container runs a custom image ({image}): {chosen}"
            only = self.only_group(scope)
            # the app built here, pushed under another name; never another workload's group
            group = only if only is not None and only.dockerfile is not None else None
            reason = "the only app of the repository (image names differ)" if group is not None \
                else "a workload with no image built here"
        elif container is main and _could_be_the_app(image):
            role, evidence = "other", (f"custom image {image}, one of several no build matches, with no sign of "
                                       "Next.js (port 3000, NEXT_* or NODE_ENV)")
        else:
            role, evidence = "other", f"image {image} is neither the app's nor a Node.js or proxy image" \
                if image else "no image"
        role = self.set_role(container, "Kubernetes container", container.name, role, evidence, container.span,
                             workload.name)
        if role != "app" or not link:
            return None, ""
        if group is None:
            group = self.new_group(workload.name, scope)
            reason = reason or "the configuration makes it the app"
        return group, reason

    def attach_container(self, kubernetes: KubernetesSet, workload: Workload, container: Container,
                         group: _Group, reason: str) -> None:
        image = container.image.raw if container.image else ""
        services = kubernetes.services_for(workload)
        group.containers.append(ContainerRef(workload, container, services, _writable_mounts(container)))
        group.links.append(f"{workload.kind} {workload.name}, container {container.name} "
                           f"({container.span.path}): image {image}, {reason}")
        self.index_image(group, image)
        for service in services:
            self.by_kubernetes_service.setdefault((self.scope_of(service.span.path), service.name), group)

    # -- nginx ------------------------------------------------------------------------------

    def nginx(self) -> None:
        for config in self.project.nginx_configs:
            for _, location in config.locations():
                proxy = location.effective.proxy_pass
                if proxy is None or not location.proxies_to_app or proxy.has_variables:
                    continue
                for route in _routes(config, location, proxy):
                    self.attach_route(route)

    def attach_route(self, route: ProxyRoute) -> None:
        kubernetes = self.project.kubernetes
        short = route.host.split(".", 1)[0]
        scope = self.scope_of(route.proxy.span.path)
        group = self._scoped(self.by_compose_service, scope, route.host)
        target, service = f"compose service '{route.host}'", None
        if group is None and self._scoped(self.by_kubernetes_service, scope, short) is not None:
            group = self._scoped(self.by_kubernetes_service, scope, short)
            target = f"Kubernetes Service {short}"
            service = next((s for ref in group.containers for s in ref.services if s.name == short), None) \
                if group is not None else None
        if group is None and self.only_group(scope) is not None:
            group = self.only_group(scope)
            why = "loopback" if route.host in _LOOPBACK else "no service of that name"
            target = f"host {route.host} ({why}; the only app of the repository)"
        route = ProxyRoute(route.config, route.location, route.proxy, route.host, route.ports,
                           route.port_spans, target, service)
        if group is None:
            self.unlinked_routes.append(route)
            return
        group.routes.append(route)
        group.links.append(f"nginx {route.location.label} ({route.proxy.span.path}:{route.proxy.span.line}): "
                           f"proxy_pass {route.proxy.url} -> {target}")

    # -- Next.js and build contexts ---------------------------------------------------------

    def next_apps(self) -> None:
        apps = {app.dir: app for app in self.project.next_apps}
        for group in self.groups:
            if group.dockerfile is not None and not group.contexts:
                group.contexts.append(group.dockerfile.directory)  # `docker build <its folder>`
            for context in group.contexts:
                if context in apps:
                    group.next_app = apps[context]
                    group.links.append(f"Next.js app at {context or '.'}: the build context")
                    break
        if len(self.project.next_apps) == 1 and len(self.groups) == 1 and self.groups[0].next_app is None:
            self.groups[0].next_app = self.project.next_apps[0]
            self.groups[0].links.append(f"Next.js app at {self.project.next_apps[0].dir or '.'}: "
                                        "the only app of the repository")

    def app_dockerfiles(self) -> dict[str, tuple[Dockerfile, ...]]:
        """Next.js app folder -> the Dockerfiles that build it: those in, below or directly above
        (on the path to the root) the app's folder, then those a deployment links to the app."""
        below: dict[str, list[Dockerfile]] = {}
        directly: dict[str, list[Dockerfile]] = {}
        for dockerfile in self.project.dockerfiles:
            directly.setdefault(dockerfile.directory, []).append(dockerfile)
            for folder in _ancestors(dockerfile.directory):
                below.setdefault(folder, []).append(dockerfile)
        found: dict[str, tuple[Dockerfile, ...]] = {}
        for app in self.project.next_apps:
            building = list(below.get(app.dir, []))
            for folder in _ancestors(app.dir)[1:]:
                building.extend(directly.get(folder, []))
            for group in self.groups:
                if group.next_app is app and group.dockerfile is not None \
                        and all(d is not group.dockerfile for d in building):
                    building.append(group.dockerfile)
            found[app.dir] = tuple(building)
        return found

    def build_contexts(self) -> tuple[BuildContext, ...]:
        contexts: dict[tuple[str, str], BuildContext] = {}
        for group in self.groups:
            if group.dockerfile is None:
                continue
            for context in group.contexts:
                contexts.setdefault((context, group.dockerfile.path), BuildContext(
                    context, group.dockerfile, self.project.dockerignore_for(context)))
        claimed = {dockerfile_path for _, dockerfile_path in contexts}
        for dockerfile in self.project.dockerfiles:  # proxy images are built too
            if dockerfile.path not in claimed:
                contexts[(dockerfile.directory, dockerfile.path)] = BuildContext(
                    dockerfile.directory, dockerfile, self.project.dockerignore_for(dockerfile.directory))
        return tuple(contexts.values())


def _ancestors(folder: str) -> list[str]:
    """``a/b/c`` -> ``['a/b/c', 'a/b', 'a', '']``: the folder and every folder above it."""
    parts = folder.split("/") if folder else []
    return ["/".join(parts[:index]) for index in range(len(parts), -1, -1)]


def _routes(config: Any, location: Any, proxy: Any) -> list[ProxyRoute]:
    """One route per host a location proxies to (an upstream may list several)."""
    if proxy.upstream is not None:
        hosts: dict[str, tuple[list[int], list[Span]]] = {}
        for server in proxy.upstream.servers:
            ports, spans = hosts.setdefault(server.host, ([], []))
            if server.port is not None:
                ports.append(server.port)
            spans.append(server.span)
        return [ProxyRoute(config, location, proxy, host, tuple(ports), tuple(spans), host)
                for host, (ports, spans) in hosts.items()]
    return [ProxyRoute(config, location, proxy, proxy.host, (proxy.port,) if proxy.port else (),
                       (proxy.span,), proxy.host)]


def _mount_paths(container: Container) -> list[str]:
    """Every ``mountPath`` of a container, read-only ones included."""
    return [mount.mount_path for mount in container.volume_mounts]


def _writable_mounts(container: Container) -> tuple[WritableMount, ...]:
    """The writable mounts of one container: its ``volumeMounts`` that are not ``readOnly`` and
    whose volume is not a kind Kubernetes always mounts read-only (configMap, secret...)."""
    if container.is_init:
        return ()
    return tuple(WritableMount(mount.mount_path, mount.volume_kind, mount.span) for mount in container.volume_mounts
                 if not mount.read_only and mount.volume_kind not in _READ_ONLY_VOLUMES)


# ---------------------------------------------------------------------------------------------
# Claims


def _dockerfile_uid(dockerfile: Dockerfile, stage: Stage, user: ImageUser) -> Claim:
    if user.instruction is None:
        return Claim("Dockerfile", f"{dockerfile.path} {stage.label} has no USER (root)", 0, stage.span)
    name, uid = user.spec.name, user.uid
    shown = f"USER {name}" + (f" (UID {uid})" if uid is not None and user.spec.numeric_uid is None else "")
    return Claim("Dockerfile", shown, uid, user.instruction.span)


def _uids(group: _Group) -> list[Claim]:
    claims: list[Claim] = []
    runtime = None
    if group.dockerfile is not None and group.stage is not None:
        runtime = image_user(group.dockerfile, group.stage)
        claims.append(_dockerfile_uid(group.dockerfile, group.stage, runtime))
    for ref in group.compose:
        user = ref.service.user
        if user is not None:  # else the image's USER applies: nothing of its own to compare
            claims.append(Claim("compose", f"compose service '{ref.service.name}' user: {user}",
                                compose_uid(user, runtime), ref.service.value_span("user")))
    for kref in group.containers:
        setting = kref.container.security.run_as_user
        if setting is not None and isinstance(setting.value, int) and not isinstance(setting.value, bool):
            origin = " (pod securityContext)" if setting.level == "pod" else ""
            claims.append(Claim("Kubernetes", f"{kref.label} runAsUser: {setting.value}{origin}",
                                setting.value, setting.span))
    return claims


def _exposed(dockerfile: Dockerfile, stage: Stage) -> Claim | None:
    exposes = [i for i in dockerfile.inherited_instructions(stage) if i.keyword == "EXPOSE"]
    if not exposes:
        return None
    scope = dockerfile.variables(stage)
    ports: list[int] = []
    for instruction in exposes:
        for operand in instruction.arguments.split():
            low, _, high = expand(operand, scope).partition("/")[0].partition("-")
            if low.isdigit() and (not high or high.isdigit()):
                ports.extend(range(int(low), int(high or low) + 1))
    shown = " ".join(" ".join(i.arguments.split()) for i in exposes)
    return Claim("Dockerfile", f"EXPOSE {shown}", tuple(ports), exposes[-1].span)


def _compose_ports(ref: ComposeRef) -> Claim | None:
    service = ref.service
    ports: list[int] = []
    spans: list[Span] = []
    for text, span in service.exposed:
        number = text.partition("/")[0]
        if number.isdigit():
            ports.append(int(number))
            spans.append(span)
    for mapping in service.ports:
        number = mapping.target.partition("-")[0]
        if number.isdigit():
            ports.append(int(number))
            spans.append(mapping.span)
    if not ports:
        return None
    return Claim("compose", f"compose service '{service.name}' "
                            f"{'expose' if service.exposed else 'ports'} {', '.join(map(str, dict.fromkeys(ports)))}",
                 tuple(dict.fromkeys(ports)), spans[0])


def _ports(group: _Group) -> tuple[list[Claim], list[tuple[Claim, Any]]]:
    container_claims: list[Claim] = []
    service_claims: list[tuple[Claim, Any]] = []
    for route in group.routes:
        ports = ",".join(map(str, route.ports)) or "(none)"
        upstream = route.proxy.upstream
        subject = f"nginx upstream {upstream.name}: server {route.host}:{ports}" if upstream is not None \
            else f"nginx proxy_pass {route.proxy.url}"
        claim = Claim("nginx", subject, route.ports, route.span)
        if route.kubernetes_service is not None:
            service_claims.append((claim, route.kubernetes_service))
        elif route.ports:
            container_claims.append(claim)
    for ref in group.compose:
        compose_claim = _compose_ports(ref)
        if compose_claim is not None:
            container_claims.append(compose_claim)
    if group.dockerfile is not None and group.stage is not None:
        exposed = _exposed(group.dockerfile, group.stage)
        if exposed is not None:
            container_claims.append(exposed)
    seen_services: set[int] = set()
    for kref in group.containers:
        declared = tuple(p.container_port for p in kref.container.ports if p.container_port)
        if declared:
            container_claims.append(Claim("Kubernetes", f"{kref.label} containerPort "
                                                        f"{', '.join(map(str, declared))}",
                                          declared, kref.container.ports[0].span))
        # Ports by name and number across the pod: a targetPort naming or numbering a port some
        # container of the pod declares is consistent by construction (a two-port container, a
        # sidecar's port); only one no container declares is a claim to compare.
        pod_ports = [p for c in kref.workload.containers for p in c.ports if p.container_port]
        named = {p.name: p.container_port for p in pod_ports if p.name}
        numbers = {p.container_port for p in pod_ports}
        for service in kref.services:
            if id(service) in seen_services:
                continue
            seen_services.add(id(service))
            for port in service.ports:
                target = port.target_port if port.target_port is not None else port.port
                resolved = named.get(target, None) if isinstance(target, str) else target
                if isinstance(target, str) and resolved is not None or resolved in numbers:
                    continue
                if isinstance(resolved, int):
                    container_claims.append(Claim("Kubernetes", f"Service {service.name} targetPort {target}",
                                                  (resolved,), port.span))
    return _unique(container_claims), service_claims


def _ingress_claims(kubernetes: KubernetesSet | None, group: _Group) -> list[tuple[Claim, Any]]:
    claims = []
    services = {id(s): s for ref in group.containers for s in ref.services}
    for service in services.values():
        for ingress, backend in kubernetes.backends_for(service) if kubernetes else ():
            if isinstance(backend.service_port, int):
                claims.append((Claim("Kubernetes", f"Ingress {ingress.name} backend {service.name}:"
                                                   f"{backend.service_port}", (backend.service_port,),
                                     backend.span), service))
    return claims


def _health(group: _Group) -> list[Claim]:
    claims: list[Claim] = []
    if group.dockerfile is not None and group.stage is not None:
        instruction = group.dockerfile.last_inherited(group.stage, "HEALTHCHECK")
        if instruction is not None and instruction.arguments.strip().upper() != "NONE":
            path = health_path(instruction.command_text)
            if path:
                claims.append(Claim("Dockerfile", f"HEALTHCHECK requests {path}", path, instruction.span))
    for ref in group.compose:
        check = ref.service.healthcheck
        path = health_path(check.command) if check is not None and check.test and not check.disabled else None
        if check is not None and path:
            claims.append(Claim("compose", f"compose service '{ref.service.name}' healthcheck requests {path}",
                                path, check.test_span))
    for kref in group.containers:
        container = kref.container
        for probe in (container.liveness_probe, container.readiness_probe, container.startup_probe):
            if probe is None:
                continue
            path = probe.http_path or (health_path(" ".join(probe.exec_command)) if probe.exec_command else None)
            if path:
                how = "httpGet " if probe.http_path else ""
                claims.append(Claim("Kubernetes", f"{kref.label} {probe.kind}Probe {how}requests {path}", path,
                                    probe.http_path_span or probe.span))
    return claims


def _read_only(group: _Group) -> list[ReadOnlyRoot]:
    found = []
    for ref in group.compose:
        service = ref.service
        if service.flag("read_only") is True:
            mounts = tuple(WritableMount(m.target, m.kind, m.span) for m in service.writable_mounts if m.target)
            found.append(ReadOnlyRoot("compose", f"compose service '{service.name}' read_only: true",
                                      service.span, service.value_span("read_only"), mounts))
    for kref in group.containers:
        setting = kref.container.security.read_only_root_filesystem
        if setting is not None and setting.value is True:
            found.append(ReadOnlyRoot("Kubernetes", f"{kref.label} readOnlyRootFilesystem: true",
                                      kref.container.span, setting.span, kref.writable_mounts))
    return found


def _unique(claims: list[Claim]) -> list[Claim]:
    """Two locations proxying through one upstream state its port once."""
    return list({(c.span, c.value): c for c in claims}.values())


def _git_ignored(project: Project) -> frozenset[str]:
    """Files of the tree that a ``.gitignore`` leaves out (so they are not committed). Patterns
    without an inner ``/`` match at any depth, as git reads them."""
    files = list(project.files)
    # Only the tree's own .gitignore files count (nothing above the root, not the index): without
    # one nothing is ignored, known without looking for the repository above the root
    if not any(path.rpartition("/")[2] == ".gitignore" for path in files):
        return frozenset()
    # One gitignore implementation (pathspec, git's semantics, bounded against hostile patterns)
    from auditor.ignore import git_ignored

    return git_ignored(project.root, files)


def build_system_model(project: Project) -> SystemModel:
    linker = _Linker(project)
    linker.dockerfiles()
    linker.compose()
    linker.kubernetes()
    linker.nginx()
    linker.next_apps()
    deployments = []
    for group in linker.groups:
        workdir = group.dockerfile.workdir(group.stage) if group.dockerfile and group.stage else DEFAULT_WORKDIR
        container_ports, service_ports = _ports(group)
        service_ports += _ingress_claims(project.kubernetes, group)
        deployments.append(Deployment(
            name=group.name, dockerfile=group.dockerfile, stage=group.stage, images=tuple(group.images),
            compose=tuple(group.compose), containers=tuple(group.containers), routes=tuple(group.routes),
            next_app=group.next_app, build_contexts=tuple(group.contexts), workdir=workdir,
            uids=tuple(_uids(group)), ports=tuple(container_ports), service_ports=tuple(service_ports),
            health=tuple(_unique(_health(group))), read_only=tuple(_read_only(group)),
            links=tuple(group.links)))
    return SystemModel(tuple(deployments), linker.build_contexts(), tuple(linker.unlinked_routes),
                       _git_ignored(project), tuple(linker.roles.values()), linker.app_dockerfiles())


