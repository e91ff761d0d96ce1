from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.nginx._helpers import (
    header_anchor,
    header_home,
    header_outcome,
    header_subject,
    missing_header,
    serves_content,
)
from auditor.dispatch import Site
from auditor.findings import Fail, Outcome, Pass
from auditor.model.nginx import Header, Location, content_security_policy
from auditor.params import Params

ID = "NG005"
NODES = "nginx.location"

_UNSAFE = ("'unsafe-inline'", "'unsafe-eval'")


def check(location: Location, site: Site, params: Params) -> Iterator[Outcome]:
    server = site.server
    if not serves_content(server, location, html_only=True):
        return
    header = location.effective.header("Content-Security-Policy")
    if header is None:
        report_only = location.effective.header("Content-Security-Policy-Report-Only")
        hint = " (Content-Security-Policy-Report-Only only reports)" if report_only else ""
        yield from missing_header(server, location, "Content-Security-Policy", Fail(
            header_anchor(server, location),
            f"{header_subject(server, location)} serves pages without "
            f"Content-Security-Policy{hint}; add "
            "`add_header Content-Security-Policy \"default-src 'self'\" always;` "
            f"{header_home(server, location)}"))
    else:
        yield header_outcome(site.config, server, location, header, _judge)


def _judge(header: Header) -> Outcome:
    policy = content_security_policy(header.value)
    # script-src falls back to default-src when absent (CSP3 §6.1.1).
    directive = "script-src" if "script-src" in policy else "default-src"
    sources = {source.lower() for source in policy.get(directive, ())}
    unsafe = [keyword for keyword in _UNSAFE if keyword in sources]
    if unsafe:
        return Fail(header, f"Content-Security-Policy {directive} allows {' and '.join(unsafe)}; "
                            "use nonces or hashes instead", severity="medium")
    return Pass(header, f"Content-Security-Policy {header.value}")
