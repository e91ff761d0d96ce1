"""Issue 13, item 4: the AR family compares what the architecture document promises with what the
deployment does. Every drift planted in ``fixtures/noncompliant/ARCHITECTURE.md`` is reported
with both places, in JSON and in SARIF (``relatedLocations``, validated against the official
schema); the compliant example reports none."""
from __future__ import annotations

import json
import os
from pathlib import Path

from auditor.api import scan
from auditor.config import Config
from tests.conftest import FIXTURES, run_auditor
from tests.support.sarif_validation import schema_errors

AR_RULES = ("AR001", "AR002", "AR003", "AR004", "AR005")
# (rule, file, line, the document's line it contradicts; None when the finding is at the document)
PLANTED = {
    ("AR001", "nginx/nginx.conf", 45, 9),          # a number: rate=50r/s against 10 req/s
    ("AR001", "docker-compose.yml", 49, 11),       # a number: user 1000 against UID 1001
    ("AR001", "docker-compose.yml", 103, 18),      # a number: subnet 10.10.0.0/24
    ("AR001", "k8s/deployment.yaml", 9, 19),       # a number: replicas 1 against 3
    ("AR001", "k8s/deployment.yaml", 40, 11),      # a number: runAsUser 0
    ("AR001", "Dockerfile", 44, 11),               # a number: USER root
    ("AR001", "nginx/conf.d/storefront.conf", 5, 12),  # a number: upstream app:8080 against port 3000
    ("AR002", "Dockerfile", 21, 11),               # an image: node:latest against node:20-alpine
    ("AR003", "ARCHITECTURE.md", 10, None),        # a header: Permissions-Policy never sent
    ("AR004", "ARCHITECTURE.md", 23, None),        # a scan promise: Trivy
    ("AR004", "ARCHITECTURE.md", 24, None),        # a scan promise: npm audit
    ("AR005", "ARCHITECTURE.md", 19, None),        # a missing layer: no HorizontalPodAutoscaler
}


def test_every_planted_drift_is_found_with_both_locations() -> None:
    result = scan([FIXTURES / "noncompliant"], select=["AR"])
    found = set()
    for finding in result.findings:
        related = [r.span for r in finding.related]
        doc_line = next((r.line for r in related if r.path == "ARCHITECTURE.md"), None)
        found.add((finding.rule_id, finding.span.path, finding.span.line, doc_line))
    assert found == PLANTED
    kinds = {rule for rule, *_ in PLANTED}
    assert kinds == set(AR_RULES)  # at least five places, of five different kinds


def test_the_compliant_example_agrees_with_its_document() -> None:
    result = scan([FIXTURES / "compliant"], select=["AR"])
    assert [f for f in result.findings] == []
    assert {rule: result.controls[rule].status for rule in AR_RULES} == dict.fromkeys(AR_RULES, "pass")
    evidence = " ".join(e.text for e in result.controls["AR004"].evidence)
    assert ".github/workflows/security.yml" in evidence  # the CI line that runs Trivy / npm audit


def test_sarif_and_json_carry_the_document_line(tmp_path: Path) -> None:
    sarif_file, json_file = tmp_path / "out.sarif", tmp_path / "out.json"
    run = run_auditor("scan", "--no-external", "--fail-on", "medium", "--select", "AR", "-f", f"sarif:{sarif_file}",
                      "-f", f"json:{json_file}", str(FIXTURES / "noncompliant"))
    assert run.returncode == 1, run.stderr
    sarif = json.loads(sarif_file.read_text())
    assert schema_errors(sarif) == []
    rate = [r for r in sarif["runs"][0]["results"]
            if r["ruleId"] == "AR001" and r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("nginx/nginx.conf")]
    assert len(rate) == 1
    related = rate[0]["relatedLocations"][0]["physicalLocation"]
    assert related["artifactLocation"]["uri"].endswith("ARCHITECTURE.md") and related["region"]["startLine"] == 9
    assert "10r/s" in rate[0]["message"]["text"] and "rate=50r/s" in rate[0]["message"]["text"]
    report = json.loads(json_file.read_text())
    assert sum(1 for f in report["findings"] if f["rule_id"].startswith("AR")) == len(PLANTED)


def _tree(root: Path) -> Path:
    (root / "nginx").mkdir(parents=True)
    (root / "nginx" / "nginx.conf").write_text(
        "events {}\nhttp {\n    limit_req_zone $binary_remote_addr zone=api:10m rate=30r/s;\n"
        "    server {\n        listen 8080;\n        location / { limit_req zone=api; proxy_pass http://app:3000; }\n"
        "    }\n}\n")
    return root


def test_the_document_named_on_the_command_line_may_live_outside_the_tree(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "tree")
    document = tmp_path / "docs" / "architecture.md"
    document.parent.mkdir()
    document.write_text("# Shop\n\n- nginx rate limiting (30 req/s)\n")
    assert scan([tree], select=["AR001"]).controls["AR001"].status == "not_applicable"  # no document
    agreeing = run_auditor("scan", "--no-external", "--fail-on", "medium", "--select", "AR", "--architecture", str(document), str(tree))
    assert agreeing.returncode == 0, agreeing.stdout + agreeing.stderr
    document.write_text("# Shop\n\n- nginx rate limiting (10 req/s)\n")
    drifting = run_auditor("scan", "--no-external", "--fail-on", "medium", "--select", "AR", "-f", "json", "--architecture", str(document), str(tree))
    assert drifting.returncode == 1
    finding = [f for f in json.loads(drifting.stdout)["findings"] if f["rule_id"] == "AR001"]
    assert len(finding) == 1 and finding[0]["file"].endswith("nginx/nginx.conf") and finding[0]["line"] == 3
    missing = run_auditor("scan", "--no-external", "--architecture", str(tmp_path / "nope.md"), str(tree))
    assert missing.returncode == 2 and "--architecture" in missing.stderr


def test_the_tree_config_names_the_document_and_a_link_out_of_the_tree_is_not_read(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "tree")
    (tree / "docs").mkdir()
    (tree / "docs" / "design.md").write_text("# Shop\n\nRate limiting: 10 req/s per client.\n")
    config = Config(architecture={"document": "docs/design.md"})
    result = scan([tree], config=config, select=["AR001"])
    assert [(f.span.path, f.span.line, f.related[0].span.line) for f in result.findings] == [("nginx/nginx.conf", 3, 3)]
    outside = tmp_path / "secret.md"
    outside.write_text("# Secret\n\nRate limiting: 99 req/s.\n")
    os.symlink(outside, tree / "docs" / "linked.md")
    result = scan([tree], config=Config(architecture={"document": "docs/linked.md"}), select=["AR001"])
    control = result.controls["AR001"]
    assert control.status == "error" and "leaves the audited tree" in control.reason
    assert not result.findings


def test_a_value_the_document_contradicts_itself_on_is_not_compared(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "tree")
    (tree / "ARCHITECTURE.md").write_text("# Shop\n\n- rate limiting (10 req/s)\n\nLater: 20 req/s per client.\n")
    result = scan([tree], select=["AR001"])  # ARCHITECTURE.md at the root is found without configuration
    assert result.findings == [] and result.controls["AR001"].status != "fail"


def test_the_compliance_report_has_a_document_versus_deployment_section() -> None:
    from auditor.catalog import load_catalog
    from auditor.report.compliance import build_report, report_to_markdown

    result = scan([FIXTURES / "noncompliant"], select=["AR"])
    markdown = report_to_markdown(build_report(result, load_catalog(), "fixtures/noncompliant"))
    section = markdown.split("## Document versus deployment", 1)[1]
    for rule in AR_RULES:
        assert f"[{rule}](#{rule.lower()})" in section
    assert "ARCHITECTURE.md:23" in section and "Trivy" in section  # the promise, its line, its status
    assert "nginx/nginx.conf" in section and "rate=50r/s" in section


def test_a_rule_document_the_tree_names_is_confined_even_beside_a_trusted_one(tmp_path: Path) -> None:
    """``--architecture`` makes its own document trusted (read wherever it lives); a rule-level
    ``document:`` in the tree's configuration replaces the path but must not inherit that trust."""
    tree = _tree(tmp_path / "tree")
    trusted = tmp_path / "trusted.md"
    trusted.write_text("# Shop\n\n- nginx rate limiting (10 req/s)\n")
    secret = tmp_path / "secret.md"
    secret.write_text("# Secret\n\nRate limiting: 99 req/s.\n")
    (tree / ".auditor.yaml").write_text(f"rules:\n  AR001:\n    document: {secret}\n")
    done = run_auditor("scan", "--no-external", "--select", "AR001", "-f", "json", "--architecture", str(trusted), str(tree))
    report = json.loads(done.stdout)
    control = next(c for c in report["controls"] if c["rule_id"] == "AR001")
    assert control["status"] == "error", control
    assert not [f for f in report["findings"] if f["rule_id"] == "AR001"]  # the secret's 99 req/s never compared


def test_a_utf16_document_is_read_and_a_binary_one_is_not_checked(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "tree")
    text = "# Shop\n\nRate limiting: 10 req/s per client.\n"
    (tree / "ARCHITECTURE.md").write_bytes(text.encode("utf-16"))  # with its byte-order mark
    result = scan([tree], select=["AR001"])
    assert [(f.span.path, f.span.line) for f in result.findings] == [("nginx/nginx.conf", 3)]
    (tree / "ARCHITECTURE.md").write_bytes(text.encode("utf-16-le"))  # no mark: NUL bytes
    control = scan([tree], select=["AR001"]).controls["AR001"]
    assert control.status == "error" and "not text" in control.reason


def test_ar002_is_not_checked_when_the_base_image_is_pinned_by_digest_alone(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "ARCHITECTURE.md").write_text("# Shop\n\nRuntime image base: node:20-alpine.\n")
    digest = "sha256:" + "a" * 64
    (tree / "Dockerfile").write_text(f"FROM node@{digest}\nUSER 1001\nCMD [\"node\", \"server.js\"]\n")
    result = scan([tree], select=["AR002"])
    assert result.controls["AR002"].status == "error", result.controls["AR002"]
    assert not result.findings  # never 'FROM node:latest'
    (tree / "Dockerfile").write_text(f"FROM node:20-alpine@{digest}\nUSER 1001\n")
    assert scan([tree], select=["AR002"]).controls["AR002"].status == "pass"


def test_ar004_is_not_checked_when_a_ci_file_could_not_be_read(tmp_path: Path) -> None:
    # A workflow over the read cap may hold the Trivy step: the promise is unknown, not broken.
    tree = tmp_path / "tree"
    workflows = tree / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (tree / "ARCHITECTURE.md").write_text("# Shop\n\n- Regular security scans (Trivy) of every image\n")
    (tree / "Dockerfile").write_text("FROM node:20-alpine\nUSER 1001\nCMD [\"node\", \"server.js\"]\n")
    (workflows / "build.yml").write_text("jobs:\n  build:\n    steps:\n      - run: npm ci\n")
    assert scan([tree], select=["AR004"]).controls["AR004"].status == "fail"
    padding = "# generated\n" * (600 * 1024 // 12)
    (workflows / "scan.yml").write_text(padding + "      - run: trivy image storefront\n")
    result = scan([tree], select=["AR004"])
    control = result.controls["AR004"]
    assert control.status == "error" and not result.findings, control
    assert ".github/workflows/scan.yml (over 512 KiB: not read)" in control.reason
    (workflows / "scan.yml").write_text("      - run: trivy image storefront\n")
    assert scan([tree], select=["AR004"]).controls["AR004"].status == "pass"


def test_ar002_is_not_checked_when_the_runtime_image_is_chosen_at_build_time(tmp_path: Path) -> None:
    # FROM $BASE with no default: the image is unknown, so the Dockerfile is still the app's and
    # the promise is not checked (error), never not applicable as if there were no app image.
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "ARCHITECTURE.md").write_text("# Shop\n\nRuntime image base: node:20-alpine.\n")
    (tree / "Dockerfile").write_text("ARG BASE\nFROM $BASE\nUSER 1001\nCMD [\"node\", \"server.js\"]\n")
    control = scan([tree], select=["AR002"]).controls["AR002"]
    assert control.status == "error" and "FROM $BASE, resolved only at build time" in control.reason, control


def test_the_conventional_document_is_looked_up_per_project(tmp_path: Path) -> None:
    """The five AR rules share one look-up of ARCHITECTURE.md per project (kept with the project):
    a document written after a project was built is found by the next project built, never
    hidden by what the earlier one saw, and the rules of one project see the same answer."""
    import shutil

    tree = tmp_path / "tree"
    shutil.copytree(FIXTURES / "compliant", tree)
    (tree / "ARCHITECTURE.md").rename(tmp_path / "ARCHITECTURE.md")
    without = scan([tree], select=["AR"])
    assert {rule: without.controls[rule].status for rule in AR_RULES} == dict.fromkeys(AR_RULES, "not_applicable")
    (tmp_path / "ARCHITECTURE.md").rename(tree / "ARCHITECTURE.md")
    again = scan([tree], select=["AR"])
    assert {rule: again.controls[rule].status for rule in AR_RULES} == dict.fromkeys(AR_RULES, "pass")
