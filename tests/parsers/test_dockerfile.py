"""The Dockerfile parser and model: stages, ARG resolution, inheritance, shell words."""
from __future__ import annotations

from auditor.model.dockerfile import Dockerfile
from auditor.parsers.dockerfile import parse_dockerfile

THREE_STAGES = """\
ARG NODE_VERSION=20
FROM node:${NODE_VERSION}-alpine AS base
ENV NODE_ENV=production
WORKDIR /app
FROM base AS deps
ARG MODE=ci
ENV INSTALL=$MODE
RUN --mount=type=secret,id=npmrc --mount=type=cache,target=/root/.npm \\
    npm ci --omit=dev && npm cache clean --force
FROM node:20-alpine AS builder
WORKDIR src
RUN <<EOF
apk add --no-cache git
echo "a && b" | tee out # a comment
EOF
FROM deps AS runner
COPY --from=builder ["/app/.next/standalone", "./"]
COPY --chown=1001:1001 package.json package-lock.json ./
"""


def parse(text: str) -> Dockerfile:
    doc, problems = parse_dockerfile(text, "Dockerfile")
    assert problems == []
    return doc


def test_from_an_earlier_stage_records_its_parent_and_inherits_the_base() -> None:
    doc = parse(THREE_STAGES)
    base, deps, builder, runner = doc.stages
    assert base.base.raw == "node:20-alpine" and base.parent is None
    assert deps.parent == 0 and runner.parent == 1 and builder.parent is None
    assert runner.base == base.base
    assert [s.name for s in doc.lineage(runner)] == ["base", "deps", "runner"]


def test_repeated_flags_keep_every_value() -> None:
    run = parse(THREE_STAGES).stages[1].last("RUN")
    assert run.flags["mount"] == "type=secret,id=npmrc type=cache,target=/root/.npm"
    assert run.arguments.startswith("npm ci --omit=dev")


def test_shell_commands_split_at_operators_and_read_heredocs() -> None:
    doc = parse(THREE_STAGES)
    assert doc.stages[1].last("RUN").shell_commands == (
        ("npm", "ci", "--omit=dev"), ("npm", "cache", "clean", "--force"))
    heredoc_run = doc.stages[2].last("RUN")
    assert ("apk", "add", "--no-cache", "git") in heredoc_run.shell_commands
    # quoted operators stay words of the quoted string; the comment is dropped
    assert ("echo", "a && b") in heredoc_run.shell_commands
    assert ("tee", "out") in heredoc_run.shell_commands


def test_exec_form_run_is_one_command() -> None:
    doc = parse('FROM node:20-alpine\nRUN ["npm", "ci"]\n')
    assert doc.stages[0].last("RUN").shell_commands == (("npm", "ci"),)


def test_copy_operands_in_exec_and_shell_form() -> None:
    runner = parse(THREE_STAGES).stages[3]
    json_copy, shell_copy = list(runner.all("COPY"))
    assert json_copy.copy_sources == ("/app/.next/standalone",) and json_copy.copy_destination == "./"
    assert shell_copy.copy_sources == ("package.json", "package-lock.json")
    assert shell_copy.flags["chown"] == "1001:1001"


def test_variables_inherit_env_but_scope_arg_to_its_stage() -> None:
    doc = parse(THREE_STAGES)
    deps, runner = doc.stages[1], doc.stages[3]
    in_deps = doc.variables(deps)
    assert in_deps["MODE"].kind == "ARG" and in_deps["INSTALL"].value == "ci"
    in_runner = doc.variables(runner)
    assert "MODE" not in in_runner  # an ARG ends with its stage
    assert in_runner["INSTALL"].value == "ci"  # ENV expanded where it was set, then inherited
    assert in_runner["NODE_ENV"].value == "production"


def test_variables_until_an_instruction() -> None:
    doc = parse("FROM node:20-alpine\nRUN true\nENV NODE_ENV=production\n")
    stage = doc.stages[0]
    assert "NODE_ENV" not in doc.variables(stage, until=stage.last("RUN"))


def test_workdir_resolves_relative_paths_through_the_lineage() -> None:
    doc = parse(THREE_STAGES)
    assert doc.workdir(doc.stages[3]) == "/app"
    assert doc.workdir(doc.stages[2]) == "/src"


def test_copies_from_stages_ignores_images_and_later_stages() -> None:
    doc = parse("FROM node:20-alpine AS a\nFROM node:20-alpine\nCOPY --from=a /x /x\n"
                "COPY --from=nginx:1.25 /etc/nginx /etc/nginx\nCOPY --from=2 /y /y\n")
    assert [source.name for _, source in doc.copies_from_stages(doc.stages[1])] == ["a"]


def test_unresolved_arg_in_from_is_marked() -> None:
    doc = parse("ARG BASE\nFROM ${BASE}\n")
    assert doc.stages[0].base.resolved is False


def test_lowercase_instructions_and_legacy_env() -> None:
    doc = parse("from node:20-alpine as runner\nenv NODE_ENV production\n")
    assert doc.stages[0].name == "runner"
    assert doc.variables(doc.stages[0])["NODE_ENV"].value == "production"


def test_user_uid_from_adduser_useradd_numbers_and_known_image_users() -> None:
    doc = parse("FROM node:20-alpine AS base\n"
                "RUN addgroup -S -g 1001 nodejs && adduser -S -u 1001 -G nodejs nextjs\n"
                "FROM base AS runner\n"
                "RUN useradd --uid=1002 -g nodejs -m worker && adduser -D -g 'x y' nouid\n")
    runner = doc.stages[1]
    uid, created_by = doc.user_uid(runner, "nextjs")
    assert uid == "1001" and created_by is doc.stages[0].last("RUN")
    assert doc.user_uid(runner, "worker")[0] == "1002"
    assert doc.user_uid(runner, "nouid") is None
    assert doc.user_uid(runner, "node") == ("1000", None)
    assert doc.user_uid(runner, "root") == ("0", None)
    assert doc.user_uid(runner, "1001") == ("1001", None)
