from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.kubernetes._helpers import secret_reason, where
from auditor.findings import Fail, Outcome, Pass
from auditor.model.kubernetes import KubernetesSet
from auditor.params import Params

ID = "KS013"
NODES = "document"


def check(kubernetes: KubernetesSet, params: Params) -> Iterator[Outcome]:
    for workload, container in kubernetes.containers():
        name = where(workload, container)
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
