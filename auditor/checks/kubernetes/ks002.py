from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.kubernetes._helpers import container_label, shown
from auditor.findings import Fail, Outcome, Pass
from auditor.model.kubernetes import Container, Workload
from auditor.params import Params

ID = "KS002"
NODES = "kubernetes.container"


def check(container: Container, workload: Workload, params: Params) -> Iterator[Outcome]:
    read_only = container.security.read_only_root_filesystem
    name = container_label(workload, container)
    if read_only is not None and read_only.value is True:
        yield Pass(read_only, f"{name}: readOnlyRootFilesystem: true")
    elif read_only is not None:
        yield Fail(read_only, f"{name} sets readOnlyRootFilesystem: {shown(read_only.value)}; set it "
                              "to true and mount an emptyDir where the app writes")
    else:
        yield Fail(container, f"{name} has no readOnlyRootFilesystem; add "
                              "readOnlyRootFilesystem: true to its securityContext")
