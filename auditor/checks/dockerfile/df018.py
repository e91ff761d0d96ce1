from __future__ import annotations

from collections.abc import Iterator

from auditor.findings import Fail, Outcome, Pass
from auditor.model.dockerfile import Dockerfile, Stage
from auditor.params import Params

ID = "DF018"
NODES = "dockerfile.final_stage"


def check(final: Stage, doc: Dockerfile, params: Params) -> Iterator[Outcome]:
    node_env = doc.variables(final).get("NODE_ENV")
    if node_env is None or node_env.kind == "ARG":
        note = " (an ARG does not reach the running container)" if node_env else ""
        yield Fail(node_env or final, f"final {final.label} does not set ENV NODE_ENV{note}; "
                                      "add ENV NODE_ENV=production")
    elif node_env.value != "production":
        yield Fail(node_env, f"final {final.label} sets NODE_ENV={node_env.value}; "
                             "set ENV NODE_ENV=production")
    else:
        yield Pass(node_env, f"final {final.label} runs with NODE_ENV=production")
