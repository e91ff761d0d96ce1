"""The Docker Compose model: services with their settings and the spans of every key.

The parser (``auditor.parsers.compose``) reads the short and long syntaxes of ports and volumes,
the two spellings of resource limits, healthcheck test forms, network membership and environment
entries into the typed records below; the model holds them and answers questions (which host ports
a mapping publishes, whether a mount covers a path, which service is the app). The service body
stays a ``YMap`` too (Compose has dozens of keys and checks read a few each), and the value
helpers Compose's own semantics need live here: variable interpolation, booleans, memory sizes.
Reference: the Compose specification, https://docs.docker.com/reference/compose-file/services/
"""
from __future__ import annotations

import math
import posixpath
import re
from collections.abc import Mapping
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass, field
    from typing import Any
else:
    from auditor.record import dataclass, field

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


def list_at(body: YMap, key: str, span: Span) -> YList:
    """A list setting of a mapping (an empty list at the value, or at ``span``, when it is not one)."""
    value = body.get(key)
    return value if isinstance(value, YList) else YList(body.value_span(key) if key in body else span)


def strings_at(body: YMap, key: str, span: Span) -> list[tuple[str, Span]]:
    """A list setting as interpolated strings with their spans; a lone string counts as a
    one-item list (``tmpfs: /tmp``)."""
    value = body.get(key)
    if isinstance(value, YList):
        return [(str(interpolate(item)), value.item_span(index)) for index, item in enumerate(value)
                if item is not None]
    if value is None:
        return []
    return [(str(interpolate(value)), body.value_span(key) if key in body else span)]


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
    body: YMap  # the raw mapping, for the keys checks read one by one (``get``, ``flag``)
    build: BuildSpec | None
    # what the parser read from the body (``auditor.parsers.compose``)
    ports: tuple[PortMapping, ...]
    volumes: tuple[VolumeMount, ...]
    tmpfs: tuple[VolumeMount, ...]
    healthcheck: Healthcheck | None  # None: no ``healthcheck:`` key
    resource_limits: ResourceLimits
    environment: tuple[EnvVar, ...]
    networks: tuple[NetworkAttachment, ...]  # none under ``network_mode``; ``default`` when unnamed
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
        return list_at(self.body, key, self.span)

    def strings_of(self, key: str) -> list[tuple[str, Span]]:
        """A list setting as strings with their spans; a lone string counts as a one-item list."""
        return strings_at(self.body, key, self.span)

    @property
    def exposed(self) -> list[tuple[str, Span]]:
        """``expose:`` entries (container ports reachable on the service's networks only)."""
        return self.strings_of("expose")

    @property
    def writable_mounts(self) -> list[VolumeMount]:
        """Mounts a read-only container can still write to: ``tmpfs:`` and writable volumes."""
        return list(self.tmpfs) + [mount for mount in self.volumes if mount.writable]

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


@dataclass(frozen=True, slots=True)
class ComposeFile:
    path: str
    span: Span
    root: YMap
    services: tuple[Service, ...]
    # top-level network definitions by name (``default`` only when the file customises it)
    networks: Mapping[str, NetworkDefinition] = field(default_factory=dict)

    @property
    def directory(self) -> str:
        return self.path.rpartition("/")[0]

    def section(self, key: str) -> YMap:
        value = self.root.get(key)
        return value if isinstance(value, YMap) else YMap(self.root.key_span(key))

    def service_dockerfile_path(self, service: Service) -> str | None:
        """Where the service's Dockerfile sits relative to the scan root, when it is built here."""
        return service.build.dockerfile_path(self.directory) if service.build else None
