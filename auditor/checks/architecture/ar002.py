"""AR002: the base image the architecture document names is not the one the app's Dockerfile uses."""
from __future__ import annotations

from collections.abc import Iterator
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing

from auditor.checks.architecture._document import against_document, at, said
from auditor.findings import Fail, Outcome, Pass, Unknown
from auditor.model.deployment import deployments_of
from auditor.model.project import Project
from auditor.params import Params

if TYPE_CHECKING:
    from auditor.architecture.document import DocumentFacts

ID = "AR002"
NODES = "document"


@against_document
def check(project: Project, facts: DocumentFacts, params: Params) -> Iterator[Outcome]:
    values = facts.values()
    if "node.major" not in values:
        return
    statement = values["node.major"]
    family = values["node.family"].value if "node.family" in values else None
    wanted = f"node:{statement.value}" + (f"-{family}" if family else "")
    compared = False
    for deployment in deployments_of(project).deployments:
        stage = deployment.stage
        if stage is None:
            continue
        compared = True
        base = stage.base
        if not base.resolved:  # FROM $BASE with no default: the image is chosen at build time
            yield Unknown(stage, f"the runtime stage of '{deployment.name}' is FROM {base.raw}, resolved only "
                                 f"at build time; cannot compare it with {wanted}")
            continue
        if base.tag is None and base.digest is not None:  # pinned by digest: the version is not written
            yield Unknown(stage, f"the runtime stage of '{deployment.name}' is FROM {base.raw}, pinned by digest "
                                 f"alone; add the tag beside it (node:<version>@sha256:...) to compare it with {wanted}")
            continue
        tag = base.tag or "latest"
        repository = base.repository.rsplit("/", 1)[-1]
        major = tag.split("-")[0].split(".")[0]
        agrees = repository == "node" and major == str(statement.value) and (family is None or family in tag.split("-")[1:])
        shown = f"{repository}:{tag}"
        if agrees:
            yield Pass(stage, f"the runtime stage is FROM {shown}, as {said(facts, statement, wanted)}")
        else:
            yield Fail(stage, f"the runtime stage of '{deployment.name}' is FROM {shown}, but "
                              f"{said(facts, statement, wanted)}; build FROM {wanted} or correct the document",
                       related=[at(facts, statement)])
    if not compared:
        yield from _chosen_at_build_time(project, wanted)


def _chosen_at_build_time(project: Project, wanted: str) -> Iterator[Outcome]:
    """No app image to compare, but a Dockerfile whose runtime image is chosen at build time
    (``FROM $BASE``, no default): it may be the app's, and what it runs is unknown, so the
    promise is not checked. Its role stays what the model infers (the app's controls are not
    asked of a worker or a database image because its base is a variable)."""
    for dockerfile in project.dockerfiles:
        final = dockerfile.final_stage
        if final is not None and not dockerfile.lineage(final)[0].base.resolved:
            yield Unknown(final, f"the runtime stage of '{dockerfile.path}' is FROM "
                                 f"{dockerfile.lineage(final)[0].base.raw}, resolved only at build time; "
                                 f"if it is the app's image, it cannot be compared with {wanted}")
