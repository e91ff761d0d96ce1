"""The terminal and the command line (issue 14, section 3): every option documented, -V, shell
completion generated with shtab and run in a real bash, the concise format, ``-o -``,
FORCE_COLOR, ``--fail-on none``, skipped scanners named ``skipped``, where ``auditor report``
writes by default, and the progress display (on a real pseudo-terminal, silent when piped)."""
from __future__ import annotations

import argparse
import io
import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from auditor import __version__
from auditor.cli import build_parser
from tests.conftest import FIXTURES, REPO, run_auditor

NONCOMPLIANT = FIXTURES / "noncompliant"
COMPLIANT = FIXTURES / "compliant"
CONCISE_LINE = re.compile(r"^(?P<path>[^\s:][^:]*):(?P<line>\d+):(?P<col>\d+): (?P<id>[A-Z]{2,3}\d{3}) "
                          r"(?P<severity>critical|high|medium|low|info) (?P<message>\S.*)$")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _subparsers(parser: argparse.ArgumentParser, prefix: str = "auditor"):  # type: ignore[no-untyped-def]
    yield prefix, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _subparsers(sub, f"{prefix} {name}")


# --- help, version, completion ------------------------------------------------------------------


def test_every_option_of_every_command_has_help_text() -> None:
    walked, missing = [], []
    for name, parser in _subparsers(build_parser()):
        walked.append(name)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            if not (action.help or "").strip() or action.help == argparse.SUPPRESS:
                missing.append(f"{name}: {'/'.join(action.option_strings) or action.dest}")
    assert {"auditor scan", "auditor baseline", "auditor report", "auditor model", "auditor rules",
            "auditor explain", "auditor completion"} <= set(walked)
    assert missing == []


def test_dash_capital_v_prints_the_version() -> None:
    for flag in ("-V", "--version"):
        done = run_auditor(flag)
        assert done.returncode == 0 and done.stdout.strip() == f"auditor {__version__}"


def _bash_complete(script: Path, words: list[str]) -> list[str]:
    """Run the generated bash completion function as bash runs it on <TAB>."""
    import shlex

    line = " ".join(words)
    quoted = " ".join(shlex.quote(w) for w in words)
    program = (f"source {script}\n"
               f"COMP_WORDS=({quoted})\n"
               f"COMP_CWORD={len(words) - 1}\nCOMP_LINE={line!r}\nCOMP_POINT=${{#COMP_LINE}}\n"
               "_shtab_auditor\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
    done = subprocess.run(["bash", "--norc", "--noprofile", "-c", program], capture_output=True, text=True,
                          timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    return [w.strip() for w in done.stdout.splitlines() if w.strip()]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completion_completes_commands_options_and_choices(tmp_path: Path) -> None:
    done = run_auditor("completion", "bash")
    assert done.returncode == 0, done.stderr
    script = tmp_path / "auditor.bash"
    script.write_text(done.stdout)
    assert "completion" in _bash_complete(script, ["auditor", "co"])
    assert set(_bash_complete(script, ["auditor", "s"])) == {"scan"}
    assert {"--format", "--fail-on"} <= set(_bash_complete(script, ["auditor", "scan", "--f"]))
    assert set(_bash_complete(script, ["auditor", "scan", "--fail-on", ""])) == \
        {"critical", "high", "medium", "low", "info", "none"}
    assert set(_bash_complete(script, ["auditor", "completion", ""])) == {"bash", "zsh", "fish"}


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_completion_name_every_command(shell: str, tmp_path: Path) -> None:
    done = run_auditor("completion", shell)
    assert done.returncode == 0, done.stderr
    for command in ("scan", "baseline", "report", "model", "rules", "explain", "completion", "--fail-on", "concise"):
        assert command in done.stdout, command
    binary = shutil.which(shell)
    if binary:  # not installed on every machine; where it is, the script must at least parse
        script = tmp_path / f"auditor.{shell}"
        script.write_text(done.stdout)
        checked = subprocess.run([binary, "-n", str(script)], capture_output=True, text=True, timeout=60)
        assert checked.returncode == 0, checked.stderr


def test_unknown_shell_is_a_usage_error() -> None:
    done = run_auditor("completion", "powershell")
    assert done.returncode == 2 and "invalid choice" in done.stderr


# --- formats and output -------------------------------------------------------------------------


def test_concise_is_one_linkable_line_per_active_finding() -> None:
    concise = run_auditor("scan", str(NONCOMPLIANT), "--no-external", "--format", "concise")
    as_json = run_auditor("scan", str(NONCOMPLIANT), "--no-external", "--format", "json")
    assert concise.returncode == as_json.returncode == 1
    findings = [f for f in json.loads(as_json.stdout)["findings"] if not f["suppressed"]]
    lines = concise.stdout.splitlines()
    assert len(lines) == len(findings) > 10
    parsed = [CONCISE_LINE.match(line) for line in lines]
    assert all(parsed), [line for line, match in zip(lines, parsed) if not match]
    assert [(m["path"], int(m["line"]), m["id"], m["severity"]) for m in parsed] == \
        [(f["file"], f["line"], f["rule_id"], f["severity"]) for f in findings]
    # real columns where the parser knows them (YAML keys are indented)
    assert any(int(m["col"]) > 1 for m in parsed)
    assert [int(m["col"]) for m in parsed] == [f["column"] or 1 for f in findings]
    for match in parsed:
        assert (NONCOMPLIANT / match["path"]).is_file()


def test_concise_is_silent_on_a_clean_tree() -> None:
    done = run_auditor("scan", str(COMPLIANT), "--no-external", "--format", "concise")
    assert done.returncode == 0 and done.stdout == ""


def test_dash_o_dash_and_format_file_dash_write_to_stdout(tmp_path: Path) -> None:
    for args in (["--format", "json", "-o", "-"], ["--format", "json:-"]):
        done = run_auditor("scan", str(COMPLIANT), "--no-external", *args, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["summary"]["findings"]["high"] == 0
        assert not (tmp_path / "-").exists()
    both = run_auditor("scan", str(COMPLIANT), "--no-external", "--format", "json:-", "--format", "text", cwd=tmp_path)
    assert both.returncode == 2 and "only one format can go to standard output" in both.stderr


def test_force_color_colours_a_pipe_and_no_color_wins() -> None:
    plain = run_auditor("scan", str(NONCOMPLIANT), "--no-external", "--format", "concise")
    forced = run_auditor("scan", str(NONCOMPLIANT), "--no-external", "--format", "concise", env={"FORCE_COLOR": "1"})
    assert not ANSI.search(plain.stdout) and ANSI.search(forced.stdout)
    assert ANSI.sub("", forced.stdout) == plain.stdout
    text = run_auditor("scan", str(NONCOMPLIANT), "--no-external", env={"FORCE_COLOR": "1"})
    assert ANSI.search(text.stdout)
    both = run_auditor("scan", str(NONCOMPLIANT), "--no-external", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert not ANSI.search(both.stdout)
    zero = run_auditor("scan", str(NONCOMPLIANT), "--no-external", env={"FORCE_COLOR": "0"})
    assert not ANSI.search(zero.stdout)


def test_fail_on_none_says_it_does_not_gate() -> None:
    done = run_auditor("scan", str(NONCOMPLIANT), "--no-external", "--fail-on", "none")
    assert done.returncode == 0
    assert "nothing at or above 'none'" not in done.stdout
    assert "Not gating (--fail-on none)" in done.stdout
    assert "critical" in done.stdout  # the findings are still listed


def test_skipped_scanners_are_called_skipped_in_every_format(tmp_path: Path) -> None:
    formats = {"text": None, "json": "r.json", "junit": "r.xml", "sarif": "r.sarif", "markdown": "r.md",
               "github": "r.txt"}
    args = [f"--format={name}:{tmp_path / file}" if file else f"--format={name}" for name, file in formats.items()]
    done = run_auditor("scan", str(COMPLIANT), "--no-external", *args)
    assert done.returncode == 0, done.stderr
    assert "Scanners: skipped (--no-external)" in done.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    scanner_controls = [c for c in report["controls"] if c["rule_id"].startswith("SC")]
    assert scanner_controls and all("skipped" in c["reason"] for c in scanner_controls)
    assert (tmp_path / "r.xml").read_text().count("skipped (--no-external)") >= len(scanner_controls)
    sarif = json.loads((tmp_path / "r.sarif").read_text())
    notes = [n["message"]["text"] for n in sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]]
    assert "Scanners: skipped (--no-external)" in notes
    assert "Scanners: skipped (--no-external)" in (tmp_path / "r.md").read_text()
    assert "scanners: skipped (--no-external)" in (tmp_path / "r.txt").read_text()
    ran = run_auditor("scan", str(COMPLIANT), "--no-external", "--select", "DF")
    assert "Scanners:" not in ran.stdout  # no scanner control selected: nothing to call skipped


# --- auditor report: where it writes ------------------------------------------------------------


def test_report_writes_to_a_named_folder_never_reports(tmp_path: Path) -> None:
    done = run_auditor("report", str(COMPLIANT), "--no-external", "--name", "shop", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "auditor-report").iterdir()) == ["shop.html", "shop.md"]
    assert not (tmp_path / "reports").exists()


def test_report_shares_scans_format_and_output_conventions(tmp_path: Path) -> None:
    to_stdout = run_auditor("report", str(COMPLIANT), "--no-external", "--format", "markdown", "-o", "-", cwd=tmp_path)
    assert to_stdout.returncode == 0, to_stdout.stderr
    assert to_stdout.stdout.startswith("#") and "DF008" in to_stdout.stdout
    assert list(tmp_path.iterdir()) == []
    one_file = run_auditor("report", str(COMPLIANT), "--no-external", "--format", "html", "-o", "audit.html",
                           cwd=tmp_path)
    assert one_file.returncode == 0 and (tmp_path / "audit.html").read_text().lstrip().lower().startswith("<!doctype")
    split = run_auditor("report", str(COMPLIANT), "--no-external", "--format", "html:x.html",
                        "--format", "markdown:y.md", cwd=tmp_path)
    assert split.returncode == 0 and (tmp_path / "x.html").is_file() and (tmp_path / "y.md").is_file()
    folder = run_auditor("report", str(COMPLIANT), "--no-external", "-o", "out/", "--name", "n", cwd=tmp_path)
    assert folder.returncode == 0 and sorted(p.name for p in (tmp_path / "out").iterdir()) == ["n.html", "n.md"]
    two_to_stdout = run_auditor("report", str(COMPLIANT), "--no-external", "-o", "-", cwd=tmp_path)
    assert two_to_stdout.returncode == 2 and "-o - writes one format" in two_to_stdout.stderr


# --- the progress display -----------------------------------------------------------------------


def _big_tree(root: Path, projects: int = 300) -> Path:
    """Many small projects: a scan of a few seconds on this machine."""
    dockerfile = (COMPLIANT / "Dockerfile").read_text()
    compose = (COMPLIANT / "docker-compose.yml").read_text()
    for index in range(projects):
        folder = root / f"svc{index:03d}"
        folder.mkdir(parents=True)
        (folder / "Dockerfile").write_text(dockerfile)
        (folder / "docker-compose.yml").write_text(compose)
        for extra in range(8):  # Deployments, which most Kubernetes controls check: a scan of seconds
            (folder / f"k8s-{extra}.yaml").write_text(
                f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{extra}\nspec:\n  template:\n"
                f"    spec:\n      containers:\n        - name: app\n          image: node:20-alpine\n")
    return root


def _run_on_a_terminal(args: list[str], env: dict[str, str], timeout: float = 240) -> tuple[int, str, str, float]:
    """The CLI with stderr on a pseudo-terminal (stdout piped): what a user at a terminal sees."""
    master, slave = pty.openpty()
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "CI")}
    full_env.update(env)
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "auditor", *args], stdout=subprocess.PIPE, stderr=slave,
                               stdin=subprocess.DEVNULL, cwd=REPO, env=full_env)
    os.close(slave)
    seen = bytearray()
    stdout_chunks = []
    assert process.stdout is not None
    out_fd = process.stdout.fileno()
    open_fds = {master, out_fd}
    while open_fds:
        assert time.monotonic() - started < timeout, "the scan did not finish"
        ready, _, _ = select.select(list(open_fds), [], [], 0.2)
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the terminal's last writer has gone
                chunk = b""
            if not chunk:
                open_fds.discard(fd)
            elif fd == master:
                seen += chunk
            else:
                stdout_chunks.append(chunk)
    process.wait(timeout=60)
    os.close(master)
    return process.returncode, b"".join(stdout_chunks).decode(), seen.decode(errors="replace"), \
        time.monotonic() - started


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _big_tree(tmp_path_factory.mktemp("big"))


def test_progress_is_shown_on_a_terminal_for_a_long_scan(big_tree: Path) -> None:
    code, stdout, terminal, seconds = _run_on_a_terminal(
        # --no-cache: another test's scan of the same tree would make this one a fast, kept scan
        ["scan", str(big_tree), "--no-external", "--no-cache", "--format", "json", "-j", "1"], {"TERM": "xterm"})
    assert code in (0, 1), terminal
    assert json.loads(stdout)["summary"]["files"] == 300 * 10
    if seconds < 1.5:
        pytest.skip(f"the scan took {seconds:.1f} s, too fast to show a progress display on this machine")
    plain = ANSI.sub("", terminal)
    assert re.search(r"\d+/3000 files", plain), plain[-2000:]
    assert "parsing and checking" in plain
    assert re.search(r"\d:\d\d:\d\d", plain)  # elapsed time


def test_progress_is_silent_when_piped_quiet_or_no_color(big_tree: Path) -> None:
    piped = run_auditor("scan", str(big_tree), "--no-external", "--format", "json", "-j", "1", timeout=240)
    assert piped.stderr == ""
    for extra, env in ((["--quiet"], {}), ([], {"NO_COLOR": "1"}), (["--progress", "never"], {})):
        code, _, terminal, _ = _run_on_a_terminal(["scan", str(big_tree), "--no-external", "-f", "json", "-j", "1",
                                                   *extra], {"TERM": "xterm", **env})
        assert code in (0, 1) and terminal == "", (extra, env, terminal[:500])


def test_progress_display_counts_files_and_names_the_phase() -> None:
    from auditor import progress

    stream = io.StringIO()
    with progress.display(stream, delay=0) as shown:
        shown.phase("parsing and checking", total=3)
        for _ in range(5):  # more ticks than files (an include read twice) never overflow
            progress.file_done()
        time.sleep(0.3)
        assert shown.progress.tasks[0].completed == 3
    assert progress._listener is None
    progress.file_done()  # nobody listens: a no-op
    assert "parsing and checking" in ANSI.sub("", stream.getvalue())


def test_a_fast_scan_shows_no_progress() -> None:
    code, _, terminal, seconds = _run_on_a_terminal(["scan", str(COMPLIANT), "--no-external", "-f", "json"],
                                                    {"TERM": "xterm"})
    assert code == 0
    if seconds < 1.0:
        assert terminal == ""
