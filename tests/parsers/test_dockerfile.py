"""The Dockerfile parser and model: stages, ARG resolution, inheritance, RUN commands."""
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


def argvs(instruction) -> list[tuple[str, ...]]:
    return [command.argv for command in instruction.commands]


def test_run_commands_are_parsed_through_flags_continuations_and_heredocs() -> None:
    doc = parse(THREE_STAGES)
    install = doc.stages[1].last("RUN")
    assert argvs(install) == [("npm", "ci", "--omit=dev"), ("npm", "cache", "clean", "--force")]
    # positions are Dockerfile lines and columns, through the flags and the continuation
    assert [(c.line, c.column) for c in install.commands] == [(9, 5), (9, 26)]
    heredoc_run = doc.stages[2].last("RUN")
    assert argvs(heredoc_run) == [("apk", "add", "--no-cache", "git"), ("echo", "a && b"), ("tee", "out")]
    assert [c.line for c in heredoc_run.commands] == [13, 14, 14]


def test_exec_form_run_is_one_command() -> None:
    doc = parse('FROM node:20-alpine\nRUN ["npm", "ci"]\n')
    (command,) = doc.stages[0].last("RUN").commands
    assert command.argv == ("npm", "ci") and command.line == 2


def test_exec_form_shell_runs_its_script() -> None:
    doc = parse('FROM node:20-alpine\nRUN ["/bin/sh", "-ec", "cd /app && npm ci"]\n')
    assert argvs(doc.stages[0].last("RUN")) == [("/bin/sh", "-ec", "cd /app && npm ci"), ("cd", "/app"), ("npm", "ci")]


CANONICAL = """\
FROM node:20-alpine AS deps
COPY package.json yarn.lock* package-lock.json* pnpm-lock.yaml* ./
RUN \\
  if [ -f yarn.lock ]; then yarn --frozen-lockfile; \\
  # a comment line inside the continuation, dropped by Docker
  elif [ -f package-lock.json ]; then npm ci; \\
  elif [ -f pnpm-lock.yaml ]; then corepack enable pnpm && pnpm i --frozen-lockfile; \\
  else echo "Lockfile not found." && exit 1; \\
  fi
"""


def test_lockfile_chain_gives_every_branch_with_its_position() -> None:
    run = parse(CANONICAL).stages[0].last("RUN")
    found = {c.argv: (c.line, c.column, c.branch_phrase()) for c in run.commands}
    assert found[("npm", "ci")] == (6, 39, "in the elif [ -f package-lock.json ] branch")
    assert found[("yarn", "--frozen-lockfile")] == (4, 29, "in the if [ -f yarn.lock ] branch")
    assert found[("pnpm", "i", "--frozen-lockfile")][:2] == (7, 60)
    assert found[("exit", "1")][2] == "in the else branch of if [ -f yarn.lock ]"
    assert run.shell.problems == ()


def test_bare_heredoc_runs_as_a_script_unless_its_shebang_says_otherwise() -> None:
    doc = parse("FROM alpine:3.20\nRUN <<EOF\nset -e\napk add --no-cache git\nEOF\n"
                "RUN <<EOF\n#!/usr/bin/env python3\nprint('apk add x')\nEOF\n"
                "RUN <<EOF\n#!/bin/bash\nif true; then npm ci; fi\nEOF\n")
    shell_script, python_script, bash_script = doc.stages[0].all("RUN")
    assert argvs(shell_script) == [("set", "-e"), ("apk", "add", "--no-cache", "git")]
    assert shell_script.commands[1].line == 4
    assert argvs(python_script) == []
    assert argvs(bash_script) == [("true",), ("npm", "ci")]


def test_heredoc_fed_to_a_shell_is_parsed_and_a_data_heredoc_is_not() -> None:
    doc = parse("FROM alpine:3.20\nRUN bash -e <<'SCRIPT'\nnpm ci\nSCRIPT\n"
                "RUN cat <<EOF > /etc/motd\nnpm install is not run here\nEOF\n")
    fed, data = doc.stages[0].all("RUN")
    assert argvs(fed) == [("bash", "-e"), ("npm", "ci")] and fed.commands[1].line == 3
    assert argvs(data) == [("cat",)]


def test_unparsable_run_is_reported_with_its_line() -> None:
    run = parse("FROM alpine:3.20\nRUN if then npm ci; fi; (\n").stages[0].last("RUN")
    assert run.shell.problems and run.shell.problems[0][0] == 2
    assert run.unreadable_shell("npm") and run.unreadable_shell("apk") is None


def test_empty_lines_and_comments_inside_a_continuation_map_to_their_lines() -> None:
    doc = parse("FROM alpine:3.20\nRUN --mount=type=cache,target=/var/cache/apk \\\n"
                "    # why\n    apk add git \\\n    && apk add curl\n")
    assert [(c.argv[-1], c.line, c.column) for c in doc.stages[0].last("RUN").commands] == [
        ("git", 4, 5), ("curl", 5, 8)]


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


def test_empty_line_inside_a_continuation_does_not_end_the_run() -> None:
    # BuildKit skips an empty continuation line (with a warning); the RUN goes on to `fi`.
    text = ("FROM node:20-alpine\nRUN \\\n  if [ -f yarn.lock ]; then yarn --frozen-lockfile; \\\n\n"
            "  elif [ -f package-lock.json ]; then npm ci; \\\n  \n  fi\nUSER node\n")
    doc = parse(text)
    run = doc.stages[0].last("RUN")
    assert run.span.line == 2 and run.span.end_line == 7
    assert [(c.argv, c.line) for c in run.commands] == [(("yarn", "--frozen-lockfile"), 3), (("npm", "ci"), 5)]
    assert doc.stages[0].last("USER").span.line == 8


def test_heredoc_marker_before_the_command_is_read_as_its_stdin() -> None:
    run = parse("FROM alpine:3.20\nRUN <<EOT sh -e\napk add --no-cache git\nEOT\n").stages[0].last("RUN")
    assert run.shell.problems == ()
    assert [(c.argv, c.line, c.column) for c in run.commands] == [
        (("sh", "-e"), 2, 11), (("apk", "add", "--no-cache", "git"), 3, 1)]
