"""``auditor init [FOLDER] [--from DOC] [--ci github|gitlab|none] [--force]``.

Writes a commented ``.auditor.yaml`` holding the architecture profile, a ``.pre-commit-config.yaml``
entry and a CI workflow that uploads SARIF, into FOLDER only (default: the current folder). With
``--from DOC`` the profile is filled from the architecture document, each value with a comment
citing its line; what the document states twice differently is reported and left at the default;
what it does not state stays at the default and is listed. It never reads the tree's code and never
overwrites a file without ``--force``.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import Any

from auditor import __version__
from auditor.architecture.document import PROMISES, DocumentFacts, read_document
from auditor.architecture.profile import PROFILE
from auditor.cli import UsageError

PRE_COMMIT = f"""\
# pre-commit (https://pre-commit.com): the auditor on the files each commit changes.
repos:
  - repo: https://github.com/auditor/auditor
    rev: v{__version__}
    hooks:
      - id: auditor
"""

GITHUB_WORKFLOW = f"""\
# The auditor on every push and pull request; findings appear in the Security tab (SARIF) and
# the job fails on high findings (change --fail-on, or fail_on in .auditor.yaml).
name: auditor
on:
  push:
  pull_request:
permissions:
  contents: read
  security-events: write
jobs:
  audit:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: pip install "auditor=={__version__}"
      - run: auditor scan . --format text --format sarif:auditor.sarif
      - uses: github/codeql-action/upload-sarif@v3
        if: always()
        with:
          sarif_file: auditor.sarif
          category: auditor
"""

GITLAB_CI = f"""\
# The auditor in GitLab CI: the SARIF report is kept as an artifact of every pipeline and the job
# fails on high findings (change --fail-on, or fail_on in .auditor.yaml).
auditor:
  image: python:3.12-slim
  script:
    - pip install "auditor=={__version__}"
    - auditor scan . --format text --format sarif:auditor.sarif
  artifacts:
    when: always
    expose_as: auditor SARIF
    paths:
      - auditor.sarif
"""

GROUP_TITLES = {
    "runtime": "the user the app container runs as",
    "app": "the app",
    "node": "the base image: node:<major>-<family>",
    "rate_limit": "nginx rate limiting per client",
    "resources": "limits per app container",
    "network": "the isolated network",
    "capabilities": "Linux capabilities a container may add",
    "tls": "TLS at nginx",
    "headers": "security headers nginx must send",
}


def run(args: argparse.Namespace) -> int:
    folder = Path(args.folder)
    if not folder.is_dir():
        raise UsageError(f"{args.folder}: not a folder (init writes into an existing folder)")
    facts = None
    if args.source:
        source = Path(args.source)
        facts = read_document(source, args.source)
        if facts.problems and not facts.statements:
            raise UsageError("; ".join(facts.problems))
    files = {".auditor.yaml": config_text(facts, folder, args.source)}
    files[".pre-commit-config.yaml"] = PRE_COMMIT
    if args.ci == "github":
        files[os.path.join(".github", "workflows", "auditor.yml")] = GITHUB_WORKFLOW
    elif args.ci == "gitlab":
        files[".gitlab-ci.yml"] = GITLAB_CI
    existing = [name for name in files if os.path.lexists(folder / name)]
    if existing and not args.force:
        raise UsageError(f"{', '.join(existing)} already exist(s) in {args.folder}; nothing written "
                         "(--force overwrites)")
    for name, text in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if os.path.islink(target):
            target.unlink()  # --force replaces a link itself, never writes through it
        target.write_text(text, encoding="utf-8")
        sys.stdout.write(f"wrote {target}\n")
    if facts is not None:
        sys.stdout.write(summary(facts))
    return 0


def _yaml_value(value: Any) -> str:
    from auditor.pyyaml import yaml

    text = yaml.safe_dump(value, default_flow_style=True, width=1000).strip()
    return text[:-4].strip() if text.endswith("\n...") else text.removesuffix("...").strip()


def _comment(text: str) -> str:
    return " ".join(text.split())


def config_text(facts: DocumentFacts | None, folder: Path, source: str | None) -> str:
    """The commented ``.auditor.yaml``: the whole profile, from ``facts`` where it states a value."""
    values = facts.values() if facts else {}
    conflicts = facts.conflicts() if facts else {}
    document = facts.path if facts else ""  # values and conflicts are empty without facts
    out = ["# auditor configuration, written by `auditor init`"
           + (f" --from {_comment(source)}" if source else "") + ".",
           "# This file is policy: what to check and how strictly. `auditor explain ID` shows each",
           "# control's parameters, the value in force here and where it came from.",
           "",
           "# The architecture profile: the architecture's numbers, once. Every control that uses one",
           "# follows it (runtime.uid: DF008, DF009, DC009, KS001, XF001); a rule's own parameter",
           "# under `rules:` still wins.",
           "architecture:"]
    if source:
        inside = _inside(Path(source), folder)
        if inside is not None:
            out.append(f"  document: {_yaml_value(inside)}  # compare the deployment with it (AR rules)")
        else:
            out.append(f"  # document: {_comment(source)}  # outside {folder}: the scan reads a document inside "
                       "the audited tree only; copy it in, or pass --architecture FILE")
    else:
        out.append("  # document: docs/ARCHITECTURE.md  # compare the deployment with it (AR rules)")
    groups: dict[str, list[str]] = {}
    for name in PROFILE:
        group, _, leaf = name.rpartition(".")
        groups.setdefault(group, []).append(name)
    not_found = []
    for group, names in groups.items():
        indent = "  "
        if group:
            out.append(f"  {group}:  # {GROUP_TITLES.get(group, group)}")
            indent = "    "
        for name in names:
            leaf = name.rpartition(".")[2]
            key = PROFILE[name]
            if name in conflicts:
                seen = "; ".join(f"{_yaml_value(s.value)} at {s.cite(document)}" for s in conflicts[name])
                out.append(f"{indent}# {leaf}: the document states different values, none taken: {_comment(seen)}")
                out.append(f"{indent}{leaf}: {_yaml_value(key.default)}  # default, until the document agrees with itself")
            elif name in values:
                statement = values[name]
                out.append(f"{indent}{leaf}: {_yaml_value(statement.value)}  # {_comment(statement.cite(document))}")
            else:
                out.append(f"{indent}{leaf}: {_yaml_value(key.default)}  # {_comment(key.description)}"
                           + (" (default: not in the document)" if facts else ""))
                not_found.append(name)
    if facts:
        promises = facts.promises()
        if promises:
            out += ["", "# The document also promises (the AR rules check these when architecture.document is set):"]
            for promise, statement in sorted(promises.items()):
                what = PROMISES[promise][1] if promise in PROMISES else promise.replace("header.", "the header ")
                out.append(f"#   {what}: {_comment(statement.cite(facts.path))}")
        if not_found:
            out += ["", "# Not found in the document (the default stays): " + ", ".join(not_found)]
    out += ["", "# fail_on: high  # the lowest severity that fails the run", ""]
    return "\n".join(out)


def _inside(path: Path, folder: Path) -> str | None:
    try:
        return Path(os.path.relpath(os.path.realpath(path), os.path.realpath(folder))).as_posix() \
            if os.path.commonpath([os.path.realpath(path), os.path.realpath(folder)]) == os.path.realpath(folder) else None
    except ValueError:
        return None


def summary(facts: DocumentFacts) -> str:
    values, conflicts = facts.values(), facts.conflicts()
    found = [k for k in PROFILE if k in values]
    lines = [f"{facts.path}: {len(found)} of {len(PROFILE)} profile values found, "
             f"{len(facts.promises())} promise(s), {len(conflicts)} conflict(s)"]
    for key, statements in sorted(conflicts.items()):
        lines.append(f"  conflict {key}: " + "; ".join(f"{_yaml_value(s.value)} at line {s.line}" for s in statements))
    lines += [f"  {problem}" for problem in facts.problems]
    return "\n".join(lines) + "\n"
