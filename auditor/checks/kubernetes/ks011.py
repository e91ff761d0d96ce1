from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.kubernetes._helpers import container_label, origin
from auditor.findings import Fail, Outcome, Pass
from auditor.model.kubernetes import Container, Workload
from auditor.params import Params

ID = "KS011"
NODES = "kubernetes.container"

_CONFINED = ("RuntimeDefault", "Localhost")


def check(container: Container, workload: Workload, params: Params) -> Iterator[Outcome]:
    profile = container.security.seccomp_profile
    name = container_label(workload, container)
    if profile is None:
        yield Fail(container, f"{name} has no seccompProfile, so it runs Unconfined; set "
                              "seccompProfile: {type: RuntimeDefault} in the pod securityContext")
    elif profile.value.type in _CONFINED:
        yield Pass(profile, f"{name}: seccompProfile {profile.value.type}{origin(profile)}")
    else:
        yield Fail(profile, f"{name} uses seccompProfile type {profile.value.type}"
                            f"{origin(profile)}; use RuntimeDefault or Localhost")
