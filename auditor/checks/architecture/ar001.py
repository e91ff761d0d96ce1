"""AR001: a number the architecture document states that a deployment file contradicts."""
from __future__ import annotations

import re
from collections.abc import Iterator
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing

from auditor.checks.architecture._document import against_document, at, said
from auditor.findings import Fail, Outcome, Pass, span_of
from auditor.model.deployment import SystemModel, deployments_of
from auditor.model.kubernetes import Workload
from auditor.model.nginx import parse_rate
from auditor.model.project import Project
from auditor.model.span import Span
from auditor.params import Params

if TYPE_CHECKING:
    from auditor.architecture.document import DocumentFacts

ID = "AR001"
NODES = "document"


@against_document
def check(project: Project, facts: DocumentFacts, params: Params) -> Iterator[Outcome]:
    values = facts.values()
    model = deployments_of(project)
    doc = {key: at(facts, statement) for key, statement in values.items()}

    reported: set[tuple[str, str, int]] = set()  # one finding per setting and line (a port seen twice)

    def compare(key: str, node: object, found: object, agrees: bool, what: str, fix: str) -> list[Outcome]:
        statement = values[key]
        span = span_of(node)
        if not agrees and (key, span.path, span.line) in reported:
            return []
        reported.add((key, span.path, span.line))
        if agrees:
            return [Pass(node, f"{what} {found}, as {said(facts, statement, statement.value)}")]
        return [Fail(node, f"{what} {found}, but {said(facts, statement, statement.value)}; {fix}",
                     related=[doc[key]])]

    if "runtime.uid" in values:
        uid = values["runtime.uid"].value
        for deployment in model.deployments:
            for claim in deployment.uids:
                if claim.value is not None:
                    yield from compare("runtime.uid", claim, claim.value, claim.value == uid,
                                  f"{claim.subject} runs as UID", f"run as UID {uid} or correct the document")
    if "app.port" in values:
        port = values["app.port"].value
        for deployment in model.deployments:
            for claim in deployment.ports:
                ports = tuple(claim.value or ())
                if ports:
                    yield from compare("app.port", claim, "/".join(map(str, ports)), port in ports,
                                  f"{claim.subject} listens on port", f"serve the app on {port} or correct the document")
            for route in deployment.routes:
                if route.ports and route.port_spans:
                    yield from compare("app.port", route.port_spans[0], "/".join(map(str, route.ports)),
                                  port in route.ports, "nginx proxies to port",
                                  f"proxy_pass to the app on {port} or correct the document")
    if "app.health_path" in values:
        path = values["app.health_path"].value
        for deployment in model.deployments:
            for claim in deployment.health:
                if claim.value:
                    yield from compare("app.health_path", claim, claim.value, claim.value == path,
                                  f"{claim.subject} checks health at", f"probe {path} or correct the document")
    if "rate_limit.rate" in values:
        rate = values["rate_limit.rate"].value
        wanted = parse_rate(rate)
        for config in project.nginx_configs:
            for zone in config.limit_req_zones:
                if zone.rate_per_second is not None and wanted is not None:
                    yield from compare("rate_limit.rate", zone, f"rate={zone.rate}", abs(zone.rate_per_second - wanted) < 1e-9,
                                  f"limit_req_zone {zone.name} sets",
                                  f"set rate={rate} or correct the document")
    if "rate_limit.burst" in values:
        burst = values["rate_limit.burst"].value
        seen = set()
        for config in project.nginx_configs:
            for server in config.servers:
                for location in server.locations:
                    for limit in location.effective.limit_reqs:
                        if limit.burst is not None and limit.span not in seen:
                            seen.add(limit.span)
                            yield from compare("rate_limit.burst", limit, f"burst={limit.burst}", limit.burst == burst,
                                          "limit_req sets", f"set burst={burst} or correct the document")
    if "replicas" in values:
        replicas = values["replicas"].value
        for workload in _app_workloads(model):
            if workload.replicas is not None:
                yield from compare("replicas", workload.replicas_span or workload.span, workload.replicas,
                              workload.replicas == replicas, f"{workload.kind} {workload.name} runs replicas:",
                              f"set replicas: {replicas} (or an autoscaler with that minimum) or correct the document")
    if "network.subnet" in values:
        subnet = values["network.subnet"].value
        for compose in project.compose_files:
            for name, network in compose.networks.items():
                for value, span in network.subnets:
                    yield from compare("network.subnet", span, value, value == subnet,
                                  f"compose network {name} has subnet", f"use {subnet} or correct the document")
    if "tls.hsts_max_age" in values:
        max_age = values["tls.hsts_max_age"].value
        for header in _headers(project, "strict-transport-security"):
            match = re.search(r"max-age=(\d+)", header.value)
            if match:
                yield from compare("tls.hsts_max_age", header, f"max-age={match.group(1)}", int(match.group(1)) == max_age,
                              "Strict-Transport-Security sends", f"send max-age={max_age} or correct the document")


def _app_workloads(model: SystemModel) -> list[Workload]:
    seen: dict[int, Workload] = {}
    for deployment in model.deployments:
        for ref in deployment.containers:
            seen.setdefault(id(ref.workload), ref.workload)
    return list(seen.values())


def _headers(project: Project, name: str) -> list[_Header]:
    found: dict[Span, _Header] = {}
    for config in project.nginx_configs:
        for top in config.directives:
            for directive in top.walk():
                if directive.name == "add_header" and directive.args and directive.args[0].lower() == name:
                    found.setdefault(directive.span, _Header(directive.args[1] if len(directive.args) > 1 else "",
                                                             directive.span))
    return list(found.values())


class _Header:
    def __init__(self, value: str, span: Span) -> None:
        self.value, self.span = value, span
