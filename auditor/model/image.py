"""Container image references."""
from __future__ import annotations

import re
from functools import lru_cache
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass
else:
    from auditor.record import dataclass

_DIGEST = re.compile(r"@(sha256:[0-9a-fA-F]{64})$")


@dataclass(frozen=True, slots=True)
class ImageRef:
    """``[registry/]repository[:tag][@digest]``, split the way Docker and the container runtime
    read it; shared by the Dockerfile's ``FROM``, compose ``image:`` and Kubernetes ``image:``."""

    raw: str
    registry: str | None
    repository: str
    tag: str | None
    digest: str | None
    resolved: bool = True  # False when an ARG in FROM had no default we could substitute

    @property
    def name(self) -> str:
        """The last path segment of the repository: ``node`` for ``docker.io/library/node``."""
        return self.repository.rsplit("/", 1)[-1]

    @property
    def is_templated(self) -> bool:
        """Variable substitution (``$IMAGE``, ``${TAG}``) resolved outside the file."""
        return "$" in self.raw

    @property
    def is_scratch(self) -> bool:
        return self.repository == "scratch"

    @classmethod
    def parse(cls, text: str, resolved: bool = True) -> ImageRef:
        """The reference as the runtime splits it. Pure and immutable, so one object per distinct
        text is shared (a manifest of thousands of Pods names a few images thousands of times)."""
        return _parse(text, resolved)


# Bounded: a tree naming more distinct images than this only parses the overflow again.
PARSE_CACHE_SIZE = 4096


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def _parse(text: str, resolved: bool) -> ImageRef:
    rest, digest = text, None
    match = _DIGEST.search(rest)
    if match:
        digest, rest = match.group(1), rest[: match.start()]
    elif "@" in rest:
        rest, digest = rest.split("@", 1)
    registry = None
    first, _, remainder = rest.partition("/")
    # A first segment with a dot, a colon or "localhost" is a registry host, not a namespace.
    if remainder and ("." in first or ":" in first or first == "localhost"):
        registry, rest = first, remainder
    repository, tag = rest, None
    last_slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > last_slash:
        repository, tag = rest[:colon], rest[colon + 1:]
    return ImageRef(text, registry, repository.lower() if repository else repository, tag or None,
                    digest, resolved)
