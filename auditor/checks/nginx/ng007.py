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
from auditor.findings import Fail, Outcome, Pass, Unknown
from auditor.model.nginx import Header, Location
from auditor.params import Params

ID = "NG007"
NODES = "nginx.location"


def check(location: Location, site: Site, params: Params) -> Iterator[Outcome]:
    config, server = site
    if not serves_content(server, location):
        return
    nosniff = location.effective.header("X-Content-Type-Options")
    referrer = location.effective.header("Referrer-Policy")
    judged = [header_outcome(config, server, location, header, judge)
              for header, judge in ((nosniff, _nosniff), (referrer, _referrer))
              if header is not None]
    failed = next((o for o in judged if isinstance(o, Fail)), None)
    missing = [name for name, header in (("X-Content-Type-Options nosniff", nosniff),
                                         ("Referrer-Policy", referrer)) if header is None]
    if failed is not None:
        yield failed
    elif missing:
        yield from missing_header(server, location, " and ".join(missing), Fail(
            header_anchor(server, location),
            f"{header_subject(server, location)} serves content without "
            f"{' and '.join(missing)}; add them "
            f"{header_home(server, location)} (e.g. Referrer-Policy "
            "strict-origin-when-cross-origin)"))
    else:
        unknown = next((o for o in judged if isinstance(o, Unknown)), None)
        yield unknown if unknown is not None else \
            Pass(nosniff, "; ".join(o.evidence for o in judged if isinstance(o, Pass)))


def _nosniff(header: Header) -> Outcome:
    if header.value.strip().lower() != "nosniff":
        return Fail(header, f"X-Content-Type-Options is {header.value}; the only valid value "
                            "is nosniff")
    return Pass(header, "X-Content-Type-Options nosniff")


def _referrer(header: Header) -> Outcome:
    if header.value.strip().lower() == "unsafe-url":
        return Fail(header, "Referrer-Policy unsafe-url leaks full URLs to every site; use "
                            "strict-origin-when-cross-origin")
    return Pass(header, f"Referrer-Policy {header.value}")
