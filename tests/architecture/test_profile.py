"""Issue 13, item 1: the architecture's numbers live once, in the profile; every control whose
parameter expresses one follows the configuration's ``architecture:`` section, and a rule override
still wins."""
from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from auditor.api import scan
from auditor.architecture.profile import PROFILE, problems, weakens
from auditor.catalog import load_catalog
from auditor.config import Config, ConfigError, load_config
from auditor.params import KubernetesQuantity, Rate
from auditor.policy import apply_policy

REPO = Path(__file__).resolve().parents[2]
COMPLIANT = REPO / "fixtures" / "compliant"
UID_RULES = ("DF009", "DC009", "KS001", "XF001")


def statuses(path: Path, config: Config) -> dict[str, str]:
    result = scan([path], config=config)
    return {rule_id: result.controls[rule_id].status for rule_id in (*UID_RULES, "DF008")}


def test_the_uid_is_declared_once_in_the_catalog() -> None:
    for rule_id in (*UID_RULES, "DF008"):
        text = (REPO / "rules" / f"{rule_id}.yaml").read_text()
        assert "profile: runtime.uid" in text
        assert "default: 1001" not in text
        assert load_catalog()[rule_id].defaults["uid"] == PROFILE["runtime.uid"].default == 1001


def test_changing_the_uid_in_the_profile_moves_df009_dc009_ks001() -> None:
    assert statuses(COMPLIANT, Config()) == dict.fromkeys((*UID_RULES, "DF008"), "pass")
    moved = scan([COMPLIANT], config=Config(architecture={"runtime": {"uid": 10001}}))
    for rule_id in ("DF009", "DC009", "KS001"):
        assert moved.controls[rule_id].status == "fail", rule_id
        assert any("10001" in f.message for f in moved.findings if f.rule_id == rule_id), rule_id


def test_a_rule_override_still_wins_over_the_profile() -> None:
    config = Config(architecture={"runtime": {"uid": 10001}}, rules={"DC009": {"uid": 1001}})
    result = scan([COMPLIANT], config=config)
    assert result.controls["DC009"].status == "pass"
    assert result.controls["DF009"].status == "fail"


def _split_tree(root: Path) -> Path:
    """A Dockerfile that creates UID 10001 and a compose file that runs UID 1001: two layers, one
    each way, so only the profile's UID decides which of them is the odd one."""
    root.mkdir()
    (root / "Dockerfile").write_text(
        "FROM node:20-alpine AS build\nWORKDIR /app\nCOPY . .\n\n"
        "FROM node:20-alpine\nWORKDIR /app\n"
        "RUN addgroup -S -g 10001 nodejs && adduser -S -u 10001 -G nodejs nextjs\n"
        "COPY --from=build --chown=nextjs:nodejs /app /app\nUSER nextjs\nEXPOSE 3000\n"
        'CMD ["node", "server.js"]\n')
    (root / "docker-compose.yml").write_text(
        "services:\n  app:\n    build: .\n    user: \"1001:1001\"\n    expose:\n      - \"3000\"\n")
    return root


def test_xf001_takes_the_profile_uid_as_the_reference(tmp_path: Path) -> None:
    tree = _split_tree(tmp_path / "tree")
    default = [f for f in scan([tree], config=Config()).findings if f.rule_id == "XF001"]
    moved = [f for f in scan([tree], config=Config(architecture={"runtime": {"uid": 10001}})).findings
             if f.rule_id == "XF001"]
    assert default and moved
    assert {Path(f.span.path).name for f in default} == {"Dockerfile"}  # 10001 is the odd one out
    assert {Path(f.span.path).name for f in moved} == {"docker-compose.yml"}  # now 1001 is
    assert "(10001)" in moved[0].message and "(1001)" in default[0].message


def test_df008_names_the_profile_uid(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "Dockerfile").write_text('FROM node:20-alpine\nCMD ["node", "server.js"]\n')
    for uid in (1001, 10001):
        result = scan([tree], config=Config(architecture={"runtime": {"uid": uid}}))
        messages = [f.message for f in result.findings if f.rule_id == "DF008"]
        assert messages and f"add USER {uid} " in messages[0]


def test_other_profile_values_reach_their_rules() -> None:
    catalog = load_catalog()
    config = Config(architecture={"rate_limit": {"rate": "20r/s"}, "resources": {"memory": "4G", "cpus": 1},
                                  "node": {"major": 22}, "app": {"port": 8080}, "replicas": 5})
    # converted when loaded (auditor/params.py): the rate, the quantities and the size as numbers
    assert config.parameters_for(catalog["NG008"])["max_rate"] == Rate(20.0, "20r/s")
    assert config.parameters_for(catalog["KS010"])["max_rps"] == 20
    assert config.parameters_for(catalog["KS005"]) == {"max_cpu": KubernetesQuantity(Fraction(1), "1"),
                                                       "max_memory": KubernetesQuantity(Fraction(4 * 2**30), "4Gi")}
    assert config.parameters_for(catalog["DC005"]) == {"max_cpus": 1, "max_memory": 4 * 2**30}
    assert config.parameters_for(catalog["DF004"])["allowed"] == ["node:22-alpine"]
    assert config.parameters_for(catalog["NG011"])["app_port"] == 8080
    assert config.parameters_for(catalog["XF002"])["app_port"] == 8080
    assert config.parameters_for(catalog["KS007"])["min_replicas"] == 5


def test_a_bad_profile_is_a_configuration_error_naming_the_key(tmp_path: Path) -> None:
    assert problems({"runtime": {"uid": "root"}})[0].startswith("architecture.runtime.uid:")
    assert "did you mean 'runtime.uid'" in problems({"runtime": {"uidd": 1}})[0]
    assert problems({"rate_limit": {"rate": "fast"}})
    assert problems({"document": "docs/ARCHITECTURE.md", "replicas": 3}) == []
    assert problems({"document": "/etc/passwd", "_trusted": True})[0].startswith("architecture._trusted:")
    config_file = tmp_path / ".auditor.yaml"
    config_file.write_text("architecture:\n  runtime:\n    uid: -5\n")
    with pytest.raises(ConfigError, match=r"architecture\.runtime\.uid"):
        load_config(config_file, load_catalog(), tree_root=tmp_path)


def test_a_weaker_profile_from_the_tree_is_listed_as_a_weakening(tmp_path: Path) -> None:
    config_file = tmp_path / ".auditor.yaml"
    config_file.write_text("architecture:\n  rate_limit:\n    rate: 50r/s\n  replicas: 1\n"
                           "  runtime:\n    uid: 10001\n")
    config = load_config(config_file, load_catalog(), tree_root=tmp_path)
    found = {w.setting: w for w in apply_policy(config, load_catalog(), None, {})}
    assert found["architecture.rate_limit.rate"].level == "warning"
    assert found["architecture.replicas"].level == "warning"
    assert found["architecture.runtime.uid"].level == "info"  # another UID is not weaker
    assert weakens("rate_limit.rate", "5r/s") is False and weakens("tls.protocols", ["TLSv1.1"]) is True


def test_explain_shows_the_value_in_force_and_where_it_came_from(tmp_path: Path) -> None:
    (tmp_path / ".auditor.yaml").write_text("architecture:\n  runtime:\n    uid: 10001\n"
                                            "rules:\n  DC009:\n    uid: 1002\n")

    def explain(rule_id: str) -> str:
        run = subprocess.run([sys.executable, "-m", "auditor", "explain", rule_id, "--color", "never"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=60,
                             env={"PYTHONPATH": str(REPO), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
        assert run.returncode == 0, run.stderr
        return run.stdout

    assert "uid = 10001  <- profile architecture.runtime.uid in .auditor.yaml" in explain("DF009")
    assert "uid = 1002  <- rule override rules.DC009.uid in .auditor.yaml" in explain("DC009")
    assert "max_rate = '10r/s'  <- profile default rate_limit.rate" in explain("NG008")
    assert "min_stages = 2  <- catalog default (rules/DF001.yaml)" in explain("DF001")


def test_explain_cites_the_document_line_when_a_document_is_configured(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "ARCHITECTURE.md").write_text("# Shop\n\nThe app runs as a non-root user (UID 1001).\n")
    (tmp_path / ".auditor.yaml").write_text("architecture:\n  document: docs/ARCHITECTURE.md\n  runtime:\n    uid: 1001\n")
    run = subprocess.run([sys.executable, "-m", "auditor", "explain", "KS001", "--color", "never"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60,
                         env={"PYTHONPATH": str(REPO), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    assert ('uid = 1001  <- profile architecture.runtime.uid in .auditor.yaml; the document states 1001 at '
            'docs/ARCHITECTURE.md:3 "The app runs as a non-root user (UID 1001)."') in run.stdout


def test_explain_never_reads_a_document_the_tree_names_outside_itself(tmp_path: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text("# Secret\n\nThe app runs as a non-root user (UID 4242).\n")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / ".auditor.yaml").write_text(f"architecture:\n  document: {secret}\n  runtime:\n    uid: 1001\n")
    run = subprocess.run([sys.executable, "-m", "auditor", "explain", "KS001", "--color", "never"],
                         cwd=tree, capture_output=True, text=True, timeout=60,
                         env={"PYTHONPATH": str(REPO), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    assert "uid = 1001" in run.stdout and "4242" not in run.stdout


def test_a_hostile_document_line_stays_fast() -> None:
    import time

    from auditor.architecture.document import read_facts

    started = time.perf_counter()
    read_facts("adduser " * 200_000 + "\n" + "nginx " * 200_000 + "\n", "doc.md")
    assert time.perf_counter() - started < 5
