"""What the forwarding headers of a request say about how it reached us.

`X-Forwarded-For` and `Forwarded` (RFC 7239) list the addresses a request was forwarded
for, the client first and the nearest proxy last. The session's IP is where the chain
was cut (the first hop that is not one of our trusted proxies): hops before it are
addresses the visitor's side claims. Single-address headers (`X-Real-IP`, ...) name the
client outright. This module only reads; the signals decide what is suspicious.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sessionscope.proxyheaders import (
    IPAddress,
    IPNetwork,
    forwarded_hops,
    forwarding_chain,
    is_trusted,
    parse_address,
    xff_hops,
)

# Headers that name the client's address on their own, set by CDNs and load balancers.
CLIENT_HEADERS = (
    "x-real-ip",
    "cf-connecting-ip",
    "true-client-ip",
    "x-client-ip",
    "fastly-client-ip",
)
_FORWARDING_HEADERS = ("via", "forwarded", "x-forwarded-for", *CLIENT_HEADERS)
_MAX_HOPS = 32


@dataclass(frozen=True, slots=True)
class Forwarding:
    """The forwarding story of one request."""

    via: str | None = None
    header: str | None = None  # "Forwarded" or "X-Forwarded-For": where the chain came from
    chain: list[str] = field(default_factory=list)
    contains_ip: bool = False
    claimed: list[IPAddress] = field(default_factory=list)  # hops before the session's IP
    malformed: list[str] = field(default_factory=list)
    client_headers: dict[str, str] = field(default_factory=dict)  # those naming another IP
    disagreeing_chains: bool = False

    @property
    def present(self) -> bool:
        return bool(self.via or self.chain or self.client_headers)


# The story of most requests, shared: a Forwarding is only ever read.
_NOT_FORWARDED = Forwarding()


def _is_obfuscated(hop: str) -> bool:
    """RFC 7239 lets a proxy hide a hop as `unknown` or an `_identifier`."""
    value = hop.strip().strip('"')
    return value.lower() == "unknown" or value.startswith("_")


def _chain(headers: Mapping[str, str]) -> tuple[str | None, list[str]]:
    header, hops = forwarding_chain(headers)
    return header, hops[:_MAX_HOPS]


def _first_address(hops: list[str]) -> IPAddress | None:
    return parse_address(hops[0]) if hops else None


def _disagree(headers: Mapping[str, str]) -> bool:
    """Both chain headers present, naming different clients."""
    if not (headers.get("forwarded") and headers.get("x-forwarded-for")):
        return False
    first = _first_address(forwarded_hops(headers["forwarded"])[:_MAX_HOPS])
    other = _first_address(xff_hops(headers["x-forwarded-for"])[:_MAX_HOPS])
    return first is not None and other is not None and first != other


def read_forwarding(
    ip: str | None, headers: Mapping[str, str], trusted: tuple[IPNetwork, ...] = ()
) -> Forwarding:
    """The forwarding story of a request that reached us from `ip` with `headers`."""
    if not any(headers.get(name) for name in _FORWARDING_HEADERS):
        return _NOT_FORWARDED
    session_ip = parse_address(ip) if ip else None
    header, chain = _chain(headers)
    addresses = [parse_address(hop) for hop in chain]
    malformed = [
        hop
        for hop, a in zip(chain, addresses, strict=True)
        if a is None and not _is_obfuscated(hop)
    ]
    position = _last_index(addresses, session_ip)
    claimed = [a for a in addresses[: position if position >= 0 else len(addresses)] if a]
    client_headers = {
        name: headers[name]
        for name in CLIENT_HEADERS
        if headers.get(name) and parse_address(headers[name]) != session_ip
    }
    return Forwarding(
        via=headers.get("via") or None,
        header=header,
        chain=chain,
        contains_ip=position >= 0,
        claimed=[a for a in claimed if not is_trusted(a, trusted)],
        malformed=malformed,
        client_headers=client_headers,
        disagreeing_chains=_disagree(headers),
    )


def _last_index(addresses: list[IPAddress | None], wanted: IPAddress | None) -> int:
    if wanted is None:
        return -1
    for index in range(len(addresses) - 1, -1, -1):
        if addresses[index] == wanted:
            return index
    return -1
