"""npm audit: run the real npm CLI on a copy of one lockfile and map its report onto SC003.

npm exits 1 both when it finds advisories and when it fails, so success is decided from the
JSON: a report has ``auditReportVersion``, a failure has ``message``/``error``.

npm runs in a box. The audited tree is hostile, and npm obeys any ``.npmrc`` it finds: a
``registry=http://host/${TOKEN}/`` there would send the user's secrets to that host, and
``cache=``/``logs-dir=`` would make npm write into the tree. So npm runs in a fresh temporary
folder holding copies of ``package-lock.json`` and ``package.json`` only (never the tree's
``.npmrc``), with ``--prefix`` pinned to that folder (no walk up to a parent's ``.npmrc``), its
user and global configuration pointed at empty files in it, its cache and logs in it,
``--ignore-scripts``, and a minimal environment: ``PATH``, ``HOME`` (the temporary folder) and the
npm settings the user chose in the environment (``npm_config_registry``, proxy and CA settings).
The registry therefore comes only from the user's side, never from the tree.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from pathlib import Path, PurePosixPath

from auditor.model.span import Span
from auditor.programs import absolute_path_entries
from auditor.scanners import lockfile, severity
from auditor.scanners.failures import NPM_INSTALL_HINT, failed_run
from auditor.scanners.process import (
    ProcessResult,
    file_sha256,
    last_lines,
    resolve_executable,
    run_process,
    where_looked,
)
from auditor.scanners.records import JsonObject, ScannerFinding, ScannerOptions, ScannerRun

SCANNER = "npm audit"
_CVE = re.compile(r"CVE-\d{4}-\d{4,}")
_GHSA = re.compile(r"GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}")
_UNREACHABLE = ("ECONNREFUSED", "ENOTFOUND", "ETIMEDOUT", "EAI_AGAIN", "ECONNRESET",
                "EHOSTUNREACH", "ENETUNREACH", "request to ", "audit endpoint returned an error")


def run(root: Path, relative: str, options: ScannerOptions) -> ScannerRun:
    span = Span(relative, 1)
    binary = resolve_executable(options.npm_path, "npm")
    planned = ("npm", "audit", "--json", "--package-lock-only")
    if binary is None:
        return failed_run(SCANNER, planned, "not-found", f"found no npm executable "
                          f"({where_looked(options.npm_path, 'npm')})", NPM_INSTALL_HINT, span=span)
    if lockfile.file_under_root(root, relative) is None:
        return failed_run(SCANNER, planned, "lockfile-unreadable", f"cannot read {relative} "
                          "inside the scan root", "check the path and that it is a regular file",
                          span=span)
    omit_dev = options.npm_omit_dev
    if omit_dev is None:
        omit_dev = omit_dev_for(root, relative)
    sha256 = file_sha256(binary)
    with tempfile.TemporaryDirectory(prefix="auditor-npm-audit-") as temporary:
        box = Path(temporary)
        project = box / "project"
        project.mkdir()
        lock_text = _copy_inputs(root, relative, project)
        command = _command(binary, omit_dev, box)
        result = run_process(command, cwd=project, timeout_seconds=options.timeout_seconds,
                             env=child_environment(box))
        version = None if result.timed_out or result.start_error else _version(binary, options, box)
    report = _parse(result.stdout)
    if report is not None and "auditReportVersion" in report:
        minimum = severity.threshold(options.severity_threshold_npm) or "high"
        found, dropped = map_report(report, relative, lock_text or "", minimum, omit_dev)
        return ScannerRun(SCANNER, command, version, sha256, result.duration_seconds,
                          tuple(found), None, dropped)
    kind, reason, remedy = classify_failure(result, report, options.timeout_seconds)
    return failed_run(
        SCANNER, command, kind, reason, remedy, span=span,
        details={"exit_code": result.exit_code, "stderr": last_lines(result.stderr),
                 "lockfile": relative},
        version=version, binary_sha256=sha256, duration_seconds=result.duration_seconds,
    )


def _command(binary: Path, omit_dev: bool, box: Path) -> tuple[str, ...]:
    """``box`` holds the project copy, npm's home, cache, logs and (empty) configuration files."""
    for name in ("npmrc", "global-npmrc"):
        (box / name).write_text("", encoding="utf-8")
    command = [str(binary), "audit", "--json", "--package-lock-only"]
    if omit_dev:
        command.append("--omit=dev")
    command += [
        "--ignore-scripts", "--no-fund", "--no-update-notifier",
        f"--prefix={box / 'project'}", f"--userconfig={box / 'npmrc'}",
        f"--globalconfig={box / 'global-npmrc'}", f"--cache={box / 'cache'}",
        f"--logs-dir={box / 'logs'}",
    ]
    return tuple(command)


# npm settings a user may give in the environment (trusted: they are the user's, not the
# tree's), matched case-insensitively as npm does, and the proxy/CA variables node honours.
_TRUSTED_NPM_SETTINGS = frozenset({
    "npm_config_registry", "npm_config_proxy", "npm_config_https_proxy", "npm_config_noproxy",
    "npm_config_no_proxy", "npm_config_cafile", "npm_config_ca", "npm_config_strict_ssl",
    "npm_config_maxsockets", "npm_config_fetch_timeout", "npm_config_fetch_retries",
})
_TRUSTED_VARIABLES = frozenset({
    "http_proxy", "https_proxy", "no_proxy", "node_extra_ca_certs", "ssl_cert_file",
    "ssl_cert_dir", "lang", "lc_all", "tz",
})


def child_environment(box: Path) -> dict[str, str]:
    """The whole environment npm runs with: nothing else of the caller's passes (no tokens,
    no NODE_OPTIONS, no npm_config_* that names a folder or a script shell)."""
    env = {"PATH": absolute_path_entries() or os.defpath, "HOME": str(box), "TMPDIR": str(box),
           "NO_UPDATE_NOTIFIER": "1"}
    for key, value in os.environ.items():
        if key.lower() in _TRUSTED_NPM_SETTINGS or key.lower() in _TRUSTED_VARIABLES:
            env[key] = value
    return env


def _copy_inputs(root: Path, relative: str, project: Path) -> str | None:
    """Copy the lockfile and its package.json (nothing else: never an ``.npmrc``) into
    ``project``; return the lockfile text."""
    folder = PurePosixPath(relative).parent
    lock_text = lockfile.read_text(root, relative)
    (project / "package-lock.json").write_text(lock_text or "", encoding="utf-8")
    manifest = lockfile.read_text(root, str(folder / "package.json"))
    if manifest is not None:
        (project / "package.json").write_text(manifest, encoding="utf-8")
    return lock_text


def _parse(stdout: str) -> JsonObject | None:
    try:
        report = json.loads(stdout)
    except ValueError:
        return None
    return report if isinstance(report, dict) else None


def classify_failure(
    result: ProcessResult, report: JsonObject | None, timeout_seconds: float
) -> tuple[str, str, str]:
    if result.start_error:
        return ("cannot-start", f"could not be started: {result.start_error}",
                "check the npm installation (node must be on PATH too)")
    if result.timed_out:
        return ("timeout", f"did not finish within {timeout_seconds:g} s and was killed",
                "raise the scanner time-out (timeout_seconds) or check that the registry answers")
    if report is None:
        return ("bad-output", f"printed no JSON report (exit code {result.exit_code}): "
                f"{last_lines(result.stderr, 2) or 'no output'}",
                "run the command by hand in a copy of the project and check the npm version")
    raw_error = report.get("error")
    error: JsonObject = raw_error if isinstance(raw_error, dict) else {}
    text = " ".join(str(part) for part in (report.get("message"), error.get("code"),
                                           error.get("summary"), error.get("detail")) if part)
    text = " ".join(text.split())[:400] or last_lines(result.stderr, 2)
    if any(marker in text + result.stderr for marker in _UNREACHABLE):
        return ("unreachable", f"could not reach the advisory endpoint: {text}",
                "check network access to the registry npm is configured with (`npm config get "
                "registry`) and that it serves /-/npm/v1/security/advisories/bulk")
    if error.get("code") == "ENOLOCK":
        return ("bad-lockfile", f"could not load the lockfile: {text}",
                "regenerate it with `npm install --package-lock-only` and commit it")
    return ("failed", f"reported an error: {text}", "run the command by hand to see npm's log")


def map_report(
    report: JsonObject, relative: str, lock_text: str, minimum: str, omit_dev: bool
) -> tuple[list[ScannerFinding], int]:
    """One finding per advisory per vulnerable package (``via`` entries that are objects; the
    string entries only say "vulnerable through another package")."""
    lock = lockfile.parse(lock_text)
    raw_packages = lock.get("packages")
    packages: JsonObject = raw_packages if isinstance(raw_packages, dict) else {}
    kept: list[ScannerFinding] = []
    dropped = 0
    vulnerabilities = report.get("vulnerabilities")
    for entry in (vulnerabilities.values() if isinstance(vulnerabilities, dict) else []):
        if not isinstance(entry, dict):
            continue
        for advisory in entry.get("via") or []:
            if not isinstance(advisory, dict):
                continue
            finding = _finding(advisory, entry, relative, lock_text, lock, packages, omit_dev)
            if severity.at_or_above(finding.severity, minimum):
                kept.append(finding)
            else:
                dropped += 1
    return kept, dropped


def _finding(
    advisory: JsonObject, entry: JsonObject, relative: str, lock_text: str, lock: JsonObject, packages: JsonObject,
    omit_dev: bool,
) -> ScannerFinding:
    package = str(advisory.get("name") or entry.get("name") or "?")
    url = str(advisory.get("url") or "")
    title = " ".join(str(advisory.get("title") or "advisory").split())
    ghsa_match = _GHSA.search(url) or _GHSA.search(title)
    ghsa = ghsa_match.group(0) if ghsa_match else None
    cve_match = _CVE.search(title + " " + url)
    advisory_id = ghsa or str(advisory.get("source") or "?")
    nodes = [str(node) for node in entry.get("nodes") or []]
    node = nodes[0] if nodes else f"node_modules/{package}"
    installed = (packages.get(node) or {}).get("version") if packages else None
    if installed is None and isinstance(lock.get("dependencies"), dict):  # lockfile v1
        installed = (lock["dependencies"].get(package) or {}).get("version")
    installed = str(installed or "?")
    fixed, fix_text = _fix(entry.get("fixAvailable"), package)
    path = lockfile.dependency_path(lock, node)
    ours = severity.from_npm(advisory.get("severity"))
    line = lockfile.node_line(lock_text, node) or lockfile.node_line(lock_text, package) or 1
    vulnerable = advisory.get("range") or entry.get("range") or "?"
    return ScannerFinding(
        rule_id="SC003",
        severity=ours,
        title=f"{package} {installed}: {title.removeprefix(package + ': ')} ({advisory_id})",
        message=(f"npm audit: {package} {installed} in {relative} is in the vulnerable range "
                 f"{vulnerable} of {advisory_id} ({ours}), reached through "
                 f"{' > '.join(path) or package}; {fix_text}."),
        span=Span(relative, line),
        properties={
            "scanner": SCANNER, "vulnerability_id": advisory_id, "ghsa": ghsa,
            "cve": cve_match.group(0) if cve_match else None, "npm_advisory": advisory.get("source"),
            "package": package, "installed": installed, "fixed": fixed,
            "vulnerable_range": vulnerable, "fix_available": entry.get("fixAvailable"),
            "url": url or None, "scanner_severity": advisory.get("severity"),
            "cvss": advisory.get("cvss"), "cwe": advisory.get("cwe"),
            "dependency_path": " > ".join(path) or package, "nodes": nodes,
            "direct": entry.get("isDirect"), "effects": entry.get("effects"),
            "omit_dev": omit_dev, "lockfile": relative,
        },
        identity=f"npm-audit:{advisory_id}:{package}:{relative}",
    )


def _fix(available: object, package: str) -> tuple[str | None, str]:
    if isinstance(available, dict):
        name, version = available.get("name"), available.get("version")
        major = ""
        if available.get("isSemVerMajor"):
            major = " (a semver-major upgrade: check for breaking changes)"
        if name == package:
            return str(version), f"upgrade {package} to {version}{major}"
        return None, f"upgrade {name} to {version}{major}, which pulls in a fixed {package}"
    if available is True:
        return None, "run `npm audit fix` and commit the updated lockfile"
    return None, (f"npm knows no fixed version; replace {package} or the package that pulls it in, "
                  "or suppress with a reason")


_versions: dict[Path, str | None] = {}
_versions_lock = threading.Lock()


def _version(binary: Path, options: ScannerOptions, box: Path) -> str | None:
    with _versions_lock:
        if binary not in _versions:
            probe = run_process((str(binary), "--version", f"--userconfig={box / 'npmrc'}",
                                 f"--globalconfig={box / 'global-npmrc'}"), cwd=box,
                                timeout_seconds=min(20.0, options.timeout_seconds),
                                env=child_environment(box))
            text = probe.stdout.strip()
            _versions[binary] = text if re.fullmatch(r"\d+\.\d+\.\d+\S*", text) else None
        return _versions[binary]


def omit_dev_for(root: Path, relative: str) -> bool:
    """Whether ``--omit=dev`` applies to the lockfile: the Dockerfile beside it (or at the root)
    ships production dependencies only (``model.dockerfile.omits_dev_dependencies``, the install
    steps DF005-DF007 read). The scanners run while the tree is parsed, so the Dockerfile is
    parsed here once more, by the same parser, rather than taken from the project."""
    from auditor.model.dockerfile import omits_dev_dependencies
    from auditor.parsers.dockerfile import parse_dockerfile

    folder = PurePosixPath(relative).parent
    for candidate in dict.fromkeys((str(folder / "Dockerfile"), "Dockerfile")):
        text = lockfile.read_text(root, candidate)
        if text is not None:
            return omits_dev_dependencies(parse_dockerfile(text, candidate)[0])
    return False
