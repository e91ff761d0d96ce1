"""The CI gate end to end, through the real CLI: inline and configured suppressions (with reasons,
expiry and AUD002), baselines that survive moved code, ``--no-suppress``, and the changed-files
modes (``--diff-base`` and ``auditor scan FILE``)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_auditor
from tests.support.sarif_validation import schema_errors

ROOT_DOCKERFILE = "FROM node:20-alpine\nWORKDIR /app\nUSER root\nCMD [\"node\", \"server.js\"]\n"
SUPPRESSED = ('FROM node:20-alpine\nWORKDIR /app\n# auditor: ignore=DF008 {options}\nUSER root\n'
              'CMD ["node", "server.js"]\n')
# Several Dockerfile findings at once (untagged base, root, no HEALTHCHECK, ...), for baselines.
MANY_PROBLEMS = "FROM node\nWORKDIR /app\nCOPY . .\nRUN npm install\nUSER root\nCMD npm start\n"
DOCKERIGNORE = "node_modules\n.git\n.env*\n.next\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def scan_json(*args: str, cwd: Path | None = None) -> tuple[int, dict[str, Any]]:
    done = run_auditor("scan", *args, "--no-external", "--format", "json", cwd=cwd)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def scan_sarif(*args: str, cwd: Path | None = None) -> tuple[int, dict[str, Any]]:
    done = run_auditor("scan", *args, "--no-external", "--format", "sarif", cwd=cwd)
    assert done.returncode in (0, 1), done.stderr
    sarif = json.loads(done.stdout)
    assert schema_errors(sarif) == []
    return done.returncode, sarif


def rule_ids(report: dict[str, Any], *, active: bool = True) -> list[str]:
    return [f["rule_id"] for f in report["findings"] if (f["suppressed"] is None) == active]


def results(sarif: dict[str, Any], rule_id: str) -> list[dict[str, Any]]:
    return [r for r in sarif["runs"][0]["results"] if r["ruleId"] == rule_id]


# --- inline suppressions ------------------------------------------------------------------------


def test_unsuppressed_root_user_fails(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", ROOT_DOCKERFILE)
    code, report = scan_json(str(tmp_path), "--select", "DF008", "--fail-on", "high")
    assert (code, rule_ids(report)) == (1, ["DF008"])


def test_a_suppression_with_a_reason_leaves_the_failure_count_and_stays_in_sarif(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", SUPPRESSED.format(options='reason="builder image, never deployed"'))
    code, report = scan_json(str(tmp_path), "--select", "DF008", "--fail-on", "high")
    assert code == 0
    assert rule_ids(report) == [] and rule_ids(report, active=False) == ["DF008"]
    assert report["summary"]["suppressed"] == 1
    code, sarif = scan_sarif(str(tmp_path), "--select", "DF008", "--fail-on", "high")
    (result,) = results(sarif, "DF008")
    assert result["suppressions"][0]["kind"] == "inSource"
    assert result["suppressions"][0]["justification"] == "builder image, never deployed"


def test_a_suppression_without_a_reason_is_a_finding_and_suppresses_nothing(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", SUPPRESSED.format(options=""))
    code, report = scan_json(str(tmp_path), "--select", "DF008", "--fail-on", "high")
    assert code == 1
    assert sorted(rule_ids(report)) == ["AUD002", "DF008"]
    (aud002,) = [f for f in report["findings"] if f["rule_id"] == "AUD002"]
    assert "reason" in aud002["message"] and aud002["line"] == 3


def test_an_expired_suppression_brings_the_finding_back(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", SUPPRESSED.format(options='reason="temporary" until=2001-01-31'))
    code, report = scan_json(str(tmp_path), "--select", "DF008", "--fail-on", "high")
    assert code == 1
    assert sorted(rule_ids(report)) == ["AUD002", "DF008"]
    assert any("expired" in f["message"] for f in report["findings"] if f["rule_id"] == "AUD002")


def test_a_suppression_that_has_not_expired_yet_still_suppresses(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", SUPPRESSED.format(options='reason="temporary" until=2999-12-31'))
    code, report = scan_json(str(tmp_path), "--select", "DF008", "--fail-on", "high")
    assert (code, rule_ids(report)) == (0, [])


def test_an_unused_suppression_is_reported_as_aud002(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", 'FROM node:20-alpine\n# auditor: ignore=DF008 reason="was root once"\nUSER 1001\n')
    code, report = scan_json(str(tmp_path), "--select", "DF008", "--fail-on", "medium")
    assert code == 1  # AUD002 is medium
    (aud002,) = [f for f in report["findings"] if f["rule_id"] == "AUD002"]
    assert "unused" in aud002["message"] and aud002["line"] == 2
    assert scan_json(str(tmp_path), "--select", "DF008", "--fail-on", "high")[0] == 0


def test_no_suppress_shows_everything(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", SUPPRESSED.format(options='reason="builder image, never deployed"'))
    code, report = scan_json(str(tmp_path), "--select", "DF008", "--fail-on", "high", "--no-suppress")
    assert (code, rule_ids(report)) == (1, ["DF008"])


# --- configured suppressions --------------------------------------------------------------------


def test_configured_suppressions_match_rule_and_path_glob(tmp_path: Path) -> None:
    write(tmp_path / "legacy" / "Dockerfile", ROOT_DOCKERFILE)
    write(tmp_path / "app" / "Dockerfile", ROOT_DOCKERFILE)
    write(tmp_path / ".auditor.yaml",
          'suppress:\n  - rule: DF008\n    path: "legacy/*"\n    reason: "legacy image, retired in Q3"\n')
    code, report = scan_json(str(tmp_path), "--select", "DF008", "--fail-on", "high")
    assert code == 1
    assert [(f["file"], f["suppressed"]) for f in report["findings"]] == [
        ("app/Dockerfile", None),
        ("legacy/Dockerfile", {"kind": "config", "reason": "legacy image, retired in Q3"})]
    _, sarif = scan_sarif(str(tmp_path), "--select", "DF008")
    kinds = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r.get("suppressions")
             for r in results(sarif, "DF008")}
    assert kinds["app/Dockerfile"] is None
    assert kinds["legacy/Dockerfile"] == [{"kind": "external", "status": "accepted",
                                           "justification": "legacy image, retired in Q3"}]


def test_an_unused_configured_suppression_is_reported(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", "FROM node:20-alpine\nUSER 1001\n")
    write(tmp_path / ".auditor.yaml", 'suppress:\n  - rule: DF008\n    path: "old/*"\n    reason: "gone"\n')
    _, report = scan_json(str(tmp_path), "--select", "DF008")
    (aud002,) = [f for f in report["findings"] if f["rule_id"] == "AUD002"]
    assert "unused" in aud002["message"] and aud002["file"] == ".auditor.yaml"


# --- baselines ----------------------------------------------------------------------------------


def create_baseline(tree: Path, target: Path, *select: str) -> None:
    done = run_auditor("baseline", "create", str(tree), "-o", str(target), "--no-external", *select)
    assert done.returncode == 0, done.stderr


def test_a_baseline_survives_moved_lines_and_still_fails_on_a_new_finding(tmp_path: Path) -> None:
    tree = tmp_path / "repo"
    dockerfile = write(tree / "Dockerfile", MANY_PROBLEMS)
    baseline = tmp_path / "baseline.json"
    create_baseline(tree, baseline, "--select", "DF")
    recorded = json.loads(baseline.read_text(encoding="utf-8"))["findings"]
    assert len(recorded) >= 3, recorded  # a baseline of one finding would prove little

    # Moving code: ten blank lines and a comment on top shift every finding down 11 lines.
    dockerfile.write_text("\n" * 10 + "# moved down by a refactoring\n" + MANY_PROBLEMS, encoding="utf-8")
    code, report = scan_json(str(tree), "--baseline", str(baseline), "--select", "DF", "--fail-on", "high")
    assert [f for f in report["findings"] if f["suppressed"] is None] == []
    assert code == 0
    assert sorted(f["fingerprint"] for f in report["findings"]) == sorted(e["fingerprint"] for e in recorded)
    # every finding on an instruction moved down; one about the whole file stays at line 1
    assert all(f["line"] > 11 or f["column"] is None for f in report["findings"])
    _, sarif = scan_sarif(str(tree), "--baseline", str(baseline), "--select", "DF")
    assert {r["baselineState"] for r in sarif["runs"][0]["results"]} == {"unchanged"}

    # A new finding fails the gate, and only it is new.
    write(tree / "worker" / "Dockerfile", "FROM node:20-alpine\nUSER root\n")
    code, report = scan_json(str(tree), "--baseline", str(baseline), "--select", "DF", "--fail-on", "high")
    assert code == 1
    assert {f["file"] for f in report["findings"] if f["suppressed"] is None} == {"worker/Dockerfile"}
    _, sarif = scan_sarif(str(tree), "--baseline", str(baseline), "--select", "DF")
    states = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["baselineState"])
              for r in sarif["runs"][0]["results"]}
    assert {state for uri, state in states if uri == "worker/Dockerfile"} == {"new"}
    assert {state for uri, state in states if uri == "Dockerfile"} == {"unchanged"}


def test_a_baseline_survives_moved_lines_for_a_finding_about_the_whole_file(tmp_path: Path) -> None:
    tree = tmp_path / "repo"
    dockerfile = write(tree / "Dockerfile", MANY_PROBLEMS)
    baseline = tmp_path / "baseline.json"
    create_baseline(tree, baseline, "--select", "DF019")
    assert [e["rule_id"] for e in json.loads(baseline.read_text(encoding="utf-8"))["findings"]] == ["DF019"]
    dockerfile.write_text("\n" * 10 + "# moved down by a refactoring\n" + MANY_PROBLEMS, encoding="utf-8")
    code, report = scan_json(str(tree), "--baseline", str(baseline), "--select", "DF019", "--fail-on", "medium")
    assert [f["rule_id"] for f in report["findings"] if f["suppressed"] is None] == []
    assert code == 0


def test_a_fixed_baselined_finding_is_reported_as_fixed(tmp_path: Path) -> None:
    tree = tmp_path / "repo"
    write(tree / "Dockerfile", ROOT_DOCKERFILE)
    baseline = tmp_path / "baseline.json"
    create_baseline(tree, baseline, "--select", "DF008")
    write(tree / "Dockerfile", ROOT_DOCKERFILE.replace("USER root", "USER 1001"))
    code, sarif = scan_sarif(str(tree), "--baseline", str(baseline), "--select", "DF008")
    assert code == 0
    assert [entry["rule_id"] for entry in sarif["runs"][0]["properties"]["baselineFixed"]] == ["DF008"]


# --- changed-files modes ------------------------------------------------------------------------


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false",
                    *args], cwd=repo, check=True, capture_output=True, timeout=60)


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    write(repo / "api" / "Dockerfile", ROOT_DOCKERFILE)
    write(repo / "web" / "Dockerfile", ROOT_DOCKERFILE)
    write(repo / "web" / ".dockerignore", DOCKERIGNORE)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    return repo


def test_diff_base_reports_only_the_changed_files(git_repo: Path) -> None:
    write(git_repo / "web" / "Dockerfile", ROOT_DOCKERFILE + "EXPOSE 3000\n")
    code, report = scan_json(".", "--diff-base", "HEAD", "--select", "DF008", cwd=git_repo)
    assert code == 1
    assert {f["file"] for f in report["findings"]} == {"web/Dockerfile"}
    _, everything = scan_json(".", "--select", "DF008", cwd=git_repo)
    assert {f["file"] for f in everything["findings"]} == {"api/Dockerfile", "web/Dockerfile"}


def test_diff_base_with_nothing_changed_reports_nothing(git_repo: Path) -> None:
    code, report = scan_json(".", "--diff-base", "HEAD", "--select", "DF008", cwd=git_repo)
    assert (code, report["findings"]) == (0, [])


def test_scanning_one_file_reports_it_alone_but_reads_the_rest_for_context(git_repo: Path) -> None:
    code, report = scan_json("web/Dockerfile", "--select", "DF008,DF019", cwd=git_repo)
    assert code == 1
    assert {f["file"] for f in report["findings"]} == {"web/Dockerfile"}
    # DF019 needs web/.dockerignore, which was not named: it was read anyway, so no finding.
    assert rule_ids(report) == ["DF008"]
    _, api = scan_json("api/Dockerfile", "--select", "DF008,DF019", cwd=git_repo)
    assert sorted(rule_ids(api)) == ["DF008", "DF019"]
