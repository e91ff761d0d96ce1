"""Issue 13, items 2 and 3: ``auditor init`` and ``auditor init --from DOC``.

The primary input is the reference architecture the tool was built for (box drawings, emoji,
mis-encoded characters), which lives beside the clone: ``../shared/architecture/`` relative to the
repository. Without it the document tests are skipped, saying so."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from auditor.architecture.document import read_document, read_facts
from auditor.catalog import load_catalog
from auditor.config import load_config

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO.parent / "shared" / "architecture" / "reference-architecture.md"
needs_reference = pytest.mark.skipif(not REFERENCE.is_file(),
                                     reason=f"the reference architecture is not beside the clone ({REFERENCE})")


def auditor(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITOR_")}
    env.update({"PYTHONPATH": str(REPO), "HOME": str(cwd.parent), "XDG_CONFIG_HOME": str(cwd.parent / "cfg")})
    return subprocess.run([sys.executable, "-m", "auditor", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=30)


@needs_reference
def test_the_reference_document_gives_each_value_at_its_line() -> None:
    facts = read_document(REFERENCE, "ARCH.md")
    values = facts.values()
    expected = {  # key: (value, line of its first statement)
        "runtime.uid": (1001, 38), "runtime.user": ("nextjs", 78), "app.port": (3000, 23),
        "app.health_path": ("/api/health", 264), "node.major": (20, 52), "node.family": ("alpine", 52),
        "rate_limit.rate": ("10r/s", 16), "resources.cpus": (2, 41), "resources.memory": ("2G", 41),
        "network.subnet": ("172.20.0.0/16", 96), "replicas": (3, 224),
        "header.Strict-Transport-Security": (True, 104), "header.Content-Security-Policy": (True, 104),
        "header.X-Frame-Options": (True, 104), "scan.trivy": (True, 124), "scan.npm_audit": (True, 125),
    }
    for key, (value, line) in expected.items():
        assert (values[key].value, values[key].line) == (value, line), key
    assert facts.conflicts() == {}
    # every statement of the rate: the box at line 16 and the security layers at line 97
    assert [s.line for s in facts.by_key()["rate_limit.rate"]] == [16, 97]
    assert values["rate_limit.rate"].quote == "Rate Limiting (10 req/s)"
    # what the document does not state is not invented
    for absent in ("runtime.gid", "rate_limit.burst", "tls.hsts_max_age", "static_cache_seconds"):
        assert absent not in values


@needs_reference
def test_init_from_writes_a_valid_profile_citing_lines(tmp_path: Path) -> None:
    target = tmp_path / "project"
    target.mkdir()
    run = auditor(target, "init", "--from", str(REFERENCE))
    assert run.returncode == 0, run.stderr
    text = (target / ".auditor.yaml").read_text()
    cited = f"{REFERENCE}"
    assert f'rate: 10r/s  # {cited}:16 "Rate Limiting (10 req/s)"' in text
    assert f'uid: 1001  # {cited}:38 "Non-root user (UID 1001)"' in text
    assert f'user: nextjs  # {cited}:78 ' in text
    assert f'subnet: 172.20.0.0/16  # {cited}:96 ' in text
    assert f'replicas: 3  # {cited}:224 ' in text
    assert f'memory: 2G  # {cited}:41 ' in text and f"cpus: 2  # {cited}:41 " in text
    assert f"Trivy image scans: {cited}:124" in text and f"npm audit of the dependencies: {cited}:125" in text
    assert "Not found in the document (the default stays): runtime.gid, rate_limit.burst" in text
    config = load_config(target / ".auditor.yaml", load_catalog(), tree_root=target)
    assert config.architecture["runtime"] == {"uid": 1001, "gid": 1001, "user": "nextjs"}
    assert config.architecture["node"] == {"major": 20, "family": "alpine"}
    assert config.parameters_for(load_catalog()["DF004"])["allowed"] == ["node:20-alpine"]
    assert "document" not in config.architecture  # outside the folder: named in a comment only
    assert "11 of 19 profile values found" in run.stdout


def test_conflicting_values_are_both_reported_and_neither_taken(tmp_path: Path) -> None:
    doc = tmp_path / "ARCHITECTURE.md"
    doc.write_text("# Shop\n\nThe app runs as UID 1001.\n\n| Setting | Value |\n|---|---|\n"
                   "| runtime user | UID 2000 |\n\n```nginx\nlimit_req_zone $binary_remote_addr zone=a:10m rate=5r/s;\n"
                   "```\n\nRate limiting: 5 req/s.\n")
    facts = read_document(doc, "ARCHITECTURE.md")
    assert [(s.value, s.line) for s in facts.conflicts()["runtime.uid"]] == [(1001, 3), (2000, 7)]
    assert [s.line for s in facts.by_key()["rate_limit.rate"]] == [10, 13]  # nginx parser, then prose
    target = tmp_path / "out"
    target.mkdir()
    run = auditor(target, "init", "--from", str(doc), "--ci", "none")
    assert run.returncode == 0, run.stderr
    text = (target / ".auditor.yaml").read_text()
    assert "# uid: the document states different values, none taken: 1001 at" in text and ":7 " in text
    assert "uid: 1001  # default, until the document agrees with itself" in text
    assert "conflict runtime.uid: 1001 at line 3; 2000 at line 7" in run.stdout
    assert not (target / ".github").exists()


def test_fenced_blocks_are_read_with_the_project_parsers() -> None:
    text = ("# Doc\n\n```nginx\nserver {\n    listen 443 ssl;\n    ssl_protocols TLSv1.3;\n"
            "    add_header Strict-Transport-Security \"max-age=63072000\" always;\n"
            "    location /_next/static/ { expires 365d; }\n"
            "    location / { limit_req zone=api burst=40 nodelay; proxy_pass http://app:8080; }\n}\n```\n\n"
            "```dockerfile\nFROM node:22-slim\nRUN useradd --uid 4242 web\nUSER web\n```\n")
    values = read_facts(text, "doc.md").values()
    got = {key: (s.value, s.line) for key, s in values.items()}
    assert got["tls.protocols"] == (["TLSv1.3"], 6)
    assert got["tls.hsts_max_age"] == (63072000, 7)
    assert got["static_cache_seconds"] == (365 * 86400, 8)
    assert got["rate_limit.burst"] == (40, 9) and got["app.port"] == (8080, 9)
    assert got["node.major"] == (22, 14) and got["node.family"] == ("slim", 14)
    assert got["runtime.uid"] == (4242, 15) and got["runtime.user"] == ("web", 16)


def test_plain_init_writes_config_precommit_and_workflow_and_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "repo"
    target.mkdir()
    (target / "Dockerfile").write_text("FROM node:20-alpine\n")
    assert auditor(target, "init").returncode == 0
    workflow = yaml.safe_load((target / ".github" / "workflows" / "auditor.yml").read_text())
    steps = workflow["jobs"]["audit"]["steps"]
    assert any(step.get("uses", "").startswith("github/codeql-action/upload-sarif") for step in steps)
    assert any("sarif:auditor.sarif" in step.get("run", "") for step in steps)
    hooks = yaml.safe_load((target / ".pre-commit-config.yaml").read_text())
    assert hooks["repos"][0]["hooks"] == [{"id": "auditor"}]
    config = load_config(target / ".auditor.yaml", load_catalog(), tree_root=target)
    assert config.parameters_for(load_catalog()["DF009"]) == {"uid": 1001}
    (target / ".auditor.yaml").write_text("# mine\n")
    again = auditor(target, "init", "--ci", "gitlab")
    assert again.returncode == 2 and "already exist" in again.stderr
    assert (target / ".auditor.yaml").read_text() == "# mine\n" and not (target / ".gitlab-ci.yml").exists()
    forced = auditor(target, "init", "--ci", "gitlab", "--force")
    assert forced.returncode == 0, forced.stderr
    gitlab = yaml.safe_load((target / ".gitlab-ci.yml").read_text())
    assert "auditor.sarif" in gitlab["auditor"]["artifacts"]["paths"]
    assert sorted(p.name for p in target.iterdir()) == sorted(
        ["Dockerfile", ".auditor.yaml", ".pre-commit-config.yaml", ".github", ".gitlab-ci.yml"])


def test_init_writes_only_into_the_named_folder(tmp_path: Path) -> None:
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    target = tmp_path / "named"
    target.mkdir()
    assert auditor(elsewhere, "init", str(target), "--ci", "none").returncode == 0
    assert list(elsewhere.iterdir()) == []
    assert sorted(p.name for p in target.iterdir()) == [".auditor.yaml", ".pre-commit-config.yaml"]


def test_an_unreadable_document_is_a_clear_error(tmp_path: Path) -> None:
    run = auditor(tmp_path, "init", "--from", "missing.md")
    assert run.returncode == 2 and "missing.md: cannot be read" in run.stderr and "Traceback" not in run.stderr
    os.mkfifo(tmp_path / "pipe.md")
    run = auditor(tmp_path, "init", "--from", "pipe.md")
    assert run.returncode == 2 and "not a regular file" in run.stderr
