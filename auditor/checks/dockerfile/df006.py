from __future__ import annotations

import posixpath
from collections.abc import Iterator

from auditor.checks.dockerfile._helpers import NpmCommand, stage_npm_commands, unreadable_runs
from auditor.findings import Fail, Outcome, Pass
from auditor.model.dockerfile import Dockerfile
from auditor.params import Params
from auditor.parsers.shell import ShellCommand

ID = "DF006"
NODES = "document"


def removes_npm_cache(command: ShellCommand) -> bool:
    """``rm -rf ~/.npm`` (``$HOME/.npm``, ``/root/.npm``, ``/home/node/.npm/*``, ``.../_cacache``)."""
    words = command.program
    if command.name != "rm":
        return False
    options = [w for w in words[1:] if w.startswith("-")]
    recursive = any(w == "--recursive" or not w.startswith("--") and ("r" in w or "R" in w) for w in options)
    targets = [posixpath.normpath(w.removesuffix("/*")) for w in words[1:] if not w.startswith("-")]
    return recursive and any(t.endswith((".npm", ".npm/_cacache")) for t in targets)


def cache_handling(install: NpmCommand) -> str | None:
    """How the RUN keeps the npm cache out of the layer on every path that runs the install."""
    instruction = install.instruction
    if "type=cache" in instruction.flags.get("mount", ""):
        return "a --mount=type=cache"
    for command in instruction.commands:
        if not command.runs_whenever(install.command):
            continue
        if command.name == "npm" and NpmCommand(command, instruction).subcommand == "cache" and "clean" in command.program:
            return "npm cache clean --force"
        if removes_npm_cache(command):
            return "removal of the ~/.npm cache"
    return None


def check(doc: Dockerfile, params: Params) -> Iterator[Outcome]:
    for stage in doc.stages:
        for command in stage_npm_commands(doc, stage):
            if not command.installs_dependencies:
                continue
            handling = cache_handling(command)
            if handling:
                yield Pass(command.instruction, f"{command.text} in {stage.label} with {handling}")
            else:
                yield Fail(command.instruction, f"{command.text} in {stage.label} leaves the npm cache "
                                                "in the layer; append '&& npm cache clean --force' to "
                                                "this RUN or use --mount=type=cache,target=/root/.npm")
    yield from unreadable_runs(doc, "npm")
