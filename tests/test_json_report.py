"""The JSON report: valid against its published schema, deterministic, and stable fingerprints."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from auditor.api import scan
from auditor.report.json_report import result_to_dict
from tests.conftest import FIXTURES, REPO

SCHEMA = json.loads((REPO / "auditor" / "schemas" / "report.schema.json").read_text())


def test_report_validates_against_the_schema() -> None:
    report = result_to_dict(scan([FIXTURES / "cases" / "DF008"]))
    jsonschema.Draft202012Validator(SCHEMA).validate(report)
    assert report["findings"] and report["controls"]


def test_report_is_deterministic() -> None:
    first = json.dumps(result_to_dict(scan([FIXTURES / "cases" / "DF008"])))
    second = json.dumps(result_to_dict(scan([FIXTURES / "cases" / "DF008"])))
    assert first == second


def test_fingerprints_survive_moved_lines(tmp_path: Path) -> None:
    text = "FROM node:20-alpine\nRUN echo hi\nUSER root\nCMD [\"node\"]\n"
    (tmp_path / "Dockerfile").write_text(text)
    before = {f.rule_id: f.fingerprint for f in scan([tmp_path]).findings}
    (tmp_path / "Dockerfile").write_text("# a comment\n\n\n" + text.replace("RUN echo hi\n", "RUN echo hi\nRUN echo more\n"))
    after = {f.rule_id: f.fingerprint for f in scan([tmp_path]).findings}
    assert before["DF008"] == after["DF008"]


def test_secret_rules_never_copy_the_secret_into_reports(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM node:20-alpine\nENV STRIPE_API_TOKEN=tok_live_4eC39HqLyjWDarjtT1zdp7dc\nUSER 1001\n")
    text = json.dumps(result_to_dict(scan([tmp_path], select=["DF015"])))
    assert "DF015" in text
    assert "4eC39HqLyjWDarjtT1zdp7dc" not in text
    assert "STRIPE_API_TOKEN=<redacted>" in text
