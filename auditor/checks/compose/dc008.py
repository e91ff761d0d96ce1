from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.compose._helpers import label
from auditor.findings import Fail, Outcome, Pass
from auditor.model.compose import ComposeFile, PortMapping, Service
from auditor.params import Params

ID = "DC008"
NODES = "compose.service"


def check(service: Service, compose_file: ComposeFile, params: Params) -> Iterator[Outcome]:
    allowed = {int(port) for port in params["allowed_host_ports"]}
    if service.is_proxy:
        yield from (_proxy_port(service, port, allowed) for port in service.ports)
        return
    for port in service.ports:
        yield Fail(port.span, f"{label(service)} publishes {_described(port)}; only the proxy "
                              f"may publish ports: move it to expose: [\"{port.target}\"]")
    if service.is_app:
        yield from _app_expose(service)


def _proxy_port(service: Service, port: PortMapping, allowed: set[int]) -> Outcome:
    permitted = ", ".join(str(number) for number in sorted(allowed))
    outside = [number for number in port.published_ports if number not in allowed]
    if port.ephemeral or outside or not port.published_ports:
        return Fail(port.span, f"{label(service)} publishes {_described(port)}; only host ports {permitted} may "
                               "be published (80 only to redirect to HTTPS)")
    return Pass(port.span, f"{label(service)} publishes host port {port.published}")


def _app_expose(service: Service) -> Iterator[Outcome]:
    exposed = service.exposed
    if not exposed and not service.ports:
        yield Fail(service, f"{label(service)} does not expose its port; add expose: [\"3000\"] so only the "
                            "proxy reaches it over the service network")
    elif exposed and not service.ports:
        yield Pass(service.key_span("expose"), f"{label(service)} exposes {', '.join(p for p, _ in exposed)} "
                                               "without publishing it")


def _described(port: PortMapping) -> str:
    if port.ephemeral:
        return f"container port {port.target} on an ephemeral host port"
    host_ip = f"{port.host_ip}:" if port.host_ip else ""
    return f"host port {host_ip}{port.published} (container port {port.target})"
