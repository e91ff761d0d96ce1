"""Kubernetes manifests (already loaded by ``yaml_loader``) -> ``KubernetesSet``.

Never raises on user input: a field of the wrong shape or a malformed quantity becomes a
``ParseProblem`` at the value and the rest of the manifest is still read.
"""
from __future__ import annotations

from collections.abc import Mapping
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import Any

    from auditor.model.kubernetes import Level
    from auditor.model.quantity import Exact

from auditor.model.kubernetes import (
    MODELLED_KINDS,
    REPLICATED_KINDS,
    WORKLOAD_KINDS,
    Annotation,
    Autoscaler,
    Capability,
    Container,
    ContainerPort,
    EnvFromSource,
    EnvVar,
    Ingress,
    IngressBackend,
    IngressRule,
    IngressTLS,
    KubernetesObject,
    KubernetesSet,
    PodSpec,
    Probe,
    Quantity,
    Resources,
    SeccompProfile,
    SecurityContext,
    Service,
    ServicePort,
    Setting,
    VolumeMount,
    Workload,
)
from auditor.model.image import ImageRef
from auditor.model.span import NotChecked, Note, ParseProblem, Span
from auditor.model.yaml import YamlDocument, YList, YMap

from auditor.model.quantity import QuantityError, cpu_cores, memory_bytes, parse_quantity

__all__ = ["QuantityError", "cpu_cores", "memory_bytes", "parse_quantity"]  # read from here by older callers


# ---------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------

def parse_image(reference: str) -> ImageRef:
    """Split ``[registry/]repository[:tag][@digest]`` as the runtime does.

    The first path component is a registry only when it looks like a host (has ``.`` or ``:``,
    or is ``localhost``), so ``bitnami/nginx`` is a Docker Hub repository, not a registry.
    """
    return ImageRef.parse(reference)


# ---------------------------------------------------------------------------------------------
# Positions and shapes
# ---------------------------------------------------------------------------------------------

_new_tuple = tuple.__new__  # Span is a NamedTuple: built in C, without its Python __new__


def _entry_span(mapping: YMap, key: str) -> Span:
    """From ``key`` to the end of its value: the line(s) a finding about ``key: value`` points at."""
    key_span, value_span = mapping.key_span(key), mapping.value_span(key)
    if value_span.line < key_span.line:  # an alias or merge: the value lives elsewhere
        return key_span
    return _new_tuple(Span, (key_span.path, key_span.line, key_span.column, value_span.end_line,
                             value_span.end_column))


def _entry_span_if_present(mapping: YMap | None, key: str) -> Span | None:
    return _entry_span(mapping, key) if mapping is not None and key in mapping else None


class _Reader:
    """Shape checks that record a problem instead of raising."""

    def __init__(self) -> None:
        self.problems: list[ParseProblem] = []

    def problem(self, span: Span, message: str) -> None:
        self.problems.append(ParseProblem(span, message))

    def mapping(self, parent: Any, key: str, where: str = "") -> YMap | None:
        if not isinstance(parent, YMap):
            return None
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, YMap):
            self.problem(parent.value_span(key), f"`{where or key}` must be a mapping")
            return None
        return value

    def sequence(self, parent: Any, key: str, where: str = "") -> YList | None:
        if not isinstance(parent, YMap):
            return None
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, YList):
            self.problem(parent.value_span(key), f"`{where or key}` must be a list")
            return None
        return value

    def mappings(self, parent: Any, key: str, where: str = "") -> list[tuple[YMap, Span]]:
        """The mapping items of a list, each with its item span."""
        items = self.sequence(parent, key, where)
        if items is None:
            return []
        found = []
        for index, item in enumerate(items):
            if isinstance(item, YMap):
                found.append((item, items.item_span(index)))
            else:
                self.problem(items.item_span(index), f"each `{where or key}` entry must be a mapping")
        return found

    def string_map(self, parent: Any, key: str) -> dict[str, str]:
        value = self.mapping(parent, key)
        return {str(k): _text(v) for k, v in value.items()} if value else {}

    def integer(self, parent: YMap, key: str, where: str = "") -> int | None:
        value = parent.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(parent.value_span(key), f"`{where or key}` must be an integer, not {value!r}")
            return None
        return value

    def setting(self, mapping: YMap | None, key: str, level: Level) -> Setting | None:
        if mapping is None or mapping.get(key) is None:
            return None
        return Setting(mapping[key], _entry_span(mapping, key), level)


def _text(value: Any) -> str:
    """A scalar as Kubernetes would see it after YAML (``true`` -> ``"true"``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


# ---------------------------------------------------------------------------------------------
# Containers
# ---------------------------------------------------------------------------------------------

def _effective(field_name: str, container_context: YMap | None, pod_context: YMap | None,
               reader: _Reader) -> Setting | None:
    """The container's own setting, else the pod's: Kubernetes applies a PodSecurityContext field
    (runAsUser, runAsGroup, runAsNonRoot, seLinuxOptions, seccompProfile, appArmorProfile,
    windowsOptions) to every container that leaves it unset."""
    return (reader.setting(container_context, field_name, "container")
            or reader.setting(pod_context, field_name, "pod"))


def _seccomp(setting: Setting | None, reader: _Reader) -> Setting | None:
    if setting is None:
        return None
    if not isinstance(setting.value, YMap):
        reader.problem(setting.span, "`seccompProfile` must be a mapping with `type`")
        return None
    profile = SeccompProfile(_text(setting.value.get("type")) or None,
                             _text(setting.value.get("localhostProfile")) or None)
    return Setting(profile, setting.span, setting.level)


def _capabilities(capabilities: YMap | None, key: str, reader: _Reader) -> tuple[Capability, ...]:
    items = reader.sequence(capabilities, key, f"capabilities.{key}")
    if items is None:
        return ()
    return tuple(Capability(_text(name), items.item_span(index)) for index, name in enumerate(items))


def _security_context(item: YMap, item_span: Span, pod_context: YMap | None,
                      reader: _Reader) -> SecurityContext:
    own = reader.mapping(item, "securityContext")
    if own is None and pod_context is None:  # set at neither level: every field unset
        return SecurityContext(item_span, False, None, None, None, None, None, None, None, (), (), None,
                               None, None, None, None)
    capabilities = reader.mapping(own, "capabilities")

    def inherited(name: str) -> Setting | None:
        return _effective(name, own, pod_context, reader)

    return SecurityContext(
        span=own.span if own is not None else item_span,
        declared=own is not None,
        run_as_user=inherited("runAsUser"),
        run_as_group=inherited("runAsGroup"),
        run_as_non_root=inherited("runAsNonRoot"),
        se_linux_options=inherited("seLinuxOptions"),
        seccomp_profile=_seccomp(inherited("seccompProfile"), reader),
        app_armor_profile=inherited("appArmorProfile"),
        windows_options=inherited("windowsOptions"),
        capabilities_add=_capabilities(capabilities, "add", reader),
        capabilities_drop=_capabilities(capabilities, "drop", reader),
        capabilities_span=_entry_span_if_present(own, "capabilities") if capabilities is not None else None,
        read_only_root_filesystem=reader.setting(own, "readOnlyRootFilesystem", "container"),
        allow_privilege_escalation=reader.setting(own, "allowPrivilegeEscalation", "container"),
        privileged=reader.setting(own, "privileged", "container"),
        proc_mount=reader.setting(own, "procMount", "container"),
    )


def _quantities(resources: YMap | None, key: str, reader: _Reader) -> tuple[Quantity, ...]:
    amounts = reader.mapping(resources, key, f"resources.{key}")
    if amounts is None:
        return ()
    found = []
    for resource, raw in amounts.items():
        span = _entry_span(amounts, resource)
        try:
            value: Exact | None = parse_quantity(raw)
        except QuantityError as exc:
            reader.problem(amounts.value_span(resource), f"resources.{key}.{resource}: {exc}")
            value = None
        found.append(Quantity(str(resource), _text(raw), value, span))
    return tuple(found)


def _resources(item: YMap, item_span: Span, reader: _Reader) -> Resources:
    resources = reader.mapping(item, "resources")
    if resources is None:
        return Resources(item_span, (), (), None, None)
    return Resources(
        span=_entry_span(item, "resources"),
        requests=_quantities(resources, "requests", reader),
        limits=_quantities(resources, "limits", reader),
        requests_span=_entry_span_if_present(resources, "requests"),
        limits_span=_entry_span_if_present(resources, "limits"),
    )


_PROBE_HANDLERS = ("httpGet", "exec", "tcpSocket", "grpc")


def _probe(item: YMap, key: str, kind: Any, reader: _Reader) -> Probe | None:
    probe = reader.mapping(item, key)
    if probe is None:
        return None
    handler = next((name for name in _PROBE_HANDLERS if name in probe), None)
    http = reader.mapping(probe, "httpGet", f"{key}.httpGet")
    tcp = reader.mapping(probe, "tcpSocket", f"{key}.tcpSocket")
    command = _command(reader.mapping(probe, "exec", f"{key}.exec"))
    return Probe(
        kind=kind, span=_entry_span(item, key), handler=handler,
        http_path=_text(http.get("path")) or "/" if http is not None else None,
        http_port=http.get("port") if http is not None else None,
        http_path_span=_entry_span(http, "path") if http is not None and "path" in http else None,
        tcp_port=tcp.get("port") if tcp is not None else None,
        exec_command=command)


def _command(exec_action: YMap | None) -> tuple[str, ...]:
    if exec_action is None or not isinstance(exec_action.get("command"), list):
        return ()
    return tuple(_text(part) for part in exec_action["command"])


_VALUE_SOURCES = ("secretKeyRef", "configMapKeyRef", "fieldRef", "resourceFieldRef")


def _env(item: YMap, reader: _Reader) -> tuple[EnvVar, ...]:
    variables = []
    for entry, span in reader.mappings(item, "env"):
        value_from = reader.mapping(entry, "valueFrom", "env[].valueFrom")
        source = next((name for name in _VALUE_SOURCES if value_from and name in value_from), None)
        reference = value_from.get(source) if value_from is not None and source else None
        variables.append(EnvVar(
            name=_text(entry.get("name")),
            value=_text(entry["value"]) if entry.get("value") is not None else None,
            value_from=source,
            reference_name=_text(reference.get("name")) or None if isinstance(reference, YMap) else None,
            span=span,
            value_span=_entry_span(entry, "value") if "value" in entry else None))
    return tuple(variables)


def _env_from(item: YMap, reader: _Reader) -> tuple[EnvFromSource, ...]:
    sources = []
    for entry, span in reader.mappings(item, "envFrom"):
        kind = next((name for name in ("secretRef", "configMapRef") if name in entry), "")
        reference = entry.get(kind)
        name = _text(reference.get("name")) or None if isinstance(reference, YMap) else None
        sources.append(EnvFromSource(kind, name, _text(entry.get("prefix")) or None, span))
    return tuple(sources)


def _ports(item: YMap, reader: _Reader) -> tuple[ContainerPort, ...]:
    return tuple(
        ContainerPort(reader.integer(entry, "containerPort", "ports[].containerPort"),
                      _text(entry.get("name")) or None, _text(entry.get("protocol")) or "TCP", span)
        for entry, span in reader.mappings(item, "ports"))


def _volume_kinds(spec: YMap) -> dict[str, str]:
    """Pod volume name -> its kind: the first key beside ``name`` (``emptyDir``, ``secret``)."""
    kinds: dict[str, str] = {}
    volumes = spec.get("volumes")
    for volume in volumes if isinstance(volumes, list) else ():
        if isinstance(volume, dict):
            kind = next((key for key in volume if key != "name"), "volume")
            kinds[str(volume.get("name"))] = str(kind)
    return kinds


def _volume_mounts(item: YMap, volume_kinds: Mapping[str, str]) -> tuple[VolumeMount, ...]:
    mounts = item.get("volumeMounts")
    if not isinstance(mounts, YList):
        return ()
    return tuple(VolumeMount(str(mount["mountPath"]), mount.get("readOnly") is True,
                             volume_kinds.get(str(mount.get("name")), "volume"), mounts.item_span(index))
                 for index, mount in enumerate(mounts) if isinstance(mount, dict) and mount.get("mountPath"))


def _container(item: YMap, span: Span, is_init: bool, pod_context: YMap | None,
               reader: _Reader, volume_kinds: Mapping[str, str] | None = None) -> Container:
    image = item.get("image")
    if image is not None and not isinstance(image, str):
        reader.problem(item.value_span("image"), f"`image` must be a string, not {image!r}")
        image = None
    pull_policy = item.get("imagePullPolicy")
    return Container(
        name=_text(item.get("name")),
        span=span,
        is_init=is_init,
        image=parse_image(image) if image else None,
        image_span=_entry_span(item, "image") if "image" in item else None,
        image_pull_policy=_text(pull_policy) if pull_policy is not None else None,
        image_pull_policy_span=_entry_span(item, "imagePullPolicy") if pull_policy is not None else None,
        security=_security_context(item, span, pod_context, reader),
        resources=_resources(item, span, reader),
        liveness_probe=_probe(item, "livenessProbe", "liveness", reader),
        readiness_probe=_probe(item, "readinessProbe", "readiness", reader),
        startup_probe=_probe(item, "startupProbe", "startup", reader),
        env=_env(item, reader),
        env_from=_env_from(item, reader),
        ports=_ports(item, reader),
        restart_policy=_text(item.get("restartPolicy")) or None,
        volume_mounts=_volume_mounts(item, volume_kinds or {}),
    )


def _pod_spec(spec: YMap, reader: _Reader) -> PodSpec:
    pod_context = reader.mapping(spec, "securityContext", "spec.securityContext")
    volume_kinds = _volume_kinds(spec)

    def containers(key: str, is_init: bool) -> tuple[Container, ...]:
        return tuple(_container(item, span, is_init, pod_context, reader, volume_kinds)
                     for item, span in reader.mappings(spec, key))

    return PodSpec(
        span=spec.span,
        host_network=reader.setting(spec, "hostNetwork", "pod"),
        host_pid=reader.setting(spec, "hostPID", "pod"),
        host_ipc=reader.setting(spec, "hostIPC", "pod"),
        automount_service_account_token=reader.setting(spec, "automountServiceAccountToken", "pod"),
        service_account_name=_text(spec.get("serviceAccountName") or spec.get("serviceAccount")) or None,
        security_context_span=_entry_span(spec, "securityContext") if pod_context is not None else None,
        init_containers=containers("initContainers", True),
        containers=containers("containers", False),
    )


# ---------------------------------------------------------------------------------------------
# Objects
# ---------------------------------------------------------------------------------------------

def _object(manifest: YMap, reader: _Reader) -> KubernetesObject:
    metadata = reader.mapping(manifest, "metadata") or YMap(manifest.span)
    name = metadata.get("name") or metadata.get("generateName") or ""
    namespace = metadata.get("namespace")
    return KubernetesObject(
        api_version=_text(manifest.get("apiVersion")), kind=_text(manifest.get("kind")),
        name=_text(name), namespace=_text(namespace) if namespace else None,
        span=manifest.span,
        name_span=_entry_span(metadata, "name") if "name" in metadata else manifest.key_span("kind"),
        labels=reader.string_map(metadata, "labels"),
        annotations=reader.string_map(metadata, "annotations"),
        raw=manifest)


def _pod_template(obj: KubernetesObject, reader: _Reader) -> tuple[YMap | None, dict[str, str]]:
    """The pod spec and the pod labels a workload creates."""
    spec = reader.mapping(obj.raw, "spec")
    if obj.kind == "Pod":
        return spec, dict(obj.labels)
    if obj.kind == "CronJob":
        job_template = reader.mapping(spec, "jobTemplate", "spec.jobTemplate")
        spec = reader.mapping(job_template, "spec", "spec.jobTemplate.spec")
    template = reader.mapping(spec, "template", "spec.template")
    metadata = reader.mapping(template, "metadata", "spec.template.metadata")
    return reader.mapping(template, "spec", "spec.template.spec"), reader.string_map(metadata, "labels")


def _workload(obj: KubernetesObject, reader: _Reader) -> Workload:
    pod_spec, pod_labels = _pod_template(obj, reader)
    if pod_spec is None:
        reader.problem(obj.name_span, f"{obj.kind} {obj.name!r} has no pod spec; nothing to check")
    spec = reader.mapping(obj.raw, "spec")
    replicas = None
    if obj.kind in REPLICATED_KINDS and spec is not None:
        replicas = reader.integer(spec, "replicas", "spec.replicas")
    return Workload(
        kind=obj.kind, name=obj.name, namespace=obj.namespace, span=obj.span,
        name_span=obj.name_span, labels=obj.labels, pod_labels=pod_labels,
        replicas=replicas,
        replicas_span=_entry_span(spec, "replicas") if replicas is not None and spec else None,
        pod=_pod_spec(pod_spec, reader) if pod_spec is not None else None)


def _service(obj: KubernetesObject, reader: _Reader) -> Service:
    spec = reader.mapping(obj.raw, "spec") or YMap(obj.span)
    ports = tuple(
        ServicePort(
            name=_text(entry.get("name")) or None,
            port=reader.integer(entry, "port", "ports[].port"),
            target_port=entry.get("targetPort") if isinstance(entry.get("targetPort"), (int, str))
            and not isinstance(entry.get("targetPort"), bool) else None,
            node_port=reader.integer(entry, "nodePort", "ports[].nodePort"),
            protocol=_text(entry.get("protocol")) or "TCP",
            span=span)
        for entry, span in reader.mappings(spec, "ports", "spec.ports"))
    return Service(
        name=obj.name, namespace=obj.namespace, span=obj.span, name_span=obj.name_span,
        type=_text(spec.get("type")) or "ClusterIP",
        type_span=_entry_span(spec, "type") if "type" in spec else None,
        selector=reader.string_map(spec, "selector"), ports=ports)


def _backend(backend: YMap, span: Span, host: str | None, path: str | None) -> IngressBackend:
    service = backend.get("service")
    if isinstance(service, YMap):  # networking.k8s.io/v1
        port = service.get("port")
        number = port.get("number") if isinstance(port, YMap) else None
        port_name = port.get("name") if isinstance(port, YMap) else None
        return IngressBackend(_text(service.get("name")) or None,
                              number if number is not None else port_name, host, path, span)
    # extensions/v1beta1 and networking.k8s.io/v1beta1
    return IngressBackend(_text(backend.get("serviceName")) or None, backend.get("servicePort"),
                          host, path, span)


def _ingress(obj: KubernetesObject, reader: _Reader) -> Ingress:
    spec = reader.mapping(obj.raw, "spec") or YMap(obj.span)
    rules = []
    for rule, rule_span in reader.mappings(spec, "rules", "spec.rules"):
        host = _text(rule.get("host")) or None
        backends = []
        for path_entry, path_span in reader.mappings(reader.mapping(rule, "http"), "paths",
                                                      "spec.rules[].http.paths"):
            backend = reader.mapping(path_entry, "backend", "paths[].backend")
            if backend is not None:
                backends.append(_backend(backend, path_span, host,
                                         _text(path_entry.get("path")) or None))
        rules.append(IngressRule(host, rule_span, tuple(backends)))
    tls = tuple(
        IngressTLS(tuple(_text(h) for h in entry.get("hosts") or () if h)
                   if isinstance(entry.get("hosts"), list) else (),
                   _text(entry.get("secretName")) or None, span)
        for entry, span in reader.mappings(spec, "tls", "spec.tls"))
    default_key = "defaultBackend" if "defaultBackend" in spec else "backend"
    default = reader.mapping(spec, default_key, f"spec.{default_key}")
    metadata = obj.raw.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, YMap) else None
    annotations_span = (_entry_span(metadata, "annotations")
                        if isinstance(metadata, YMap) and isinstance(annotations, YMap) else None)
    return Ingress(
        name=obj.name, namespace=obj.namespace, span=obj.span, name_span=obj.name_span,
        ingress_class=_text(spec.get("ingressClassName")
                            or obj.annotations.get("kubernetes.io/ingress.class")) or None,
        annotations=tuple(Annotation(str(key), _text(value), _entry_span(annotations, key))
                          for key, value in annotations.items())
        if isinstance(annotations, YMap) else (),
        annotations_span=annotations_span,
        rules=tuple(rules), tls=tls,
        tls_span=_entry_span(spec, "tls") if "tls" in spec else None,
        default_backend=_backend(default, _entry_span(spec, default_key), None, None)
        if default is not None else None)


def _autoscaler(obj: KubernetesObject, reader: _Reader) -> Autoscaler:
    spec = reader.mapping(obj.raw, "spec") or YMap(obj.span)
    target = reader.mapping(spec, "scaleTargetRef", "spec.scaleTargetRef")
    min_replicas = reader.integer(spec, "minReplicas", "spec.minReplicas")
    return Autoscaler(
        name=obj.name, namespace=obj.namespace, span=obj.span,
        target_kind=_text(target.get("kind")) or None if target else None,
        target_name=_text(target.get("name")) or None if target else None,
        target_span=_entry_span(spec, "scaleTargetRef") if target is not None else None,
        min_replicas=1 if min_replicas is None else min_replicas,
        min_replicas_span=_entry_span(spec, "minReplicas") if min_replicas is not None else None,
        max_replicas=reader.integer(spec, "maxReplicas", "spec.maxReplicas"))


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------

def _is_helm_template(value: Any) -> bool:
    """Go-template markers left in values or keys: the file is a chart template, not a manifest.

    YAML aliases make the tree a graph with shared nodes; each is visited once, so an alias
    bomb ("billion laughs") costs its size, not its expansion."""
    seen: set[int] = set()
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            if "{{" in item and "}}" in item:
                return True
        elif isinstance(item, (dict, list)) and id(item) not in seen:
            seen.add(id(item))
            todo.extend(item.keys() if isinstance(item, dict) else item)
            if isinstance(item, dict):
                todo.extend(item.values())
    return False


def _runs_or_routes(document: YamlDocument) -> bool:
    """Whether the document is (or lists) a kind the checks read: a workload, Service, Ingress or
    HPA (or a kind not written as text)."""
    root = document.root
    kind = root.get("kind") if isinstance(root, YMap) else None
    return not isinstance(kind, str) or kind.endswith("List") or kind in MODELLED_KINDS


def _manifests(document: YamlDocument, reader: _Reader) -> list[YMap]:
    """The objects of one document: itself, or the ``items`` of a ``List``."""
    root = document.root
    if not isinstance(root, YMap):
        return []
    kind = root.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and "items" in root:
        items = []
        for item, span in reader.mappings(root, "items"):
            if "kind" in item:
                items.append(item)
            else:
                reader.problem(span, f"{kind} item without `kind`; it was not read")
        return items
    return [root]


def build_kubernetes(
        documents: list[YamlDocument]) -> tuple[KubernetesSet, list[ParseProblem], list[Note]]:
    """Every workload, Service, Ingress and HPA of the scan's manifests, linked by the set."""
    reader = _Reader()
    notes: list[Note] = []
    objects, workloads, services, ingresses, autoscalers = [], [], [], [], []
    paths: list[str] = []
    for document in documents:
        # the loader tells which documents hold no marker at all: only the others are walked
        if document.template_markers is not False and _is_helm_template(document.root) \
                and _runs_or_routes(document):
            # Unknown is not absent: a workload, Service, Ingress or HPA whose values hold
            # template expressions outside a chart is only known once rendered; not checked
            # (AUD003), never passed. Other kinds (a ConfigMap of alert templates) are data.
            kind = document.root.get("kind") if isinstance(document.root, YMap) else None
            reader.problems.append(NotChecked(document.span, (
                f"{document.path}: the {kind if isinstance(kind, str) else 'manifest'} here holds template "
                "expressions ({{ }}) outside a Helm chart; its values are only known once it is rendered, "
                "so it was not checked (render it, or give its folder a Chart.yaml)")))
            continue
        for manifest in _manifests(document, reader):
            obj = _object(manifest, reader)
            objects.append(obj)
            if document.path not in paths:
                paths.append(document.path)
            if obj.kind in WORKLOAD_KINDS:
                workloads.append(_workload(obj, reader))
            elif obj.kind == "Service":
                services.append(_service(obj, reader))
            elif obj.kind == "Ingress":
                ingresses.append(_ingress(obj, reader))
            elif obj.kind == "HorizontalPodAutoscaler":
                autoscalers.append(_autoscaler(obj, reader))
    kubernetes_set = KubernetesSet(tuple(objects), tuple(workloads), tuple(services),
                                   tuple(ingresses), tuple(autoscalers), tuple(paths))
    # a malformed pod-level field is met once per container that inherits it; report it once
    return kubernetes_set, list(dict.fromkeys(reader.problems)), notes
