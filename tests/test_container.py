"""The auditor's own container image (the root Dockerfile) passes the auditor.

`docker build` cannot run on this machine (no Docker daemon, and base images cannot be pulled
from a registry here), so the image is tested as far as the machine allows: its Dockerfile and
.dockerignore are audited by the auditor itself (alone, and in the context of this repository,
as pre-commit would), and every file the build COPYs exists and is not left out of the build
context by .dockerignore."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from auditor.discovery import classify
from auditor.parsers.dockerfile import parse_dockerfile
from tests.conftest import REPO, run_auditor

DOCKERFILE = REPO / "Dockerfile"


def _controls(report: dict) -> dict[str, str]:
    return {c["rule_id"]: c["status"] for c in report["controls"]}


def test_the_image_definition_passes_its_own_audit(tmp_path: Path) -> None:
    for name in ("Dockerfile", ".dockerignore"):
        shutil.copy(REPO / name, tmp_path / name)
    done = run_auditor("scan", str(tmp_path), "--no-external", "--fail-on", "low", "--format", "json")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    report = json.loads(done.stdout)
    active = [f for f in report["findings"] if not f["suppressed"]]
    # only the info note that the base images are pinned by tag (a digest cannot be looked up here)
    assert {(f["rule_id"], f["severity"]) for f in active} <= {("DF003", "info"), ("XF006", "info")}
    controls = _controls(report)
    for rule_id in ("DF002", "DF008", "DF012", "DF015", "DF016", "DF017", "DF019", "XF005", "AUD001"):
        assert controls[rule_id] == "pass", (rule_id, controls[rule_id])
    assert controls["DF014"] == "suppressed"  # a CLI has nothing to health-check; the reason is in the file


def test_the_dockerfile_passes_in_the_repository_context() -> None:
    done = run_auditor("scan", "Dockerfile", ".dockerignore", "--no-external", "--fail-on", "low", cwd=REPO,
                       timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr


def test_the_image_is_non_root_and_read_only_friendly() -> None:
    assert classify("Dockerfile") == "dockerfile"
    dockerfile, problems = parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"), "Dockerfile")
    assert problems == []
    user = dockerfile.stages[-1].last("USER")
    assert user is not None and user.arguments.split(":")[0] == "1001"
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert "--read-only" in text and "WITH_TRIVY" in text
    assert 'ENTRYPOINT ["auditor"]' in text


def test_every_copied_source_exists_and_reaches_the_build_context() -> None:
    import pathspec

    ignored = pathspec.GitIgnoreSpec.from_lines((REPO / ".dockerignore").read_text().splitlines())
    dockerfile, _ = parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"), "Dockerfile")
    sources = []
    for stage in dockerfile.stages:
        for instruction in stage.all("COPY"):
            if "from" not in instruction.flags:
                sources += instruction.arguments.split()[:-1]
    assert {"pyproject.toml", "constraints.txt", "auditor", "rules", "LICENSE", "README.md"} <= set(sources)
    for source in sources:
        assert (REPO / source).exists(), source
        assert not ignored.match_file(source), f"{source} is left out of the build context by .dockerignore"
    assert ignored.match_file("tests/test_cli.py") and ignored.match_file(".git/config")
