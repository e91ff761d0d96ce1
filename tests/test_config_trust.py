"""Where each setting may come from (auditor.config.load_settings) and how the policy floor and the
weakening list judge the tree's configuration (auditor.policy), in-process."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from auditor.catalog import load_catalog
from auditor.config import ConfigError, environment_settings, load_settings, program_path
from auditor.discovery import discover
from auditor.policy import _Hider, apply_policy, judge_excludes, load_floor

CATALOG = load_catalog()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user configuration and no AUDITOR_* variables."""
    for name in list(os.environ):
        if name.startswith("AUDITOR_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "auditor"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_machinery_precedence_command_line_then_environment_then_user_file(tmp_path: Path, home: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    write(home / "config.yaml", "jobs: 2\nscanners: {trivy_path: /opt/user/trivy, cache_dir: /var/cache/a}\n")
    config = load_settings(tree, None, CATALOG).config
    assert (config.jobs, config.scanners["trivy_path"], config.scanners["cache_dir"]) == (2, "/opt/user/trivy", "/var/cache/a")
    monkeypatch.setenv("AUDITOR_TRIVY_PATH", "/opt/env/trivy")
    monkeypatch.setenv("AUDITOR_JOBS", "3")
    config = load_settings(tree, None, CATALOG).config
    assert (config.jobs, config.scanners["trivy_path"]) == (3, "/opt/env/trivy")
    config = load_settings(tree, None, CATALOG, trivy="/opt/cli/trivy", jobs=1).config
    assert (config.jobs, config.scanners["trivy_path"], config.scanners["cache_dir"]) == (1, "/opt/cli/trivy", "/var/cache/a")


def test_environment_values_are_typed_and_a_bad_one_is_named() -> None:
    assert environment_settings({"AUDITOR_OFFLINE": "false", "AUDITOR_PARSE_TIMEOUT": "2.5", "AUDITOR_MAX_FILES": "9"}) == \
        {"parse_timeout": 2.5, "max_files": 9, "scanners": {"offline": False}}
    with pytest.raises(ConfigError, match="AUDITOR_JOBS"):
        environment_settings({"AUDITOR_JOBS": "many"})


def test_program_paths_absolute_or_bare_names_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert program_path("/usr/bin/env", "x") == "/usr/bin/env"
    for relative in ("./trivy", "tools/trivy", "../bin/trivy"):
        with pytest.raises(ConfigError, match="relative path"):
            program_path(relative, "the trivy program")
    write(tmp_path / "bin" / "mytool", "#!/bin/sh\n").chmod(0o755)
    monkeypatch.chdir(tmp_path / "bin")
    monkeypatch.setenv("PATH", os.pathsep.join([".", str(tmp_path / "bin")]))
    assert program_path("mytool", "x") == str(tmp_path / "bin" / "mytool")  # found through the absolute entry
    monkeypatch.setenv("PATH", ".")
    assert program_path("mytool", "x") == "mytool"  # "." is never searched: left for the scanner to report


def test_tree_may_lower_bounds_below_the_trusted_ones_never_raise_them(tmp_path: Path, home: Path) -> None:
    tree = tmp_path / "tree"
    write(home / "config.yaml", "max_file_size: 20000000\n")  # the user raised it
    write(tree / ".auditor.yaml", "max_file_size: 10000000\n")  # above the default, below the user's
    config = load_settings(tree, None, CATALOG).config
    assert config.max_file_size == 10_000_000 and config.from_tree
    write(tree / ".auditor.yaml", "max_file_size: 30000000\n")
    with pytest.raises(ConfigError, match="never raise it above 20000000"):
        load_settings(tree, None, CATALOG)


def test_config_outside_the_tree_is_trusted_and_may_set_machinery(tmp_path: Path, home: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    own = write(tmp_path / "ci.yaml", "jobs: 4\nexclude: ['x/*']\nscanners: {npm_path: /usr/bin/npm}\n")
    config = load_settings(tree, str(own), CATALOG).config
    assert not config.from_tree and config.jobs == 4 and config.scanners["npm_path"] == "/usr/bin/npm"
    assert apply_policy(config, CATALOG, None, {}) == []  # the user's own choices are not the tree's weakenings


def test_floor_severities_and_required_rules(tmp_path: Path, home: Path) -> None:
    tree = tmp_path / "tree"
    write(tree / ".auditor.yaml", "rules:\n  DF008: {severity: low}\n  DF001: {severity: info, enabled: false}\n"
                                  "  DC001: {severity: low}\nignore: [NG]\nselect: [DF]\n")
    floor = load_floor(write(tmp_path / "policy.yaml", "required: [DF008, NG001]\nseverities: {DF008: critical}\n"),
                       tree, CATALOG)
    settings = load_settings(tree, None, CATALOG)
    config = settings.config
    weakenings = {w.setting: w for w in apply_policy(config, CATALOG, floor, settings.trusted_bounds)}
    assert config.rules["DF008"]["severity"] == "critical" and weakenings["rules.DF008.severity"].refused
    assert config.rules["DF001"] == {"severity": "info", "enabled": False}  # not required: listed, kept
    assert not weakenings["rules.DF001.enabled"].refused and not weakenings["rules.DF001.severity"].refused
    assert weakenings["ignore[0]"].refused and config.ignore == []  # NG001 is required
    assert weakenings["select"].refused and "NG001" in config.select


def test_exclude_effect_matches_discovery(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    for name in ("Dockerfile", "legacy/Dockerfile", "legacy/old/k8s.yaml", "k8s/deploy.yaml", "docs/x.md",
                 "nginx/conf.d/a.conf"):
        write(tree / name, "x\n")
    every = discover([tree], tree).files
    for pattern in ("legacy/*", "legacy/", "legacy", "*.yaml", "k8s/**", "*", "nginx/conf.d", "*/old/*"):
        hider = _Hider(pattern)
        kept = discover([tree], tree, exclude=[pattern]).files
        assert sorted(p for p in every if not hider.hides(p)) == kept, pattern


def test_excludes_are_judged_by_effect_and_protected_paths_win(tmp_path: Path, home: Path) -> None:
    tree = tmp_path / "tree"
    for name in ("Dockerfile", "legacy/Dockerfile", "k8s/deploy.yaml"):
        write(tree / name, "FROM node:20-alpine\n" if "Dockerfile" in name else "kind: Pod\n")
    write(tree / ".auditor.yaml", "exclude: ['legacy/*', 'k8s/*', 'nothing/*']\n")
    config = load_settings(tree, None, CATALOG).config
    floor = load_floor(write(tmp_path / "p.yaml", "protected_paths: ['k8s/*']\n"), tree, CATALOG)
    found, weakenings = judge_excludes(config, floor, lambda: discover([tree], tree),
                                       lambda patterns: discover([tree], tree, exclude=patterns))
    by_setting = {w.setting: w for w in weakenings}
    assert not by_setting["exclude[0]"].refused and by_setting["exclude[1]"].refused
    assert "0 file(s)" in by_setting["exclude[2]"].change
    assert "k8s/deploy.yaml" in found.files and "legacy/Dockerfile" not in found.files
