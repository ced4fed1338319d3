"""The visitor's IP: the connection's peer, or what trusted proxies say it was."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sessionscope.proxyheaders import IPNetwork, forwarding_chain, is_trusted, parse_address


def client_ip(
    peer: str | None, headers: Mapping[str, str], trusted: Sequence[IPNetwork]
) -> str | None:
    """Walk the chain from the nearest hop while each hop is a trusted proxy.

    Headers are believed only when the direct peer is trusted; the first hop that is
    not a trusted proxy is the client. A malformed hop ends the walk at the last
    address that could be verified.
    """
    nearest = parse_address(peer) if peer else None
    if nearest is None:
        return None
    if not is_trusted(nearest, trusted):
        return nearest.compressed
    for hop in reversed(forwarding_chain(headers)[1]):
        address = parse_address(hop)
        if address is None:
            break
        nearest = address
        if not is_trusted(address, trusted):
            break
    return nearest.compressed
