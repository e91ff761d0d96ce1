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
    templated,
)
from auditor.findings import Fail, Outcome, Pass
from auditor.model.nginx import Location, NginxConfig, Server

ID = "NG007"


def check(doc: NginxConfig, params: dict) -> Iterator[Outcome]:
    yield from once_per_anchor(
        outcome for server, location in content_locations(doc)
        if (outcome := _location(server, location)) is not None)


def _location(server: Server, location: Location) -> Outcome | None:
    nosniff = location.effective.header("X-Content-Type-Options")
    referrer = location.effective.header("Referrer-Policy")
    for header in (nosniff, referrer):
        if header is not None and header.templated:
            return templated(header, header_subject(server, location), header.name)
    if nosniff is not None and nosniff.value.strip().lower() != "nosniff":
        return Fail(nosniff, f"X-Content-Type-Options is {nosniff.value}; the only valid value "
                             "is nosniff")
    if referrer is not None and referrer.value.strip().lower() == "unsafe-url":
        return Fail(referrer, "Referrer-Policy unsafe-url leaks full URLs to every site; use "
                              "strict-origin-when-cross-origin")
    missing = [name for name, header in (("X-Content-Type-Options nosniff", nosniff),
                                         ("Referrer-Policy", referrer)) if header is None]
    if missing:
        return missing_header(server, location, " and ".join(missing), Fail(
            header_anchor(server, location),
            f"{header_subject(server, location)} serves content without "
            f"{' and '.join(missing)}; add them "
            f"{header_home(server, location)} (e.g. Referrer-Policy "
            "strict-origin-when-cross-origin)"))
    return header_outcome(server, location, referrer, header_outcome(
        server, location, nosniff,
        Pass(nosniff, f"X-Content-Type-Options nosniff and Referrer-Policy {referrer.value}")))
