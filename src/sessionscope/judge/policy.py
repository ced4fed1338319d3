"""The thresholds judgement applies to one site: its settings over the built-in defaults."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TypeVar

from sessionscope.model import SiteSettings, VelocityLimits

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_SUSPICIOUS_AT = 0.4
DEFAULT_FAKE_AT = 0.75
DEFAULT_BOT_THRESHOLD = 0.7
DEFAULT_TRAVEL_SPEED_KMH = 900.0
DEFAULT_RECENT_FRAUD_HOURS = 168
DEFAULT_DEVICE_ACCOUNTS_LIMIT = 3
DEFAULT_DEVICE_ACCOUNTS_HOURS = 168
HOUR_MS = 3_600_000
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Policy:
    suspicious_at: float = DEFAULT_SUSPICIOUS_AT
    fake_at: float = DEFAULT_FAKE_AT
    bot_threshold: float = DEFAULT_BOT_THRESHOLD
    travel_speed_kmh: float = DEFAULT_TRAVEL_SPEED_KMH
    recent_fraud_hours: int = DEFAULT_RECENT_FRAUD_HOURS
    device_accounts_limit: int = DEFAULT_DEVICE_ACCOUNTS_LIMIT
    device_accounts_hours: int = DEFAULT_DEVICE_ACCOUNTS_HOURS
    velocity: VelocityLimits = field(default_factory=VelocityLimits)
    trusted_proxies: tuple[IPNetwork, ...] = ()

    @classmethod
    def for_site(
        cls, settings: SiteSettings, trusted_proxies: tuple[IPNetwork, ...] = ()
    ) -> Policy:
        fake_at = _or(settings.risk_fake_at, DEFAULT_FAKE_AT)
        return cls(
            # A site that lowers only the fake threshold below the default suspicious one
            # gets no suspicious band rather than an inverted one.
            suspicious_at=min(_or(settings.risk_suspicious_at, DEFAULT_SUSPICIOUS_AT), fake_at),
            fake_at=fake_at,
            bot_threshold=_or(settings.bot_threshold, DEFAULT_BOT_THRESHOLD),
            travel_speed_kmh=_or(settings.travel_speed_kmh, DEFAULT_TRAVEL_SPEED_KMH),
            recent_fraud_hours=_or(settings.recent_fraud_hours, DEFAULT_RECENT_FRAUD_HOURS),
            device_accounts_limit=_or(
                settings.device_accounts_limit, DEFAULT_DEVICE_ACCOUNTS_LIMIT
            ),
            device_accounts_hours=_or(
                settings.device_accounts_hours, DEFAULT_DEVICE_ACCOUNTS_HOURS
            ),
            velocity=settings.velocity_limits or VelocityLimits(),
            trusted_proxies=trusted_proxies,
        )

    @property
    def recent_fraud_ms(self) -> int:
        return self.recent_fraud_hours * HOUR_MS

    @property
    def device_accounts_ms(self) -> int:
        return self.device_accounts_hours * HOUR_MS


def _or(value: T | None, default: T) -> T:
    return default if value is None else value
