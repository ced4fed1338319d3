"""Meter usage in each store, directly: atomic consumption under concurrency, period
rollover, and the purge of ended periods and ended sessions."""

from __future__ import annotations

import asyncio

import pytest

from sessionscope.clock import ms_to_rfc3339
from sessionscope.judge.records import FeedbackRecord, HistoryRequest, Recent
from sessionscope.model import Session
from sessionscope.store.allowance import ConsumePlan, Usage, UsageKey
from sessionscope.store.base import Store

T0 = 1_767_225_600_000
DAY = 86_400_000
KEY = UsageKey("acme", "web", "meter:daily", "user:alice")


@pytest.fixture
def store(fresh_store: Store) -> Store:
    return fresh_store


def plan(now: int, content: str, size: int = 7, unique: bool = False) -> ConsumePlan:
    start = now - now % DAY
    return ConsumePlan(size, unique, content, start, start + DAY, now)


async def test_concurrent_consumption_takes_exactly_the_size(store: Store) -> None:
    outcomes = await asyncio.gather(
        *(store.consume_allowance(KEY, plan(T0 + 10, f"c{i}")) for i in range(60))
    )
    assert sum(outcome.allowed for outcome in outcomes) == 7
    (row,) = await store.usage_of("acme", "web", "user:alice", ("meter:daily",))
    assert row.usage == Usage(7, T0, T0 + DAY) and len(row.content_ids) == 7


async def test_unique_content_under_concurrency_counts_once(store: Store) -> None:
    outcomes = await asyncio.gather(
        *(store.consume_allowance(KEY, plan(T0, "same", size=2, unique=True)) for _ in range(20))
    )
    assert all(outcome.allowed for outcome in outcomes)
    (row,) = await store.usage_of("acme", "web", "user:alice", ("meter:daily",))
    assert row.usage.used == 1 and row.content_ids == ["same"]


async def test_a_new_period_forgets_the_old_one(store: Store) -> None:
    for content in ("a", "b"):
        await store.consume_allowance(KEY, plan(T0, content, size=2))
    assert not (await store.consume_allowance(KEY, plan(T0 + 1, "c", size=2))).allowed
    tomorrow = await store.consume_allowance(KEY, plan(T0 + DAY, "c", size=2))
    assert tomorrow.allowed and tomorrow.rolled_over
    (row,) = await store.usage_of("acme", "web", "user:alice", ("meter:daily",))
    assert row.usage == Usage(1, T0 + DAY, T0 + 2 * DAY) and row.content_ids == ["c"]
    other = UsageKey("acme", "web", "meter:daily", "user:bob")
    await store.consume_allowance(other, plan(T0, "x"))
    assert await store.purge_usage(T0 + 2 * DAY - 1, 1000) == 2  # bob's row and content
    assert await store.usage_of("acme", "web", "user:bob", ("meter:daily",)) == []
    assert len(await store.usage_of("acme", "web", "user:alice", ("meter:daily",))) == 1


def session(session_id: str, status: str, expires_ms: int, updated_ms: int) -> Session:
    return Session(
        id=session_id,
        tenant="acme",
        site="web",
        site_uuid="6f1c1f43-6a4e-4c1e-9d43-1b2b3c4d5e6f",
        version=1,
        created_at=ms_to_rfc3339(T0),
        updated_at=ms_to_rfc3339(updated_ms),
        last_seen_at=ms_to_rfc3339(T0),
        expires_at=ms_to_rfc3339(expires_ms),
        state="anonymous",
        status=status,  # type: ignore[arg-type]
    )


async def test_purge_takes_ended_sessions_in_batches(store: Store) -> None:
    old = [
        session(f"0190f5e4-0000-7000-8000-00000000000{i}", "active", T0 + DAY, T0) for i in range(5)
    ]
    released = session("0190f5e4-0000-7000-8000-0000000000a1", "released", T0 + 9 * DAY, T0 + DAY)
    recent = session("0190f5e4-0000-7000-8000-0000000000a2", "released", T0 + 9 * DAY, T0 + 3 * DAY)
    alive = session("0190f5e4-0000-7000-8000-0000000000a3", "active", T0 + 9 * DAY, T0)
    for item in (*old, released, recent, alive):
        await store.insert_session(item)
    cutoff = T0 + 2 * DAY
    assert await store.purge_sessions("acme", "web", cutoff, 2) == 3  # 2 expired, 1 released
    assert await store.purge_sessions("acme", "web", cutoff, 2) == 2
    assert await store.purge_sessions("acme", "web", cutoff, 2) == 1
    assert await store.purge_sessions("acme", "web", cutoff, 2) == 0
    assert await store.purge_sessions("acme", "other", T0 + 99 * DAY, 2) == 0
    for kept in (recent, alive):
        assert await store.get_session("acme", kept.id) is not None
    assert await store.get_session("acme", released.id) is None


def fraud_label(purged: Session, prefix: str) -> FeedbackRecord:
    return FeedbackRecord(
        tenant="acme",
        session_id=purged.id,
        site="web",
        label="fraud",
        note="chargeback",
        ip="81.2.69.7",
        ip_prefix=prefix,
        session_created_ms=T0,
        labelled_ms=T0 + 1,
    )


async def test_purge_takes_the_labels_of_the_sessions_it_deletes(store: Store) -> None:
    gone = session("0190f5e4-0000-7000-8000-0000000000b1", "active", T0 + DAY, T0)
    kept = session("0190f5e4-0000-7000-8000-0000000000b2", "active", T0 + 9 * DAY, T0)
    for item, prefix in ((gone, "81.2.69.0/24"), (kept, "81.2.70.0/24")):
        await store.insert_session(item)
        await store.save_feedback(fraud_label(item, prefix))

    async def labelled_near(prefix: str) -> list[str]:
        question = Recent(prefix, T0 - DAY, 10)
        request = HistoryRequest(
            "acme", "0190f5e4-0000-7000-8000-0000000000ff", T0 + 5, fraud_near=question
        )
        answer = await store.judgement_history(request)
        return [seen.session_id for seen in answer.fraud if seen.labelled]

    assert await labelled_near("81.2.69.0/24") == [gone.id]
    assert await store.purge_sessions("acme", "web", T0 + 2 * DAY, 100) == 1
    assert await labelled_near("81.2.69.0/24") == []
    assert await labelled_near("81.2.70.0/24") == [kept.id]
