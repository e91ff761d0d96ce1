from __future__ import annotations

import re

from auditor.checks.nginx._helpers import unknown
from auditor.dispatch import Site
from auditor.findings import Fail, Outcome, Pass
from auditor.model.nginx import Location, NginxConfig, Server, expires_seconds
from auditor.params import Params

ID = "NG010"
NODES = ("nginx.server", "nginx.location")

_MAX_AGE = re.compile(r"max-age\s*=\s*(\d+)", re.IGNORECASE)


def check(node: Server | Location, context: NginxConfig | Site, params: Params) -> Outcome | None:
    if isinstance(node, Server):
        return _static_location(node) if _fronts_app(node) else None
    assert isinstance(context, Site)
    # a location written in the server block (not one of its nested or implicit ones)
    written = any(node is location for location in context.server.locations)
    if node.serves_static_assets and written and _fronts_app(context.server):
        return _location(node, params["min_seconds"])
    return None


def _fronts_app(server: Server) -> bool:
    """Only the server that fronts the app serves its build assets."""
    return any(location.proxies_to_app for location in server.effective_locations)


def _static_location(server: Server) -> Outcome | None:
    if any(location.serves_static_assets for location in server.locations):
        return None
    if unread := server.effective.unknown("listen"):
        return unknown(server, server.label, "a location for /_next/static", unread)
    return Fail(server, f"{server.label} has no location for /_next/static; add location "
                        "/_next/static { expires 1y; add_header Cache-Control \"public, "
                        "max-age=31536000, immutable\"; ... }")


def _location(location: Location, minimum: int) -> Outcome:
    effective = location.effective
    cache_control = effective.header("Cache-Control")
    if cache_control is not None:
        match = _MAX_AGE.search(cache_control.value)
        if "immutable" in cache_control.value.lower() or (match and int(match.group(1)) >= minimum):
            return Pass(cache_control, f"{location.label}: Cache-Control {cache_control.value}")
    expires = effective.expires
    seconds = expires_seconds(expires.args) if expires else None
    if expires is not None and seconds is not None and seconds >= minimum:
        return Pass(expires, f"{location.label}: expires {expires.value}")
    if expires is None and (unread := effective.unknown("expires", "add_header")):
        return unknown(location, location.label, "expires or Cache-Control", unread)
    seen = f"expires {expires.value}" if expires else "no expires"
    return Fail(expires or location,
                f"{location.label} caches static assets too briefly ({seen}); use expires 1y or "
                "add_header Cache-Control \"public, max-age=31536000, immutable\"")
