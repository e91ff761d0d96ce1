from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.nginx._helpers import templated, unknown
from auditor.findings import Fail, Outcome, Pass
from auditor.model.nginx import CipherList, Directive, NginxConfig, Server, Setting
from auditor.params import Params

ID = "NG002"
# A weak ssl_protocols or ssl_ciphers is reported wherever it is written (http, a server that
# does not use TLS yet, a snippet nothing includes): the line is wrong as written. A TLS server
# is then judged on the values in effect.
NODES = ("nginx.directive", "nginx.server")
DIRECTIVES = frozenset({"ssl_protocols", "ssl_ciphers"})


def check(node: Directive | Server, config: NginxConfig, params: Params) -> Iterator[Outcome]:
    if isinstance(node, Server):
        if node.uses_tls and not node.implicit:
            yield from _server(node, params)
    elif node.name == "ssl_protocols":
        yield from _protocols(Setting(node.args, node.span), params)
    elif node.name == "ssl_ciphers":
        yield from _ciphers(node, params)


def _protocols(protocols: Setting, params: Params) -> Iterator[Outcome]:
    allowed = set(params["allowed_protocols"])
    if protocols.templated:
        yield templated(protocols, "ssl_protocols", "the enabled TLS versions")
    elif extra := [p for p in protocols.args if p not in allowed]:
        kept = " ".join(p for p in protocols.args if p in allowed) or " ".join(sorted(allowed))
        yield Fail(protocols, f"ssl_protocols enables {' '.join(extra)}; limit it to {kept}")


def _ciphers(directive: Directive, params: Params) -> Iterator[Outcome]:
    if directive.templated:
        yield templated(directive, "ssl_ciphers", "the cipher list")
        return
    ciphers = CipherList.parse(" ".join(directive.args), directive.span)
    weak = ciphers.weak_enabled(params["weak_ciphers"])
    if weak:
        yield Fail(ciphers, f"ssl_ciphers {ciphers.raw} leaves {', '.join(weak)} enabled; "
                            f"append {_exclusions(weak)} or use Mozilla's intermediate cipher list")


def _server(server: Server, params: Params) -> Iterator[Outcome]:
    allowed = set(params["allowed_protocols"])
    protocols = server.effective.ssl_protocols
    ciphers = server.effective.ssl_ciphers
    unread = server.effective.unknown("ssl_protocols")
    if unread:  # an unread include inside the level that sets it may set its own
        yield unknown(server, server.label, "ssl_protocols", unread)
        return
    if protocols is None:
        yield Fail(server, f"{server.label} serves TLS without ssl_protocols, so nginx's "
                           "default also enables TLSv1 and TLSv1.1; add ssl_protocols "
                           f"{' '.join(params['allowed_protocols'])}")
        return
    if protocols.templated or not set(protocols.args) <= allowed:
        return  # reported where it is written
    if ciphers is None and (unread := server.effective.unknown("ssl_ciphers")):
        yield unknown(server, server.label, "ssl_ciphers", unread)
        return
    if ciphers is not None and (templated_ciphers(ciphers) or
                                ciphers.weak_enabled(params["weak_ciphers"])):
        return
    cipher_text = ciphers.raw if ciphers is not None else "nginx default HIGH:!aNULL:!MD5"
    yield Pass(server, f"{server.label}: ssl_protocols {protocols.value}; ciphers "
                       f"{cipher_text} exclude {', '.join(params['weak_ciphers'])}")


def templated_ciphers(ciphers: CipherList) -> bool:
    return Setting((ciphers.raw,), ciphers.span).templated


def _exclusions(weak: list[str]) -> str:
    names = [n for w in weak for n in (("aNULL", "eNULL") if w.upper() == "NULL" else (w,))]
    return ":".join("!" + name for name in names)
