"""The SARIF validators catch real problems: the minimal valid log passes both with no finding
at all, and each known-bad log fails with the rule that names its problem."""
from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from .sarif_validation import (
    GITHUB_RULES_CONFIG_CANDIDATES,
    MULTITOOL_DIR_ENV,
    OFFICIAL_SCHEMA_ID,
    load_sarif_schema,
    multitool_available,
    multitool_dir,
    multitool_errors,
    multitool_findings,
    require_multitool,
    schema_errors,
    schema_validator,
)

SARIF_DATA = Path(__file__).resolve().parents[1] / "data" / "sarif"
MINIMAL_VALID = SARIF_DATA / "minimal-valid.sarif"
ABSOLUTE_DOCKERFILE = "file:///work/project/app/Dockerfile"
WEB_DOCKERFILE = "https://example.com/app/Dockerfile"

Sarif = dict[str, Any]


def minimal_valid() -> Sarif:
    sarif: Sarif = json.loads(MINIMAL_VALID.read_text(encoding="utf-8"))
    return sarif


def driver(sarif: Sarif) -> Sarif:
    return cast(Sarif, sarif["runs"][0]["tool"]["driver"])


def first_result(sarif: Sarif) -> Sarif:
    return cast(Sarif, sarif["runs"][0]["results"][0])


def physical_location(sarif: Sarif) -> Sarif:
    return cast(Sarif, first_result(sarif)["locations"][0]["physicalLocation"])


def point_at(sarif: Sarif, uri: str, *, keep_uri_base_id: bool = True) -> None:
    artifact_location = physical_location(sarif)["artifactLocation"]
    artifact_location["uri"] = uri
    if not keep_uri_base_id:
        del artifact_location["uriBaseId"]


def with_change(change: Callable[[Sarif], object]) -> Sarif:
    sarif = copy.deepcopy(minimal_valid())
    change(sarif)
    return sarif


def write_sarif(directory: Path, name: str, sarif: Sarif) -> Path:
    path = directory / f"{name}.sarif"
    path.write_text(json.dumps(sarif, indent=2), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def multitool() -> None:
    require_multitool()


# --- the schema --------------------------------------------------------------------------


def test_the_schema_is_the_official_draft_04_one() -> None:
    from jsonschema import Draft4Validator

    schema = load_sarif_schema()
    assert schema["id"] == OFFICIAL_SCHEMA_ID
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert isinstance(schema_validator(), Draft4Validator)


def test_the_schema_check_covers_every_format_the_schema_uses() -> None:
    # Fails when rfc3986-validator or rfc3339-validator is missing: jsonschema then skips
    # these formats silently, and a bad URI would pass.
    assert {"uri", "uri-reference", "date-time"} <= set(schema_validator().format_checker.checkers)


def test_the_minimal_valid_log_passes_the_schema() -> None:
    assert schema_errors(minimal_valid()) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            lambda sarif: sarif.pop("version"),
            "$: 'version' is a required property",
            id="missing-version",
        ),
        pytest.param(
            lambda sarif: first_result(sarif).update(level="critical"),
            "$.runs[0].results[0].level:"
            " 'critical' is not one of ['none', 'note', 'warning', 'error']",
            id="invalid-level-enum",
        ),
        pytest.param(
            lambda sarif: physical_location(sarif)["region"].pop("startLine"),
            "$.runs[0].results[0].locations[0].physicalLocation.region: matches none of the allowed"
            " forms: 'startLine' is a required property; 'charOffset' is a required property;"
            " 'byteOffset' is a required property",
            id="region-without-start",
        ),
        pytest.param(
            lambda sarif: point_at(sarif, "app/Docker file"),
            "$.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri:"
            " 'app/Docker file' is not a 'uri-reference'",
            id="uri-with-a-space",
        ),
        pytest.param(
            lambda sarif: driver(sarif).update(informationUri="auditor home"),
            "$.runs[0].tool.driver.informationUri: 'auditor home' is not a 'uri'",
            id="information-uri-not-a-uri",
        ),
        pytest.param(
            lambda sarif: sarif["runs"][0]["invocations"][0].update(startTimeUtc="yesterday"),
            "$.runs[0].invocations[0].startTimeUtc: 'yesterday' is not a 'date-time'",
            id="time-not-a-date-time",
        ),
        pytest.param(
            lambda sarif: driver(sarif).update(helpUri="https://example.com"),
            "$.runs[0].tool.driver:"
            " Additional properties are not allowed ('helpUri' was unexpected)",
            id="help-uri-on-the-driver",
        ),
    ],
)
def test_schema_errors_name_the_problem(change: Callable[[Sarif], object], expected: str) -> None:
    assert expected in schema_errors(with_change(change))


# --- the Multitool -----------------------------------------------------------------------


def test_the_github_rules_config_copy_matches_the_shared_one() -> None:
    shared, copy_in_repository = GITHUB_RULES_CONFIG_CANDIDATES
    if not shared.is_file():
        pytest.skip(f"no shared folder beside the repository ({shared})")
    assert copy_in_repository.read_bytes() == shared.read_bytes()


def test_the_install_folder_can_be_moved(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(MULTITOOL_DIR_ENV, str(tmp_path / "multitool"))
    assert multitool_dir() == tmp_path / "multitool"


def test_the_multitool_runs(multitool: None) -> None:
    available, reason = multitool_available()
    assert available, reason
    assert "SARIF Multitool 5.7.0" in reason


def test_the_minimal_valid_log_draws_no_multitool_finding(multitool: None) -> None:
    # Not only no error: no warning or note from the SARIF rules either, so the writer's author
    # can copy this shape as it is.
    assert multitool_findings(MINIMAL_VALID) == []


@pytest.mark.parametrize(
    ("change", "expected_rules"),
    [
        pytest.param(
            lambda sarif: point_at(sarif, ABSOLUTE_DOCKERFILE, keep_uri_base_id=False),
            {"GH1006"},
            id="absolute-file-uri-without-uri-base-id",
        ),
        pytest.param(
            lambda sarif: point_at(sarif, ABSOLUTE_DOCKERFILE),
            {"GH1006", "SARIF1004"},
            id="absolute-file-uri-with-uri-base-id",
        ),
        pytest.param(
            lambda sarif: point_at(sarif, WEB_DOCKERFILE, keep_uri_base_id=False),
            {"GH1005"},
            id="non-file-uri",
        ),
        pytest.param(
            lambda sarif: physical_location(sarif)["region"].pop("startLine"),
            {"GH1003", "SARIF1007"},
            id="region-without-start-line",
        ),
        pytest.param(
            lambda sarif: physical_location(sarif).pop("region"),
            {"GH1003"},
            id="no-region",
        ),
        pytest.param(
            lambda sarif: first_result(sarif).pop("locations"),
            {"GH1001"},
            id="no-locations",
        ),
        pytest.param(
            lambda sarif: first_result(sarif).update(message={"id": "default"}),
            {"GH1007", "SARIF1012"},
            id="message-without-text",
        ),
        pytest.param(
            lambda sarif: sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"].update(
                uri="file:///work/project"
            ),
            {"SARIF1004"},
            id="src-root-without-trailing-slash",
        ),
        pytest.param(
            lambda sarif: sarif.pop("version"),
            {"JSON1002"},
            id="missing-version",
        ),
    ],
)
def test_multitool_errors_name_the_rule(
    multitool: None, tmp_path: Path, change: Callable[[Sarif], object], expected_rules: set[str]
) -> None:
    errors = multitool_errors(write_sarif(tmp_path, "bad", with_change(change)))
    assert expected_rules <= {error.split(":", 1)[0] for error in errors}, errors


def test_multitool_errors_read_as_rule_message_and_location(
    multitool: None, tmp_path: Path
) -> None:
    sarif = with_change(lambda sarif: physical_location(sarif)["region"].pop("startLine"))
    errors = multitool_errors(write_sarif(tmp_path, "no-start-line", sarif))
    assert any(
        error.startswith(
            "GH1003: runs[0].results[0].locations[0].physicalLocation.region:"
            " The 'startLine' property is absent."
        )
        and re.search(r"\(no-start-line\.sarif:\d+:\d+\)$", error)
        for error in errors
    ), errors


def test_unparsable_json_is_a_multitool_error(multitool: None, tmp_path: Path) -> None:
    broken = tmp_path / "broken.sarif"
    broken.write_text('{"version": "2.1.0", "runs": [', encoding="utf-8")
    assert [error.split(":", 1)[0] for error in multitool_errors(broken)] == ["JSON0001"]


def test_an_invalid_enum_hides_every_multitool_error_but_not_the_schema_ones(
    multitool: None, tmp_path: Path
) -> None:
    # Why both validators run: with one bad enum value the Multitool cannot deserialise the
    # log and reports nothing at all, not even the missing startLine it finds otherwise.
    def break_twice(sarif: Sarif) -> None:
        first_result(sarif)["level"] = "critical"
        physical_location(sarif)["region"].pop("startLine")

    sarif = with_change(break_twice)
    assert multitool_errors(write_sarif(tmp_path, "bad-enum", sarif)) == []
    assert len(schema_errors(sarif)) == 2
