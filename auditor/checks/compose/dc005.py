from __future__ import annotations

from collections.abc import Iterator
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import Any

from auditor.checks.compose._helpers import label
from auditor.findings import Fail, Outcome, Pass
from auditor.model.compose import ComposeFile, Service, format_bytes
from auditor.model.span import Span
from auditor.params import Params

ID = "DC005"
NODES = "compose.service"


def check(service: Service, compose_file: ComposeFile, params: Params) -> Iterator[Outcome]:
    max_cpus, max_memory = float(params["max_cpus"]), params["max_memory"]  # CPUs, bytes
    limits = service.resource_limits
    failures = [
        *_limit_failures(service, "CPU", limits.cpus_raw, limits.cpus, limits.cpus_span or limits.span,
                         limits.span, max_cpus, f"{max_cpus:g}", "cpus"),
        *_limit_failures(service, "memory", limits.memory_raw, limits.memory, limits.memory_span or limits.span,
                         limits.span, max_memory, format_bytes(max_memory), "memory")]
    yield from failures
    if not failures:
        yield Pass(limits.cpus_span or service, f"{label(service)} is limited to {limits.cpus:g} CPUs and "
                                                f"{format_bytes(limits.memory or 0)} of memory")


def _limit_failures(service: Service, kind: str, raw: Any, value: float | None, value_span: Span,
                    limits_span: Span, ceiling: float, ceiling_text: str, key: str) -> Iterator[Fail]:
    advice = f"set deploy.resources.limits.{key} (at most {ceiling_text})"
    if raw is None:
        yield Fail(limits_span, f"{label(service)} has no {kind} limit; {advice}")
    elif value is None:
        expected = "number" if key == "cpus" else "size"
        yield Fail(value_span, f"{label(service)} {kind} limit {raw!r} is not a {expected}; {advice}")
    elif value == 0:
        yield Fail(value_span, f"{label(service)} {kind} limit is 0, which Docker reads as unlimited; {advice}")
    elif value > ceiling:
        yield Fail(value_span, f"{label(service)} {kind} limit {raw} is more than {ceiling_text}; "
                               f"lower it to at most {ceiling_text}")
