from __future__ import annotations

from collections.abc import Iterator

from auditor.findings import Fail, Outcome, Pass
from auditor.model.kubernetes import Ingress, IngressRule, KubernetesSet, Service, Workload
from auditor.params import Params

ID = "KS009"
NODES = "document"


def check(kubernetes: KubernetesSet, params: Params) -> Iterator[Outcome]:
    for workload in kubernetes.workloads:
        if workload.kind != "Deployment":
            continue
        services = kubernetes.services_for(workload)
        # A Deployment with no port and no Service is a worker, not something to expose.
        if not services and not any(c.ports for c in workload.containers):
            continue
        if not services:
            labels = ", ".join(f"{k}: {v}" for k, v in workload.pod_labels.items()) or "none"
            yield Fail(workload.name_span, f"no Service selects the pods of Deployment "
                                           f"{workload.name} (labels {labels}); add one")
            continue
        yield from _exposure(kubernetes, workload, services)


def _exposure(kubernetes: KubernetesSet, workload: Workload,
              services: tuple[Service, ...]) -> Iterator[Outcome]:
    # Several Services may select the same pods and one rule may serve several of them: report
    # each Ingress rule once.
    routes: dict[object, tuple[Ingress, IngressRule, Service]] = {}
    for service in services:
        for ingress in kubernetes.ingresses_for(service):
            for rule in _rules_to(ingress, service):
                routes.setdefault(rule.span, (ingress, rule, service))
    for ingress, rule, service in routes.values():
        yield _tls_outcome(ingress, rule, service)
    if not routes:
        names = ", ".join(s.name for s in services)
        yield Fail(services[0].name_span, f"Service {names} for Deployment {workload.name} is not "
                                          "the backend of any Ingress; expose it through an "
                                          "Ingress with tls")


def _rules_to(ingress: Ingress, service: Service) -> list[IngressRule]:
    rules = [r for r in ingress.rules if any(b.service_name == service.name for b in r.backends)]
    if ingress.default_backend and ingress.default_backend.service_name == service.name:
        rules.append(IngressRule(None, ingress.default_backend.span, (ingress.default_backend,)))
    return rules


def _tls_outcome(ingress: Ingress, rule: IngressRule, service: Service) -> Outcome:
    host = rule.host
    if host is None:
        covered = bool(ingress.tls)
    else:
        covered = any(_host_matches(host, tls_host) for tls_host in ingress.tls_hosts)
    label = host or "every host"
    if covered:
        return Pass(rule, f"Ingress {ingress.name} serves {label} with TLS to Service {service.name}")
    return Fail(rule, f"Ingress {ingress.name} routes {label} to Service {service.name} without "
                      f"TLS; add {host or 'the host'} to spec.tls with a certificate secret",
                related=[ingress.tls_span] if ingress.tls_span else ())


def _host_matches(host: str, tls_host: str) -> bool:
    if tls_host.startswith("*."):  # a wildcard certificate covers exactly one more label
        return host.count(".") == tls_host.count(".") and host.endswith(tls_host[1:])
    return host == tls_host
