"""SARIF within GitHub's limits and as GitHub shows it: at most 25,000 results (the most severe)
and 10 MB compressed, what was left out said; related locations linked from the message; honest
precision, one spelling per tag, CWE tags; a run category; a scanner that could not run as one
result at the scanned root. Every log here passes the schema, the key ones the Multitool too."""
from __future__ import annotations

import dataclasses
import gzip
import io
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from auditor.api import scan
from auditor.engine import AuditResult
from auditor.findings import SEVERITY_RANK
from auditor.report import taxonomy
from auditor.report.console import render_text
from auditor.report.sarif import MAX_RESULTS, render_sarif, result_to_sarif
from tests.conftest import FIXTURES, run_auditor
from tests.support.sarif_validation import multitool_errors, require_multitool, schema_errors

XF002_BAD = FIXTURES / "cases" / "XF002" / "bad_kubernetes"


def _run(sarif: dict[str, Any]) -> dict[str, Any]:
    run: dict[str, Any] = sarif["runs"][0]
    return run


def _validate(sarif: dict[str, Any], tmp_path: Path) -> None:
    assert schema_errors(sarif) == []
    require_multitool()
    path = tmp_path / "log.sarif"
    path.write_text(json.dumps(sarif, indent=2, ensure_ascii=False), encoding="utf-8")
    assert multitool_errors(path) == []


@pytest.fixture(scope="module")
def corpus_result() -> AuditResult:
    """A real scan's findings repeated to 25,600 (a corpus of that size takes minutes to scan;
    the renderer is what is under test, so the real findings are copied at other lines)."""
    base = scan([FIXTURES / "noncompliant"])
    assert len(base.findings) >= 20
    copies = []
    for number in range(25_600 // len(base.findings) + 1):
        for finding in base.findings:
            span = finding.span._replace(line=finding.span.line + 10_000 * number)
            copies.append(dataclasses.replace(finding, span=span, fingerprint=f"{finding.fingerprint[:24]}{number:08d}"))
    return dataclasses.replace(base, findings=copies[:25_600])


def test_at_most_25000_results_the_most_severe_and_the_rest_counted(corpus_result: AuditResult, tmp_path: Path) -> None:
    sarif = result_to_sarif(corpus_result)
    run = _run(sarif)
    results = run["results"]
    assert len(results) == MAX_RESULTS == 25_000
    ranks = [SEVERITY_RANK[r["properties"]["severity"]] for r in results]
    assert ranks == sorted(ranks, reverse=True)  # most severe first
    # what was left out is the least severe: nothing kept is less severe than anything left out
    left = sorted(corpus_result.findings, key=lambda f: -SEVERITY_RANK[f.severity])[MAX_RESULTS:]
    assert min(ranks) >= max(SEVERITY_RANK[f.severity] for f in left)
    (note,) = [n for n in run["invocations"][0]["toolExecutionNotifications"]
               if n.get("descriptor", {}).get("id") == "results-left-out"]
    assert note["message"]["text"].startswith("600 of 25600 results were left out")
    assert len(gzip.compress(json.dumps(sarif).encode())) < 10_000_000
    # Each result is one of the fixture's findings copied to another line, rendered by the same
    # code: the schema is checked on the whole log with one result per distinct finding (all
    # 25,000 took half a minute and prove nothing more), and the copies differ only in place.
    distinct = {(r["ruleId"], r["message"]["text"]): r for r in reversed(results)}
    assert len(distinct) >= 20 and len(distinct) < len(results)
    assert schema_errors({**sarif, "runs": [{**run, "results": list(distinct.values())}]}) == []
    assert {json.dumps({**r, "locations": None, "partialFingerprints": None}, sort_keys=True) for r in results} \
        == {json.dumps({**r, "locations": None, "partialFingerprints": None}, sort_keys=True) for r in distinct.values()}


def test_the_text_summary_says_what_sarif_leaves_out(corpus_result: AuditResult) -> None:
    stream = io.StringIO()
    render_text(corpus_result, stream, color=False)
    assert "SARIF keeps the 25000 most severe of 25600 findings" in stream.getvalue()
    small = io.StringIO()
    render_text(scan([FIXTURES / "noncompliant"]), small, color=False)
    assert "SARIF keeps" not in small.getvalue()


def test_the_compressed_size_limit_cuts_further_and_says_so() -> None:
    result = scan([FIXTURES / "noncompliant"])
    full = result_to_sarif(result)
    limit = len(gzip.compress(json.dumps(full, indent=2, ensure_ascii=False).encode())) - 200
    cut = result_to_sarif(result, max_gzip_bytes=limit)
    kept = len(_run(cut)["results"])
    assert 0 < kept < len(result.findings)
    assert len(gzip.compress(json.dumps(cut, indent=2, ensure_ascii=False).encode())) <= limit
    texts = [n["message"]["text"] for n in _run(cut)["invocations"][0]["toolExecutionNotifications"]]
    assert any(t.startswith(f"{len(result.findings) - kept} of {len(result.findings)} results were left out") for t in texts)


def test_related_locations_have_messages_and_are_linked_from_the_result(tmp_path: Path) -> None:
    sarif = result_to_sarif(scan([XF002_BAD]))
    results = [r for r in _run(sarif)["results"] if r.get("relatedLocations")]
    assert results
    for result in results:
        for related in result["relatedLocations"]:
            text = related["message"]["text"]
            assert text and text != "related location"
            assert f"]({related['id']})" in result["message"]["text"]
    port = next(r for r in results if r["ruleId"] == "XF002" and "targetPort 8080" in r["message"]["text"])
    assert "[EXPOSE 3000](1)" in port["message"]["text"]
    assert port["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "Dockerfile"
    _validate(sarif, tmp_path)


def test_precision_is_per_rule_tags_have_one_spelling_and_cwe_tags_where_they_fit() -> None:
    rules = {r["id"]: r for r in _run(result_to_sarif(scan([XF002_BAD])))["tool"]["driver"]["rules"]}
    precisions = Counter(r["properties"]["precision"] for r in rules.values())
    assert set(precisions) <= {"very-high", "high", "medium", "low"} and len(precisions) >= 3, precisions
    assert rules["DF008"]["properties"]["precision"] == "very-high"
    assert rules["SC002"]["properties"]["precision"] == "medium"
    all_tags = {t for r in rules.values() for t in r["properties"]["tags"]}
    assert "cross-file" in all_tags and "cross_file" not in all_tags
    assert not [t for t in all_tags if "_" in t or t != t.lower()]
    assert "external/cwe/cwe-250" in rules["DF008"]["properties"]["tags"]
    assert "external/cwe/cwe-798" in rules["DF015"]["properties"]["tags"]
    assert not [t for t in rules["DF012"]["properties"]["tags"] if t.startswith("external/cwe")]
    # every rule of the catalog is judged in the one table (a new rule is noticed here)
    assert sorted(set(rules) - set(taxonomy.RULES)) == [r for r in sorted(rules) if r.startswith("AR")]


def test_the_run_has_a_category_chosen_or_derived(tmp_path: Path) -> None:
    result = scan([XF002_BAD])
    assert _run(result_to_sarif(result))["automationDetails"] == {"id": "auditor/bad_kubernetes/"}
    assert _run(result_to_sarif(result, "auditor/k8s"))["automationDetails"] == {"id": "auditor/k8s/"}
    out = tmp_path / "out.sarif"
    done = run_auditor("scan", str(XF002_BAD), "--no-external", "--sarif-category", "infra/kubernetes",
                       "--format", f"sarif:{out}")
    assert done.returncode in (0, 1), done.stderr
    assert _run(json.loads(out.read_text()))["automationDetails"]["id"] == "infra/kubernetes/"


def scan_with_runs(root: Path, runs: list[Any]) -> AuditResult:
    """A scan whose external scanners' runs are given (real runs, or Trivy's recorded report)."""
    from concurrent.futures import Future

    from auditor.api import audit_tree
    from auditor.catalog import load_catalog
    from auditor.config import Config
    from auditor.discovery import discover
    from auditor.engine import select_rules

    future: Future[list[Any]] = Future()
    future.set_result(runs)
    config = Config()
    found = discover([root], root, exclude=config.exclude, max_file_size=config.max_file_size,
                     max_files=config.max_files)
    return audit_tree(found, select_rules(load_catalog(), config, (), ()), config, [str(root)], external=future)


def test_a_scanner_that_could_not_run_is_one_result_at_the_scanned_root(tmp_path: Path) -> None:
    from auditor.scanners import run_scanners
    from auditor.scanners.records import ScannerOptions

    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "package-lock.json").write_text('{\n  "name": "shop",\n  "lockfileVersion": 3,\n  "packages": {}\n}\n')
    (tree / "Dockerfile").write_text("FROM node:20-alpine\nUSER 1001\n")
    runs = run_scanners(tree, [], ScannerOptions(trivy_path=str(tmp_path / "no-such-trivy")))  # real failure path
    assert [r.scanner for r in runs] == ["trivy fs", "trivy config"] and all(r.error for r in runs)
    sarif = result_to_sarif(scan_with_runs(tree, runs))
    failures = [r for r in _run(sarif)["results"] if r["ruleId"] == "SC004"]
    assert len(failures) == 1, [r["message"]["text"] for r in failures]
    (failure,) = failures
    location = failure["locations"][0]["physicalLocation"]
    # the scanned root (GitHub needs a region: line 1), no snippet quoting a lockfile's `{`
    assert location == {"artifactLocation": {"uri": ".", "uriBaseId": "%SRCROOT%"}, "region": {"startLine": 1}}
    assert "trivy fs" in failure["message"]["text"] and "trivy config" in failure["message"]["text"]
    notes = [n["message"]["text"] for n in _run(sarif)["invocations"][0]["toolExecutionNotifications"]]
    assert any(n.startswith("trivy fs could not run") for n in notes)
    assert any(n.startswith("trivy config could not run") for n in notes)
    _validate(sarif, tmp_path)


def test_render_matches_result_to_sarif_with_a_category() -> None:
    result = scan([XF002_BAD])
    stream = io.StringIO()
    render_sarif(result, stream, "x")
    assert json.loads(stream.getvalue()) == json.loads(json.dumps(result_to_sarif(result, "x")))


def test_vulnerabilities_get_one_rule_per_advisory_with_its_link(tmp_path: Path) -> None:
    """Trivy's recorded JSON report (the database cannot be downloaded here) mapped as a real run
    would be, then folded and rendered."""
    from auditor.scanners.records import ScannerOptions, ScannerRun
    from auditor.scanners.trivy import TrivyBinary, TrivyContext, map_report
    from tests.scanners.helpers import DATA, LODASH_PROJECT

    report = json.loads((DATA / "trivy-fs-lodash-project.json").read_text())
    context = TrivyContext(root=LODASH_PROJECT, binary=TrivyBinary(Path("/recorded/trivy"), None),
                           options=ScannerOptions(), minimum="high", workdir=tmp_path, cache_dir=None)
    found, dropped = map_report(report, context, "trivy fs")
    run = ScannerRun("trivy fs", ("trivy", "fs"), "0.76.0", None, 0.1, tuple(found), None, dropped)
    merged = scan_with_runs(LODASH_PROJECT, [run])
    assert merged.controls["SC001"].status == "fail"  # the control of the compliance view
    sarif = result_to_sarif(merged)
    rules = {r["id"]: r for r in _run(sarif)["tool"]["driver"]["rules"]}
    template = rules["CVE-2021-23337"]
    assert template["helpUri"] == "https://avd.aquasec.com/nvd/cve-2021-23337"
    assert template["properties"]["control"] == "SC001"
    assert "external/cwe/cwe-1395" in template["properties"]["tags"]
    results = [r for r in _run(sarif)["results"] if r["ruleId"] == "CVE-2021-23337"]
    assert len(results) == 1
    text = results[0]["message"]["text"]
    assert "lodash 4.17.15" in text and "4.17.21" in text
    assert results[0]["properties"]["scanner"] == "trivy fs"
    assert rules[results[0]["ruleId"]] is not None and results[0]["ruleIndex"] == list(rules).index("CVE-2021-23337")
    assert not [r for r in _run(sarif)["results"] if r["ruleId"] == "SC001"]
    _validate(sarif, tmp_path)


