"""Where the visitor really is: `location.true_country_code`.

Without an anonymizing network it is the IP's country. Behind one (Tor, a VPN, a proxy, a
hosting network) the IP's country is the exit's, so the origin is inferred: first from
the public IP the browser reported for itself (when that IP is not anonymous too), then
from the country of the browser's time zone. A private relay keeps the visitor's country
by design, so its IP country stands.
"""

from __future__ import annotations

from sessionscope.judge.case import Case
from sessionscope.judge.zones import zone_country

_KEEPS_COUNTRY = "a private relay"


def true_country(case: Case) -> str | None:
    anonymizer = case.anonymizer
    if anonymizer is None or anonymizer == _KEEPS_COUNTRY:
        return case.ip_country
    own = case.public_ip_geo
    if own is not None and own.location.country_code and not own.anonymous.is_anonymous:
        return own.location.country_code
    return zone_country(case.session.signals.timezone) or case.ip_country
