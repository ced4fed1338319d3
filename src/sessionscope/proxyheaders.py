"""Reading proxy headers: addresses in hops, `Forwarded` / `X-Forwarded-For` chains.

Shared by the HTTP layer (which address is the client) and judgement (what the chain
claims); neither decides anything here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_address(text: str) -> IPAddress | None:
    """An address out of a hop: `1.2.3.4`, `1.2.3.4:80`, `"[2001:db8::1]:443"`; else None.

    IPv4-mapped IPv6 addresses come back as IPv4.
    """
    value = text.strip().strip('"')
    if value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else ""
    elif value.count(":") == 1:
        value = value.split(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def forwarded_hops(header: str) -> list[str]:
    """The `for=` values of an RFC 7239 Forwarded header, nearest proxy last."""
    hops = []
    for element in header.split(","):
        for pair in element.split(";"):
            name, _, value = pair.partition("=")
            if name.strip().lower() == "for":
                hops.append(value.strip())
    return hops


def xff_hops(header: str) -> list[str]:
    """The hops of an X-Forwarded-For header, nearest proxy last."""
    return [hop.strip() for hop in header.split(",") if hop.strip()]


def forwarding_chain(headers: Mapping[str, str]) -> tuple[str | None, list[str]]:
    """(header name, hops) the request claims: Forwarded wins over X-Forwarded-For."""
    if headers.get("forwarded"):
        return "Forwarded", forwarded_hops(headers["forwarded"])
    if headers.get("x-forwarded-for"):
        return "X-Forwarded-For", xff_hops(headers["x-forwarded-for"])
    return None, []


def is_trusted(address: IPAddress, trusted: Sequence[IPNetwork]) -> bool:
    return any(address.version == network.version and address in network for network in trusted)
