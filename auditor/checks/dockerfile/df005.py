from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.dockerfile._helpers import (installs_production_only, shipping_stages,
                                                stage_npm_commands, unreadable_runs)
from auditor.findings import Fail, Outcome, Pass
from auditor.model.dockerfile import Dockerfile
from auditor.params import Params

ID = "DF005"
NODES = "document"


def check(doc: Dockerfile, params: Params) -> Iterator[Outcome]:
    shipping = {stage.index for stage in shipping_stages(doc)}
    for stage in doc.stages:
        for command in stage_npm_commands(doc, stage):
            if command.is_install:
                yield Fail(command.instruction, f"{stage.label} runs {command.text}, which can rewrite "
                                                "the lockfile and install other versions; use npm ci here")
            elif not command.is_clean_install:
                continue
            else:
                production = installs_production_only(doc, stage, command)  # asked once per install
                if stage.index in shipping and not production:
                    # A builder's full install is legitimate: only what reaches the final image
                    # must leave out devDependencies.
                    yield Fail(command.instruction, f"{stage.label} ends up in the final image but runs "
                                                    f"{command.text} with devDependencies; add --omit=dev")
                else:
                    kind = "production-only " if production else ""
                    yield Pass(command.instruction, f"{stage.label} uses {kind}{command.text}")
    yield from unreadable_runs(doc, "npm")
