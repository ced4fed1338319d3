"""Whether a session came through a network that hides where the visitor is.

Behind Tor, a VPN, a proxy, a private relay or a hosting network, the IP's location is the
network's, not the visitor's: travel and location checks must not trust it.
"""

from __future__ import annotations

from sessionscope.enrich.service import Evidence
from sessionscope.model import Network, Risk


def current_anonymizer(evidence: Evidence, network: Network) -> str | None:
    """What hides this request's origin, from the evidence gathered for it."""
    lists, flags = evidence.lists, evidence.geo.anonymous
    if "tor_exit" in lists or flags.is_tor_exit_node:
        return "Tor"
    if "vpn" in lists or flags.is_anonymous_vpn:
        return "a VPN"
    if "proxy" in lists or flags.is_public_proxy or flags.is_residential_proxy:
        return "a proxy"
    return _by_network(network)


def past_anonymizer(risk: Risk, network: Network) -> str | None:
    """What hid a stored session's origin, from its verdict and network."""
    for name, label in (("tor", "Tor"), ("vpn", "a VPN"), ("proxy", "a proxy")):
        signal = getattr(risk, name)
        if signal is not None and signal.flag:
            return label
    if risk.datacenter is not None and risk.datacenter.flag:
        return "a hosting network"
    return _by_network(network)


def _by_network(network: Network) -> str | None:
    if network.connection_type == "private_relay":
        return "a private relay"
    if network.connection_type == "hosting":
        return "a hosting network"
    return None
