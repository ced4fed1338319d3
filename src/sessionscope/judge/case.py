"""Everything one judgement reads: the session, its evidence, its past and the site's policy."""

from __future__ import annotations

from dataclasses import dataclass, field

from sessionscope.clock import rfc3339_to_ms
from sessionscope.enrich.geo import GeoResult
from sessionscope.enrich.iplists import ListMatch
from sessionscope.enrich.service import Evidence
from sessionscope.judge.anonymity import current_anonymizer
from sessionscope.judge.history import History
from sessionscope.judge.policy import Policy
from sessionscope.model import Session


@dataclass(frozen=True, slots=True)
class Case:
    session: Session
    evidence: Evidence
    history: History = field(default_factory=History)
    policy: Policy = field(default_factory=Policy)
    # Where the public IP the browser reported for itself is, when it differs from ours.
    public_ip_geo: GeoResult | None = None

    @property
    def ip(self) -> str:
        return self.session.ip or "unknown"

    @property
    def created_ms(self) -> int:
        return rfc3339_to_ms(self.session.created_at)

    @property
    def anonymizer(self) -> str | None:
        return current_anonymizer(self.evidence, self.session.network)

    @property
    def ip_country(self) -> str | None:
        return self.session.location.country_code


def describe_list(match: ListMatch) -> str:
    """`list tor_exit, updated 2026-11-20` (with the network when it is a range)."""
    parts = [f"list {match.name}"]
    if "/" in match.cidr and not match.cidr.endswith(("/32", "/128")):
        parts.append(f"network {match.cidr}")
    if match.updated_at:
        parts.append(f"updated {match.updated_at[:10]}")
    return ", ".join(parts)
