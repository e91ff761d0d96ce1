from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.compose._helpers import label
from auditor.findings import Fail, Outcome, Pass
from auditor.model.compose import ComposeFile, Service, normalize_capability
from auditor.params import Params

ID = "DC002"
NODES = "compose.service"


def check(service: Service, compose_file: ComposeFile, params: Params) -> Iterator[Outcome]:
    key = "proxy_allowed_cap_add" if service.is_proxy else "allowed_cap_add"
    allowed = {normalize_capability(name) for name in params[key]}
    failures = [*_drop_failures(service), *_add_failures(service, allowed)]
    yield from failures
    if not failures:
        added = ", ".join(name for name, _ in service.cap_add) or "nothing"
        yield Pass(service.key_span("cap_drop"), f"{label(service)} drops ALL capabilities and adds {added}")


def _drop_failures(service: Service) -> Iterator[Fail]:
    dropped = [name for name, _ in service.cap_drop]
    if "ALL" in dropped:
        return
    if "cap_drop" in service.body:
        yield Fail(service.key_span("cap_drop"),
                   f"{label(service)} drops {', '.join(dropped) or 'nothing'} but not ALL; "
                   "write cap_drop: [ALL] and add back only what is allowed")
    else:
        yield Fail(service, f"{label(service)} has no cap_drop, so it keeps Docker's default capabilities "
                            "(CHOWN, SETUID, NET_RAW ...); add cap_drop: [ALL]")


def _add_failures(service: Service, allowed: set[str]) -> Iterator[Fail]:
    permitted = ", ".join(sorted(allowed)) or "none"
    for name, span in service.cap_add:
        if name not in allowed:
            yield Fail(span, f"{label(service)} adds capability {name}, which is not allowed (allowed: "
                             f"{permitted}); remove it from cap_add")
