from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.kubernetes._helpers import container_label
from auditor.findings import Fail, Outcome, Pass
from auditor.model.kubernetes import Container, Workload
from auditor.params import Params

ID = "KS003"
NODES = "kubernetes.container"


def check(container: Container, workload: Workload, params: Params) -> Iterator[Outcome]:
    security, name = container.security, container_label(workload, container)
    dropped = [capability.name for capability in security.capabilities_drop]
    if "ALL" in dropped:
        added = ", ".join(c.name for c in security.capabilities_add)
        yield Pass(security.capabilities_span or container,
                   f"{name}: capabilities.drop: [ALL]" + (f", add: [{added}]" if added else ""))
        return
    # Runtimes and the Pod Security Standards match the literal `ALL`; `all` drops nothing.
    near_miss = next((c for c in security.capabilities_drop
                      if c.name.upper() in ("ALL", "CAP_ALL")), None)
    if near_miss is not None:
        yield Fail(near_miss, f"{name} drops {near_miss.name!r}, which runtimes do not read as "
                              "every capability; write ALL in upper case")
    elif security.capabilities_span is not None:
        yield Fail(security.capabilities_span,
                   f"{name} drops only [{', '.join(dropped)}]; add ALL to capabilities.drop")
    else:
        yield Fail(container, f"{name} keeps the runtime's default capabilities; add "
                              "capabilities: {drop: [ALL]} to its securityContext")
