from __future__ import annotations

import posixpath
from collections.abc import Iterator

from auditor.checks.compose._helpers import label, shown
from auditor.findings import Fail, Outcome, Pass
from auditor.model.compose import ComposeFile, Service
from auditor.params import Params

ID = "DC004"
NODES = "compose.service"
HOST_NAMESPACES = {"network_mode": "network stack", "pid": "process namespace", "ipc": "IPC namespace"}
# The container runtime's API socket is root on the host; so is any folder that holds it.
RUNTIME_SOCKETS = ("docker.sock", "containerd.sock", "podman.sock", "crio.sock")
SOCKET_FOLDERS = frozenset({"/", "/run", "/var/run", "/var/run/docker", "/run/containerd"})


def check(service: Service, compose_file: ComposeFile, params: Params) -> Iterator[Outcome]:
    failures = list(_failures(service))
    yield from failures
    if not failures:
        yield Pass(service, f"{label(service)} is not privileged, shares no host namespace and "
                            "mounts no runtime socket")


def _failures(service: Service) -> Iterator[Fail]:
    if service.flag("privileged"):
        yield Fail(service.key_span("privileged"),
                   f"{label(service)} sets privileged: {shown(service.body['privileged'])}, which gives it every "
                   "capability and all host devices; remove it")
    for key, namespace in HOST_NAMESPACES.items():
        if str(service.get(key) or "").strip().lower() == "host":
            yield Fail(service.key_span(key), f"{label(service)} sets {key}: host, sharing the host's {namespace}; "
                                              "remove it")
    for mount in service.volumes:
        source = posixpath.normpath(mount.source) if mount.source and mount.kind == "bind" else None
        if source and (source.endswith(RUNTIME_SOCKETS) or source in SOCKET_FOLDERS):
            yield Fail(mount.span, f"{label(service)} mounts {mount.source} at {mount.target}, which hands it "
                                   "the container runtime's API (root on the host); remove the mount")
