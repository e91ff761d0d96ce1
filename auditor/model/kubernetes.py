"""Kubernetes manifests as the cluster would run them.

One ``KubernetesSet`` holds every manifest of the scan, so checks can follow the links Kubernetes
itself follows: a Service selects a workload's pod labels, an Ingress backend names a Service, an
HPA's ``scaleTargetRef`` names a workload. Each container carries its *effective* security context:
the pod-level fields Kubernetes copies into containers (``runAsUser``, ``runAsGroup``,
``runAsNonRoot``, ``seLinuxOptions``, ``seccompProfile``, ``appArmorProfile``, ``windowsOptions``)
apply unless the container sets its own, and each value keeps the span of the line that set it.
See https://kubernetes.io/docs/tasks/configure-pod-container/security-context/ ("the settings
made at the container level override the settings made at the Pod level").

Mapping-valued fields (labels, selectors, raw values) are excluded from hashing so that every node
stays hashable; they still take part in equality.
"""
from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator, Mapping
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass, field
    from typing import Any, Literal

    from auditor.model.quantity import Exact
else:
    from auditor.record import dataclass, field

from auditor.model.image import ImageRef
from auditor.model.span import Span

if TYPE_CHECKING:
    Level = Literal["container", "pod"]

#: Kinds whose objects run pods, and where their pod template lives.
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController",
                  "Job", "CronJob", "Pod")
#: Kinds read into a model of their own (``Workload``, ``Service``, ``Ingress``, ``Autoscaler``):
#: once the project is built, their ``KubernetesObject.raw`` is released.
MODELLED_KINDS = (*WORKLOAD_KINDS, "Service", "Ingress", "HorizontalPodAutoscaler")
#: Kinds whose ``replicas`` defaults to 1 when absent (what the API server fills in).
REPLICATED_KINDS = ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController")


@dataclass(frozen=True, slots=True)
class Setting:
    """One effective field: its value, where it was written and at which level."""

    value: Any = field(hash=False)
    span: Span  # from the key to the end of the value: `runAsUser: 0`
    level: Level


@dataclass(frozen=True, slots=True)
class Capability:
    name: str  # upper case, without the ``CAP_`` prefix Kubernetes does not expect
    span: Span


@dataclass(frozen=True, slots=True)
class SeccompProfile:
    type: str | None  # RuntimeDefault, Localhost, Unconfined
    localhost_profile: str | None


@dataclass(frozen=True, slots=True)
class SecurityContext:
    """A container's effective security context (container fields win over pod fields)."""

    span: Span  # the container's own ``securityContext:`` mapping, or the container when absent
    declared: bool  # the container has a ``securityContext`` of its own
    run_as_user: Setting | None
    run_as_group: Setting | None
    run_as_non_root: Setting | None
    se_linux_options: Setting | None
    seccomp_profile: Setting | None  # value: SeccompProfile
    app_armor_profile: Setting | None
    windows_options: Setting | None
    capabilities_add: tuple[Capability, ...]
    capabilities_drop: tuple[Capability, ...]
    capabilities_span: Span | None  # the ``capabilities:`` key, when written
    read_only_root_filesystem: Setting | None
    allow_privilege_escalation: Setting | None
    privileged: Setting | None
    proc_mount: Setting | None


@dataclass(frozen=True, slots=True)
class Quantity:
    """A resource quantity as written (``500m``, ``2Gi``) and its exact value.

    ``value`` is in base units: cores for CPU, bytes for memory. ``None`` when the text is not a
    valid Kubernetes quantity (the parser reports a problem at ``span``).
    """

    resource: str  # cpu, memory, ephemeral-storage, nvidia.com/gpu, ...
    raw: str
    value: Exact | None
    span: Span

    @property
    def cores(self) -> float | None:
        return None if self.value is None else float(self.value)

    @property
    def bytes(self) -> int | None:
        """Whole bytes, rounded up as ``resource.Quantity.Value()`` does."""
        if self.value is None:
            return None
        return -((-self.value.numerator) // self.value.denominator)


@dataclass(frozen=True, slots=True)
class Resources:
    span: Span  # the ``resources:`` mapping, or the container when absent
    requests: tuple[Quantity, ...]
    limits: tuple[Quantity, ...]
    requests_span: Span | None
    limits_span: Span | None

    def request(self, resource: str) -> Quantity | None:
        for quantity in self.requests:  # a loop, not a generator: asked for every container
            if quantity.resource == resource:
                return quantity
        return None

    def limit(self, resource: str) -> Quantity | None:
        for quantity in self.limits:
            if quantity.resource == resource:
                return quantity
        return None


@dataclass(frozen=True, slots=True)
class Probe:
    kind: Literal["liveness", "readiness", "startup"]
    span: Span  # the ``livenessProbe:`` key line
    handler: str | None  # httpGet, exec, tcpSocket, grpc
    http_path: str | None
    http_port: int | str | None
    http_path_span: Span | None
    tcp_port: int | str | None
    exec_command: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EnvVar:
    name: str
    value: str | None  # the literal, as Kubernetes passes it (numbers and booleans as written)
    value_from: str | None  # secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef
    reference_name: str | None  # the Secret or ConfigMap named by ``value_from``
    span: Span  # the ``- name:`` item
    value_span: Span | None  # ``value: ...`` line


@dataclass(frozen=True, slots=True)
class EnvFromSource:
    kind: str  # secretRef or configMapRef
    name: str | None
    prefix: str | None
    span: Span


@dataclass(frozen=True, slots=True)
class ContainerPort:
    container_port: int | None
    name: str | None
    protocol: str
    span: Span


@dataclass(frozen=True, slots=True)
class VolumeMount:
    """One ``volumeMounts`` item of a container: where it mounts, whether ``readOnly: true``, and
    the kind of the pod volume it names (``emptyDir``, ``configMap``; ``volume`` when unknown)."""

    mount_path: str
    read_only: bool
    volume_kind: str
    span: Span  # the ``- name:`` item


@dataclass(frozen=True, slots=True)
class Container:
    name: str
    span: Span  # the ``- name:`` item
    is_init: bool
    image: ImageRef | None
    image_span: Span | None
    image_pull_policy: str | None
    image_pull_policy_span: Span | None
    security: SecurityContext
    resources: Resources
    liveness_probe: Probe | None
    readiness_probe: Probe | None
    startup_probe: Probe | None
    env: tuple[EnvVar, ...]
    env_from: tuple[EnvFromSource, ...]
    ports: tuple[ContainerPort, ...]
    restart_policy: str | None  # ``Always`` makes an init container a sidecar
    volume_mounts: tuple[VolumeMount, ...] = ()
    role: str = ""  # app, proxy or other, as the project model infers it (``auditor.model.deployment``)


@dataclass(frozen=True, slots=True)
class PodSpec:
    span: Span  # the pod ``spec:`` mapping
    host_network: Setting | None
    host_pid: Setting | None
    host_ipc: Setting | None
    automount_service_account_token: Setting | None
    service_account_name: str | None
    security_context_span: Span | None  # the pod-level ``securityContext:`` key
    init_containers: tuple[Container, ...]
    containers: tuple[Container, ...]

    @property
    def all_containers(self) -> tuple[Container, ...]:
        return self.init_containers + self.containers


@dataclass(frozen=True, slots=True)
class KubernetesObject:
    """Any manifest (ConfigMap, NetworkPolicy, ... included), for rules that only need metadata.

    ``raw`` is the manifest as loaded, with the positions of its keys and values. For the kinds
    with a model of their own (``MODELLED_KINDS``) it serves the parsers only: once the project
    is built it is an empty mapping (``parsers.project.release_modelled_manifests``), so 45,000
    Pods do not keep their YAML trees through the checks; read those kinds through their models."""

    api_version: str
    kind: str
    name: str
    namespace: str | None
    span: Span  # the object's mapping
    name_span: Span
    labels: Mapping[str, str] = field(hash=False)
    annotations: Mapping[str, str] = field(hash=False)
    raw: Mapping[str, Any] = field(hash=False, repr=False)


@dataclass(frozen=True, slots=True)
class Workload:
    kind: str
    name: str
    namespace: str | None
    span: Span
    name_span: Span
    labels: Mapping[str, str] = field(hash=False)  # metadata.labels
    pod_labels: Mapping[str, str] = field(hash=False)  # labels of the pods it creates
    replicas: int | None = None
    replicas_span: Span | None = None
    pod: PodSpec | None = None

    @property
    def effective_replicas(self) -> int | None:
        """``replicas`` as the API server defaults it (1) for the kinds that have it."""
        if self.replicas is None and self.kind in REPLICATED_KINDS:
            return 1
        return self.replicas

    @property
    def containers(self) -> tuple[Container, ...]:
        """Every container, init containers first."""
        return self.pod.all_containers if self.pod else ()


@dataclass(frozen=True, slots=True)
class ServicePort:
    name: str | None
    port: int | None
    target_port: int | str | None  # a number or a container port name; None means ``port``
    node_port: int | None
    protocol: str
    span: Span


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    namespace: str | None
    span: Span
    name_span: Span
    type: str  # ClusterIP when absent
    type_span: Span | None
    selector: Mapping[str, str] = field(hash=False)
    ports: tuple[ServicePort, ...] = ()


@dataclass(frozen=True, slots=True)
class IngressBackend:
    service_name: str | None
    service_port: int | str | None  # number or port name
    host: str | None  # the rule's host; None for the default backend or a host-less rule
    path: str | None
    span: Span


@dataclass(frozen=True, slots=True)
class IngressRule:
    host: str | None
    span: Span
    backends: tuple[IngressBackend, ...]


@dataclass(frozen=True, slots=True)
class IngressTLS:
    hosts: tuple[str, ...]
    secret_name: str | None
    span: Span


@dataclass(frozen=True, slots=True)
class Annotation:
    key: str
    value: str
    span: Span


@dataclass(frozen=True, slots=True)
class Ingress:
    name: str
    namespace: str | None
    span: Span
    name_span: Span
    ingress_class: str | None
    annotations: tuple[Annotation, ...]
    annotations_span: Span | None
    rules: tuple[IngressRule, ...]
    tls: tuple[IngressTLS, ...]
    tls_span: Span | None
    default_backend: IngressBackend | None

    @property
    def backends(self) -> tuple[IngressBackend, ...]:
        rule_backends = tuple(b for rule in self.rules for b in rule.backends)
        return ((self.default_backend,) if self.default_backend else ()) + rule_backends

    @property
    def hosts(self) -> tuple[str, ...]:
        return tuple(rule.host for rule in self.rules if rule.host)

    @property
    def tls_hosts(self) -> tuple[str, ...]:
        return tuple(host for entry in self.tls for host in entry.hosts)

    def annotation(self, key: str) -> Annotation | None:
        return next((a for a in self.annotations if a.key == key), None)


@dataclass(frozen=True, slots=True)
class Autoscaler:
    """A HorizontalPodAutoscaler (autoscaling/v1 or v2)."""

    name: str
    namespace: str | None
    span: Span
    target_kind: str | None
    target_name: str | None
    target_span: Span | None
    min_replicas: int  # 1 when absent, as the API server defaults it
    min_replicas_span: Span | None
    max_replicas: int | None


# Files that make their folder a project: Kubernetes objects link to each other only within one.
PROJECT_MARKERS = ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml", "package.json",
                   "kustomization.yaml", "kustomization.yml", "Chart.yaml")


def project_folders(files: Iterable[str]) -> frozenset[str]:
    """Folders (relative, '' for the root) holding a Dockerfile, a compose file, a package.json,
    a kustomization or a Helm chart."""
    folders = set()
    for path in files:
        folder, _, name = path.rpartition("/")
        lowered = name.lower()
        if name in PROJECT_MARKERS or name.startswith("docker-compose.") \
                or lowered.startswith(("dockerfile", "containerfile")) or lowered.endswith(".dockerfile"):
            folders.add(folder)
    return frozenset(folders)


def same_namespace(first: str | None, second: str | None) -> bool:
    """Manifests without ``namespace`` land in whichever namespace ``kubectl -n`` names, so they
    can meet an object of any namespace."""
    return first is None or second is None or first == second


@dataclass(frozen=True, slots=True)
class KubernetesSet:
    """Every Kubernetes manifest of the scan."""

    objects: tuple[KubernetesObject, ...]
    workloads: tuple[Workload, ...]
    services: tuple[Service, ...]
    ingresses: tuple[Ingress, ...]
    autoscalers: tuple[Autoscaler, ...]
    paths: tuple[str, ...] = ()  # files that contributed manifests, in scan order
    indexes: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # see _lookup
    project_folders: frozenset[str] = frozenset()  # see project_folders(): where links stop

    def scope_of(self, path: str) -> str:
        """The project a manifest belongs to: the nearest folder above it that holds a project
        marker, else its own folder (manifests side by side with nothing else are one project)."""
        own = folder = posixpath.dirname(path)
        while True:
            if folder in self.project_folders:
                return folder
            if not folder:
                return own
            folder = posixpath.dirname(folder)

    def same_project(self, first: Any, second: Any) -> bool:
        return self.scope_of(first.span.path) == self.scope_of(second.span.path) \
            and same_namespace(first.namespace, second.namespace)
    # a rendered deployment (a Helm chart render, a Kustomize overlay): its name for reports, and
    # the rendered line shown for each source line its spans point at (parsers/rendered.py)
    origin: str = ""
    snippets: dict[tuple[str, int], str] = field(default_factory=dict, compare=False, repr=False)

    def containers(self) -> Iterator[tuple[Workload, Container]]:
        """Every container of every workload, init containers first."""
        for workload in self.workloads:
            pod = workload.pod
            if pod is not None:
                for container in pod.init_containers:
                    yield workload, container
                for container in pod.containers:
                    yield workload, container

    def _lookup(self, name: str) -> dict[Any, Any]:
        """Indexes built on first use, so linking stays linear in the number of manifests (a
        monorepo scan holds thousands); the mutable cache sits outside the frozen fields' meaning."""
        cache = self.indexes
        if not cache:
            selectors: dict[tuple[str, str], list[Service]] = {}
            for service in self.services:
                if service.selector:
                    selectors.setdefault(min(service.selector.items()), []).append(service)
            backends: dict[str | None, list[tuple[Ingress, IngressBackend]]] = {}
            for ingress in self.ingresses:
                for backend in ingress.backends:
                    backends.setdefault(backend.service_name, []).append((ingress, backend))
            targets: dict[tuple[str | None, str | None], list[Autoscaler]] = {}
            for hpa in self.autoscalers:
                targets.setdefault((hpa.target_kind, hpa.target_name), []).append(hpa)
            positions = {id(service): index for index, service in enumerate(self.services)}
            cache.update(selectors=selectors, backends=backends, targets=targets, positions=positions)
        found: dict[Any, Any] = cache[name]
        return found

    def services_for(self, workload: Workload) -> tuple[Service, ...]:
        """Services whose (non-empty) selector matches the workload's pod labels."""
        selectors = self._lookup("selectors")
        candidates = [service for item in workload.pod_labels.items() for service in selectors.get(item, ())]
        positions = self._lookup("positions")
        ordered = sorted({id(s): s for s in candidates}.values(), key=lambda s: positions[id(s)])
        return tuple(
            service for service in ordered
            if self.same_project(service, workload)
            and all(workload.pod_labels.get(k) == v for k, v in service.selector.items()))

    def backends_for(self, service: Service) -> tuple[tuple[Ingress, IngressBackend], ...]:
        """Ingress backends that send traffic to ``service``."""
        return tuple((ingress, backend) for ingress, backend in self._lookup("backends").get(service.name, ())
                     if self.same_project(ingress, service))

    def ingresses_for(self, service: Service) -> tuple[Ingress, ...]:
        found: list[Ingress] = []
        for ingress, _ in self.backends_for(service):
            if all(ingress is not seen for seen in found):
                found.append(ingress)
        return tuple(found)

    def autoscaler_for(self, workload: Workload) -> Autoscaler | None:
        """The HPA whose ``scaleTargetRef`` names the workload."""
        return next((hpa for hpa in self._lookup("targets").get((workload.kind, workload.name), ())
                     if self.same_project(hpa, workload)), None)
