from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.kubernetes._helpers import origin, where
from auditor.findings import Fail, Outcome, Pass
from auditor.model.kubernetes import KubernetesSet
from auditor.params import Params

ID = "KS011"
NODES = "document"

_CONFINED = ("RuntimeDefault", "Localhost")


def check(kubernetes: KubernetesSet, params: Params) -> Iterator[Outcome]:
    for workload, container in kubernetes.containers():
        profile = container.security.seccomp_profile
        name = where(workload, container)
        if profile is None:
            yield Fail(container, f"{name} has no seccompProfile, so it runs Unconfined; set "
                                  "seccompProfile: {type: RuntimeDefault} in the pod securityContext")
        elif profile.value.type in _CONFINED:
            yield Pass(profile, f"{name}: seccompProfile {profile.value.type}{origin(profile)}")
        else:
            yield Fail(profile, f"{name} uses seccompProfile type {profile.value.type}"
                                f"{origin(profile)}; use RuntimeDefault or Localhost")
