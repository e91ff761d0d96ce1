"""The Docker Compose model: services with their settings and the spans of every key.

The service body stays a ``YMap`` (Compose has dozens of keys and checks read a few each); the
model adds what needs knowing about Compose itself: variable interpolation, the two spellings of
resource limits, memory sizes, the short and long syntaxes of ports and volumes, healthcheck test
forms, network membership, environment entries, and which service is the app and which the proxy.
Reference: the Compose specification, https://docs.docker.com/reference/compose-file/services/
"""
from __future__ import annotations

import math
import posixpath
import re
from dataclasses import dataclass
from typing import Any

from auditor.model.span import Span
from auditor.model.yaml import YList, YMap

_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")
# docker/go-units RAMInBytes, which Compose uses for `mem_limit` and `deploy...memory`:
# binary multiples, optional space, optional `i` and `b` ("2G", "2g", "2gb", "2GiB", "2048m").
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s?([kmgtp]?)i?b?\s*$", re.IGNORECASE)
_MEMORY_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}
# strconv.ParseBool spellings (Compose converts interpolated strings with it) plus YAML 1.1's.
_TRUE = frozenset({"1", "t", "true", "yes", "y", "on"})
_FALSE = frozenset({"0", "f", "false", "no", "n", "off"})
DEFAULT_NETWORK = "default"


def interpolate(value: Any) -> Any:
    """A string with Compose's ``${VAR:-default}`` replaced by its default.

    The audit must not depend on the auditing machine's environment, so a variable without a
    default becomes the empty string, as Compose does for an unset variable.
    """
    if not isinstance(value, str) or "$" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        operator, word = match.group(2), match.group(3)
        return word or "" if operator in (":-", "-") else ""

    return _INTERPOLATION.sub(replace, value.replace("$$", "\0")).replace("\0", "$")


def has_substitution(value: Any) -> bool:
    return isinstance(value, str) and bool(_INTERPOLATION.search(value.replace("$$", "")))


def substitution_defaults(value: Any) -> list[str]:
    """The literal fallbacks written in ``${VAR:-fallback}``/``${VAR-fallback}`` (non-empty ones)."""
    if not isinstance(value, str):
        return []
    return [match.group(3) for match in _INTERPOLATION.finditer(value.replace("$$", ""))
            if match.group(2) in (":-", "-") and match.group(3)]


def as_bool(value: Any) -> bool | None:
    """A Compose boolean: YAML ``true``/``yes`` or an (interpolated) string Compose would accept;
    ``None`` when absent or not a boolean at all."""
    value = interpolate(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return None


def parse_memory(value: Any) -> int | None:
    """Bytes from a Compose size: an integer (bytes) or ``2G``/``2g``/``2gb``/``2048m``/``1.5GiB``."""
    value = interpolate(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        # YAML reads `.inf`/`.nan` as floats, and int() of those raises
        return int(value) if value >= 0 and math.isfinite(value) else None
    match = _MEMORY.match(str(value))
    if not match:
        return None
    size = float(match.group(1)) * _MEMORY_UNITS[match.group(2).lower()]
    return int(size) if math.isfinite(size) else None  # 400 digits are a float overflow


def parse_cpus(value: Any) -> float | None:
    """CPUs from ``cpus: 1.5`` / ``cpus: '2'`` (a count of CPUs, fractions allowed)."""
    value = interpolate(value)
    if isinstance(value, bool) or value is None:
        return None
    try:
        cpus = float(value)
    except (TypeError, ValueError):
        return None
    return cpus if cpus >= 0 and math.isfinite(cpus) else None


def format_bytes(size: int) -> str:
    """``2147483648`` -> ``2G``: the largest binary unit that divides the size exactly."""
    for unit in ("T", "G", "M", "K"):
        multiple = _MEMORY_UNITS[unit.lower()]
        if size >= multiple and size % multiple == 0:
            return f"{size // multiple}{unit}"
    return f"{size}B"


def normalize_capability(name: Any) -> str:
    """``cap_net_raw`` -> ``NET_RAW``: Docker accepts either case and the ``CAP_`` prefix (but
    ``ALL`` only bare: ``CAP_ALL`` is an unknown capability to Docker and drops nothing)."""
    text = str(interpolate(name)).strip().upper()
    return text[4:] if text.startswith("CAP_") and text != "CAP_ALL" else text


@dataclass(frozen=True, slots=True)
class PortMapping:
    """One ``ports:`` entry: ``"127.0.0.1:443:8443/tcp"`` or the long syntax.

    Every ``ports:`` entry publishes on the host: without a host port Docker picks an ephemeral
    one (``published`` is then ``None``)."""

    raw: str
    host_ip: str | None
    published: str | None  # None: Docker picks an ephemeral host port
    target: str
    protocol: str
    span: Span

    @property
    def published_ports(self) -> list[int]:
        """Host ports, ranges expanded (``8000-8002``)."""
        return _port_range(self.published) if self.published else []

    @property
    def ephemeral(self) -> bool:
        return not self.published

    @property
    def loopback_only(self) -> bool:
        return (self.host_ip or "") in ("127.0.0.1", "::1", "localhost")


def _port_range(text: str) -> list[int]:
    low, _, high = text.partition("-")
    try:
        return list(range(int(low), int(high or low) + 1))
    except ValueError:
        return []


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


@dataclass(frozen=True, slots=True)
class VolumeMount:
    """One ``volumes:`` entry (short ``src:dst:ro`` or long syntax) or one ``tmpfs:`` path.

    ``kind`` is ``bind`` (a host path), ``volume`` (named or anonymous), ``tmpfs`` or ``npipe``."""

    kind: str
    source: str | None
    target: str
    read_only: bool
    span: Span

    @property
    def writable(self) -> bool:
        return not self.read_only

    def covers(self, path: str) -> bool:
        """Whether writes to ``path`` land in this mount (the mount point or a folder above it)."""
        target = posixpath.normpath(self.target) if self.target else ""
        path = posixpath.normpath(path)
        return bool(target) and (path == target or path.startswith(target.rstrip("/") + "/"))


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


@dataclass(frozen=True, slots=True)
class ResourceLimits:
    """CPU and memory limits from ``deploy.resources.limits`` or the service-level spelling
    (``cpus``, ``mem_limit``, ``cpu_quota``/``cpu_period``). ``0`` means unlimited in Docker, so a
    zero limit reads as no limit. The raw text is kept for messages."""

    cpus: float | None
    cpus_raw: Any
    cpus_span: Span | None
    memory: int | None  # bytes
    memory_raw: Any
    memory_span: Span | None
    span: Span  # where limits belong: `deploy.resources.limits`, else the service's key

    @property
    def cpus_set(self) -> bool:
        return self.cpus_raw is not None

    @property
    def memory_set(self) -> bool:
        return self.memory_raw is not None


@dataclass(frozen=True, slots=True)
class Healthcheck:
    """A service's ``healthcheck``. ``test`` is ``None`` when the block only tunes timings, in
    which case the image's ``HEALTHCHECK`` command still applies."""

    test: tuple[str, ...] | None
    disabled: bool
    span: Span  # the `healthcheck:` key
    test_span: Span  # the `test:` value, or `disable:` when that disables it

    @property
    def command(self) -> str:
        """What the container runs: ``CMD``/``CMD-SHELL`` stripped (a string is ``CMD-SHELL``)."""
        if not self.test:
            return ""
        if self.test[0] in ("CMD", "CMD-SHELL"):
            return " ".join(self.test[1:])
        return " ".join(self.test)


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
    disabled = bool(test) and test[0] == "NONE"  # type: ignore[index]
    return Healthcheck(test, disabled, key_span, body.value_span("test"))


@dataclass(frozen=True, slots=True)
class EnvVar:
    """One ``environment:`` entry. ``value`` is ``None`` when the value comes from the shell
    (``- NAME`` in a list, ``NAME:`` with no value in a map). ``value`` is as written (not
    interpolated) so a check can tell ``${VAR}`` from a literal."""

    name: str
    value: str | None
    span: Span  # the list item, or the map key
    value_span: Span


@dataclass(frozen=True, slots=True)
class NetworkAttachment:
    """A network a service joins; ``default`` with the service's span when it names none."""

    name: str
    span: Span
    implicit: bool = False  # True for the default network of a service without `networks:`


@dataclass(frozen=True, slots=True)
class NetworkDefinition:
    """A top-level ``networks:`` entry. No driver means ``bridge`` on a single Docker engine."""

    name: str
    driver: str | None
    external: bool
    internal: bool
    subnets: tuple[tuple[str, Span], ...]
    span: Span
    driver_span: Span

    @property
    def effective_driver(self) -> str:
        return self.driver or "bridge"


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


@dataclass(frozen=True, slots=True)
class BuildSpec:
    context: str  # relative to the compose file's folder, as written
    dockerfile: str  # relative to the context
    span: Span
    target: str | None = None  # `build.target`: the stage that becomes the image

    @property
    def is_remote(self) -> bool:
        """A Git URL or a URL context: nothing of it is in the audited tree."""
        return bool(re.match(r"^[a-z][a-z0-9+.-]*://|^git@", self.context))

    def dockerfile_path(self, compose_directory: str) -> str | None:
        """The Dockerfile's path relative to the scan root ('/'-separated), or ``None`` when it
        cannot be in the tree (remote context, absolute path, outside the root)."""
        if self.is_remote or self.context.startswith("/") or self.dockerfile.startswith("/"):
            return None
        joined = posixpath.normpath(posixpath.join(compose_directory, self.context, self.dockerfile))
        return None if joined.startswith("../") or joined == ".." else joined


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    span: Span  # the service's key line
    body: YMap
    build: BuildSpec | None
    # The workload role the project model gives the service (``auditor.model.deployment``):
    # app, proxy or other; empty on a service read outside a project.
    role: str = ""
    role_evidence: str = ""

    def get(self, key: str, default: Any = None) -> Any:
        """The value of a key with ``${VAR:-default}`` interpolated."""
        return interpolate(self.body.get(key, default))

    def key_span(self, key: str) -> Span:
        return self.body.key_span(key) if key in self.body else self.span

    def value_span(self, key: str) -> Span:
        return self.body.value_span(key) if key in self.body else self.span

    def flag(self, key: str) -> bool | None:
        """A boolean setting (``read_only``, ``privileged``); ``None`` when unset."""
        return as_bool(self.body.get(key))

    @property
    def image(self) -> str | None:
        image = self.get("image")
        return str(image) if image is not None else None

    @property
    def is_proxy(self) -> bool:
        return self.role == "proxy"

    @property
    def is_app(self) -> bool:
        return self.role == "app"

    def list_of(self, key: str) -> YList:
        value = self.body.get(key)
        return value if isinstance(value, YList) else YList(self.value_span(key))

    def strings_of(self, key: str) -> list[tuple[str, Span]]:
        """A list setting as strings with their spans; a lone string counts as a one-item list."""
        value = self.body.get(key)
        if isinstance(value, YList):
            return [(str(interpolate(item)), value.item_span(index)) for index, item in enumerate(value)
                    if item is not None]
        if value is None:
            return []
        return [(str(interpolate(value)), self.value_span(key))]

    @property
    def ports(self) -> list[PortMapping]:
        entries = self.list_of("ports")
        return [parse_port(entry, entries.item_span(index)) for index, entry in enumerate(entries)]

    @property
    def exposed(self) -> list[tuple[str, Span]]:
        """``expose:`` entries (container ports reachable on the service's networks only)."""
        return self.strings_of("expose")

    @property
    def volumes(self) -> list[VolumeMount]:
        entries = self.list_of("volumes")
        return [parse_volume(entry, entries.item_span(index)) for index, entry in enumerate(entries)
                if entry is not None]

    @property
    def tmpfs(self) -> list[VolumeMount]:
        return [parse_tmpfs(text, span) for text, span in self.strings_of("tmpfs")]

    @property
    def writable_mounts(self) -> list[VolumeMount]:
        """Mounts a read-only container can still write to: ``tmpfs:`` and writable volumes."""
        return self.tmpfs + [mount for mount in self.volumes if mount.writable]

    @property
    def cap_drop(self) -> list[tuple[str, Span]]:
        return [(normalize_capability(name), span) for name, span in self.strings_of("cap_drop")]

    @property
    def cap_add(self) -> list[tuple[str, Span]]:
        return [(normalize_capability(name), span) for name, span in self.strings_of("cap_add")]

    @property
    def user(self) -> str | None:
        """``user:`` as text (``1001``, ``"1001:1001"``, ``nextjs``), ``None`` when unset or empty."""
        value = self.get("user")
        return str(value).strip() or None if value is not None else None

    @property
    def healthcheck(self) -> Healthcheck | None:
        if "healthcheck" not in self.body:
            return None
        return parse_healthcheck(self.body.get("healthcheck"), self.body.key_span("healthcheck"))

    @property
    def resource_limits(self) -> ResourceLimits:
        resources = _nested_map(self.body, "deploy", "resources")
        limits = _nested_map(resources, "limits") if resources is not None else None
        cpus_raw, cpus_span = self._limit(limits, "cpus", ("cpus",))
        memory_raw, memory_span = self._limit(limits, "memory", ("mem_limit",))
        cpus = parse_cpus(cpus_raw)
        if cpus_raw is None and self.body.get("cpu_quota") is not None:  # CFS quota / period
            quota, period = parse_cpus(self.body.get("cpu_quota")), parse_cpus(self.body.get("cpu_period", 100000))
            cpus_raw, cpus_span = self.body.get("cpu_quota"), self.body.value_span("cpu_quota")
            cpus = quota / period if quota is not None and period else None
        span = resources.key_span("limits") if resources is not None and limits is not None else self.span
        return ResourceLimits(cpus, cpus_raw, cpus_span, parse_memory(memory_raw), memory_raw, memory_span, span)

    def _limit(self, limits: YMap | None, deploy_key: str, service_keys: tuple[str, ...]) -> tuple[Any, Span | None]:
        if limits is not None and limits.get(deploy_key) is not None:
            return limits[deploy_key], limits.value_span(deploy_key)
        for key in service_keys:
            if self.body.get(key) is not None:
                return self.body[key], self.body.value_span(key)
        return None, None

    @property
    def environment(self) -> list[EnvVar]:
        value = self.body.get("environment")
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
        return variables

    @property
    def env_files(self) -> list[tuple[str, Span]]:
        value = self.body.get("env_file")
        if isinstance(value, YList):
            return [(str(interpolate(item.get("path") if isinstance(item, dict) else item)), value.item_span(index))
                    for index, item in enumerate(value)]
        return [(str(interpolate(value)), self.value_span("env_file"))] if value else []

    @property
    def secret_names(self) -> list[str]:
        return [str(item.get("source") if isinstance(item, dict) else item) for item in self.list_of("secrets")]

    @property
    def network_mode(self) -> str | None:
        value = self.get("network_mode")
        return str(value) if value else None

    @property
    def networks(self) -> list[NetworkAttachment]:
        """The networks the service joins: its ``networks:`` (list or map form), or the project's
        ``default`` network when it names none; nothing when ``network_mode`` replaces them."""
        if self.network_mode is not None:
            return []
        value = self.body.get("networks")
        if isinstance(value, YMap):
            return [NetworkAttachment(str(name), value.key_span(name)) for name in value]
        if isinstance(value, YList):
            return [NetworkAttachment(str(interpolate(name)), value.item_span(index))
                    for index, name in enumerate(value)]
        return [NetworkAttachment(DEFAULT_NETWORK, self.span, implicit=True)]


def _nested_map(mapping: YMap, *keys: str) -> YMap | None:
    value: Any = mapping
    for key in keys:
        value = value.get(key) if isinstance(value, YMap) else None
    return value if isinstance(value, YMap) else None


@dataclass(frozen=True, slots=True)
class ComposeFile:
    path: str
    span: Span
    root: YMap
    services: tuple[Service, ...]

    @property
    def directory(self) -> str:
        return self.path.rpartition("/")[0]

    def section(self, key: str) -> YMap:
        value = self.root.get(key)
        return value if isinstance(value, YMap) else YMap(self.root.key_span(key))

    @property
    def networks(self) -> dict[str, NetworkDefinition]:
        """Top-level network definitions by name (``default`` only when the file customises it)."""
        section = self.section("networks")
        return {str(name): _network_definition(str(name), body, section.key_span(name))
                for name, body in section.items()}

    def service_dockerfile_path(self, service: Service) -> str | None:
        """Where the service's Dockerfile sits relative to the scan root, when it is built here."""
        return service.build.dockerfile_path(self.directory) if service.build else None
