"""The network an IP address is grouped with: its /24 (IPv4) or /64 (IPv6).

Addresses of one household, office or hosting customer usually share this prefix, so
judgement looks at the prefix as well as the exact address (recent fraud, velocity).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from sessionscope.enrich.iplists import format_ip, is_dotted_ipv4, plain_ipv6_value

IPV4_PREFIX = 24
IPV6_PREFIX = 64


@lru_cache(maxsize=8192)
def ip_prefix(ip: str | None) -> str | None:
    """`81.2.69.142` -> `81.2.69.0/24`, `2001:db8::1` -> `2001:db8::/64`; None if not an IP."""
    if not ip:
        return None
    if is_dotted_ipv4(ip):  # the common case, without a parse: its first three octets
        return f"{ip[: ip.rindex('.')]}.0/{IPV4_PREFIX}"
    plain = _plain_ipv6_network(ip)
    if plain is not None:
        return plain
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    length, bits = (IPV4_PREFIX, 32) if address.version == 4 else (IPV6_PREFIX, 128)
    host_bits = bits - length
    network = type(address)(int(address) >> host_bits << host_bits)  # no second parse
    return f"{network.compressed}/{length}"


def _plain_ipv6_network(ip: str) -> str | None:
    """The /64 of an IPv6 address that `plain_ipv6_value` reads and that is not IPv4-mapped,
    written as `ipaddress` writes it; None for anything else."""
    value = plain_ipv6_value(ip)
    if value is None or value >> 32 == 0xFFFF:  # IPv4-mapped: its IPv4 /24, from ipaddress
        return None
    host_bits = 128 - IPV6_PREFIX
    written = format_ip(6, value >> host_bits << host_bits)
    return None if "." in written else f"{written}/{IPV6_PREFIX}"
