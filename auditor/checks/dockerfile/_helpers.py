"""Facts about a Dockerfile that several DF checks need."""
from __future__ import annotations

from auditor.model.dockerfile import Instruction, Stage

ROOT_USERS = frozenset({"root", "0", "root:root", "0:0"})


def user_name(instruction: Instruction) -> str:
    """The user part of ``USER name[:group]``."""
    return instruction.arguments.strip().split(":", 1)[0]


def is_root_user(instruction: Instruction) -> bool:
    return user_name(instruction) in ("root", "0")


def effective_user(stage: Stage) -> Instruction | None:
    """The ``USER`` in force at the end of the stage (the one the container runs as)."""
    return stage.last("USER")
