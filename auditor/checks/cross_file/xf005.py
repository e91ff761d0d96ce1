from __future__ import annotations

from collections.abc import Iterator

from auditor.findings import Fail, Outcome, Pass
from auditor.model.deployment import BuildContext, SystemModel, deployments_of
from auditor.model.project import Project
from auditor.model.span import Span
from auditor.params import Params, fnmatcher

ID = "XF005"
NODES = "document"


def check(project: Project, params: Params) -> Iterator[Outcome]:
    model = deployments_of(project)
    patterns, allowed = list(params["patterns"]), list(params["allowed"])
    secret, template = fnmatcher(patterns), fnmatcher(allowed)
    secrets = [path for path in project.files
               if secret(name := path.rpartition("/")[2]) and not template(name)]
    for path in secrets:
        committed = path not in model.git_ignored
        contexts = [context for context in model.build_contexts if context.sends(path)]
        if committed or contexts:
            yield _fail(path, committed, contexts)
    if not any(path not in model.git_ignored or any(c.sends(path) for c in model.build_contexts)
               for path in secrets):
        yield from _passes(model, patterns)


def _fail(path: str, committed: bool, contexts: list[BuildContext]) -> Fail:
    """Anchored at the secret file (it is what must go); the build contexts that send it, through
    their .dockerignore (else the Dockerfile), are the related locations."""
    problems, fixes = [], []
    if committed:
        problems.append("is committed (no .gitignore leaves it out)")
        fixes += ["delete it from the repository and its history", "rotate what it holds"]
    for context in contexts:
        folder = f"'{context.directory}/'" if context.directory else "(the scan root)"
        problems.append(f"is sent in the build context {folder} of {context.dockerfile.path}")
    if contexts:
        fixes.append(f"exclude it in {'.dockerignore' if any(c.dockerignore for c in contexts) else 'a .dockerignore'}")
    fix = ", ".join(fixes[:-1]) + (" and " if len(fixes) > 1 else "") + fixes[-1]
    related = [c.dockerignore or c.dockerfile for c in contexts]
    return Fail(Span(path, 1), f"secret file {path} {' and '.join(problems)}; {fix}",
                related=related)


def _passes(model: SystemModel, patterns: list[str]) -> Iterator[Outcome]:
    shown = ", ".join(patterns)
    for context in model.build_contexts:
        if context.dockerignore is not None:
            yield Pass(context.dockerignore, f"no secret file ({shown}) is committed or reaches the build "
                                             f"context of {context.dockerfile.path}")
        else:
            yield Pass(context.dockerfile, f"no secret file ({shown}) in the tree or the build context of "
                                           f"{context.dockerfile.path}")
