"""What the engine makes of outcomes (auditor/findings.py): a finding without properties shares one
empty, read-only mapping (not an empty dict of its own), which behaves as ``{}`` everywhere a
finding goes: equality, ``dataclasses.replace``, pickling to a worker or the cache, JSON."""
from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from pathlib import Path

import pytest

from auditor.api import scan
from auditor.findings import NO_PROPERTIES, Finding
from auditor.model.span import Span


def test_findings_without_properties_share_one_read_only_mapping(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM node:latest\nUSER root\nEXPOSE 22\n")
    findings = scan([tmp_path]).findings
    assert len(findings) > 2
    assert all(f.properties is NO_PROPERTIES for f in findings)
    with pytest.raises(TypeError):
        findings[0].properties["scanner"] = "x"
    with pytest.raises(TypeError):
        findings[0].properties.update(scanner="x")
    assert NO_PROPERTIES == {} and not NO_PROPERTIES and json.dumps(NO_PROPERTIES) == "{}"


def test_shared_properties_survive_replace_pickle_and_copy() -> None:
    finding = Finding("DF008", "high", "title", "message", Span("Dockerfile", 2, 1), "USER root", "ab" * 16)
    assert finding.properties is NO_PROPERTIES
    assert finding == dataclasses.replace(finding, properties={})
    for again in (pickle.loads(pickle.dumps(finding)), copy.deepcopy(finding), copy.copy(finding),
                  dataclasses.replace(finding, message="other")):
        assert again.properties is NO_PROPERTIES
    own = Finding("SC001", "high", "t", "m", Span("package-lock.json", 1), "", properties={"package": "x"})
    assert pickle.loads(pickle.dumps(own)).properties == {"package": "x"}


def test_stamped_findings_are_findings_like_any_other() -> None:
    """The engine's cheap constructor gives a real, frozen Finding equal to the one the class
    builds, which pickles, copies and is replaced like one."""
    from auditor.findings import Related, stamped

    args = ("KS005", "medium", "title", "message", Span("k8s/a.yaml", 7, 5, 9), "- name: c", "cd" * 16,
            (Related(Span("k8s/a.yaml", 2), "kind: Pod"),), {"scanner": "x"})
    made = stamped(*args)
    assert type(made) is Finding and made == Finding(*args) and repr(made) == repr(Finding(*args))
    assert made.suppression is None and not made.suppressed
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.message = "changed"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(made)) == made and copy.deepcopy(made) == made
    assert dataclasses.replace(made, message="other").message == "other"
    assert dataclasses.astuple(made)[:4] == args[:4]


def test_sort_findings_is_the_sort_key_order_stably() -> None:
    """``sort_findings`` (one stable pass per key) puts findings in the order of one sort on
    ``Finding.sort_key``, ties (equal keys, different fingerprints) in their first order."""
    import random

    from auditor.findings import sort_findings

    rng = random.Random(7)
    findings = [Finding(rng.choice(["DF008", "DF001", "KS005"]), "high", "t", rng.choice(["a", "b", "B", "é"]),
                        Span(rng.choice(["Dockerfile", "a/Dockerfile", "k8s/x.yaml"]), rng.randint(1, 4),
                             rng.choice([None, 0, 1, 2, 300])), "", f"{index:032x}")
                for index in range(3000)]
    expected = sorted(findings, key=Finding.sort_key)
    sort_findings(findings)
    assert [f.fingerprint for f in findings] == [f.fingerprint for f in expected]


def test_control_results_made_the_engines_cheap_way_are_control_results_like_any_other() -> None:
    """``control_result`` (one per rule and project) gives a real, frozen ControlResult equal to
    the one the class builds, which pickles (to the main process, to the cache) and copies."""
    from auditor.findings import ControlResult, Evidence, control_result

    evidence = (Evidence(Span("Dockerfile", 3), "USER 1001", "USER 1001"),)
    made = control_result("DF008", "pass", evidence)
    built = ControlResult("DF008", "pass", evidence)
    assert type(made) is ControlResult and made == built and repr(made) == repr(built)
    assert made.reason == "" and control_result("DF008", "error", (), "why").reason == "why"
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.status = "fail"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(made)) == built and copy.deepcopy(made) == built
    assert dataclasses.replace(made, status="fail") == ControlResult("DF008", "fail", evidence)
