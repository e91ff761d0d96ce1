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


def test_report_written_in_pieces_is_the_whole_document(tmp_path: Path, monkeypatch) -> None:
    """render_json writes the report piece by piece (findings and evidence in chunks, each piece
    escaped apart); the text must be exactly the one-piece document, whatever the chunk size, with
    names that need escaping (bidi, a byte that is not UTF-8) and controls of many evidence entries."""
    import io
    import os

    from auditor.report import json_report
    from auditor.textsafe import json_escape

    (tmp_path / "we\u202eb").mkdir()
    (tmp_path / "we\u202eb" / "Dockerfile").write_text("FROM node:latest\nEXPOSE 22\n")
    os.makedirs(tmp_path / "k8s")
    pods = ["apiVersion: v1\nkind: Pod\nmetadata:\n  name: p%d\nspec:\n  containers:\n  - name: c\n"
            "    image: x\n" % index for index in range(7)]
    (tmp_path / "k8s" / "pods.yaml").write_text("---\n".join(pods))
    (tmp_path / os.fsdecode(b"Dockerfile.\xff")).write_text("FROM alpine\n")
    result = scan([tmp_path])
    whole = json_escape(json.dumps(result_to_dict(result), ensure_ascii=False, separators=(",", ":"))) + "\n"
    assert len(result.findings) > 10 and max(len(c.evidence) for c in result.controls.values()) > 3
    assert "\\u202e" in whole and "\\xff" in whole
    for chunk in (1, 2, 3, 2000):
        monkeypatch.setattr(json_report, "_CHUNK", chunk)
        written = io.StringIO()
        json_report.render_json(result, written)
        assert written.getvalue() == whole, chunk


def test_findings_of_every_shape_are_written_as_their_dictionaries(tmp_path: Path) -> None:
    """render_json writes findings and evidence from the records without building dictionaries;
    each shape must give the text json's encoder gives ``result_to_dict``: related places, a
    suppression, scanner properties, a file-level finding (no column), text to escape, and a
    record whose values are not of the types the auditor makes (a bool line, a float column, a
    fingerprint that is not text), which must be written as json writes them, not mangled."""
    import dataclasses
    import io

    from auditor.findings import Evidence, Related, Suppression
    from auditor.model.span import Span
    from auditor.report import json_report
    from auditor.textsafe import json_escape

    (tmp_path / "Dockerfile").write_text("FROM node:latest\nEXPOSE 22\n")
    result = scan([tmp_path])
    base = result.findings[0]
    odd = [
        dataclasses.replace(base, message='say "hi"\t\\ \u202e\u00e9', snippet="\x7f\u2028"),
        dataclasses.replace(base, related=(Related(Span("Dockerfile", 2, 1, 2), "EXPOSE \"22\""),
                                           Related(Span("x\u202e", 1), ""))),
        dataclasses.replace(base, suppression=Suppression("inline", "a \"reason\"", Span("Dockerfile", 1))),
        dataclasses.replace(base, properties={"package": "lodash", "score": 7.5, "path": ["a", None, True],
                                              "nested": {"\u00e9": 1}}),
        dataclasses.replace(base, span=Span("sub/\u00e9 x.yaml", 1, None, None, None)),
        dataclasses.replace(base, span=Span("Dockerfile", True, 2.0, 3)),  # type: ignore[arg-type]
        dataclasses.replace(base, fingerprint=None),  # type: ignore[arg-type]
    ]
    result.findings.extend(odd)
    control = next(iter(result.controls.values()))
    result.controls[control.rule_id] = dataclasses.replace(control, evidence=control.evidence + (
        Evidence(Span("a\u202eb", 3, None, 7), "text \"q\"", "snip\u00e9"),
        Evidence(Span("a", 3, 4.5, None), 1, None),  # type: ignore[arg-type]
        Evidence(Span("b", 2), "text"),
    ))
    whole = json_escape(json.dumps(result_to_dict(result), ensure_ascii=False, separators=(",", ":"))) + "\n"
    written = io.StringIO()
    json_report.render_json(result, written)
    assert written.getvalue() == whole
    decoded = json.loads(written.getvalue())
    assert decoded["findings"][-len(odd) + 1]["related"][0]["message"] == 'EXPOSE "22"'
    assert decoded["findings"][-len(odd) + 3]["properties"]["score"] == 7.5
    assert decoded["findings"][-len(odd) + 5]["line"] is True


def test_partition_fragments_keep_each_findings_own_head_across_calls(tmp_path: Path) -> None:
    """fragment_text (a worker renders each partition's findings with it) keeps the heads it made
    (rule, severity, title) from one call to the next: a finding of the same rule with another
    severity or title in a later partition still gets its own, as json writes its dictionary."""
    import dataclasses

    from auditor.report.json_report import _ENCODER, finding_to_dict, fragment_text
    from auditor.textsafe import json_escape

    (tmp_path / "Dockerfile").write_text("FROM node:latest\nEXPOSE 22\n")
    base = scan([tmp_path]).findings[0]
    variants = [base, dataclasses.replace(base, severity="low" if base.severity != "low" else "high"),
                dataclasses.replace(base, title=base.title + " \u00e9"), base]
    for finding in variants:  # one call each, as partition after partition
        made = fragment_text([finding])
        assert made is not None
        assert made[0] == json_escape(_ENCODER.encode(finding_to_dict(finding))).encode("utf-8")


def test_evidence_text_and_rows_in_one_pass_are_fragment_texts_and_the_spools_rows(tmp_path: Path) -> None:
    """A worker renders each control's evidence as JSON text and as the spool's rows in one pass
    over the entries: the text is fragment_text's (the odd shapes included: no column, text to
    escape, values of other types than the auditor makes) and the rows are evidence_rows'."""
    from auditor.findings import Evidence
    from auditor.model.span import Span
    from auditor.report.json_report import evidence_text_and_rows, fragment_text
    from auditor.stream import evidence_rows

    evidence = {
        "DF001": [Evidence(Span("a/Dockerfile", 3, 1, 4, 9), "USER 1001", "USER 1001"),
                  Evidence(Span("a\u202eb", 3, None, 7), "text \"q\"", "snip\u00e9")],
        "DF002": [Evidence(Span("a", 3, 4.5, None), 1, None),  # type: ignore[arg-type]
                  Evidence(Span("b", 2), "text", "")],
    }
    texts, rows = evidence_text_and_rows(evidence)
    expected = fragment_text((), evidence)
    assert expected is not None and texts == expected[1]
    assert rows == {rule_id: evidence_rows(entries) for rule_id, entries in evidence.items()}
    undecoded = {"DF003": [Evidence(Span("bad\udcff", 1), "x", "")]}  # a file name's byte that is not UTF-8
    made = fragment_text((), undecoded)
    assert made is not None and evidence_text_and_rows(undecoded) == (made[1], {"DF003": evidence_rows(undecoded["DF003"])})
