"""``auditor rules``: the catalog as a table (or JSON)."""
from __future__ import annotations

import argparse
import json
import sys

from auditor.catalog import load_catalog


def run(args: argparse.Namespace) -> int:
    catalog = load_catalog()
    if args.format == "json":
        json.dump([{"id": r.id, "name": r.name, "title": r.title, "severity": r.severity,
                    "note_severity": r.note_severity, "applies_to": list(r.applies_to), "family": r.family,
                    "parameters": r.defaults} for r in catalog.values()], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    from auditor.report.console import render_rules_table, use_color

    render_rules_table(catalog, sys.stdout, color=use_color(args.color))
    return 0
