"""``auditor report [PATH] -o DIR``: audit a tree and write the compliance report (HTML and/or
Markdown) for every control of the catalog.

The report is a document, not a gate: the exit code is 0 once it is written, whatever it says
(``auditor scan --fail-on`` is the gate). Files are ``DIR/NAME.html`` and ``DIR/NAME.md``, NAME
being ``--name`` or the audited folder's name.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from auditor.cli import EXIT_OK, UsageError

REPORT_FORMATS = {"html": ".html", "markdown": ".md"}


def parse_report_formats(text: str) -> list[str]:
    """``html,markdown`` -> ``["html", "markdown"]`` (``md`` accepted for ``markdown``)."""
    chosen = []
    for part in (p.strip().lower() for p in text.split(",") if p.strip()):
        part = "markdown" if part == "md" else part
        if part not in REPORT_FORMATS:
            raise UsageError(f"unknown report format {part!r}; choose from html, markdown")
        if part not in chosen:
            chosen.append(part)
    if not chosen:
        raise UsageError("--format needs at least one of html, markdown")
    return chosen


def report_name(paths: list[str]) -> str:
    """The audited folder's name (``compliant`` for ``fixtures/compliant``); ``report`` for '.'."""
    name = Path(paths[0]).absolute().name if paths else ""
    return name if len(paths) == 1 and name and paths[0] not in (".", "./") else "report"


def run(args: argparse.Namespace) -> int:
    from auditor.catalog import load_catalog
    from auditor.commands.scan import prepare
    from auditor.report.compliance import build_report, collect_scope, render_html, render_markdown

    formats = parse_report_formats(args.report_formats)
    for name, default in (("quiet", True), ("diff_base", None), ("baseline", None), ("no_suppress", False),
                          ("trivy", None), ("image", None)):
        if not hasattr(args, name):
            setattr(args, name, default)
    result, config = prepare(args)
    target = " ".join(args.paths)
    report = build_report(result, load_catalog(), target, scope=collect_scope(result, config))
    output = Path(args.output)
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {output}: {exc.strerror}") from exc
    name = args.name or report_name(args.paths)
    renderers = {"html": render_html, "markdown": render_markdown}
    for format_name in formats:
        path = output / f"{name}{REPORT_FORMATS[format_name]}"
        try:
            with open(path, "w", encoding="utf-8", newline="\n") as stream:
                renderers[format_name](report, stream)
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror}") from exc
        if not args.quiet_report:
            sys.stderr.write(f"wrote {path}\n")
    return EXIT_OK
