from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.dockerfile._helpers import effective_user, is_root_user
from auditor.findings import Fail, Outcome, Pass
from auditor.model.dockerfile import Dockerfile, Stage
from auditor.params import Params

ID = "DF008"
NODES = "dockerfile.final_stage"


def check(stage: Stage, doc: Dockerfile, params: Params) -> Iterator[Outcome]:
    if stage.base.is_scratch and not stage.instructions:
        return
    user = effective_user(doc, stage)
    if user is None:
        yield Fail(stage, f"final {stage.label} has no USER, so the container runs as root; "
                          f"add USER {params['uid']} (or a named non-root user) after the last step that needs root")
    elif is_root_user(user):
        yield Fail(user, f"final {stage.label} ends as USER {user.arguments.strip()}; "
                         f"add USER {params['uid']} after the last step that needs root")
    else:
        yield Pass(user, f"final {stage.label} runs as USER {user.arguments.strip()}")
