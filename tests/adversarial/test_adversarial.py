"""Hostile input: every case of the corpus ends as expected (an AUD001, a "not checked" note, or a
normal report), never a traceback, never a hang, within a few seconds; and nothing read from the
audited tree can forge the tool's output.

Each hostile scan runs in a child process with a hard timeout and a memory cap (harness.py), so
one regression fails its own case instead of freezing or swapping the whole suite.
"""
from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ElementTree
from io import StringIO
from pathlib import Path

import pytest

from tests.adversarial.corpus import CASES, Case, Expect, _docker_4mb_continuations, _write
from tests.adversarial.harness import REPO, scan

RUNNING_AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _matches(expect: Expect, path: str, message: str) -> bool:
    return (expect.path is None or path == expect.path) and expect.text.lower() in message.lower()


def _restore_permissions(root: Path) -> None:
    for folder, dirs, _ in os.walk(root):
        for name in dirs:
            try:
                os.chmod(os.path.join(folder, name), 0o700)
            except OSError:
                pass


def _as_unprivileged_user(tmp_path: Path) -> tuple[list[str], dict[str, str], Path]:
    """Root reads files whatever their mode, so the unreadable-file case runs the scan as
    ``nobody`` (setpriv), in a folder nobody can traverse, with a home of its own."""
    if shutil.which("setpriv") is None:
        pytest.skip("running as root and setpriv is not installed: permission bits do not stop root")
    probe = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable,
                            "-c", "import jsonschema, yaml, crossplane, dockerfile_parse"],
                           capture_output=True, text=True, timeout=60, env={**os.environ, "HOME": "/tmp"})
    if probe.returncode != 0:
        # e.g. a Python installed under /root (pyenv): as `nobody` it cannot even read its own
        # packages, so the unprivileged scan cannot run at all with this interpreter
        pytest.skip(f"this interpreter's packages are not readable by an unprivileged user ({sys.executable}): "
                    + (probe.stderr.strip().splitlines() or ["no output"])[-1])
    folder = Path(tempfile.mkdtemp(prefix="auditor-unreadable-", dir="/tmp"))
    folder.chmod(0o755)
    home = folder / "home"
    home.mkdir()
    os.chown(home, 65534, 65534)
    return (["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
            {"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}, folder)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_case_ends_as_expected(case: Case, tmp_path: Path) -> None:
    wrap, env_extra, base = None, None, tmp_path
    if case.name == "tree_unreadable" and RUNNING_AS_ROOT:
        wrap, env_extra, base = _as_unprivileged_user(tmp_path)
    tree = base / "tree"
    tree.mkdir()
    if wrap:
        tree.chmod(0o755)
    case.build(tree)
    if case.config:
        (tree / ".auditor.yaml").write_text(case.config)
    try:
        run = scan(tree, *case.args, wrap=wrap, env_extra=env_extra)
    finally:
        _restore_permissions(tree)
        if base is not tmp_path:
            shutil.rmtree(base, ignore_errors=True)
    assert "Traceback" not in run.stderr, run.stderr
    assert run.exit_code in (0, 1), f"exit {run.exit_code}: {run.stderr[-2000:]}"
    assert run.report is not None
    findings = [(f["file"], f["message"]) for f in run.report["findings"] if f["rule_id"] == "AUD001"]
    not_checked = [(f["file"], f["message"]) for f in run.report["findings"] if f["rule_id"] == "AUD003"]
    notes = [(n["file"], n["message"]) for n in run.report["notes"]]
    for expect in case.expect:
        if expect.kind == "aud001":
            assert any(_matches(expect, *f) for f in findings), (expect, findings, notes)
        elif expect.kind == "aud003":  # not checked fails closed: a finding, so the gate fails
            assert any(_matches(expect, *f) for f in not_checked), (expect, not_checked, notes)
            assert run.exit_code == 1, run.exit_code
        elif expect.kind == "note":
            assert any(_matches(expect, *n) for n in notes), (expect, notes, findings)
    # "a few seconds" with plenty of room for a loaded CI machine; a hang hits the harness timeout
    assert run.seconds < 30, f"{case.name} took {run.seconds:.1f} s"


def test_hostile_yaml_tags_construct_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    _write(tmp_path / "tree", "docker-compose.yml",
           f"services:\n  web: !!python/object/apply:os.system ['touch {marker}']\n")
    run = scan(tmp_path / "tree")
    assert run.exit_code in (0, 1)
    assert not marker.exists()


# --- bounds that need direct calls (or that scan.py does not pass through yet) ---------------

_BUDGET_SCRIPT = """
import sys, time
from pathlib import Path
from auditor.discovery import discover
from auditor.parsers.project import build_project
root = Path(sys.argv[1])
started = time.perf_counter()
project = build_project(discover([root], root), parse_timeout=float(sys.argv[2]))
print(round(time.perf_counter() - started, 2))
for problem in project.problems:
    print(type(problem).__name__, problem.span.path, problem.message)
print("UNPARSED", sorted(project.unparsed.get("dockerfile", ())))
"""


def test_parse_time_budget_stops_a_slow_parse_and_says_so(tmp_path: Path) -> None:
    # 4 MB of continuation lines: dockerfile-parse needs about a minute (quadratic joining)
    _docker_4mb_continuations(tmp_path)
    done = subprocess.run([sys.executable, "-c", _BUDGET_SCRIPT, str(tmp_path), "1"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert float(lines[0]) < 20
    assert any(line.startswith("NotChecked Dockerfile") and "time budget" in line for line in lines)
    assert "UNPARSED ['Dockerfile']" in lines


def test_time_budget_is_a_no_op_outside_the_main_thread() -> None:
    from auditor.parsers.limits import ParseTimeout, time_budget

    outcome: list[str] = []

    def worker() -> None:
        try:
            with time_budget(0.05):
                time.sleep(0.2)
            outcome.append("finished")
        except ParseTimeout:
            outcome.append("interrupted")

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(10)
    assert outcome == ["finished"]


def test_time_budget_counts_cpu_time_so_a_busy_machine_does_not_change_the_verdict() -> None:
    # Waiting (here: sleeping; on a CI runner: other processes holding the CPU) uses no CPU time,
    # so it must not spend the budget: a wall-clock budget raised ParseTimeout here.
    from auditor.parsers.limits import time_budget

    with time_budget(0.05):
        time.sleep(0.2)
    with time_budget(0.05):  # and the budget still interrupts computing
        with pytest.raises(BaseException, match="CPU time budget|time budget"):
            while True:
                pass


def test_time_budget_interrupts_python_code_and_restores_the_previous_timer() -> None:
    import signal

    from auditor.parsers.limits import ParseTimeout, time_budget

    fired: list[int] = []
    previous = signal.signal(signal.SIGPROF, lambda *_: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_PROF, 30)
        with pytest.raises(ParseTimeout):
            with time_budget(0.05):
                while True:
                    pass
        remaining, _ = signal.getitimer(signal.ITIMER_PROF)
        assert 0 < remaining <= 30.1  # the outer timer is armed again (CPU timers round up to a tick)
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
    assert not fired


def test_nginx_include_depth_is_configurable(tmp_path: Path) -> None:
    from auditor.model.span import NotChecked
    from auditor.parsers.nginx import parse_nginx

    _write(tmp_path, "nginx/nginx.conf", "events {}\nhttp {\n  include inc/c0.conf;\n}\n")
    for index in range(6):
        _write(tmp_path, f"nginx/inc/c{index}.conf", f"include inc/c{index + 1}.conf;\n")
    _write(tmp_path, "nginx/inc/c6.conf", "server_tokens off;\n")
    _, _, notes = parse_nginx(tmp_path, ["nginx/nginx.conf"], max_include_depth=3)
    assert any("nested deeper than 3 levels" in n.message and isinstance(n, NotChecked) for n in notes)
    _, _, notes = parse_nginx(tmp_path, ["nginx/nginx.conf"], max_include_depth=20)
    assert not any("nested deeper" in n.message for n in notes)


def test_nginx_included_files_get_the_size_cap_and_fifo_guard(tmp_path: Path) -> None:
    from auditor.parsers.nginx import parse_nginx

    _write(tmp_path, "nginx/nginx.conf", "events {}\nhttp {\n  include big.types;\n  include pipe.types;\n}\n")
    _write(tmp_path, "nginx/big.types", "types { text/html html; }\n" * 100)
    os.mkfifo(tmp_path / "nginx/pipe.types")
    _, _, notes = parse_nginx(tmp_path, ["nginx/nginx.conf"], max_file_size=1000)
    messages = {(n.span.path, n.message.split(" ")[-4]) for n in notes}
    assert any(n.span.path == "nginx/big.types" and "size cap" in n.message for n in notes), messages
    # the FIFO is not a file for glob/isfile: it is reported as matching nothing, never opened
    assert any("pipe.types" in n.message for n in notes), messages


def test_oversized_file_makes_its_controls_not_checked(tmp_path: Path) -> None:
    from auditor.api import scan as api_scan
    from auditor.config import Config

    _write(tmp_path, "Dockerfile", "FROM node:20-alpine\nUSER 1001\n" + "# padding\n" * 200)
    result = api_scan([tmp_path], config=Config(max_file_size=500), select=["DF008"])
    assert result.controls["DF008"].status == "error"
    assert any(f.rule_id == "AUD003" and "size cap" in f.message for f in result.active_findings)
    assert result.controls["AUD003"].status == "fail"


def test_config_bounds_reach_the_parsers_through_the_cli(tmp_path: Path) -> None:
    _docker_4mb_continuations(tmp_path)
    (tmp_path / ".auditor.yaml").write_text("parse_timeout: 1\n")
    run = scan(tmp_path)
    assert run.exit_code in (0, 1), run.stderr
    assert any(f["rule_id"] == "AUD003" and "time budget" in f["message"]
               for f in run.report["findings"])  # type: ignore[index]
    assert run.exit_code == 1


# --- output forging --------------------------------------------------------------------------

HOSTILE = "\x1b[2J[bold]x[/bold]`<script>alert(1)</script>\"q\\b\u2028\u202eZ"
_RAW_FORBIDDEN = ("\x1b", "\x07", "\x00", "\u202e")


def _hostile_tree(root: Path) -> None:
    _write(root, "Dockerfile", f'FROM node:latest\nUSER "{HOSTILE}"\n')
    _write(root, "docker-compose.yml",
           # a custom image (namespaced) of a service named web: the app, whose findings quote the image
           'services:\n  web:\n    image: "acme/evil\\0x\\u2028<script>[red]y\\e[31m\\a"\n    privileged: true\n')
    name = "Dockerfile.\x1b[31m[bold]<script>\nx.conf:1 critical"
    _write(root, name, "FROM node:latest\n")


@pytest.fixture(scope="module")
def hostile_result(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from auditor.api import scan as api_scan

    root = tmp_path_factory.mktemp("forge")
    _hostile_tree(root)
    result = api_scan([root])
    messages = " ".join(f.message + f.snippet + f.span.path for f in result.findings)
    # the test only proves something if the hostile text really reaches the findings
    assert "<script>" in messages and "\x1b" in messages and "\x00" in messages
    return result


def _render(fmt: str, result) -> str:  # type: ignore[no-untyped-def]
    from auditor.commands.scan import RENDERERS

    stream = StringIO()
    if fmt.startswith("text"):
        from auditor.report.console import render_text

        render_text(result, stream, color=fmt == "text-color")
        return stream.getvalue()
    if fmt == "html":  # the compliance report (auditor report), the one HTML output
        from auditor.catalog import load_catalog
        from auditor.report.compliance import build_report, render_html

        render_html(build_report(result, load_catalog(), "hostile"), stream)
        return stream.getvalue()
    module_name, function = RENDERERS[fmt]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        pytest.skip(f"{module_name} does not exist yet")
    getattr(module, function)(result, stream)
    return stream.getvalue()


FORMATS = ["text", "text-color", "json", "sarif", "junit", "github", "markdown", "html"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_file_names_and_contents_cannot_forge_output(fmt: str, hostile_result) -> None:  # type: ignore[no-untyped-def]
    output = _render(fmt, hostile_result)
    for char in _RAW_FORBIDDEN:
        if fmt == "text-color" and char == "\x1b":
            assert "\x1b[2J" not in output and "\x1b[31m[bold]" not in output
            continue
        assert char not in output, f"raw {char!r} in {fmt} output"
    if fmt in ("json", "sarif"):
        assert "\u2028" not in output  # valid JSON, but breaks JavaScript that embeds it
        data = json.loads(output)
        if fmt == "json":
            # names round-trip exactly: machines get the real path, escaped by JSON
            assert any("\n" in f["file"] for f in data["findings"])
    if fmt in ("text", "text-color", "github", "markdown"):
        assert "\u2028" not in output
        # a file name with a newline cannot start a line that looks like a finding of its own
        assert not any(line.startswith("x.conf:1 critical") for line in output.splitlines())
    if fmt == "text-color":
        assert "[bold]" in output  # shown literally, never interpreted as rich markup
    if fmt == "junit":
        ElementTree.fromstring(output)
        assert "<script>" not in output
    if fmt == "html":
        # the page's own inline script (filters) is the only one; the file's tag arrives escaped
        assert output.count("<script") == 1 and "&lt;script&gt;" in output
    if fmt == "markdown":
        # GitHub renders HTML inside Markdown except within code spans; a backtick in the
        # hostile text must not end a span early and let the tag out
        outside_code = re.sub(r"(`+)(?:(?!\1).)+?\1", "", output)
        assert "<script>" not in outside_code
    if fmt == "github":
        # workflow commands: a newline in a value would end the command and start another
        for line in output.splitlines():
            assert not line.startswith("x.conf")


# --- memory ----------------------------------------------------------------------------------

GENERATOR = REPO.parent / "shared" / "bench" / "gen_corpus.py"
PEAK_MEMORY_LIMIT_MB = 300
_PEAK_SCRIPT = """
import resource, sys
from auditor.cli import main
code = main(["scan", sys.argv[1], "--no-external", "--format", "json", "-o", "/dev/null"])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, code)
"""


@pytest.mark.skipif(not GENERATOR.exists(), reason=f"the corpus generator {GENERATOR} is not here")
def test_peak_memory_on_the_1000_project_corpus(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    subprocess.run([sys.executable, str(GENERATOR), "--projects", "1000", "--out", str(corpus)],
                   check=True, capture_output=True, timeout=300)
    done = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT, str(corpus)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    peak_mb, code = (int(part) for part in done.stdout.split())
    assert code in (0, 1), done.stderr[-2000:]
    assert peak_mb < PEAK_MEMORY_LIMIT_MB, f"peak RSS {peak_mb} MB"
