"""AR004: a security scan the architecture document promises (Trivy, npm audit) that no CI workflow
or script of the tree runs."""
from __future__ import annotations

from collections.abc import Iterator
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing

from auditor.checks.architecture._document import against_document, at, runs, said
from auditor.findings import Fail, Outcome, Pass, Unknown
from auditor.model.project import Project
from auditor.params import Params

if TYPE_CHECKING:
    from auditor.architecture.document import DocumentFacts

ID = "AR004"
NODES = "document"
SCANS = {  # promise -> (what it is, how a CI line runs it)
    "scan.trivy": ("Trivy scans", r"\btrivy\b|aquasecurity/trivy-action"),
    "scan.npm_audit": ("npm audit", r"\bnpm\s+audit\b|\baudit-ci\b|\bnpm\s+run\s+audit\b"),
}


@against_document
def check(project: Project, facts: DocumentFacts, params: Params) -> Iterator[Outcome]:
    promises = facts.promises()
    for key, (what, pattern) in SCANS.items():
        statement = promises.get(key)
        if statement is None:
            continue
        unread: list[str] = []
        span = runs(project, pattern, unread)
        if span is not None:
            yield Pass(span, f"{span.path}:{span.line} runs {what}, as {said(facts, statement, what)}")
        elif unread:  # the step may be in what could not be read: unknown, not missing
            yield Unknown(at(facts, statement), f"{said(facts, statement, what)}; no CI file the audit read runs "
                                                f"them, and these could not be read: {'; '.join(unread[:5])}")
        else:
            yield Fail(at(facts, statement), f"{said(facts, statement, what)}, but no CI workflow or script "
                                             f"(.github/workflows, .gitlab-ci.yml, scripts/, Makefile, package.json) "
                                             f"runs them; add the step, or correct the document")
