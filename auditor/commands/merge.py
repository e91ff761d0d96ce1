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
from typing import IO

from auditor.cli import DEFAULT_REPORT_DIR, EXIT_FINDINGS, EXIT_OK, UsageError
from auditor.textsafe import display

MERGE_FORMATS = ("html", "markdown", "json", "sarif")
INDEX_NAME = "index"


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


def _text(stream: IO[str], text: str) -> None:
    stream.write(text)


def run(args: argparse.Namespace) -> int:
    from auditor.catalog import load_catalog
    from auditor.report import merged
    from auditor.report.compliance import build_report, generated_line, render_html, render_markdown
    from auditor.report.sarif import SRCROOT, _dump, result_to_sarif

    formats = parse_merge_formats(getattr(args, "formats", None))
    reports = [Path(path) for path in args.reports]
    labels = parse_labels(getattr(args, "labels", None) or [], reports)
    folder = Path(getattr(args, "output", None) or DEFAULT_REPORT_DIR)
    quiet = bool(getattr(args, "quiet", False))
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"-o {display(str(folder))} is a file: merge writes a folder (index.html, index.md, "
                         "index.json, repositories/)")
    catalog = load_catalog()

    # 1. Read and check every report before writing anything; keep only its name and header.
    problems: list[str] = []
    names: list[str] = []
    for index, path in enumerate(reports):
        try:
            result = merged.read_report(path, catalog).result
        except merged.ReportError as exc:
            problems.append(str(exc))
            names.append("")
            continue
        names.append(labels.get(index) or merged.default_name(path, result))
        del result
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if not name:
            continue
        if name in seen:
            problems.append(f"{display(str(reports[index]))} and {display(str(reports[seen[name]]))} are both named "
                            f"{display(name)!r}: name them apart with --label FILE=NAME")
        else:
            seen[name] = index
    duplicates = [index for index in range(len(reports)) for other in range(index)
                  if _same_file(reports[index], reports[other])]
    for index in duplicates:
        problems.append(f"{display(str(reports[index]))} is given twice")
    if problems:
        raise UsageError("cannot merge: " + ("\n  ".join([""] + problems) if len(problems) > 1 else problems[0]))

    # 2. Where each file goes, checked against the inputs before anything is written.
    width = max(2, len(str(len(reports))))
    slugs = [merged.slug(index + 1, width, name) for index, name in enumerate(names)]
    extensions = {"html": ".html", "markdown": ".md", "sarif": ".sarif"}
    per_repository = {kind: extension for kind, extension in extensions.items() if kind in formats}
    index_extensions = {"html": ".html", "markdown": ".md", "json": ".json"}
    planned = [folder / f"{INDEX_NAME}{index_extensions[kind]}" for kind in formats if kind in index_extensions]
    planned += [folder / merged.REPOSITORY_FOLDER / f"{name}{extension}"
                for name in slugs for extension in per_repository.values()]
    for target in planned:
        for source in reports:
            if target.exists() and _same_file(target, source):
                raise UsageError(f"{display(str(target))} is one of the reports being merged: choose another -o DIR")
    try:
        (folder / merged.REPOSITORY_FOLDER).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {display(str(folder))}: {exc.strerror or exc}") from exc

    # 3. One repository at a time: its own reports, then its column of the table.
    generated = generated_line()
    rules = None
    columns = []
    written: list[Path] = []
    try:
        for path, name, slug_name in zip(reports, names, slugs):
            try:
                result, version = merged.read_report(path, catalog)
            except merged.ReportError as exc:  # it was checked a moment ago: changed since
                raise UsageError(f"{exc} (the file changed during the merge)") from exc
            report = build_report(result, catalog, name, generated=generated)
            if rules is None:
                rules = [row.rule for row in report.rows]
            base = folder / merged.REPOSITORY_FOLDER / slug_name
            if "html" in formats:
                _write(base.with_name(slug_name + ".html"), lambda stream: render_html(report, stream))
                written.append(base.with_name(slug_name + ".html"))
            if "markdown" in formats:
                _write(base.with_name(slug_name + ".md"), lambda stream: render_markdown(report, stream))
                written.append(base.with_name(slug_name + ".md"))
            if "sarif" in formats:
                document = result_to_sarif(result, sarif_category=f"auditor/{name}")
                uri = merged.root_uri(result.roots[0]) if result.roots else None
                # the scan machine's root, not this machine's resolution of it
                document["runs"][0]["originalUriBaseIds"][SRCROOT] = {"uri": uri} if uri else {}
                _write(base.with_name(slug_name + ".sarif"), lambda stream: _text(stream, _dump(document) + "\n"))
                written.append(base.with_name(slug_name + ".sarif"))
            columns.append(merged.summarise(name, str(path), slug_name, result, report, version))
            del result, report
    except OSError as exc:
        raise UsageError(f"cannot write into {display(str(folder))}: {exc.strerror or exc}") from exc
    table = merged.build_merged(columns, rules or [], generated)
    try:
        if "html" in formats:
            target = folder / f"{INDEX_NAME}.html"
            _write(target, lambda stream: merged.render_merged_html(table, stream, per_repository.get("html")))
            written.append(target)
        if "markdown" in formats:
            target = folder / f"{INDEX_NAME}.md"
            _write(target, lambda stream: merged.render_merged_markdown(table, stream, per_repository.get("markdown")))
            written.append(target)
        if "json" in formats:
            target = folder / f"{INDEX_NAME}.json"
            _write(target, lambda stream: merged.render_merged_json(table, stream, per_repository))
            written.append(target)
    except OSError as exc:
        raise UsageError(f"cannot write into {display(str(folder))}: {exc.strerror or exc}") from exc
    if not quiet:
        for target in written:
            sys.stderr.write(f"wrote {display(str(target))}\n")
        judged = table.verdict()
        sys.stderr.write(f"merged {len(reports)} reports: {judged.word}: {judged.text}\n")
    threshold = getattr(args, "fail_on", None)
    if threshold is None:
        return EXIT_OK
    failing = merged.gate(table, threshold)
    if failing:
        if not quiet:
            shown = ", ".join(display(repository.name) for repository in failing[:10])
            sys.stderr.write(f"{len(failing)} repositories fail --fail-on {threshold}: {shown}"
                             + (", ..." if len(failing) > 10 else "") + "\n")
        return EXIT_FINDINGS
    return EXIT_OK
