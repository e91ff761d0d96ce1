from __future__ import annotations

import re
from collections.abc import Iterator

from auditor.checks.nginx._helpers import once_per_anchor, unknown
from auditor.findings import Fail, Outcome, Pass
from auditor.model.nginx import Location, NginxConfig, expires_seconds

ID = "NG010"

_MAX_AGE = re.compile(r"max-age\s*=\s*(\d+)", re.IGNORECASE)


def check(doc: NginxConfig, params: dict) -> Iterator[Outcome]:
    minimum = params["min_seconds"]
    for server in doc.servers:
        # Only the server that fronts the app serves its build assets.
        if not any(loc.proxies_to_app for loc in server.effective_locations):
            continue
        static = [loc for loc in server.locations if loc.serves_static_assets]
        if not static and (unread := server.effective.unknown("listen")):
            yield unknown(server, server.label, "a location for /_next/static", unread)
        elif not static:
            yield Fail(server, f"{server.label} has no location for /_next/static; add location "
                               "/_next/static { expires 1y; add_header Cache-Control \"public, "
                               "max-age=31536000, immutable\"; ... }")
        yield from once_per_anchor(_location(loc, minimum) for loc in static)


def _location(location: Location, minimum: int) -> Outcome:
    effective = location.effective
    cache_control = effective.header("Cache-Control")
    if cache_control is not None:
        match = _MAX_AGE.search(cache_control.value)
        if "immutable" in cache_control.value.lower() or (match and int(match.group(1)) >= minimum):
            return Pass(cache_control, f"{location.label}: Cache-Control {cache_control.value}")
    seconds = expires_seconds(effective.expires.args) if effective.expires else None
    if seconds is not None and seconds >= minimum:
        return Pass(effective.expires, f"{location.label}: expires {effective.expires.value}")
    if effective.expires is None and (unread := effective.unknown("expires", "add_header")):
        return unknown(location, location.label, "expires or Cache-Control", unread)
    seen = f"expires {effective.expires.value}" if effective.expires else "no expires"
    return Fail(effective.expires or location,
                f"{location.label} caches static assets too briefly ({seen}); use expires 1y or "
                "add_header Cache-Control \"public, max-age=31536000, immutable\"")
