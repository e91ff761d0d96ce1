"""The composite GitHub Action (action.yml), as far as this machine allows: its metadata is
checked against the rules GitHub applies to action metadata (a minimal schema written here from
GitHub's documentation of action.yml: no official JSON schema is published on the package
registries this project uses), every expression names an input, step or context that exists,
and its shell steps are run for real with bash, in a temporary folder, with the environment a
runner gives them (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP). What cannot run here are
the two `uses:` steps (actions/setup-python and github/codeql-action/upload-sarif need GitHub's
runner); the test checks their inputs instead and validates the SARIF the upload would receive."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.conftest import FIXTURES, REPO

ACTION = REPO / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")

# GitHub's action metadata (docs: "Metadata syntax for GitHub Actions"), composite actions only.
ACTION_SCHEMA = {
    "type": "object",
    "required": ["name", "description", "runs"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "author": {"type": "string"},
        "description": {"type": "string", "minLength": 1},
        "branding": {"type": "object", "additionalProperties": False,
                     "properties": {"icon": {"type": "string"}, "color": {
                         "enum": ["white", "black", "yellow", "blue", "green", "orange", "red", "purple", "gray-dark"]}}},
        "inputs": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["description"], "additionalProperties": False,
            "properties": {"description": {"type": "string", "minLength": 1}, "required": {"type": "boolean"},
                           "default": {"type": "string"}, "deprecationMessage": {"type": "string"}}}},
        "outputs": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["description", "value"], "additionalProperties": False,
            "properties": {"description": {"type": "string"}, "value": {"type": "string"}}}},
        "runs": {"type": "object", "required": ["using", "steps"], "additionalProperties": False, "properties": {
            "using": {"const": "composite"},
            "steps": {"type": "array", "minItems": 1, "items": {
                "type": "object", "additionalProperties": False,
                "oneOf": [{"required": ["run", "shell"]}, {"required": ["uses"]}],
                "properties": {"name": {"type": "string"}, "id": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_-]*$"},
                               "if": {"type": "string"}, "run": {"type": "string"},
                               "shell": {"enum": ["bash", "sh", "pwsh", "python", "powershell", "cmd"]},
                               "uses": {"type": "string", "pattern": r"^[\w.-]+/[\w./-]+@[\w.-]+$"},
                               "with": {"type": "object", "additionalProperties": {"type": "string"}},
                               "env": {"type": "object", "additionalProperties": {"type": "string"}},
                               "working-directory": {"type": "string"},
                               "continue-on-error": {"type": ["boolean", "string"]}}}}}},
    },
}


def action() -> dict:
    return yaml.safe_load(ACTION.read_text(encoding="utf-8"))


def _expressions(node) -> list[str]:  # type: ignore[no-untyped-def]
    if isinstance(node, dict):
        return [e for value in node.values() for e in _expressions(value)]
    if isinstance(node, list):
        return [e for value in node for e in _expressions(value)]
    return EXPRESSION.findall(node) if isinstance(node, str) else []


def test_the_action_metadata_is_valid() -> None:
    metadata = action()
    jsonschema.validate(metadata, ACTION_SCHEMA)
    assert {"paths", "fail-on", "formats", "category"} <= set(metadata["inputs"])


def test_every_expression_names_something_that_exists() -> None:
    metadata = action()
    inputs, steps = set(metadata["inputs"]), metadata["runs"]["steps"]
    ids = [step["id"] for step in steps if "id" in step]
    assert len(ids) == len(set(ids))
    produced = set()
    for step in steps:  # what each `run` step writes to GITHUB_OUTPUT
        produced |= {(step.get("id"), name) for name in re.findall(r'echo "([\w-]+)=', step.get("run", ""))}
    seen_inputs = set()
    for expression in _expressions(metadata):
        for name in re.findall(r"\binputs\.([\w-]+)", expression):
            assert name in inputs, f"${{{{ {expression} }}}} names no input"
            seen_inputs.add(name)
        for step_id, output in re.findall(r"\bsteps\.([\w-]+)\.outputs\.([\w-]+)", expression):
            assert (step_id, output) in produced, f"${{{{ {expression} }}}}: no step {step_id} writes {output}"
        for context in re.findall(r"(?<![\w.-])([a-z]+)\.", expression):
            assert context in {"inputs", "steps", "github", "runner", "env"}, expression
    assert seen_inputs == inputs  # every input is used
    # inputs reach scripts through env only: an input pasted into `run` is a script injection
    for step in steps:
        assert not EXPRESSION.search(step.get("run", "")), step.get("name")


def test_the_uses_steps_are_the_documented_actions() -> None:
    uses = {step["uses"].split("@")[0]: step for step in action()["runs"]["steps"] if "uses" in step}
    assert set(uses) == {"actions/setup-python", "github/codeql-action/upload-sarif"}
    upload = uses["github/codeql-action/upload-sarif"]
    assert set(upload["with"]) == {"sarif_file", "category"}
    assert "always()" in upload["if"]  # the SARIF is uploaded also when the audit found something


def _evaluate(text: str, values: dict[str, str]) -> str:
    return EXPRESSION.sub(lambda m: values[m.group(1)], text)


def _run_steps(workspace: Path, temp: Path, inputs: dict[str, str]) -> tuple[list[int], dict[str, str], Path]:
    """Run the action's shell steps in order as a runner would (bash -eo pipefail, each step's
    env, GITHUB_OUTPUT read back between steps); stops at the first step that fails."""
    metadata = action()
    values = {f"inputs.{name}": inputs.get(name, spec.get("default", "")) for name, spec in metadata["inputs"].items()}
    values.update({"github.action_path": str(REPO), "runner.temp": str(temp)})
    summary = workspace.parent / "step-summary.md"  # per test; RUNNER_TEMP (the venv) is shared
    summary.touch()
    codes: list[int] = []
    for step in metadata["runs"]["steps"]:
        if "run" not in step:
            continue
        output_file = temp / f"output-{len(codes)}"
        output_file.touch()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "NO_COLOR", "FORCE_COLOR"))}
        env.update({"GITHUB_OUTPUT": str(output_file), "GITHUB_STEP_SUMMARY": str(summary), "RUNNER_TEMP": str(temp),
                    "GITHUB_WORKSPACE": str(workspace), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
        env.update({key: _evaluate(value, values) for key, value in step.get("env", {}).items()})
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=workspace,
                              env=env, capture_output=True, text=True, timeout=900)
        codes.append(done.returncode)
        for line in output_file.read_text().splitlines():
            name, _, value = line.partition("=")
            values[f"steps.{step.get('id')}.outputs.{name}"] = value
        if done.returncode != 0:
            values["_stderr"] = done.stdout + done.stderr
            break
    return codes, values, summary


@pytest.fixture(scope="module")
def runner_temp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One RUNNER_TEMP for the module: the install step's virtualenv is built once."""
    return tmp_path_factory.mktemp("runner-temp")


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_shell_steps_audit_upload_and_gate(tmp_path: Path, runner_temp: Path) -> None:
    workspace = tmp_path / "workspace"
    shutil.copytree(FIXTURES / "noncompliant", workspace)
    codes, values, summary = _run_steps(workspace, runner_temp, {"paths": ".", "args": "--no-external"})
    # install: 0; audit: 0 (findings are a verdict, the gate decides); gate: 1
    assert codes == [0, 0, 1], values.get("_stderr")
    assert values["steps.audit.outputs.exit-code"] == "1"
    sarif = json.loads((workspace / values["steps.audit.outputs.sarif-file"]).read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]
    assert sarif["runs"][0]["automationDetails"]["id"].startswith("auditor")
    assert "DF008" in summary.read_text()  # the step summary (Markdown) was written
    assert "findings at or above 'high'" in values["_stderr"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_shell_steps_pass_a_compliant_tree_and_honour_inputs(tmp_path: Path, runner_temp: Path) -> None:
    workspace = tmp_path / "work space"  # a space in the path must not split anything
    shutil.copytree(FIXTURES / "compliant", workspace / "app")
    codes, values, summary = _run_steps(workspace, runner_temp, {
        "paths": "app", "args": "--no-external", "formats": "json:out.json concise", "step-summary": "false",
        "sarif-file": "results/a.sarif", "category": "storefront"})
    assert codes[-2:] == [0, 0], values.get("_stderr")
    assert values["steps.audit.outputs.exit-code"] == "0"
    assert json.loads((workspace / "out.json").read_text())["summary"]["findings"]["high"] == 0
    assert summary.read_text() == ""


def test_a_usage_error_fails_the_audit_step(tmp_path: Path, runner_temp: Path) -> None:
    (tmp_path / "w").mkdir()
    codes, values, _ = _run_steps(tmp_path / "w", runner_temp, {"paths": "does-not-exist", "args": "--no-external"})
    assert codes[-1] == 2 and "no such file or folder" in values["_stderr"]
