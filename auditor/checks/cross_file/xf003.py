from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.cross_file._helpers import consensus, listing, odd_ones
from auditor.findings import Fail, Outcome, Pass
from auditor.model.deployment import Claim, Deployment, deployments_of
from auditor.model.project import Project
from auditor.params import Params

ID = "XF003"
NODES = "document"


def check(project: Project, params: Params) -> Iterator[Outcome]:
    for deployment in deployments_of(project).deployments:
        claims = list(deployment.health)
        if not claims:
            continue
        agreed = consensus(claims, params["health_path"])
        odd = odd_ones(claims, agreed)
        for claim in odd:
            if _reported_alone(claim, params["health_path"]):
                continue  # DC006 (compose) or KS006 (an httpGet probe) reports this file alone
            agreeing = [other for other in claims if other.value == agreed]
            yield Fail(claim, f"{claim.subject}, unlike {listing(agreeing)}; probe {agreed} here "
                              "so every layer checks the same endpoint",
                       related=[other.span for other in agreeing])
        missing = list(_missing_routes(deployment, claims, params["health_path"]))
        yield from missing
        if not odd and not missing and (deployment.next_app is not None or len(claims) > 1):
            yield Pass(claims[0], _evidence(deployment, agreed, claims))


def _reported_alone(claim: Claim, health_path: str) -> bool:
    """A probe of another path than the reference one that a single-file control already reports."""
    return claim.value != health_path and (claim.layer == "compose" or
                                           (claim.layer == "Kubernetes" and " httpGet " in claim.subject))


def _missing_routes(deployment: Deployment, claims: list[Claim], health_path: str) -> Iterator[Outcome]:
    """Each probed path must be an API route of the Next.js app the image packages (the reference
    path itself is NX002's, a compose or httpGet probe of another path DC006's or KS006's)."""
    app = deployment.next_app
    if app is None:
        return  # the app's source is not in the tree: existence cannot be checked
    app_named = f"the Next.js app at {app.dir or '.'}"
    claims = [c for c in claims if c.value != health_path and not _reported_alone(c, health_path)]
    for path in dict.fromkeys(claim.value for claim in claims):
        probing = [claim for claim in claims if claim.value == path]
        route = app.route(path)
        segments = path.strip("/")
        if route is None:
            yield Fail(probing[0], f"{probing[0].subject}, but no route of {app_named} serves it, so the probe "
                                   f"can never pass; add app/{segments}/route.ts (or pages/{segments}.ts) "
                                   "answering 200, or probe a route that exists",
                       related=[claim.span for claim in probing[1:]] + [app.span])
        elif not route.handles("GET"):
            yield Fail(probing[0], f"{probing[0].subject}, but {route.span.path} exports no GET handler, so the "
                                   "probe gets 405; export GET there",
                       related=[claim.span for claim in probing[1:]] + [route.span])


def _evidence(deployment: Deployment, agreed: str, claims: list[Claim]) -> str:
    served = ""
    if deployment.next_app is not None:
        route = deployment.next_app.route(agreed)
        served = f"; served by {route.span.path}" if route else ""
    return f"every probe of '{deployment.name}' requests {agreed}: {listing(claims, 6)}{served}"
