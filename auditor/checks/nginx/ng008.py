from __future__ import annotations

from auditor.checks.nginx._helpers import templated, unknown
from auditor.dispatch import Site
from auditor.findings import Fail, Outcome, Pass
from auditor.model.nginx import Location
from auditor.model.nginx import templated as templated_args
from auditor.params import Params, Rate

ID = "NG008"
NODES = "nginx.location"


def check(location: Location, site: Site, params: Params) -> Outcome | None:
    return _limited(location, site, params["max_rate"]) if location.proxies_to_app else None


def _limited(location: Location, site: Site, max_rate: Rate) -> Outcome:
    limits = location.effective.limit_reqs
    if not limits:
        unread = location.effective.unknown("limit_req")
        if unread:
            return unknown(location, location.label, "limit_req", unread)
        return Fail(location, f"{location.label} proxies to the app without limit_req; add "
                              f"limit_req zone=<zone> burst=20 nodelay; with a limit_req_zone "
                              f"of rate <= {max_rate}")
    for limit in limits:
        zone = limit.zone
        if zone is not None and zone.rate_per_second is not None \
                and zone.rate_per_second <= max_rate.per_second:
            return Pass(limit, f"{location.label} is limited by zone {zone.name} at {zone.rate}")
    limit = limits[0]
    if limit.zone is None and site.config.http_unread:
        return unknown(limit, location.label, f"limit_req_zone {limit.zone_name}",
                       site.config.http_unread)
    if limit.zone is not None and limit.zone.rate_per_second is None and \
            templated_args((limit.zone.rate,), limit.zone.span):
        return templated(limit.zone, location.label, f"the rate of zone {limit.zone.name}")
    if limit.zone is None:
        return Fail(limit, f"limit_req zone={limit.zone_name} names no limit_req_zone; define "
                           f"limit_req_zone $binary_remote_addr zone={limit.zone_name or 'app'}"
                           f":10m rate={max_rate}; in http {{}}")
    return Fail(limit.zone, f"limit_req_zone {limit.zone.name} allows {limit.zone.rate or '?'}, "
                            f"more than {max_rate}; lower rate= to {max_rate} or less",
                related=[limit])
