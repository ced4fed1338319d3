"""The session's network block: ASN, service provider and connection type.

`classify_network` decides the connection type from the strongest evidence available,
in this order:

1. the `private_relay` IP list                                   -> private_relay
2. the Anonymous-IP db's hosting flag, the `datacenter` list,
   or an ASN of HOSTING_ASNS                                      -> hosting
3. Connection-Type "Cellular", or an ISP-db mobile network code   -> mobile
4. the ISP/Enterprise db's user_type (USER_TYPES)                  -> its class
5. Connection-Type "Corporate" / "Cable/DSL" / "Satellite"         -> business / isp
6. keywords in the ISP, organization or AS name (ORGANIZATION_CLASSES)
7. nothing known                                                   -> None
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Final

from sessionscope import model
from sessionscope.enrich.geo import GeoResult
from sessionscope.enrich.iplists import ListMatches
from sessionscope.model import ConnectionType

ORGANIZATION_CACHE_SIZE: Final = 8192

# Autonomous systems that only (or overwhelmingly) serve cloud, hosting and CDN traffic.
HOSTING_ASNS: Final[Mapping[int, str]] = {
    16509: "Amazon AWS", 14618: "Amazon AWS", 8987: "Amazon AWS",
    396982: "Google Cloud", 15169: "Google", 19527: "Google",
    8075: "Microsoft", 8068: "Microsoft",
    14061: "DigitalOcean", 62567: "DigitalOcean", 393406: "DigitalOcean",
    16276: "OVH", 24940: "Hetzner", 213230: "Hetzner",
    63949: "Akamai Connected Cloud (Linode)", 20940: "Akamai", 16625: "Akamai",
    20473: "Vultr (Choopa)", 31898: "Oracle Cloud", 45102: "Alibaba Cloud",
    37963: "Alibaba Cloud", 132203: "Tencent Cloud", 45090: "Tencent Cloud",
    51167: "Contabo", 12876: "Scaleway", 60781: "Leaseweb", 28753: "Leaseweb",
    16265: "Leaseweb", 13335: "Cloudflare", 54113: "Fastly", 9009: "M247",
    36351: "IBM Cloud (SoftLayer)", 19994: "Rackspace", 47583: "Hostinger",
    8560: "IONOS", 26496: "GoDaddy", 36352: "ColoCrossing", 8100: "QuadraNet",
    202053: "UpCloud", 53667: "FranTech (BuyVM)", 60068: "Datacamp (CDN77)",
    7979: "Servers.com", 49505: "Selectel", 199524: "G-Core Labs",
}  # fmt: skip

# MaxMind user_type -> our connection type (the nearest class of our smaller vocabulary).
USER_TYPES: Final[Mapping[str, ConnectionType]] = {
    "business": "business",
    "cafe": "business",
    "traveler": "business",
    "cellular": "mobile",
    "college": "education",
    "school": "education",
    "library": "education",
    "content_delivery_network": "hosting",
    "consumer_privacy_network": "hosting",
    "hosting": "hosting",
    "search_engine_spider": "hosting",
    "government": "government",
    "military": "government",
    "residential": "isp",
    "router": "isp",
}

# MaxMind Connection-Type values that settle the class on their own.
CONNECTION_TYPES: Final[Mapping[str, ConnectionType]] = {
    "Cellular": "mobile",
    "Corporate": "business",
    "Cable/DSL": "isp",
    "Satellite": "isp",
}


def _words(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(patterns), re.IGNORECASE)


# Keywords in an organization name, tried in this order; the first class that matches wins.
ORGANIZATION_CLASSES: Final[tuple[tuple[ConnectionType, re.Pattern[str]], ...]] = (
    ("isp", _words(r"google fiber")),  # before "google" below
    (
        "hosting",
        _words(
            r"\bamazon", r"\baws\b", r"google", r"microsoft", r"\bazure\b", r"digitalocean",
            r"\bovh", r"hetzner", r"linode", r"akamai", r"vultr", r"choopa",
            r"constant company", r"\boracle", r"alibaba", r"aliyun", r"tencent", r"contabo",
            r"scaleway", r"online s\.?a\.?s", r"leaseweb", r"cloudflare", r"fastly",
            r"\bm247\b", r"softlayer", r"ibm cloud", r"rackspace", r"hostinger", r"\bionos\b",
            r"godaddy", r"colocrossing", r"quadranet", r"upcloud", r"frantech", r"datacamp",
            r"servers\.com", r"selectel", r"g-core", r"\bgcore", r"zenlayer", r"kamatera",
            r"hostwinds", r"psychz", r"hivelocity", r"equinix", r"netcup", r"hosting",
            r"data ?cent(?:er|re)", r"colocation", r"\bvps\b", r"dedicated server",
            r"\bservers?\b",
        ),
    ),
    (
        "education",
        _words(
            r"universit", r"univ\.", r"college", r"\.edu\b", r"\bschool", r"academy",
            r"institute of technology", r"universidad", r"universidade", r"hochschule",
            r"research and education", r"education network", r"\bjanet\b", r"internet2",
            r"renater", r"surfnet", r"aarnet", r"rediris", r"\bgarr\b", r"forschungsnetz",
        ),
    ),
    (
        "government",
        _words(
            r"government", r"ministry", r"ministerio", r"minist[eè]re", r"\.gov\b",
            r"department of", r"dod network", r"\bfederal\b", r"\bcity of\b", r"\bcounty of\b",
            r"\bstate of\b", r"\bpolice\b", r"\barmy\b", r"\bnavy\b", r"air force", r"military",
            r"defen[cs]e", r"parliament", r"bundes",
        ),
    ),
    ("mobile", _words(r"\bmobile\b", r"cellular", r"cellco")),
    (
        "isp",
        _words(
            r"telecom", r"telekom", r"broadband", r"\bcable\b", r"\bfib(?:er|re)\b", r"\bdsl\b",
            r"communications", r"internet service", r"telefonica", r"telstra", r"comcast",
            r"charter comm", r"verizon", r"at&t", r"vodafone", r"\borange\b", r"virgin media",
        ),
    ),
)  # fmt: skip


# The same patterns, case-sensitive, for ASCII names lowered first (nearly every name is
# ASCII): they find what the case-insensitive ones find in about half the time, as no
# pattern spells a letter in upper case.
_LOWERED_CLASSES: Final = tuple(
    (connection_type, re.compile(pattern.pattern))
    for connection_type, pattern in ORGANIZATION_CLASSES
)


def _from_lists_and_flags(geo: GeoResult, lists: ListMatches | None) -> ConnectionType | None:
    if lists is not None and "private_relay" in lists:
        return "private_relay"
    if geo.anonymous.is_hosting_provider or (lists is not None and "datacenter" in lists):
        return "hosting"
    if geo.asn is not None and geo.asn in HOSTING_ASNS:
        return "hosting"
    if geo.connection_type == "Cellular" or geo.mobile_network_code is not None:
        return "mobile"
    return None


def _from_database_types(geo: GeoResult) -> ConnectionType | None:
    if geo.user_type is not None and geo.user_type in USER_TYPES:
        return USER_TYPES[geo.user_type]
    if geo.connection_type is not None:
        return CONNECTION_TYPES.get(geo.connection_type)
    return None


def classify_organization(*names: str | None) -> ConnectionType | None:
    """The class the names of an ISP, organization or AS suggest (ORGANIZATION_CLASSES)."""
    return _classify_names(tuple(name for name in names if name))


# The keyword search is the dearest step of a warm enrichment; the same few thousand
# provider names come back all day.
@lru_cache(maxsize=ORGANIZATION_CACHE_SIZE)
def _classify_names(present: tuple[str, ...]) -> ConnectionType | None:
    classes, names = ORGANIZATION_CLASSES, present
    if all(name.isascii() for name in present):
        classes, names = _LOWERED_CLASSES, tuple(name.lower() for name in present)
    for connection_type, pattern in classes:
        if any(pattern.search(name) for name in names):
            return connection_type
    return None


def connection_type(geo: GeoResult, lists: ListMatches | None) -> ConnectionType | None:
    return (
        _from_lists_and_flags(geo, lists)
        or _from_database_types(geo)
        or classify_organization(geo.isp, geo.organization, geo.as_organization)
    )


def classify_network(ip: str, geo: GeoResult, lists: ListMatches | None) -> model.Network:
    """The network block of a session from its geo lookup and IP-list matches."""
    return model.Network(
        ip_address=ip,
        asn=geo.asn,
        service_provider=geo.isp or geo.as_organization,
        connection_type=connection_type(geo, lists),
    )
