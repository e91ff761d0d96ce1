"""Discovery: what is read and as what; what is skipped and said so."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from auditor.discovery import classify, discover


@pytest.mark.parametrize("path, kind", [
    ("Dockerfile", "dockerfile"), ("app/Dockerfile.prod", "dockerfile"), ("web.dockerfile", "dockerfile"),
    ("Containerfile", "dockerfile"), ("docker-compose.yml", "compose"), ("docker-compose.prod.yaml", "compose"),
    ("compose.yaml", "compose"), ("deploy/compose.override.yml", "compose"), ("k8s/deployment.yaml", "yaml"),
    ("nginx/nginx.conf", "nginx?"), ("conf.d/app.conf", "nginx?"), ("nginx/sites", "nginx?"),
    ("package.json", "next"), ("package-lock.json", "next"), ("next.config.mjs", "next"),
    ("app/api/health/route.ts", "next"), ("src/pages/api/health.js", "next"), (".dockerignore", "dockerignore"),
    ("README.md", None), ("Dockerfile.dockerignore", "dockerignore"), ("src/app/page.tsx", None), ("nginx/mime.types", None),
    # issue 11 attack 10: every name Docker and Podman users give a Dockerfile
    ("dockerfile", "dockerfile"), ("DOCKERFILE", "dockerfile"), ("Dockerfile-prod", "dockerfile"),
    ("svc/dockerfile.dev", "dockerfile"), ("Dockerfile_worker", "dockerfile"), ("web.Dockerfile", "dockerfile"),
    ("Containerfile.prod", "dockerfile"), ("containerfile-dev", "dockerfile"), ("api.containerfile", "dockerfile"),
    ("Dockerfile-prod.dockerignore", "dockerignore"),
    # ... but not a module, document or data file about Dockerfiles
    ("auditor/parsers/dockerfile.py", None), ("docs/Dockerfile.md", None), ("dockerfile-lint.json", None),
    ("Dockerfiles", None), ("DockerfileLint", None),
])
def test_classify_by_name(path: str, kind: str | None) -> None:
    assert classify(path) == kind


def test_walk_skips_vendor_folders_and_excluded_globs(tmp_path: Path) -> None:
    for relative in ("Dockerfile", "node_modules/x/Dockerfile", ".git/Dockerfile", ".next/Dockerfile",
                     "legacy/Dockerfile", "svc/Dockerfile"):
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("FROM node:20-alpine\n")
    found = discover([tmp_path], tmp_path, exclude=["legacy/*"])
    assert found.dockerfiles == ["Dockerfile", "svc/Dockerfile"]


def test_nginx_is_sniffed_by_content(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf").write_text("events {}\nhttp { server { listen 80; } }\n")
    (tmp_path / "supervisord.conf").write_text("[program:app]\ncommand=node server.js\n")
    found = discover([tmp_path], tmp_path)
    assert found.nginx == ["nginx.conf"]


def test_symlinks_outside_the_tree_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Dockerfile").write_text("FROM node:20-alpine\n")
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside / "Dockerfile", root / "Dockerfile")
    os.symlink(root, root / "loop")  # a folder link that would loop forever
    found = discover([root], root)
    assert found.dockerfiles == []
    messages = {n.span.path: n.message for n in found.notes}
    assert "outside the audited tree" in messages["Dockerfile"]
    assert "not followed" in messages["loop"]


def test_oversized_files_are_skipped_with_a_note(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM node:20-alpine\n" + "# padding\n" * 2000)
    found = discover([tmp_path], tmp_path, max_file_size=1000)
    assert found.dockerfiles == []
    assert "size cap" in found.notes[0].message


def test_file_cap_is_reported(tmp_path: Path) -> None:
    for index in range(5):
        (tmp_path / f"f{index}.txt").write_text("x")
    found = discover([tmp_path], tmp_path, max_files=3)
    assert len(found.files) == 3
    assert any("file cap" in n.message for n in found.notes)


def test_odd_dockerfile_names_are_audited(tmp_path: Path) -> None:
    from auditor.api import scan

    for name in ("dockerfile", "Dockerfile-prod", "web.Dockerfile", "Containerfile.dev"):
        (tmp_path / name.lower().replace(".", "_")).mkdir()
        (tmp_path / name.lower().replace(".", "_") / name).write_text("FROM node:20-alpine\n")
    result = scan([tmp_path], select=["DF008"])
    assert {f.span.path for f in result.findings} == {
        "containerfile_dev/Containerfile.dev", "dockerfile/dockerfile", "dockerfile-prod/Dockerfile-prod",
        "web_dockerfile/web.Dockerfile"}


def _compose_with_odd_dockerfile(root: Path) -> None:
    (root / "docker").mkdir()
    (root / "docker" / "web.df").write_text("FROM node:20-alpine\nCMD [\"node\", \"server.js\"]\n")
    (root / "docker-compose.yml").write_text(
        "services:\n  web:\n    build:\n      context: .\n      dockerfile: docker/web.df\n")


def test_a_dockerfile_named_by_compose_build_is_audited(tmp_path: Path) -> None:
    from auditor.api import scan

    _compose_with_odd_dockerfile(tmp_path)
    assert classify("docker/web.df") is None  # only the compose file makes it a Dockerfile
    result = scan([tmp_path], select=["DF008", "XF006"])
    assert [f.span.path for f in result.findings if f.rule_id == "DF008"] == ["docker/web.df"]
    assert result.controls["DF008"].status == "fail"
    assert not any("no Dockerfile" in f.message for f in result.findings if f.rule_id == "XF006"), \
        [f.message for f in result.findings]


def test_a_compose_named_dockerfile_outside_the_tree_or_a_fifo_is_not_read(tmp_path: Path) -> None:
    from auditor.api import scan

    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "outside.df").write_text("FROM node:20-alpine\n")
    os.mkfifo(root / "pipe.df")  # reading it would block the audit forever
    (root / "docker-compose.yml").write_text(
        "services:\n  a:\n    build: {context: ., dockerfile: ../outside.df}\n"
        "  b:\n    build: {context: ., dockerfile: pipe.df}\n")
    result = scan([root], select=["DF008"])
    assert not any("outside" in f.span.path for f in result.findings)
    # not checked fails closed: an AUD003 finding, not a note
    assert any(f.rule_id == "AUD003" and f.span.path == "pipe.df" and "not a regular file" in f.message
               for f in result.findings)
    assert result.controls["DF008"].status == "error"  # a Dockerfile was named and not checked


# --- what is not walked: tool caches, virtual environments, .gitignore (issue 12 item 10) -------

CACHES = (".pytest_cache", ".hypothesis", ".mypy_cache", ".tox", ".terraform", ".turbo", ".cache", "dist",
          "build", "coverage", "venv", ".venv")


def _tree(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_tool_caches_and_virtual_environments_are_not_walked(tmp_path: Path) -> None:
    _tree(tmp_path, {"Dockerfile": "FROM node:20-alpine\n", "env/pyvenv.cfg": "home = /usr/bin\n",
                     "env/lib/Dockerfile": "FROM x\n",
                     **{f"{cache}/sub/Dockerfile": "FROM x\n" for cache in CACHES}})
    found = discover([tmp_path], tmp_path)
    assert found.dockerfiles == ["Dockerfile"]
    assert not any(path.startswith(CACHES + ("env/",)) for path in found.files)
    everything = discover([tmp_path], tmp_path, no_ignore=True)
    # --no-ignore reads them all (but .venv, like node_modules and .git, is never read)
    assert everything.dockerfiles == sorted(["Dockerfile", "env/lib/Dockerfile"]
                                            + [f"{c}/sub/Dockerfile" for c in CACHES if c != ".venv"])


def test_a_folder_given_explicitly_is_read_even_if_it_is_a_cache(tmp_path: Path) -> None:
    _tree(tmp_path, {"dist/Dockerfile": "FROM x\n"})
    assert discover([tmp_path / "dist"], tmp_path).dockerfiles == ["dist/Dockerfile"]


def test_gitignore_is_respected_with_nested_files_and_negations(tmp_path: Path) -> None:
    _tree(tmp_path, {
        ".gitignore": "# local files\n*.override.yml\ngenerated/\n/secrets.env\nk8s/*.yaml\n!k8s/keep.yaml\n",
        "docker-compose.yml": "services: {}\n", "docker-compose.override.yml": "services: {}\n",
        "generated/Dockerfile": "FROM x\n", "secrets.env": "A=1\n",
        "k8s/drop.yaml": "apiVersion: v1\nkind: Pod\n", "k8s/keep.yaml": "apiVersion: v1\nkind: Pod\n",
        "svc/.gitignore": "Dockerfile.local\n!docker-compose.override.yml\n",
        "svc/Dockerfile": "FROM x\n", "svc/Dockerfile.local": "FROM x\n",
        "svc/docker-compose.override.yml": "services: {}\n", "svc/secrets.env": "A=1\n",
    })
    found = discover([tmp_path], tmp_path)
    assert found.dockerfiles == ["svc/Dockerfile"]
    assert found.compose == ["docker-compose.yml", "svc/docker-compose.override.yml"]
    assert found.yaml == ["k8s/keep.yaml"]
    # ignored files are listed (XF005 asks where secret files go) but not audited; ignored
    # folders are not walked at all; `/secrets.env` is anchored to the root's folder
    assert {"secrets.env", "svc/Dockerfile.local", "docker-compose.override.yml", "svc/secrets.env"} <= set(found.files)
    assert not any(path.startswith("generated/") for path in found.files)
    everything = discover([tmp_path], tmp_path, no_ignore=True)
    assert everything.dockerfiles == ["generated/Dockerfile", "svc/Dockerfile", "svc/Dockerfile.local"]


def test_gitignore_above_the_scan_root_applies_up_to_the_repository_root(tmp_path: Path) -> None:
    _tree(tmp_path, {"outside/.gitignore": "*\n", "outside/repo/.gitignore": "app/legacy/\n",
                     "outside/repo/app/Dockerfile": "FROM x\n", "outside/repo/app/legacy/Dockerfile": "FROM x\n"})
    (tmp_path / "outside" / "repo" / ".git").mkdir()
    app = tmp_path / "outside" / "repo" / "app"
    # the repository's .gitignore is read, the one above the repository is not (it is not git's)
    assert discover([app], app).dockerfiles == ["Dockerfile"]


def _git(repo: Path, *args: str) -> str:
    # Our own repository, made by the test: not a hostile tree.
    import subprocess

    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


@pytest.mark.parametrize("version", ["2", "3", "4"])
def test_the_git_index_is_read_without_running_git(tmp_path: Path, version: str) -> None:
    from auditor.ignore import tracked_files

    _tree(tmp_path, {"Dockerfile": "FROM x\n", "a/b/c/deep name.yaml": "x: 1\n", "a/b/other.txt": "x\n",
                     "ü/Dockerfile.prod": "FROM x\n", "intent.txt": "x\n", ("long/" * 40) + "f": "x\n"})
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "Dockerfile", "a", "ü", "long")
    _git(tmp_path, "add", "-N", "intent.txt")  # intent-to-add: an entry with extended flags
    _git(tmp_path, "update-index", "--index-version", version)
    listed = set(_git(tmp_path, "-c", "core.quotepath=off", "ls-files", "-z").split("\0")) - {""}
    assert tracked_files(tmp_path) == listed
    assert len(listed) == 6


def test_a_tracked_file_is_never_ignored(tmp_path: Path) -> None:
    _tree(tmp_path, {".gitignore": "Dockerfile*\nbuild/\n", "Dockerfile.prod": "FROM x\n",
                     "build/package/Dockerfile": "FROM x\n", "build/out/Dockerfile": "FROM x\n",
                     "Dockerfile.untracked": "FROM x\n"})
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-f", "Dockerfile.prod", "build/package/Dockerfile")
    found = discover([tmp_path], tmp_path)
    # as in git: .gitignore only concerns untracked files; build/ is walked for its tracked file
    assert found.dockerfiles == ["Dockerfile.prod", "build/package/Dockerfile"]


# --- scoped context for file arguments (issue 12 item 10) -------------------------------------


def _repository(root: Path) -> None:
    _tree(root, {
        "services/a/Dockerfile": "FROM node:20-alpine\n", "services/a/package.json": "{}\n",
        "services/b/Dockerfile": "FROM node:20-alpine\n",
        "web/docker-compose.yml": "services:\n  app:\n    build: ./app\n", "web/app/Dockerfile": "FROM node:20-alpine\n",
        "web/app/src/x.txt": "x\n",
        "conf/nginx/conf.d/site.conf": "server { listen 80; }\n",
    })
    (root / ".git").mkdir()


def test_a_file_is_read_in_the_context_of_its_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.commands.scan import _scan_root

    _repository(tmp_path)
    monkeypatch.chdir(tmp_path)
    root, walked, report = _scan_root(["services/a/Dockerfile"])
    assert root == tmp_path and report == {"services/a/Dockerfile"}  # relative to where the user is
    assert tmp_path / "services" / "a" in walked and tmp_path not in walked
    # a compose file is the stronger project: the Dockerfile it builds is read with it
    root, walked, report = _scan_root(["web/app/Dockerfile"])
    assert walked[0] == tmp_path / "web" and report == {"web/app/Dockerfile"}
    # two files of two projects: both projects, nothing else
    root, walked, report = _scan_root(["services/b/Dockerfile", "services/a/package.json"])
    assert set(walked[:2]) == {tmp_path / "services" / "a", tmp_path / "services" / "b"}
    # nothing marks a project: the repository root bounds the search
    root, walked, report = _scan_root(["conf/nginx/conf.d/site.conf"])
    assert walked[0] == tmp_path


def test_the_project_never_reaches_above_the_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.commands.scan import project_of

    _tree(tmp_path, {"docker-compose.yml": "services: {}\n", "repo/notes/site.conf": "server {}\n"})
    (tmp_path / "repo" / ".git").mkdir()
    assert project_of(tmp_path / "repo" / "notes" / "site.conf", tmp_path) == tmp_path / "repo"


def test_a_project_outside_the_current_folder_gives_paths_relative_to_it(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.commands.scan import _scan_root

    _repository(tmp_path)
    monkeypatch.chdir(tmp_path / "services" / "b")
    root, walked, report = _scan_root(["../a/Dockerfile"])
    assert root == tmp_path / "services" / "a" and report == {"Dockerfile"}


def test_scanning_one_file_reads_its_project_only_and_names_it_as_given(tmp_path: Path) -> None:
    import json

    from tests.conftest import run_auditor

    _repository(tmp_path)
    done = run_auditor("scan", "services/a/Dockerfile", "--no-external", "--format", "json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["summary"]["files"] == 2  # the Dockerfile and package.json of services/a
    assert {f["file"] for f in report["findings"]} == {"services/a/Dockerfile"}


def test_an_ignored_file_given_by_name_is_still_audited(tmp_path: Path) -> None:
    import json

    from tests.conftest import run_auditor

    _tree(tmp_path, {".gitignore": "docker-compose.override.yml\n", "docker-compose.yml": "services: {}\n",
                     "docker-compose.override.yml": "services:\n  web:\n    image: x\n    privileged: true\n"})
    folder = run_auditor("scan", ".", "--no-external", "--select", "DC004", "--format", "json", cwd=tmp_path)
    assert json.loads(folder.stdout)["findings"] == []  # ignored: not audited with the folder
    named = run_auditor("scan", "docker-compose.override.yml", "--no-external", "--select", "DC004",
                        "--format", "json", cwd=tmp_path)
    assert named.returncode == 1, named.stderr
    assert [f["file"] for f in json.loads(named.stdout)["findings"]] == ["docker-compose.override.yml"]


def test_a_tracked_file_is_never_ignored_when_the_scan_root_is_a_subfolder(tmp_path: Path) -> None:
    _tree(tmp_path, {".gitignore": "Dockerfile.*\n", "svc/Dockerfile.prod": "FROM x\n", "svc/Dockerfile.local": "FROM x\n"})
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-f", "svc/Dockerfile.prod")
    svc = tmp_path / "svc"
    # the repository's .gitignore above the scan root applies; its index is matched with the prefix
    assert discover([svc], svc).dockerfiles == ["Dockerfile.prod"]


def test_an_excluded_link_is_passed_over_without_a_note(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    (root / "app").mkdir(parents=True)
    (root / "app" / "Dockerfile").write_text("FROM node:20-alpine\n")
    os.symlink(tmp_path, root / "out")  # out of the tree
    os.symlink(root / "app", root / "applink")  # a folder inside it
    said = {note.span.path for note in discover([root], root).notes}
    assert {"out", "applink"} <= said
    found = discover([root], root, exclude=["out", "applink"])
    assert not {note.span.path for note in found.notes} & {"out", "applink"}
    assert found.dockerfiles == ["app/Dockerfile"]
