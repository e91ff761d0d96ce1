"""auditor/params.py: rule parameters are typed by their ``kind`` and converted once, when the
configuration is loaded; a value that does not convert stops the run naming the key."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from auditor.api import scan
from auditor.catalog import load_catalog, validate_rule_documents
from auditor.config import Config, ConfigError, load_config
from auditor.params import (KubernetesQuantity, ParameterError, Params, Rate, convert, to_duration,
                            to_quantity, to_rate, to_size, to_uid, typed)
from tests.conftest import run_auditor

CATALOG = load_catalog()


@pytest.mark.parametrize(("text", "per_second"), [("10r/s", 10.0), ("600r/m", 10.0), ("0.5r/s", 0.5), (" 20r/s", 20.0)])
def test_a_rate_is_read_per_second_and_quoted_as_written(text: str, per_second: float) -> None:
    rate = to_rate(text)
    assert rate.per_second == per_second
    assert str(rate) == text.strip() and f"at most {rate}" == f"at most {text.strip()}"


@pytest.mark.parametrize("value", ["10", "10r/h", "fast", "", 10, None, True])
def test_a_value_that_is_not_a_rate_is_refused(value: Any) -> None:
    with pytest.raises(ParameterError, match="not an nginx rate"):
        to_rate(value)


@pytest.mark.parametrize(("value", "size"), [("512m", 512 * 2**20), ("2G", 2 * 2**30), ("2gb", 2 * 2**30), (1024, 1024)])
def test_a_size_is_bytes(value: Any, size: int) -> None:
    assert to_size(value) == size


@pytest.mark.parametrize("value", ["lots", "-1G", True, None, "2X"])
def test_a_value_that_is_not_a_size_is_refused(value: Any) -> None:
    with pytest.raises(ParameterError, match="not a size"):
        to_size(value)


def test_a_quantity_is_exact_and_keeps_its_text() -> None:
    assert to_quantity("500m") == KubernetesQuantity(Fraction(1, 2), "500m")
    assert to_quantity("2Gi").amount == 2 * 2**30
    assert to_quantity(2) == KubernetesQuantity(Fraction(2), "2") and str(to_quantity(2)) == "2"
    with pytest.raises(ParameterError, match="not a Kubernetes quantity"):
        to_quantity("two")


@pytest.mark.parametrize(("value", "seconds"), [(3600, 3600), ("1h", 3600), ("30d", 2592000), ("1y", 31536000), ("90", 90)])
def test_a_duration_is_whole_seconds(value: Any, seconds: int) -> None:
    assert to_duration(value) == seconds


@pytest.mark.parametrize("value", ["soon", "-5", -5, "500ms", True, 1.5])
def test_a_value_that_is_not_a_duration_is_refused(value: Any) -> None:
    with pytest.raises(ParameterError, match="not a duration"):
        to_duration(value)


@pytest.mark.parametrize("value", [-1, 2**31, "1001", True, 10.0])
def test_a_uid_is_a_kernel_user_id(value: Any) -> None:
    assert to_uid(1001) == 1001 and to_uid(0) == 0
    with pytest.raises(ParameterError, match="not a user ID"):
        to_uid(value)


def test_conversion_names_the_parameter_and_leaves_untyped_values_alone() -> None:
    with pytest.raises(ParameterError, match="^max_rate: 'x' is not"):
        convert("max_rate", {"kind": "rate"}, "x")
    assert convert("types", {"type": "array"}, ["text/css"]) == ["text/css"]
    params = typed({"max_rate": {"kind": "rate"}}, {"max_rate": "5r/s", "_document_trusted": True})
    assert params == {"max_rate": Rate(5.0, "5r/s"), "_document_trusted": True}


def test_params_are_read_only() -> None:
    params = Params({"uid": 1001})
    assert params["uid"] == 1001 and list(params) == ["uid"] and len(params) == 1
    with pytest.raises(TypeError):
        params["uid"] = 0  # type: ignore[index]


def test_every_rule_parameter_converts_from_the_catalog_defaults() -> None:
    config = Config()
    for rule in CATALOG.values():
        params = config.parameters_for(rule)
        assert isinstance(params, Params) and set(params) >= set(rule.parameters), rule.id
    assert config.parameters_for(CATALOG["NG008"])["max_rate"] == Rate(10.0, "10r/s")
    assert config.parameters_for(CATALOG["DC005"])["max_memory"] == 2 * 2**30
    assert config.parameters_for(CATALOG["NG010"])["min_seconds"] == 2592000


def test_parameters_are_converted_once_for_the_same_values() -> None:
    config = Config(rules={"NG008": {"max_rate": "5r/s"}})
    assert config.parameters_for(CATALOG["NG008"]) is config.parameters_for(CATALOG["NG008"])
    config.rules["NG008"]["max_rate"] = "6r/s"  # changed after loading: converted again, not stale
    assert config.parameters_for(CATALOG["NG008"])["max_rate"].per_second == 6.0


def _write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".auditor.yaml"
    path.write_text(text)
    return path


def test_a_value_that_does_not_convert_is_a_load_error_naming_the_key(tmp_path: Path) -> None:
    # the schema lets any string through for KS005's memory; the conversion does not
    path = _write_config(tmp_path, "rules:\n  KS005:\n    max_memory: plenty\n")
    with pytest.raises(ConfigError, match=r"\.auditor\.yaml: rules\.KS005\.max_memory: 'plenty' is not a Kubernetes quantity"):
        load_config(path, CATALOG, tree_root=tmp_path)


def test_a_duration_may_be_written_as_an_nginx_time(tmp_path: Path) -> None:
    path = _write_config(tmp_path, "rules:\n  NG010:\n    min_seconds: 7d\n")
    config = load_config(path, CATALOG, tree_root=tmp_path)
    assert config.parameters_for(CATALOG["NG010"])["min_seconds"] == 7 * 86400


def test_a_bad_value_exits_2_on_the_command_line_quoting_the_key(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM node:20-alpine\nUSER node\n")
    _write_config(tmp_path, "rules:\n  KS005:\n    max_cpu: lots\n")
    result = run_auditor("scan", "--no-external", str(tmp_path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "rules.KS005.max_cpu" in result.stderr and "Traceback" not in result.stderr


def test_a_config_built_in_code_with_a_bad_value_is_a_config_error_not_a_silent_pass(tmp_path: Path) -> None:
    """NG008 used to parse max_rate itself and return nothing when it could not."""
    (tmp_path / "nginx.conf").write_text("http { server { listen 80; location / { proxy_pass http://app:3000; } } }\n")
    with pytest.raises(ConfigError, match="rules.NG008.max_rate"):
        scan([tmp_path], config=Config(rules={"NG008": {"max_rate": "fast"}}), select=["NG008"], ignore=["SC"])


def test_the_configured_rate_reaches_ng008(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf").write_text(
        "http {\n  limit_req_zone $binary_remote_addr zone=api:10m rate=20r/s;\n  server {\n    listen 80;\n"
        "    location / { limit_req zone=api; proxy_pass http://app:3000; }\n  }\n}\n")
    strict = scan([tmp_path], select=["NG008"], ignore=["SC"])
    loose = scan([tmp_path], config=Config(rules={"NG008": {"max_rate": "1800r/m"}}), select=["NG008"], ignore=["SC"])
    assert [f.message for f in strict.findings if f.rule_id == "NG008"] == [
        "limit_req_zone api allows 20r/s, more than 10r/s; lower rate= to 10r/s or less"]
    assert loose.controls["NG008"].status == "pass"


def test_the_rule_schema_refuses_an_unknown_kind_and_a_default_of_the_wrong_kind() -> None:
    document = {"id": "NG999", "name": "x-y", "title": "A title", "family": "nginx", "target": "nginx",
                "severity": "low", "summary": "s", "rationale": "r", "remediation": "r", "references": [],
                "parameters": {"max_rate": {"type": "string", "kind": "speed", "default": "1r/s",
                                            "description": "a rate"},
                               "min_rate": {"type": "string", "kind": "rate", "default": "soon",
                                            "description": "a rate"}}}
    errors = validate_rule_documents({"NG999.yaml": document})
    assert any("parameters/max_rate/kind" in error for error in errors), errors
    assert any("parameters/min_rate: 'soon' is not an nginx rate" in error for error in errors), errors


@pytest.mark.parametrize("patterns", [[], [".env*", "*.pem", "*.key"], ["*.example", "*.sample", "*.template", "*.dist"],
                                      ["*_TOKEN", "*_SECRET", "*PASSWORD*", "*_KEY"], ["[!a]b?", "x[a-c]*", "*.(js)", "a\\b*"]])
def test_fnmatcher_answers_as_fnmatchcase_over_each_pattern(patterns: list[str]) -> None:
    """``fnmatcher`` (one regular expression per list, XF005 and DF015) says what ``any(fnmatchcase
    (name, p) for p in patterns)`` says: case-sensitive, whole names, none for an empty list."""
    from fnmatch import fnmatchcase

    from auditor.params import fnmatcher

    names = [".env", ".env.local", "env", "a.pem", "a.pem.bak", "A.PEM", "x.key", ".env.example", "DB_TOKEN",
             "MY_PASSWORD_FILE", "PASSWORD", "API_KEY", "KEY", "cb", "ab", "xbz", "xd", "f.(js)", "f.js",
             "a\\bc", "line\nbreak.pem", "", "*", "_TOKEN"]
    matches = fnmatcher(patterns)
    assert fnmatcher(list(patterns)) is matches  # made once per list
    assert [matches(name) for name in names] == [any(fnmatchcase(name, p) for p in patterns) for name in names]
