"""AR005: a layer the architecture document promises (an nginx reverse proxy; a Kubernetes Deployment
for its replicas) that the tree does not have."""
from __future__ import annotations

from collections.abc import Iterator
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing

from auditor.checks.architecture._document import against_document, at, not_read, said
from auditor.findings import Fail, Outcome, Pass, Unknown
from auditor.model.project import Project
from auditor.model.span import Span
from auditor.params import Params

if TYPE_CHECKING:
    from auditor.architecture.document import DocumentFacts, Statement

ID = "AR005"
NODES = "document"


@against_document
def check(project: Project, facts: DocumentFacts, params: Params) -> Iterator[Outcome]:
    values = facts.values()
    nginx = values.get("layer.nginx")
    if nginx is not None:
        if project.nginx_configs:
            config = project.nginx_configs[0]
            yield Pass(config.directives[0] if config.directives else _at(config.path),
                       f"nginx configuration {config.path}, as {said(facts, nginx, 'an nginx reverse proxy')}")
        elif not_read(project, "nginx"):
            yield _unknown(facts, nginx, "an nginx reverse proxy", "nginx configuration", not_read(project, "nginx"))
        else:
            yield Fail(at(facts, nginx), f"{said(facts, nginx, 'an nginx reverse proxy')}, but the tree has no "
                                         "nginx configuration; add it, or correct the document")
    autoscaler = values.get("layer.autoscaler")
    if autoscaler is not None:
        found = project.kubernetes.autoscalers if project.kubernetes else ()
        if found:
            yield Pass(found[0], f"autoscaler {getattr(found[0], 'name', '')}, as "
                                 f"{said(facts, autoscaler, 'a HorizontalPodAutoscaler')}")
        elif not_read(project, "kubernetes"):
            yield _unknown(facts, autoscaler, "a HorizontalPodAutoscaler", "autoscaler",
                           not_read(project, "kubernetes"))
        else:
            yield Fail(at(facts, autoscaler), f"{said(facts, autoscaler, 'a HorizontalPodAutoscaler')}, but the tree "
                                              "has no autoscaler; add it, or correct the document")
    replicas = values.get("replicas")
    if replicas is not None:
        workloads = [w for w in (project.kubernetes.workloads if project.kubernetes else ())
                     if w.kind in ("Deployment", "StatefulSet")]
        # the app's own workload is the evidence when there is one (not the first database's)
        workloads.sort(key=lambda w: not any(c.role == "app" for c in w.containers))
        if workloads:
            yield Pass(workloads[0], f"{workloads[0].kind} {workloads[0].name} runs the replicas "
                                     f"{said(facts, replicas, f'{replicas.value} replicas')} promises")
        elif not_read(project, "kubernetes"):
            yield _unknown(facts, replicas, f"{replicas.value} replicas", "Kubernetes Deployment",
                           not_read(project, "kubernetes"))
        else:
            yield Fail(at(facts, replicas), f"{said(facts, replicas, f'{replicas.value} replicas')}, but the tree "
                                            "has no Kubernetes Deployment; add it, or correct the document")


def _unknown(facts: DocumentFacts, statement: Statement, promise: str, layer: str, unread: list[str]) -> Unknown:
    return Unknown(at(facts, statement), f"{said(facts, statement, promise)}; the files the audit read have no "
                                         f"{layer}, and these could not be read: {'; '.join(unread[:3])}"
                                         + (f"; and {len(unread) - 3} more" if len(unread) > 3 else ""))


def _at(path: str) -> Span:
    return Span(path, 1)
