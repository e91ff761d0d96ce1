"""auditor.parsers.deployment, the parts made cheaper: ``git_ignored`` (what the tree's own
``.gitignore`` files leave out of its commits, for XF005; read only when the tree has one) and
``_next_build`` (a RUN that runs ``next build``). The deployment graph itself is tested in
tests/test_deployment_model.py."""
from __future__ import annotations

from pathlib import Path

import pytest

from auditor.discovery import discover
from auditor.ignore import git_ignored
from auditor.model.deployment import deployments_of
from auditor.parsers.project import build_project
from tests.test_deployment_model import _write

FILES = {
    "Dockerfile": "FROM node:20-alpine\nCOPY . .\nUSER 1001\n",
    ".env.production": "TOKEN=x\n",
    "app/.env": "TOKEN=y\n",
    "docker-compose.yml": "services:\n  web:\n    build: .\n",
}


def test_a_tree_without_a_gitignore_ignores_nothing(tmp_path: Path) -> None:
    root = _write(tmp_path / "tree", FILES)
    project = build_project(discover([root], root))
    assert deployments_of(project).git_ignored == frozenset()
    # what the general reading says too, in a git repository above the tree or not
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("*\n")  # above the tree: never read for XF005
    assert git_ignored(root, list(project.files)) == frozenset()
    assert deployments_of(build_project(discover([root], root))).git_ignored == frozenset()


def test_the_tree_s_own_gitignore_files_are_read_at_any_depth(tmp_path: Path) -> None:
    root = _write(tmp_path / "tree", {**FILES, ".gitignore": ".env.production\n", "app/.gitignore": ".env\n"})
    project = build_project(discover([root], root))
    ignored = deployments_of(project).git_ignored
    assert ignored == git_ignored(root, list(project.files))
    assert {".env.production", "app/.env"} <= ignored and "Dockerfile" not in ignored


# --- why a Dockerfile builds a Next.js app (the words are looked for in the joined command first) ---

@pytest.mark.parametrize(("run", "found"), [
    ("npx next build", True), ("/app/node_modules/.bin/next build", True), ("next ./build", True),
    ("npm ci && npx next build --debug", True), ("next lint && npm run build", False),
    ("echo next; echo build", False), ("nextjs build", False), ("next rebuild", False),
    ("apk add --no-cache build-base", False), ("sh -c 'next build'", True),
])
def test_next_build_is_found_in_run_commands(run: str, found: bool) -> None:
    from auditor.parsers.deployment import _next_build
    from auditor.parsers.dockerfile import parse_dockerfile

    dockerfile, problems = parse_dockerfile(f"FROM node:20-alpine\nRUN {run}\n", "Dockerfile")
    assert not problems
    why = _next_build(dockerfile)
    assert (why is not None) is found, why
    if found:
        assert why == "runs `next build` (line 2)"
