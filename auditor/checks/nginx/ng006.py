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

ID = "NG006"
NODES = "nginx.location"


def check(location: Location, site: Site, params: Params) -> Iterator[Outcome]:
    # Framing matters for pages: APIs, build assets, health checks and redirects are not framed.
    config, server = site
    if not serves_content(server, location, html_only=True):
        return
    frame_options = location.effective.header("X-Frame-Options")
    csp = location.effective.header("Content-Security-Policy")
    if csp is not None:
        values = None if csp.templated else config.header_values(csp)
        if values and all("frame-ancestors" in content_security_policy(v.value) for v in values):
            yield header_outcome(config, server, location, csp, _ancestors)
            return
        if frame_options is None and values is None:  # templated or an undefined variable
            yield header_outcome(config, server, location, csp, _ancestors)
            return
    if frame_options is None:
        yield from missing_header(server, location, "X-Frame-Options", Fail(
            header_anchor(server, location),
            f"{header_subject(server, location)} serves pages without "
            "X-Frame-Options or CSP "
            f"frame-ancestors; add `add_header X-Frame-Options DENY always;` "
            f"{header_home(server, location)}"))
    else:
        yield header_outcome(config, server, location, frame_options, _frame_options)


def _ancestors(csp: Header) -> Outcome:
    ancestors = content_security_policy(csp.value).get("frame-ancestors", ())
    return Pass(csp, f"Content-Security-Policy frame-ancestors {' '.join(ancestors)}")


def _frame_options(header: Header) -> Outcome:
    if header.value.strip().upper() not in ("DENY", "SAMEORIGIN"):
        return Fail(header, f"X-Frame-Options {header.value} is not DENY or SAMEORIGIN "
                            "(ALLOW-FROM is ignored by browsers); use DENY")
    return Pass(header, f"X-Frame-Options {header.value}")
