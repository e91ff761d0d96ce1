from __future__ import annotations

import re
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
from auditor.model.nginx import Location, NginxConfig, Server

ID = "NG004"

_MAX_AGE = re.compile(r"max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


def check(doc: NginxConfig, params: dict) -> Iterator[Outcome]:
    # Browsers ignore HSTS received over plain HTTP (RFC 6797 §8.1), so only TLS servers count.
    yield from once_per_anchor(
        outcome for server, location in content_locations(doc, tls_only=True)
        if (outcome := _location(doc, server, location, params["min_max_age"])) is not None)


def _location(doc: NginxConfig, server: Server, location: Location,
              min_max_age: int) -> Outcome | None:
    header = location.effective.header("Strict-Transport-Security")
    if header is None:
        return missing_header(server, location, "Strict-Transport-Security", Fail(
                    header_anchor(server, location),
                    f"{header_subject(server, location)} serves content without "
                    "Strict-Transport-Security; add "
                    f'`add_header Strict-Transport-Security "max-age={min_max_age}; '
                    f'includeSubDomains" always;` {header_home(server, location)}'))
    return header_outcome(doc, server, location, header, lambda h: _judge(h, min_max_age))


def _judge(header, min_max_age: int) -> Outcome:
    match = _MAX_AGE.search(header.value)
    max_age = int(match.group(1)) if match else None
    if max_age is None or max_age < min_max_age:
        return Fail(header, f"Strict-Transport-Security max-age is {max_age} (needs >= "
                            f"{min_max_age}); set max-age={min_max_age} or more")
    if not header.always:
        return Fail(header, "Strict-Transport-Security is added without always, so nginx omits "
                            "it from error responses; append always to the add_header")
    return Pass(header, f"HSTS max-age={max_age} always")
