"""The Markdown summary: verdict, counts, a findings table and per-file details, with no HTML or
Markdown from the audited tree getting through."""
from __future__ import annotations

import io
import re
from pathlib import Path

from auditor.api import scan
from auditor.engine import AuditResult
from auditor.report.markdown import MAX_ROWS, escape, render_markdown, result_to_markdown
from tests.conftest import FIXTURES, run_auditor


def markdown_of(result: AuditResult, threshold: str | None = None) -> str:
    stream = io.StringIO()
    render_markdown(result, stream, threshold)
    return stream.getvalue()


def table_rows(markdown: str, header: str) -> list[str]:
    lines = markdown.splitlines()
    start = lines.index(header) + 2
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def test_verdict_counts_and_one_row_per_active_finding() -> None:
    result = scan([FIXTURES / "noncompliant"])
    markdown = markdown_of(result)
    assert markdown.startswith("## auditor\n\n❌ **")
    rows = table_rows(markdown, "| severity | rule | location | message |")
    assert len(rows) == min(len(result.active_findings), MAX_ROWS)
    counts = table_rows(markdown, "| severity | findings | suppressed |")
    assert [row.split("|")[1].split()[-1] for row in counts] == ["critical", "high", "medium", "low", "info"]
    assert "| control status | controls |" in markdown
    assert markdown.count("<details>") == markdown.count("</details>")


def test_a_threshold_turns_the_verdict_into_pass_or_fail(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM node:20-alpine\nUSER root\n", encoding="utf-8")
    result = scan([tmp_path], select=["DF008"])
    assert "❌ **Failed**: 1 finding(s) at or above *high*" in markdown_of(result, "high")
    assert "✅ **Passed** at *critical*" in markdown_of(result, "critical")
    assert result_to_markdown(scan([FIXTURES / "compliant"])).startswith("## auditor\n\n✅ **No findings.**")


def test_cells_cannot_be_split_or_turned_into_html_or_links() -> None:
    assert escape("a|b") == "a\\|b"
    assert escape("<script>x</script>") == "&lt;script&gt;x&lt;/script&gt;"
    assert escape("[x](https://evil)") == "\\[x\\](https://evil)"
    assert escape("`code` *em* _u_") == "\\`code\\` \\*em\\* \\_u\\_"
    # printable() shows controls as \x.. escapes; their backslash is escaped in turn, so the
    # rendered text reads exactly "line\x0abreak\x1b[2J"
    assert escape("line\nbreak\x1b[2J") == "line\\\\x0abreak\\\\x1b\\[2J"


def without_code_spans(markdown: str) -> str:
    """Code spans render their content literally (CommonMark 6.1: no HTML inside), so only the
    text outside them can carry markup."""
    return re.sub(r"(`+) .*? \1", "", markdown)


def test_hostile_content_renders_as_text(hostile_result: AuditResult) -> None:
    markdown = markdown_of(hostile_result)
    assert "<script>" in markdown  # inside the snippet's code span, where it is text
    prose = without_code_spans(markdown)
    assert "<script>" not in prose and "<b>" not in prose
    assert "\x1b" not in markdown and "\u202e" not in markdown
    for row in table_rows(markdown, "| severity | rule | location | message |"):
        # exactly four cells: every pipe from the tree is escaped
        assert row.replace("\\|", "").count("|") == 5, row
    assert "<summary>a b#c/ü/Dockerfile" in markdown
    assert "suppressed or baselined finding(s)</summary>" in markdown


def test_markdown_survives_a_file_name_that_is_not_utf8(undecodable_name_tree: Path) -> None:
    markdown_of(scan([undecodable_name_tree])).encode("utf-8")


def test_the_cli_writes_markdown() -> None:
    done = run_auditor("scan", str(FIXTURES / "noncompliant"), "--no-external", "--format", "markdown")
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("## auditor")


def test_findings_are_ordered_by_severity_with_counts_per_rule() -> None:
    result = scan([FIXTURES / "noncompliant"])
    markdown = markdown_of(result)
    rank = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
    rows = table_rows(markdown, "| severity | rule | location | message |")
    severities = [rank[row.split("|")[1].split()[-1]] for row in rows]
    assert severities == sorted(severities) and severities[0] == 0
    by_rule = table_rows(markdown, "| severity | rule | findings | control |")
    cells = [[cell.strip() for cell in row.split("|")[1:-1]] for row in by_rule]
    expected: dict[str, int] = {}
    for finding in result.active_findings:
        expected[finding.rule_id] = expected.get(finding.rule_id, 0) + 1
    assert {cell[1]: int(cell[2]) for cell in cells} == expected
    order = [(rank[cell[0].split()[-1]], -int(cell[2])) for cell in cells]
    assert order == sorted(order)  # most severe rules first, then the most findings
    assert markdown.index("### By rule") < markdown.index("### Findings")
