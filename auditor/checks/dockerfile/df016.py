from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.dockerfile._helpers import unreadable_runs
from auditor.findings import Fail, Outcome, Pass
from auditor.model.dockerfile import Dockerfile
from auditor.params import Params

ID = "DF016"
NODES = "document"


def check(doc: Dockerfile, params: Params) -> Iterator[Outcome]:
    for instruction in doc.instructions:
        cache_mount = "/var/cache/apk" in instruction.flags.get("mount", "")
        for command in instruction.commands:
            words = command.program
            if command.name != "apk" or "add" not in words[1:]:
                continue
            branch = command.branch_phrase()
            shown = "'" + " ".join(words) + "'" + (f" ({branch})" if branch else "")
            if "--no-cache" in words or cache_mount:
                how = "--no-cache" if "--no-cache" in words else "a cache mount on /var/cache/apk"
                yield Pass(instruction, f"{shown} keeps the package index out of the layer with {how}")
            else:
                yield Fail(instruction, f"{shown} leaves the apk index cache in the layer; "
                                        "write apk add --no-cache in this RUN")
    yield from unreadable_runs(doc, "apk")
