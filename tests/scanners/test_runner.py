"""run_scanners as the engine calls it: every scanner reported, in a fixed order, never an
exception."""
from __future__ import annotations

import json
import os
from pathlib import Path

from auditor.scanners import ScannerOptions, run_scanners
from auditor.scanners.process import run_process
from tests.scanners.helpers import write_stub


def test_runs_come_back_in_a_fixed_order_with_one_npm_run_per_lockfile(tmp_path):
    report = json.dumps({"SchemaVersion": 2, "ArtifactName": "x", "ArtifactType": "filesystem"})
    trivy = write_stub(tmp_path / "bin", "trivy", f"echo '{report}'\n")
    npm = write_stub(tmp_path / "bin", "npm", 'echo \'{"auditReportVersion": 2, "vulnerabilities": {}}\'\nexit 0\n')
    for folder in ("a", "b"):
        (tmp_path / "root" / folder).mkdir(parents=True)
        (tmp_path / "root" / folder / "package-lock.json").write_text("{}")
    options = ScannerOptions(trivy_path=str(trivy), npm_path=str(npm), image="shop:1")
    runs = run_scanners(tmp_path / "root", ["a/package-lock.json", "b/package-lock.json"], options)
    assert [run.scanner for run in runs] == ["trivy fs", "trivy config", "trivy image", "npm audit", "npm audit"]
    assert all(run.error is None and run.findings == () for run in runs)
    assert runs[2].command[1:3] == ("image", "--format") and runs[2].command[-1] == "shop:1"


def test_a_root_that_does_not_exist_gives_sc004_runs_not_an_exception(tmp_path):
    runs = run_scanners(tmp_path / "missing", ["package-lock.json"], ScannerOptions(trivy_path="/nonexistent"))
    assert runs and all(run.error for run in runs)
    assert {finding.rule_id for run in runs for finding in run.findings} == {"SC004"}


def test_offline_flags_and_cache_dir_are_passed_to_trivy(tmp_path):
    log = tmp_path / "args"
    trivy = write_stub(tmp_path / "bin", "trivy", f'echo "$@" >> "{log}"\necho "{{}}"\n')
    (tmp_path / "tree").mkdir()
    run_scanners(tmp_path / "tree", [], ScannerOptions(trivy_path=str(trivy), cache_dir=str(tmp_path / "c"),
                                                       ignore_unfixed=True, offline=True))
    # the stub is called concurrently (version probe, fs, config): pick each call by its verb
    calls = log.read_text().splitlines()
    fs_args = next(line for line in calls if line.startswith("fs"))
    config_args = next(line for line in calls if line.startswith("config"))
    for flag in ("--skip-db-update", "--offline-scan", "--skip-check-update", "--ignore-unfixed", f"--cache-dir {tmp_path / 'c'}"):
        assert flag in fs_args
    assert "--skip-check-update" in config_args and "--skip-db-update" not in config_args


def test_by_default_trivy_may_download_its_database_into_the_users_cache(tmp_path, monkeypatch):
    """Online is the default (as Trivy runs): no --skip-db-update, and no --cache-dir unless one
    was configured, so the database lands in Trivy's own cache of the user; dependency
    resolution stays offline (--offline-scan) whatever the mode."""
    log = tmp_path / "args"
    trivy = write_stub(tmp_path / "bin", "trivy", f'echo "$@" >> "{log}"\necho "{{}}"\n')
    (tmp_path / "tree").mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    run_scanners(tmp_path / "tree", [], ScannerOptions(trivy_path=str(trivy)))
    calls = log.read_text().splitlines()
    fs_args = next(line for line in calls if line.startswith("fs"))
    assert "--skip-db-update" not in fs_args and "--skip-check-update" not in fs_args
    assert "--offline-scan" in fs_args and "--cache-dir" not in fs_args


def test_a_cache_dir_inside_the_audited_tree_is_never_used(tmp_path):
    log = tmp_path / "args"
    trivy = write_stub(tmp_path / "bin", "trivy", f'echo "$@" >> "{log}"\necho "{{}}"\n')
    (tmp_path / "tree").mkdir()
    run_scanners(tmp_path / "tree", [], ScannerOptions(trivy_path=str(trivy), cache_dir=str(tmp_path / "tree" / "c")))
    fs_args = next(line for line in log.read_text().splitlines() if line.startswith("fs"))
    cache = fs_args.split("--cache-dir ", 1)[1].split()[0]
    assert not Path(cache).is_relative_to(tmp_path / "tree")
    assert sorted(p.name for p in (tmp_path / "tree").iterdir()) == []


def test_run_process_reports_a_binary_that_cannot_start(tmp_path):
    not_executable = tmp_path / "trivy"
    not_executable.write_text("not a program")
    result = run_process([str(not_executable)], cwd=tmp_path, timeout_seconds=5)
    assert result.start_error and result.exit_code is None


def test_a_relative_scanner_path_is_never_resolved_against_the_working_directory(tmp_path, monkeypatch):
    """A program the audited checkout holds (./tools/trivy, or trivy in a relative PATH entry)
    never runs: relative paths and relative PATH entries name the working directory."""
    marker = tmp_path / "ran"
    tree = tmp_path / "tree"
    write_stub(tree / "tools", "trivy", f'touch "{marker}"\necho "{{}}"\n')
    write_stub(tree / "tools", "npm", f'touch "{marker}"\n')
    (tree / "package-lock.json").write_text("{}")
    monkeypatch.chdir(tree)
    runs = {run.scanner: run for run in run_scanners(
        tree, ["package-lock.json"], ScannerOptions(trivy_path="./tools/trivy", npm_path="tools/npm"))}
    assert not marker.exists()
    for scanner in ("trivy config", "npm audit"):
        assert runs[scanner].error.startswith("not-found")
        assert "a relative path is refused" in runs[scanner].findings[-1].message
    # a relative PATH entry: only absolute entries are searched (the real binaries, if any)
    monkeypatch.setenv("PATH", "tools" + os.pathsep + "/nonexistent-bin")
    runs = {run.scanner: run for run in run_scanners(tree, ["package-lock.json"], ScannerOptions())}
    assert not marker.exists()
    assert runs["trivy config"].error.startswith("not-found") and runs["npm audit"].error.startswith("not-found")


def test_trivy_fs_never_resolves_dependencies_over_the_network(tmp_path):
    """--offline-scan even with offline: false (which only allows the database download): a
    pom.xml's <repositories> must not choose where Trivy connects."""
    log = tmp_path / "args"
    trivy = write_stub(tmp_path / "bin", "trivy", f'echo "$@" >> "{log}"\necho "{{}}"\n')
    (tmp_path / "tree").mkdir()
    run_scanners(tmp_path / "tree", [], ScannerOptions(trivy_path=str(trivy), offline=False, image="shop:1"))
    calls = log.read_text().splitlines()
    for verb in ("fs", "image"):
        line = next(call for call in calls if call.startswith(verb))
        assert "--offline-scan" in line and "--skip-db-update" not in line


def test_an_image_name_that_looks_like_an_option_is_refused(tmp_path):
    log = tmp_path / "args"
    trivy = write_stub(tmp_path / "bin", "trivy", f'echo "$@" >> "{log}"\necho "{{}}"\n')
    (tmp_path / "tree").mkdir()
    runs = run_scanners(tmp_path / "tree", [], ScannerOptions(trivy_path=str(trivy), image="--output=/tmp/x"))
    image = next(run for run in runs if run.scanner == "trivy image")
    assert image.error.startswith("bad-image")
    assert not any(call.startswith("image") for call in log.read_text().splitlines())


def test_identical_scanner_results_keep_their_fingerprints_whatever_order_trivy_lists_them(tmp_path: Path) -> None:
    # A fingerprint counts the occurrences of one identity in a file; Trivy lists identical
    # results (one KSV check on four containers) in no fixed order, so they swapped fingerprints
    # between runs and a baseline saw one fixed and one new.
    from auditor.model.span import Span
    from auditor.scanners.records import ScannerFinding, ScannerRun
    from tests.report.test_sarif_limits import scan_with_runs

    (tmp_path / "deploy.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n"
                                          "spec:\n  containers:\n  - name: a\n    image: x:1\n"
                                          "  - name: b\n    image: x:1\n")

    def result(line: int) -> ScannerFinding:
        return ScannerFinding("SC002", "medium", "KSV-0118", "Default security context configured",
                              Span("deploy.yaml", line), {}, "KSV-0118")

    def fingerprints(order: list[int]) -> dict[int, str]:
        run = ScannerRun("trivy config", ("trivy", "config"), "0.76.0", None, 0.1,
                         tuple(result(line) for line in order), None)
        found = scan_with_runs(tmp_path, [run]).findings
        return {f.span.line: f.fingerprint for f in found if f.rule_id == "SC002"}

    first, second = fingerprints([7, 9]), fingerprints([9, 7])
    assert len(first) == 2 and first == second
