from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.nginx._helpers import templated, unknown
from auditor.findings import Fail, Outcome, Pass
from auditor.model.nginx import Location, NginxConfig
from auditor.params import Params

ID = "NG011"
# a config with content but no location that proxies to the app fails once, for the config
NODES = "document"


def check(doc: NginxConfig, params: Params) -> Iterator[Outcome]:
    proxies = [loc for _, loc in doc.locations() if loc.proxies_to_app]
    if not proxies:
        serving = [s for s in doc.servers if s.serves_content and not s.implicit]
        unread = tuple(d for s in serving for d in s.effective.unknown("listen"))
        if serving and unread:
            yield unknown(serving[0], serving[0].label, "a location that proxies to the app",
                          unread)
        elif serving:
            yield Fail(serving[0], f"{serving[0].label} serves content but no location proxies "
                                   f"to the app; add proxy_pass http://app:{params['app_port']};")
        return
    for location in proxies:
        yield _location(location, params["app_port"], params["forwarded_headers"])


def _location(location: Location, app_port: int, forwarded: list[str]) -> Outcome:
    proxy = location.effective.proxy_pass
    assert proxy is not None  # proxies_to_app says so
    problems = []
    if proxy.templated:
        return templated(proxy, location.label, f"proxy_pass {proxy.url}")
    if proxy.has_variables:
        problems.append(f"proxy_pass {proxy.url} uses a variable, so its port cannot be checked "
                        "(name an upstream instead)")
    elif proxy.ports != {app_port}:
        ports = ", ".join(str(p) for p in sorted(proxy.ports)) or "none"
        problems.append(f"proxy_pass {proxy.url} reaches port {ports}, not {app_port}")
    missing = [name for name in forwarded if not location.effective.has_proxy_header(name)]
    unread = location.effective.unknown("proxy_set_header")
    if missing and unread and not problems:
        return unknown(proxy, location.label, f"proxy_set_header {', '.join(missing)}", unread)
    if missing and not unread:  # with an unread include they are unknown, not missing
        problems.append(f"no proxy_set_header for {', '.join(missing)}")
    if problems:
        return Fail(proxy, f"{location.label}: {'; '.join(problems)}")
    return Pass(proxy, f"{location.label} proxies to port {app_port} forwarding "
                       f"{', '.join(forwarded)}")
