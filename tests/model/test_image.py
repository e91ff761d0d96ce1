"""auditor.model.image: references parsed once per distinct text, within a bound."""
from __future__ import annotations

from auditor.model.image import PARSE_CACHE_SIZE, ImageRef, _parse


def test_the_same_text_is_one_shared_reference():
    first = ImageRef.parse("ghcr.io/acme/web:1.4@sha256:" + "a" * 64)
    again = ImageRef.parse("ghcr.io/acme/web:1.4@sha256:" + "a" * 64)
    assert again is first
    assert (first.registry, first.repository, first.tag, first.digest) == \
        ("ghcr.io", "acme/web", "1.4", "sha256:" + "a" * 64)


def test_resolved_is_part_of_what_is_shared():
    resolved, unresolved = ImageRef.parse("node:$TAG"), ImageRef.parse("node:$TAG", resolved=False)
    assert resolved.resolved and not unresolved.resolved
    assert ImageRef.parse("node:$TAG", resolved=False) is unresolved


def test_the_shared_references_are_bounded():
    for index in range(PARSE_CACHE_SIZE + 50):
        assert ImageRef.parse(f"registry.example.com/app{index}:1").repository == f"app{index}"
    assert _parse.cache_info().currsize <= PARSE_CACHE_SIZE
    # one parsed again after it left the cache equals the first parse
    assert ImageRef.parse("registry.example.com/app0:1") == ImageRef("registry.example.com/app0:1",
                                                                     "registry.example.com", "app0", "1", None)
