from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.nginx._helpers import once_per_anchor, templated, unknown, value_anchor
from auditor.findings import Fail, Outcome, Pass
from auditor.model.nginx import NginxConfig, Server

ID = "NG009"

# MIME types that name the same thing; nginx matches gzip_types literally.
_ALIASES = {
    "application/javascript": {"application/javascript", "text/javascript",
                               "application/x-javascript"},
}


def check(doc: NginxConfig, params: dict) -> Iterator[Outcome]:
    servers = [s for s in doc.servers if s.serves_content]
    yield from once_per_anchor(outcome for server in servers
                               if (outcome := _server(doc, server, params["types"])) is not None)


def _server(doc: NginxConfig, server: Server, required: list[str]) -> Outcome | None:
    gzip, types = server.effective.gzip, server.effective.gzip_types
    for setting in (gzip, types):
        if setting is not None and setting.templated:
            return templated(setting, server.label, "gzip")
    if gzip is None:
        if server.snippet:
            return None
        if unread := server.effective.unknown("gzip"):
            return unknown(value_anchor(doc, server), server.label, "gzip", unread)
        return Fail(value_anchor(doc, server), f"gzip is off (nginx default) for {server.label}; "
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
