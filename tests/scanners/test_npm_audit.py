"""npm audit, run with the real npm CLI against a local advisory server (the public registry's
advisory endpoint is not reachable from these machines). The tests point npm at the server the
way a user would: npm_config_registry in the environment (the tree's .npmrc is never read)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.scanners import ScannerOptions, ScannerRun, run_scanners
from auditor.scanners.npm_audit import omit_dev_for
from tests.scanners.helpers import LODASH_PROJECT, copy_project, needs_npm, tree_listing, write_stub

pytestmark = needs_npm


def npm_runs(root: Path, lockfiles: list[str], **options: object) -> list[ScannerRun]:
    """Only the npm audit runs: Trivy is pointed at a path that does not exist (fast SC004)."""
    runs = run_scanners(root, lockfiles, ScannerOptions(trivy_path="/nonexistent/trivy", **options))
    return [run for run in runs if run.scanner == "npm audit"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(LODASH_PROJECT, tmp_path / "project")


def test_advisories_become_sc003_with_fix_and_dependency_path(project, tmp_path, advisory_server, monkeypatch):
    monkeypatch.setenv("npm_config_registry", advisory_server.url)  # the user's npm configuration
    before = tree_listing(project)
    (run,) = npm_runs(project, ["package-lock.json"], cache_dir=str(tmp_path / "cache"))
    assert tree_listing(project) == before, "npm audit wrote into the audited tree"
    assert run.error is None and run.version and run.binary_sha256
    assert "--registry" not in run.command  # the registry stays the user's
    assert advisory_server.bulk_requests[0]["lodash"] == ["4.17.15"]

    by_package = {f.properties["package"]: f for f in run.findings}
    assert set(by_package) == {"lodash", "minimist"}
    lodash = by_package["lodash"]
    assert (lodash.rule_id, lodash.severity) == ("SC003", "high")
    assert lodash.title == "lodash 4.17.15: Prototype Pollution in lodash (GHSA-p6mc-m468-83gw)"
    assert (lodash.span.path, lodash.span.line) == ("package-lock.json", 33)
    assert lodash.identity == "npm-audit:GHSA-p6mc-m468-83gw:lodash:package-lock.json"
    assert lodash.properties["fixed"] == "4.17.21"  # from the packument the server answered
    assert lodash.properties["vulnerable_range"] == "<4.17.19"
    assert "upgrade lodash to 4.17.21" in lodash.message
    minimist = by_package["minimist"]
    assert minimist.severity == "critical" and minimist.span.line == 38
    assert minimist.properties["dependency_path"] == "mkdirp > minimist"
    # The moderate lodash ReDoS advisory is below the default [high] threshold.
    assert run.below_threshold == 1


def test_threshold_moderate_reports_medium_advisories(project, advisory_server, monkeypatch):
    monkeypatch.setenv("npm_config_registry", advisory_server.url)
    (run,) = npm_runs(project, ["package-lock.json"], severity_threshold_npm="moderate")
    assert run.below_threshold == 0
    redos = [f for f in run.findings if f.properties["ghsa"] == "GHSA-29mw-wpgm-hmr9"]
    assert [f.severity for f in redos] == ["medium"]


def test_project_npmrc_is_never_read(project, advisory_server, closed_port_url, monkeypatch):
    """The tree's .npmrc cannot choose the registry (issue 11): npm asks the user's registry."""
    monkeypatch.setenv("npm_config_registry", closed_port_url)
    (project / ".npmrc").write_text(f"registry={advisory_server.url}\n")
    (run,) = npm_runs(project, ["package-lock.json"])
    assert advisory_server.bulk_requests == [] and advisory_server.packument_requests == []
    assert run.error and run.error.startswith("unreachable")
    assert [f.rule_id for f in run.findings] == ["SC004"]


def test_production_only_dockerfile_omits_dev_dependencies(project, advisory_server, monkeypatch):
    monkeypatch.setenv("npm_config_registry", advisory_server.url)
    (project / "Dockerfile").write_text(
        "FROM node:20 AS build\nRUN npm ci\n"
        "FROM node:20-slim\nCOPY package*.json ./\nRUN npm ci \\\n    --omit=dev\n"
    )
    (run,) = npm_runs(project, ["package-lock.json"])
    assert "--omit=dev" in run.command and run.error is None
    assert "left-pad" not in advisory_server.bulk_requests[0]


def test_unreachable_advisory_endpoint_is_sc004(project, closed_port_url, monkeypatch):
    monkeypatch.setenv("npm_config_registry", closed_port_url)
    (run,) = npm_runs(project, ["package-lock.json"])
    assert run.error and run.error.startswith("unreachable")
    (failure,) = run.findings
    assert failure.rule_id == "SC004" and failure.span.path == "package-lock.json"
    assert "ECONNREFUSED" in failure.message and "npm config get registry" in failure.message


def test_every_lockfile_of_a_monorepo_is_audited(tmp_path, advisory_server, monkeypatch):
    monkeypatch.setenv("npm_config_registry", advisory_server.url)
    copy_project(LODASH_PROJECT, tmp_path / "root" / "apps" / "web")
    copy_project(LODASH_PROJECT, tmp_path / "root" / "apps" / "admin")
    lockfiles = ["apps/web/package-lock.json", "apps/admin/package-lock.json"]
    runs = npm_runs(tmp_path / "root", lockfiles)
    assert [run.findings[0].span.path for run in runs] == lockfiles
    assert all(run.error is None for run in runs)


def test_broken_lockfile_is_sc004(tmp_path, advisory_server, monkeypatch):
    monkeypatch.setenv("npm_config_registry", advisory_server.url)
    (tmp_path / "package-lock.json").write_text("{ not json")
    (run,) = npm_runs(tmp_path, ["package-lock.json"])
    assert run.error and run.findings[0].rule_id == "SC004"


def test_lockfile_outside_the_root_is_refused(tmp_path):
    copy_project(LODASH_PROJECT, tmp_path / "outside")
    (tmp_path / "root").mkdir()
    (run,) = npm_runs(tmp_path / "root", ["../outside/package-lock.json"])
    assert run.error and run.error.startswith("lockfile-unreadable")


def test_missing_npm_is_sc004_with_install_hint(project):
    (run,) = npm_runs(project, ["package-lock.json"], npm_path="/nonexistent/npm")
    assert run.error and "Node.js" in run.findings[0].message


def test_hung_npm_is_killed_at_the_timeout(project, tmp_path):
    stub = write_stub(tmp_path / "bin", "npm", "sleep 60\n")  # a stub: a hang on demand
    (run,) = npm_runs(project, ["package-lock.json"], npm_path=str(stub), timeout_seconds=0.5)
    assert run.error and run.error.startswith("timeout")
    assert run.findings[0].properties["failure"] == "timeout"


def test_npm_error_json_with_exit_1_is_sc004_not_a_pass(project, tmp_path):
    # Recorded: what npm 11 prints for an audit it could not perform (exit code 1 too).
    error = {"message": "audit endpoint returned an error", "error": {"summary": "", "detail": ""}}
    stub = write_stub(tmp_path / "bin", "npm", f"echo '{json.dumps(error)}'\nexit 1\n")
    (run,) = npm_runs(project, ["package-lock.json"], npm_path=str(stub))
    assert run.error and run.error.startswith("unreachable")


@pytest.mark.parametrize(
    ("dockerfile", "expected"),
    [
        ("FROM node:20\nRUN npm ci --omit=dev\n", True),
        ("FROM node:20\nRUN npm ci --only=production\n", True),
        ("FROM node:20\nRUN npm ci && npm prune --production\n", True),
        ("FROM node:20\nRUN npm ci\n", False),
        ("FROM node:20 AS deps\nRUN npm ci --omit=dev\nFROM node:20\nRUN npm ci\n", False),
        # the canonical Next.js standalone build: the full install stays in the build stages
        ("FROM node:20-alpine AS deps\nWORKDIR /app\nRUN if [ -f package-lock.json ]; then npm ci; fi\n"
         "FROM node:20-alpine AS builder\nCOPY --from=deps /app/node_modules ./node_modules\nRUN npm run build\n"
         "FROM node:20-alpine AS runner\nCOPY --from=builder /app/.next/standalone ./\n", True),
        # the full install's node_modules reach the final image
        ("FROM node:20-alpine AS deps\nRUN npm ci\nFROM node:20-alpine\n"
         "COPY --from=deps /app/node_modules ./node_modules\n", False),
        ("FROM node:20\nCOPY . .\n", False),
    ],
)
def test_omit_dev_for(tmp_path, dockerfile, expected):
    (tmp_path / "Dockerfile").write_text(dockerfile)
    assert omit_dev_for(tmp_path, "package-lock.json") is expected
