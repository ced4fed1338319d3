"""Geo-IP lookups against MaxMind's published test databases (and small databases written
here in the DB-IP and ip-location-db layouts)."""

from __future__ import annotations

import ipaddress
import os
import shutil
import struct
from pathlib import Path
from typing import Any

import pytest

from sessionscope.enrich.geo import (
    GeoConfig,
    GeoDatabaseError,
    GeoIP,
    GeoResult,
    location_from_record,
)
from tests.geodata import (
    ANONYMOUS,
    ASN,
    CITY,
    CONNECTION,
    COUNTRY,
    ISP,
    LITE_CITY,
    require_test_databases,
)

require_test_databases()


@pytest.fixture(scope="module")
def geo() -> GeoIP:
    return GeoIP(
        GeoConfig(
            city=str(CITY),
            asn=str(ASN),
            isp=str(ISP),
            connection_type=str(CONNECTION),
            anonymous=str(ANONYMOUS),
        )
    )


# ---- a minimal MaxMind DB writer (format spec: maxmind.github.io/MaxMind-DB) ----------


def _control(type_number: int, size: int) -> bytes:
    extended = type_number > 7
    head = 0 if extended else type_number << 5
    if size < 29:
        prefix, extra = bytes([head | size]), b""
    elif size < 285:
        prefix, extra = bytes([head | 29]), bytes([size - 29])
    else:
        prefix, extra = bytes([head | 30]), (size - 285).to_bytes(2, "big")
    return prefix + (bytes([type_number - 7]) if extended else b"") + extra


class Unsigned(int):
    """An integer stored with an explicit MaxMind type (5 uint16, 6 uint32, 9 uint64)."""

    def __new__(cls, value: int, type_number: int) -> Unsigned:
        number = super().__new__(cls, value)
        number.type_number = type_number
        return number

    type_number: int


def _encode(value: Any) -> bytes:
    if isinstance(value, bool):
        return _control(14, int(value))
    if isinstance(value, str):
        raw = value.encode()
        return _control(2, len(raw)) + raw
    if isinstance(value, float):
        return _control(3, 8) + struct.pack(">d", value)
    if isinstance(value, int):
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
        type_number = value.type_number if isinstance(value, Unsigned) else 6
        return _control(type_number, len(raw)) + raw
    if isinstance(value, dict):
        return _control(7, len(value)) + b"".join(_encode(k) + _encode(v) for k, v in value.items())
    if isinstance(value, list):
        return _control(11, len(value)) + b"".join(_encode(v) for v in value)
    raise TypeError(value)


def write_mmdb(
    path: Path, records: dict[str, dict[str, Any]], database_type: str, ip_version: int = 4
) -> None:
    """Write disjoint networks with their records (32-bit search tree records)."""
    width = 32 if ip_version == 4 else 128
    data = bytearray()
    nodes: list[list[Any]] = [[None, None]]
    for cidr, record in records.items():
        network = ipaddress.ip_network(cidr)
        offset = len(data)
        data += _encode(record)
        bits, node = int(network.network_address), 0
        for depth in range(network.prefixlen):
            bit = (bits >> (width - 1 - depth)) & 1
            if depth == network.prefixlen - 1:
                nodes[node][bit] = ("data", offset)
            else:
                if not isinstance(nodes[node][bit], int):
                    nodes.append([None, None])
                    nodes[node][bit] = len(nodes) - 1
                node = nodes[node][bit]
    count = len(nodes)

    def pointer(child: Any) -> int:
        if child is None:
            return count
        return child if isinstance(child, int) else count + 16 + child[1]

    tree = b"".join(struct.pack(">II", pointer(left), pointer(right)) for left, right in nodes)
    metadata = {
        "node_count": Unsigned(count, 6), "record_size": Unsigned(32, 5),
        "ip_version": Unsigned(ip_version, 5), "database_type": database_type,
        "languages": ["en"], "binary_format_major_version": Unsigned(2, 5),
        "binary_format_minor_version": Unsigned(0, 5),
        "build_epoch": Unsigned(1_750_000_000, 9), "description": {"en": "sessionscope test"},
    }  # fmt: skip
    path.write_bytes(
        tree + bytes(16) + bytes(data) + b"\xab\xcd\xefMaxMind.com" + _encode(metadata)
    )


# ---- MaxMind test databases ----------------------------------------------------------


def test_city_record(geo: GeoIP) -> None:
    location = geo.lookup("81.2.69.142").location
    assert location.continent == "EU"
    assert location.country_code == "GB"
    assert location.state == "England"
    assert location.city == "London"
    assert location.timezone == "Europe/London"
    assert location.latitude == pytest.approx(51.5142)
    assert location.longitude == pytest.approx(-0.0931)
    assert location.accuracy_radius_km == 10


def test_postal_code_and_us_state(geo: GeoIP) -> None:
    location = geo.lookup("216.160.83.56").location
    assert (location.city, location.state, location.zip_code) == ("Milton", "Washington", "98354")
    assert location.country_code == "US"


def test_ipv6_and_mapped_ipv4(geo: GeoIP) -> None:
    assert geo.lookup("2001:218::1").location.country_code == "JP"
    assert geo.lookup("::ffff:81.2.69.142").location.city == "London"


def test_asn_database(geo: GeoIP) -> None:
    for ip in ("1.128.0.0", "1.159.255.255"):
        result = geo.lookup(ip)
        assert result.asn == 1221
        assert result.as_organization == "Telstra Pty Ltd"


def test_isp_database_with_mobile_codes(geo: GeoIP) -> None:
    result = geo.lookup("149.101.100.1")
    assert result.isp == "Verizon Wireless"
    assert result.organization == "Verizon Wireless"
    assert result.asn == 6167
    assert (result.mobile_country_code, result.mobile_network_code) == ("310", "004")


@pytest.mark.parametrize(
    ("ip", "connection_type"),
    [("1.0.0.1", "Cable/DSL"), ("1.0.1.1", "Cellular"), ("201.243.200.1", "Corporate"),
     ("214.78.120.1", "Satellite")],
)  # fmt: skip
def test_connection_types(geo: GeoIP, ip: str, connection_type: str) -> None:
    assert geo.lookup(ip).connection_type == connection_type


def test_anonymous_ip_flags(geo: GeoIP) -> None:
    everything = geo.lookup("81.2.69.1").anonymous
    assert all(getattr(everything, name) for name in everything.__struct_fields__)
    tor = geo.lookup("1.124.213.1").anonymous
    assert (tor.is_anonymous, tor.is_anonymous_vpn, tor.is_tor_exit_node) == (True, True, True)
    assert not tor.is_public_proxy
    residential = geo.lookup("6.1.0.4").anonymous
    assert residential.is_residential_proxy and not residential.is_hosting_provider
    assert not geo.lookup("216.160.83.56").anonymous.is_anonymous


def test_unknown_public_address_is_empty(geo: GeoIP) -> None:
    assert geo.lookup("9.9.9.9") == GeoResult()


@pytest.mark.parametrize(
    "ip", ["10.0.0.1", "127.0.0.1", "192.168.1.1", "172.16.5.4", "100.64.0.1", "169.254.1.1",
           "::1", "fe80::1", "fd00::1", "224.0.0.1", "0.0.0.0"],
)  # fmt: skip
def test_private_and_reserved_addresses_give_an_empty_result(geo: GeoIP, ip: str) -> None:
    assert geo.lookup(ip) == GeoResult()


@pytest.mark.parametrize("bad", ["", "london", "81.2.69", "81.2.69.142/32", "::g"])
def test_invalid_address_raises_value_error(geo: GeoIP, bad: str) -> None:
    with pytest.raises(ValueError):
        geo.lookup(bad)


def test_results_are_fresh_objects(geo: GeoIP) -> None:
    first = geo.lookup("81.2.69.142")
    first.location.city = "Changed"
    first.anonymous.is_anonymous = False
    again = geo.lookup("81.2.69.142")
    assert again.location.city == "London"
    assert again.anonymous.is_anonymous


def test_country_database_in_the_city_setting() -> None:
    geo = GeoIP(GeoConfig(city=str(COUNTRY)))
    location = geo.lookup("2001:218::1").location
    assert (location.continent, location.country_code, location.city) == ("AS", "JP", None)


def test_geolite_city_database() -> None:
    location = GeoIP(GeoConfig(city=str(LITE_CITY))).lookup("2.125.160.216").location
    assert (location.city, location.zip_code, location.country_code) == ("Boxford", "OX1", "GB")


def test_databases_are_described() -> None:
    geo = GeoIP(GeoConfig(city=str(CITY), asn=str(ASN)))
    described = {info.setting: info.database_type for info in geo.databases()}
    assert described == {
        "SESSIONSCOPE_GEOIP_CITY": "GeoIP2-City",
        "SESSIONSCOPE_GEOIP_ASN": "GeoLite2-ASN",
    }
    assert not geo.uses_fallback


# ---- configuration errors -------------------------------------------------------------


def test_missing_file_names_setting_and_path(tmp_path: Path) -> None:
    missing = tmp_path / "GeoLite2-ASN.mmdb"
    with pytest.raises(GeoDatabaseError) as error:
        GeoIP(GeoConfig(asn=str(missing)))
    assert "SESSIONSCOPE_GEOIP_ASN" in str(error.value)
    assert str(missing) in str(error.value)
    assert "\n" not in str(error.value)


def test_corrupt_file_names_setting_and_path(tmp_path: Path) -> None:
    corrupt = tmp_path / "city.mmdb"
    corrupt.write_bytes(b"this is not a database" * 100)
    with pytest.raises(GeoDatabaseError) as error:
        GeoIP(GeoConfig(city=str(corrupt)))
    assert "SESSIONSCOPE_GEOIP_CITY" in str(error.value)
    assert str(corrupt) in str(error.value)


def test_database_of_the_wrong_kind(tmp_path: Path) -> None:
    with pytest.raises(GeoDatabaseError, match="belongs in SESSIONSCOPE_GEOIP_ASN"):
        GeoIP(GeoConfig(city=str(ASN)))


# ---- reload -------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _swap_in(source: Path, target: Path) -> None:
    staged = target.with_suffix(".new")
    shutil.copyfile(source, staged)
    os.replace(staged, target)


def test_database_is_reopened_when_its_file_changes(tmp_path: Path) -> None:
    other = tmp_path / "other.mmdb"
    write_mmdb(other, {"81.2.69.0/24": {"country_code": "FR", "city": "Paris"}}, "ip-location-db")
    live = tmp_path / "city.mmdb"
    shutil.copyfile(CITY, live)
    clock = FakeClock()
    geo = GeoIP(GeoConfig(city=str(live)), check_interval=5, clock=clock)
    assert geo.lookup("81.2.69.142").location.city == "London"

    _swap_in(other, live)
    assert geo.lookup("81.2.69.142").location.city == "London"  # checked at most every 5 s
    clock.now += 6
    assert geo.lookup("81.2.69.142").location.city == "Paris"

    _swap_in(CITY, live)
    assert geo.reload() is True
    assert geo.lookup("81.2.69.142").location.city == "London"
    assert geo.reload() is False


def test_broken_replacement_keeps_the_open_database(tmp_path: Path) -> None:
    live = tmp_path / "city.mmdb"
    shutil.copyfile(CITY, live)
    geo = GeoIP(GeoConfig(city=str(live)), check_interval=0)
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"\x00" * 4096)
    _swap_in(garbage, live)
    assert geo.reload() is False
    assert geo.lookup("81.2.69.142").location.city == "London"
    live.unlink()
    assert geo.lookup("81.2.69.142").location.city == "London"


# ---- other layouts --------------------------------------------------------------------


def test_dbip_lite_layout(tmp_path: Path) -> None:
    path = tmp_path / "dbip-city-lite.mmdb"
    record = {
        "city": {"names": {"en": "Sydney"}},
        "continent": {"code": "OC", "geoname_id": 6255151, "names": {"en": "Oceania"}},
        "country": {"iso_code": "AU", "names": {"en": "Australia"}, "is_in_european_union": False},
        "location": {"latitude": -33.8688, "longitude": 151.209},
        "subdivisions": [{"names": {"en": "New South Wales"}}],
    }
    write_mmdb(path, {"1.0.0.0/24": record}, "DBIP-City-Lite")
    location = GeoIP(GeoConfig(city=str(path))).lookup("1.0.0.1").location
    assert (location.continent, location.country_code, location.state, location.city) == (
        "OC", "AU", "New South Wales", "Sydney"
    )  # fmt: skip
    assert location.latitude == pytest.approx(-33.8688)
    assert location.accuracy_radius_km is None


def test_ip_location_db_layout_split_across_ipv4_and_ipv6_files(tmp_path: Path) -> None:
    v4, v6, asn = tmp_path / "city-ipv4.mmdb", tmp_path / "city-ipv6.mmdb", tmp_path / "asn.mmdb"
    flat = {
        "country_code": "de", "state1": "Berlin", "state2": "", "city": "Berlin",
        "postcode": "10115", "latitude": 52.52, "longitude": 13.405, "timezone": "Europe/Berlin",
    }  # fmt: skip
    write_mmdb(v4, {"5.9.0.0/16": flat}, "geolite2-city-ipv4")
    write_mmdb(v6, {"2a01:4f8::/32": {**flat, "city": "Falkenstein"}}, "geolite2-city-ipv6", 6)
    write_mmdb(asn, {"5.9.0.0/16": {"autonomous_system_number": 24940,
                                    "autonomous_system_organization": "Hetzner Online GmbH"}},
               "asn")  # fmt: skip
    geo = GeoIP(GeoConfig(city=f"{v4}{os.pathsep}{v6}", asn=str(asn)))
    result = geo.lookup("5.9.10.11")
    assert result.location.country_code == "DE"
    assert (result.location.state, result.location.city) == ("Berlin", "Berlin")
    assert (result.location.zip_code, result.location.timezone) == ("10115", "Europe/Berlin")
    assert result.location.latitude == pytest.approx(52.52)
    assert (result.asn, result.as_organization) == (24940, "Hetzner Online GmbH")
    assert geo.lookup("2a01:4f8::1").location.city == "Falkenstein"
    assert geo.lookup("2a02::1") == GeoResult()


def test_flat_record_reader_ignores_empty_and_wrong_types() -> None:
    location = location_from_record({"country_code": "", "city": "Oslo", "latitude": "59.9"})
    assert (location.country_code, location.city, location.latitude) == (None, "Oslo", None)


def test_enterprise_traits_fill_network_fields(tmp_path: Path) -> None:
    path = tmp_path / "enterprise.mmdb"
    record = {
        "country": {"iso_code": "US"},
        "traits": {
            "autonomous_system_number": 7922, "autonomous_system_organization": "COMCAST-7922",
            "isp": "Comcast Cable", "organization": "Comcast Cable", "user_type": "residential",
            "connection_type": "Cable/DSL",
        },
    }  # fmt: skip
    write_mmdb(path, {"24.0.0.0/12": record}, "GeoIP2-Enterprise")
    result = GeoIP(GeoConfig(city=str(path))).lookup("24.1.2.3")
    assert (result.asn, result.isp, result.user_type) == (7922, "Comcast Cable", "residential")
    assert result.connection_type == "Cable/DSL"


# ---- the bundled fallback -------------------------------------------------------------


def test_fallback_without_any_database() -> None:
    geo = GeoIP(GeoConfig())
    assert geo.uses_fallback
    geo.warm()
    result = geo.lookup("8.8.8.8")
    assert result.location.country_code == "US"
    assert result.as_organization is not None and "GOOGLE" in result.as_organization.upper()
    assert result.asn is None  # geoip2fast ships AS names, not numbers
    assert geo.lookup("10.1.1.1") == GeoResult()


def test_fallback_is_off_when_any_database_is_configured() -> None:
    geo = GeoIP(GeoConfig(asn=str(ASN)))
    assert not geo.uses_fallback
    assert geo.lookup("8.8.8.8").location.country_code is None


def test_fallback_can_be_disabled() -> None:
    assert GeoIP(GeoConfig(), fallback_data_file=None).lookup("8.8.8.8") == GeoResult()
