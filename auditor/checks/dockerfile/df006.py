from __future__ import annotations

import re
from collections.abc import Iterator

from auditor.checks.dockerfile._helpers import npm_commands, stage_npm_commands
from auditor.findings import Fail, Outcome, Pass
from auditor.model.dockerfile import Dockerfile, Instruction

ID = "DF006"
_REMOVES_CACHE = re.compile(r"\brm\s+-\S*r\S*\s+(\S*/)?(~|\$HOME|\$\{HOME\}|/root)/\.npm\b")


def cache_handling(instruction: Instruction) -> str | None:
    """How the RUN keeps the npm cache out of the layer, if it does."""
    if "type=cache" in instruction.flags.get("mount", ""):
        return "a --mount=type=cache"
    if any(c.subcommand == "cache" and "clean" in c.words for c in npm_commands(instruction)):
        return "npm cache clean --force"
    if _REMOVES_CACHE.search(instruction.command_text):
        return "removal of the ~/.npm cache"
    return None


def check(doc: Dockerfile, params: dict) -> Iterator[Outcome]:
    for stage in doc.stages:
        for command in stage_npm_commands(doc, stage):
            if not command.installs_dependencies:
                continue
            handling = cache_handling(command.instruction)
            if handling:
                yield Pass(command.instruction, f"'{command.text}' in {stage.label} with {handling}")
            else:
                yield Fail(command.instruction, f"'{command.text}' in {stage.label} leaves the npm cache "
                                                "in the layer; append '&& npm cache clean --force' to "
                                                "this RUN or use --mount=type=cache,target=/root/.npm")
