from __future__ import annotations

import posixpath
from collections.abc import Iterator

from auditor.checks.nextjs._helpers import config_name, in_app
from auditor.findings import Fail, Outcome, Pass, Unknown
from auditor.model.deployment import deployments_of
from auditor.model.dockerfile import Instruction
from auditor.model.nextjs import NextApp
from auditor.model.project import Project
from auditor.params import Params

ID = "NX001"
NODES = "document"
_STANDALONE = ".next/standalone"


def check(project: Project, params: Params) -> Iterator[Outcome]:
    app_dirs = {app.dir for app in project.next_apps}
    system, present = deployments_of(project), {d.path for d in project.dockerfiles}
    for app in project.next_apps:
        # the deployment model links apps to the Dockerfiles that build them
        dockerfiles = [d for d in system.dockerfiles_for(app) if d.path in present]
        copies = [instruction for dockerfile in dockerfiles
                  for instruction in dockerfile.instructions
                  if _copies_standalone_of(instruction, app, dockerfile.directory, app_dirs)]
        # A build that does not use .next/standalone does not need it; with no Dockerfile at
        # all, the reference architecture (a standalone server in a container) is the yardstick.
        if dockerfiles and not copies:
            continue
        yield from _check_app(app, copies)


def _check_app(app: NextApp, copies: list[Instruction]) -> Iterator[Outcome]:
    copied_at = f"{copies[0].span.path}:{copies[0].span.line}" if copies else ""
    why = (f"{copied_at} copies {_STANDALONE}, which `next build` only writes"
           if copies else "the standalone server build is only written")
    config = app.config
    if config is None:
        yield Fail(app, f"{in_app(app, 'next.config.js')} is missing; {why} with "
                        "output: 'standalone', so create it with that setting", related=copies)
        return
    if not config.statically_readable:  # unknown is not absent: the control is "not checked"
        yield Unknown(config, f"{config_name(app)} {config.reason or 'is not statically readable'}")
        return
    output = config.get("output")
    if output is not None and output.value == "standalone":
        yield Pass(output, f"output: 'standalone' in {config_name(app)}")
    elif output is None:
        yield Fail(config, f"{config_name(app)} does not set output; {why} with "
                           "output: 'standalone', so add it to this object", related=copies)
    else:
        shown = repr(output.value) if output.literal else "a computed value"
        yield Fail(output, f"output is {shown}; {why} with output: 'standalone', so set it here",
                   related=copies)


def _copies_standalone_of(instruction: Instruction, app: NextApp, context: str, app_dirs: set[str]) -> bool:
    if instruction.keyword not in ("COPY", "ADD"):
        return False
    sources = list(instruction.exec_args or instruction.arguments.split())[:-1]  # last: target
    if not any(_STANDALONE in source for source in sources):
        return False
    # A monorepo Dockerfile naming apps/web/.next/standalone is about apps/web only; its paths
    # are relative to the build context, taken to be the Dockerfile's folder.
    named = set()
    for source in sources:
        if _STANDALONE not in source:
            continue
        # /repo/apps/web/.next/standalone in the builder names apps/web: try each tail of the
        # path before .next/standalone against the app folders below the context
        parts = [part for part in source.partition(_STANDALONE)[0].split("/") if part not in ("", ".")]
        for start in range(len(parts)):
            folder = posixpath.join(context, *parts[start:]) if context else "/".join(parts[start:])
            if folder in app_dirs:
                named.add(folder)
                break
    return not named or app.dir in named
