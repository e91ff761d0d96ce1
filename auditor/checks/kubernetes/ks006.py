from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.kubernetes._helpers import container_label
from auditor.findings import Fail, Outcome, Pass
from auditor.model.kubernetes import Container, Workload
from auditor.params import Params

ID = "KS006"
NODES = "kubernetes.container"

# Jobs run to completion: a readiness probe gates no traffic there.
_BATCH_KINDS = ("Job", "CronJob")


def check(container: Container, workload: Workload, params: Params) -> Iterator[Outcome]:
    health_path = params["health_path"]
    # Kubernetes rejects probes on init containers, except on sidecars (restartPolicy: Always).
    if workload.kind in _BATCH_KINDS or (container.is_init and container.restart_policy != "Always"):
        return
    name = container_label(workload, container)
    for probe, key in ((container.liveness_probe, "livenessProbe"),
                       (container.readiness_probe, "readinessProbe")):
        if probe is None:
            yield Fail(container, f"{name} has no {key}; add one (httpGet {health_path})")
        elif probe.http_path is not None and probe.http_path.split("?")[0] != health_path:
            yield Fail(probe.http_path_span or probe, f"{name} {key} requests "
                       f"{probe.http_path}; point it at the health endpoint {health_path}")
        else:
            yield Pass(probe, f"{name}: {key} {probe.handler} {probe.http_path or ''}".rstrip())
