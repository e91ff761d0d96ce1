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
