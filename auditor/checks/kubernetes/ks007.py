from __future__ import annotations

from collections.abc import Iterator

from auditor.findings import Fail, Outcome, Pass
from auditor.model.kubernetes import KubernetesSet, Workload
from auditor.params import Params

ID = "KS007"
NODES = "kubernetes.workload"


def check(workload: Workload, kubernetes: KubernetesSet, params: Params) -> Iterator[Outcome]:
    minimum = params["min_replicas"]
    if workload.kind != "Deployment":
        return
    replicas = workload.effective_replicas or 0
    autoscaler = kubernetes.autoscaler_for(workload)
    name = f"Deployment {workload.name}"
    if autoscaler is not None and autoscaler.min_replicas >= minimum:
        yield Pass(autoscaler.min_replicas_span or autoscaler,
                   f"{name} is scaled by HPA {autoscaler.name} with minReplicas: "
                   f"{autoscaler.min_replicas}")
    elif replicas >= minimum:
        yield Pass(workload.replicas_span or workload, f"{name}: replicas: {replicas}")
    elif autoscaler is not None:
        yield Fail(autoscaler.min_replicas_span or autoscaler,
                   f"HPA {autoscaler.name} lets {name} shrink to {autoscaler.min_replicas} "
                   f"replica(s) and replicas is {replicas}; set minReplicas: {minimum}",
                   related=[workload.replicas_span or workload.name_span])
    else:
        seen = f"replicas: {replicas}" if workload.replicas is not None else "no replicas (so 1)"
        yield Fail(workload.replicas_span or workload.name_span,
                   f"{name} sets {seen}; set replicas: {minimum} or add an HPA with "
                   f"minReplicas: {minimum}")
