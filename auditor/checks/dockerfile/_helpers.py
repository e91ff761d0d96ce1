"""Facts about a Dockerfile that several DF checks need."""
from __future__ import annotations

from collections.abc import Iterator

from auditor.findings import Unknown
from auditor.model.dockerfile import (Dockerfile, Instruction, NpmCommand, Stage,
                                      carries_node_modules, ends_with, installs_production_only,
                                      is_whole_tree, normalized, npm_commands, shipping_stages,
                                      stage_npm_commands)

# The npm and shipping-stage knowledge lives in the model (the npm-audit runner needs it too);
# re-exported so that the checks keep one import place.
__all__ = ["NpmCommand", "carries_node_modules", "effective_user", "ends_with",
           "installs_production_only", "is_root_user", "is_whole_tree", "normalized", "npm_commands",
           "shipping_stages", "stage_npm_commands", "unreadable_runs", "user_name"]
from auditor.model.user import parse_user


def user_name(instruction: Instruction) -> str:
    """The user part of ``USER name[:group]`` (read by the model: ``auditor.model.user``)."""
    return parse_user(instruction.arguments).name


def is_root_user(instruction: Instruction) -> bool:
    return parse_user(instruction.arguments).is_root


def effective_user(doc: Dockerfile, stage: Stage) -> Instruction | None:
    """The ``USER`` in force at the end of the stage (the one the container runs as); a ``USER``
    of a stage this one is built ``FROM`` carries over."""
    return doc.last_inherited(stage, "USER")


def unreadable_runs(doc: Dockerfile, *words: str) -> Iterator[Unknown]:
    """An Unknown for each ``RUN`` mentioning one of ``words`` whose shell text did not parse:
    a command the control looks for may hide in it, so it is not checked rather than passed."""
    for instruction in doc.instructions:
        reason = instruction.unreadable_shell(*words)
        if reason:
            yield Unknown(instruction, reason)
