from __future__ import annotations

import re
from collections.abc import Iterator

from auditor.checks.nginx._helpers import (
    content_locations,
    header_anchor,
    header_home,
    header_subject,
    once_per_anchor,
)
from auditor.findings import Fail, Outcome, Pass
from auditor.model.nginx import Location, NginxConfig, Server

ID = "NG004"

_MAX_AGE = re.compile(r"max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


def check(doc: NginxConfig, params: dict) -> Iterator[Outcome]:
    # Browsers ignore HSTS received over plain HTTP (RFC 6797 §8.1), so only TLS servers count.
    yield from once_per_anchor(_location(server, location, params["min_max_age"])
                               for server, location in content_locations(doc, tls_only=True))


def _location(server: Server, location: Location, min_max_age: int) -> Outcome:
    header = location.effective.header("Strict-Transport-Security")
    if header is None:
        return Fail(header_anchor(server, location),
                    f"{header_subject(server, location)} serves content without "
                    "Strict-Transport-Security; add "
                    f'`add_header Strict-Transport-Security "max-age={min_max_age}; '
                    f'includeSubDomains" always;` {header_home(server, location)}')
    match = _MAX_AGE.search(header.value)
    max_age = int(match.group(1)) if match else None
    if max_age is None or max_age < min_max_age:
        return Fail(header, f"Strict-Transport-Security max-age is {max_age} (needs >= "
                            f"{min_max_age}); set max-age={min_max_age} or more")
    if not header.always:
        return Fail(header, "Strict-Transport-Security is added without always, so nginx omits "
                            "it from error responses; append always to the add_header")
    return Pass(header, f"HSTS max-age={max_age} always")
