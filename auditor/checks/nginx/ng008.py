from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.nginx._helpers import once_per_anchor, templated, unknown
from auditor.findings import Fail, Outcome, Pass
from auditor.model.nginx import Location, NginxConfig, parse_rate
from auditor.model.nginx import templated as templated_args

ID = "NG008"


def check(doc: NginxConfig, params: dict) -> Iterator[Outcome]:
    max_rate = parse_rate(params["max_rate"])
    if max_rate is None:  # the config loader validates the pattern; stay safe anyway
        return
    yield from once_per_anchor(_location(doc, location, max_rate, params["max_rate"])
                               for _, location in doc.locations() if location.proxies_to_app)


def _location(doc: NginxConfig, location: Location, max_rate: float, max_text: str) -> Outcome:
    limits = location.effective.limit_reqs
    if not limits:
        unread = location.effective.unknown("limit_req")
        if unread:
            return unknown(location, location.label, "limit_req", unread)
        return Fail(location, f"{location.label} proxies to the app without limit_req; add "
                              f"limit_req zone=<zone> burst=20 nodelay; with a limit_req_zone "
                              f"of rate <= {max_text}")
    for limit in limits:
        zone = limit.zone
        if zone is not None and zone.rate_per_second is not None \
                and zone.rate_per_second <= max_rate:
            return Pass(limit, f"{location.label} is limited by zone {zone.name} at {zone.rate}")
    limit = limits[0]
    if limit.zone is None and doc.http_unread:
        return unknown(limit, location.label, f"limit_req_zone {limit.zone_name}",
                       doc.http_unread)
    if limit.zone is not None and limit.zone.rate_per_second is None and \
            templated_args((limit.zone.rate,), limit.zone.span):
        return templated(limit.zone, location.label, f"the rate of zone {limit.zone.name}")
    if limit.zone is None:
        return Fail(limit, f"limit_req zone={limit.zone_name} names no limit_req_zone; define "
                           f"limit_req_zone $binary_remote_addr zone={limit.zone_name or 'app'}"
                           f":10m rate={max_text}; in http {{}}")
    return Fail(limit.zone, f"limit_req_zone {limit.zone.name} allows {limit.zone.rate or '?'}, "
                            f"more than {max_text}; lower rate= to {max_text} or less",
                related=[limit])
