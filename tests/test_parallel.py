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


@pytest.mark.parametrize(("count", "workers"), [(1000, 2), (4000, 2), (100, 2), (12, 2), (3, 2), (1, 2), (1000, 4)])
def test_chunks_shrink_as_the_work_goes_so_the_workers_finish_together(count: int, workers: int) -> None:
    """Guided chunks: every partition once, in order; large chunks first, then ever smaller ones,
    the last no bigger than a sixty-fourth of an even share (even chunks of an eighth of the tree
    left one worker idle for up to a whole chunk at the end)."""
    starts = parallel.chunk_starts(count, workers)
    sizes = [end - start for start, end in zip(starts, starts[1:] + [count])]
    assert starts[0] == 0 and sum(sizes) == count and all(size > 0 for size in sizes)
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[-1] <= max(1, count // (workers * 64))
    assert sizes[0] >= count // (workers * 2)
    assert len(sizes) <= workers * 9  # a few tasks a worker: pickling and spool files stay few


def test_the_parse_only_floor_chunks_the_partitions_as_the_scan_does() -> None:
    """benchmarks/floor.py (issue 16's row a divides the scan's time by its own) splits the
    partitions into the scan's chunks."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("floor", REPO / "benchmarks" / "floor.py")
    assert spec is not None and spec.loader is not None
    floor = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(floor)
    parts = list(range(1000))
    starts = parallel.chunk_starts(len(parts), 2)
    assert [chunk[0] for chunk in floor._chunks(parts, 2)] == starts
    assert [item for chunk in floor._chunks(parts, 2) for item in chunk] == parts
