"""Sessions to judge, enriched for real: MaxMind's test databases and small IP lists.

Addresses used (see ../shared/data/geoip-test/*.json):
  2.125.160.216  Boxford, GB (clean)          89.160.20.112  Linköping, SE (clean)
  214.0.1.5      Melbourne, AU (clean)        216.160.83.56  Milton, US (clean)
  1.2.0.1        anonymous VPN                65.0.0.1       Tor exit (database)
  71.160.223.1   hosting provider             186.30.236.1   public proxy
  6.1.0.4        residential proxy            1.0.0.1        AS15169 (Google), hosting ASN
  185.220.101.4  Tor exit (list tor_exit)     89.160.20.130  Linköping, SE, list datacenter
  198.51.100.7-9, 203.0.113.0/24, 172.224.224.0/27  other list entries
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import msgspec

from sessionscope.enrich.geo import GeoConfig, GeoIP
from sessionscope.enrich.iplists import IPLists
from sessionscope.enrich.service import Enricher
from sessionscope.ingest import new_session
from sessionscope.judge.case import Case
from sessionscope.judge.history import History
from sessionscope.judge.policy import Policy
from sessionscope.model import Session, SessionCreate, Site
from tests.geodata import ANONYMOUS, ASN, CITY, CONNECTION, ISP, require_test_databases

MAC_CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/137.0.0.0 Safari/537.36"
)
WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/137.0.0.0 Safari/537.36"
)
WINDOWS_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:139.0) Gecko/20100101 Firefox/139.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
HEADLESS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/137.0.0.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
CHROME_HINTS = {
    "sec-ch-ua": '"Chromium";v="137", "Google Chrome";v="137", "Not/A)Brand";v="24"',
    "sec-ch-ua-mobile": "?0",
    "sec-ch-ua-platform": '"macOS"',
}
CREATED_MS = 1_780_000_000_000  # 2026-05-28T20:26:40Z, British Summer Time
SITE = Site(
    tenant="t", slug="web", uuid="0", is_default=True, created_at="2026-01-01T00:00:00.000Z"
)
LIST_DATE = "2026-11-20T08:00:00Z"


@lru_cache(maxsize=1)
def enricher() -> Enricher:
    require_test_databases()
    geo = GeoIP(
        GeoConfig(
            city=str(CITY),
            asn=str(ASN),
            isp=str(ISP),
            connection_type=str(CONNECTION),
            anonymous=str(ANONYMOUS),
        )
    )
    lists = IPLists()
    for name, cidrs in {
        "tor_exit": ["185.220.101.4"],
        "datacenter": ["203.0.113.0/24", "89.160.20.128/25"],
        "vpn": ["198.51.100.7"],
        "proxy": ["198.51.100.8"],
        "fraud": ["198.51.100.9"],
        "private_relay": ["172.224.224.0/27"],
    }.items():
        lists.set(name, cidrs, source="test fixture", updated_at=LIST_DATE)
    return Enricher(geo, lists)


def session_for(
    ip: str = "2.125.160.216",
    user_agent: str = MAC_CHROME,
    created_ms: int = CREATED_MS,
    **fields: Any,
) -> Session:
    payload = msgspec.convert({"ip": ip, "user_agent": user_agent, **fields}, SessionCreate)
    session = new_session(payload, SITE, 30, created_ms)
    device_id = fields.get("metadata", {}).get("device_id")
    if device_id:
        session.device_id = device_id
    return session


def case_for(
    ip: str = "2.125.160.216",
    user_agent: str = MAC_CHROME,
    history: History | None = None,
    policy: Policy | None = None,
    created_ms: int = CREATED_MS,
    **fields: Any,
) -> Case:
    """A session as the pipeline would judge it: built, enriched, with an explicit past."""
    session = session_for(ip, user_agent, created_ms, **fields)
    evidence = enricher().examine(session)
    enricher().apply(session, evidence)
    return Case(session, evidence, history or History(), policy or Policy())
