"""Trivy: the commands we run (fs, config, image) and its JSON report mapped onto SC001/SC002.

Success is decided from stdout, never from the exit code alone: Trivy logs an ERROR line
("Falling back to embedded checks") on a perfectly good offline run, and a FATAL one with an
empty stdout when it cannot scan.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import threading
from collections.abc import Callable, Iterator
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass
else:
    from auditor.record import dataclass
from pathlib import Path

from auditor.model.span import Span
from auditor.scanners import lockfile, severity
from auditor.scanners.failures import PROJECT_SPAN, failed_run
from auditor.scanners.process import ProcessResult, last_lines, run_process
from auditor.scanners.records import JsonObject, ScannerFinding, ScannerOptions, ScannerRun

_GHSA = re.compile(r"GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}")
_FATAL = re.compile(r"\bFATAL\b\s*(.*)", re.DOTALL)
# Trivy's messages when the vulnerability database is missing (offline first run) or cannot be
# downloaded (online, no network); both end the run before any scanning.
_NO_DATABASE = ("DB error", "cannot skip downloading DB", "vulnerability DB")
# Offline (an air-gapped machine): the steps to provide a database. Online (the default): Trivy
# tried to download one and could not.
_DATABASE_HINT = (
    "offline mode (--offline, AUDITOR_OFFLINE or scanners.offline in your own config) never downloads "
    "it: on a machine with network run `trivy fs --download-db-only --cache-dir DIR`, copy DIR here "
    "and point AUDITOR_CACHE_DIR (or scanners.cache_dir in your own config) at it; or turn offline "
    "mode off so Trivy downloads it into its cache"
)
_DOWNLOAD_HINT = (
    "Trivy downloads its database on first use and needs HTTPS access to mirror.gcr.io (or "
    "ghcr.io; a mirror through TRIVY_DB_REPOSITORY); on an air-gapped machine provide one: "
    "run `trivy fs --download-db-only --cache-dir DIR` where the network is available, copy DIR "
    "here, set AUDITOR_CACHE_DIR to it and run with --offline (AUDITOR_OFFLINE=true)"
)


def _database_failure(context: TrivyContext) -> tuple[str, str]:
    """(what happened, what to do) when Trivy has no vulnerability database."""
    if context.options.offline:
        return "found no vulnerability database", _DATABASE_HINT
    return "could not download its vulnerability database", _DOWNLOAD_HINT


def binary_sha256(path: Path, cache_folder: str | None) -> str | None:
    """The binary's SHA-256 (for the pin and the report). Trivy is 174 MB, 0.3 s to hash, so the
    digest is kept in the auditor's cache by (path, device, inode, size, modification and change
    time): replacing or rewriting the binary changes its change time, which no user can set back."""
    from auditor.cache import program_digest

    return program_digest(path, cache_folder)


@dataclass(frozen=True, slots=True)
class TrivyBinary:
    path: Path
    sha256: str | None


@dataclass(frozen=True, slots=True)
class TrivyContext:
    """Everything a Trivy run needs besides its subcommand."""

    root: Path  # absolute scan root
    binary: TrivyBinary
    options: ScannerOptions
    minimum: str  # our severity; results below it are counted, not reported
    workdir: Path  # neutral cwd: keeps a trivy.yaml/.trivyignore of wherever we were started out
    cache_dir: str | None  # None: Trivy's own default, where a user's downloaded DB lives
    env: dict[str, str] | None = None


# ---------------------------------------------------------------- commands


def _cache_flags(context: TrivyContext) -> list[str]:
    return ["--cache-dir", context.cache_dir] if context.cache_dir else []


# Trivy reads trivy.yaml, .trivyignore and trivy-secret.yaml from its working directory unless
# told otherwise; the audited tree must not be able to pass any of them (they can drop findings,
# narrow the scanners, disable secret rules). Each points at a neutral file of our own.
_BOX_FILES = {"config": ("auditor-trivy.yaml", ""), "ignore": ("auditor-trivyignore", ""),
              "secret": ("auditor-trivy-secret.yaml", "{}\n")}


def prepare_workdir(workdir: Path) -> None:
    """Write the neutral configuration files the box flags name (an empty trivy.yaml, an empty
    ignore file, a secret configuration that changes nothing)."""
    for name, content in _BOX_FILES.values():
        (workdir / name).write_text(content, encoding="utf-8")


def _box_flags(context: TrivyContext, *, secrets: bool = False) -> list[str]:
    flags = ["--config", str(context.workdir / _BOX_FILES["config"][0]),
             "--ignorefile", str(context.workdir / _BOX_FILES["ignore"][0])]
    if secrets:
        flags += ["--secret-config", str(context.workdir / _BOX_FILES["secret"][0])]
    return flags


def _offline_flags(context: TrivyContext, *, database: bool) -> list[str]:
    # --offline-scan always: without it Trivy resolves dependencies over the network from
    # endpoints the tree names (a pom.xml's <repositories>); only the database download (the
    # user's choice, `offline: false`) may use the network.
    scan = ["--offline-scan"] if database else []
    if not context.options.offline:
        return scan
    flags = ["--skip-check-update", "--skip-version-check"]
    if database:
        flags += ["--skip-db-update", "--skip-java-db-update"]
    return flags + scan


def fs_command(context: TrivyContext, scanners: str = "vuln,secret") -> tuple[str, ...]:
    unfixed = ["--ignore-unfixed"] if context.options.ignore_unfixed else []
    return (
        str(context.binary.path), "fs", "--format", "json", "--scanners", scanners,
        "--list-all-pkgs", *unfixed, *_box_flags(context, secrets="secret" in scanners),
        *_cache_flags(context), *_offline_flags(context, database="vuln" in scanners),
        str(context.root),
    )


# Every misconfiguration scanner of Trivy 0.76 but `terraform`: its parser downloads the remote
# modules a tree names (`source = "git::https://host/x"` runs git, an HTTP or registry source
# fetches from the tree's host) and Trivy has no switch to stop it. Terraform is outside the
# auditor's scope; plan files (terraformplan-*) are parsed without downloads.
MISCONFIG_SCANNERS = ("azure-arm", "cloudformation", "dockerfile", "helm", "kubernetes",
                      "terraformplan-json", "terraformplan-snapshot", "ansible")


def config_command(context: TrivyContext) -> tuple[str, ...]:
    return (
        str(context.binary.path), "config", "--format", "json", *_box_flags(context),
        "--misconfig-scanners", ",".join(MISCONFIG_SCANNERS),
        *_cache_flags(context), *_offline_flags(context, database=False), str(context.root),
    )


def image_command(context: TrivyContext, image: str) -> tuple[str, ...]:
    unfixed = ["--ignore-unfixed"] if context.options.ignore_unfixed else []
    return (
        str(context.binary.path), "image", "--format", "json", "--scanners", "vuln",
        "--list-all-pkgs", *unfixed, *_box_flags(context), *_cache_flags(context),
        *_offline_flags(context, database=True), image,
    )


# ---------------------------------------------------------------- runs


def run_fs(context: TrivyContext) -> ScannerRun:
    """Vulnerabilities in lockfiles and secrets. Without a vulnerability database the secret
    scan is still worth having, so it is rerun alone and its findings kept next to the SC004."""
    command = fs_command(context)
    result = _run(context, command)
    report = parse_report(result.stdout)
    if report is None and _is_missing_database(result):
        secrets_only = fs_command(context, scanners="secret")
        remaining = max(context.options.timeout_seconds - result.duration_seconds, 1.0)
        second = _run(context, secrets_only, timeout_seconds=remaining)
        second_report = parse_report(second.stdout)
        found, dropped = map_report(second_report or {}, context, "trivy fs")
        what, remedy = _database_failure(context)
        reason = f"{what}, so lockfiles were not checked ({_fatal(result)})"
        if second_report is None:
            reason += "; the secret-only rerun failed too"
        return failed_run(
            "trivy fs", command, "no-database", reason, remedy,
            details={"stderr": last_lines(result.stderr), "secret_scan": " ".join(secrets_only)},
            version=_version(context, second_report), binary_sha256=context.binary.sha256,
            duration_seconds=result.duration_seconds + second.duration_seconds,
            findings=found, below_threshold=dropped,
        )
    return _finish(context, "trivy fs", command, result, report)


def run_config(context: TrivyContext) -> ScannerRun:
    """Misconfigurations, plus an AUD002 for every inline ``trivy:ignore`` of the tree: Trivy
    has no switch to turn those off, so what they hide is unknown to us and a reviewer sees
    each one like a suppression that gives no reason."""
    command = config_command(context)
    result = _run(context, command)
    run = _finish(context, "trivy config", command, result, parse_report(result.stdout))
    ignores = inline_ignores(context.root)
    return dataclasses.replace(run, findings=run.findings + tuple(ignores)) if ignores else run


# ---------------------------------------------------------------- inline ignores

# `#trivy:ignore:AVD-DS-0002`, `# tfsec:ignore:aws-s3-...` (Trivy honours the tfsec form too),
# in a `#`, `//` or `/*` comment; `:exp:DATE` and `[ws:...]` parameters may follow the ID.
_INLINE_IGNORE = re.compile(r"\b(?:trivy|tfsec):ignore:\S+")
_COMMENT_MARKERS = ("#", "//", "/*")
_IGNORE_MARKERS = (b"trivy:ignore:", b"tfsec:ignore:")
# Files Trivy's misconfiguration scanners read (Dockerfiles, Kubernetes/Helm/CloudFormation/
# Ansible YAML and JSON, Terraform); others cannot carry an inline ignore it honours.
_CONFIG_SUFFIXES = (".yaml", ".yml", ".json", ".tf", ".tfvars", ".hcl", ".tpl", ".dockerfile",
                    ".containerfile")
_SKIPPED_FOLDERS = frozenset({".git", ".hg", ".svn"})
_MAX_IGNORE_SCAN_BYTES = 4 * 1024 * 1024
_MAX_IGNORE_FINDINGS = 1000


def _may_carry_ignores(name: str) -> bool:
    lower = name.lower()
    return (lower.startswith(("dockerfile", "containerfile")) or lower.endswith(_CONFIG_SUFFIXES))


def inline_ignores(root: Path) -> list[ScannerFinding]:
    """One AUD002 per line of the tree that carries a Trivy/tfsec inline ignore comment."""
    found: list[ScannerFinding] = []
    for folder, subfolders, files in os.walk(root):  # never follows a symbolic link
        subfolders[:] = sorted(d for d in subfolders if d not in _SKIPPED_FOLDERS)
        for name in sorted(files):
            if not _may_carry_ignores(name):
                continue
            path = Path(folder) / name
            try:
                if not path.is_file() or path.is_symlink() or \
                        path.stat().st_size > _MAX_IGNORE_SCAN_BYTES:
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            if not any(marker in data for marker in _IGNORE_MARKERS):
                continue
            relative = path.relative_to(root).as_posix()
            text = data.decode("utf-8", errors="replace")
            for number, line in enumerate(text.splitlines(), start=1):
                if "ignore:" not in line:
                    continue
                # linear: the ignores, then whether a comment opens before the first one
                matches = list(_INLINE_IGNORE.finditer(line))
                if not matches:
                    continue
                opens = [line.find(marker) for marker in _COMMENT_MARKERS]
                first = min((at for at in opens if at >= 0), default=-1)
                ids = [m.group(0) for m in matches if 0 <= first < m.start()]
                if ids:
                    found.append(_ignore_finding(relative, number, ids))
                    if len(found) >= _MAX_IGNORE_FINDINGS:
                        return found
    return found


def _ignore_finding(relative: str, line: int, ids: list[str]) -> ScannerFinding:
    shown = ", ".join(dict.fromkeys(ids))
    return ScannerFinding(
        rule_id="AUD002",
        # high, not AUD002's usual medium: the results it drops are unknown, SC002 reports only
        # HIGH and above by default, so a hidden one would have failed the gate; this does.
        severity="high",
        title=f"Trivy inline ignore without a reason: {shown}"[:200],
        message=(f"the comment `{shown}`"[:240] + " makes Trivy drop its results here with no "
                 "reason and no expiry the audit can check, so what it hides is not known; "
                 "remove it and, if a Trivy result must be waived, suppress its SC001/SC002 "
                 "finding with `# auditor: ignore=SC002 reason=\"...\"`"),
        span=Span(relative, line),
        properties={"scanner": "trivy config", "kind": "inline-ignore", "ignores": list(ids)},
        identity=f"trivy-inline-ignore:{relative}:{shown}",
    )


def run_image(context: TrivyContext, image: str) -> ScannerRun:
    command = image_command(context, image)
    if not image or image.startswith("-"):  # would be read as an option
        return failed_run("trivy image", command, "bad-image", f"was given an image name that "
                          f"is not one: {image!r}", "name the image as REPOSITORY[:TAG]",
                          binary_sha256=context.binary.sha256)
    result = _run(context, command, tree_scan=False)
    return _finish(context, "trivy image", command, result, parse_report(result.stdout))


# What `trivy fs`/`trivy config` may see of the caller's environment: Trivy's own settings (the
# user's), where the cache and home are, proxies and CA files. Nothing else: a scan of a hostile
# tree has no use for cloud credentials, TF_TOKEN_*, GITHUB_TOKEN or anything secret beside them.
# `trivy image` keeps the whole environment: pulling the image the user named may need registry
# credentials (AWS_*, DOCKER_CONFIG, GOOGLE_APPLICATION_CREDENTIALS...).
_TREE_SCAN_VARIABLES = frozenset({
    "path", "home", "tmpdir", "xdg_cache_home", "xdg_config_home", "lang", "lc_all", "tz",
    "http_proxy", "https_proxy", "no_proxy", "ssl_cert_file", "ssl_cert_dir",
})


def tree_scan_environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items()
            if key.lower() in _TREE_SCAN_VARIABLES or key.startswith("TRIVY_")}


def _run(
    context: TrivyContext, command: tuple[str, ...], timeout_seconds: float | None = None,
    *, tree_scan: bool = True,
) -> ProcessResult:
    env = context.env
    if env is None and tree_scan:
        env = tree_scan_environment()
    return run_process(
        command,
        cwd=context.workdir,
        timeout_seconds=timeout_seconds or context.options.timeout_seconds,
        env=env,
    )


def _finish(
    context: TrivyContext,
    scanner: str,
    command: tuple[str, ...],
    result: ProcessResult,
    report: JsonObject | None,
) -> ScannerRun:
    if report is not None:
        found, dropped = map_report(report, context, scanner)
        return ScannerRun(
            scanner, command, _version(context, report), context.binary.sha256,
            result.duration_seconds, tuple(found), None, dropped,
        )
    kind, reason, remedy = classify_failure(result, context.options.timeout_seconds, context)
    return failed_run(
        scanner, command, kind, reason, remedy,
        details={"exit_code": result.exit_code, "stderr": last_lines(result.stderr)},
        version=None if result.timed_out or result.start_error else _version(context, None),
        binary_sha256=context.binary.sha256, duration_seconds=result.duration_seconds,
    )


def parse_report(stdout: str) -> JsonObject | None:
    """Trivy's JSON report, or None when stdout is anything else (empty on a FATAL)."""
    try:
        report = json.loads(stdout)
    except ValueError:
        return None
    if isinstance(report, dict) and "SchemaVersion" in report and "ArtifactName" in report:
        return report
    return None


def _is_missing_database(result: ProcessResult) -> bool:
    return not result.timed_out and any(marker in result.stderr for marker in _NO_DATABASE)


def _fatal(result: ProcessResult) -> str:
    match = _FATAL.search(result.stderr)
    text = match.group(1) if match else last_lines(result.stderr, 2)
    return " ".join(text.split())[:400] or f"exit code {result.exit_code}, no output"


def classify_failure(result: ProcessResult, timeout_seconds: float,
                     context: TrivyContext | None = None) -> tuple[str, str, str]:
    """(kind, reason, remedy) for a run that produced no report."""
    if result.start_error:
        return ("cannot-start", f"could not be started: {result.start_error}",
                "check that the file is a Trivy binary for this platform and is executable")
    if result.timed_out:
        return ("timeout", f"did not finish within {timeout_seconds:g} s and was killed",
                "raise the time-out (AUDITOR_TIMEOUT_SECONDS, or scanners.timeout_seconds in your own "
                "config), warm Trivy's cache, or narrow the scan; a first run downloads the "
                "vulnerability database, and on a machine without network use --offline")
    if _is_missing_database(result):
        what, remedy = _database_failure(context) if context is not None else ("found no vulnerability database", _DATABASE_HINT)
        return ("no-database", f"{what} ({_fatal(result)})", remedy)
    if result.stdout.strip():
        return ("bad-output", f"printed output that is not a Trivy JSON report (exit code "
                f"{result.exit_code})", "run the command by hand and check the Trivy version")
    return ("failed", f"failed with exit code {result.exit_code}: {_fatal(result)}",
            "run the command by hand to see Trivy's full log")


# Version: from the report when there is one; else asked once per binary (a failed run).
_versions: dict[Path, str | None] = {}
_versions_lock = threading.Lock()


def _version(context: TrivyContext, report: JsonObject | None) -> str | None:
    reported = (report or {}).get("Trivy", {})
    if isinstance(reported, dict) and reported.get("Version"):
        return str(reported["Version"])
    with _versions_lock:
        if context.binary.path not in _versions:
            probe = run_process((str(context.binary.path), "--version"), cwd=context.workdir,
                                timeout_seconds=min(10.0, context.options.timeout_seconds))
            match = re.search(r"Version:\s*(\S+)", probe.stdout)
            _versions[context.binary.path] = match.group(1) if match else None
        return _versions[context.binary.path]


# ---------------------------------------------------------------- report -> findings


def map_report(report: JsonObject, context: TrivyContext, scanner: str) -> tuple[list[ScannerFinding], int]:
    """Findings at or above the threshold, and how many below it were dropped."""
    kept: list[ScannerFinding] = []
    seen: set[tuple[str, int]] = set()
    dropped = 0
    for result in report.get("Results") or []:
        if not isinstance(result, dict):
            continue
        for finding in _result_findings(result, report, context, scanner):
            if not severity.at_or_above(finding.severity, context.minimum):
                dropped += 1
            elif (finding.identity, finding.span.line) not in seen:
                seen.add((finding.identity, finding.span.line))
                kept.append(finding)
    return kept, dropped


# item, its result, the whole report, context, scanner, package lines, package parents
_Mapper = Callable[
    [JsonObject, JsonObject, JsonObject, TrivyContext, str, dict[str, int], dict[str, list[str]]],
    "ScannerFinding | None",
]


def _result_findings(
    result: JsonObject, report: JsonObject, context: TrivyContext, scanner: str
) -> Iterator[ScannerFinding]:
    mappers: tuple[tuple[str, _Mapper], ...] = (
        ("Vulnerabilities", _vulnerability), ("Misconfigurations", _misconfiguration),
        ("Secrets", _secret),
    )
    locations = _package_locations(result)
    parents = _package_parents(result)
    for key, mapper in mappers:
        for item in result.get(key) or []:
            if isinstance(item, dict):
                finding = mapper(item, result, report, context, scanner, locations, parents)
                if finding is not None:
                    yield finding


def _target_span(context: TrivyContext, scanner: str, target: str, line: object) -> Span:
    """A file in the audited tree; image findings have no file there, so they point at the
    Dockerfile that builds the image when there is one."""
    if scanner == "trivy image":
        return Span("Dockerfile", 1) if (context.root / "Dockerfile").is_file() else PROJECT_SPAN
    number = line if isinstance(line, int) and line > 0 else 1
    return Span(target.replace("\\", "/") or ".", number)


def _package_locations(result: JsonObject) -> dict[str, int]:
    """Package UID and ID -> first lockfile line, from the packages Trivy lists."""
    lines: dict[str, int] = {}
    for package in result.get("Packages") or []:
        if not isinstance(package, dict):
            continue
        locations = package.get("Locations") or []
        line = locations[0].get("StartLine") if locations and isinstance(locations[0], dict) else None
        if isinstance(line, int):
            uid = (package.get("Identifier") or {}).get("UID")
            for key in (uid, package.get("ID")):
                if key:
                    lines.setdefault(str(key), line)
    return lines


def _package_parents(result: JsonObject) -> dict[str, list[str]]:
    """Package ID -> the IDs that depend on it; a direct dependency maps to [] (the walk up
    stops there even when another package also pulls it in)."""
    parents: dict[str, list[str]] = {}
    for package in result.get("Packages") or []:
        if isinstance(package, dict):
            for child in package.get("DependsOn") or []:
                parents.setdefault(str(child), []).append(str(package.get("ID")))
    for package in result.get("Packages") or []:
        if isinstance(package, dict) and package.get("Relationship") == "direct":
            parents[str(package.get("ID"))] = []
    return parents


def _dependency_path(package_id: str, parents: dict[str, list[str]]) -> list[str]:
    """One chain from a direct dependency down to ``package_id`` (names only)."""
    chain = [package_id]
    while len(chain) < 64:
        parent = next((p for p in parents.get(chain[-1], []) if p not in chain), None)
        if parent is None:
            break
        chain.append(parent)
    return [item.rsplit("@", 1)[0] if item.rfind("@") > 0 else item for item in reversed(chain)]


def _vulnerability(
    item: JsonObject, result: JsonObject, report: JsonObject, context: TrivyContext, scanner: str,
    locations: dict[str, int], parents: dict[str, list[str]],
) -> ScannerFinding:
    target = str(result.get("Target", ""))
    vuln_id = str(item.get("VulnerabilityID", "?"))
    package = str(item.get("PkgName", "?"))
    installed = str(item.get("InstalledVersion", "?"))
    fixed = item.get("FixedVersion") or None
    package_id = str(item.get("PkgID") or f"{package}@{installed}")
    uid = (item.get("PkgIdentifier") or {}).get("UID")
    line = locations.get(str(uid)) or locations.get(package_id)
    if line is None and scanner == "trivy fs":
        line = lockfile.package_line(context.root, target, package, installed)
    references = [str(ref) for ref in item.get("References") or []]
    ghsa = next((m.group(0) for ref in [vuln_id, *references] if (m := _GHSA.search(ref))), None)
    url = item.get("PrimaryURL") or (references[0] if references else None)
    title = _short_title(str(item.get("Title") or item.get("Description") or vuln_id), package)
    advisory = f"{vuln_id}, {ghsa}" if ghsa and ghsa != vuln_id else vuln_id
    ours = severity.from_trivy(item.get("Severity"))
    where = target if scanner != "trivy image" else f"image {report.get('ArtifactName')} ({target})"
    fix = (f"upgrade {package} to {fixed} or later" if fixed else
           f"no fixed version is published yet; replace or remove {package}, or suppress with a reason")
    path = _dependency_path(package_id, parents)
    return ScannerFinding(
        rule_id="SC001",
        severity=ours,
        title=f"{package} {installed}: {title} ({advisory})",
        message=f"{package} {installed} in {where} is affected by {vuln_id} ({ours}); {fix}.",
        span=_target_span(context, scanner, target, line),
        properties={
            "scanner": scanner, "vulnerability_id": vuln_id, "package": package,
            "installed": installed, "fixed": fixed, "status": item.get("Status"), "url": url,
            "cve": vuln_id if vuln_id.startswith("CVE-") else None, "ghsa": ghsa,
            "scanner_severity": item.get("Severity"), "target": target,
            "dependency_path": " > ".join(path) if len(path) > 1 else package,
            "artifact": report.get("ArtifactName"),
        },
        identity=f"{'trivy-image' if scanner == 'trivy image' else 'trivy'}:{vuln_id}:{package}:"
        f"{report.get('ArtifactName') if scanner == 'trivy image' else target}",
    )


def _short_title(title: str, package: str) -> str:
    # Trivy titles start with the affected package ("nodejs-lodash: prototype pollution in
    # ..."), which our title already names.
    head, separator, rest = title.partition(": ")
    if separator and package.lower() in head.lower() and len(head) <= 40:
        title = rest
    title = " ".join(title.split())
    return title[:1].upper() + title[1:120]


def _misconfiguration(
    item: JsonObject, result: JsonObject, report: JsonObject, context: TrivyContext, scanner: str,
    locations: dict[str, int], parents: dict[str, list[str]],
) -> ScannerFinding | None:
    if str(item.get("Status", "FAIL")).upper() != "FAIL":
        return None
    target = str(result.get("Target", ""))
    check_id = str(item.get("AVDID") or item.get("ID") or "?")
    cause = item.get("CauseMetadata") or {}
    line = cause.get("StartLine") if isinstance(cause, dict) else None
    text = " ".join(str(item.get("Message") or item.get("Description") or "").split()).rstrip(".")
    resolution = " ".join(str(item.get("Resolution") or "").split()).rstrip(".")
    ours = severity.from_trivy(item.get("Severity"))
    return ScannerFinding(
        rule_id="SC002",
        severity=ours,
        title=f"{check_id}: {item.get('Title') or text}",
        message=f"Trivy {check_id} in {target}: {text}{_then(resolution)}.",
        span=_target_span(context, scanner, target, line),
        properties={
            "scanner": scanner, "kind": "misconfiguration", "check_id": check_id,
            "url": item.get("PrimaryURL"), "scanner_severity": item.get("Severity"),
            "target": target, "resource": cause.get("Resource") if isinstance(cause, dict) else None,
            "type": result.get("Type"),
            "same_as": same_as(check_id) or same_as(str(item.get("ID") or "")),
        },
        identity=f"trivy-config:{check_id}:{target}:{text}",
    )


# Trivy misconfiguration checks that test what one of the auditor's own controls tests: the
# auditor reports the defect once, under its control (with the catalog's severity, evidence and
# suppressions), and drops Trivy's copy when that control ran (auditor.external.fold_runs).
# Keyed by (prefix, number): Trivy spells the same check DS-0002, DS002 and AVD-DS-0002.
SAME_AS: dict[tuple[str, int], str] = {
    ("DS", 1): "DF003",    # ':latest' tag used
    ("DS", 2): "DF008",    # image user should not be 'root'
    ("DS", 4): "DF011",    # port 22 exposed (a privileged port)
    ("DS", 25): "DF016",   # 'apk add' is missing '--no-cache'
    ("DS", 26): "DF014",   # no HEALTHCHECK defined
    ("DS", 31): "DF015",   # secrets passed via build-args or environment
    ("KSV", 1): "KS004",   # can elevate its own privileges
    ("KSV", 3): "KS003",   # default capabilities not dropped
    ("KSV", 8): "KS004",   # hostIPC
    ("KSV", 9): "KS004",   # hostNetwork
    ("KSV", 10): "KS004",  # hostPID
    ("KSV", 11): "KS005",  # CPU not limited
    ("KSV", 12): "KS001",  # runs as root (runAsNonRoot)
    ("KSV", 13): "KS008",  # image tag ':latest' used
    ("KSV", 14): "KS002",  # root file system is not read-only
    ("KSV", 15): "KS005",  # CPU requests not specified
    ("KSV", 16): "KS005",  # memory requests not specified
    ("KSV", 17): "KS004",  # privileged
    ("KSV", 18): "KS005",  # memory not limited
    ("KSV", 30): "KS011",  # runtime/default seccomp profile not set
    ("KSV", 36): "KS012",  # service account token mounted
    ("KSV", 104): "KS011", # seccomp policies disabled
    ("KSV", 106): "KS003", # container capabilities must only include NET_BIND_SERVICE
}
_CHECK_ID = re.compile(r"^(?:AVD-)?([A-Z]+)-?0*([0-9]+)$")


def same_as(check_id: str) -> str | None:
    """The auditor control that tests what Trivy check ``check_id`` tests, or None."""
    match = _CHECK_ID.match(check_id.strip().upper())
    return SAME_AS.get((match.group(1), int(match.group(2)))) if match else None


def _then(resolution: str) -> str:
    """Trivy's resolution as the second half of our sentence, unless it only repeats it."""
    return f"; {resolution[:1].lower()}{resolution[1:]}" if resolution else ""


def _secret(
    item: JsonObject, result: JsonObject, report: JsonObject, context: TrivyContext, scanner: str,
    locations: dict[str, int], parents: dict[str, list[str]],
) -> ScannerFinding:
    target = str(result.get("Target", ""))
    rule = str(item.get("RuleID", "?"))
    title = str(item.get("Title") or rule)
    line = item.get("StartLine")
    masked = " ".join(str(item.get("Match") or "").split())[:160]
    ours = severity.from_trivy(item.get("Severity"))
    return ScannerFinding(
        rule_id="SC002",
        severity=ours,
        title=f"{title} in {target}",
        message=(f"Trivy secret rule {rule} matched {target}:{line} ({masked}); revoke the "
                 "credential, remove it from the tree and its history, and inject it at runtime "
                 "from a secret store."),
        span=_target_span(context, scanner, target, line),
        properties={
            "scanner": scanner, "kind": "secret", "check_id": rule,
            "category": item.get("Category"), "scanner_severity": item.get("Severity"),
            "target": target, "match": masked,
        },
        # The match is masked by Trivy; with the rule and file it stays stable when lines move.
        identity=f"trivy-secret:{rule}:{target}:{masked}",
    )
