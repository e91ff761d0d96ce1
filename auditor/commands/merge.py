"""``auditor merge REPORT.json ... [-o DIR]``: many repositories' JSON reports as one compliance view.

Each input is read and checked before anything is written (``merged.read_report``); one bad input
stops the merge with exit 2 and a line per bad file. Then, one repository at a time (so memory
holds one report, not all of them), its compliance report and SARIF log are written under
``DIR/repositories/`` by the renderers of ``auditor report`` and ``auditor scan``, and the table
of repositories by control goes to ``DIR/index.html``, ``DIR/index.md`` and ``DIR/index.json``.

Files are written whole or not at all (a temporary file renamed over the target), and never over
one of the input reports. Exit code: 0 once written; with ``--fail-on SEVERITY``, 1 when a
repository has an open finding at or above it (or a configuration that left nothing to audit),
as ``auditor scan --fail-on`` would have exited in that repository's job.
"""
from __future__ import annotations

import argparse
import os
import sys
import secrets
from collections.abc import Callable
from pathlib import Path
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import IO

from auditor.cli import DEFAULT_REPORT_DIR, EXIT_FINDINGS, EXIT_OK, UsageError
from auditor.textsafe import display

if TYPE_CHECKING:
    from auditor.catalog import Rule
    from auditor.report.merged import Cell, MergedReport, Repository

    Column = tuple[Repository, list[Cell]]

MERGE_FORMATS = ("html", "markdown", "json", "sarif")
INDEX_NAME = "index"
INDEX_EXTENSIONS = {"html": ".html", "markdown": ".md", "json": ".json"}
REPOSITORY_EXTENSIONS = {"html": ".html", "markdown": ".md", "sarif": ".sarif"}


def parse_merge_formats(specs: list[str] | None) -> list[str]:
    """``--format html,md`` (repeatable, comma-separated) -> ``["html", "markdown"]``; all four by default."""
    if not specs:
        return list(MERGE_FORMATS)
    chosen: list[str] = []
    for spec in specs:
        for part in (p.strip().lower() for p in spec.split(",")):
            if not part:
                continue
            part = "markdown" if part == "md" else part
            if part not in MERGE_FORMATS:
                raise UsageError(f"unknown merge format {part!r}; choose from html, md, json, sarif")
            if part not in chosen:
                chosen.append(part)
    if not chosen:
        raise UsageError("--format needs at least one of html, md, json, sarif")
    return chosen


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def parse_labels(specs: list[str], reports: list[Path]) -> dict[int, str]:
    """``--label FILE=NAME`` -> {index of FILE among the reports: NAME}. FILE is matched against
    the reports given (the same file, however named); the split is at the ``=`` that leaves a
    given report on its left, so a name may hold ``=`` and so may a file name."""
    labels: dict[int, str] = {}
    for spec in specs:
        match = None
        for position in (i for i, char in enumerate(spec) if char == "="):
            left = Path(spec[:position])
            found = [index for index, report in enumerate(reports) if _same_file(left, report)]
            if found:
                match = (found[0], spec[position + 1:].strip())
                break
        if match is None:
            raise UsageError(f"--label {display(spec)}: expected FILE=NAME with FILE one of the reports given")
        index, name = match
        if not name:
            raise UsageError(f"--label {display(spec)}: the NAME is empty")
        labels[index] = name
    return labels


def _write(path: Path, render: Callable[[IO[str]], None]) -> None:
    """Write ``path`` whole or not at all: a temporary file in the same folder, renamed over it
    (which also replaces a symbolic link planted at ``path`` rather than writing through it)."""
    # open(..., "x") rather than mkstemp: the file gets the user's umask (mkstemp's is 0600)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    stream = open(temporary, "x", encoding="utf-8", newline="\n")
    try:
        with stream:
            render(stream)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def run(args: argparse.Namespace) -> int:
    from auditor.catalog import load_catalog
    from auditor.report import merged
    from auditor.report.compliance import generated_line

    formats = parse_merge_formats(getattr(args, "formats", None))
    reports = [Path(path) for path in args.reports]
    labels = parse_labels(getattr(args, "labels", None) or [], reports)
    folder = Path(getattr(args, "output", None) or DEFAULT_REPORT_DIR)
    quiet = bool(getattr(args, "quiet", False))
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"-o {display(str(folder))} is a file: merge writes a folder (index.html, index.md, "
                         "index.json, repositories/)")
    catalog = load_catalog()
    names = _check_reports(reports, labels, catalog)
    width = max(2, len(str(len(reports))))
    slugs = [merged.slug(index + 1, width, name) for index, name in enumerate(names)]
    per_repository = {kind: extension for kind, extension in REPOSITORY_EXTENSIONS.items() if kind in formats}
    _refuse_overwriting_inputs(folder, formats, slugs, per_repository, reports)
    try:
        (folder / merged.REPOSITORY_FOLDER).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {display(str(folder))}: {exc.strerror or exc}") from exc
    generated = generated_line()
    written: list[Path] = []
    try:
        # one repository at a time (memory holds one report): its own reports, then its column
        columns = [_write_repository(path, name, slug_name, catalog, folder, formats, generated, written)
                   for path, name, slug_name in zip(reports, names, slugs)]
        table = merged.build_merged([column for column, _ in columns], columns[0][1], generated)
        _write_index(table, folder, formats, per_repository, written)
    except OSError as exc:
        raise UsageError(f"cannot write into {display(str(folder))}: {exc.strerror or exc}") from exc
    if not quiet:
        for target in written:
            sys.stderr.write(f"wrote {display(str(target))}\n")
        judged = table.verdict()
        sys.stderr.write(f"merged {len(reports)} reports: {judged.word}: {judged.text}\n")
    return _gate(table, getattr(args, "fail_on", None), quiet)


def _check_reports(reports: list[Path], labels: dict[int, str], catalog: dict[str, Rule]) -> list[str]:
    """Every report read and checked before anything is written; their names (a label, else the
    report's default). UsageError listing every problem: a bad report, one given twice, two names alike."""
    from auditor.report import merged

    problems: list[str] = []
    names: list[str] = []
    for index, path in enumerate(reports):
        if any(_same_file(path, other) for other in reports[:index]):
            problems.append(f"{display(str(path))} is given twice")
            names.append("")
            continue
        try:
            result = merged.read_report(path, catalog).result
        except merged.ReportError as exc:
            problems.append(str(exc))
            names.append("")
            continue
        names.append(labels.get(index) or merged.default_name(path, result))
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if name and name in seen:
            problems.append(f"{display(str(reports[index]))} and {display(str(reports[seen[name]]))} are both named "
                            f"{display(name)!r}: name them apart with --label FILE=NAME")
        elif name:
            seen[name] = index
    if problems:
        raise UsageError("cannot merge: " + ("\n  ".join([""] + problems) if len(problems) > 1 else problems[0]))
    return names


def _refuse_overwriting_inputs(folder: Path, formats: list[str], slugs: list[str], per_repository: dict[str, str],
                               reports: list[Path]) -> None:
    from auditor.report.merged import REPOSITORY_FOLDER

    planned = [folder / f"{INDEX_NAME}{INDEX_EXTENSIONS[kind]}" for kind in formats if kind in INDEX_EXTENSIONS]
    planned += [folder / REPOSITORY_FOLDER / f"{name}{extension}"
                for name in slugs for extension in per_repository.values()]
    for target in planned:
        if target.exists() and any(_same_file(target, source) for source in reports):
            raise UsageError(f"{display(str(target))} is one of the reports being merged: choose another -o DIR")


def _write_repository(path: Path, name: str, slug_name: str, catalog: dict[str, Rule], folder: Path,
                      formats: list[str], generated: str, written: list[Path]) -> tuple[Column, list[Rule]]:
    """One repository's compliance report and SARIF log, written by the renderers of ``auditor
    report`` and ``auditor scan``; returns its column of the table and the rows' rules."""
    from auditor.report import merged
    from auditor.report.compliance import build_report, render_html, render_markdown
    from auditor.report.sarif import render_sarif

    try:
        result, version = merged.read_report(path, catalog)
    except merged.ReportError as exc:  # it was checked a moment ago: changed since
        raise UsageError(f"{exc} (the file changed during the merge)") from exc
    report = build_report(result, catalog, name, generated=generated)
    base = folder / merged.REPOSITORY_FOLDER / slug_name
    targets: list[tuple[str, Callable[[IO[str]], None]]] = []
    if "html" in formats:
        targets.append((".html", lambda stream: render_html(report, stream)))
    if "markdown" in formats:
        targets.append((".md", lambda stream: render_markdown(report, stream)))
    if "sarif" in formats:
        # the scan machine's root as the report recorded it, not this machine's resolution of it
        uri = (merged.root_uri(result.roots[0]) if result.roots else None) or ""
        targets.append((".sarif", lambda stream: render_sarif(result, stream, f"auditor/{name}", root_uri=uri)))
    for extension, render in targets:
        _write(base.with_name(slug_name + extension), render)
        written.append(base.with_name(slug_name + extension))
    return merged.summarise(name, str(path), slug_name, result, report, version), [row.rule for row in report.rows]


def _write_index(table: MergedReport, folder: Path, formats: list[str], per_repository: dict[str, str],
                 written: list[Path]) -> None:
    from auditor.report import merged

    renderers: dict[str, Callable[[IO[str]], None]] = {
        "html": lambda stream: merged.render_merged_html(table, stream, per_repository.get("html")),
        "markdown": lambda stream: merged.render_merged_markdown(table, stream, per_repository.get("markdown")),
        "json": lambda stream: merged.render_merged_json(table, stream, per_repository),
    }
    for kind in formats:
        if kind in renderers:
            target = folder / f"{INDEX_NAME}{INDEX_EXTENSIONS[kind]}"
            _write(target, renderers[kind])
            written.append(target)


def _gate(table: MergedReport, threshold: str | None, quiet: bool) -> int:
    """``--fail-on``: 1 when a repository fails it as ``auditor scan --fail-on`` would have."""
    from auditor.report.merged import gate

    if threshold is None:
        return EXIT_OK
    failing = gate(table, threshold)
    if not failing:
        return EXIT_OK
    if not quiet:
        shown = ", ".join(display(repository.name) for repository in failing[:10])
        sys.stderr.write(f"{len(failing)} repositories fail --fail-on {threshold}: {shown}"
                         + (", ..." if len(failing) > 10 else "") + "\n")
    return EXIT_FINDINGS
