from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.nginx._helpers import (
    content_locations,
    header_anchor,
    header_home,
    header_subject,
    once_per_anchor,
)
from auditor.findings import Fail, Outcome, Pass
from auditor.model.nginx import Location, NginxConfig, Server, content_security_policy

ID = "NG006"


def check(doc: NginxConfig, params: dict) -> Iterator[Outcome]:
    yield from once_per_anchor(_location(server, location)
                               for server, location in content_locations(doc))


def _location(server: Server, location: Location) -> Outcome:
    frame_options = location.effective.header("X-Frame-Options")
    csp = location.effective.header("Content-Security-Policy")
    ancestors = content_security_policy(csp.value).get("frame-ancestors") if csp else None
    if ancestors is not None:
        return Pass(csp, f"Content-Security-Policy frame-ancestors {' '.join(ancestors)}")
    if frame_options is None:
        return Fail(header_anchor(server, location),
                    f"{header_subject(server, location)} serves content without "
                    "X-Frame-Options or CSP "
                    f"frame-ancestors; add `add_header X-Frame-Options DENY always;` "
                    f"{header_home(server, location)}")
    if frame_options.value.strip().upper() not in ("DENY", "SAMEORIGIN"):
        return Fail(frame_options, f"X-Frame-Options {frame_options.value} is not DENY or "
                                   "SAMEORIGIN (ALLOW-FROM is ignored by browsers); use DENY")
    return Pass(frame_options, f"X-Frame-Options {frame_options.value}")
