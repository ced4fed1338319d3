from __future__ import annotations

import ipaddress

import pytest

from sessionscope.http.client_ip import client_ip
from sessionscope.proxyheaders import forwarded_hops, parse_address

TRUSTED = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128"))


@pytest.mark.parametrize(
    ("peer", "headers", "expected"),
    [
        ("203.0.113.9", {"x-forwarded-for": "1.2.3.4"}, "203.0.113.9"),
        ("10.0.0.2", {"x-forwarded-for": "1.2.3.4"}, "1.2.3.4"),
        ("10.0.0.2", {"x-forwarded-for": "9.9.9.9, 1.2.3.4, 10.0.0.7"}, "1.2.3.4"),
        ("10.0.0.2", {"x-forwarded-for": "10.0.0.5, 10.0.0.7"}, "10.0.0.5"),
        ("10.0.0.2", {}, "10.0.0.2"),
        ("10.0.0.2", {"x-forwarded-for": "1.2.3.4, garbage"}, "10.0.0.2"),
        ("::1", {"forwarded": 'for="[2001:db8::1]:4711";proto=https'}, "2001:db8::1"),
        (
            "10.0.0.2",
            {"forwarded": "for=192.0.2.60;proto=http, for=10.0.0.9", "x-forwarded-for": "5.5.5.5"},
            "192.0.2.60",
        ),
        ("10.0.0.2", {"forwarded": "for=_hidden"}, "10.0.0.2"),
        ("::ffff:10.0.0.2", {"x-forwarded-for": "1.2.3.4"}, "1.2.3.4"),
        ("2001:db8::5", {"x-forwarded-for": "1.2.3.4"}, "2001:db8::5"),
        (None, {"x-forwarded-for": "1.2.3.4"}, None),
    ],
)
def test_client_ip(peer: str | None, headers: dict[str, str], expected: str | None) -> None:
    assert client_ip(peer, headers, TRUSTED) == expected


def test_nothing_is_trusted_by_default() -> None:
    assert client_ip("10.0.0.2", {"x-forwarded-for": "1.2.3.4"}, ()) == "10.0.0.2"


def test_hop_forms() -> None:
    assert str(parse_address("1.2.3.4:8080")) == "1.2.3.4"
    assert str(parse_address('"[::1]:80"')) == "::1"
    assert parse_address("unknown") is None
    assert forwarded_hops("for=1.1.1.1;by=x, For=2.2.2.2") == ["1.1.1.1", "2.2.2.2"]
