"""Everything one judgement reads: the session, its evidence, its past and the site's policy."""

from __future__ import annotations

from dataclasses import dataclass, field

from sessionscope.clock import rfc3339_to_ms
from sessionscope.enrich.geo import GeoResult
from sessionscope.enrich.iplists import ListMatch
from sessionscope.enrich.service import Evidence
from sessionscope.enrich.ua import ClientHints
from sessionscope.judge.anonymity import current_anonymizer
from sessionscope.judge.consistency import hints_mismatches, navigator_platform_mismatch, ua_only
from sessionscope.judge.forwarding import Forwarding, read_forwarding
from sessionscope.judge.history import History
from sessionscope.judge.policy import Policy
from sessionscope.model import Session


@dataclass(frozen=True, slots=True)
class SelfDescription:
    """How the browser's descriptions of itself disagree (judge/consistency.py)."""

    hints_mismatches: tuple[str, ...]  # client hints against the user agent string
    platform_mismatch: str | None  # navigator.platform against the user agent string


_AGREEING = SelfDescription(hints_mismatches=(), platform_mismatch=None)


@dataclass(frozen=True, slots=True)
class Case:
    """A judgement's input. The facts that several rules read are worked out once, when
    the case is built: a case is judged as it was built."""

    session: Session
    evidence: Evidence
    history: History = field(default_factory=History)
    policy: Policy = field(default_factory=Policy)
    # Where the public IP the browser reported for itself is, when it differs from ours.
    public_ip_geo: GeoResult | None = None
    # What hides this request's origin (judge/anonymity.py), e.g. "a VPN".
    anonymizer: str | None = field(init=False, repr=False, compare=False)
    forwarding: Forwarding = field(init=False, repr=False, compare=False)
    self_description: SelfDescription = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        session = self.session
        facts = {
            "anonymizer": current_anonymizer(self.evidence, session.network),
            "forwarding": read_forwarding(session.ip, session.headers, self.policy.trusted_proxies),
            "self_description": _self_description(session, self.evidence.hints),
        }
        for name, value in facts.items():
            object.__setattr__(self, name, value)  # the dataclass is frozen

    @property
    def ip(self) -> str:
        return self.session.ip or "unknown"

    @property
    def created_ms(self) -> int:
        return rfc3339_to_ms(self.session.created_at)

    @property
    def ip_country(self) -> str | None:
        return self.session.location.country_code


def _self_description(session: Session, hints: ClientHints | None) -> SelfDescription:
    navigator = session.signals.platform
    if hints is None and not navigator:
        return _AGREEING  # nothing to hold the user agent string against
    user_agent = session.user_agent or ""
    parsed = ua_only(user_agent)
    return SelfDescription(
        hints_mismatches=tuple(hints_mismatches(user_agent, parsed, hints)),
        platform_mismatch=navigator_platform_mismatch(parsed.device.platform, navigator),
    )


def describe_list(match: ListMatch) -> str:
    """`list tor_exit, updated 2026-11-20` (with the network when it is a range)."""
    parts = [f"list {match.name}"]
    if "/" in match.cidr and not match.cidr.endswith(("/32", "/128")):
        parts.append(f"network {match.cidr}")
    if match.updated_at:
        parts.append(f"updated {match.updated_at[:10]}")
    return ", ".join(parts)
