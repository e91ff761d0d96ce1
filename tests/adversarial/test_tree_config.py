"""Issue 11, attacks 1, 5 and 7: the audited tree's own configuration is policy only.

It cannot name a program (a fake ``./tools/trivy`` that would ``touch`` a marker never runs), it
cannot read a file outside the tree through a symbolic link (a unique string from a "secret" file
never reaches the output), and every way it can weaken the audit (``exclude: ["*"]``, a
suppression of every rule, every family off, ``fail_on: none``) is refused outright, listed in
every output format, or, with ``--policy``, refused by the floor. The CLI runs in a child process
from inside the tree, as CI runs it on a checkout.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NON_COMPLIANT_DOCKERFILE = "FROM node:20-alpine\nCMD [\"node\", \"server.js\"]\n"  # DF008 (high): no USER


def auditor(tree: Path, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m auditor ARGS`` from inside the tree (the CI checkout), with an empty home so
    the user's real configuration plays no part."""
    home = tree.parent / "home"
    home.mkdir(exist_ok=True)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITOR_") and k != "NO_COLOR"}
    full_env.update({"PYTHONPATH": str(REPO), "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
                     "XDG_CACHE_HOME": str(home / ".cache")})
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "auditor", *args], cwd=cwd or tree, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def fake_program(path: Path, marker: Path) -> Path:
    """A script that would leave ``marker`` behind if it ever ran."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\ntouch '{marker}'\necho '{{}}'\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    root.mkdir()
    (root / "Dockerfile").write_text(NON_COMPLIANT_DOCKERFILE)
    return root


# --- attack 1: a program named by the tree's configuration ---------------------------------------

PYPROJECT_SPELLINGS = ['[tool.auditor.scanners]\ntrivy_path = "./tools/trivy"\n',
                       '[tool]\nauditor.scanners.trivy_path = "./tools/trivy"\n',
                       'tool = {auditor = {scanners = {trivy_path = "./tools/trivy"}}}\n']


@pytest.mark.parametrize("where", [".auditor.yaml", "pyproject.toml", "pyproject.toml-dotted", "pyproject.toml-inline"])
def test_tree_config_naming_trivy_is_an_error_and_the_fake_never_runs(tree: Path, where: str) -> None:
    marker = tree.parent / "trivy-ran"
    fake_program(tree / "tools" / "trivy", marker)
    if where == ".auditor.yaml":
        (tree / ".auditor.yaml").write_text("scanners:\n  trivy_path: ./tools/trivy\n")
    else:
        spelling = {"pyproject.toml": 0, "pyproject.toml-dotted": 1, "pyproject.toml-inline": 2}[where]
        (tree / "pyproject.toml").write_text(PYPROJECT_SPELLINGS[spelling])
        where = "pyproject.toml"
    run = auditor(tree, "scan", ".", "--select", "SC")
    assert run.returncode == 2, run.stdout + run.stderr
    assert not marker.exists(), "the tree's own trivy ran"
    assert "scanners.trivy_path" in run.stderr and where in run.stderr
    assert "--trivy" in run.stderr and "AUDITOR_TRIVY_PATH" in run.stderr  # where the setting belongs
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("setting", [
    "scanners: {npm_path: ./tools/npm}", "scanners: {cache_dir: ./cache}", "scanners: {offline: false}",
    "scanners: {trivy_sha256: " + "a" * 64 + "}", "scanners: {timeout_seconds: 99999}", "jobs: 300",
    "max_file_size: 999999999", "parse_timeout: 100000", "max_files: 10000000", "max_include_depth: 500"])
def test_every_machinery_setting_from_the_tree_is_refused(tree: Path, setting: str) -> None:
    (tree / ".auditor.yaml").write_text(setting + "\n")
    run = auditor(tree, "scan", ".", "--no-external")
    assert run.returncode == 2, run.stdout + run.stderr
    key = setting.split(":")[0] if not setting.startswith("scanners") else "scanners." + setting.split("{")[1].split(":")[0]
    assert f".auditor.yaml: {key}:" in run.stderr, run.stderr
    assert "config.yaml" in run.stderr  # names the user's own configuration as the place for it


def test_lowering_a_bound_is_policy_and_is_listed(tree: Path) -> None:
    (tree / ".auditor.yaml").write_text("max_file_size: 10\n")
    run = auditor(tree, "scan", ".", "--no-external", "--format", "json")
    report = json.loads(run.stdout)
    assert [w["setting"] for w in report["policy"]["weakenings"]] == ["max_file_size"]
    assert any("size cap" in n["message"] for n in report["notes"])


@pytest.mark.parametrize("channel", ["--trivy", "AUDITOR_TRIVY_PATH"])
def test_a_relative_program_path_is_never_resolved_against_the_working_directory(tree: Path, channel: str) -> None:
    marker = tree.parent / "trivy-ran"
    fake_program(tree / "tools" / "trivy", marker)
    args, env = (["--trivy", "tools/trivy"], {}) if channel == "--trivy" else ([], {"AUDITOR_TRIVY_PATH": "./tools/trivy"})
    run = auditor(tree, "scan", ".", "--select", "SC", *args, env=env)
    assert run.returncode == 2, run.stdout + run.stderr
    assert not marker.exists()
    assert "relative path" in run.stderr and "absolute path" in run.stderr


def test_a_bare_name_is_looked_up_on_the_absolute_entries_of_path_only(tree: Path) -> None:
    marker = tree.parent / "trivy-ran"
    fake_program(tree / "trivy", marker)  # ./trivy in the checkout, with "." on PATH
    run = auditor(tree, "scan", ".", "--select", "SC", "--format", "json",
                  env={"AUDITOR_TRIVY_PATH": "trivy", "PATH": "." + os.pathsep + os.environ["PATH"]})
    assert run.returncode in (0, 1), run.stderr
    assert not marker.exists(), "a bare name resolved to the tree's ./trivy through a relative PATH entry"


def test_the_trusted_channels_do_choose_the_program(tree: Path) -> None:
    """The same setting from the user: the environment, their own config file, a --config outside
    the tree. (The fake is outside the tree, and its output is not Trivy's, so SC004 says so.)"""
    outside = tree.parent / "bin"
    marker = tree.parent / "trivy-ran"
    trivy = fake_program(outside / "trivy", marker)
    run = auditor(tree, "scan", ".", "--select", "SC", env={"AUDITOR_TRIVY_PATH": str(trivy)})
    assert run.returncode == 1 and marker.exists(), run.stdout + run.stderr
    marker.unlink()
    user_config = tree.parent / "home" / ".config" / "auditor" / "config.yaml"
    user_config.parent.mkdir(parents=True)
    user_config.write_text(f"scanners:\n  trivy_path: {trivy}\n")
    run = auditor(tree, "scan", ".", "--select", "SC")
    assert run.returncode == 1 and marker.exists(), run.stdout + run.stderr
    marker.unlink()
    user_config.unlink()
    own = tree.parent / "ci-config.yaml"
    own.write_text(f"scanners:\n  trivy_path: {trivy}\n")
    run = auditor(tree, "scan", ".", "--select", "SC", "--config", str(own))
    assert run.returncode == 1 and marker.exists(), run.stdout + run.stderr


def test_config_flag_naming_a_file_of_the_tree_is_still_the_trees(tree: Path) -> None:
    marker = tree.parent / "trivy-ran"
    fake_program(tree / "tools" / "trivy", marker)
    (tree / "ci.yaml").write_text(f"scanners:\n  trivy_path: {tree / 'tools' / 'trivy'}\n")
    run = auditor(tree, "scan", ".", "--select", "SC", "--config", "ci.yaml")
    assert run.returncode == 2 and not marker.exists(), run.stdout + run.stderr
    assert "scanners.trivy_path" in run.stderr
    # a --config outside the tree that is a symbolic link into it is the tree's file too
    link = tree.parent / "looks-trusted.yaml"
    link.symlink_to(tree / "ci.yaml")
    run = auditor(tree, "scan", ".", "--select", "SC", "--config", str(link))
    assert run.returncode == 2 and not marker.exists(), run.stdout + run.stderr


def test_user_config_holds_machinery_only(tree: Path) -> None:
    user_config = tree.parent / "home" / ".config" / "auditor" / "config.yaml"
    user_config.parent.mkdir(parents=True)
    user_config.write_text("exclude: ['*']\n")
    run = auditor(tree, "scan", ".", "--no-external")
    assert run.returncode == 2 and "machinery only" in run.stderr, run.stderr


# --- attack 7: configuration files are files like any other --------------------------------------

@pytest.mark.parametrize("name", [".auditor.yaml", ".auditor.yml", "pyproject.toml"])
def test_config_symlink_out_of_the_tree_is_not_read(tmp_path: Path, tree: Path, name: str) -> None:
    token = f"SECRET-{uuid.uuid4().hex}"
    secret = tmp_path / "shadow"  # read as configuration, its first key would be named in an error
    secret.write_text(f"[tool.auditor]\n{token} = 1\n" if name == "pyproject.toml" else f"{token}: x\n")
    (tree / name).symlink_to(secret)
    for args in ((), ("--config", name)):
        run = auditor(tree, "scan", ".", "--no-external", *args)
        assert token not in run.stdout and token not in run.stderr
        assert "Traceback" not in run.stderr
        if name != "pyproject.toml" or args:
            assert run.returncode == 2, run.stdout + run.stderr
            assert "symbolic link that leaves the audited tree" in run.stderr
        else:  # a pyproject.toml that is not the tree's file is not looked into at all
            assert run.returncode == 1, run.stdout + run.stderr
    run = auditor(tree, "model", ".")
    assert token not in run.stdout and token not in run.stderr


def test_config_errors_quote_the_key_never_the_content(tree: Path) -> None:
    token = f"SECRET-{uuid.uuid4().hex}"
    cases = {
        f"exclude: [\n{token}: {{ [": "invalid YAML",  # broken YAML: the parser's excerpt is not shown
        f"fail_on: {token}\n": "fail_on: must be one of",  # a bad value: what is allowed, not what was given
        f"rules:\n  DF008: {{severity: {token}}}\n": "must be one of",
    }
    for text, expected in cases.items():
        (tree / ".auditor.yaml").write_text(text)
        run = auditor(tree, "scan", ".", "--no-external")
        assert run.returncode == 2 and expected in run.stderr, run.stderr
        assert token not in run.stderr and token not in run.stdout, run.stderr


def test_config_fifo_is_refused_without_blocking(tree: Path) -> None:
    os.mkfifo(tree / ".auditor.yaml")
    run = auditor(tree, "scan", ".", "--no-external", timeout=60)  # a blocking open would hang here
    assert run.returncode == 2 and "not a regular file" in run.stderr, run.stderr


def test_config_folder_and_oversized_file_are_refused(tree: Path) -> None:
    (tree / ".auditor.yaml").mkdir()
    run = auditor(tree, "scan", ".", "--no-external")
    assert run.returncode == 2 and "not a regular file" in run.stderr, run.stderr
    (tree / ".auditor.yaml").rmdir()
    (tree / ".auditor.yaml").write_text("exclude: []\n" + "# padding\n" * 200_000)
    run = auditor(tree, "scan", ".", "--no-external")
    assert run.returncode == 2 and "cap" in run.stderr, run.stderr


def test_config_alias_bomb_and_deep_nesting_are_refused_quickly(tree: Path) -> None:
    lines, previous = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]'], "a"
    for level in "bcdefghi":  # 9**9 values once every alias is expanded
        lines.append(f"{level}: &{level} [" + ", ".join([f"*{previous}"] * 9) + "]")
        previous = level
    bombs = {"\n".join(lines) + f"\nexclude: *{previous}\n": "aliases of aliases",
             "exclude: " + "[" * 50_000 + "]" * 50_000 + "\n": "nested too deeply"}
    for text, expected in bombs.items():
        (tree / ".auditor.yaml").write_text(text)
        run = auditor(tree, "scan", ".", "--no-external", timeout=30)
        assert run.returncode == 2 and expected in run.stderr, run.stderr[-500:]


# --- attack 5: switching the audit off through policy -------------------------------------------

def outputs(tree: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict, dict, str, str]:
    """One scan writing text (stdout), JSON, SARIF, Markdown and JUnit."""
    out = tree.parent / "out"
    out.mkdir(exist_ok=True)
    run = auditor(tree, "scan", ".", "--no-external", *args, "--format", "text",
                  "--format", f"json:{out / 'r.json'}", "--format", f"sarif:{out / 'r.sarif'}",
                  "--format", f"markdown:{out / 'r.md'}", "--format", f"junit:{out / 'r.xml'}")
    assert run.returncode in (0, 1), run.stderr
    return (run, json.loads((out / "r.json").read_text()), json.loads((out / "r.sarif").read_text()),
            (out / "r.md").read_text(), (out / "r.xml").read_text())


def listed(report: dict) -> dict[str, dict]:
    return {w["setting"]: w for w in report["policy"]["weakenings"]}


def test_exclude_everything_is_listed_and_fails_the_gate(tree: Path) -> None:
    (tree / ".auditor.yaml").write_text('exclude: ["*"]\n')
    run, report, sarif, markdown, junit = outputs(tree)
    assert run.returncode == 1, run.stdout  # 0 files audited from a tree with a Dockerfile never says OK
    assert "OK" not in run.stdout and "FAIL: the excludes leave no file the auditor reads" in run.stdout
    assert "exclude[0]" in run.stdout and "file(s) not audited" in run.stdout
    weakenings = listed(report)
    assert weakenings["exclude"]["level"] == "error" and report["policy"]["blocking"] is True
    assert "Dockerfile" in weakenings["exclude[0]"]["change"]
    sarif_policy = sarif["runs"][0]["properties"]["policy"]
    assert sarif_policy["blocking"] is True and {w["setting"] for w in sarif_policy["weakenings"]} >= {"exclude", "exclude[0]"}
    assert "Failed" in markdown and "excludes leave no file" in markdown
    assert 'name="auditor.configuration"' in junit and "<failure" in junit.split("auditor.configuration")[1]
    github = auditor(tree, "scan", ".", "--no-external", "--format", "github")
    assert github.returncode == 1 and "::error title=configuration weakening (.auditor.yaml)::" in github.stdout
    assert "::warning title=configuration weakening (.auditor.yaml)::exclude[0]" in github.stdout


def test_exclude_of_some_files_is_listed_with_what_it_hides(tree: Path) -> None:
    (tree / "legacy").mkdir()
    (tree / "legacy" / "Dockerfile").write_text("FROM node:latest\n")
    (tree / ".auditor.yaml").write_text('exclude: ["legacy/*"]\n')
    run, report, sarif, markdown, _ = outputs(tree)
    change = listed(report)["exclude[0]"]["change"]
    assert "1 file(s) not audited" in change and "legacy/Dockerfile" in change
    assert report["policy"]["blocking"] is False and "legacy/Dockerfile" in run.stdout
    assert run.returncode == 1  # the root Dockerfile's DF008 still fails the gate


@pytest.mark.parametrize("rule", ["", " ", "*", ".*", "XX"])
def test_suppress_with_an_empty_or_matchless_rule_is_refused(tree: Path, rule: str) -> None:
    (tree / ".auditor.yaml").write_text(f'suppress:\n  - {{rule: "{rule}", reason: "x"}}\n')
    run = auditor(tree, "scan", ".", "--no-external")
    assert run.returncode == 2, run.stdout + run.stderr
    assert "suppress.0.rule" in run.stderr, run.stderr


def test_suppress_of_a_family_is_listed(tree: Path) -> None:
    (tree / ".auditor.yaml").write_text('suppress:\n  - {rule: DF, reason: "we know"}\n')
    run, report, sarif, markdown, junit = outputs(tree)
    assert run.returncode == 0  # policy: the project may waive, with a reason...
    for text in (run.stdout, markdown, junit, json.dumps(sarif["runs"][0]["properties"])):
        assert "suppress[0]" in text and "DF waived" in text  # ...and every format shows that it did
    assert listed(report)["suppress[0]"]["refused"] is False


def test_every_family_off_is_listed_and_fails_the_gate(tree: Path) -> None:
    (tree / ".auditor.yaml").write_text("ignore: [DF, DC, KS, NG, NX, XF, SC, AR]\n")
    run, report, sarif, markdown, _ = outputs(tree)
    assert run.returncode == 1 and "FAIL: the configuration leaves no control to run" in run.stdout
    assert {f"ignore[{i}]" for i in range(8)} | {"rules"} <= set(listed(report))
    assert sarif["runs"][0]["properties"]["policy"]["blocking"] is True


def test_every_rule_switched_off_one_by_one_fails_the_gate(tree: Path) -> None:
    from auditor.catalog import load_catalog

    checking = sorted(r for r, rule in load_catalog().items() if rule.target != "engine")
    (tree / ".auditor.yaml").write_text("rules:\n" + "".join(f"  {r}: {{enabled: false}}\n" for r in checking))
    run, report, *_ = outputs(tree)
    assert run.returncode == 1 and report["policy"]["blocking"] is True
    assert len([s for s in listed(report) if s.endswith(".enabled")]) == len(checking)


def test_fail_on_none_is_listed(tree: Path) -> None:
    (tree / ".auditor.yaml").write_text("fail_on: none\nrules:\n  DF008: {severity: info}\n")
    run, report, sarif, markdown, junit = outputs(tree)
    weakenings = listed(report)
    assert weakenings["fail_on"]["change"].startswith("fail_on none") and "never fails" in weakenings["fail_on"]["change"]
    assert "DF008 lowered from high to info" in weakenings["rules.DF008.severity"]["change"]
    for text in (run.stdout, markdown.replace("\\_", "_"), junit, json.dumps(sarif["runs"][0]["properties"])):
        assert "fail_on none" in text and "DF008 lowered" in text
    assert run.returncode == 0  # without a floor the project's policy stands: listed, not hidden


def test_compliance_report_scope_lists_the_weakenings(tree: Path) -> None:
    (tree / ".auditor.yaml").write_text("fail_on: critical\nrules:\n  DF008: {enabled: false}\n")
    out = tree.parent / "reports"
    run = auditor(tree, "report", ".", "--no-external", "-o", str(out), "--name", "r")
    assert run.returncode == 0, run.stderr
    for name in ("r.md", "r.html"):
        text = (out / name).read_text().replace("\\_", "_")
        assert "Scope" in text and "DF008 switched off" in text and "fail_on critical" in text
        assert "from the audited tree" in text


# --- the trusted floor: --policy ------------------------------------------------------------------

HOSTILE_POLICY = """\
exclude: ["*"]
suppress:
  - {rule: DF, reason: "nothing to see"}
ignore: [SC]
rules:
  DF008: {enabled: false}
  DF001: {severity: info}
fail_on: none
max_files: 1
"""


def test_policy_floor_refuses_every_weakening_and_lists_it(tree: Path) -> None:
    (tree / ".auditor.yaml").write_text(HOSTILE_POLICY)
    floor = tree.parent / "policy.yaml"
    floor.write_text("{}\n")  # the defaults: everything required, nothing excludable, no waivers
    run, report, sarif, markdown, junit = outputs(tree, "--policy", str(floor))
    assert run.returncode == 1, run.stdout  # fail_on none refused: DF008 (high) fails the gate
    found = {(f["rule_id"], f["severity"]) for f in report["findings"] if not f["suppressed"]}
    assert ("DF008", "high") in found and ("DF001", "medium") in found  # on again, at its own severity
    assert report["summary"]["files"] >= 2  # exclude refused, max_files restored
    weakenings = listed(report)
    for setting in ("exclude[0]", "suppress[0]", "ignore[0]", "rules.DF008.enabled", "rules.DF001.severity",
                    "fail_on", "max_files"):
        assert weakenings[setting]["refused"] is True, (setting, weakenings)
    assert report["policy"]["floor"] == str(floor) and report["policy"]["blocking"] is False
    assert "refused by the policy floor" in run.stdout and "refused by the policy floor" in markdown
    assert all(w["refused"] for w in sarif["runs"][0]["properties"]["policy"]["weakenings"] if w["level"] != "info")


def test_policy_floor_pins_only_what_it_names(tree: Path) -> None:
    (tree / "legacy").mkdir()
    (tree / "legacy" / "Dockerfile").write_text("FROM node:latest\n")
    (tree / ".auditor.yaml").write_text('exclude: ["legacy/*"]\nfail_on: critical\nrules:\n'
                                        "  DF001: {enabled: false}\n  DF008: {severity: low}\n")
    floor = tree.parent / "policy.yaml"
    floor.write_text('required: [DF008]\nseverities: {DF008: critical}\nfail_on: critical\nprotected_paths: ["k8s/*"]\n')
    run, report, *_ = outputs(tree, "--policy", str(floor))
    weakenings = listed(report)
    assert weakenings["exclude[0]"]["refused"] is False and weakenings["rules.DF001.enabled"]["refused"] is False
    assert weakenings["rules.DF008.severity"]["refused"] is True
    assert "fail_on" not in weakenings  # critical is within what the floor allows
    assert {(f["rule_id"], f["severity"]) for f in report["findings"] if f["rule_id"] == "DF008"} == {("DF008", "critical")}
    assert not any(f["file"].startswith("legacy/") for f in report["findings"])
    assert run.returncode == 1


def test_policy_file_inside_the_tree_is_refused(tree: Path) -> None:
    (tree / "policy.yaml").write_text("{}\n")
    run = auditor(tree, "scan", ".", "--no-external", "--policy", "policy.yaml")
    assert run.returncode == 2 and "inside the audited tree" in run.stderr, run.stderr
    link = tree.parent / "policy.yaml"
    link.symlink_to(tree / "policy.yaml")
    run = auditor(tree, "scan", ".", "--no-external", "--policy", str(link))
    assert run.returncode == 2 and "inside the audited tree" in run.stderr, run.stderr


def test_bad_policy_file_is_a_usage_error(tree: Path) -> None:
    floor = tree.parent / "policy.yaml"
    for text, expected in (("required: [ZZ]\n", "no rule matches"), ("fail_on: sometimes\n", "fail_on"),
                           ("allow_everything: true\n", "unknown setting"), ("- a\n", "mapping")):
        floor.write_text(text)
        run = auditor(tree, "scan", ".", "--no-external", "--policy", str(floor))
        assert run.returncode == 2 and expected in run.stderr, (text, run.stderr)


def test_a_clean_tree_config_lists_nothing(tree: Path) -> None:
    (tree / "Dockerfile").write_text("FROM node:20-alpine\nUSER 1001\n")
    (tree / ".auditor.yaml").write_text("fail_on: medium\nrules:\n  DF008: {severity: critical}\n")
    run, report, sarif, markdown, _ = outputs(tree)
    assert report["policy"]["weakenings"] == [] and report["policy"]["config"] == ".auditor.yaml"
    assert "Weakened" not in run.stdout and "Weakened" not in markdown
