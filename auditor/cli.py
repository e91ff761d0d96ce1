"""The command line: ``auditor scan|baseline|report|merge|model|rules|explain|completion``. Builds the parser, dispatches to one function
per subcommand in ``auditor/commands/`` and turns expected failures into one line and an exit code.

Exit codes: 0 nothing at or above the threshold; 1 findings at or above it; 2 usage or
configuration error; 3 an internal error of the auditor (a bug: please report it).
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from _thread import RLock
from types import ModuleType
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import Any, NoReturn

from auditor import AUDIT_GC_THRESHOLD, __version__


def _untranslated_when_no_catalog_can_exist() -> None:
    """argparse translates each of its messages through ``gettext``, which for every message looks
    for a catalog under ``<sys.base_prefix>/share/locale`` in each language the environment names
    (importing ``locale`` for the first of them): about 1 ms of a cold one-project scan. Where that
    folder does not exist and nothing has bound another (a pyenv or python.org build, a virtualenv
    of one), every lookup would find nothing and return the message itself, which this does at
    once. Where it exists (a distribution's Python under /usr), argparse translates as ever."""
    import gettext

    folder = getattr(gettext, "_default_localedir", None)
    if folder is None or getattr(gettext, "_localedirs", None) or getattr(gettext, "_current_domain", None) \
            != "messages" or os.path.isdir(folder):
        return
    setattr(argparse, "_", lambda message: message)
    setattr(argparse, "ngettext", lambda singular, plural, count: singular if count == 1 else plural)


_untranslated_when_no_catalog_can_exist()

_LOADING_LOCK = RLock()
_LOADING: set[str] = set()
# A process forked while another thread runs a deferred module's code (the scanners' thread is
# often the first to use tempfile and shutil) would inherit the lock held by a thread it does not
# have, and its first read of any deferred module would wait forever: the fork waits for the
# module to finish, and the child starts with the lock free.
if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(before=_LOADING_LOCK.acquire, after_in_parent=_LOADING_LOCK.release,
                        after_in_child=_LOADING_LOCK.release)


class _LoadedOnFirstUse(ModuleType):
    """A module whose code runs when one of its attributes is first read (see _load_on_first_use).
    One thread runs it while the others wait; until it has run, the module's own code sees only
    the names it has defined so far, as during any import."""

    def __getattr__(self, name: str) -> Any:  # only for attributes the module does not have yet
        with _LOADING_LOCK:
            if type(self) is _LoadedOnFirstUse and self.__name__ not in _LOADING:
                spec = self.__spec__
                if spec is None or spec.loader is None:
                    raise AttributeError(name)
                _LOADING.add(self.__name__)
                try:
                    spec.loader.exec_module(self)
                finally:
                    _LOADING.discard(self.__name__)
                self.__class__ = ModuleType  # type: ignore[assignment]
        return ModuleType.__getattribute__(self, name)


def _load_on_first_use(name: str) -> None:
    """Put ``name`` in ``sys.modules`` as a module whose code runs when one of its attributes is
    first read, unless it is imported already. ``dataclasses`` imports ``inspect`` (with ``ast``,
    ``dis`` and ``tokenize``: a sixth of a one-project scan's start-up) and ``copy`` for
    ``signature()`` and ``deepcopy()`` calls that the auditor's classes never make
    (``auditor.record`` writes their ``__doc__`` itself); a command that does need them gets them
    on first use. The standard ``importlib.util.LazyLoader`` would not do: the ``import``
    statement reads the module's ``__spec__``, which runs it; here ``__spec__`` and the other
    attributes the import system sets are there from the start, and only a name the module
    defines runs it. Done by the command line only: a program importing ``auditor`` keeps its
    modules as it has them."""
    if name in sys.modules:
        return
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
        return
    module = importlib.util.module_from_spec(spec)
    module.__class__ = _LoadedOnFirstUse
    sys.modules[name] = module


_load_on_first_use("inspect")
_load_on_first_use("copy")
# the parsers import these for Helm charts, Kustomize overlays and nginx templates only
# (``shutil`` brings ``bz2``, ``lzma`` and ``fnmatch``; ``tempfile`` brings ``random``)
_load_on_first_use("shutil")
_load_on_first_use("tempfile")
# ``logging`` (which dockerfile-parse imports) imports ``traceback`` (with ``linecache``,
# ``tokenize`` and ``textwrap``) to format exceptions it is never given here; ``pathlib`` imports
# ``urllib.parse``, which imports ``ipaddress`` for bracketed URL hosts the auditor never parses
_load_on_first_use("traceback")
_load_on_first_use("ipaddress")
# PyYAML's constructor imports ``base64`` for ``!!binary`` scalars, which the auditor's loader never builds
_load_on_first_use("base64")

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
_PROCESS_GC_THRESHOLD = AUDIT_GC_THRESHOLD  # the console script's (program()); why: auditor/__init__.py
SEVERITY_CHOICES = ("critical", "high", "medium", "low", "info", "none")

DESCRIPTION = """\
Audit a containerised Next.js + nginx deployment (Dockerfile, docker-compose, Kubernetes, nginx,
next.config, package.json) against its security architecture: non-root UID 1001, dropped
capabilities, read-only root filesystem, resource limits, TLS and security headers, rate limits,
pinned Alpine multi-stage images, health checks, Trivy and npm audit.
"""

EPILOG = """\
examples:
  auditor scan                          audit the current folder
  auditor scan fixtures/noncompliant    audit another tree
  auditor scan --format json -o report.json --fail-on medium
  auditor scan --select DF,DC --ignore DF004
  auditor scan --format sarif:auditor.sarif --format text     SARIF for code scanning, text for the log
  auditor scan --baseline .auditor-baseline.json              fail only on new findings
  auditor scan --policy ci/auditor-policy.yaml untrusted/     a floor the tree's own config cannot weaken
  auditor scan Dockerfile k8s/deploy.yaml                     report only these files (pre-commit)
  auditor report fixtures/noncompliant -o audit/               the compliance report (HTML, Markdown) in audit/
  auditor merge reports/*/report.json -o org-report/          many repositories' JSON reports as one view
  auditor scan --format concise         one line a finding: path:line:col: ID severity message
  auditor completion bash > ~/.local/share/bash-completion/completions/auditor
  auditor model                         how the files were linked into deployments
  auditor rules                         list every control
  auditor explain DF008                 what a control checks, why, and how to fix it

exit codes: 0 clean at the threshold, 1 findings at or above --fail-on, 2 usage or
configuration error, 3 internal error.  Colour: --color, NO_COLOR=1 (off) or FORCE_COLOR=1 (on).
"""


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns`` (``COLUMNS``, else the terminal on standard output,
    else 80), without importing ``shutil``, and ``bz2``, ``lzma`` and ``fnmatch`` with it."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class _Parser(argparse.ArgumentParser):
    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse makes a formatter for every add_argument call (to check its metavar), and a
        # formatter without a width imports shutil to ask for the terminal's: the same width,
        # without that import on every start
        return self.formatter_class(prog=self.prog, width=_terminal_columns() - 2)  # type: ignore[call-arg]

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        sys.stderr.write(f"auditor: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


DEFAULT_REPORT_DIR = "auditor-report"
COLOR_HELP = "colour (auto: on a terminal unless NO_COLOR is set; FORCE_COLOR forces it)"
CONFIG_HELP = ("configuration file (default: .auditor.yaml or [tool.auditor] in pyproject.toml, the nearest from "
               "the scan root up to the repository root; a file of the audited tree may set policy only)")
POLICY_HELP = ("a trusted policy floor from outside the audited tree: rules the tree's configuration cannot "
               "switch off, severities it cannot lower, a fail_on it cannot raise, paths it cannot exclude")
SELECT_HELP = "only these rules or prefixes, comma-separated (DF008,NG)"
IGNORE_HELP = "skip these rules or prefixes, comma-separated"
NO_IGNORE_HELP = ("also read what .gitignore ignores and tool caches (dist/, build/, .pytest_cache/, "
                  "virtual environments, ...); by default they are left out unless tracked by git")


def _id_list(text: str) -> list[str]:
    return [part.strip().upper() for part in text.split(",") if part.strip()]


def _cache_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-cache", action="store_true",
                        help="parse and check every project again, ignoring the incremental cache "
                             "(same as AUDITOR_NO_CACHE=1)")
    parser.add_argument("--cache-dir", metavar="DIR",
                        help="the cache folder: the auditor keeps its results in DIR/auditor and Trivy its "
                             "database in DIR (same as AUDITOR_CACHE_DIR; default: ~/.cache/auditor for the "
                             "auditor, ~/.cache/trivy for Trivy); never a folder inside the audited tree")


def _add_scan(commands: Any) -> None:
    scan = commands.add_parser(
        "scan", help="audit a tree (default: the current folder)",
        description="Audit the given folders or files against every control of the catalog.",
        epilog="formats: text (default), concise (path:line:col: ID severity message), json, sarif (GitHub code "
               "scanning), junit (one test case per control), github (workflow annotations), markdown (step "
               "summary), gitlab-codequality and gitlab-sast (GitLab merge-request widgets). Write several at once "
               "with --format FORMAT:FILE, e.g. --format json:report.json --format text; FILE '-' is standard output.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    scan.add_argument("paths", nargs="*", default=["."], metavar="PATH",
                      help="folders or files to audit (default: .)")
    scan.add_argument("-f", "--format", action="append", dest="formats", metavar="FORMAT[:FILE]",
                      help="output format, repeatable: text, concise, json, sarif, junit, github, markdown, "
                           "gitlab-codequality, gitlab-sast (default: text); FORMAT:FILE writes that format to FILE "
                           "('-': standard output)")
    scan.add_argument("-o", "--output", metavar="FILE",
                      help="write the format given without its own :FILE to FILE ('-': standard output, the default)")
    scan.add_argument("--sarif-category", metavar="CATEGORY",
                      help="SARIF runAutomationDetails.id category (GitHub keys code-scanning alerts by it; "
                           "default: auditor/<scan root folder name>)")
    scan.add_argument("--fail-on", choices=SEVERITY_CHOICES, default=None,
                      help="lowest severity that makes the exit code 1 (default: high; none: always 0)")
    scan.add_argument("-c", "--config", metavar="FILE", help=CONFIG_HELP)
    scan.add_argument("--policy", metavar="FILE", help=POLICY_HELP)
    scan.add_argument("--select", type=_id_list, action="extend", default=[], metavar="IDS", help=SELECT_HELP)
    scan.add_argument("--ignore", type=_id_list, action="extend", default=[], metavar="IDS", help=IGNORE_HELP)
    scan.add_argument("-q", "--quiet", action="store_true",
                      help="print findings only, and nothing at all when clean (for pre-commit)")
    scan.add_argument("--no-external", action="store_true",
                      help="do not run the external scanners (Trivy, npm audit)")
    scan.add_argument("--offline", action="store_true",
                      help="air-gapped machine: Trivy uses the vulnerability database already in its cache and "
                           "never downloads or updates it (same as AUDITOR_OFFLINE=true; default: Trivy "
                           "downloads and updates it in your cache, as Trivy does)")
    scan.add_argument("--no-ignore", action="store_true", help=NO_IGNORE_HELP)
    scan.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                      help="colour the text output (auto: on a terminal unless NO_COLOR is set; FORCE_COLOR forces it)")
    scan.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                      help="progress display on standard error (auto: on a terminal, for scans over about a second, "
                           "unless --quiet or NO_COLOR)")
    scan.add_argument("--baseline", metavar="FILE",
                      help="fail only on findings not in this baseline (see `auditor baseline create`)")
    scan.add_argument("--diff-base", metavar="REF",
                      help="report only files changed since this git ref (the whole tree is still read for context)")
    scan.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                      help="worker processes for large trees of independent projects "
                           "(default: the number of CPUs; 1: serial; findings are the same either way)")
    scan.add_argument("--architecture", metavar="FILE",
                      help="the architecture document to compare the deployment with (AR rules; default: "
                           "architecture.document in .auditor.yaml, else ARCHITECTURE.md or docs/ARCHITECTURE.md)")
    scan.add_argument("--trivy", metavar="PATH", help="the trivy binary to run (default: trivy on PATH)")
    scan.add_argument("--image", metavar="NAME", help="also scan this built image with `trivy image NAME`")
    scan.add_argument("--no-suppress", action="store_true",
                      help="ignore inline and configured suppressions: show everything")
    _cache_flags(scan)
    scan.set_defaults(handler="auditor.commands.scan:run")


def _add_baseline(commands: Any) -> None:
    baseline = commands.add_parser(
        "baseline", help="record today's findings so CI fails only on new ones",
        description="`auditor baseline create [PATH] -o .auditor-baseline.json` records the current findings by "
                    "fingerprint; `auditor scan --baseline .auditor-baseline.json` then fails only on new ones.")
    baseline.add_argument("action", choices=("create",), help="create: record the current findings")
    baseline.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="folders or files to audit (default: .)")
    baseline.add_argument("-o", "--output", default=".auditor-baseline.json", metavar="FILE",
                          help="where to write the baseline (default: .auditor-baseline.json)")
    baseline.add_argument("-c", "--config", metavar="FILE", help=CONFIG_HELP)
    baseline.add_argument("--policy", metavar="FILE", help=POLICY_HELP)
    baseline.add_argument("--select", type=_id_list, action="extend", default=[], metavar="IDS", help=SELECT_HELP)
    baseline.add_argument("--ignore", type=_id_list, action="extend", default=[], metavar="IDS", help=IGNORE_HELP)
    baseline.add_argument("--no-external", action="store_true", help="do not run the external scanners (Trivy, npm audit)")
    baseline.add_argument("--no-ignore", action="store_true", help=NO_IGNORE_HELP)
    _cache_flags(baseline)
    baseline.set_defaults(handler="auditor.commands.baseline:run", quiet=True)


def _add_rules(commands: Any) -> None:
    rules = commands.add_parser("rules", help="list the controls of the catalog",
                                description="List every control: ID, default severity and what it requires.")
    rules.add_argument("-f", "--format", choices=("text", "json"), default="text", help="text (a table) or json")
    rules.add_argument("--color", choices=("auto", "always", "never"), default="auto", help=COLOR_HELP)
    rules.set_defaults(handler="auditor.commands.rules:run")


def _add_explain(commands: Any) -> None:
    explain = commands.add_parser("explain", help="show a control's full documentation",
                                  description="Show what a control checks, why, how to fix it, its parameters and references.")
    explain.add_argument("rule_id", metavar="ID", help="a rule ID, e.g. DF008")
    explain.add_argument("--color", choices=("auto", "always", "never"), default="auto", help=COLOR_HELP)
    explain.add_argument("--config", metavar="FILE", help="the configuration whose values to show (default: the folder's)")
    explain.add_argument("--in", dest="folder", metavar="PATH", default=".",
                         help="the folder whose configuration to show the values in force for (default: .)")
    explain.set_defaults(handler="auditor.commands.explain:run")


def _add_init(commands: Any) -> None:
    init = commands.add_parser(
        "init", help="write a commented .auditor.yaml (the architecture profile), a pre-commit entry and a CI workflow",
        description="Write .auditor.yaml with the architecture profile, a .pre-commit-config.yaml entry and a CI "
                    "workflow that uploads SARIF, into FOLDER only. With --from DOC the profile is filled from the "
                    "architecture document, each value citing its line. Never overwrites without --force.")
    init.add_argument("folder", nargs="?", default=".", metavar="FOLDER", help="where to write (default: .)")
    init.add_argument("--from", dest="source", metavar="DOC", help="an architecture document (Markdown) to fill the profile from")
    init.add_argument("--ci", choices=("github", "gitlab", "none"), default="github",
                      help="the CI workflow to write (default: github)")
    init.add_argument("--force", action="store_true", help="overwrite files that already exist")
    init.set_defaults(handler="auditor.commands.init:run")


def _add_model(commands: Any) -> None:
    model = commands.add_parser(
        "model", help="show how the auditor linked the deployment's files",
        description="Print the deployment model: nginx -> service -> image -> Dockerfile for each app, "
                    "with the ports, UIDs, health paths and writable mounts each layer declares.")
    model.add_argument("path", nargs="?", default=".", metavar="PATH", help="folder to read (default: .)")
    model.add_argument("-f", "--format", choices=("text", "json"), default="text", help="text or json (default: text)")
    model.add_argument("-c", "--config", metavar="FILE", help=CONFIG_HELP)
    model.add_argument("--no-ignore", action="store_true", help=NO_IGNORE_HELP)
    model.set_defaults(handler="auditor.commands.model:run")


def _add_report(commands: Any) -> None:
    report = commands.add_parser(
        "report", help="write the compliance report (HTML, Markdown) for every control",
        description="Audit a tree and write a compliance report: every control of the catalog with its status "
                    "and evidence, summarised by family and framework. Exit code 0 once written.")
    report.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="folders or files to audit (default: .)")
    report.add_argument("-f", "--format", dest="report_formats", action="append", metavar="FORMAT[:FILE]",
                        help="html or markdown, repeatable (default: both); FORMAT:FILE writes that format to FILE "
                             "('-': standard output)")
    report.add_argument("-o", "--output", metavar="PATH",
                        help=f"a folder to write NAME.html / NAME.md into (default: {DEFAULT_REPORT_DIR}/, never the "
                             "repository's own reports/), or, with one format, a FILE ('-': standard output)")
    report.add_argument("--name", metavar="NAME", help="file name without extension (default: the folder's name)")
    report.add_argument("-c", "--config", metavar="FILE", help=CONFIG_HELP)
    report.add_argument("--policy", metavar="FILE", help=POLICY_HELP)
    report.add_argument("--select", type=_id_list, action="extend", default=[], metavar="IDS", help=SELECT_HELP)
    report.add_argument("--ignore", type=_id_list, action="extend", default=[], metavar="IDS", help=IGNORE_HELP)
    report.add_argument("--no-external", action="store_true",
                        help="do not run Trivy and npm audit (their controls are reported as skipped)")
    report.add_argument("--no-ignore", action="store_true", help=NO_IGNORE_HELP)
    report.add_argument("--trivy", metavar="PATH", help="the trivy binary to run (default: trivy on PATH)")
    report.add_argument("--image", metavar="NAME", help="also scan this built image with `trivy image NAME`")
    report.add_argument("-q", "--quiet", dest="quiet_report", action="store_true",
                        help="do not list the files written")
    _cache_flags(report)
    report.set_defaults(handler="auditor.commands.report:run", quiet=True)


def _add_merge(commands: Any) -> None:
    merge = commands.add_parser(
        "merge", help="combine many repositories' JSON reports into one compliance view",
        description="Combine the JSON reports of many repositories (one `auditor scan --format json -o report.json`\n"
                    "per repository, e.g. one CI job each) into one compliance view: a table of repositories by\n"
                    "control, with each repository's own compliance report and SARIF log. Every report is checked\n"
                    "first (an auditor JSON report of this minor release, whose controls this catalog knows); a bad\n"
                    "one stops the merge with exit 2 and nothing is written.",
        epilog="writes into DIR:\n"
               "  index.html, index.md, index.json      controls (rows) by repositories (columns)\n"
               "  repositories/NN-NAME.html, .md        each repository's compliance report (cells link here)\n"
               "  repositories/NN-NAME.sarif            each repository's SARIF log (category auditor/NAME/)\n"
               "\nnames: --label FILE=NAME, else the scan root's folder name recorded in the report (a CI checkout\n"
               "is named after its repository), else the file name; two reports of one name are refused.\n"
               "\nexample:\n"
               "  auditor scan ../api --no-external --format json -o api.json\n"
               "  auditor scan ../web --no-external --format json -o web.json\n"
               "  auditor merge api.json web.json -o org-report/ --fail-on high\n"
               "  auditor merge artifacts/*/report.json --label artifacts/x/report.json=payments -o org-report/\n"
               "\nexit codes: 0 written; 1 with --fail-on, a repository has an open finding at or above it;\n"
               "2 a report is unreadable, truncated, not an auditor JSON report or from another release.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    merge.add_argument("reports", nargs="+", metavar="REPORT.json",
                       help="JSON reports written by `auditor scan --format json`, one per repository")
    merge.add_argument("-o", "--output", metavar="DIR",
                       help=f"the folder to write into (default: {DEFAULT_REPORT_DIR}/; created if missing; files of "
                            "the same names are replaced, nothing else is touched, an input is never overwritten)")
    merge.add_argument("-f", "--format", dest="formats", action="append", metavar="FORMATS",
                       help="html, md, json, sarif, comma-separated or repeated (default: all four)")
    merge.add_argument("--label", dest="labels", action="append", default=[], metavar="FILE=NAME",
                       help="the repository name to show for the report FILE (repeatable)")
    merge.add_argument("--fail-on", choices=SEVERITY_CHOICES, default=None,
                       help="exit 1 when a repository has an open finding at or above this severity (default: exit 0 "
                            "once written)")
    merge.add_argument("-q", "--quiet", action="store_true", help="do not list the files written or the verdict")
    merge.set_defaults(handler="auditor.commands.merge:run")


def _add_completion(commands: Any) -> None:
    completion = commands.add_parser(
        "completion", help="print a shell completion script (bash, zsh, fish)",
        description="Print the completion script for a shell, generated from this parser with shtab.",
        epilog="install:\n"
               "  bash: auditor completion bash > ~/.local/share/bash-completion/completions/auditor\n"
               "  zsh:  auditor completion zsh > ~/.zfunc/_auditor   (with fpath+=~/.zfunc before compinit)\n"
               "  fish: auditor completion fish > ~/.config/fish/completions/auditor.fish",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    completion.add_argument("shell", choices=("bash", "zsh", "fish"), help="the shell to complete for")
    completion.set_defaults(handler="auditor.commands.completion:run")


_SUBCOMMANDS: dict[str, Callable[[Any], None]] = {
    "scan": _add_scan,
    "baseline": _add_baseline,
    "rules": _add_rules,
    "explain": _add_explain,
    "init": _add_init,
    "model": _add_model,
    "report": _add_report,
    "merge": _add_merge,
    "completion": _add_completion,
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand, or with ``command`` (a subcommand's name) of that one alone:
    what ``main`` builds for a command line that names one (building the nine subcommands'
    parsers cost a one-project scan a tenth of its start-up); its arguments parse the same."""
    parser = _Parser(prog="auditor", description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-V", "--version", action="version", version=f"auditor {__version__}",
                        help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, add in _SUBCOMMANDS.items():
        if command is None or name == command:
            add(commands)
    return parser


def _named_command(argv: Sequence[str]) -> str | None:
    """The subcommand a command line names: its first argument, when that is a known subcommand.
    None for anything else (an option first, such as ``-h`` whose help lists every subcommand, an
    unknown word, nothing), so that the whole parser is built."""
    return argv[0] if argv and argv[0] in _SUBCOMMANDS else None


def program() -> int:
    """The ``auditor`` program (the console script, ``python -m auditor``): ``main``, then the
    process ends. Its heap is only freed by the exit, so the collection Python runs at shutdown
    would walk the whole audit once more for nothing (a second of a 45,000-Pod scan): the heap is
    frozen out of the collector's sight first. Start-up, too, makes long-lived objects (modules,
    classes, functions) and next to no garbage, which the default threshold of 700 allocations had
    the collector walk 15 times in a one-project scan (3.5% of its instructions): the process runs
    with the audit's thresholds (``auditor.parallel.few_collections``) from its start. (``main``
    itself, called in a process that goes on, leaves the collector alone.)"""
    import gc

    gc.set_threshold(*_PROCESS_GC_THRESHOLD)
    code = main()
    gc.freeze()
    return code



def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(_named_command(sys.argv[1:] if argv is None else argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    import importlib

    module_name, _, function = args.handler.partition(":")
    _unwind_on_sigterm()
    try:
        return int(getattr(importlib.import_module(module_name), function)(args))
    except Terminated:
        sys.stderr.write("auditor: terminated\n")
        return 143
    except KeyboardInterrupt:
        sys.stderr.write("auditor: interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader went away (`auditor scan | head`): not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, not a traceback
        from auditor.catalog import CatalogError
        from auditor.config import ConfigError

        if isinstance(exc, (ConfigError, UsageError)):
            sys.stderr.write(f"auditor: error: {exc}\n")
            return EXIT_USAGE
        if isinstance(exc, CatalogError):
            sys.stderr.write(f"auditor: broken installation: {exc}\n")
            return EXIT_INTERNAL
        if os.environ.get("AUDITOR_DEBUG"):
            raise
        sys.stderr.write(f"auditor: internal error: {type(exc).__name__}: {exc}\n"
                         "  (set AUDITOR_DEBUG=1 for the traceback, and please report it)\n")
        return EXIT_INTERNAL


class Terminated(BaseException):
    """SIGTERM (a cancelled CI job, a container stopped): unwound like Ctrl-C, so the run's spool
    and temporary folders are removed; the signal's default would leave them behind. (Not a
    ``KeyboardInterrupt``: CPython ends a process by SIGINT at exit when one escaped an ``exec`` of
    a string, which would turn exit 143 into a death by SIGINT.)"""


def _unwind_on_sigterm() -> None:
    import signal

    def terminate(signum: int, frame: object) -> None:
        raise Terminated()

    try:
        signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread (main() called from a program's thread): signals are the main thread's
        pass


class UsageError(Exception):
    """A command was given arguments it cannot act on; the message says what to do."""
