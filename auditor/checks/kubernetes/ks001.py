from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.kubernetes._helpers import container_label, is_true, origin, shown
from auditor.findings import Fail, Outcome, Pass
from auditor.model.kubernetes import Container, Workload
from auditor.params import Params

ID = "KS001"
NODES = "kubernetes.container"


def check(container: Container, workload: Workload, params: Params) -> Iterator[Outcome]:
    uid = params["uid"]
    security, name = container.security, container_label(workload, container)
    user, non_root = security.run_as_user, security.run_as_non_root
    failed = False
    if user is None and container.role == "app":
        failed = True
        yield Fail(container, f"{name} sets no runAsUser; set runAsUser: {uid} in the pod or "
                              "container securityContext")
    elif user is not None and (user.value == 0 or user.value != uid and container.role == "app"):
        failed = True  # the app's UID is the reference one; any other workload only not root
        running = "root" if user.value == 0 else "another UID"
        yield Fail(user, f"{name} runs as runAsUser: {user.value} ({running}){origin(user)}; "
                         f"set runAsUser: {uid if container.role == 'app' else 'a non-zero UID'} here")
    if not is_true(non_root):
        failed = True
        seen = f"runAsNonRoot: {shown(non_root.value)}" if non_root else "no runAsNonRoot"
        yield Fail(non_root or container,
                   f"{name} has {seen}; set runAsNonRoot: true in the pod securityContext")
    if not failed and user is not None:
        yield Pass(user, f"{name}: runAsNonRoot: true, runAsUser: {user.value}{origin(user)}")
    elif not failed:
        yield Pass(non_root or container, f"{name}: runAsNonRoot: true (the image's non-root user)")
