from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.nginx._helpers import once_per_anchor, value_anchor
from auditor.findings import Fail, Outcome, Pass
from auditor.model.nginx import NginxConfig, Server

ID = "NG012"


def check(doc: NginxConfig, params: dict) -> Iterator[Outcome]:
    yield from once_per_anchor(_server(doc, server) for server in doc.servers)


def _server(doc: NginxConfig, server: Server) -> Outcome:
    tokens = server.effective.server_tokens
    if tokens is None:
        return Fail(value_anchor(doc, server), f"server_tokens is on (nginx default) for "
                                               f"{server.label}, so responses and error pages "
                                               "name the nginx version; add server_tokens off")
    if tokens.value.lower() != "off":
        return Fail(tokens, f"server_tokens {tokens.value} exposes the nginx version; set "
                            "server_tokens off")
    return Pass(tokens, "server_tokens off")
