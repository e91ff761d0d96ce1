from __future__ import annotations

import re
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
from auditor.model.nginx import Header, Location
from auditor.params import Params
from auditor.patterns import on_first_use

ID = "NG004"
NODES = "nginx.location"

_MAX_AGE = on_first_use(r"max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


def check(location: Location, site: Site, params: Params) -> Iterator[Outcome]:
    # Browsers ignore HSTS received over plain HTTP (RFC 6797 §8.1), so only TLS servers count.
    server, min_max_age = site.server, params["min_max_age"]
    if not serves_content(server, location, tls_only=True):
        return
    header = location.effective.header("Strict-Transport-Security")
    if header is None:
        yield from missing_header(server, location, "Strict-Transport-Security", Fail(
            header_anchor(server, location),
            f"{header_subject(server, location)} serves content without "
            "Strict-Transport-Security; add "
            f'`add_header Strict-Transport-Security "max-age={min_max_age}; '
            f'includeSubDomains" always;` {header_home(server, location)}'))
    else:
        yield header_outcome(site.config, server, location, header, lambda h: _judge(h, min_max_age))


def _judge(header: Header, min_max_age: int) -> Outcome:
    match = _MAX_AGE.search(header.value)
    max_age = int(match.group(1)) if match else None
    if max_age is None or max_age < min_max_age:
        return Fail(header, f"Strict-Transport-Security max-age is {max_age} (needs >= "
                            f"{min_max_age}); set max-age={min_max_age} or more")
    if not header.always:
        return Fail(header, "Strict-Transport-Security is added without always, so nginx omits "
                            "it from error responses; append always to the add_header")
    return Pass(header, f"HSTS max-age={max_age} always")
