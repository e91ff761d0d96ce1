from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.kubernetes._helpers import container_label
from auditor.findings import Fail, Outcome, Pass
from auditor.model.kubernetes import Container, Quantity, Workload
from auditor.params import KubernetesQuantity, Params

ID = "KS005"
NODES = "kubernetes.container"


def check(container: Container, workload: Workload, params: Params) -> Iterator[Outcome]:
    ceilings = {"cpu": params["max_cpu"], "memory": params["max_memory"]}
    name = container_label(workload, container)
    failures = list(_failures(name, container, ceilings))
    yield from failures
    if not failures:
        resources = container.resources
        amounts = ", ".join(f"{kind}.{q.resource}={q.raw}" for kind, quantities in
                            (("limits", resources.limits), ("requests", resources.requests))
                            for q in quantities if q.resource in ("cpu", "memory"))
        yield Pass(resources.limits_span or resources.span, f"{name}: {amounts}")


def _failures(name: str, container: Container, ceilings: dict[str, KubernetesQuantity]) -> Iterator[Fail]:
    resources = container.resources
    for resource in ("cpu", "memory"):
        limit = resources.limit(resource)
        if limit is None:
            yield Fail(resources.limits_span or resources.span,
                       f"{name} has no {resource} limit; set resources.limits.{resource} "
                       f"(at most {ceilings[resource]})")
        elif limit.value is None:
            yield Fail(limit, f"{name} limits.{resource} {limit.raw!r} is not a quantity")
        elif limit.value > ceilings[resource].amount:
            yield Fail(limit, f"{name} limits.{resource} is {limit.raw}, above the {ceilings[resource]} "
                              "ceiling; lower it")
        request = resources.request(resource)
        if request is None:
            yield Fail(resources.requests_span or resources.span,
                       f"{name} has no {resource} request; set resources.requests.{resource} so "
                       "the scheduler reserves it")
        elif _unreadable(request):
            yield Fail(request, f"{name} requests.{resource} {request.raw!r} is not a quantity")


def _unreadable(quantity: Quantity) -> bool:
    return quantity.value is None
