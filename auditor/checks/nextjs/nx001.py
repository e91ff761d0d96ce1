from __future__ import annotations

import posixpath
from collections.abc import Iterator

from auditor.checks.nextjs._helpers import config_name, in_app
from auditor.findings import Fail, Outcome, Pass
from auditor.model.dockerfile import Instruction
from auditor.model.nextjs import NextApp
from auditor.model.project import Project

ID = "NX001"
_STANDALONE = ".next/standalone"


def check(project: Project, params: dict) -> Iterator[Outcome]:
    for app in project.next_apps:
        # Dockerfiles in, above or below the app folder build it.
        dockerfiles = [d for d in project.dockerfiles if _nested(d.directory, app.dir)]
        copies = [instruction for dockerfile in dockerfiles
                  for instruction in dockerfile.instructions
                  if _copies_standalone_of(instruction, app, dockerfile.directory,
                                           project.next_apps)]
        # A build that does not use .next/standalone does not need it; with no Dockerfile at
        # all, the reference architecture (a standalone server in a container) is the yardstick.
        if dockerfiles and not copies:
            continue
        yield from _check_app(app, copies)


def _check_app(app: NextApp, copies: list[Instruction]) -> Iterator[Outcome]:
    where = f"{copies[0].span.path}:{copies[0].span.line}" if copies else ""
    why = (f"{where} copies {_STANDALONE}, which `next build` only writes"
           if copies else "the standalone server build is only written")
    config = app.config
    if config is None:
        yield Fail(app, f"{in_app(app, 'next.config.js')} is missing; {why} with "
                        "output: 'standalone', so create it with that setting", related=copies)
        return
    if not config.statically_readable:
        return  # the Note on the config says why it could not be checked
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


def _copies_standalone_of(instruction: Instruction, app: NextApp, context: str,
                          apps: tuple[NextApp, ...]) -> bool:
    if instruction.keyword not in ("COPY", "ADD"):
        return False
    sources = list(instruction.exec_args or instruction.arguments.split())[:-1]  # last: target
    if not any(_STANDALONE in source for source in sources):
        return False
    # A monorepo Dockerfile naming apps/web/.next/standalone is about apps/web only; its paths
    # are relative to the build context, taken to be the Dockerfile's folder.
    named = [other.dir for other in apps
             if (inside := _inside(other.dir, context))
             and any(f"{inside}/{_STANDALONE}" in source for source in sources)]
    return not named or app.dir in named


def _inside(folder: str, context: str) -> str:
    """``folder`` relative to ``context``, or '' when it is not strictly below it."""
    if context and not folder.startswith(context + "/"):
        return ""
    return folder[len(context) + 1:] if context else folder


def _nested(first: str, second: str) -> bool:
    """Either folder contains the other ('' is the scan root)."""
    if not first or not second:
        return True
    return posixpath.commonpath([first, second]) in (first, second)
