from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.nginx._helpers import (
    content_locations,
    header_anchor,
    header_home,
    header_outcome,
    header_subject,
    missing_header,
    once_per_anchor,
)
from auditor.findings import Fail, Outcome, Pass
from auditor.model.nginx import Location, NginxConfig, Server, content_security_policy

ID = "NG005"

_UNSAFE = ("'unsafe-inline'", "'unsafe-eval'")


def check(doc: NginxConfig, params: dict) -> Iterator[Outcome]:
    yield from once_per_anchor(
        outcome for server, location in content_locations(doc, html_only=True)
        if (outcome := _location(doc, server, location)) is not None)


def _location(doc: NginxConfig, server: Server, location: Location) -> Outcome | None:
    header = location.effective.header("Content-Security-Policy")
    if header is None:
        report_only = location.effective.header("Content-Security-Policy-Report-Only")
        hint = " (Content-Security-Policy-Report-Only only reports)" if report_only else ""
        return missing_header(server, location, "Content-Security-Policy", Fail(
            header_anchor(server, location),
            f"{header_subject(server, location)} serves pages without "
            f"Content-Security-Policy{hint}; add "
            "`add_header Content-Security-Policy \"default-src 'self'\" always;` "
            f"{header_home(server, location)}"))
    return header_outcome(doc, server, location, header, _judge)


def _judge(header) -> Outcome:
    policy = content_security_policy(header.value)
    # script-src falls back to default-src when absent (CSP3 §6.1.1).
    directive = "script-src" if "script-src" in policy else "default-src"
    sources = {source.lower() for source in policy.get(directive, ())}
    unsafe = [keyword for keyword in _UNSAFE if keyword in sources]
    if unsafe:
        return Fail(header, f"Content-Security-Policy {directive} allows {' and '.join(unsafe)}; "
                            "use nonces or hashes instead", severity="medium")
    return Pass(header, f"Content-Security-Policy {header.value}")
