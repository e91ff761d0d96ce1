"""run_scanners as the engine calls it: every scanner reported, in a fixed order, never an
exception."""
from __future__ import annotations

import json
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
    run_scanners(tmp_path / "tree", [], ScannerOptions(trivy_path=str(trivy), cache_dir=str(tmp_path / "c"), ignore_unfixed=True))
    # the stub is called concurrently (version probe, fs, config): pick each call by its verb
    calls = log.read_text().splitlines()
    fs_args = next(line for line in calls if line.startswith("fs"))
    config_args = next(line for line in calls if line.startswith("config"))
    for flag in ("--skip-db-update", "--offline-scan", "--skip-check-update", "--ignore-unfixed", f"--cache-dir {tmp_path / 'c'}"):
        assert flag in fs_args
    assert "--skip-check-update" in config_args and "--skip-db-update" not in config_args


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
