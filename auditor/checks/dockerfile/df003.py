from __future__ import annotations

from collections.abc import Iterator

from auditor.findings import Fail, Outcome, Pass
from auditor.model.dockerfile import Dockerfile, Stage
from auditor.params import Params

ID = "DF003"
NODES = "dockerfile.stage"


def check(stage: Stage, doc: Dockerfile, params: Params) -> Iterator[Outcome]:
    image = stage.base
    if stage.parent is not None or image.is_scratch:
        return  # FROM <earlier stage> is pinned where that stage is; scratch is no image
    if not image.resolved:
        yield Fail(stage, f"{stage.label} base image '{image.raw}' takes its tag from a build "
                          "argument without a default, so the Dockerfile does not pin it; give "
                          "the ARG a versioned default")
    elif image.digest:
        yield Pass(stage, f"{stage.label} base image pinned by digest {image.digest[:19]}...")
    elif image.tag is None or image.tag == "latest":
        shown = "the tag latest" if image.tag else "no tag (Docker pulls latest)"
        yield Fail(stage, f"{stage.label} base image '{image.raw}' has {shown}; "
                          "name a version tag, ideally with @sha256: digest, in this FROM")
    else:
        yield Fail(stage, f"{stage.label} base image '{image.raw}' is pinned by tag only, which "
                          "can be re-pointed; add its @sha256: digest to this FROM",
                   severity="info")
