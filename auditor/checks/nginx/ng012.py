from __future__ import annotations

from auditor.checks.nginx._helpers import templated, unknown, value_anchor
from auditor.findings import Fail, Outcome, Pass
from auditor.model.nginx import NginxConfig, Server
from auditor.params import Params

ID = "NG012"
NODES = "nginx.server"


def check(server: Server, config: NginxConfig, params: Params) -> Outcome | None:
    tokens = server.effective.server_tokens
    if tokens is not None and tokens.templated:
        return templated(tokens, server.label, "server_tokens")
    if tokens is None:
        if server.snippet:
            return None
        if unread := server.effective.unknown("server_tokens"):
            return unknown(value_anchor(config, server), server.label, "server_tokens", unread)
        return Fail(value_anchor(config, server), f"server_tokens is on (nginx default) for "
                                               f"{server.label}, so responses and error pages "
                                               "name the nginx version; add server_tokens off")
    if tokens.value.lower() != "off":
        return Fail(tokens, f"server_tokens {tokens.value} exposes the nginx version; set "
                            "server_tokens off")
    return Pass(tokens, "server_tokens off")
