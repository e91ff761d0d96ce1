"""Configuration (auditor/config.py): where it is found and how it is read, that every mistake is
an exit-2 error naming the file and the key, and which source wins: the command line, then
``AUDITOR_*``, then the user's own file; the audited tree's file sets policy only.
(tests/test_config_trust.py covers program paths and the policy floor.)"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from auditor.catalog import load_catalog
from auditor.config import (BOUND_DEFAULTS, Config, ConfigError, find_config, load_config, load_settings,
                            user_config_path)
from tests.conftest import run_auditor

CATALOG = load_catalog()


@pytest.fixture(autouse=True)
def no_user_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No AUDITOR_* variable and an empty user configuration folder: only what a test sets counts."""
    for name in list(os.environ):
        if name.startswith("AUDITOR_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "auditor" / "config.yaml"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    write(root / "Dockerfile", 'FROM node:20-alpine\nUSER 1001\nCMD ["node", "server.js"]\n')
    return root


# --- finding and loading ----------------------------------------------------------------------------


def test_a_tree_without_configuration_gets_the_defaults(tree: Path) -> None:
    assert find_config(tree) is None
    config = load_settings(tree, None, CATALOG).config
    assert (config.source, config.exclude, config.rules, config.suppress) == (None, [], {}, [])
    assert (config.max_files, config.max_file_size) == (BOUND_DEFAULTS["max_files"], BOUND_DEFAULTS["max_file_size"])


def test_auditor_yaml_is_loaded_with_every_policy_setting(tree: Path) -> None:
    path = write(tree / ".auditor.yaml", "exclude: [legacy/]\nfail_on: medium\nselect: [DF]\nignore: [DF001]\n"
                                         "rules:\n  DF009: {uid: 10001, severity: critical}\n  DF002: {enabled: false}\n"
                                         "suppress:\n  - {rule: DF008, path: 'debug/*', reason: debug image, until: 2099-01-31}\n"
                                         "max_files: 500\n")
    assert find_config(tree) == path
    config = load_settings(tree, None, CATALOG).config
    assert config.source == str(path) and config.from_tree
    assert (config.exclude, config.fail_on, config.select, config.ignore) == (["legacy/"], "medium", ["DF"], ["DF001"])
    assert config.suppress == [{"rule": "DF008", "path": "debug/*", "reason": "debug image", "until": "2099-01-31"}]
    assert config.max_files == 500  # lowered by the tree: allowed
    assert config.parameters_for(CATALOG["DF009"])["uid"] == 10001
    assert config.severity_for(CATALOG["DF009"]) == "critical" and config.severity_for(CATALOG["DF008"]) == "high"
    assert not config.enabled(CATALOG["DF002"]) and config.enabled(CATALOG["DF008"])


def test_parameters_not_configured_keep_the_catalog_default() -> None:
    config = Config(rules={"DF009": {"severity": "low"}})
    assert config.parameters_for(CATALOG["DF009"])["uid"] == CATALOG["DF009"].defaults["uid"]
    assert "severity" not in config.parameters_for(CATALOG["DF009"])


def test_auditor_yml_and_pyproject_tool_auditor_are_found(tree: Path) -> None:
    write(tree / "pyproject.toml", "[project]\nname = 'x'\n")
    assert find_config(tree) is None  # a pyproject.toml without [tool.auditor] is not ours
    write(tree / "pyproject.toml", "[project]\nname = 'x'\n\n[tool.auditor]\nfail_on = 'low'\n\n"
                                   "[tool.auditor.rules.DF009]\nuid = 2000\n")
    config = load_settings(tree, None, CATALOG).config
    assert config.fail_on == "low" and config.parameters_for(CATALOG["DF009"])["uid"] == 2000
    yml = write(tree / ".auditor.yml", "fail_on: high\n")
    assert find_config(tree) == yml  # .auditor.yml comes before pyproject.toml
    assert load_settings(tree, None, CATALOG).config.fail_on == "high"


def test_the_configuration_is_found_walking_up_to_the_repository_root_never_above(tmp_path: Path) -> None:
    write(tmp_path / "outer" / ".auditor.yaml", "fail_on: info\n")  # above the repository: never read
    repository = tmp_path / "outer" / "repo"
    (repository / ".git").mkdir(parents=True)
    scan_root = repository / "services" / "web"
    write(scan_root / "Dockerfile", "FROM node:20-alpine\n")
    assert find_config(scan_root) is None
    found = write(repository / ".auditor.yaml", "fail_on: critical\n")
    assert find_config(scan_root) == found
    assert load_settings(scan_root, None, CATALOG).config.fail_on == "critical"
    nearer = write(repository / "services" / ".auditor.yaml", "fail_on: low\n")
    assert find_config(scan_root) == nearer


def test_load_config_of_no_file_is_the_default_configuration() -> None:
    assert load_config(None, CATALOG) == Config()


# --- validation: every mistake names the file and the key ------------------------------------------

MISTAKES = [
    ("exlude: []\n", "unknown setting 'exlude' (did you mean 'exclude'?)"),
    ("fail_on: urgent\n", "fail_on: must be one of"),
    ("exclude: 5\n", "exclude: must be of type array"),
    ("rules:\n  DF999: {}\n", "rules.DF999: no such rule"),
    ("rules:\n  DF009: {gid: 1}\n", "rules.DF009.gid: DF009 has no parameter 'gid' (its parameters: uid)"),
    ("rules:\n  DF009: {uid: abc}\n", "rules.DF009.uid: must be of type integer"),
    ("rules:\n  DF009: {uid: 0}\n", "rules.DF009.uid: must be at least 1"),
    ("rules:\n  DF009: {severity: urgent}\n", "rules.DF009.severity: must be one of"),
    ("select: [ZZ]\n", "select: no rule matches 'ZZ'"),
    ("ignore: [QQ9]\n", "ignore: no rule matches 'QQ9'"),
    ("suppress:\n  - {rule: QQ, reason: why}\n", "suppress.0.rule: no rule matches 'QQ'"),
    ("- exclude\n- select\n", "the configuration must be a mapping of settings"),
    ("rules: {DF009: {uid: 1}\n", "invalid YAML at line"),
    ("jobs: 2\n", "jobs: the audited tree's configuration cannot set this"),
    ("scanners: {cache_dir: /var/cache/x}\n", "scanners.cache_dir: the audited tree's configuration cannot set this"),
    ("scanners: {trivy_path: ./tools/trivy}\n", "scanners.trivy_path: the audited tree's configuration cannot set this"),
    ("max_files: 1000000\n", "max_files: the audited tree's configuration may lower a resource bound, never raise it"),
]


@pytest.mark.parametrize(("text", "message"), MISTAKES, ids=[m[1].split(":")[0] for m in MISTAKES])
def test_a_mistake_is_an_error_that_names_the_file_and_the_key(tree: Path, text: str, message: str) -> None:
    path = write(tree / ".auditor.yaml", text)
    with pytest.raises(ConfigError) as raised:
        load_settings(tree, None, CATALOG)
    assert str(raised.value).startswith(f"{path}: ")
    assert message in str(raised.value)


def test_invalid_toml_in_tool_auditor_is_an_error_naming_the_file(tree: Path) -> None:
    path = write(tree / "pyproject.toml", "[tool.auditor]\nfail_on = \n")
    with pytest.raises(ConfigError, match="invalid TOML") as raised:
        load_settings(tree, None, CATALOG)
    assert str(raised.value).startswith(f"{path}: ")


def test_an_error_never_quotes_the_file_content(tree: Path) -> None:
    secret = "AKIAIOSFODNN7EXAMPLEKEY"
    write(tree / ".auditor.yaml", f"rules:\n  DF009: {{uid: {secret}}}\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(tree, None, CATALOG)
    assert "rules.DF009.uid" in str(raised.value) and secret not in str(raised.value)


@pytest.mark.parametrize(("text", "key"), [("fail_on: urgent\n", "fail_on"),
                                           ("rules:\n  DF009: {uid: abc}\n", "rules.DF009.uid"),
                                           ("jobs: 8\n", "jobs")])
def test_the_command_line_exits_2_with_one_line_naming_the_key(tree: Path, text: str, key: str) -> None:
    path = write(tree / ".auditor.yaml", text)
    done = run_auditor("scan", str(tree), "--no-external", env={"XDG_CONFIG_HOME": str(tree.parent / "xdg")})
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == "" and "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"auditor: error: {path}: {key}: ")


def test_a_bad_environment_value_exits_2_naming_the_variable(tree: Path) -> None:
    done = run_auditor("scan", str(tree), "--no-external",
                       env={"AUDITOR_MAX_FILES": "lots", "XDG_CONFIG_HOME": str(tree.parent / "xdg")})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == "auditor: error: AUDITOR_MAX_FILES: not a valid int value"


# --- precedence: command line > AUDITOR_* > user configuration; the tree sets policy only ----------


def test_bounds_come_from_the_command_line_environment_or_user_file_in_that_order(
        tree: Path, no_user_settings: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(no_user_settings, "max_files: 300000\nparse_timeout: 30\njobs: 2\n")
    settings = load_settings(tree, None, CATALOG)
    assert (settings.config.max_files, settings.config.parse_timeout, settings.config.jobs) == (300000, 30, 2)
    assert settings.trusted_bounds["max_files"] == 300000
    monkeypatch.setenv("AUDITOR_MAX_FILES", "200000")
    monkeypatch.setenv("AUDITOR_JOBS", "3")
    settings = load_settings(tree, None, CATALOG)
    assert (settings.config.max_files, settings.config.parse_timeout, settings.config.jobs) == (200000, 30, 3)
    settings = load_settings(tree, None, CATALOG, jobs=1)
    assert (settings.config.max_files, settings.config.jobs) == (200000, 1)


def test_the_tree_may_lower_a_bound_the_trusted_sources_raised_never_exceed_it(
        tree: Path, no_user_settings: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(no_user_settings, "max_files: 300000\n")
    write(tree / ".auditor.yaml", "max_files: 250000\n")  # above the default, below the user's bound
    assert load_settings(tree, None, CATALOG).config.max_files == 250000
    monkeypatch.setenv("AUDITOR_MAX_FILES", "1000")
    with pytest.raises(ConfigError, match=r"max_files: .*never raise it above 1000"):
        load_settings(tree, None, CATALOG)


def test_the_user_file_holds_machinery_only(tree: Path, no_user_settings: Path) -> None:
    assert user_config_path() == no_user_settings
    write(no_user_settings, "fail_on: none\n")
    with pytest.raises(ConfigError, match=r"config\.yaml: fail_on: your user configuration holds machinery only"):
        load_settings(tree, None, CATALOG)


def test_policy_comes_from_the_tree_and_machinery_from_the_trusted_sources_side_by_side(
        tree: Path, no_user_settings: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(no_user_settings, "scanners: {cache_dir: /var/cache/user}\n")
    write(tree / ".auditor.yaml", "fail_on: low\nrules:\n  DF009: {uid: 4242}\n")
    monkeypatch.setenv("AUDITOR_OFFLINE", "yes")
    config = load_settings(tree, None, CATALOG, jobs=2).config
    assert (config.fail_on, config.parameters_for(CATALOG["DF009"])["uid"]) == ("low", 4242)
    assert (config.scanners, config.jobs) == ({"cache_dir": "/var/cache/user", "offline": True}, 2)
    assert config.from_tree and config.tree_settings == frozenset({"fail_on", "rules"})


def test_a_config_file_given_inside_the_tree_is_the_tree_s_and_policy_only(tree: Path) -> None:
    inside = write(tree / "ci" / "auditor.yaml", "jobs: 4\n")
    with pytest.raises(ConfigError, match="jobs: the audited tree's configuration cannot set this"):
        load_settings(tree, str(inside), CATALOG)
    write(inside, "fail_on: critical\n")
    config = load_settings(tree, str(inside), CATALOG).config
    assert config.fail_on == "critical" and config.source == str(inside) and config.from_tree


def test_a_missing_config_file_is_an_error_naming_it(tree: Path) -> None:
    with pytest.raises(ConfigError, match=r"^--config nowhere\.yaml: no such file$"):
        load_settings(tree, "nowhere.yaml", CATALOG)
