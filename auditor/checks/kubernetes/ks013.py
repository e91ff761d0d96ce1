from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.kubernetes._helpers import container_label, secret_reason
from auditor.findings import Fail, Outcome, Pass
from auditor.model.kubernetes import Container, Workload
from auditor.params import Params

ID = "KS013"
NODES = "kubernetes.container"


def check(container: Container, workload: Workload, params: Params) -> Iterator[Outcome]:
    name = container_label(workload, container)
    failed = False
    for variable in container.env:
        reason = secret_reason(variable.name, variable.value) if variable.value else None
        if reason:
            failed = True
            # never echo the value: the report may travel further than the manifest
            yield Fail(variable.value_span or variable, f"{name} env {variable.name} holds a "
                       f"literal value and {reason}; move it to a Secret and use "
                       "valueFrom.secretKeyRef")
    if not failed:
        referenced = [v.name for v in container.env if v.value_from == "secretKeyRef"]
        referenced += [f"envFrom {s.name}" for s in container.env_from if s.kind == "secretRef"]
        shown = ", ".join(referenced) if referenced else "none needed"
        yield Pass(container, f"{name}: no secret literals in env; secrets by reference: {shown}")
