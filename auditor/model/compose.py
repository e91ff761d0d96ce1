"""The Docker Compose model: services with their settings and the spans of every key.

The service body stays a ``YMap`` (Compose has dozens of keys and checks read a few each); the
model adds what needs knowing about Compose itself: variable interpolation, the two spellings of
resource limits and of ports, and which service is the app and which the proxy.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from auditor.model.span import Span
from auditor.model.yaml import YList, YMap

_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")
PROXY_IMAGES = ("nginx", "openresty", "traefik", "caddy", "haproxy", "envoy", "httpd")


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


@dataclass(frozen=True, slots=True)
class PortMapping:
    """One ``ports:`` entry: ``"127.0.0.1:443:8443/tcp"`` or the long syntax."""

    raw: str
    host_ip: str | None
    published: str | None  # None: not published on the host (container port only)
    target: str
    protocol: str
    span: Span

    @property
    def published_ports(self) -> list[int]:
        """Host ports, ranges expanded (``8000-8002``)."""
        return _port_range(self.published) if self.published else []


def _port_range(text: str) -> list[int]:
    low, _, high = text.partition("-")
    try:
        return list(range(int(low), int(high or low) + 1))
    except ValueError:
        return []


def parse_port(entry: Any, span: Span) -> PortMapping:
    if isinstance(entry, dict):
        published = entry.get("published")
        return PortMapping(str(entry), entry.get("host_ip"),
                           str(interpolate(published)) if published is not None else None,
                           str(entry.get("target", "")), str(entry.get("protocol", "tcp")), span)
    text = str(interpolate(entry))
    body, _, protocol = text.partition("/")
    host_ip = None
    if body.startswith("["):  # IPv6 host address: [::1]:443:443
        host_ip, _, body = body[1:].partition("]:")
    parts = body.rsplit(":", 2)
    if len(parts) == 3:
        host_ip, published, target = host_ip or parts[0], parts[1], parts[2]
    elif len(parts) == 2:
        published, target = parts
    else:
        published, target = None, parts[0]
    return PortMapping(str(entry), host_ip, published or None, target, protocol or "tcp", span)


@dataclass(frozen=True, slots=True)
class BuildSpec:
    context: str  # relative to the compose file's folder, as written
    dockerfile: str  # relative to the context
    span: Span


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    span: Span  # the service's key line
    body: YMap
    build: BuildSpec | None

    def get(self, key: str, default: Any = None) -> Any:
        """The value of a key with ``${VAR:-default}`` interpolated."""
        return interpolate(self.body.get(key, default))

    def key_span(self, key: str) -> Span:
        return self.body.key_span(key) if key in self.body else self.span

    def value_span(self, key: str) -> Span:
        return self.body.value_span(key) if key in self.body else self.span

    @property
    def image(self) -> str | None:
        image = self.get("image")
        return str(image) if image is not None else None

    @property
    def is_proxy(self) -> bool:
        """An nginx-like reverse proxy, by image name (or by a Dockerfile folder named so)."""
        names = [self.image or "", self.name]
        if self.build:
            names.append(self.build.context)
        return any(proxy in name.lower() for name in names for proxy in PROXY_IMAGES)

    @property
    def is_app(self) -> bool:
        """The application container: built from this repository or a node/Next.js image, and
        not the proxy. Databases and caches pulled from a registry are neither."""
        if self.is_proxy:
            return False
        if self.build is not None:
            return True
        image = (self.image or "").lower()
        return any(word in image for word in ("node", "next")) or self.name.lower() in ("app", "web", "frontend", "nextjs")

    def list_of(self, key: str) -> YList:
        value = self.body.get(key)
        return value if isinstance(value, YList) else YList(self.value_span(key))

    @property
    def ports(self) -> list[PortMapping]:
        entries = self.list_of("ports")
        return [parse_port(entry, entries.item_span(index)) for index, entry in enumerate(entries)]


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
    def app_services(self) -> list[Service]:
        return [service for service in self.services if service.is_app]

    @property
    def proxy_services(self) -> list[Service]:
        return [service for service in self.services if service.is_proxy]
