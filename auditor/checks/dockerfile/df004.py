from __future__ import annotations

from collections.abc import Iterator

from auditor.findings import Fail, Outcome, Pass
from auditor.model.dockerfile import Dockerfile, Stage
from auditor.model.image import ImageRef
from auditor.params import Params

ID = "DF004"
NODES = "dockerfile.final_stage"
_DOCKER_HUB = ("docker.io", "index.docker.io", "registry-1.docker.io")


def repository(image: ImageRef) -> str:
    """The repository as Docker Hub knows it: ``docker.io/library/node`` -> ``node``."""
    name = image.repository.removeprefix("library/")
    return name if image.registry in (None, *_DOCKER_HUB) else f"{image.registry}/{name}"


def matches(image: ImageRef, allowed: str) -> bool:
    """Same repository; the tag's version starts with the allowed version, component by
    component (20 allows 20.11 but not 2 or 200), and its variant with the allowed variant."""
    wanted = ImageRef.parse(allowed)
    if repository(image) != repository(wanted):
        return False
    if wanted.tag is None:
        return True
    if image.tag is None:
        return False
    version, _, variant = image.tag.partition("-")
    wanted_version, _, wanted_variant = wanted.tag.partition("-")
    components, wanted_components = version.split("."), wanted_version.split(".")
    return components[: len(wanted_components)] == wanted_components and variant.startswith(wanted_variant)


def check(final: Stage, doc: Dockerfile, params: Params) -> Iterator[Outcome]:
    allowed = params["allowed"]
    image = final.base
    listed = ", ".join(allowed)
    if not image.resolved:
        yield Fail(final, f"final {final.label} base '{image.raw}' comes from a build argument without "
                          f"a default and cannot be checked against the allowed runtimes ({listed}); "
                          "give the ARG a default")
    elif any(matches(image, entry) for entry in allowed):
        yield Pass(final, f"final {final.label} runs on {image.raw}, allowed by [{listed}]")
    else:
        yield Fail(final, f"final {final.label} runs on '{image.raw}', which is not an allowed runtime "
                          f"({listed}); base the final stage on one of them")
