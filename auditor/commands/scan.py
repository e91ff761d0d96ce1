"""``auditor scan``: discover, parse, check, report, and exit with a code a pipeline can trust."""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import IO, Any

from auditor.cli import EXIT_FINDINGS, EXIT_OK, UsageError

if TYPE_CHECKING:  # the command imports these lazily, when it runs
    from concurrent.futures import Future

    from auditor.catalog import Rule
    from auditor.config import Config
    from auditor.discovery import Discovered
    from auditor.engine import AuditResult
    from auditor.policy import Floor, PolicyReport
    from auditor.progress import Display
    from auditor.scanners import ScannerOptions, ScannerRun

# format name -> (module, function); each renders an AuditResult to a stream
RENDERERS = {
    "json": ("auditor.report.json_report", "render_json"),
    "sarif": ("auditor.report.sarif", "render_sarif"),
    "junit": ("auditor.report.junit", "render_junit"),
    "github": ("auditor.report.github", "render_github"),
    "markdown": ("auditor.report.markdown", "render_markdown"),
    "gitlab-codequality": ("auditor.report.gitlab", "render_codequality"),
    "gitlab-sast": ("auditor.report.gitlab", "render_sast"),
}
FORMATS = ("text", "concise", *RENDERERS)
STDOUT = "-"  # as a FILE: standard output


def _scan_root(paths: list[str]) -> tuple[Path, list[Path], set[str] | None]:
    """The root (what paths are relative to), the roots walked, and the files to report on (None: all).

    Folders are read whole and paths are relative to the folder (to their common folder when
    there are several). Files (what pre-commit passes) are reported on alone, but read in the
    context of the project that holds each (``project_of``: the compose file's build context,
    nginx includes, the Dockerfile a compose service builds), not the whole repository; paths are
    then relative to the current folder, so a finding names the file the way it was given, unless
    a project lies outside the current folder (then relative to the projects' common folder)."""
    resolved = []
    for raw in paths:
        path = Path(raw)
        if not path.exists() and not path.is_symlink():
            raise UsageError(f"{raw}: no such file or folder")
        resolved.append(Path(os.path.abspath(path)))
    if all(p.is_dir() for p in resolved):
        if len(resolved) == 1:
            return resolved[0], resolved, None
        common = Path(os.path.commonpath([str(p) for p in resolved]))
        return common, resolved, None
    cwd = Path(os.path.abspath(Path.cwd()))
    folders = [p if p.is_dir() else project_of(p, cwd) for p in resolved]
    walked = [f for f in dict.fromkeys(folders) if not any(o != f and o in f.parents for o in folders)]
    if all(f == cwd or cwd in f.parents for f in walked):
        root = cwd
    else:
        root = Path(os.path.commonpath([str(f) for f in walked]))
    files = [p for p in resolved if not p.is_dir()]
    report = None if any(p.is_dir() for p in resolved) else {p.relative_to(root).as_posix() for p in files}
    return root, walked + files, report


def _shown_roots(roots: list[Path]) -> list[Path]:
    """The roots a report names: the folders read (a file argument is also walked on its own, so
    that an ignored file given by name is still audited, but it is not a root of its own)."""
    return [root for root in roots if root.is_dir()] or roots


# Files that make a folder a project, strongest first: a deployment (compose, kustomize, Helm,
# skaffold), then a component (an image, a Node.js package, the auditor's configuration, nginx).
_DEPLOYMENT_MARKERS = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization", "Chart.yaml",
                                 "skaffold.yaml"})
_COMPONENT_MARKERS = frozenset({"package.json", ".auditor.yaml", ".auditor.yml", "nginx.conf"})


def project_of(path: Path, cwd: Path) -> Path:
    """The project folder that holds the file ``path``: the nearest folder at or above it with a
    compose file (or kustomization, Chart.yaml, skaffold.yaml), else the nearest with a
    Dockerfile, package.json, .auditor.yaml or nginx.conf, else the bound. Never above the bound:
    the repository root (the nearest folder with ``.git``), else the current folder when the file
    is inside it, else the file's own folder. Git is not run: the tree's git configuration could
    run programs."""
    from auditor.discovery import classify
    from auditor.ignore import repository_root

    folder = path.parent
    repository = repository_root(folder)
    if repository is not None:
        bound = repository
    elif folder == cwd or cwd in folder.parents:
        bound = cwd
    else:
        bound = folder
    chain = [folder] + [p for p in folder.parents if p == bound or bound in p.parents]
    listings = []
    for candidate in chain:
        try:
            listings.append(os.listdir(candidate))
        except OSError:
            listings.append([])
    markers: tuple[Callable[[str], bool], ...] = (
        lambda name: name in _DEPLOYMENT_MARKERS or classify(name) == "compose",
        lambda name: name in _COMPONENT_MARKERS or classify(name) == "dockerfile")
    for marks in markers:
        for candidate, names in zip(chain, listings):
            if any(marks(name) for name in names):
                return candidate
    return bound


def parse_formats(specs: list[str] | None, output: str | None) -> list[tuple[str, str | None]]:
    """``["sarif:out.sarif", "text"]`` -> ``[("sarif", "out.sarif"), ("text", None)]``."""
    chosen: list[tuple[str, str | None]] = []
    for spec in specs or ["text"]:
        name, _, target = spec.partition(":")
        name = name.strip().lower()
        if name not in FORMATS:
            raise UsageError(f"unknown format {name!r}; choose from {', '.join(FORMATS)}")
        chosen.append((name, None if target in ("", STDOUT) else target))
    if output:
        without_file = [i for i, (_, target) in enumerate(chosen) if target is None]
        if len(without_file) != 1:
            raise UsageError("--output needs exactly one --format without its own :FILE")
        chosen[without_file[0]] = (chosen[without_file[0]][0], None if output == STDOUT else output)
    if sum(1 for _, target in chosen if target is None) > 1:
        raise UsageError("only one format can go to standard output; give the others a file: --format json:report.json")
    return chosen


def prepare(args: argparse.Namespace) -> tuple[AuditResult, Config]:
    """Everything both `scan` and `baseline create` do: configure, discover, parse, check."""
    from auditor.catalog import distrust_inside, load_catalog
    from auditor.discovery import discover
    from auditor.policy import judge_excludes, nothing_left_to_run
    from auditor.api import audit_tree
    from auditor.engine import select_rules

    if getattr(args, "diff_base", None) is not None:
        from auditor import gitcmd  # git (and subprocess) only for --diff-base

        gitcmd.check_ref(args.diff_base)  # an option-looking ref never reaches git
    shown = getattr(args, "_progress", None)
    scan_root, roots, report_paths = _scan_root(args.paths)
    if getattr(args, "diff_base", None):
        from auditor import gitcmd

        report_paths = gitcmd.changed_since(scan_root, args.diff_base)
    distrust_inside(scan_root, *roots)
    catalog = load_catalog()
    unknown = [p for p in args.select + args.ignore if not any(r.startswith(p) for r in catalog)]
    if unknown:
        raise UsageError(f"no rule matches {', '.join(unknown)}; `auditor rules` lists them all")
    config, policy = configure(args, scan_root, catalog)
    rules = select_rules(catalog, config, args.select, args.ignore)
    policy.weakenings += nothing_left_to_run(config, catalog, rules)
    baseline = None
    if getattr(args, "baseline", None):
        from auditor.baseline import BaselineError, read_baseline

        try:
            baseline = read_baseline(Path(args.baseline))
        except BaselineError as exc:
            raise UsageError(str(exc)) from exc
    found, excluded = judge_excludes(
        config, policy_floor(args, scan_root, catalog),
        lambda: discover(roots, scan_root, exclude=[], max_file_size=config.max_file_size, max_files=config.max_files,
                         no_ignore=getattr(args, "no_ignore", False)),
        lambda patterns: discover(roots, scan_root, exclude=patterns, max_file_size=config.max_file_size,
                                  max_files=config.max_files,
                                  no_ignore=getattr(args, "no_ignore", False)))
    policy.weakenings += excluded
    scanners = _scanners(args, config, rules, scan_root, found)
    external: _Scanners | _Announced | None = scanners
    if shown is not None:
        shown.phase("parsing and checking", total=len(found.files))
        external = _Announced(scanners, shown) if scanners is not None else None
    result = audit_tree(found, rules, config, [_display(p, scan_root) for p in _shown_roots(roots)],
                        jobs=getattr(args, "jobs", None),
                        suppress=not getattr(args, "no_suppress", False), baseline=baseline,
                        report_paths=report_paths, known_rule_ids=catalog, external=external,
                        json_report=getattr(args, "_json_report", False))
    result.policy = policy
    return result, config


def policy_floor(args: argparse.Namespace, scan_root: Path, catalog: dict[str, Rule]) -> Floor | None:
    """The ``--policy FILE`` floor, read once per run."""
    from auditor.policy import load_floor

    path = getattr(args, "policy", None)
    if not path:
        return None
    cached: Floor | None = getattr(args, "_policy_floor", None)
    if cached is None:
        cached = load_floor(Path(path), scan_root, catalog)
        args._policy_floor = cached
    return cached


def configure(args: argparse.Namespace, scan_root: Path,
              catalog: dict[str, Rule]) -> tuple[Config, PolicyReport]:
    """Policy from the tree's configuration, machinery from the user (command line, ``AUDITOR_*``,
    their own config file), the ``--policy`` floor applied; returns the configuration and the
    record of what the tree's configuration weakened."""
    from auditor.config import load_settings
    from auditor.policy import PolicyReport, apply_policy

    settings = load_settings(scan_root, getattr(args, "config", None), catalog,
                             trivy=getattr(args, "trivy", None), jobs=getattr(args, "jobs", None),
                             cache_dir=getattr(args, "cache_dir", None), no_cache=getattr(args, "no_cache", False))
    config = settings.config
    if getattr(args, "architecture", None):  # the command line names the document: trusted, may be outside the tree
        import os

        if not os.path.isfile(args.architecture):
            from auditor.cli import UsageError

            raise UsageError(f"--architecture {args.architecture}: no such file")
        config.architecture = {**config.architecture, "document": os.path.abspath(args.architecture), "_trusted": True}
    floor = policy_floor(args, scan_root, catalog)
    weakenings = apply_policy(config, catalog, floor, settings.trusted_bounds)
    source = config.source
    if source is not None and config.from_tree:
        source = _display(Path(source).absolute(), scan_root)
    return config, PolicyReport(source, config.from_tree, floor.source if floor else None, weakenings)


def _scanners(args: argparse.Namespace, config: Config, rules: dict[str, Rule], scan_root: Path,
              found: Discovered) -> _Scanners | None:
    """Trivy and npm audit, to run in a background thread while the static checks do (the audit
    starts them: ``_Scanners``)."""
    if args.no_external or not any(rule_id.startswith("SC") for rule_id in rules):
        return None
    from auditor.scanners import ScannerOptions

    # config.scanners holds only what trusted sources set for programs, folders and the network
    # (the command line, AUDITOR_*, the user's own configuration): see auditor.config.load_settings
    settings = dict(config.scanners)
    settings["digest_cache"] = config.cache_folder  # the Trivy binary's SHA-256, kept (auditor/cache.py)
    if getattr(args, "image", None):
        settings["image"] = args.image
    if getattr(args, "offline", False):
        settings["offline"] = True
    return _Scanners(scan_root, found.lockfiles, ScannerOptions(**settings))


class _Scanners:
    """The external scanners' runs, in a background thread that the audit starts (``start``) once
    its worker processes are forked, or at once when it has none. Not before: a fork copies the
    locks other threads hold, and the scanners' thread imports modules (each import holds the
    module's lock while it runs); a worker forked meanwhile would wait forever for the lock of a
    module it imports too. ``result`` starts them if nothing did."""

    def __init__(self, scan_root: Path, lockfiles: list[str], options: ScannerOptions) -> None:
        self._scan_root, self._lockfiles, self._options = scan_root, lockfiles, options
        self._future: Future[list[ScannerRun]] | None = None

    def start(self) -> None:
        if self._future is not None:
            return
        from concurrent.futures import ThreadPoolExecutor

        from auditor.scanners import run_scanners

        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scanners")
        self._future = executor.submit(run_scanners, self._scan_root, self._lockfiles, self._options)
        executor.shutdown(wait=False)

    def done(self) -> bool:
        return self._future is not None and self._future.done()

    def result(self, timeout: float | None = None) -> list[ScannerRun]:
        self.start()
        assert self._future is not None
        return self._future.result(timeout)


class _Announced:
    """The scanners, naming the wait on the progress display when the checks are done before
    Trivy and npm audit are."""

    def __init__(self, scanners: _Scanners, shown: Display) -> None:
        self._scanners, self._shown = scanners, shown

    def start(self) -> None:
        self._scanners.start()

    def result(self, timeout: float | None = None) -> list[ScannerRun]:
        if not self._scanners.done():
            self._shown.phase("waiting for the external scanners (Trivy, npm audit)")
        return self._scanners.result(timeout)


def run(args: argparse.Namespace) -> int:
    from auditor.parallel import few_collections

    # The whole command runs with the audit's collector thresholds, the reports included: they
    # read the audit's heap, and restoring the defaults before them started a full collection
    # over it (8% of a 45,000-Pod scan)
    with few_collections():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from auditor import progress

    formats = parse_formats(args.formats, args.output)
    args._json_report = any(name == "json" for name, _ in formats)  # rendered in part by the partitions
    if progress.wanted(getattr(args, "progress", "auto"), args.quiet, sys.stderr):
        with progress.display(sys.stderr) as shown:
            args._progress = shown
            result, config = prepare(args)
            try:
                shown.phase("writing reports")
                threshold = args.fail_on or config.fail_on or "high"
                rendered = _render_all(result, formats, threshold, args)
            finally:
                result.close()  # the spool of a tree of many projects (auditor.stream)
        _flush(rendered)
    else:
        result, config = prepare(args)
        try:
            threshold = args.fail_on or config.fail_on or "high"
            _write_reports(result, formats, threshold, args)
        finally:
            result.close()
    # The tree's configuration left nothing to audit (every file excluded, every control off):
    # that never passes, whatever the threshold
    blocked = bool(result.policy.blocking)
    return EXIT_FINDINGS if result.fails(threshold) or blocked else EXIT_OK


def _display(path: Path, scan_root: Path) -> str:
    try:
        relative = path.relative_to(scan_root).as_posix()
    except ValueError:
        return str(path)
    return relative if relative != "." else str(scan_root)


def _write_reports(result: AuditResult, formats: list[tuple[str, str | None]], threshold: str,
                   args: argparse.Namespace) -> None:
    for name, target in formats:
        if target is None:
            _render(name, result, sys.stdout, threshold, args, to_terminal=True)
            continue
        try:
            with open(target, "w", encoding="utf-8") as stream:
                _render(name, result, stream, threshold, args, to_terminal=False)
        except OSError as exc:
            raise UsageError(f"cannot write {target}: {exc.strerror}") from exc


def _render_all(result: AuditResult, formats: list[tuple[str, str | None]], threshold: str,
                args: argparse.Namespace) -> list[tuple[str | None, str]]:
    """While the progress display is up, reports are rendered to memory (files and standard
    output are written once it is gone, so the bar never interleaves with the report)."""
    import io

    rendered: list[tuple[str | None, str]] = []
    for name, target in formats:
        buffer = io.StringIO()
        color = _color_for(args, sys.stdout) if target is None else args.color == "always"
        _render(name, result, buffer, threshold, args, to_terminal=target is None, color=color)
        rendered.append((target, buffer.getvalue()))
    return rendered


def _flush(rendered: list[tuple[str | None, str]]) -> None:
    for target, text in rendered:
        if target is None:
            sys.stdout.write(text)
            continue
        try:
            with open(target, "w", encoding="utf-8") as stream:
                stream.write(text)
        except OSError as exc:
            raise UsageError(f"cannot write {target}: {exc.strerror}") from exc


def _color_for(args: argparse.Namespace, stream: IO[str]) -> bool:
    from auditor.report.console import use_color

    return use_color(args.color, stream)


def _render(name: str, result: AuditResult, stream: IO[str], threshold: str, args: argparse.Namespace,
            to_terminal: bool, color: bool | None = None) -> None:
    if color is None:
        color = _color_for(args, stream) if to_terminal else args.color == "always"
    if name == "text":
        from auditor.report.console import render_text

        render_text(result, stream, color=color, threshold=threshold, quiet=args.quiet)
    elif name == "concise":
        from auditor.report.console import render_concise

        render_concise(result, stream, color=color)
    else:
        import importlib

        module, function = RENDERERS[name]
        renderer = getattr(importlib.import_module(module), function)
        if name == "markdown":
            renderer(result, stream, threshold=threshold)  # the summary states the verdict
        elif name == "sarif":
            renderer(result, stream, getattr(args, "sarif_category", None))
        else:
            renderer(result, stream)
