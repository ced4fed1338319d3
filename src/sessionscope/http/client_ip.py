"""The visitor's IP: the connection's peer, or what trusted proxies say it was."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_hop(text: str) -> IPAddress | None:
    """One hop of X-Forwarded-For or a Forwarded `for=` value; None when not an address."""
    value = text.strip().strip('"')
    if value.startswith("["):  # [v6]:port
        value = value[1 : value.find("]")] if "]" in value else ""
    elif value.count(":") == 1:  # v4:port
        value = value.split(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def forwarded_for(header: str) -> list[str]:
    """The `for=` values of an RFC 7239 Forwarded header, nearest proxy last."""
    hops = []
    for element in header.split(","):
        for pair in element.split(";"):
            name, _, value = pair.partition("=")
            if name.strip().lower() == "for":
                hops.append(value.strip())
    return hops


def proxy_chain(headers: Mapping[str, str]) -> list[str]:
    """Forwarding hops claimed by the request: Forwarded wins over X-Forwarded-For."""
    forwarded = headers.get("forwarded")
    if forwarded:
        return forwarded_for(forwarded)
    return [hop for hop in headers.get("x-forwarded-for", "").split(",") if hop.strip()]


def is_trusted(address: IPAddress, trusted: Sequence[IPNetwork]) -> bool:
    return any(address.version == network.version and address in network for network in trusted)


def client_ip(
    peer: str | None, headers: Mapping[str, str], trusted: Sequence[IPNetwork]
) -> str | None:
    """Walk the chain from the nearest hop while each hop is a trusted proxy.

    Headers are believed only when the direct peer is trusted; the first hop that is
    not a trusted proxy is the client. A malformed hop ends the walk at the last
    address that could be verified.
    """
    nearest = parse_hop(peer) if peer else None
    if nearest is None:
        return None
    if not is_trusted(nearest, trusted):
        return nearest.compressed
    for hop in reversed(proxy_chain(headers)):
        address = parse_hop(hop)
        if address is None:
            break
        nearest = address
        if not is_trusted(address, trusted):
            break
    return nearest.compressed
