"""Independent projects are audited apart, serially or in worker processes, with the same result."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import auditor.parallel as parallel
from auditor.api import scan
from auditor.discovery import discover
from tests.conftest import FIXTURES, REPO

GENERATOR = REPO.parent / "shared" / "bench" / "gen_corpus.py"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    if GENERATOR.is_file():
        subprocess.run([sys.executable, str(GENERATOR), "--projects", "12", "--out", str(root), "--seed", "7"],
                       check=True, capture_output=True)
    else:  # the shared generator is beside the repository in CI; copies of the fixtures otherwise
        for index, name in enumerate(["compliant", "noncompliant"] * 3):
            shutil.copytree(FIXTURES / name, root / f"{name}-{index}")
    return root


def _signature(root: Path, jobs: int) -> tuple[list[tuple[str, str, int, str, str]], dict[str, str]]:
    result = scan([root], ignore=["SC"], jobs=jobs)
    findings = [(f.rule_id, f.span.path, f.span.line, f.message, f.fingerprint) for f in result.findings]
    return findings, {rule_id: control.status for rule_id, control in result.controls.items()}


def test_jobs_1_and_jobs_2_give_identical_findings(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "POOL_THRESHOLD", 0)  # use the pool even on a small corpus
    serial, pooled = _signature(corpus, 1), _signature(corpus, 2)
    assert serial[0] and serial == pooled


def test_a_tree_of_projects_is_partitioned_by_top_level_folder(corpus: Path) -> None:
    groups = parallel.partitions(discover([corpus], corpus))
    assert groups is not None and len(groups) == len([p for p in corpus.iterdir() if p.is_dir()])


def test_one_deployment_spread_over_folders_is_not_partitioned() -> None:
    assert parallel.partitions(discover([FIXTURES / "compliant"], FIXTURES / "compliant")) is None
    target = FIXTURES / "cases" / "DC006" / "target"  # deploy/ builds ../docker/Dockerfile
    assert parallel.partitions(discover([target], target)) is None


def test_controls_combine_fail_over_pass_and_keep_all_evidence(corpus: Path) -> None:
    result = scan([corpus], select=["DF008"], jobs=1)
    control = result.controls["DF008"]
    failing = [f for f in result.findings if f.rule_id == "DF008"]
    assert control.status == ("fail" if failing else "pass")
    assert len({e.span.path.split("/")[0] for e in control.evidence}) > 1
