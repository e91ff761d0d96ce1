from __future__ import annotations

import re
from collections.abc import Iterator

from auditor.findings import Fail, Outcome, Pass
from auditor.model.dockerfile import Dockerfile, Instruction
from auditor.params import Params

ID = "DF012"
NODES = "dockerfile.instruction"
KEYWORDS = frozenset({"CMD", "ENTRYPOINT"})


def check(instruction: Instruction, doc: Dockerfile, params: Params) -> Iterator[Outcome]:
    if instruction.keyword not in KEYWORDS:  # the engine calls it for these only (auditor/dispatch.py)
        return
    written = " ".join(instruction.arguments.split())
    if instruction.exec_form:
        yield Pass(instruction, f"{instruction.keyword} {written} is in exec form")
        return
    why = "is not a valid JSON array" if written.startswith("[") else "is in shell form"
    words = re.sub(r"[\"',\[\]]", " ", written).split()
    suggestion = ", ".join(f'"{w}"' for w in words) or '"node", "server.js"'
    yield Fail(instruction, f"{instruction.keyword} {written} {why}, so /bin/sh becomes PID 1 and "
                            f"SIGTERM never reaches the app; write {instruction.keyword} [{suggestion}]")
