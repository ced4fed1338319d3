"""The shortcuts for IP text (no `ipaddress` parse) answer as the standard library does."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionscope.enrich.iplists import is_dotted_ipv4
from sessionscope.ingest import IngestError, normalise_ip
from sessionscope.ipprefix import ip_prefix

OCTETS = ["0", "00", "01", "1", "9", "10", "99", "100", "199", "249", "250", "255", "256", "999"]
# Text near IPv4 addresses: digits, dots, and what must spoil one.
NEAR_ADDRESSES = st.text(alphabet="0123456789.:x \n\t%/\u0663", max_size=18)
# Text near IPv6 addresses: hex groups, colons, and dotted or scoped forms.
NEAR_IPV6 = st.text(alphabet="0123456789abcdefABCDEF::::..%x ", max_size=24)
ADDRESSES = st.ip_addresses().map(str)
EXPLODED_IPV6 = st.ip_addresses(v=6).map(lambda address: address.exploded.upper())
ANY_TEXT = st.one_of(NEAR_ADDRESSES, NEAR_IPV6, ADDRESSES, EXPLODED_IPV6)


def written_back_by_ipaddress(text: str) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return address.version == 4 and str(address) == text


def normalised_by_ipaddress(text: str) -> str | None:
    try:
        return ipaddress.ip_address(text.strip()).compressed
    except ValueError:
        return None


def prefix_by_ipaddress(text: str) -> str | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    length, bits = (24, 32) if address.version == 4 else (64, 128)
    network = type(address)(int(address) >> (bits - length) << (bits - length))
    return f"{network.compressed}/{length}"


def test_every_spelling_of_four_octets() -> None:
    for a in OCTETS:
        for b in OCTETS:
            for text in (f"{a}.{b}.1.2", f"1.{a}.2.{b}", f"{a}.{b}.{a}.{b}"):
                assert is_dotted_ipv4(text) == written_back_by_ipaddress(text), text
    spoiled = ("1.2.3", "1.2.3.4.5", "1.2.3.4.", ".1.2.3.4", "1..2.3", "1.2.3.4\n", "\u0661.2.3.4")
    for text in spoiled:
        assert not is_dotted_ipv4(text) and not written_back_by_ipaddress(text)


@given(ANY_TEXT)
def test_dotted_ipv4_is_what_ipaddress_accepts_and_writes_back(text: str) -> None:
    assert is_dotted_ipv4(text) == written_back_by_ipaddress(text)


def assert_normalised_as_ipaddress_would(text: str) -> None:
    expected = normalised_by_ipaddress(text)
    if expected is None:
        with pytest.raises(IngestError):
            normalise_ip(text)
    else:
        assert normalise_ip(text) == expected


@given(st.one_of(ANY_TEXT, ADDRESSES.map(lambda a: f" {a}\n")))
def test_normalise_ip_is_the_standard_librarys_compressed_form(text: str) -> None:
    assert_normalised_as_ipaddress_would(text)


@given(ANY_TEXT)
def test_ip_prefix_of_any_text_is_the_standard_librarys(text: str) -> None:
    assert ip_prefix(text) == (prefix_by_ipaddress(text) if text else None)


@pytest.mark.parametrize(
    "text",
    [
        "::",
        "::1",
        "1::",
        "2001:DB8::1",
        "2001:0db8:0000:0000:0001:0000:0000:0001",
        "1:2:3:4:5:6:7::",
        "::2:3:4:5:6:7:8",
        "0:0:0:0:0:ffff:102:304",
        "::ffff:1.2.3.4",
        "::1.2.3.4",
        "::102:304",
        "fe80::1%eth0",
        "64:ff9b::1",
        "1::2::3",
        "12345::",
        "1:2:3:4:5:6:7:8:9",
    ],
)
def test_ipv6_spellings(text: str) -> None:
    assert_normalised_as_ipaddress_would(text)
    assert ip_prefix(text) == prefix_by_ipaddress(text)
