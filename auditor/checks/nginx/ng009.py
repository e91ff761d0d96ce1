from __future__ import annotations

from auditor.checks.nginx._helpers import templated, unknown, value_anchor
from auditor.findings import Fail, Outcome, Pass
from auditor.model.nginx import NginxConfig, Server
from auditor.params import Params

ID = "NG009"
NODES = "nginx.server"

# MIME types that name the same thing; nginx matches gzip_types literally.
_ALIASES = {
    "application/javascript": {"application/javascript", "text/javascript",
                               "application/x-javascript"},
}


def check(server: Server, config: NginxConfig, params: Params) -> Outcome | None:
    return _compression(config, server, params["types"]) if server.serves_content else None


def _compression(config: NginxConfig, server: Server, required: list[str]) -> Outcome | None:
    gzip, types = server.effective.gzip, server.effective.gzip_types
    for setting in (gzip, types):
        if setting is not None and setting.templated:
            return templated(setting, server.label, "gzip")
    if gzip is None:
        if server.snippet:
            return None
        if unread := server.effective.unknown("gzip"):
            return unknown(value_anchor(config, server), server.label, "gzip", unread)
        return Fail(value_anchor(config, server), f"gzip is off (nginx default) for {server.label}; "
                                               f"add gzip on; and gzip_types {' '.join(required)}")
    if not gzip.is_on:
        return Fail(gzip, f"gzip {gzip.value} for {server.label}; set gzip on")
    listed = set(types.args) if types is not None else {"text/html"}
    missing = [t for t in required if "*" not in listed and not _ALIASES.get(t, {t}) & listed]
    if missing and types is None and (unread := server.effective.unknown("gzip_types")):
        return unknown(gzip, server.label, "gzip_types", unread)
    if missing:
        return Fail(types or gzip, f"gzip_types does not cover {', '.join(missing)} (only "
                                   f"text/html is compressed by default); add them to gzip_types")
    return Pass(types or gzip, f"gzip on with gzip_types {types.value if types else '*'}")
