from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.nginx._helpers import file_line, unknown
from auditor.findings import Fail, Outcome, Pass
from auditor.model.nginx import Effective, Header, NginxConfig, Server
from auditor.params import Params

ID = "NG013"
NODES = "nginx.server"


def check(server: Server, config: NginxConfig, params: Params) -> Iterator[Outcome]:
    security = {name.lower() for name in params["security_headers"]}
    # Every level that can own a header list: the server, each location and each `if` inside
    # a location that adds headers (when its condition holds, its list is the one sent).
    levels = [(server, server.label, server.effective, None)] + [
        (location, location.label, location.effective, location.parent)
        for location in server.locations]
    checked = False
    for node, label, effective, parent in levels:
        own_unread = tuple(d for d in getattr(node, "directives", ()) if d.unread and (
            d.may_set is None or "add_header" in d.may_set))
        lost = [h for h in effective.lost_headers if h.key in security]
        if lost and own_unread:
            checked = True
            yield unknown(node, label, f"the add_header lines that repeat {_names(lost)}",
                          own_unread)
        elif lost:
            checked = True
            yield Fail(node, f"{label} declares its own add_header, so nginx drops the "
                             f"inherited {_names(lost)}; repeat them there (or include a shared "
                             "headers snippet in every block that adds headers)",
                       related=[h.span for h in lost])
        elif _declares(node) and _kept(effective, security):
            checked = True
            yield Pass(node, f"{label} adds its own headers and repeats "
                             f"{', '.join(h.name for h in _kept(effective, security))}")
        elif own_unread and parent is not None and _kept(effective, security):
            checked = True
            yield unknown(node, label, "an add_header that drops the inherited "
                          f"{', '.join(h.name for h in _kept(effective, security))}", own_unread)
    inherited = _kept(server.effective, security)
    if not checked and inherited:
        yield Pass(server, f"no location of {server.label} overrides add_header; all inherit "
                           f"{', '.join(h.name for h in inherited)}")


def _names(lost: list[Header]) -> str:
    return ", ".join(f"{h.name} (set at {file_line(h.span)})" for h in lost)


def _declares(node: object) -> bool:
    return any(d.name == "add_header" for d in getattr(node, "directives", ()))


def _kept(effective: Effective, security: set[str]) -> list[Header]:
    return [h for h in effective.headers if h.key in security and h.value]
