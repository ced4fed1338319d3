"""The past that judgement needs, read from the store (and Redis) before judging.

Every question is anchored at the session's own creation time, so judging the same
session again sees the same past unless the past itself changed (a new label, say).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import msgspec

from sessionscope.clock import rfc3339_to_ms
from sessionscope.ipprefix import ip_prefix
from sessionscope.judge.anonymity import past_anonymizer
from sessionscope.judge.policy import Policy
from sessionscope.judge.records import FraudSighting, HistoryColumn
from sessionscope.judge.velocity import Velocity, VelocityCounter
from sessionscope.model import Location, Network, Risk, Session
from sessionscope.store.base import Cursor, Store

FRAUD_SIGHTINGS_LIMIT = 20
DEVICE_USERS_LIMIT = 500


class _StoredPast(msgspec.Struct):
    """The few parts of a stored session that judging a later one reads."""

    id: str
    created_at: str
    ip: str | None = None
    location: Location = msgspec.field(default_factory=Location)
    network: Network = msgspec.field(default_factory=Network)
    risk: Risk = msgspec.field(default_factory=Risk)


_past_decoder = msgspec.json.Decoder(_StoredPast)


@dataclass(frozen=True, slots=True)
class PastSession:
    id: str
    created_ms: int
    ip: str | None
    location: Location
    anonymizer: str | None  # e.g. "a VPN" when its IP hid where the visitor was


@dataclass(frozen=True, slots=True)
class History:
    previous: PastSession | None = None
    previous_by: str | None = None  # "user" or "device": whose previous session it is
    fraud: tuple[FraudSighting, ...] = ()
    device_users: tuple[str, ...] = ()  # other users seen on the device in the window
    velocity: Velocity = field(default_factory=dict)


def past_session(doc: bytes) -> PastSession:
    stored = _past_decoder.decode(doc)
    return PastSession(
        id=stored.id,
        created_ms=rfc3339_to_ms(stored.created_at),
        ip=stored.ip,
        location=stored.location,
        anonymizer=past_anonymizer(stored.risk, stored.network),
    )


async def load_history(
    store: Store, velocity: VelocityCounter, session: Session, policy: Policy
) -> History:
    previous, fraud, users, counts = await asyncio.gather(
        _previous(store, session),
        _fraud(store, session, policy),
        _device_users(store, session, policy),
        velocity.count(session),
    )
    return History(
        previous=previous[0],
        previous_by=previous[1],
        fraud=tuple(fraud),
        device_users=tuple(users),
        velocity=counts,
    )


async def _previous(store: Store, session: Session) -> tuple[PastSession | None, str | None]:
    """The previous session of the same user, else of the same device."""
    before = Cursor(rfc3339_to_ms(session.created_at), session.id)
    candidates: list[tuple[str, HistoryColumn, str | None]] = [
        ("user", "user_id", session.user.id if session.user else None),
        ("device", "device_id", session.device_id),
    ]
    for name, column, value in candidates:
        if value is None:
            continue
        stored = await store.previous_session(session.tenant, column, value, before)
        if stored is not None:
            return past_session(stored.doc), name
    return None, None


async def _fraud(store: Store, session: Session, policy: Policy) -> list[FraudSighting]:
    prefix = ip_prefix(session.ip)
    if prefix is None:
        return []
    created = rfc3339_to_ms(session.created_at)
    return await store.fraud_sightings(
        session.tenant,
        prefix,
        created - policy.recent_fraud_ms,
        created,
        session.id,
        FRAUD_SIGHTINGS_LIMIT,
    )


async def _device_users(store: Store, session: Session, policy: Policy) -> list[str]:
    if session.device_id is None:
        return []
    created = rfc3339_to_ms(session.created_at)
    return await store.device_users(
        session.tenant,
        session.device_id,
        created - policy.device_accounts_ms,
        created,
        session.id,
        DEVICE_USERS_LIMIT,
    )
