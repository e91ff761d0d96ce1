"""One answer for a Dockerfile's npm installs (auditor.model.dockerfile.install_steps), read by
DF005-DF007 and by the npm-audit runner (``--omit=dev`` when no devDependency ships)."""
from __future__ import annotations

import pytest

from auditor.model.dockerfile import Dockerfile, install_steps, omits_dev_dependencies
from auditor.parsers.dockerfile import parse_dockerfile


def _dockerfile(text: str) -> Dockerfile:
    parsed, problems = parse_dockerfile(text, "Dockerfile")
    assert not problems
    return parsed


def test_install_steps_name_each_install_its_stage_and_whether_it_ships() -> None:
    doc = _dockerfile("FROM node:20 AS deps\nRUN npm ci\nFROM node:20 AS builder\n"
                      "COPY --from=deps /app/node_modules ./node_modules\nRUN npm run build\n"
                      "FROM node:20 AS runner\nRUN npm ci --omit=dev\n")
    steps = [(s.stage.name, s.command.subcommand, s.production_only, s.ships) for s in install_steps(doc)]
    assert steps == [("deps", "ci", False, False), ("runner", "ci", True, True)]


@pytest.mark.parametrize(("text", "expected"), [
    ("FROM node:20\nRUN npm ci --omit=dev\n", True),
    ("FROM node:20\nENV NODE_ENV=production\nRUN npm ci\n", True),
    ("FROM node:20\nRUN npm ci\n", False),
    # the full install stays in a build stage, the runner copies the standalone output only
    ("FROM node:20 AS deps\nRUN npm ci\nFROM node:20\nCOPY --from=deps /app/.next/standalone ./\n", True),
    # the full install's node_modules reach the final image
    ("FROM node:20 AS deps\nRUN npm ci\nFROM node:20\nCOPY --from=deps /app/node_modules ./node_modules\n", False),
    ("FROM node:20\nRUN npm install -g pnpm\n", False),  # a global tool is no dependency install
])
def test_omits_dev_dependencies(text: str, expected: bool) -> None:
    assert omits_dev_dependencies(_dockerfile(text)) is expected


def test_a_runs_npm_commands_are_its_commands_that_run_npm_in_order() -> None:
    """``ShellView.npm`` (kept with the RUN's parsed commands, per RUN text) is what reading every
    command's name gives: through wrappers, both branches, ``sh -c`` and the exec form."""
    from auditor.model.dockerfile import npm_commands

    doc = _dockerfile("FROM node:20\n"
                      "RUN apk add curl && npm ci --omit=dev && /usr/bin/npm cache clean --force\n"
                      "RUN if [ -f yarn.lock ]; then yarn; else env NODE_ENV=production npm install; fi\n"
                      "RUN sh -c 'npm run build' && sudo -E npm prune --omit=dev\n"
                      "RUN [\"npm\", \"test\"]\nRUN echo npm\nCMD [\"npm\", \"start\"]\n")
    for instruction in doc.instructions:
        expected = [command for command in instruction.commands if command.name == "npm"]
        assert list(instruction.shell.npm) == expected
        assert [n.command for n in npm_commands(instruction)] == expected
        assert all(n.instruction is instruction for n in npm_commands(instruction))
    assert [n.subcommand for i in doc.instructions for n in npm_commands(i)] == \
        ["ci", "cache", "install", "run", "prune", "test"]
