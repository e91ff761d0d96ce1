from __future__ import annotations

from collections.abc import Iterator

from auditor.findings import Fail, Outcome, Pass
from auditor.model.nginx import NginxConfig

ID = "NG001"


def check(doc: NginxConfig, params: dict) -> Iterator[Outcome]:
    # A stand-alone location fragment has no server of its own to carry TLS settings.
    servers = [server for server in doc.servers if not server.implicit]
    if not servers:
        return
    https = [s for s in servers if s.uses_tls and 443 in s.ports]
    for server in servers:
        for listen in server.listens:
            if listen.port == 443 and not server.uses_tls:
                yield Fail(listen, f"{server.label} listens on 443 without ssl, so port 443 "
                                   "speaks plain HTTP; write listen 443 ssl")
    for server in https:
        effective = server.effective
        missing = [name for name, setting in (("ssl_certificate", effective.ssl_certificate),
                                              ("ssl_certificate_key",
                                               effective.ssl_certificate_key)) if setting is None]
        if missing:
            yield Fail(server, f"{server.label} listens on 443 ssl without "
                               f"{' and '.join(missing)}; add them to the server (or http) block")
        else:
            yield Pass(server, f"{server.label} listens on 443 ssl with ssl_certificate "
                               f"{effective.ssl_certificate.value} and ssl_certificate_key "
                               f"{effective.ssl_certificate_key.value}")
    if not https and not any(l.port == 443 for s in servers for l in s.listens):
        yield Fail(servers[0], "no server listens on 443 with ssl; add a server with "
                               "listen 443 ssl, ssl_certificate and ssl_certificate_key")
