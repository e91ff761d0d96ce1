"""``auditor model [PATH]``: print the deployment model, so a user can see how the auditor
understood their repository (which nginx location reaches which service, which image, which
Dockerfile, with the ports, UIDs and health paths each layer states)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import IO

from auditor.cli import EXIT_OK, UsageError
from auditor.model.deployment import Claim, Deployment, SystemModel, deployments_of, to_dict
from auditor.textsafe import display, json_escape


def build(path: str, config_path: str | None = None, no_ignore: bool = False) -> SystemModel:
    """Discover and parse ``path`` the way ``auditor scan`` does, then link the deployment."""
    from auditor.api import parse_bounds
    from auditor.catalog import distrust_inside, load_catalog
    from auditor.config import load_settings
    from auditor.discovery import discover
    from auditor.parsers.project import build_project

    root = Path(path)
    if not root.is_dir():
        raise UsageError(f"{path}: not a folder (`auditor model` reads a whole tree)")
    root = root.absolute()
    distrust_inside(root)
    config = load_settings(root, config_path, load_catalog()).config  # the tree's may set policy only
    found = discover([root], root, exclude=config.exclude, max_file_size=config.max_file_size,
                     max_files=config.max_files, no_ignore=no_ignore)
    return deployments_of(build_project(found, **parse_bounds(config)))


def run(args: argparse.Namespace) -> int:
    model = build(args.path, getattr(args, "config", None), getattr(args, "no_ignore", False))
    if args.format == "json":
        sys.stdout.write(json_escape(json.dumps(to_dict(model), indent=2, ensure_ascii=False)))
        sys.stdout.write("\n")
    else:
        render_text(model, sys.stdout)
    return EXIT_OK


# ---------------------------------------------------------------------------------------------
# Text


def _values(claims: list[Claim]) -> str:
    shown: list[str] = []
    for claim in claims:
        values = claim.value if isinstance(claim.value, tuple) else (claim.value,)
        shown += [str(v) if v is not None else "?" for v in values]
    return ", ".join(dict.fromkeys(shown))


def _mine(claims: tuple[Claim, ...], path: str, subject_part: str) -> list[Claim]:
    return [c for c in claims if c.span.path == path and subject_part in c.subject]


def _facts(deployment: Deployment, path: str, subject_part: str) -> str:
    parts = []
    for label, claims in (("port", deployment.ports), ("uid", deployment.uids), ("health", deployment.health)):
        mine = _mine(claims, path, subject_part)
        if mine:
            parts.append(f"{label} {_values(mine)}")
    for root in deployment.read_only:
        if root.span.path == path and subject_part in root.subject:
            writable = ", ".join(m.target for m in root.writable) or "nothing"
            parts.append(f"read-only root, writable {writable}")
    return "; ".join(parts)


def _bracket(facts: str) -> str:
    return f" [{facts}]" if facts else ""


def _chains(deployment: Deployment) -> list[str]:
    """One line per way a request reaches the app: nginx -> compose service -> image ->
    Dockerfile, and Ingress -> Service -> container -> image -> Dockerfile."""
    tail = []
    if deployment.dockerfile is not None and deployment.stage is not None:
        facts = _facts(deployment, deployment.dockerfile.path, "")
        tail.append(f"Dockerfile {deployment.dockerfile.path} {deployment.stage.label}{_bracket(facts)}")
    if deployment.next_app is not None:
        tail.append(f"Next.js app {deployment.next_app.dir or '.'}")
    chains = []
    for ref in deployment.compose:
        routes = [r for r in deployment.routes if r.host == ref.service.name]
        head = [f"nginx :{','.join(map(str, routes[0].ports)) or '?'}"] if routes else []
        facts = _facts(deployment, ref.file.path, f"'{ref.service.name}'")
        image = [f"image {ref.service.image}"] if ref.service.image else []
        chains.append(" -> ".join(head + [f"compose service '{ref.service.name}'{_bracket(facts)}"] + image + tail))
    for pod_ref in deployment.containers:
        head = []
        for claim, service in deployment.service_ports:
            if service in pod_ref.services:
                head.append(f"{claim.subject.split(' backend')[0].split(' upstream')[0]} :{_values([claim])}")
        for service in pod_ref.services:
            ports = ",".join(f"{p.port}->{p.target_port if p.target_port is not None else p.port}" for p in service.ports)
            head.append(f"Service {service.name} {ports}".rstrip())
        facts = _facts(deployment, pod_ref.span.path, pod_ref.label)
        image = [f"image {pod_ref.container.image.raw}"] if pod_ref.container.image else []
        chains.append(" -> ".join(head + [f"{pod_ref.label}{_bracket(facts)}"] + image + tail))
    if not chains:
        chains.append(" -> ".join([f"nginx :{','.join(map(str, r.ports))}" for r in deployment.routes[:1]] + tail))
    return chains


def _lines(deployment: Deployment) -> list[str]:
    lines = [f"deployment '{deployment.name}'  (layers: {', '.join(deployment.layers) or 'none'})"]
    lines += [f"  chain       {chain}" for chain in _chains(deployment)]
    for route in deployment.routes:
        ports = ",".join(map(str, route.ports)) or "?"
        lines.append(f"  nginx       {route.location.label} -> {route.host}:{ports} ({route.target}) "
                     f"at {route.span.path}:{route.span.line}")
    for ref in deployment.compose:
        facts = _facts(deployment, ref.file.path, f"'{ref.service.name}'")
        lines.append(f"  compose     service '{ref.service.name}' at {ref.file.path}:{ref.span.line}"
                     + (f": {facts}" if facts else ""))
    for pod_ref in deployment.containers:
        facts = _facts(deployment, pod_ref.span.path, pod_ref.label)
        lines.append(f"  kubernetes  {pod_ref.label} at {pod_ref.span.path}:{pod_ref.span.line}"
                     + (f": {facts}" if facts else ""))
        for service in pod_ref.services:
            ports = ", ".join(f"{p.port}->{p.target_port if p.target_port is not None else p.port}"
                              for p in service.ports)
            lines.append(f"              Service {service.name} ({service.type}) ports {ports or 'none'} "
                         f"at {service.span.path}:{service.span.line}")
    if deployment.images:
        lines.append(f"  image       {', '.join(deployment.images)}")
    if deployment.dockerfile is not None and deployment.stage is not None:
        facts = _facts(deployment, deployment.dockerfile.path, "")
        lines.append(f"  Dockerfile  {deployment.dockerfile.path} {deployment.stage.label} "
                     f"(line {deployment.stage.span.line}), WORKDIR {deployment.workdir}"
                     + (f": {facts}" if facts else ""))
    if deployment.next_app is not None:
        routes = ", ".join(r.route for r in deployment.next_app.api_routes) or "none"
        lines.append(f"  Next.js     app at {deployment.next_app.dir or '.'}: API routes {routes}")
    if deployment.links:
        lines.append("  linked by")
        lines += [f"    - {link}" for link in deployment.links]
    return lines


def render_text(model: SystemModel, stream: IO[str]) -> None:
    if model.workloads:
        stream.write("workloads and their roles\n")
        width = max(len(f"{w.kind} {w.name}") for w in model.workloads)
        for w in sorted(model.workloads, key=lambda w: (w.span.path, w.span.line)):
            stream.write(display(f"  {f'{w.kind} {w.name}':<{width}}  {w.role:<5}  {w.evidence} "
                                   f"({w.span.path}:{w.span.line})") + "\n")
        stream.write("\n")
    if not model.deployments:
        stream.write("No deployment found: no Dockerfile, compose app service, Kubernetes workload "
                     "or nginx proxy in the tree.\n")
    for index, deployment in enumerate(model.deployments):
        if index:
            stream.write("\n")
        for line in _lines(deployment):
            stream.write(display(line) + "\n")
    for route in model.unlinked_routes:
        stream.write(display(f"\nnginx {route.location.label} at {route.span.path}:{route.span.line} proxies to "
                               f"{route.host}, which no app of the tree matches") + "\n")
    if model.build_contexts:
        stream.write("\nbuild contexts\n")
        for context in model.build_contexts:
            ignore = context.dockerignore.path if context.dockerignore else "no .dockerignore"
            stream.write(display(f"  {context.directory or '.'} -> {context.dockerfile.path} ({ignore})") + "\n")
