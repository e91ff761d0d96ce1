"""``auditor explain ID``: a control's documentation in the terminal."""
from __future__ import annotations

import argparse
import difflib
import sys

from auditor.catalog import load_catalog
from auditor.cli import UsageError


def run(args: argparse.Namespace) -> int:
    catalog = load_catalog()
    rule_id = args.rule_id.upper()
    rule = catalog.get(rule_id)
    if rule is None:
        close = difflib.get_close_matches(rule_id, list(catalog), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise UsageError(f"no rule {args.rule_id!r}{hint}; `auditor rules` lists them all")
    from auditor.report.console import render_explain, use_color

    render_explain(rule, sys.stdout, color=use_color(args.color))
    return 0
