from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.kubernetes._helpers import shown, where
from auditor.findings import Fail, Outcome, Pass
from auditor.model.kubernetes import KubernetesSet
from auditor.params import Params

ID = "KS002"
NODES = "document"


def check(kubernetes: KubernetesSet, params: Params) -> Iterator[Outcome]:
    for workload, container in kubernetes.containers():
        read_only = container.security.read_only_root_filesystem
        name = where(workload, container)
        if read_only is not None and read_only.value is True:
            yield Pass(read_only, f"{name}: readOnlyRootFilesystem: true")
        elif read_only is not None:
            yield Fail(read_only, f"{name} sets readOnlyRootFilesystem: {shown(read_only.value)}; set it "
                                  "to true and mount an emptyDir where the app writes")
        else:
            yield Fail(container, f"{name} has no readOnlyRootFilesystem; add "
                                  "readOnlyRootFilesystem: true to its securityContext")
