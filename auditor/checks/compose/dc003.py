from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.compose._helpers import label
from auditor.findings import Fail, Outcome, Pass
from auditor.model.compose import ComposeFile, Service, as_bool, interpolate
from auditor.params import Params

ID = "DC003"
NODES = "compose.service"
OPTION = "no-new-privileges"


def check(service: Service, compose_file: ComposeFile, params: Params) -> Iterator[Outcome]:
    options = service.list_of("security_opt")
    found = False
    for index, option in enumerate(options):
        span = options.item_span(index)
        if isinstance(option, dict) and OPTION in option:
            # `- no-new-privileges: true` (with a space) is a YAML mapping, which Compose rejects
            yield Fail(span, f"{label(service)} writes `{OPTION}: {option[OPTION]}` as a mapping; "
                             f"write the string `{OPTION}:true` (no space after the colon)")
            found = True
            continue
        name, _, value = str(interpolate(option)).strip().replace("=", ":", 1).partition(":")
        if name.strip() != OPTION:
            continue
        found = True
        if value.strip() == "" or as_bool(value) is True:  # Docker reads a bare option as true
            yield Pass(span, f"{label(service)} sets security_opt {option}")
        else:
            yield Fail(span, f"{label(service)} sets security_opt {option}; use {OPTION}:true")
    if not found:
        anchor = service.key_span("security_opt") if "security_opt" in service.body else service
        yield Fail(anchor, f"{label(service)} has no {OPTION}:true in security_opt, so setuid binaries "
                           f"can gain privileges; add security_opt: [\"{OPTION}:true\"]")
