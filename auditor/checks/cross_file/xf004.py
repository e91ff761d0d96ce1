from __future__ import annotations

import posixpath
from collections.abc import Iterator

from auditor.findings import Fail, Outcome, Pass
from auditor.model.deployment import Deployment, ReadOnlyRoot, deployments_of
from auditor.model.project import Project
from auditor.params import Params

ID = "XF004"
NODES = "document"
DC011_WORKDIR = "/app"  # where DC011 resolves relative paths when the service sets no working_dir


def check(project: Project, params: Params) -> Iterator[Outcome]:
    for deployment in deployments_of(project).deployments:
        # Relative paths are under the image's WORKDIR, where `node server.js` runs and Next.js
        # keeps its cache (.next/cache).
        needed = [path if path.startswith("/") else posixpath.join(deployment.workdir, path)
                  for path in params["writable_paths"]]
        for root in deployment.read_only:
            if root.layer == "compose" and not _needs_the_image(deployment, root, params["writable_paths"]):
                continue  # DC011 reads this compose file alone: the same paths, the same answer
            yield _outcome(deployment, root, needed)


def _needs_the_image(deployment: Deployment, root: ReadOnlyRoot, paths: list[str]) -> bool:
    """Whether the image's WORKDIR changes what a read-only compose service must keep writable:
    DC011 resolves relative paths against the service's ``working_dir`` or /app; only a Dockerfile
    WORKDIR elsewhere (with no ``working_dir``) is something the compose file alone cannot show."""
    service = next((ref.service for ref in deployment.compose if ref.service.span == root.span), None)
    if service is None or service.get("working_dir") or deployment.dockerfile is None:
        return False
    return deployment.workdir.rstrip("/") != DC011_WORKDIR and any(not p.startswith("/") for p in paths)


def _outcome(deployment: Deployment, root: ReadOnlyRoot, needed: list[str]) -> Outcome:
    missing = [path for path in needed if not any(mount.covers(path) for mount in root.writable)]
    related = [root.setting] + ([deployment.stage.span] if deployment.stage is not None else [])
    if missing:
        fix = (f"add tmpfs: [{', '.join(missing)}]" if root.layer == "compose" else
               f"mount emptyDir volumes at {', '.join(missing)}")
        return Fail(root, f"{root.subject} leaves no writable space for {', '.join(missing)}, which the "
                          f"app writes (WORKDIR {deployment.workdir}); {fix}", related=related)
    mounts = ", ".join(f"{mount.target} ({mount.kind}, {mount.span.path}:{mount.span.line})"
                       for mount in root.writable)
    return Pass(root, f"{root.subject} with writable {mounts}")
