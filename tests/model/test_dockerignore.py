"""Docker's .dockerignore matching: `**`, negation, folder prefixes, last match wins."""
from __future__ import annotations

from auditor.model.dockerignore import parse_dockerignore


def test_patterns_match_as_docker_does() -> None:
    ignore = parse_dockerignore("# build junk\nnode_modules\n/.git/\n**/*.log\n.env*\n!.env.example\n.next\n", ".dockerignore")
    assert ignore.excludes("node_modules") and ignore.excludes("node_modules/react/index.js")
    assert ignore.excludes(".git/HEAD")
    assert ignore.excludes("logs/a/b.log") and ignore.excludes("b.log")
    assert ignore.excludes(".env") and ignore.excludes(".env.production")
    assert not ignore.excludes(".env.example")  # re-included by the negation
    assert ignore.pattern_for(".env.example").span.line == 6
    assert not ignore.excludes("src/node_modules_helper.ts")
    assert ignore.excludes(".next/cache")
