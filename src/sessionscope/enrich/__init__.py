"""Enrichment: pure, cached functions from request facts to device, browser, location, network.

- ua: user agent and client hints -> device and browser
- geo: IP -> location, ASN, ISP, connection type, anonymity flags (MaxMind-format databases)
- iplists: named IP/CIDR sets (Tor exits, datacenters, VPNs, ...) with fast membership
- network: geo result + list matches -> the session's network block
- sources: downloads of the public IP lists (used by `sessionscope lists update` only)
"""
