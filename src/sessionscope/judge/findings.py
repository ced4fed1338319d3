"""A finding is one rule that fired: how strongly, and why, in words a person can act on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sessionscope.model import RiskSignal

FLAG_AT = 0.5


@dataclass(frozen=True, slots=True)
class Finding:
    score: float
    reason: str


def risk_signal(findings: Iterable[Finding | None]) -> RiskSignal:
    """A signal from its findings: the strongest one sets the score (sources that confirm
    the same fact do not add up); every finding is a reason, strongest first."""
    present = [f for f in findings if f is not None]
    if not present:  # most signals of most sessions
        return RiskSignal(flag=False, score=0.0, reasons=[])
    present.sort(key=_strength, reverse=True)  # stable: equal scores keep their order
    score = present[0].score
    return RiskSignal(
        flag=score >= FLAG_AT, score=round(score, 3), reasons=[f.reason for f in present]
    )


def _strength(finding: Finding) -> float:
    return finding.score


def noisy_or(scores: Iterable[float]) -> float:
    """The chance that at least one of several independent pieces of evidence is right."""
    remaining = 1.0
    for score in scores:
        remaining *= 1.0 - min(max(score, 0.0), 1.0)
    return 1.0 - remaining
