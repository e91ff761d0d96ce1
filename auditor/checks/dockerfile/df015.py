from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator

from auditor.findings import Fail, Outcome, Pass
from auditor.model.dockerfile import Dockerfile, parse_assignments

ID = "DF015"
# Formats that are secrets whatever the variable is called (the prefixes are public knowledge).
KNOWN_FORMATS = (
    ("an AWS access key ID", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a GitHub token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})")),
    ("a Slack token", re.compile(r"\bxox[baprs]-[A-Za-z0-9-]{10,}")),
    ("a Stripe secret key", re.compile(r"\b[sr]k_live_[A-Za-z0-9]{16,}")),
    ("an npm token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("a private key", re.compile(r"-----BEGIN ([A-Z]+ )?PRIVATE KEY-----")),
    ("a JSON Web Token", re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")),
)
_REFERENCE = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")


def literal_part(value: str | None) -> str:
    """What is left of a value once ``$VAR``/``${VAR}`` references are taken out; a
    ``${VAR:-default}`` keeps its default, which is baked into the image."""
    if not value:
        return ""
    with_defaults = re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}", r"\1", value)
    return _REFERENCE.sub("", with_defaults).strip()


def check(doc: Dockerfile, params: dict) -> Iterator[Outcome]:
    patterns = [p.upper() for p in params["name_patterns"]]
    checked = failed = 0
    for instruction in doc.instructions:
        if instruction.keyword not in ("ENV", "ARG"):
            continue
        for name, value in parse_assignments(instruction.arguments):
            checked += 1
            literal = literal_part(value)
            kind = next((label for label, regex in KNOWN_FORMATS if regex.search(value or "")), None)
            where = f"{instruction.keyword} {name}"
            failed += bool(kind) or bool(literal and any(fnmatch.fnmatchcase(name.upper(), p) for p in patterns))
            if kind:
                yield Fail(instruction, f"{where} holds what looks like {kind} (value masked); it stays in "
                                        "the image history: remove it and pass it at run time or as a "
                                        "BuildKit secret (RUN --mount=type=secret)")
            elif literal and any(fnmatch.fnmatchcase(name.upper(), p) for p in patterns):
                yield Fail(instruction, f"{where} has a literal value ({len(literal)} characters, masked) "
                                        "baked into the image; remove the value and supply it at run time "
                                        "or with RUN --mount=type=secret")
    if checked and not failed:
        yield Pass(doc, f"{checked} ENV/ARG value(s) checked; none looks like a secret")
