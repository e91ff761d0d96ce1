from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.compose._helpers import label, secret_literal_reason
from auditor.findings import Fail, Outcome, Pass
from auditor.model.compose import ComposeFile, Service
from auditor.params import Params

ID = "DC010"
NODES = "compose.service"


def check(service: Service, compose_file: ComposeFile, params: Params) -> Iterator[Outcome]:
    variables = service.environment
    failed = False
    for variable in variables:
        reason = secret_literal_reason(variable.name, variable.value) if variable.value is not None else None
        if reason:  # never echo the value: the finding would leak the secret into reports
            failed = True
            yield Fail(variable.span, f"{label(service)} sets {variable.name} in environment: and {reason}; "
                                      f"pass it with ${{{variable.name}}}, env_file: or secrets:")
    if variables and not failed:
        yield Pass(service.key_span("environment"),
                   f"{label(service)} environment: holds no secret literal ({len(variables)} variables)")
