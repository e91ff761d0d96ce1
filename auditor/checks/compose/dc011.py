from __future__ import annotations

import posixpath
from collections.abc import Iterator

from auditor.checks.compose._helpers import label
from auditor.findings import Fail, Outcome, Pass
from auditor.model.compose import ComposeFile, Service
from auditor.params import Params

ID = "DC011"
NODES = "compose.service"
DEFAULT_WORKING_DIR = "/app"  # the reference image's WORKDIR


def check(service: Service, compose_file: ComposeFile, params: Params) -> Iterator[Outcome]:
    if not service.flag("read_only"):
        return
    mounts = service.writable_mounts
    covered, missing = [], []
    for path in _absolute_paths(service, params["writable_paths"]):
        mount = next((m for m in mounts if m.covers(path)), None)
        if mount:
            covered.append(f"{path} ({mount.kind})")
        else:
            read_only = any(m.covers(path) for m in service.volumes if m.read_only)
            missing.append(f"{path} (mounted read-only)" if read_only else path)
    if missing:
        anchor = service.key_span("tmpfs") if "tmpfs" in service.body else service
        yield Fail(anchor, f"{label(service)} is read_only but {', '.join(missing)} "
                           f"{'is' if len(missing) == 1 else 'are'} neither tmpfs nor a writable volume; "
                           f"add {'it' if len(missing) == 1 else 'them'} under tmpfs: or as a writable volume",
                   related=[service.key_span("read_only")])
    else:
        yield Pass(service.key_span("read_only"),
                   f"{label(service)} is read_only with writable {', '.join(covered)}")


def _absolute_paths(service: Service, paths: list[str]) -> list[str]:
    """Relative entries (``.next/cache``) are resolved against the service's ``working_dir``."""
    working_dir = str(service.get("working_dir") or DEFAULT_WORKING_DIR)
    return [posixpath.normpath(posixpath.join(working_dir, path)) for path in paths]
