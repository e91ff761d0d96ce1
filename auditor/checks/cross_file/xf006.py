from __future__ import annotations

from collections.abc import Iterator
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import Any

from auditor.findings import Fail, Outcome, Pass
from auditor.model.project import Project
from auditor.model.span import Span
from auditor.params import Params

ID = "XF006"
NODES = "document"

# layer -> (what it is, the control family that goes unchecked without it, where it usually lives)
LAYERS = {
    "dockerfile": ("Dockerfile", "DF", "Dockerfile"),
    "compose": ("Docker Compose file", "DC", "docker-compose.yml"),
    "nginx": ("nginx configuration", "NG", "nginx/nginx.conf"),
    "kubernetes": ("Kubernetes manifest", "KS", "k8s/deployment.yaml"),
    "nextjs": ("Next.js app (package.json, next.config.js)", "NX", "package.json"),
}


def artifacts(project: Project) -> dict[str, list[Any]]:
    """Each layer's artifacts (nodes with a span); a layer whose files did not parse counts as
    present, since its controls then report `error`, not `not_applicable`."""
    found: dict[str, list[Any]] = {
        # the final stage's FROM: the image the deployment runs
        "dockerfile": [d.final_stage or d for d in project.dockerfiles],
        "compose": list(project.compose_files),
        "nginx": list(project.nginx_configs),
        "kubernetes": ([Span(path, 1) for path in project.kubernetes.paths]
                       if project.kubernetes is not None and project.kubernetes_present else [])
        # Helm chart renders and Kustomize overlays (parsers/project.py) are Kubernetes too
        + [Span(path, 1) for rendered in project.rendered_kubernetes for path in rendered.paths],
        "nextjs": list(project.next_apps),
    }
    for target, paths in project.unparsed.items():
        if target in found and not found[target]:
            found[target] = [Span(path, 1) for path in paths]
    return found


def check(project: Project, params: Params) -> Iterator[Outcome]:
    present = artifacts(project)
    wanted = [layer for layer in params["layers"] if layer in LAYERS]
    anchors = [nodes[0] for layer in ("dockerfile", "compose", "kubernetes", "nginx", "nextjs")
               if (nodes := present[layer])]
    if not anchors:
        return  # nothing of the deployment is here: nothing to say
    missing = [layer for layer in wanted if not present[layer]]
    for layer in missing:
        what, family, usual = LAYERS[layer]
        yield Fail(anchors[0], f"no {what} in the audited tree, so the {family} controls are "
                               f"not_applicable (not passed); add it (e.g. {usual}) or audit the "
                               f"repository that holds it, or drop '{layer}' from this rule's layers")
    if not missing:
        shown = ", ".join(f"{LAYERS[layer][0]} ({_path(present[layer][0])})" for layer in wanted)
        yield Pass(anchors[0], f"every documented layer is present: {shown}")


def _path(node: Any) -> str:
    return node.path if isinstance(node, Span) else node.span.path
