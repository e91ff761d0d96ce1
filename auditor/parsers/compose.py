"""Compose file text -> ``auditor.model.compose.ComposeFile``: every service's ports, volumes,
tmpfs mounts, healthcheck, resource limits, environment and networks read into typed records (the
Compose specification, https://docs.docker.com/reference/compose-file/services/), as the
Kubernetes parser reads manifests. Never raises on user input: a value of an unexpected shape
reads as absent or as written."""
from __future__ import annotations

import re
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import Any

from auditor.model.compose import (
    DEFAULT_NETWORK,
    BuildSpec,
    ComposeFile,
    EnvVar,
    Healthcheck,
    NetworkAttachment,
    NetworkDefinition,
    PortMapping,
    ResourceLimits,
    Service,
    VolumeMount,
    as_bool,
    interpolate,
    list_at,
    parse_cpus,
    parse_memory,
    strings_at,
)
from auditor.model.span import ParseProblem, Span
from auditor.model.yaml import YList, YMap
from auditor.parsers.yaml_loader import load_yaml_documents


def parse_compose(text: str, path: str) -> tuple[ComposeFile | None, list[ParseProblem]]:
    documents, problems = load_yaml_documents(text, path)
    if not documents:
        if not problems:
            problems.append(ParseProblem(Span(path, 1), "empty Compose file"))
        return None, problems
    root = documents[0].root
    if not isinstance(root, YMap):
        problems.append(ParseProblem(documents[0].span, "a Compose file must be a mapping at the top level"))
        return None, problems
    services_map = root.get("services")
    if services_map is None and "version" not in root:
        problems.append(ParseProblem(root.span, "no `services:` key: not a Compose file"))
    services = []
    if isinstance(services_map, YMap):
        for name, body in services_map.items():
            key_span = services_map.key_span(name)
            if not isinstance(body, YMap):
                if body is not None:
                    problems.append(ParseProblem(key_span, f"service {name!r} must be a mapping"))
                body = YMap(key_span)
            services.append(_service(str(name), key_span, body))
    elif services_map is not None:
        problems.append(ParseProblem(root.value_span("services"), "`services:` must be a mapping"))
    section = root.get("networks")
    networks = section if isinstance(section, YMap) else YMap(root.key_span("networks"))
    definitions = {str(name): _network_definition(str(name), body, networks.key_span(name))
                   for name, body in networks.items()}
    return ComposeFile(path, root.span, root, tuple(services), definitions), problems


def _service(name: str, span: Span, body: YMap) -> Service:
    ports = list_at(body, "ports", span)
    volumes = list_at(body, "volumes", span)
    return Service(
        name, span, body, _build_spec(body),
        ports=tuple(parse_port(entry, ports.item_span(index)) for index, entry in enumerate(ports)),
        volumes=tuple(parse_volume(entry, volumes.item_span(index)) for index, entry in enumerate(volumes)
                      if entry is not None),
        tmpfs=tuple(parse_tmpfs(text, where) for text, where in strings_at(body, "tmpfs", span)),
        healthcheck=parse_healthcheck(body.get("healthcheck"), body.key_span("healthcheck"))
        if "healthcheck" in body else None,
        resource_limits=_resource_limits(body, span),
        environment=_environment(body),
        networks=_networks(body, span))


def _build_spec(body: YMap) -> BuildSpec | None:
    build = body.get("build")
    if build is None:
        return None
    span = body.key_span("build")
    if isinstance(build, dict):
        context = str(interpolate(build.get("context", ".")) or ".")
        dockerfile = str(interpolate(build.get("dockerfile", "Dockerfile")) or "Dockerfile")
        target = interpolate(build.get("target"))
        return BuildSpec(context, dockerfile, span, str(target) if target else None)
    return BuildSpec(str(interpolate(build)) or ".", "Dockerfile", span)


def parse_port(entry: Any, span: Span) -> PortMapping:
    if isinstance(entry, dict):
        published = interpolate(entry.get("published"))
        host_ip = interpolate(entry.get("host_ip"))
        return PortMapping(str(dict(entry)), str(host_ip) if host_ip else None,
                           str(published) if published not in (None, "") else None,
                           str(interpolate(entry.get("target", ""))),
                           str(interpolate(entry.get("protocol", "tcp")) or "tcp"), span)
    text = str(interpolate(entry))
    body, _, protocol = text.partition("/")
    host_ip = None
    if body.startswith("["):  # IPv6 host address: [::1]:443:443
        host_ip, _, body = body[1:].partition("]:")
    parts = body.rsplit(":", 2)
    if len(parts) == 3:
        host_ip, published, target = host_ip or parts[0] or None, parts[1], parts[2]
    elif len(parts) == 2:
        published, target = parts
    else:
        published, target = None, parts[0]
    return PortMapping(str(entry), host_ip, published or None, target, protocol or "tcp", span)


def _is_host_path(source: str) -> bool:
    return source.startswith(("/", ".", "~")) or bool(re.match(r"^[A-Za-z]:[\\/]", source))


def parse_volume(entry: Any, span: Span) -> VolumeMount:
    if isinstance(entry, dict):
        kind = str(interpolate(entry.get("type", "volume")) or "volume")
        source = interpolate(entry.get("source"))
        return VolumeMount(kind, str(source) if source else None, str(interpolate(entry.get("target", ""))),
                           as_bool(entry.get("read_only")) is True, span)
    text = str(interpolate(entry))
    parts = text.split(":")
    if len(parts) >= 2 and re.match(r"^[A-Za-z]$", parts[0]):  # Windows drive: C:\data:/data
        parts = [parts[0] + ":" + parts[1], *parts[2:]]
    if len(parts) == 1:
        return VolumeMount("volume", None, parts[0], False, span)
    source, target = parts[0], parts[1]
    modes = set(parts[2].split(",")) if len(parts) > 2 else set()
    return VolumeMount("bind" if _is_host_path(source) else "volume", source, target, "ro" in modes, span)


def parse_tmpfs(entry: Any, span: Span) -> VolumeMount:
    """``tmpfs: /tmp`` or ``- /app/.next/cache:size=64m,mode=1777``."""
    target = str(interpolate(entry)).split(":", 1)[0].strip()
    return VolumeMount("tmpfs", None, target, False, span)


def parse_healthcheck(body: Any, key_span: Span) -> Healthcheck:
    if not isinstance(body, YMap):
        return Healthcheck(None, False, key_span, key_span)
    if as_bool(body.get("disable")) is True:
        return Healthcheck(None, True, key_span, body.value_span("disable"))
    raw = body.get("test")
    test: tuple[str, ...] | None
    if raw is None:
        test = None
    elif isinstance(raw, list):
        test = tuple(str(interpolate(part)) for part in raw)
    else:
        test = ("CMD-SHELL", str(interpolate(raw)))
    disabled = test is not None and bool(test) and test[0] == "NONE"
    return Healthcheck(test, disabled, key_span, body.value_span("test"))


def _network_definition(name: str, body: Any, span: Span) -> NetworkDefinition:
    if not isinstance(body, YMap):
        return NetworkDefinition(name, None, False, False, (), span, span)
    driver = interpolate(body.get("driver"))
    external = as_bool(body.get("external")) is True or isinstance(body.get("external"), dict)
    subnets: list[tuple[str, Span]] = []
    ipam = body.get("ipam")
    configs = ipam.get("config") if isinstance(ipam, YMap) else None
    if isinstance(configs, YList):
        for config in configs:
            if isinstance(config, YMap) and config.get("subnet") is not None:
                subnets.append((str(interpolate(config["subnet"])), config.value_span("subnet")))
    return NetworkDefinition(name, str(driver) if driver else None, external,
                             as_bool(body.get("internal")) is True, tuple(subnets), span,
                             body.value_span("driver") if "driver" in body else span)


def _nested_map(mapping: YMap, *keys: str) -> YMap | None:
    value: Any = mapping
    for key in keys:
        value = value.get(key) if isinstance(value, YMap) else None
    return value if isinstance(value, YMap) else None


def _limit(body: YMap, limits: YMap | None, deploy_key: str, service_keys: tuple[str, ...]
           ) -> tuple[Any, Span | None]:
    if limits is not None and limits.get(deploy_key) is not None:
        return limits[deploy_key], limits.value_span(deploy_key)
    for key in service_keys:
        if body.get(key) is not None:
            return body[key], body.value_span(key)
    return None, None


def _resource_limits(body: YMap, service_span: Span) -> ResourceLimits:
    """``deploy.resources.limits`` or the service-level spelling (``cpus``, ``mem_limit``,
    ``cpu_quota``/``cpu_period``)."""
    resources = _nested_map(body, "deploy", "resources")
    limits = _nested_map(resources, "limits") if resources is not None else None
    cpus_raw, cpus_span = _limit(body, limits, "cpus", ("cpus",))
    memory_raw, memory_span = _limit(body, limits, "memory", ("mem_limit",))
    cpus = parse_cpus(cpus_raw)
    if cpus_raw is None and body.get("cpu_quota") is not None:  # CFS quota / period
        quota, period = parse_cpus(body.get("cpu_quota")), parse_cpus(body.get("cpu_period", 100000))
        cpus_raw, cpus_span = body.get("cpu_quota"), body.value_span("cpu_quota")
        cpus = quota / period if quota is not None and period else None
    span = resources.key_span("limits") if resources is not None and limits is not None else service_span
    return ResourceLimits(cpus, cpus_raw, cpus_span, parse_memory(memory_raw), memory_raw, memory_span, span)


def _environment(body: YMap) -> tuple[EnvVar, ...]:
    value = body.get("environment")
    variables: list[EnvVar] = []
    if isinstance(value, YMap):
        for name, raw in value.items():
            text = None if raw is None else str(raw).lower() if isinstance(raw, bool) else str(raw)
            variables.append(EnvVar(str(name), text, value.key_span(name), value.value_span(name)))
    elif isinstance(value, YList):
        for index, item in enumerate(value):
            if item is None:
                continue
            name, equals, text = str(item).partition("=")
            span = value.item_span(index)
            variables.append(EnvVar(name.strip(), text if equals else None, span, span))
    return tuple(variables)


def _networks(body: YMap, span: Span) -> tuple[NetworkAttachment, ...]:
    """The networks the service joins: its ``networks:`` (list or map form), or the project's
    ``default`` network when it names none; nothing when ``network_mode`` replaces them."""
    if interpolate(body.get("network_mode")):
        return ()
    value = body.get("networks")
    if isinstance(value, YMap):
        return tuple(NetworkAttachment(str(name), value.key_span(name)) for name in value)
    if isinstance(value, YList):
        return tuple(NetworkAttachment(str(interpolate(name)), value.item_span(index))
                     for index, name in enumerate(value))
    return (NetworkAttachment(DEFAULT_NETWORK, span, implicit=True),)
