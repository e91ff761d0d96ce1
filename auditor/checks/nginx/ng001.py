from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.nginx._helpers import unknown
from auditor.findings import Fail, Outcome, Pass, Unknown
from auditor.model.nginx import NginxConfig, Server
from auditor.params import Params

ID = "NG001"
# whether any server of the config listens on 443 with ssl: the whole config decides
NODES = "document"


def check(doc: NginxConfig, params: Params) -> Iterator[Outcome]:
    # A stand-alone location fragment has no server of its own to carry TLS settings.
    servers = [server for server in doc.servers if not server.implicit]
    if not servers:
        return
    https = [s for s in servers if s.uses_tls and (443 in s.ports or _templated_port(s))]
    for server in servers:
        for listen in server.listens:
            if listen.port == 443 and not server.uses_tls:
                yield Fail(listen, f"{server.label} listens on 443 without ssl, so port 443 "
                                   "speaks plain HTTP; write listen 443 ssl")
    for server in https:
        yield _certificates(server)
    if https or any(listen.port == 443 for s in servers for listen in s.listens) or doc.tls_elsewhere:
        return  # a TLS server elsewhere in the tree is checked in its own config
    templated = [s for s in servers if _templated_port(s)]
    if templated:
        yield Unknown(templated[0], f"{templated[0].label} listens on a port set by a template "
                                    "variable; whether a server listens on 443 with ssl is only "
                                    "known when the template is rendered")
        return
    unread = doc.http_unread + tuple(d for s in servers for d in s.effective.unknown("listen"))
    if unread:
        yield unknown(servers[0], "no server in the tree listens on 443 with ssl", "a server or "
                      "listen 443 ssl", unread)
        return
    yield Fail(servers[0], "no server listens on 443 with ssl; add a server with "
                           "listen 443 ssl, ssl_certificate and ssl_certificate_key")


def _templated_port(server: Server) -> bool:
    return any(listen.port is None and not (listen.address or "").startswith("unix:")
               for listen in server.listens)


def _certificates(server: Server) -> Outcome:
    effective = server.effective
    certificate, key = effective.ssl_certificate, effective.ssl_certificate_key
    if certificate is None or key is None:
        missing = [name for name, setting in (("ssl_certificate", certificate),
                                              ("ssl_certificate_key", key)) if setting is None]
        unread = effective.unknown(*missing)
        if unread:
            return unknown(server, server.label, " and ".join(missing), unread)
        return Fail(server, f"{server.label} listens on 443 ssl without "
                            f"{' and '.join(missing)}; add them to the server (or http) block")
    return Pass(server, f"{server.label} listens on 443 ssl with ssl_certificate "
                        f"{certificate.value} and ssl_certificate_key {key.value}")
