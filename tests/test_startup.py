"""What a one-project scan from the command line loads: only what it uses (issue 16, row d).

Each test runs the command line in a fresh interpreter (a module imported by an earlier test
would hide the difference) and looks at ``sys.modules`` when it is done; the timing itself is
benchmarks/bench_scan.py's row d, never a test.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS_LIKE = REPO / "fixtures" / "compliant"


def _run(code: str, tmp_path: Path) -> dict[str, object]:
    """Run ``code`` (which sets ``result``) in a fresh interpreter with a private cache folder."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "AUDITOR_CACHE_DIR": str(tmp_path / "cache")}
    wrapper = f"import json, sys\n{code}\nprint(json.dumps(result))\n"
    done = subprocess.run([sys.executable, "-c", wrapper], env=env, capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _scan_modules(tmp_path: Path, *arguments: str) -> dict[str, object]:
    """The modules that a scan added to those the interpreter started with (``site`` may import
    more than ``python -c pass`` shows elsewhere: CI's interpreter has a ``.pth`` file that imports
    ``certifi``, hence ``importlib.resources``, ``tempfile`` and ``random``, before any of ours) in a scan of a copy of fixtures/compliant without its ``.gitignore`` and ``ARCHITECTURE.md``
    (pathspec, which reads the one, imports ``typing_extensions``, and markdown-it, which reads the
    other, makes standard dataclasses: both use ``inspect``), after ``auditor rules`` has cached
    the validated catalog (what an installed auditor that has run once has: validating the rule
    files needs jsonschema, which imports much)."""
    tree = tmp_path / "tree"
    shutil.copytree(CORPUS_LIKE, tree)
    (tree / ".gitignore").unlink()
    (tree / "ARCHITECTURE.md").unlink()
    _run("from auditor.cli import main\nresult = main(['rules', '--format', 'json']) and 0", tmp_path)
    return _run(f"""
started_with = set(sys.modules)
import io, contextlib
from auditor.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(["scan", {str(tree)!r}, "--no-external", *{list(arguments)!r}])
inspect = sys.modules.get("inspect")
result = {{"code": code, "modules": sorted(set(sys.modules) - started_with),
           "inspect_loaded": inspect is not None and hasattr(inspect, "__dict__") and "signature" in inspect.__dict__,
           "output": out.getvalue()[-200:]}}
""", tmp_path)


def test_inspect_and_copy_load_on_first_use_only(tmp_path: Path) -> None:
    """The command line defers ``inspect`` and ``copy`` (imported by ``dataclasses``); the first
    attribute read runs them, and they then work as ever."""
    result = _run("""
import auditor.cli, dataclasses
before = {name: type(sys.modules[name]).__name__ for name in ("inspect", "copy")}
deferred = [name for name in ("dis", "ast") if name in sys.modules]
import inspect, copy
signature = str(inspect.signature(dataclasses.replace))
value = copy.deepcopy({"a": [1, 2]})
result = {"before": before, "deferred": deferred, "signature": signature, "copied": value,
          "after": type(sys.modules["inspect"]).__name__, "dis": "dis" in sys.modules}
""", tmp_path)
    assert result["before"] == {"inspect": "_LoadedOnFirstUse", "copy": "_LoadedOnFirstUse"}
    assert result["deferred"] == []
    assert result["signature"] == "(obj, /, **changes)"
    assert result["copied"] == {"a": [1, 2]}
    assert result["after"] == "module" and result["dis"] is True


def test_a_plain_scan_leaves_inspect_unloaded(tmp_path: Path) -> None:
    result = _scan_modules(tmp_path)
    assert result["code"] in (0, 1) and "Controls:" in str(result["output"])
    assert result["inspect_loaded"] is False
    assert "dis" not in result["modules"] and "ast" not in result["modules"]  # type: ignore[operator]


def test_a_plain_scan_imports_no_renderer_sarif_writer_or_key_maker(tmp_path: Path) -> None:
    """No Helm chart or Kustomize overlay: neither's parser, and no subprocess (parsers/render.py imports it to render
    one); text output: not the SARIF writer; the
    cache's key file exists (``auditor rules`` made it): not ``secrets``."""
    result = _scan_modules(tmp_path)
    modules = set(result["modules"])  # type: ignore[call-overload]
    assert "auditor.parsers.kubernetes" in modules and "auditor.report.console" in modules  # they did run
    assert not modules & {"auditor.parsers.helm", "auditor.parsers.kustomize", "auditor.parsers.render"}  # no chart
    assert not modules & {"subprocess", "auditor.report.sarif", "gzip", "secrets"}


COMMAND_LINES = [
    ["scan"], ["scan", "a", "b", "--format", "json:x.json", "-f", "text", "--select", "DF,NG", "-j", "2", "--no-cache"],
    ["scan", "--baseline", "b.json", "--fail-on", "none", "--policy", "p.yaml", "--no-external", "-q"],
    ["baseline", "create", ".", "-o", "b.json"], ["rules", "--format", "json"], ["explain", "DF008"],
    ["init", "--ci", "gitlab"], ["model", "x", "-f", "json"], ["report", "-f", "html", "--name", "n"],
    ["merge", "a.json", "b.json", "--label", "a.json=x"], ["completion", "zsh"],
]


def test_the_parser_of_the_named_command_alone_parses_the_same() -> None:
    from auditor.cli import _SUBCOMMANDS, _named_command, build_parser

    whole = build_parser()
    for argv in COMMAND_LINES:
        command = _named_command(argv)
        assert command == argv[0]
        alone = build_parser(command)
        choices = alone._subparsers._group_actions[0].choices  # type: ignore[union-attr]
        assert list(choices) == [command]
        assert vars(alone.parse_args(argv)) == vars(whole.parse_args(argv))
    assert list(_SUBCOMMANDS) == list(whole._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    for argv in (["--help"], ["-V"], [], ["bogus"], ["--", "scan"], ["-h", "scan"], ["--version", "scan"]):
        assert _named_command(argv) is None  # the whole parser: -h lists every subcommand


def test_a_deferred_module_first_used_by_many_threads_at_once_runs_once(tmp_path: Path) -> None:
    result = _run("""
import threading
import auditor.cli
import inspect
runs = []
real = inspect.__spec__.loader.exec_module
def counted(module):
    runs.append(module.__name__)
    real(module)
inspect.__spec__.loader.exec_module = counted
barrier = threading.Barrier(8)
seen = []
def use():
    barrier.wait()
    seen.append(str(inspect.signature(len)))
threads = [threading.Thread(target=use) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
result = {"runs": runs, "seen": sorted(set(seen)), "count": len(seen)}
""", tmp_path)
    assert result == {"runs": ["inspect"], "seen": ["(obj, /)"], "count": 8}


def test_a_plain_scan_leaves_the_helpers_of_unused_paths_unloaded(tmp_path: Path) -> None:
    """``shutil`` and ``tempfile`` (Helm, Kustomize, nginx templates), ``traceback`` (logging's
    exception formatting), ``ipaddress`` (bracketed URL hosts) and ``base64`` (YAML ``!!binary``)
    stay deferred through a scan; argparse's help
    formatter no longer imports ``shutil`` for the terminal's width; tree-sitter-bash's binding is
    loaded without its package's ``importlib.resources``; nothing imports ``typing``."""
    result = _scan_modules(tmp_path)
    assert result["code"] in (0, 1) and "Controls:" in str(result["output"])
    modules = set(result["modules"])  # type: ignore[call-overload]
    assert "tree_sitter_bash._binding" in modules  # the Dockerfiles' RUN lines were parsed
    assert not modules & {"importlib.resources", "tree_sitter_bash", "bz2", "lzma", "random", "linecache",
                          "tokenize", "textwrap"}
    # the modules name typing's constructs under TYPE_CHECKING only, and tree-sitter's core library
    # is loaded as its binding (its package's __init__ imports typing)
    assert "typing" not in modules and "tree_sitter" not in modules and "tree_sitter._binding" in modules
    # the manifests' quantities were read (KS005 passes or fails on them) with auditor.model.quantity's Exact
    assert "auditor.model.quantity" in modules and not modules & {"fractions", "decimal", "numbers"}
    # dockerfile-parse was imported with a stand-in for logging (auditor.parsers.dockerfile)
    assert "dockerfile_parse.parser" in modules and "logging" not in modules
    # no thread: the parse time budget asks signal.signal, not threading, whether it is the main thread
    assert "auditor.parsers.limits" in modules and "threading" not in modules
    result = _run(f"""
ours = [name for name in ("shutil", "tempfile", "traceback", "base64") if name not in sys.modules]
import io, contextlib
from auditor.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    main(["scan", {str(tmp_path / "tree")!r}, "--no-external"])
result = {{name: type(sys.modules[name]).__name__ for name in ours}}
""", tmp_path)
    # (``ipaddress`` is deferred too, but this tree's Compose subnet has DC007 use it.) Those the
    # interpreter's start already imported are real modules before the auditor could defer them.
    assert "traceback" in result and "base64" in result  # no interpreter seen here starts with them
    assert set(result.values()) == {"_LoadedOnFirstUse"}


def test_help_keeps_the_width_of_the_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``COLUMNS`` (else the terminal) still sets the help's width, as ``shutil.get_terminal_size``
    reads it."""
    from auditor.cli import _terminal_columns

    for columns in ("60", "140", "0", "wide", None):
        if columns is None:
            monkeypatch.delenv("COLUMNS", raising=False)
        else:
            monkeypatch.setenv("COLUMNS", columns)
        assert _terminal_columns() == shutil.get_terminal_size().columns
    lines = {}
    for columns in ("60", "140"):
        env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": columns}
        done = subprocess.run([sys.executable, "-m", "auditor", "scan", "--help"], env=env, capture_output=True,
                              text=True, cwd=tmp_path, timeout=120)
        assert done.returncode == 0, done.stderr
        lines[columns] = len(done.stdout.splitlines())
    assert lines["60"] > lines["140"]


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="the written record templates are Python 3.11's fast path")
def test_a_scan_compiles_no_record_template_and_no_unused_yaml_pattern(tmp_path: Path) -> None:
    """The ``__init__`` of every record class a scan makes comes from the written
    ``auditor/_record_templates.py``, and PyYAML's patterns (the pure-Python reader's, the YAML
    1.1 resolvers', the timestamp's) are never compiled: libyaml reads, the loader resolves."""
    tree = tmp_path / "tree"
    shutil.copytree(CORPUS_LIKE, tree)
    result = _run(f"""
import io, contextlib
from auditor.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["scan", {str(tree)!r}, "--no-external"])
from auditor import record
import re, yaml, yaml.reader, yaml.constructor
patterns = [yaml.reader.Reader.NON_PRINTABLE, yaml.constructor.SafeConstructor.timestamp_regexp]
unused = ["match" not in vars(pattern) for pattern in patterns]
loaded = yaml.safe_load("a: yes\\nb: 1.5\\nc: 2026-11-30")  # the YAML 1.1 resolvers still work when used
result = {{"code": code, "templates": len(record._TEMPLATES),
           "compiled": sorted({{code.co_filename.rsplit("/", 1)[-1] for code in record._TEMPLATES.values()}}),
           "unused": unused, "loaded": str(loaded),
           "re.compile restored": re.compile("x").__class__ is re.Pattern}}
""", tmp_path)
    assert result["code"] in (0, 1)
    assert result["templates"] > 10 and result["compiled"] == ["_record_templates.py"]
    assert result["unused"] == [True, True]
    assert result["loaded"] == "{'a': True, 'b': 1.5, 'c': datetime.date(2026, 11, 30)}"
    assert result["re.compile restored"] is True


def test_the_command_line_runs_from_a_thread_other_than_the_main_one(tmp_path: Path) -> None:
    """A program may call ``main`` from a thread of its own: SIGTERM's handler can only be set
    from the main thread, so it is left as it is there, and the command runs."""
    result = _run("""
import io, contextlib, threading
from auditor.cli import main
codes = []
def run():
    with contextlib.redirect_stdout(io.StringIO()):
        codes.append(main(["explain", "DF008"]))
thread = threading.Thread(target=run)
thread.start()
thread.join()
import signal
result = {"codes": codes, "default": signal.getsignal(signal.SIGTERM) == signal.SIG_DFL}
""", tmp_path)
    assert result == {"codes": [0], "default": True}


def test_a_process_forked_while_a_thread_loads_a_deferred_module_can_load_others(tmp_path: Path) -> None:
    """The scanners' thread may be running ``tempfile``'s code when the main thread forks the
    workers; a worker then reading another deferred module must not wait forever on a lock held by
    a thread it does not have (it did: the child hung)."""
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "slow_to_load.py").write_text("import time\ntime.sleep(0.6)\nVALUE = 1\n", encoding="utf-8")
    (modules / "used_in_child.py").write_text("VALUE = 2\n", encoding="utf-8")
    result = _run(f"""
import os, signal, threading, time
sys.path.insert(0, {str(modules)!r})
from auditor.cli import _load_on_first_use
_load_on_first_use("slow_to_load")
_load_on_first_use("used_in_child")
import slow_to_load, used_in_child
loader = threading.Thread(target=lambda: slow_to_load.VALUE)
loader.start()
time.sleep(0.2)  # the thread is inside slow_to_load's code, holding the loading lock
started = time.monotonic()
pid = os.fork()
if pid == 0:
    signal.alarm(5)  # a deadlocked child dies of SIGALRM
    os._exit(10 + used_in_child.VALUE)
_, status = os.waitpid(pid, 0)
loader.join()
result = {{"child": os.waitstatus_to_exitcode(status), "fork waited for the load": time.monotonic() - started > 0.2}}
""", tmp_path)
    assert result == {"child": 12, "fork waited for the load": True}


def test_another_thread_compiling_while_pyyaml_is_imported_gets_real_patterns(tmp_path: Path) -> None:
    """Only the importing thread gets patterns compiled on first use: a scanner thread running
    meanwhile gets a real ``re.Pattern`` (``re.sub(pattern, ...)`` and ``isinstance`` need one)."""
    result = _run("""
import re, threading
stop = threading.Event()
seen = {"calls": 0, "wrong": 0}
def compile_meanwhile():
    while not stop.is_set():
        pattern = re.compile("a+b")
        seen["calls"] += 1
        if not isinstance(pattern, re.Pattern) or re.sub(pattern, "x", "aab") != "x":
            seen["wrong"] += 1
thread = threading.Thread(target=compile_meanwhile)
thread.start()
import time
time.sleep(0.05)
import auditor.pyyaml
stop.set()
thread.join()
import yaml.reader
result = {"calls": seen["calls"] > 0, "wrong": seen["wrong"], "restored": re.compile.__module__ == "re",
          "importer's": type(yaml.reader.Reader.NON_PRINTABLE).__name__}
""", tmp_path)
    assert result == {"calls": True, "wrong": 0, "restored": True, "importer's": "CompiledOnFirstUse"}


def test_argparse_messages_skip_gettext_only_where_no_catalog_can_exist(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Where ``<base_prefix>/share/locale`` is missing, a lookup could only return the message: the
    command line's argparse returns it at once. Where the folder exists, gettext is asked as ever."""
    import argparse
    import gettext

    from auditor import cli

    asked: list[str] = []

    def translating(message: str) -> str:
        asked.append(message)
        return message.upper()

    for folder, looked_up in ((tmp_path / "missing", False), (tmp_path, True)):
        monkeypatch.setattr(gettext, "_default_localedir", str(folder))
        monkeypatch.setattr(argparse, "_", translating)
        monkeypatch.setattr(argparse, "ngettext", lambda one, many, count: "N")
        cli._untranslated_when_no_catalog_can_exist()
        assert argparse._("usage: ") == ("USAGE: " if looked_up else "usage: ")
        assert argparse.ngettext("%s arg", "%s args", 2) == ("N" if looked_up else "%s args")
        assert argparse.ngettext("%s arg", "%s args", 1) == ("N" if looked_up else "%s arg")
    assert asked == ["usage: "]
    monkeypatch.setattr(gettext, "_default_localedir", str(tmp_path / "missing"))
    monkeypatch.setattr(gettext, "_current_domain", "another")  # a program chose its own domain
    monkeypatch.setattr(argparse, "_", translating)
    cli._untranslated_when_no_catalog_can_exist()
    assert argparse._ is translating
    monkeypatch.setattr(gettext, "_current_domain", "messages")
    monkeypatch.setattr(gettext, "_localedirs", {"messages": str(tmp_path)})  # bindtextdomain: another folder
    cli._untranslated_when_no_catalog_can_exist()
    assert argparse._ is translating


def test_a_cold_scan_imports_no_locale_where_no_catalog_can_exist(tmp_path: Path) -> None:
    import gettext

    if os.path.isdir(gettext._default_localedir):  # type: ignore[attr-defined]
        pytest.skip(f"this interpreter has {gettext._default_localedir}: argparse translates")  # type: ignore[attr-defined]
    modules = set(_scan_modules(tmp_path)["modules"])  # type: ignore[call-overload]
    assert "argparse" in modules and "locale" not in modules


def test_the_program_runs_with_the_audits_collector_thresholds_from_its_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start-up's long-lived objects are not walked every 700 allocations: the console script
    sets the audit's thresholds before ``main`` (and freezes the heap after it); ``main`` alone,
    as a library caller runs it, leaves the collector as it was."""
    import gc

    from auditor import cli, parallel

    assert cli._PROCESS_GC_THRESHOLD == parallel._AUDIT_GC_THRESHOLD
    calls: list[object] = []
    monkeypatch.setattr(gc, "set_threshold", lambda *values: calls.append(values))
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(cli, "main", lambda: calls.append("main") or 3)
    assert cli.program() == 3
    assert calls == [parallel._AUDIT_GC_THRESHOLD, "main", "freeze"]
