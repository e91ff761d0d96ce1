from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.kubernetes._helpers import container_label
from auditor.findings import Fail, Outcome, Pass
from auditor.model.kubernetes import Container, Workload
from auditor.params import Params

ID = "KS008"
NODES = "kubernetes.container"


def check(container: Container, workload: Workload, params: Params) -> Iterator[Outcome]:
    allowed_policies = params["allowed_pull_policies"]
    name = container_label(workload, container)
    failures = [*_image_failures(name, container),
                *_policy_failures(name, container, allowed_policies)]
    yield from failures
    if not failures and container.image is not None:
        image = container.image
        pin = f"digest {image.digest}" if image.digest else f"tag {image.tag}"
        policy = container.image_pull_policy or "IfNotPresent (default)"
        yield Pass(container.image_span, f"{name}: {image.raw} pinned by {pin}, "
                                         f"imagePullPolicy {policy}")


def _image_failures(name: str, container: Container) -> Iterator[Fail]:
    image = container.image
    if image is None:
        yield Fail(container, f"{name} names no image; set image: <repository>:<version>")
    elif image.digest:
        return  # a digest pins the content whatever the tag says
    elif image.tag is None:
        yield Fail(container.image_span, f"{name} image {image.raw} has no tag, so it means "
                                         "latest; pin a version tag or a digest")
    elif image.tag == "latest":
        yield Fail(container.image_span, f"{name} image {image.raw} uses the mutable latest tag; "
                                         "pin a version tag or a digest")


def _policy_failures(name: str, container: Container, allowed: list[str]) -> Iterator[Fail]:
    policy = container.image_pull_policy
    # Unset is defaulted by the API server: Always for latest/untagged, IfNotPresent otherwise.
    if policy is not None and policy not in allowed:
        yield Fail(container.image_pull_policy_span,
                   f"{name} sets imagePullPolicy: {policy}; use one of {', '.join(allowed)} so "
                   "the node pulls the pinned image from the registry")
