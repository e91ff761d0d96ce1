from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.compose._helpers import label
from auditor.findings import Fail, Outcome, Pass
from auditor.model.compose import ComposeFile, Service
from auditor.model.user import parse_user
from auditor.params import Params

ID = "DC009"
NODES = "compose.service"


def check(service: Service, compose_file: ComposeFile, params: Params) -> Iterator[Outcome]:
    uid = str(params["uid"])
    user = service.user
    if user is None:
        return  # the image's USER applies (DF008/DF009 check it)
    spec, span = parse_user(user), service.key_span("user")
    name = spec.name
    if spec.is_root:
        yield Fail(span, f"{label(service)} runs as user: {user}, which is root; set user: \"{uid}:{uid}\"")
    elif service.is_app and name.isdigit() and name != uid:
        yield Fail(span, f"{label(service)} runs as UID {name}, not the runtime UID {uid}; "
                         f"set user: \"{uid}:{uid}\"")
    elif service.is_app and not name.isdigit():
        yield Pass(span, f"{label(service)} runs as the named user {name} "
                         "(XF001 compares its UID with the Dockerfile)")
    else:
        yield Pass(span, f"{label(service)} runs as user: {user}")
