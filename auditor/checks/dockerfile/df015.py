from __future__ import annotations

from collections.abc import Iterator

from auditor.findings import Fail, Outcome, Pass
from auditor.model.dockerfile import Dockerfile, parse_assignments
from auditor.params import Params, fnmatcher
from auditor.patterns import on_first_use
from auditor.secrets import known_format

ID = "DF015"
NODES = "document"
_REFERENCE = on_first_use(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")
_DEFAULT = on_first_use(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}")


def literal_part(value: str | None) -> str:
    """What is left of a value once ``$VAR``/``${VAR}`` references are taken out; a
    ``${VAR:-default}`` keeps its default, which is baked into the image."""
    if not value:
        return ""
    if "$" not in value:
        return value.strip()
    with_defaults = _DEFAULT.sub(r"\1", value)
    return _REFERENCE.sub("", with_defaults).strip()


def check(doc: Dockerfile, params: Params) -> Iterator[Outcome]:
    secret_pattern = fnmatcher([p.upper() for p in params["name_patterns"]])
    checked = failed = 0
    for instruction in doc.instructions:
        if instruction.keyword not in ("ENV", "ARG"):
            continue
        for name, value in parse_assignments(instruction.arguments):
            checked += 1
            literal = literal_part(value)
            kind = known_format(value or "")
            declared = f"{instruction.keyword} {name}"
            secret_name = bool(literal) and secret_pattern(name.upper())
            failed += bool(kind) or secret_name
            if kind:
                yield Fail(instruction, f"{declared} holds what looks like {kind} (value masked); it stays in "
                                        "the image history: remove it and pass it at run time or as a "
                                        "BuildKit secret (RUN --mount=type=secret)")
            elif secret_name:
                yield Fail(instruction, f"{declared} has a literal value ({len(literal)} characters, masked) "
                                        "baked into the image; remove the value and supply it at run time "
                                        "or with RUN --mount=type=secret")
    if checked and not failed:
        yield Pass(doc, f"{checked} ENV/ARG value(s) checked; none looks like a secret")
