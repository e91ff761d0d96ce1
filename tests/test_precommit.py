"""The pre-commit integration, with the real framework: ``pre-commit try-repo`` installs this
package from a git repository into its own virtualenv and runs the ``auditor`` hook in a
throwaway repository holding a non-compliant Dockerfile; it must fail with the finding, and pass
once the Dockerfile is fixed.

try-repo clones the hook repository at a commit: only committed files (plus modified tracked
ones) reach the clone, never untracked ones. So the tests snapshot this working tree as it is
(tracked and untracked files, minus what .gitignore excludes) into a fresh git repository and
point try-repo there; the result does not depend on what has been committed yet.

Costs: each try-repo run builds a virtualenv and pip-installs the package (seconds with a warm
pip cache, about a minute cold); the runs are bounded by a timeout.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from auditor.discovery import classify
from tests.conftest import REPO

HOOKS_FILE = REPO / ".pre-commit-hooks.yaml"
INSTALL_TIMEOUT = 600  # seconds; a cold pip install of the package and its dependencies
NON_COMPLIANT = 'FROM node:20-alpine\nWORKDIR /app\nUSER root\nCMD ["node", "server.js"]\n'
FIXED = NON_COMPLIANT.replace("USER root", "USER 1001")
GIT_IDENTITY = ("-c", "user.name=auditor-tests", "-c", "user.email=tests@example.com", "-c", "commit.gpgsign=false")


def hooks() -> dict[str, dict[str, Any]]:
    return {hook["id"]: hook for hook in yaml.safe_load(HOOKS_FILE.read_text(encoding="utf-8"))}


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *GIT_IDENTITY, *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          check=True)
    return done.stdout


# --- the manifest -------------------------------------------------------------------------------


def test_the_manifest_is_valid_for_pre_commit() -> None:
    done = subprocess.run([sys.executable, "-m", "pre_commit", "validate-manifest", str(HOOKS_FILE)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_hook_runs_the_quiet_static_scan_on_the_passed_files() -> None:
    hook = hooks()["auditor"]
    assert hook["entry"] == "auditor scan --quiet --no-external"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is True


RECOGNISED = ["Dockerfile", "app/Dockerfile.prod", "build/api.dockerfile", "Containerfile", "docker-compose.yml",
              "deploy/compose.prod.yaml", "k8s/deployment.yaml", "k8s/ingress.YML", "nginx/nginx.conf",
              "nginx/sites-enabled/default", "etc/conf.d/app.conf", "nginx/snippets/headers", ".dockerignore",
              "web/.dockerignore", "package.json", "web/package-lock.json", "next.config.js", "next.config.mjs",
              "pages/api/users.ts", "src/pages/api/a/b.js", "app/api/health/route.ts", "src/app/api/route.js",
              ".auditor.yaml", "svc/dockerfile", "Dockerfile-prod", "Dockerfile_worker", "web.Dockerfile",
              "Containerfile.dev", "api.containerfile"]
IGNORED = ["README.md", "src/index.ts", "public/logo.png", "app/page.tsx", "Makefile", "tsconfig.json"]


@pytest.mark.parametrize("path", RECOGNISED)
def test_the_file_pattern_matches_what_the_auditor_reads(path: str) -> None:
    if path != ".auditor.yaml":
        assert classify(path) is not None, f"{path}: the test's list is wrong"
    assert re.search(hooks()["auditor"]["files"], path), path


@pytest.mark.parametrize("path", IGNORED)
def test_the_file_pattern_skips_what_the_auditor_ignores(path: str) -> None:
    assert classify(path) is None, f"{path}: the test's list is wrong"
    assert not re.search(hooks()["auditor"]["files"], path), path


# --- the real framework -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hook_repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This working tree, tracked and untracked files alike, committed in a fresh repository."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    snapshot = tmp_path_factory.mktemp("hook-repository")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, timeout=60)
    if listed.returncode != 0:
        pytest.skip(f"{REPO} is not a git checkout")
    for name in filter(None, listed.stdout.decode("utf-8", "surrogateescape").split("\0")):
        source = REPO / name
        if source.is_file():  # a deleted but still tracked file is listed too
            target = snapshot / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git(snapshot, "init", "-q", "-b", "main")
    git(snapshot, "add", "-A")
    git(snapshot, "commit", "-q", "-m", "snapshot of the working tree")
    return snapshot


def try_repo(hook_repository: Path, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PRE_COMMIT", "GIT_"))}
    # Outside both repositories; try-repo builds its own store in a temporary folder anyway.
    environment["PRE_COMMIT_HOME"] = str(project.parent / "pre-commit-home")
    environment["NO_COLOR"] = "1"
    # The hook's virtualenv runs `auditor` from the installed package, not this checkout.
    environment.pop("PYTHONPATH", None)
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(hook_repository), "auditor",
                           "--color", "never", *args], cwd=project, env=environment, capture_output=True,
                          text=True, timeout=INSTALL_TIMEOUT)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    repository = tmp_path / "project"
    repository.mkdir()
    (repository / "Dockerfile").write_text(NON_COMPLIANT, encoding="utf-8")
    (repository / "README.md").write_text("not audited\n", encoding="utf-8")
    git(repository, "init", "-q", "-b", "main")
    git(repository, "add", "-A")
    return repository


def test_the_hook_fails_on_a_non_compliant_dockerfile_and_passes_once_fixed(hook_repository: Path,
                                                                            project: Path) -> None:
    failed = try_repo(hook_repository, project, "--all-files")
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output
    assert re.search(r"auditor \(container and nginx security controls\)\.+Failed", output), output
    assert "Dockerfile" in output
    assert re.search(r"^\s*3:1\s+high\s+DF008\s+final stage .* USER root", output, re.MULTILINE), output

    (project / "Dockerfile").write_text(FIXED, encoding="utf-8")
    git(project, "add", "-A")
    passed = try_repo(hook_repository, project)  # the staged files, as on `git commit`
    output = passed.stdout + passed.stderr
    assert passed.returncode == 0, output
    assert re.search(r"auditor \(container and nginx security controls\)\.+Passed", output), output


# --- scoped context: a file is read with its project, never with the whole repository ---------

COMPOSE_WITH_CONTEXT = ("services:\n  web:\n    build:\n      context: .\n      dockerfile: docker/Dockerfile\n"
                        "    ports:\n      - \"3000:3000\"\n")
DOCKERIGNORE = "node_modules\n.git\n.env*\n.next\n"


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    """A git repository of three projects. ``shop`` builds ``docker/Dockerfile`` from its root,
    where its .dockerignore is (context the Dockerfile alone does not give); ``blog`` is an
    unrelated non-compliant project; ``api`` has the same Dockerfile and no compose file."""
    repository = tmp_path / "monorepo"
    files = {
        "shop/docker-compose.yml": COMPOSE_WITH_CONTEXT, "shop/.dockerignore": DOCKERIGNORE,
        "shop/docker/Dockerfile": NON_COMPLIANT,
        "blog/docker-compose.yml": "services:\n  blog:\n    build: .\n    privileged: true\n",
        "blog/Dockerfile": NON_COMPLIANT,
        "api/docker/Dockerfile": NON_COMPLIANT, "api/package.json": '{"name": "api", "version": "1.0.0"}\n',
    }
    for name, text in files.items():
        (repository / name).parent.mkdir(parents=True, exist_ok=True)
        (repository / name).write_text(text, encoding="utf-8")
    git(repository, "init", "-q", "-b", "main")
    git(repository, "add", "-A")
    return repository


def scoped_scan(repository: Path, monkeypatch: pytest.MonkeyPatch, *files: str) -> dict[str, Any]:
    """``auditor scan FILE...`` from the repository's root, as the hook runs it (JSON out)."""
    from auditor.cli import main

    monkeypatch.chdir(repository)
    output = repository.parent / "report.json"
    assert main(["scan", "--quiet", "--no-external", "--fail-on", "none", "--format", f"json:{output}", *files]) == 0
    report: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    output.unlink()
    return report


def folders(report: dict[str, Any]) -> set[str]:
    """The projects the findings are in, related locations included."""
    return {location["file"].split("/")[0] for finding in report["findings"]
            for location in (finding, *finding["related"])}


def test_a_changed_file_is_read_with_its_project_only(monorepo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = scoped_scan(monorepo, monkeypatch, "shop/docker/Dockerfile")
    assert report["summary"]["files"] == 3  # shop's three files: blog and api were not even read
    assert report["findings"] and folders(report) == {"shop"}
    rules = {f["rule_id"] for f in report["findings"] if f["file"] == "shop/docker/Dockerfile"}
    assert "DF008" in rules  # the file itself is checked


def test_a_file_keeps_the_context_its_project_gives(monorepo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """shop's compose file builds docker/Dockerfile from shop/, whose .dockerignore is complete:
    no DF019. The same Dockerfile in api (no compose file) is built from its own folder, which has
    none: DF019. Read alone, without its project, shop's Dockerfile would be reported too."""
    shop = scoped_scan(monorepo, monkeypatch, "shop/docker/Dockerfile")
    api = scoped_scan(monorepo, monkeypatch, "api/docker/Dockerfile")
    assert "DF019" not in {f["rule_id"] for f in shop["findings"]}
    assert [(f["rule_id"], f["file"]) for f in api["findings"] if f["rule_id"] == "DF019"] == \
        [("DF019", "api/docker/Dockerfile")]
    assert any(f["rule_id"] == "DF008" for f in api["findings"])


def test_files_of_two_projects_read_those_two(monorepo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = scoped_scan(monorepo, monkeypatch, "shop/docker/Dockerfile", "blog/docker-compose.yml")
    assert report["summary"]["files"] == 5  # shop's three and blog's two
    assert folders(report) == {"shop", "blog"}
