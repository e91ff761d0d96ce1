"""The DF checks' shared helpers: npm commands, shipping stages, whole-tree copies."""
from __future__ import annotations

from auditor.checks.dockerfile._helpers import (carries_node_modules, ends_with, installs_production_only,
                                                npm_commands, shipping_stages, stage_npm_commands)
from auditor.model.dockerfile import Dockerfile
from auditor.parsers.dockerfile import parse_dockerfile

REFERENCE = """\
FROM node:20-alpine AS deps
WORKDIR /app
RUN npm ci --omit=dev
FROM node:20-alpine AS builder
WORKDIR /app
RUN npm ci && npm run build
FROM node:20-alpine AS runner
COPY --from=deps /app/node_modules ./node_modules
COPY --from=builder /app/.next/standalone ./
"""


def parse(text: str) -> Dockerfile:
    doc, problems = parse_dockerfile(text, "Dockerfile")
    assert problems == []
    return doc


def test_npm_commands_see_aliases_wrappers_and_inline_env() -> None:
    doc = parse("FROM node:20-alpine\nRUN sudo NODE_ENV=production npm i && npm install -g pm2 && npm ci\n")
    commands = list(npm_commands(doc.stages[0].last("RUN")))
    assert [c.subcommand for c in commands] == ["i", "install", "ci"]
    assert commands[0].is_install and commands[0].production_only
    assert not commands[1].is_install  # a global tool
    assert commands[2].is_clean_install and not commands[2].production_only


def test_production_only_spellings() -> None:
    for flags in ("--omit=dev", "--omit dev", "--only=production", "--production"):
        doc = parse(f"FROM node:20-alpine\nRUN npm ci {flags}\n")
        assert next(npm_commands(doc.stages[0].last("RUN"))).production_only, flags


def test_prune_after_the_install_counts_as_production_only() -> None:
    doc = parse("FROM node:20-alpine\nRUN npm ci && npm run build\nRUN npm prune --omit=dev\n")
    stage = doc.stages[0]
    assert installs_production_only(doc, stage, next(stage_npm_commands(doc, stage)))


def test_shipping_stages_follow_node_modules_copies_not_standalone_output() -> None:
    doc = parse(REFERENCE)
    assert [s.name for s in shipping_stages(doc)] == ["deps", "runner"]


def test_whole_tree_and_node_modules_sources() -> None:
    doc = parse(REFERENCE)
    builder = doc.stages[1]
    assert carries_node_modules(doc, builder, "/app/")
    assert carries_node_modules(doc, builder, "/app/node_modules")
    assert not carries_node_modules(doc, builder, "/app/.next/standalone")
    assert ends_with("/app/.next/static/", ".next/static") and not ends_with("/app/xpublic", "public")
