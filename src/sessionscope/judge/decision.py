"""The verdict: the ten signals and the bot score combined into `risk.score` and
`risk.decision`, with the visitor's true country.

Each signal counts with a weight (how much it alone says the session is not a real,
honest visitor); the weighted scores combine as independent evidence (noisy-or). A bot
that is not a good crawler counts with BOT_WEIGHT. The site's thresholds turn the score
into `real`, `suspicious` or `fake`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sessionscope.judge.bot import judge_bot
from sessionscope.judge.case import Case
from sessionscope.judge.findings import noisy_or
from sessionscope.judge.origin import true_country
from sessionscope.judge.policy import Policy
from sessionscope.judge.signals import SIGNALS
from sessionscope.model import Bot, Decision, Risk, RiskSignal

WEIGHTS: Final = {
    "tor": 0.7,
    "recent_fraud_ip": 0.9,
    "impossible_travel": 0.85,
    "spoofed_ip": 0.7,
    "device_risk": 0.8,
    "location_spoofing": 0.7,
    "proxy": 0.6,
    "vpn": 0.5,
    "datacenter": 0.45,
    "device_network_mismatch": 0.5,
}
BOT_WEIGHT: Final = 0.95


@dataclass(frozen=True, slots=True)
class Verdict:
    risk: Risk
    bot: Bot
    true_country_code: str | None


def judge(case: Case) -> Verdict:
    signals = {name: check(case) for name, check in SIGNALS.items()}
    bot = judge_bot(case, signals["datacenter"])
    score = risk_score(signals, bot)
    risk = Risk(**signals, score=score, decision=decide(score, case.policy))
    return Verdict(risk=risk, bot=bot, true_country_code=true_country(case))


def risk_score(signals: dict[str, RiskSignal], bot: Bot) -> float:
    good_bot = bot.kind == "good"
    weighted = [
        WEIGHTS[name] * signal.score
        for name, signal in signals.items()
        # Crawlers live in datacenters; that alone says nothing about a welcome one.
        if not (good_bot and name == "datacenter")
    ]
    if bot.is_bot and not good_bot:
        weighted.append(BOT_WEIGHT * (bot.score or 0.0))
    return round(noisy_or(weighted), 3)


def decide(score: float, policy: Policy) -> Decision:
    if score >= policy.fake_at:
        return "fake"
    if score >= policy.suspicious_at:
        return "suspicious"
    return "real"
