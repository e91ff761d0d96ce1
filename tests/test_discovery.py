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
