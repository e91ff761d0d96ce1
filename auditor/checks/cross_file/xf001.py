from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.cross_file._helpers import consensus, listing, odd_ones
from auditor.findings import Fail, Outcome, Pass
from auditor.model.deployment import deployments_of
from auditor.model.project import Project
from auditor.params import Params

ID = "XF001"
NODES = "document"


def check(project: Project, params: Params) -> Iterator[Outcome]:
    reference = int(params["uid"])
    for deployment in deployments_of(project).deployments:
        claims = [claim for claim in deployment.uids if claim.value is not None]
        if len(claims) < 2:
            continue  # one layer alone cannot disagree: nothing to compare
        agreed = consensus(claims, reference)
        odd = odd_ones(claims, agreed)
        for claim in odd:
            agreeing = [other for other in claims if other.value == agreed]
            yield Fail(claim, f"{claim.subject} makes the runtime UID {claim.value}, but "
                              f"{listing(agreeing)} state {agreed}; set one non-root UID "
                              f"({reference}) in the Dockerfile, compose and Kubernetes",
                       related=[other.span for other in claims if other is not claim])
        if not odd:
            yield Pass(claims[0], f"runtime UID {agreed} in every layer of '{deployment.name}': {listing(claims)}")
