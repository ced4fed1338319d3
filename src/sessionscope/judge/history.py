"""The past that judgement needs, read from the store (and Redis) before judging.

Every question is anchored at the session's own creation time, so judging the same
session again sees the same past unless the past itself changed (a new label, say).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Final

import msgspec

from sessionscope.clock import rfc3339_to_ms
from sessionscope.ipprefix import ip_prefix
from sessionscope.judge.anonymity import past_anonymizer
from sessionscope.judge.policy import Policy
from sessionscope.judge.records import (
    Counted,
    FraudSighting,
    HistoryAnswer,
    HistoryColumn,
    HistoryRequest,
    Recent,
)
from sessionscope.judge.velocity import (
    StoreVelocity,
    Velocity,
    VelocityCounter,
    from_store,
    store_question,
)
from sessionscope.model import Location, Network, Risk, Session
from sessionscope.store.base import Store

FRAUD_SIGHTINGS_LIMIT = 20
DEVICE_USERS_LIMIT = 500
# Whose previous session judgement compares with, by preference.
_PREVIOUS_OF: Final[tuple[tuple[str, HistoryColumn], ...]] = (
    ("user", "user_id"),
    ("device", "device_id"),
)


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
    """The session's past from one read of the store (velocity too, unless it is in Redis)."""
    created = rfc3339_to_ms(session.created_at)
    if isinstance(velocity, StoreVelocity) and velocity.store is store:
        counted = store_question(session, created)
        answer = await store.judgement_history(history_request(session, policy, created, counted))
        counts = from_store(counted, answer)
    else:
        answer, counts = await asyncio.gather(
            store.judgement_history(history_request(session, policy, created)),
            velocity.count(session),
        )
    previous, previous_by = _previous(answer)
    return History(
        previous=previous,
        previous_by=previous_by,
        fraud=tuple(answer.fraud),
        device_users=tuple(answer.device_users),
        velocity=counts,
    )


def history_request(
    session: Session, policy: Policy, created_ms: int, counted: Counted | None = None
) -> HistoryRequest:
    """What judging the session asks of the store (velocity: only what `counted` asks)."""
    owners = {"user_id": session.user.id if session.user else None, "device_id": session.device_id}
    prefix = ip_prefix(session.ip)
    fraud_since = created_ms - policy.recent_fraud_ms
    users_since = created_ms - policy.device_accounts_ms
    return HistoryRequest(
        tenant=session.tenant,
        session_id=session.id,
        created_ms=created_ms,
        previous_of=tuple(
            (column, value) for _, column in _PREVIOUS_OF if (value := owners[column]) is not None
        ),
        fraud_near=Recent(prefix, fraud_since, FRAUD_SIGHTINGS_LIMIT)
        if prefix is not None
        else None,
        device_users=Recent(session.device_id, users_since, DEVICE_USERS_LIMIT)
        if session.device_id is not None
        else None,
        counted=counted,
    )


def _previous(answer: HistoryAnswer) -> tuple[PastSession | None, str | None]:
    """The previous session of the same user, else of the same device."""
    for name, column in _PREVIOUS_OF:
        doc = answer.previous.get(column)
        if doc is not None:
            return past_session(doc), name
    return None, None
