from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.cross_file._helpers import consensus, listing, odd_ones
from auditor.findings import Fail, Outcome, Pass
from auditor.model.deployment import Deployment, deployments_of
from auditor.model.project import Project
from auditor.params import Params

ID = "XF002"
NODES = "document"


def check(project: Project, params: Params) -> Iterator[Outcome]:
    for deployment in deployments_of(project).deployments:
        yield from _container_ports(deployment, int(params["app_port"]))
        yield from _service_ports(deployment)


def _container_ports(deployment: Deployment, reference: int) -> Iterator[Outcome]:
    """The port the app listens on, as the proxy, compose, the image and Kubernetes state it."""
    claims = list(deployment.ports)
    if len(claims) < 2:
        return
    agreed = consensus(claims, reference)
    odd = odd_ones(claims, agreed)
    for claim in odd:
        agreeing = [other for other in claims if agreed in other.value]
        stated = ", ".join(map(str, claim.value))
        yield Fail(claim, f"{claim.subject} uses port {stated}, but the app listens on {agreed} "
                          f"({listing(agreeing)}); change it here to {agreed}",
                   related=[other.span for other in agreeing])
    if not odd:
        yield Pass(claims[0], f"port {agreed} agrees along the chain of '{deployment.name}': {listing(claims, 6)}")


def _service_ports(deployment: Deployment) -> Iterator[Outcome]:
    """Traffic addressed to a Kubernetes Service (an Ingress backend, an nginx proxy_pass to the
    Service name) must use one of the Service's ``port`` values."""
    for claim, service in deployment.service_ports:
        offered = [port.port for port in service.ports if port.port is not None]
        missing = [port for port in claim.value if port not in offered]
        if missing:
            yield Fail(claim, f"{claim.subject} sends to port {', '.join(map(str, missing))} of Service "
                              f"{service.name}, which offers {', '.join(map(str, offered)) or 'no port'}; "
                              f"use {offered[0] if offered else 'a port the Service declares'}",
                       related=[port.span for port in service.ports] or [service.span])
        else:
            yield Pass(claim, f"{claim.subject} matches a port of Service {service.name} ({claim.file_line})")
