"""Velocity: how many sessions an IP, a device and a user opened in 5 min, 1 h and 24 h.

Counts are taken as of the session's creation (the window ends at its `created_at`) and
include the session itself, so judging it again later gives the same numbers. With
Redis they live in one sorted set per subject (member: session id, score: creation
time), shared by every instance; adding a session twice changes nothing. Without
Redis they are counted in the store, through an index, from at most COUNT_CAP rows.
"""

from __future__ import annotations

from typing import Any, Final, Protocol

from sessionscope.clock import rfc3339_to_ms
from sessionscope.judge.records import Counted, HistoryAnswer, HistoryColumn, HistoryRequest
from sessionscope.model import Session
from sessionscope.store.base import Store

WINDOWS: Final = (("5m", 300_000), ("1h", 3_600_000), ("24h", 86_400_000))
DAY_MS: Final = 86_400_000
COUNT_CAP: Final = 5000
SUBJECTS: Final[tuple[tuple[str, HistoryColumn], ...]] = (
    ("ip", "ip"),
    ("device", "device_id"),
    ("user", "user_id"),
)
_SUBJECT_OF: Final[dict[HistoryColumn, str]] = {column: name for name, column in SUBJECTS}
Velocity = dict[str, tuple[int, ...]]  # subject -> a count per window, this session included


def subjects(session: Session) -> list[tuple[str, HistoryColumn, str]]:
    """(subject, store column, value) for each subject the session has."""
    values = {
        "ip": session.ip,
        "device": session.device_id,
        "user": session.user.id if session.user else None,
    }
    return [(name, column, value) for name, column in SUBJECTS if (value := values[name])]


def store_question(session: Session, created_ms: int) -> Counted | None:
    """What the store counts for the session's velocity (None: it has no subject)."""
    present = subjects(session)
    if not present:
        return None
    starts = tuple(created_ms - length for _, length in WINDOWS)
    return Counted(tuple((column, value) for _, column, value in present), starts, COUNT_CAP)


def from_store(counted: Counted | None, answer: HistoryAnswer) -> Velocity:
    """The store's counts of others, with the session itself counted in."""
    if counted is None:
        return {}
    return {
        _SUBJECT_OF[column]: tuple(min(n + 1, COUNT_CAP) for n in answer.counts[column])
        for column, _ in counted.subjects
    }


class VelocityCounter(Protocol):
    async def count(self, session: Session) -> Velocity: ...


class StoreVelocity:
    """Counts from the sessions table, through an index (one bounded scan per subject).

    Judgement asks for them with the rest of the session's history (`history.load_history`).
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    async def count(self, session: Session) -> Velocity:
        created = rfc3339_to_ms(session.created_at)
        counted = store_question(session, created)
        if counted is None:
            return {}
        request = HistoryRequest(session.tenant, session.id, created, counted=counted)
        return from_store(counted, await self.store.judgement_history(request))


class RedisVelocity:
    """Counts from sorted sets in Redis, shared by every instance of the service."""

    def __init__(self, redis: Any, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    def key(self, tenant: str, subject: str, value: str) -> str:
        return f"{self.prefix}velocity:{tenant}:{subject}:{value}"

    async def count(self, session: Session) -> Velocity:
        created = rfc3339_to_ms(session.created_at)
        present = subjects(session)
        async with self.redis.pipeline(transaction=False) as pipe:
            for name, _, value in present:
                key = self.key(session.tenant, name, value)
                pipe.zadd(key, {session.id: created})
                pipe.zremrangebyscore(key, "-inf", f"({created - DAY_MS}")
                pipe.zremrangebyrank(key, 0, -(COUNT_CAP + 1))
                pipe.expire(key, DAY_MS // 1000 + 60)
                for _, length in WINDOWS:
                    pipe.zcount(key, created - length, created)
            replies = await pipe.execute()
        per_subject = 4 + len(WINDOWS)
        return {
            name: tuple(int(n) for n in replies[i * per_subject + 4 : (i + 1) * per_subject])
            for i, (name, _, _) in enumerate(present)
        }
