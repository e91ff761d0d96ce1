#!/usr/bin/env python3
"""Write docs/rules.md from rules/*.yaml (the catalog's single source of truth).

    python docs/generate_rules_md.py          # rewrite docs/rules.md
    python docs/generate_rules_md.py --check  # exit 1 if docs/rules.md is out of date (the tests do this)
"""
from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from auditor.catalog import load_catalog  # noqa: E402

FAMILY_TITLES = {"dockerfile": "Dockerfile (DF)", "compose": "Docker Compose (DC)", "nginx": "nginx (NG)",
                 "kubernetes": "Kubernetes (KS)", "nextjs": "Next.js application (NX)",
                 "supply_chain": "Supply chain (SC), external scanners", "cross_file": "Cross-file (XF)",
                 "architecture": "Architecture document versus deployment (AR)", "auditor": "The auditor itself (AUD)"}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render() -> str:
    catalog = load_catalog(REPO / "rules")
    out = ["# Rule catalog", "",
           "Generated from `rules/*.yaml` by `docs/generate_rules_md.py`; do not edit by hand.",
           "`auditor explain ID` shows the same documentation in the terminal.", ""]
    for family, title in FAMILY_TITLES.items():
        rules = [r for r in catalog.values() if r.family == family]
        if not rules:
            continue
        out += [f"## {title}", "", "| ID | name | severity | control | parameters |", "|---|---|---|---|---|"]
        for rule in rules:
            params = ", ".join(f"`{k}={v!r}`" + (f" (profile `{rule.parameters[k]['profile']}`)"
                                                  if "profile" in rule.parameters[k] else "")
                               for k, v in rule.defaults.items()) or ""
            out.append(f"| [{rule.id}](#{rule.id.lower()}) | `{rule.name}` | {rule.severity_label} | {_cell(rule.title)} | {_cell(params)} |")
        out.append("")
        for rule in rules:
            out += [f"### {rule.id}", "", f"**{_cell(rule.title)}** ({rule.severity_label}; checks `{rule.target}`{'; applies to ' + ', '.join(rule.applies_to) + ' workloads' if rule.has_check else ''})", "",
                    rule.summary, "", f"*Why:* {rule.rationale}", "", f"*Fix:* {rule.remediation}", ""]
            if rule.examples.get("good"):
                fence = "dockerfile" if rule.examples["filename"].startswith("Dockerfile") else (
                    "nginx" if rule.examples["filename"].endswith(".conf") else
                    "js" if rule.examples["filename"].endswith((".js", ".mjs", ".ts")) else
                    "json" if rule.examples["filename"].endswith(".json") else "yaml")
                out += [f"Compliant `{rule.examples['filename']}`:", "", f"```{fence}", rule.examples["good"].rstrip(), "```", ""]
            out.append("References: " + "; ".join(f"[{ref['title']}]({ref['url']})" for ref in rule.references))
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str]) -> int:
    target = REPO / "docs" / "rules.md"
    text = render()
    if "--check" in argv:
        if not target.is_file() or target.read_text() != text:
            sys.stderr.write("docs/rules.md is out of date: run python docs/generate_rules_md.py\n")
            return 1
        return 0
    target.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
