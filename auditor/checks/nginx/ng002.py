from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.nginx._helpers import once_per_anchor
from auditor.findings import Fail, Outcome, Pass
from auditor.model.nginx import NginxConfig, Server

ID = "NG002"


def check(doc: NginxConfig, params: dict) -> Iterator[Outcome]:
    servers = [s for s in doc.servers if s.uses_tls and not s.implicit]
    for server in servers:
        yield from once_per_anchor(_server(server, params))


def _server(server: Server, params: dict) -> Iterator[Outcome]:
    allowed = set(params["allowed_protocols"])
    protocols = server.effective.ssl_protocols
    ciphers = server.effective.ssl_ciphers
    if protocols is None:
        yield Fail(server, f"{server.label} serves TLS without ssl_protocols, so nginx's default "
                           "also enables TLSv1 and TLSv1.1; add ssl_protocols "
                           f"{' '.join(params['allowed_protocols'])}")
    elif extra := [p for p in protocols.args if p not in allowed]:
        kept = " ".join(p for p in protocols.args if p in allowed) or " ".join(sorted(allowed))
        yield Fail(protocols, f"ssl_protocols enables {' '.join(extra)}; limit it to {kept}")
    weak = ciphers.weak_enabled(params["weak_ciphers"]) if ciphers is not None else []
    if weak:
        yield Fail(ciphers, f"ssl_ciphers {ciphers.raw} leaves {', '.join(weak)} enabled; "
                            f"append {_exclusions(weak)} or use Mozilla's intermediate cipher list")
    if protocols is not None and not weak and set(protocols.args) <= allowed:
        cipher_text = ciphers.raw if ciphers is not None else "nginx default HIGH:!aNULL:!MD5"
        yield Pass(server, f"{server.label}: ssl_protocols {protocols.value}; ciphers "
                           f"{cipher_text} exclude {', '.join(params['weak_ciphers'])}")


def _exclusions(weak: list[str]) -> str:
    names = [n for w in weak for n in (("aNULL", "eNULL") if w.upper() == "NULL" else (w,))]
    return ":".join("!" + name for name in names)
