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

ID = "NG006"


def check(doc: NginxConfig, params: dict) -> Iterator[Outcome]:
    # Framing matters for pages: APIs, build assets, health checks and redirects are not framed.
    yield from once_per_anchor(
        outcome for server, location in content_locations(doc, html_only=True)
        if (outcome := _location(server, location)) is not None)


def _location(server: Server, location: Location) -> Outcome | None:
    frame_options = location.effective.header("X-Frame-Options")
    csp = location.effective.header("Content-Security-Policy")
    ancestors = content_security_policy(csp.value).get("frame-ancestors") if csp else None
    if ancestors is not None:
        return header_outcome(server, location, csp, Pass(
            csp, f"Content-Security-Policy frame-ancestors {' '.join(ancestors)}"))
    if frame_options is None:
        if csp is not None and csp.templated:
            return header_outcome(server, location, csp, Pass(csp, ""))
        return missing_header(server, location, "X-Frame-Options", Fail(
            header_anchor(server, location),
            f"{header_subject(server, location)} serves pages without "
            "X-Frame-Options or CSP "
            f"frame-ancestors; add `add_header X-Frame-Options DENY always;` "
            f"{header_home(server, location)}"))
    if frame_options.value.strip().upper() not in ("DENY", "SAMEORIGIN"):
        judged: Outcome = Fail(frame_options, f"X-Frame-Options {frame_options.value} is not "
                                              "DENY or SAMEORIGIN (ALLOW-FROM is ignored by "
                                              "browsers); use DENY")
    else:
        judged = Pass(frame_options, f"X-Frame-Options {frame_options.value}")
    return header_outcome(server, location, frame_options, judged)
