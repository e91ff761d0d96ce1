"""Not checked fails closed (issue 11, attack 6): a file of an audited kind that the auditor could
not check (over the size cap or the parse-time budget, a line too long, includes nested too deep,
unreadable, a FIFO) is an AUD003 finding, so the gate fails, and the controls it feeds are
``error``, never ``pass`` or ``not_applicable``. SC004 and AUD findings never go into a baseline
and a baseline never hides them. Every scan here is the real CLI in a child process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.adversarial.corpus import MB, _write
from tests.adversarial.harness import REPO, scan

COMPLIANT_DOCKERFILE = "FROM node:20-alpine\nUSER 1001\n"
NEXT_PACKAGE = '{"name": "web", "dependencies": {"next": "14.2.3"}}'


def _auditor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AUDITOR_")}
    environment["PYTHONPATH"] = str(REPO)
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "auditor", *args], cwd=REPO, env=environment,
                          capture_output=True, text=True, timeout=300)


def _findings(report: dict[str, Any], rule_id: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["rule_id"] == rule_id]


def _controls(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    controls = report["controls"]
    return controls if isinstance(controls, dict) else {c["rule_id"]: c for c in controls}


def _pad_file(path: Path, head: str, size: int) -> None:
    """``head`` then comment lines up to ``size`` bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(head)
        line = "# " + "padding " * 12 + "\n"
        for _ in range(size // len(line) + 1):
            handle.write(line)


# --- size cap, line cap -----------------------------------------------------------------------


def test_the_same_dockerfile_passes_unpadded_and_fails_padded_over_the_size_cap(tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    _write(clean, "Dockerfile", COMPLIANT_DOCKERFILE)
    run = scan(clean, "--select", "DF008")
    assert run.exit_code == 0, run.stdout
    assert _controls(run.report)["DF008"]["status"] == "pass"  # type: ignore[arg-type]

    padded = tmp_path / "padded"
    _pad_file(padded / "Dockerfile", COMPLIANT_DOCKERFILE, 6 * MB)  # over the default 5 MB cap
    run = scan(padded, "--select", "DF008")
    assert run.exit_code == 1, run.stdout[-2000:]
    report = run.report
    assert report is not None
    [finding] = _findings(report, "AUD003")
    assert finding["file"] == "Dockerfile" and "size cap" in finding["message"]
    assert finding["severity"] == "high"
    assert _controls(report)["DF008"]["status"] == "error"
    assert _controls(report)["AUD003"]["status"] == "fail"
    assert not any(n["file"] == "Dockerfile" for n in report["notes"])  # a finding, not a note


def test_a_megabyte_comment_line_in_a_dockerfile_fails_the_gate(tmp_path: Path) -> None:
    _write(tmp_path, "Dockerfile", COMPLIANT_DOCKERFILE + "#" + "x" * MB + "\n")
    run = scan(tmp_path, "--select", "DF008")
    assert run.exit_code == 1
    [finding] = _findings(run.report, "AUD003")  # type: ignore[arg-type]
    assert "character cap" in finding["message"] and finding["line"] == 3
    assert _controls(run.report)["DF008"]["status"] == "error"  # type: ignore[arg-type]


def test_a_padded_file_in_one_of_several_independent_projects_still_fails(tmp_path: Path) -> None:
    # two apps side by side are audited partition by partition; the oversized file must not
    # fall between them
    for app in ("shop", "blog"):
        _write(tmp_path, f"{app}/docker-compose.yml", "services:\n  web:\n    build: .\n")
        _write(tmp_path, f"{app}/Dockerfile", COMPLIANT_DOCKERFILE)
    _pad_file(tmp_path / "blog/Dockerfile", COMPLIANT_DOCKERFILE, 6 * MB)
    run = scan(tmp_path, "--select", "DF008")
    assert run.exit_code == 1
    assert [f["file"] for f in _findings(run.report, "AUD003")] == ["blog/Dockerfile"]  # type: ignore[arg-type]
    assert _controls(run.report)["DF008"]["status"] == "error"  # type: ignore[arg-type]


def test_an_oversized_kubernetes_manifest_fails_but_a_big_non_manifest_yaml_does_not(tmp_path: Path) -> None:
    _pad_file(tmp_path / "k8s/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\n", 6 * MB)
    _pad_file(tmp_path / "docs/openapi.yaml", "openapi: 3.0.0\ninfo: {title: x}\n", 6 * MB)
    run = scan(tmp_path, "--select", "KS")
    assert [f["file"] for f in _findings(run.report, "AUD003")] == ["k8s/deploy.yaml"]  # type: ignore[arg-type]
    assert run.exit_code == 1
    assert any(n["file"] == "docs/openapi.yaml" and "size cap" in n["message"]
               for n in run.report["notes"])  # type: ignore[index]
    assert _controls(run.report)["KS012"]["status"] == "error"  # type: ignore[arg-type]


# --- lockfile, next.config.js -----------------------------------------------------------------


def test_an_oversized_lockfile_makes_sc003_not_checked_rather_than_absent(tmp_path: Path) -> None:
    _write(tmp_path, "package.json", NEXT_PACKAGE)
    with open(tmp_path / "package-lock.json", "w", encoding="utf-8") as handle:
        handle.write('{"name": "web", "lockfileVersion": 3, "packages": {"": {}}, "padding": "')
        handle.write("x" * 6 * MB)
        handle.write('"}\n')
    # the scanners run (Trivy is absent here, or pointed at nothing: that is SC004's business)
    done = _auditor("scan", str(tmp_path), "--select", "SC003", "--trivy", "/nonexistent/trivy",
                    "--format", "json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    sc003 = _controls(report)["SC003"]
    assert sc003["status"] == "error", sc003
    assert "package-lock.json" in sc003["reason"] and "no package-lock.json" not in sc003["reason"]
    assert [f["file"] for f in _findings(report, "AUD003")] == ["package-lock.json"]


def test_a_next_config_nested_past_the_reader_bound_is_not_checked(tmp_path: Path) -> None:
    _write(tmp_path, "package.json", NEXT_PACKAGE)
    _write(tmp_path, "next.config.js",
           "module.exports = " + "wrap(" * 50 + "{ output: 'standalone', poweredByHeader: false }"
           + ")" * 50 + ";\n")
    run = scan(tmp_path, "--select", "NX001,NX003")
    assert run.exit_code == 1
    [finding] = _findings(run.report, "AUD003")  # type: ignore[arg-type]
    assert finding["file"] == "next.config.js" and "deep" in finding["message"]
    controls = _controls(run.report)  # type: ignore[arg-type]
    assert controls["NX001"]["status"] == "error" and controls["NX003"]["status"] == "error"


def test_fifty_parentheses_around_a_next_config_are_read_through(tmp_path: Path) -> None:
    # parentheses change nothing in JavaScript: the reader unwraps them without spending its
    # bound, so the controls are really checked (and a bad value really fails)
    _write(tmp_path, "package.json", NEXT_PACKAGE)
    _write(tmp_path, "next.config.js",
           "module.exports = " + "(" * 50 + "{ output: 'standalone', poweredByHeader: true }" + ")" * 50 + ";\n")
    run = scan(tmp_path, "--select", "NX001,NX003")
    controls = _controls(run.report)  # type: ignore[arg-type]
    assert controls["NX001"]["status"] == "pass", controls["NX001"]
    assert controls["NX003"]["status"] == "fail", controls["NX003"]
    assert not _findings(run.report, "AUD003")  # type: ignore[arg-type]


def test_a_function_config_is_not_checked_rather_than_not_applicable(tmp_path: Path) -> None:
    _write(tmp_path, "package.json", NEXT_PACKAGE)
    _write(tmp_path, "next.config.js", "module.exports = (phase) => ({ poweredByHeader: false });\n")
    run = scan(tmp_path, "--select", "NX003")
    controls = _controls(run.report)  # type: ignore[arg-type]
    assert controls["NX003"]["status"] == "error", controls["NX003"]
    assert "function" in controls["NX003"]["reason"]


# --- nginx include depth ------------------------------------------------------------------------


def test_nginx_includes_nested_past_the_depth_bound_fail_the_gate(tmp_path: Path) -> None:
    _write(tmp_path, "nginx/nginx.conf", "events {}\nhttp {\n  server_tokens off;\n  include inc/c0.conf;\n}\n")
    for index in range(14):
        _write(tmp_path, f"nginx/inc/c{index}.conf", f"include inc/c{index + 1}.conf;\n")
    _write(tmp_path, "nginx/inc/c14.conf", "server_tokens on;\n")
    run = scan(tmp_path, "--select", "NG")
    assert run.exit_code == 1
    assert any("nested deeper than 10 levels" in f["message"]
               for f in _findings(run.report, "AUD003"))  # type: ignore[arg-type]
    statuses = {c["status"] for rule, c in _controls(run.report).items()  # type: ignore[arg-type]
                if rule.startswith("NG")}
    assert "pass" not in statuses and "not_applicable" not in statuses, statuses


# --- baselines never hide SC004 or AUD ------------------------------------------------------------


def test_a_baseline_never_swallows_a_scanner_that_could_not_run(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    _write(tree, "Dockerfile", "FROM node:latest\n")
    _write(tree, "package.json", NEXT_PACKAGE)
    baseline = tmp_path / "baseline.json"
    empty_bin = tmp_path / "bin"  # a PATH with no trivy on it: the scanner cannot run
    empty_bin.mkdir()
    no_trivy = {"PATH": str(empty_bin)}
    created = _auditor("baseline", "create", str(tree), "-o", str(baseline), env=no_trivy)
    assert created.returncode == 0, created.stderr
    recorded = json.loads(baseline.read_text(encoding="utf-8"))["findings"]
    assert recorded and not any(e["rule_id"] == "SC004" or e["rule_id"].startswith("AUD") for e in recorded)

    for extra in ((), ("--trivy", "/nonexistent/trivy")):
        done = _auditor("scan", str(tree), "--baseline", str(baseline), "--format", "json", *extra, env=no_trivy)
        assert done.returncode == 1, done.stdout[-2000:] + done.stderr
        report = json.loads(done.stdout)
        active = [f for f in report["findings"] if not f.get("suppressed")]
        assert {f["rule_id"] for f in active} == {"SC004"}, active  # everything else is baselined
        assert len(active) < len(report["findings"])  # and the baseline did hide the rest


def test_a_hand_written_baseline_entry_for_sc004_or_aud003_is_ignored(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    _pad_file(tree / "Dockerfile", COMPLIANT_DOCKERFILE, 6 * MB)
    first = scan(tree, "--select", "DF008")
    [finding] = _findings(first.report, "AUD003")  # type: ignore[arg-type]
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"version": 1, "findings": [
        {"fingerprint": finding["fingerprint"], "rule_id": "AUD003", "file": "Dockerfile", "line": 1, "message": ""},
        {"fingerprint": finding["fingerprint"], "rule_id": "DF008", "file": "Dockerfile", "line": 1, "message": ""},
        {"fingerprint": finding["fingerprint"]}]}))  # mislabelled and unlabelled: still ignored
    run = scan(tree, "--select", "DF008", "--baseline", str(baseline))
    assert run.exit_code == 1
    [again] = _findings(run.report, "AUD003")  # type: ignore[arg-type]
    assert not again.get("suppressed") and again["fingerprint"] == finding["fingerprint"]


def test_a_reasoned_suppression_does_hide_aud003(tmp_path: Path) -> None:
    _pad_file(tmp_path / "Dockerfile", COMPLIANT_DOCKERFILE, 6 * MB)
    config = tmp_path.parent / "auditor-user.yaml"
    config.write_text("suppress:\n  - rule: AUD003\n    path: Dockerfile\n    reason: generated, audited upstream\n")
    done = _auditor("scan", str(tmp_path), "--no-external", "--select", "DF008", "-c", str(config),
                    "--format", "json")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    report = json.loads(done.stdout)
    [finding] = _findings(report, "AUD003")
    assert finding.get("suppressed") or finding.get("suppression"), finding


# --- malformed baselines: exit 2 with a message, never a traceback -----------------------------------


def _scan_with_baseline(tmp_path: Path, content: bytes) -> subprocess.CompletedProcess[str]:
    tree = tmp_path / "tree"
    _write(tree, "Dockerfile", COMPLIANT_DOCKERFILE)
    baseline = tmp_path / "baseline.json"
    baseline.write_bytes(content)
    return _auditor("scan", str(tree), "--no-external", "--baseline", str(baseline))


def test_a_baseline_whose_fingerprint_is_a_list_is_a_usage_error(tmp_path: Path) -> None:
    done = _scan_with_baseline(tmp_path, json.dumps(
        {"version": 1, "findings": [{"fingerprint": ["0123abcd"], "rule_id": "DF008"}]}).encode())
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "findings[0] fingerprint is a list" in done.stderr


def test_a_deeply_nested_baseline_is_a_usage_error(tmp_path: Path) -> None:
    done = _scan_with_baseline(tmp_path, b'{"version": 1, "findings": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "nests JSON too deeply" in done.stderr


def test_a_baseline_with_wrong_types_is_a_usage_error(tmp_path: Path) -> None:
    for entry, expected in ((["x"], "findings[0] is a list"), ({"fingerprint": "0123abcd", "line": "7"}, "line is a string"),
                            ({"rule_id": "DF008"}, "has no fingerprint"),
                            ({"fingerprint": "not hex!"}, "not a hexadecimal")):
        done = _scan_with_baseline(tmp_path, json.dumps({"version": 1, "findings": [entry]}).encode())
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert expected in done.stderr, (entry, done.stderr)


def test_a_baseline_over_the_size_cap_is_refused_before_it_is_parsed(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from auditor import baseline as module

    monkeypatch.setattr(module, "MAX_BASELINE_BYTES", 1000)
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({"version": 1, "findings": [{"fingerprint": f"{i:032x}"} for i in range(100)]}))
    try:
        module.read_baseline(path)
    except module.BaselineError as exc:
        assert "over the 1,000-byte cap" in str(exc)
    else:
        raise AssertionError("an oversized baseline was read")
    os.mkfifo(tmp_path / "fifo.json")
    try:
        module.read_baseline(tmp_path / "fifo.json")  # never blocks waiting for a writer
    except module.BaselineError as exc:
        assert "not a regular file" in str(exc)
    else:
        raise AssertionError("a FIFO was read as a baseline")
