from __future__ import annotations

from collections.abc import Iterator

from auditor.findings import Fail, Outcome, Pass
from auditor.model.dockerfile import Dockerfile, Stage
from auditor.params import Params

ID = "DF001"
NODES = "dockerfile.final_stage"


def check(final: Stage, doc: Dockerfile, params: Params) -> Iterator[Outcome]:
    minimum = params["min_stages"]
    count = len(doc.stages)
    if count < minimum:
        yield Fail(final, f"the Dockerfile has {count} stage(s), fewer than {minimum}; build in a "
                          "separate builder stage and copy only its output into this final stage")
        return
    copies = list(doc.copies_from_stages(final))
    if not copies:
        yield Fail(final, f"final {final.label} copies nothing from an earlier stage; add "
                          "COPY --from=<builder> for the build output instead of building here")
        return
    instruction, source = copies[0]
    yield Pass(instruction, f"{count} stages; final {final.label} copies from {source.label}")
