from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.compose._helpers import label, shown
from auditor.findings import Fail, Outcome, Pass
from auditor.model.compose import ComposeFile, Service
from auditor.params import Params

ID = "DC001"
NODES = "compose.service"


def check(service: Service, compose_file: ComposeFile, params: Params) -> Iterator[Outcome]:
    read_only = service.flag("read_only")
    if read_only:
        yield Pass(service.key_span("read_only"), f"{label(service)} has read_only: true")
    elif "read_only" in service.body:
        yield Fail(service.key_span("read_only"),
                   f"{label(service)} sets read_only: {shown(service.body.get('read_only'))}, so its root "
                   "filesystem is writable; set read_only: true")
    else:
        yield Fail(service, f"{label(service)} has no read_only, so its root filesystem is writable; "
                            "add read_only: true (with tmpfs for the paths it writes)")
