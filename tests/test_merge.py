"""``auditor merge``: the JSON reports of several repositories (generated corpora, each scanned by
the real CLI) combined into one table of repositories by control, each repository's compliance
report and SARIF log; every bad input refused with one line naming the file and exit 2."""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from auditor.api import scan
from auditor.catalog import load_catalog
from auditor.cli import main
from auditor.external import SKIPPED
from auditor.report import merged
from auditor.report.compliance import build_report, report_to_markdown
from auditor.report.json_report import render_json
from auditor.report.sarif import SRCROOT, result_to_sarif
from tests.conftest import FIXTURES, REPO, run_auditor
from tests.support.sarif_validation import multitool_errors, require_multitool, schema_errors

GENERATOR = REPO.parent / "shared" / "bench" / "gen_corpus.py"
CATALOG = load_catalog()
NAMES = ("payments", "storefront", "ledger")
HOSTILE = '{0}x"<script>alert(1)</script>[x](1)|`tick`|\u202e../../evil'


def _corpus(root: Path, seed: str) -> None:
    if GENERATOR.is_file():
        subprocess.run([sys.executable, str(GENERATOR), "--projects", "2", "--out", str(root), "--seed", seed],
                       check=True, capture_output=True, timeout=120)
    else:  # the shared generator sits beside the repository in CI; the fixtures otherwise
        shutil.copytree(FIXTURES / ("noncompliant" if seed != "payments" else "compliant"), root)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three repositories (generated corpora, named as CI checkouts are), each scanned by the real
    CLI as its CI job would: ``auditor scan --no-external --format json -o report.json``."""
    base = tmp_path_factory.mktemp("sweep")
    paths = []
    for name in NAMES:
        checkout = base / "checkouts" / name
        _corpus(checkout, name)
        report = base / "artifacts" / name / "report.json"
        report.parent.mkdir(parents=True)
        done = run_auditor("scan", str(checkout), "--no-external", "--format", "json", "-o", str(report))
        assert done.returncode in (0, 1), done.stderr
        paths.append(report)
    return paths


@pytest.fixture(scope="module")
def merged_dir(reports: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("merged") / "org"
    done = run_auditor("merge", *map(str, reports), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return out


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _expected_status(control: dict[str, Any] | None) -> str:
    """The compliance report's status for a control of a JSON report: a control that did not run
    (not selected, or its scanner off) is ``skipped``, never ``not_applicable`` or ``pass``."""
    if control is None:
        return "skipped"
    if control["status"] == "not_applicable" and control["reason"] == SKIPPED:
        return "skipped"
    return str(control["status"])


# --- the table ----------------------------------------------------------------------------------


def test_the_tables_cells_equal_each_reports_control_statuses(reports: list[Path], merged_dir: Path) -> None:
    index = _load(merged_dir / "index.json")
    assert [r["name"] for r in index["repositories"]] == list(NAMES)
    assert [row["rule_id"] for row in index["controls"]] == [row.rule.id for row in build_report(
        scan([FIXTURES / "compliant"], ignore=["SC"]), CATALOG, "x").rows]  # catalog order
    assert {row["rule_id"] for row in index["controls"]} == set(CATALOG)
    statuses: Counter[str] = Counter()
    for column, path in enumerate(reports):
        report = _load(path)
        controls = {c["rule_id"]: (position, c) for position, c in enumerate(report["controls"])}
        open_findings = Counter(f["rule_id"] for f in report["findings"] if f["suppressed"] is None)
        for row in index["controls"]:
            cell = row["cells"][column]
            position, control = controls.get(row["rule_id"], (None, None))
            assert cell["repository"] == NAMES[column]
            assert cell["status"] == _expected_status(control), (NAMES[column], row["rule_id"])
            assert cell["findings"] == open_findings[row["rule_id"]]
            if control is not None:
                assert cell["pointer"] == f"/controls/{position}"
                assert cell["evidence"] == len(control["evidence"])
            statuses[cell["status"]] += 1
        summary = index["repositories"][column]
        assert summary["findings"] == report["summary"]["findings"]
        assert summary["files"] == report["summary"]["files"]
    assert statuses["fail"] and statuses["pass"] and statuses["skipped"]


def test_the_merged_json_matches_its_schema(merged_dir: Path) -> None:
    from jsonschema import Draft202012Validator

    schema = _load(REPO / "auditor" / "schemas" / "merged.schema.json")
    Draft202012Validator.check_schema(schema)
    errors = [f"{e.json_path}: {e.message}" for e in Draft202012Validator(schema).iter_errors(_load(merged_dir / "index.json"))]
    assert errors == []


class _Page(HTMLParser):
    """The HTML as a browser's parser reads it: every element closed in order, the matrix's cells."""

    VOID = {"meta", "br", "link", "img", "input", "hr", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.ids: set[str] = set()
        self.cells: dict[tuple[str, str], str] = {}
        self.links: list[str] = []
        self.row = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(str(attributes["id"]))
        if tag == "tr" and attributes.get("data-control"):
            self.row = str(attributes["data-control"])
        if tag == "td" and attributes.get("data-status"):
            self.cells[(self.row, str(attributes["data-repository"]))] = str(attributes["data-status"])
        if tag == "a" and attributes.get("href"):
            self.links.append(str(attributes["href"]))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
            return
        self.stack.pop()


def _page(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def test_the_html_parses_and_each_cell_links_to_that_repositorys_evidence(merged_dir: Path) -> None:
    page = _page(merged_dir / "index.html")
    assert page.problems == [] and page.stack == []
    index = _load(merged_dir / "index.json")
    for row in index["controls"]:
        for cell in row["cells"]:
            assert page.cells[(row["rule_id"], cell["repository"])] == cell["status"]
    targets = [link for link in page.links if "#" in link]
    assert len(targets) == len(index["controls"]) * len(NAMES)
    anchors: dict[str, set[str]] = {}
    for link in targets:
        file, _, anchor = link.partition("#")
        if file not in anchors:
            target = _page(merged_dir / file)
            assert target.problems == []
            anchors[file] = target.ids
        assert anchor in anchors[file], link
    assert set(anchors) == {f"repositories/{n:02d}-{name}.html" for n, name in enumerate(NAMES, start=1)}


def test_the_markdown_links_each_cell_to_the_repositorys_markdown_report(merged_dir: Path) -> None:
    text = (merged_dir / "index.md").read_text(encoding="utf-8")
    assert text.startswith("# Compliance across 3 repositories")
    line = next(line for line in text.splitlines() if line.startswith("| DF008 "))
    assert line.count("](repositories/") == len(NAMES)
    ledger = (merged_dir / "repositories" / "03-ledger.md").read_text(encoding="utf-8")
    assert "\n### DF008\n" in ledger and "(repositories/03-ledger.md#df008)" in line


def test_each_repositorys_sarif_validates(merged_dir: Path, reports: list[Path]) -> None:
    for number, (name, report) in enumerate(zip(NAMES, reports), start=1):
        sarif = _load(merged_dir / "repositories" / f"{number:02d}-{name}.sarif")
        assert schema_errors(sarif) == []
        run = sarif["runs"][0]
        assert run["automationDetails"]["id"] == f"auditor/{name}/"
        root = _load(report)["roots"][0]
        assert run["originalUriBaseIds"][SRCROOT]["uri"] == Path(root).as_uri() + "/"
        open_findings = [f for f in _load(report)["findings"] if f["suppressed"] is None]
        assert len([r for r in run["results"] if "suppressions" not in r]) == len(open_findings)


def test_a_repositorys_sarif_passes_the_multitool(merged_dir: Path) -> None:
    require_multitool()
    assert multitool_errors(merged_dir / "repositories" / "03-ledger.sarif") == []


def test_a_report_read_back_renders_as_the_scan_did(tmp_path: Path) -> None:
    """The round trip loses nothing the compliance report and SARIF show: rendered from the JSON
    report, both equal what ``auditor report`` and ``auditor scan`` render from the scan itself."""
    result = scan([FIXTURES / "noncompliant"], ignore=["SC"])
    path = tmp_path / "report.json"
    with open(path, "w", encoding="utf-8") as stream:
        render_json(result, stream)
    loaded = merged.read_report(path, CATALOG)
    assert loaded.version
    generated = "Generated by auditor 0 on test"
    assert report_to_markdown(build_report(loaded.result, CATALOG, "t", generated)) == \
        report_to_markdown(build_report(result, CATALOG, "t", generated))
    # The JSON report records neither an inline suppression's own line nor a location's end
    # column; everything else SARIF shows comes back
    before, after = result_to_sarif(result, "c"), result_to_sarif(loaded.result, "c")
    for document in (before, after):
        for result_ in document["runs"][0]["results"]:
            for suppression in result_.get("suppressions", ()):
                suppression.pop("location", None)
            for location in result_["locations"] + result_.get("relatedLocations", []):
                location["physicalLocation"].get("region", {}).pop("endColumn", None)
    assert before == after


# --- inputs that cannot be merged -----------------------------------------------------------------


def _bad(tmp_path: Path, good: Path, case: str) -> Path:
    text = good.read_text(encoding="utf-8")
    data = json.loads(text)
    bad = tmp_path / f"{case}.json"
    if case == "truncated":
        bad.write_text(text[: len(text) // 2], encoding="utf-8")
    elif case == "truncated-string":
        bad.write_text(text[: text.index('"message"') + 14], encoding="utf-8")
    elif case == "empty":
        bad.write_text("", encoding="utf-8")
    elif case == "not-json":
        bad.write_text("FROM alpine\n", encoding="utf-8")
    elif case == "binary":
        bad.write_bytes(b"\xff\xfe\x00junk")
    elif case == "array":
        bad.write_text("[1, 2]", encoding="utf-8")
    elif case == "other-tool":
        bad.write_text(json.dumps({"tool": {"name": "trivy"}, "Results": []}), encoding="utf-8")
    elif case == "sarif":
        bad.write_text(json.dumps({"version": "2.1.0", "runs": []}), encoding="utf-8")
    elif case == "old-version":
        data["tool"]["version"] = "9.4.2"
        bad.write_text(json.dumps(data), encoding="utf-8")
    elif case == "other-catalog":
        data["controls"][0]["rule_id"] = "ZZ999"
        bad.write_text(json.dumps(data), encoding="utf-8")
    elif case == "bad-field":
        data["findings"][0]["line"] = "seven"
        bad.write_text(json.dumps(data), encoding="utf-8")
    elif case == "bad-status":
        data["controls"][1]["status"] = "fine"
        bad.write_text(json.dumps(data), encoding="utf-8")
    elif case == "deep-properties":
        nested: dict[str, Any] = {}
        for _ in range(200):
            nested = {"x": [nested]}
        data["findings"][0]["properties"] = nested
        bad.write_text(json.dumps(data), encoding="utf-8")
    elif case == "deep":
        bad.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    return bad


BAD = {"truncated": "truncated", "truncated-string": "truncated", "empty": "empty", "not-json": "not valid JSON",
       "binary": "not UTF-8", "array": "JSON array", "other-tool": "not an auditor JSON report",
       "sarif": "a SARIF log", "old-version": "written by auditor 9.4.2",
       "other-catalog": "another catalog: ZZ999", "bad-field": "$.findings[0].line: expected a number",
       "bad-status": "$.controls[1].status: 'fine' is not one of", "deep": "nested too deeply",
       "deep-properties": "$.findings[0].properties: nested more than 32 levels deep"}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_input_is_refused_naming_the_file_and_nothing_is_written(
        case: str, reports: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _bad(tmp_path, reports[0], case)
    out = tmp_path / "out"
    assert main(["merge", str(reports[1]), str(bad), "-o", str(out)]) == 2
    error = capsys.readouterr().err
    assert f"{bad}: " in error and BAD[case] in error, error
    assert "Traceback" not in error and len(error.splitlines()) == 1
    assert not out.exists()


def test_every_bad_input_is_listed_at_once(reports: list[Path], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    first, second = _bad(tmp_path, reports[0], "empty"), _bad(tmp_path, reports[0], "sarif")
    assert main(["merge", str(first), str(reports[0]), str(second), "-o", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert f"{first}: " in error and f"{second}: " in error


def test_the_cli_refuses_a_truncated_report_with_exit_2_and_no_traceback(reports: list[Path], tmp_path: Path) -> None:
    bad = _bad(tmp_path, reports[0], "truncated")
    done = run_auditor("merge", str(bad), "-o", str(tmp_path / "out"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"auditor: error: cannot merge: {bad}: truncated")


# --- names, outputs, gate -------------------------------------------------------------------------


def test_two_reports_of_one_name_are_refused_until_labelled(reports: list[Path], tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "elsewhere" / "report.json"
    copy.parent.mkdir()
    copy.write_bytes(reports[0].read_bytes())  # the same checkout name, "payments"
    out = tmp_path / "out"
    assert main(["merge", str(reports[0]), str(copy), "-o", str(out)]) == 2
    assert "both named 'payments'" in capsys.readouterr().err and not out.exists()
    assert main(["merge", str(reports[0]), str(copy), "-o", str(out), "-q",
                 "--label", f"{copy}=payments (fork)"]) == 0
    assert [r["name"] for r in _load(out / "index.json")["repositories"]] == ["payments", "payments (fork)"]
    assert main(["merge", str(reports[0]), "--label", "nowhere.json=x", "-o", str(out)]) == 2
    assert "FILE one of the reports given" in capsys.readouterr().err
    assert main(["merge", str(reports[0]), str(reports[0]), "-o", str(out)]) == 2
    assert "given twice" in capsys.readouterr().err


def test_a_hostile_name_is_escaped_everywhere_and_chooses_no_path(reports: list[Path], tmp_path: Path) -> None:
    data = _load(reports[0])
    data["roots"] = ["/builds/team/" + HOSTILE.replace("/", "_")]
    hostile = tmp_path / "hostile.json"
    hostile.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["merge", str(hostile), str(reports[1]), "--label", f"{reports[1]}={HOSTILE}", "-o", str(out),
                 "-q"]) == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert all(p.startswith(("index.", "repositories/01-", "repositories/02-")) for p in written), written
    assert all(set(Path(p).name) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
               for p in written), written
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and html.count("<script>") == 1  # the page's own row filter
    assert "&lt;script&gt;" in html and "\u202e" not in html and "\\u202e" in html
    page = _page(out / "index.html")
    assert page.problems == []
    markdown = (out / "index.md").read_text(encoding="utf-8")
    assert "<script>" not in markdown and "\u202e" not in markdown
    line = next(line for line in markdown.splitlines() if line.startswith("| control | severity |"))
    assert line.count(" | ") == 3  # the names' pipes are escaped: still one column each
    for sarif in (out / "repositories").glob("*.sarif"):
        assert schema_errors(_load(sarif)) == []


def test_never_writes_over_an_input(reports: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    inside = out / "index.json"
    inside.write_bytes(reports[0].read_bytes())
    before = inside.read_bytes()
    assert main(["merge", str(inside), str(reports[1]), "-o", str(out)]) == 2
    assert "is one of the reports being merged" in capsys.readouterr().err
    assert inside.read_bytes() == before and not (out / "repositories").exists()


def test_formats_choose_the_files_and_the_links(reports: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["merge", *map(str, reports), "-o", str(out), "--format", "md,json", "-q"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["index.json", "index.md", "repositories"]
    assert sorted(p.suffix for p in (out / "repositories").iterdir()) == [".md"] * 3
    outputs = _load(out / "index.json")["repositories"][0]["outputs"]
    assert outputs == {"markdown": "repositories/01-payments.md"}
    assert main(["merge", str(reports[0]), "-o", str(tmp_path / "x"), "--format", "pdf"]) == 2


def test_fail_on_gates_on_the_merged_findings_as_scan_would(reports: list[Path], tmp_path: Path) -> None:
    worst = min((level for path in reports for level, count in _load(path)["summary"]["findings"].items() if count),
                key=("critical", "high", "medium", "low", "info").index)
    out = str(tmp_path / "out")
    assert main(["merge", *map(str, reports), "-o", out, "-q"]) == 0  # a document, not a gate, by default
    assert main(["merge", *map(str, reports), "-o", out, "-q", "--fail-on", worst]) == 1
    above = ("critical", "high", "medium", "low", "info")
    if worst != "critical":
        assert main(["merge", *map(str, reports), "-o", out, "-q", "--fail-on", above[above.index(worst) - 1]]) == 0
    assert main(["merge", *map(str, reports), "-o", out, "-q", "--fail-on", "none"]) == 0


def test_help_teaches_with_an_example() -> None:
    done = run_auditor("merge", "--help")
    assert done.returncode == 0
    assert "example:" in done.stdout and "auditor merge api.json web.json -o org-report/" in done.stdout
    assert "--label FILE=NAME" in done.stdout and "--fail-on" in done.stdout


def test_names_come_from_the_scan_root_then_the_file(tmp_path: Path) -> None:
    result = scan([FIXTURES / "compliant"], ignore=["SC"])
    assert merged.default_name(Path("x/report.json"), result) == "compliant"
    result.roots = []
    assert merged.default_name(Path("x/api.json"), result) == "api"
    result.roots = ["C:\\work\\api\\web"]
    assert merged.default_name(Path("x/report.json"), result) == "web"
    assert merged.root_uri("C:\\work\\web") == "file:///C:/work/web/" and merged.root_uri("web") is None
    assert merged.slug(3, 2, "../../x y") == "03-x-y" and merged.slug(10, 3, "..") == "010"


def test_the_markdown_renderer_writes_a_stream(reports: list[Path]) -> None:
    loaded = merged.read_report(reports[0], CATALOG)
    report = build_report(loaded.result, CATALOG, "payments")
    table = merged.build_merged([merged.summarise("payments", "r.json", "01-payments", loaded.result, report,
                                                  loaded.version)], [row.rule for row in report.rows], "g")
    stream = io.StringIO()
    merged.render_merged_markdown(table, stream, None)
    assert "](" not in stream.getvalue().split("## Controls by repository")[1]  # no links without the files


def test_shell_completion_offers_merge_and_completes_its_reports_as_files() -> None:
    from auditor.commands.completion import completion_script

    script = completion_script("bash")
    assert "_shtab_auditor_merge_option_strings=(-h --help -o --output -f --format --label --fail-on" in script
    assert "_shtab_auditor_merge_pos_0_COMPGEN=_shtab_compgen_files" in script  # REPORT.json ... are files
    assert "_shtab_auditor_merge__o_COMPGEN=_shtab_compgen_dirs" in script  # -o DIR is a folder


# --- the README's recipes, run here as their jobs would run them ------------------------------------


def _recipe_commands(prefix: str) -> list[str]:
    """The ``auditor`` command lines of the README's "Many repositories" recipes."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Many repositories", 1)[1].split("\n### ", 1)[0]
    return [line.strip()[len(prefix):] for line in section.splitlines() if line.strip().startswith(prefix)]


def _bash(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    program = f'auditor() {{ "{sys.executable}" -m auditor "$@"; }}\n{command}\n'
    return subprocess.run(["bash", "-c", program], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_readmes_github_matrix_recipe_runs(tmp_path: Path) -> None:
    scan_line, merge_line = _recipe_commands("- run: auditor ")
    for name in NAMES:  # one job per repository: its checkout in a folder of its name, report.json beside it
        workspace = tmp_path / f"job-{name}"
        _corpus(workspace / name, name)
        done = _bash("auditor " + scan_line.replace("${{ matrix.repo }}", name), workspace)
        assert done.returncode == 0, done.stderr  # --fail-on none: the scan job itself passes
        artifact = tmp_path / "merge-job" / "reports" / f"auditor-{name}"  # download-artifact's layout
        artifact.mkdir(parents=True)
        shutil.copy(workspace / "report.json", artifact / "report.json")
    done = _bash("auditor " + merge_line, tmp_path / "merge-job")
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr
    index = _load(tmp_path / "merge-job" / "org-report" / "index.json")
    assert [r["name"] for r in index["repositories"]] == sorted(NAMES)  # the shell's glob order
    assert done.returncode == (1 if any(r["findings"]["critical"] + r["findings"]["high"]
                                        for r in index["repositories"]) else 0)


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_readmes_gitlab_parallel_recipe_runs(tmp_path: Path) -> None:
    lines = _recipe_commands("- ")
    scan_line = next(line for line in lines if line.startswith("auditor scan"))
    merge_line = next(line for line in lines if line.startswith("auditor merge"))
    assert "mkdir -p reports" in lines
    for name in NAMES:  # every job of the matrix; their artifacts all land in the merge job's folder
        _corpus(tmp_path / name, name)
        done = _bash(f"REPO={name}\nmkdir -p reports\n{scan_line}", tmp_path)
        assert done.returncode == 0, done.stderr
    done = _bash(merge_line, tmp_path)
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr
    index = _load(tmp_path / "org-report" / "index.json")
    assert [r["name"] for r in index["repositories"]] == sorted(NAMES)


def test_a_folder_a_pipe_or_a_file_as_output_are_refused(reports: list[Path], tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["merge", str(tmp_path), "-o", str(tmp_path / "out")]) == 2
    assert "a folder, not a JSON report" in capsys.readouterr().err
    if hasattr(os, "mkfifo"):
        pipe = tmp_path / "pipe.json"
        os.mkfifo(pipe)  # never opened: reading it would block, and a report is read twice
        assert main(["merge", str(pipe), "-o", str(tmp_path / "out")]) == 2
        assert "not a regular file" in capsys.readouterr().err
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me", encoding="utf-8")
    assert main(["merge", str(reports[0]), "-o", str(blocker)]) == 2
    assert "is a file: merge writes a folder" in capsys.readouterr().err
    assert blocker.read_text(encoding="utf-8") == "keep me" and not (tmp_path / "out").exists()


def test_files_are_written_with_the_users_umask_and_leave_no_temporary(merged_dir: Path, tmp_path: Path) -> None:
    reference = tmp_path / "plain"
    reference.write_text("x", encoding="utf-8")  # what open() gives under this process's umask
    written = [p for p in merged_dir.rglob("*") if p.is_file()]
    assert {p.stat().st_mode & 0o777 for p in written} == {reference.stat().st_mode & 0o777}
    assert not [p for p in written if p.name.endswith(".tmp")]


def test_two_merges_of_the_same_reports_are_byte_identical(reports: list[Path], tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # pins the one varying line, as for `auditor report`
    first, second = tmp_path / "first", tmp_path / "second"
    for out in (first, second):
        assert main(["merge", *map(str, reports), "-o", str(out), "-q"]) == 0
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert all((first / f).read_bytes() == (second / f).read_bytes() for f in files)
    assert "Generated by auditor" in (first / "index.html").read_text(encoding="utf-8")


def test_the_view_in_headless_chromium_filters_rows_and_links_to_the_evidence(merged_dir: Path, tmp_path: Path) -> None:
    from tests.test_browser import CHROMIUM_FLAGS, TIMEOUT_MS, _chromium

    chromium = _chromium()
    # where it is missing, tests/test_browser.py skips or (in CI) fails saying how to install it
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    index = _load(merged_dir / "index.json")
    failing = {row["rule_id"] for row in index["controls"] if {"fail", "error"} & {c["status"] for c in row["cells"]}}
    differing = {row["rule_id"] for row in index["controls"] if len({c["status"] for c in row["cells"]}) > 1}
    assert failing and differing and len(failing) < len(index["controls"])
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 1200})
            page.set_default_timeout(TIMEOUT_MS)
            page.on("request", lambda request: requests.append(request.url))
            page.goto((merged_dir / "index.html").as_uri())
            assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the tables scroll, not the page
            rows = page.locator("#matrix tr[data-control]:visible")
            assert rows.count() == len(index["controls"])
            page.select_option("#row-filter", "failing")
            assert set(rows.evaluate_all("rows => rows.map(r => r.id)")) == failing
            assert page.locator("#shown-count").inner_text() == f"{len(failing)} of {len(index['controls'])} controls shown"
            page.select_option("#row-filter", "differing")
            assert set(rows.evaluate_all("rows => rows.map(r => r.id)")) == differing
            page.select_option("#row-filter", "all")
            page.locator('#DF008 td[data-repository="ledger"] a').click()
            page.wait_for_url("**/repositories/03-ledger.html#DF008")
            assert page.locator("details#DF008").count() == 1
            assert page.locator("h1").inner_text() == "Compliance report: ledger"
        finally:
            browser.close()
    assert all(url.startswith("file://") for url in requests), requests


def test_a_report_whose_configuration_left_nothing_to_audit_fails_the_gate(reports: list[Path], tmp_path: Path) -> None:
    data = _load(reports[0])
    data["findings"] = [f for f in data["findings"] if f["severity"] == "info"]
    data["policy"] = {"config": ".auditor.yaml", "config_from_tree": True, "floor": None, "blocking": True,
                      "weakenings": [{"setting": "exclude[0]", "change": "excludes every file", "level": "error",
                                      "refused": False}]}
    blocked = tmp_path / "blocked.json"
    blocked.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["merge", str(blocked), "-o", str(out), "-q", "--fail-on", "critical"]) == 1  # as scan exits
    repository = _load(out / "index.json")["repositories"][0]
    assert repository["verdict"] == "nothing audited" and repository["findings"]["critical"] == 0
    page = (out / "repositories" / "01-payments.md").read_text(encoding="utf-8")
    assert "**Verdict: NOTHING AUDITED.**" in page and "- NOTHING AUDITED: exclude\\[0\\]: excludes every file" in page
