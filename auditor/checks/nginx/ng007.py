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
from auditor.findings import Fail, Outcome, Pass, Unknown
from auditor.model.nginx import Header, Location, NginxConfig, Server

ID = "NG007"


def check(doc: NginxConfig, params: dict) -> Iterator[Outcome]:
    yield from once_per_anchor(
        outcome for server, location in content_locations(doc)
        if (outcome := _location(doc, server, location)) is not None)


def _location(doc: NginxConfig, server: Server, location: Location) -> Outcome | None:
    nosniff = location.effective.header("X-Content-Type-Options")
    referrer = location.effective.header("Referrer-Policy")
    judged = [header_outcome(doc, server, location, header, judge)
              for header, judge in ((nosniff, _nosniff), (referrer, _referrer))
              if header is not None]
    failed = next((o for o in judged if isinstance(o, Fail)), None)
    if failed is not None:
        return failed
    missing = [name for name, header in (("X-Content-Type-Options nosniff", nosniff),
                                         ("Referrer-Policy", referrer)) if header is None]
    if missing:
        return missing_header(server, location, " and ".join(missing), Fail(
            header_anchor(server, location),
            f"{header_subject(server, location)} serves content without "
            f"{' and '.join(missing)}; add them "
            f"{header_home(server, location)} (e.g. Referrer-Policy "
            "strict-origin-when-cross-origin)"))
    unknown = next((o for o in judged if isinstance(o, Unknown)), None)
    if unknown is not None:
        return unknown
    return Pass(nosniff, "; ".join(o.evidence for o in judged if isinstance(o, Pass)))


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
