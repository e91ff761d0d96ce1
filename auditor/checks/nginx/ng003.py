from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.nginx._helpers import unknown
from auditor.findings import Fail, Outcome, Pass
from auditor.model.nginx import Directive, Listen, NginxConfig, Return, Server
from auditor.params import Params

ID = "NG003"
NODES = "nginx.server"

_ACME = ".well-known/acme-challenge"


def check(server: Server, config: NginxConfig, params: Params) -> Iterator[Outcome]:
    plain_80 = [listen for listen in server.effective_listens if listen.port == 80 and not listen.ssl]
    if plain_80 and not server.implicit:
        yield from _port_80(server, plain_80[0])


def _port_80(server: Server, listen: Listen) -> Iterator[Outcome]:
    redirect = server.effective.return_ or _scheme_if_redirect(server.directives)
    if redirect is not None:
        yield _judge(server, redirect)
        return
    serving = [loc for loc in server.effective_locations
               if loc.serves_content and _ACME not in loc.uri]
    # A serving location may still answer with a redirect from an include that was not read.
    known = [loc for loc in serving if not loc.effective.unknown("return")]
    if serving and not known:
        unread = tuple(d for loc in serving for d in loc.effective.unknown("return"))
        yield unknown(server, f"{server.label} on port 80", "a return 301 https://", unread)
        return
    serving = known
    if serving:
        anchor = server if listen.implicit else listen
        names = ", ".join(loc.label for loc in serving)
        yield Fail(anchor, f"{server.label} answers plain HTTP on port 80 with content "
                           f"({names}); give port 80 its own server that only does "
                           "return 301 https://$host$request_uri")
        return
    returns = [loc.effective.return_ for loc in server.effective_locations
               if loc.effective.return_ is not None and loc.effective.return_.is_redirect]
    for location_return in dict.fromkeys(returns):
        yield _judge(server, location_return)
    if not returns:
        yield Pass(server, f"{server.label} on port 80 serves nothing (every location refuses)")


def _judge(server: Server, redirect: Return) -> Outcome:
    if not redirect.redirects_to_https:
        if not redirect.is_redirect:
            return Pass(redirect, f"{server.label} on port 80 answers {redirect.code} and "
                                  "serves nothing")
        return Fail(redirect, f"port 80 redirects to {redirect.target or 'nowhere'}, not to "
                              "https://; use return 301 https://$host$request_uri")
    if not redirect.is_permanent:
        return Fail(redirect, f"port 80 redirects with a temporary {redirect.code}; use "
                              "return 301 https://$host$request_uri so clients remember it")
    return Pass(redirect, f"{server.label} on port 80 only redirects: "
                          f"{redirect.code} {redirect.target}")


def _scheme_if_redirect(directives: tuple[Directive, ...]) -> Return | None:
    """``if ($scheme = http) { return 301 https://...; }`` in a server shared by 80 and 443."""
    for directive in directives:
        if directive.name == "if" and any("$scheme" in arg for arg in directive.args):
            for child in directive.block or ():
                if child.name == "return":
                    return Return.parse(child.args, child.span)
    return None
