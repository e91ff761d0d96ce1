from __future__ import annotations

from collections.abc import Iterator

from auditor.findings import Fail, Outcome, Pass
from auditor.model.dockerfile import Dockerfile, Stage
from auditor.model.image import ImageRef
from auditor.params import Params

ID = "DF002"
NODES = "dockerfile.stage"


def is_alpine(image: ImageRef) -> bool:
    return image.name == "alpine" or "alpine" in (image.tag or "").lower()


def check(stage: Stage, doc: Dockerfile, params: Params) -> Iterator[Outcome]:
    image = stage.base
    if stage.parent is not None or image.is_scratch:
        return  # FROM <earlier stage> is judged at that stage; scratch has no distribution
    if not image.resolved:
        yield Fail(stage, f"{stage.label} base image '{image.raw}' uses a build argument without "
                          "a default, so it cannot be verified as Alpine; give the ARG an "
                          "Alpine default such as node:20-alpine")
    elif is_alpine(image):
        yield Pass(stage, f"{stage.label} is based on {image.raw}")
    elif image.tag is None and image.digest:
        yield Fail(stage, f"{stage.label} base image '{image.raw}' is pinned by digest only, so "
                          "its distribution cannot be read; write the Alpine tag before the digest")
    else:
        yield Fail(stage, f"{stage.label} base image '{image.raw}' is not Alpine-based; "
                          "use an -alpine variant such as node:20-alpine in this FROM")
