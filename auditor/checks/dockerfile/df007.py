from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterator

from auditor.checks.dockerfile._helpers import normalized, stage_npm_commands, unreadable_runs
from auditor.findings import Fail, Outcome, Pass
from auditor.model.dockerfile import Dockerfile, Instruction, Stage
from auditor.params import Params

ID = "DF007"
NODES = "document"
LOCKFILES = ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml")


def copies(instruction: Instruction, file_name: str) -> bool:
    """Whether a COPY/ADD source (``package*.json`` globs included) names the file."""
    return any(fnmatch.fnmatchcase(file_name, posixpath.basename(normalized(source)))
               for source in instruction.copy_sources)


def copies_whole_context(instruction: Instruction) -> bool:
    return "from" not in instruction.flags and any(normalized(s) in (".", "*") for s in instruction.copy_sources)


def check_install(doc: Dockerfile, stage: Stage, install: Instruction) -> Outcome:
    """Walk what the stage (and the stages it is built FROM) copied before the install."""
    manifest = lockfile = None
    for instruction in doc.inherited_instructions(stage):
        if instruction is install:
            break
        if instruction.keyword not in ("COPY", "ADD"):
            continue
        if copies_whole_context(instruction) and not (manifest and lockfile):
            return Fail(instruction, f"'{instruction.source.strip()}' comes before package.json and the "
                                     "lockfile are copied on their own, so every source edit reinstalls "
                                     "dependencies; add COPY package.json package-lock.json ./ above it")
        manifest = manifest or (instruction if copies(instruction, "package.json") else None)
        lockfile = lockfile or (instruction if any(copies(instruction, n) for n in LOCKFILES) else None)
    if manifest and lockfile:
        return Pass(lockfile, f"package.json and the lockfile are copied before the install in {stage.label}")
    missing = "the lockfile" if manifest else "package.json and the lockfile"
    return Fail(manifest or install, f"{stage.label} installs dependencies without copying {missing} "
                                     "first; COPY package.json package-lock.json ./ before this RUN")


def check(doc: Dockerfile, params: Params) -> Iterator[Outcome]:
    for stage in doc.stages:
        installs = [c.instruction for c in stage_npm_commands(doc, stage) if c.installs_dependencies]
        if installs:
            yield check_install(doc, stage, installs[0])
    yield from unreadable_runs(doc, "npm")
