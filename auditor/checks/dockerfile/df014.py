from __future__ import annotations

from collections.abc import Iterator

from auditor.findings import Fail, Outcome, Pass
from auditor.model.dockerfile import Dockerfile, Stage
from auditor.params import Params

ID = "DF014"
NODES = "dockerfile.final_stage"


def check(final: Stage, doc: Dockerfile, params: Params) -> Iterator[Outcome]:
    healthcheck = doc.last_inherited(final, "HEALTHCHECK")
    if healthcheck is None:
        yield Fail(final, f"final {final.label} has no HEALTHCHECK; add one probing the app, e.g. "
                          "HEALTHCHECK CMD wget -qO- http://127.0.0.1:3000/api/health || exit 1")
    elif healthcheck.arguments.strip().upper() == "NONE":
        yield Fail(healthcheck, "HEALTHCHECK NONE switches the health check off; replace it with "
                                "HEALTHCHECK CMD probing /api/health")
    else:
        yield Pass(healthcheck, f"final {final.label} has HEALTHCHECK {' '.join(healthcheck.arguments.split())}")
