"""Connection type, ASN and service provider of a session's network."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionscope import model
from sessionscope.enrich.geo import (
    FALLBACK_DATA_FILE,
    AnonymousFlags,
    GeoConfig,
    GeoIP,
    GeoResult,
    _load_fallback,
)
from sessionscope.enrich.iplists import IPLists, ListMatch, ListMatches
from sessionscope.enrich.network import (
    ORGANIZATION_CLASSES,
    USER_TYPES,
    _classify_names,
    classify_network,
    classify_organization,
    connection_type,
)

TEST_DB_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "geoip-test"


def _matches(*names: str) -> ListMatches:
    return ListMatches([ListMatch(name, "203.0.113.0/24") for name in names])


def test_private_relay_list_wins_over_everything() -> None:
    geo = GeoResult(asn=13335, connection_type="Cellular",
                    anonymous=AnonymousFlags(is_hosting_provider=True))  # fmt: skip
    assert connection_type(geo, _matches("datacenter", "private_relay")) == "private_relay"


@pytest.mark.parametrize(
    ("geo", "lists"),
    [
        (GeoResult(anonymous=AnonymousFlags(is_hosting_provider=True)), None),
        (GeoResult(connection_type="Cable/DSL"), _matches("datacenter")),
        (GeoResult(asn=16509, isp="Some Reseller"), None),
        (GeoResult(user_type="hosting"), None),
    ],
)  # fmt: skip
def test_hosting_evidence(geo: GeoResult, lists: ListMatches | None) -> None:
    assert connection_type(geo, lists) == "hosting"


def test_mobile_from_connection_type_or_mobile_network_code() -> None:
    assert (
        connection_type(GeoResult(connection_type="Cellular", user_type="residential"), None)
        == "mobile"
    )
    assert (
        connection_type(GeoResult(mobile_network_code="004", isp="Verizon Wireless"), None)
        == "mobile"
    )


@pytest.mark.parametrize(
    ("user_type", "expected"),
    [("business", "business"), ("cafe", "business"), ("traveler", "business"),
     ("cellular", "mobile"), ("college", "education"), ("school", "education"),
     ("library", "education"), ("content_delivery_network", "hosting"),
     ("consumer_privacy_network", "hosting"), ("search_engine_spider", "hosting"),
     ("government", "government"), ("military", "government"), ("residential", "isp"),
     ("router", "isp")],
)  # fmt: skip
def test_user_types(user_type: str, expected: str) -> None:
    assert USER_TYPES[user_type] == expected
    assert (
        connection_type(GeoResult(user_type=user_type, connection_type="Corporate"), None)
        == expected
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Corporate", "business"), ("Cable/DSL", "isp"), ("Satellite", "isp"), ("Dialup", None)],
)
def test_connection_type_database_values(raw: str, expected: str | None) -> None:
    assert connection_type(GeoResult(connection_type=raw), None) == expected


ORGANIZATIONS = {
    "AMAZON-02": "hosting",
    "Amazon.com, Inc.": "hosting",
    "GOOGLE-CLOUD-PLATFORM": "hosting",
    "Microsoft Corporation": "hosting",
    "DIGITALOCEAN-ASN": "hosting",
    "OVH SAS": "hosting",
    "Hetzner Online GmbH": "hosting",
    "Akamai Connected Cloud": "hosting",
    "Linode, LLC": "hosting",
    "AS-CHOOPA": "hosting",
    "The Constant Company, LLC": "hosting",
    "Oracle Corporation": "hosting",
    "Alibaba (US) Technology Co., Ltd.": "hosting",
    "Tencent Building, Kejizhongyi Avenue": "hosting",
    "Contabo GmbH": "hosting",
    "SCALEWAY S.A.S.": "hosting",
    "LeaseWeb Netherlands B.V.": "hosting",
    "Example Hosting Ltd": "hosting",
    "Google Fiber Inc.": "isp",
    "University of Cambridge": "education",
    "Massachusetts Institute of Technology": "education",
    "Jisc Services Limited (JANET)": "education",
    "cs.stanford.edu": "education",
    "Ministry of Defence": "government",
    "City of Seattle": "government",
    "DoD Network Information Center": "government",
    "T-Mobile USA, Inc.": "mobile",
    "Cellco Partnership DBA Verizon Wireless": "mobile",
    "Comcast Cable Communications, LLC": "isp",
    "Deutsche Telekom AG": "isp",
    "Real Estate of Somewhere LLC": None,
    "Andrews & Arnold Ltd": None,
}


@pytest.mark.parametrize(("name", "expected"), ORGANIZATIONS.items())
def test_organization_keywords(name: str, expected: str | None) -> None:
    assert classify_organization(name) == expected


def test_nothing_known_is_none() -> None:
    assert connection_type(GeoResult(), None) is None
    assert connection_type(GeoResult(), ListMatches()) is None
    assert connection_type(GeoResult(), _matches("tor_exit", "vpn")) is None


def test_network_block_fields() -> None:
    geo = GeoResult(asn=7922, as_organization="COMCAST-7922", isp="Comcast Cable")
    assert classify_network("24.1.2.3", geo, None) == model.Network(
        ip_address="24.1.2.3", asn=7922, service_provider="Comcast Cable", connection_type="isp"
    )
    as_only = classify_network(
        "24.1.2.3", GeoResult(asn=7922, as_organization="COMCAST-7922"), None
    )
    assert as_only.service_provider == "COMCAST-7922"
    assert classify_network("10.0.0.1", GeoResult(), None) == model.Network(ip_address="10.0.0.1")


def test_with_maxmind_test_databases_and_lists() -> None:
    geo = GeoIP(
        GeoConfig(
            isp=str(TEST_DB_DIR / "GeoIP2-ISP-Test.mmdb"),
            connection_type=str(TEST_DB_DIR / "GeoIP2-Connection-Type-Test.mmdb"),
            anonymous=str(TEST_DB_DIR / "GeoIP2-Anonymous-IP-Test.mmdb"),
        )
    )
    lists = IPLists()
    lists.set("private_relay", ["172.224.224.0/27"])

    def network(ip: str) -> model.Network:
        return classify_network(ip, geo.lookup(ip), lists.match(ip))

    verizon = network("149.101.100.1")
    assert (verizon.asn, verizon.service_provider, verizon.connection_type) == (
        6167,
        "Verizon Wireless",
        "mobile",
    )
    assert network("81.2.69.1").connection_type == "hosting"  # Anonymous-IP hosting flag
    assert network("216.160.83.56").connection_type == "business"  # Connection-Type Corporate
    assert network("172.224.224.5").connection_type == "private_relay"


def _case_insensitive_class(names: tuple[str, ...]) -> str | None:
    """The first class whose case-insensitive pattern one of the names matches."""
    for kind, pattern in ORGANIZATION_CLASSES:
        if any(pattern.search(name) for name in names):
            return kind
    return None


def test_no_organization_pattern_spells_a_letter_in_upper_case() -> None:
    for _, pattern in ORGANIZATION_CLASSES:
        assert pattern.flags & re.IGNORECASE
        letters = re.sub(r"\\.", "", pattern.pattern)  # escapes such as \b are no letters
        assert letters == letters.lower(), pattern.pattern


@given(
    st.lists(
        st.one_of(
            st.text(alphabet="AaBbCcDdEeGgHhIiKkLlMmNnOoRrSsTtUuVvWw .&-\u00c8\u00e8\u212a"),
            st.sampled_from(
                ["AMAZON-02", "Google Fiber Inc", "MINISTÈRE de la Défense", "Telekom AG", "x"]
            ),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_lowered_ascii_names_are_classed_as_case_insensitive_matching_does(
    names: list[str],
) -> None:
    present = tuple(names)
    assert _classify_names.__wrapped__(present) == _case_insensitive_class(present)


def test_every_fallback_as_name_is_classed_as_case_insensitive_matching_does() -> None:
    reader = _load_fallback(FALLBACK_DATA_FILE)
    addresses = [f"{first}.{second}.0.1" for first in range(1, 224) for second in range(0, 256, 8)]
    names = {reader.lookup(address).asn_name for address in addresses}
    for name in names - {""}:
        assert _classify_names.__wrapped__((name,)) == _case_insensitive_class((name,)), name
