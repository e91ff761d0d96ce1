from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.kubernetes._helpers import container_label, is_false, is_true, shown
from auditor.findings import Fail, Outcome, Pass
from auditor.model.kubernetes import Container, KubernetesSet, Workload
from auditor.params import Params

ID = "KS004"
NODES = "kubernetes.workload"


def check(workload: Workload, kubernetes: KubernetesSet, params: Params) -> Iterator[Outcome]:
    if workload.pod is None:
        return
    pod = workload.pod
    shared = [(field, setting) for field, setting in (
        ("hostNetwork", pod.host_network), ("hostPID", pod.host_pid), ("hostIPC", pod.host_ipc))
        if is_true(setting)]
    for field, setting in shared:
        yield Fail(setting, f"{workload.kind} {workload.name} sets {field}: true, sharing the "
                            f"node's namespace; remove {field} from the pod spec")
    for container in workload.containers:
        yield from _container_outcomes(container_label(workload, container), container, not shared)


def _container_outcomes(name: str, container: Container, pod_isolated: bool) -> Iterator[Outcome]:
    security = container.security
    escalation, privileged = security.allow_privilege_escalation, security.privileged
    if is_true(privileged):
        yield Fail(privileged, f"{name} is privileged: true (full access to the node); remove it")
    if is_false(escalation):
        if pod_isolated and not is_true(privileged):
            yield Pass(escalation, f"{name}: allowPrivilegeEscalation: false, not privileged, "
                                   "no host namespaces")
    elif escalation is not None:
        yield Fail(escalation, f"{name} sets allowPrivilegeEscalation: {shown(escalation.value)}; set it "
                               "to false")
    else:
        # Unset means true: setuid binaries and file capabilities can raise privileges.
        yield Fail(container, f"{name} does not set allowPrivilegeEscalation, which defaults to "
                              "true; add allowPrivilegeEscalation: false to its securityContext")
