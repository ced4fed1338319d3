"""Judgement's history queries and feedback records, on each store; velocity in Redis."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
import pytest
import pytest_asyncio
from redis.asyncio import Redis

from sessionscope.clock import rfc3339_to_ms
from sessionscope.ids import uuid7
from sessionscope.ingest import new_session
from sessionscope.ipprefix import ip_prefix
from sessionscope.judge.history import load_history
from sessionscope.judge.policy import Policy
from sessionscope.judge.records import (
    Counted,
    FeedbackRecord,
    HistoryAnswer,
    HistoryColumn,
    HistoryRequest,
    Recent,
)
from sessionscope.judge.velocity import RedisVelocity, StoreVelocity
from sessionscope.model import RiskSignal, Session, SessionCreate, Site, Tenant, User
from sessionscope.store.base import Cursor, Store
from tests.judgecases import MAC_CHROME

T0 = 1_780_000_000_000
MINUTE = 60_000
HOUR = 60 * MINUTE




@pytest.fixture
def store(run_store: Store) -> Store:
    return run_store


@pytest_asyncio.fixture(loop_scope="function")
async def tenant(store: Store) -> str:
    """A tenant of this test alone, with sites web and shop."""
    slug = f"hist-{uuid.uuid4().hex[:10]}"
    await store.create_tenant(Tenant(slug=slug, created_at="2026-01-01T00:00:00.000Z"))
    for name in ("web", "shop"):
        site = Site(tenant=slug, slug=name, uuid=str(uuid.uuid4()), is_default=name == "web",
                    created_at="2026-01-01T00:00:00.000Z")  # fmt: skip
        await store.create_site(site)
    return slug


async def add(
    store: Store,
    tenant: str,
    at_ms: int,
    ip: str = "81.2.69.142",
    *,
    user: str | None = None,
    device: str | None = None,
    decision: str | None = None,
    site: str = "web",
    **fields: Any,
) -> Session:
    """Store a session created at `at_ms` (written straight to the store: time is data)."""
    payload = msgspec.convert(
        {"ip": ip, "user_agent": MAC_CHROME, "id": uuid7(at_ms), **fields}, SessionCreate
    )
    owner = Site(tenant=tenant, slug=site, uuid="0", is_default=True, created_at="")
    session = new_session(payload, owner, 30, at_ms)
    session.user = User(id=user) if user else None
    session.state = "authenticated" if user else "anonymous"
    session.device_id = device
    session.risk.decision = decision  # type: ignore[assignment]
    await store.insert_session(session)
    return session


async def test_previous_session_of_a_user_and_of_a_device(store: Store, tenant: str) -> None:
    first = await add(store, tenant, T0, user="u1", device="d1")
    second = await add(store, tenant, T0 + MINUTE, user="u1", device="d2")
    await add(store, tenant, T0 + 2 * MINUTE, user="u2", device="d1")
    found = await store.previous_session(tenant, "user_id", "u1", Cursor(T0 + 5 * MINUTE, "z"))
    assert found is not None and found.id == second.id
    before_second = Cursor(T0 + MINUTE, second.id)
    found = await store.previous_session(tenant, "user_id", "u1", before_second)
    assert found is not None and found.id == first.id
    assert await store.previous_session(tenant, "user_id", "u1", Cursor(T0, first.id)) is None
    assert await store.previous_session("another-tenant", "user_id", "u1", before_second) is None
    by_device = await store.previous_session(tenant, "device_id", "d1", Cursor(T0 + HOUR, "z"))
    assert by_device is not None and by_device.id != first.id


async def test_fraud_sightings_judged_and_labelled_in_the_window(store: Store, tenant: str) -> None:
    fake = await add(store, tenant, T0 - 2 * HOUR, ip="81.2.69.10", decision="fake")
    labelled = await add(store, tenant, T0 - HOUR, ip="81.2.69.11", decision="real")
    await add(store, tenant, T0 - 3 * HOUR, ip="81.2.69.12", decision="suspicious")
    await add(store, tenant, T0 - 100 * HOUR, ip="81.2.69.13", decision="fake")  # too old
    await add(store, tenant, T0 - HOUR, ip="81.2.70.1", decision="fake")  # another /24
    await store.save_feedback(record(tenant, labelled, "fraud", T0))
    sightings = await store.fraud_sightings(tenant, "81.2.69.0/24", T0 - 48 * HOUR, T0, "x", 20)
    assert [(s.session_id, s.labelled) for s in sightings] == [
        (labelled.id, True),
        (fake.id, False),
    ]
    assert await store.fraud_sightings(tenant, "81.2.69.0/24", T0 - 48 * HOUR, T0, "x", 1) == [
        sightings[0]
    ]
    excluded = await store.fraud_sightings(tenant, "81.2.69.0/24", T0 - 48 * HOUR, T0, fake.id, 9)
    assert [s.session_id for s in excluded] == [labelled.id]
    assert await store.fraud_sightings("other", "81.2.69.0/24", T0 - 48 * HOUR, T0, "x", 9) == []


def record(tenant: str, session: Session, label: str, at_ms: int) -> FeedbackRecord:
    return FeedbackRecord(
        tenant=tenant,
        session_id=session.id,
        site=session.site,
        label=label,  # type: ignore[arg-type]
        note=None,
        ip=session.ip,
        ip_prefix=ip_prefix(session.ip),
        session_created_ms=rfc3339_to_ms(session.created_at),
        labelled_ms=at_ms,
    )


async def test_users_of_a_device_in_the_window(store: Store, tenant: str) -> None:
    for offset, user in ((1, "ann"), (2, "bob"), (3, "ann"), (4, None)):
        await add(store, tenant, T0 - offset * HOUR, user=user, device="dev")
    await add(store, tenant, T0 - 500 * HOUR, user="old", device="dev")
    users = await store.device_users(tenant, "dev", T0 - 48 * HOUR, T0, "x", 500)
    assert sorted(users) == ["ann", "bob"]


async def test_session_counts_per_window_and_their_cap(store: Store, tenant: str) -> None:
    for offset in (MINUTE, 2 * MINUTE, 30 * MINUTE, 5 * HOUR, 30 * HOUR):
        await add(store, tenant, T0 - offset, ip="192.0.2.50")
    starts = (T0 - 5 * MINUTE, T0 - HOUR, T0 - 24 * HOUR)
    assert await store.session_counts(tenant, "ip", "192.0.2.50", starts, T0, "x", 100) == [2, 3, 4]
    assert await store.session_counts(tenant, "ip", "192.0.2.50", starts, T0, "x", 3) == [2, 3, 3]
    assert await store.session_counts(tenant, "ip", "192.0.2.99", starts, T0, "x", 100) == [0, 0, 0]


async def test_feedback_replaces_and_counts_against_current_verdicts(
    store: Store, tenant: str
) -> None:
    a = await add(store, tenant, T0, decision="fake")
    b = await add(store, tenant, T0, decision="real")
    c = await add(store, tenant, T0, decision="real", site="shop")
    await store.save_feedback(record(tenant, a, "legit", T0))
    await store.save_feedback(record(tenant, a, "fraud", T0 + 1))  # replaces
    await store.save_feedback(record(tenant, b, "fraud", T0 + 2))
    await store.save_feedback(record(tenant, c, "human", T0 + 3))
    counts = await store.verdict_counts(tenant, None, None, None)
    cells = sorted((v.site, v.label, v.decision, v.count) for v in counts)
    assert cells == [("shop", "human", "real", 1), ("web", "fraud", "fake", 1),
                     ("web", "fraud", "real", 1)]  # fmt: skip
    assert [v.site for v in await store.verdict_counts(tenant, ("shop",), None, None)] == ["shop"]
    assert await store.verdict_counts(tenant, (), None, None) == []
    assert len(await store.verdict_counts(tenant, None, T0 + 2, T0 + 3)) == 1


async def test_history_from_the_store_and_velocity_in_redis_agree(
    store: Store, tenant: str, redis_url: str, redis_prefix: str
) -> None:
    redis = Redis.from_url(redis_url)
    counters = [StoreVelocity(store), RedisVelocity(redis, f"{redis_prefix}{tenant}:")]
    sessions = [
        await add(store, tenant, T0 + offset, ip="192.0.2.77", user="vic", device="dv")
        for offset in (0, 2 * MINUTE, 20 * MINUTE, 3 * HOUR)
    ]
    try:
        for session in sessions[:-1]:  # Redis learns of the earlier sessions as they come
            await counters[1].count(session)
        last = sessions[-1]
        store_counts, redis_counts = [await c.count(last) for c in counters]
        assert store_counts == redis_counts == {"ip": (1, 1, 4), "device": (1, 1, 4),
                                                "user": (1, 1, 4)}  # fmt: skip
        again = await counters[1].count(last)  # counting again changes nothing
        assert again == redis_counts
        history = await load_history(store, counters[0], sessions[2], Policy())
        assert history.previous is not None and history.previous.id == sessions[1].id
        assert history.previous_by == "user" and history.velocity["ip"] == (1, 3, 3)
    finally:
        await redis.aclose()


async def test_a_past_session_remembers_its_anonymizer(store: Store, tenant: str) -> None:
    past = await add(store, tenant, T0, user="uma")
    past.risk.vpn = RiskSignal(flag=True, score=0.9, reasons=["a VPN exit"])
    assert await store.replace_session(past, 1)
    now = await add(store, tenant, T0 + MINUTE, user="uma")
    history = await load_history(store, StoreVelocity(store), now, Policy())
    assert history.previous is not None and history.previous.anonymizer == "a VPN"


async def test_one_read_answers_what_each_question_answers_alone(store: Store, tenant: str) -> None:
    """`judgement_history` asks everything in one statement: each of its answers is the
    answer of the single question, for every session of a small world judged in turn."""
    world = [
        (-50 * HOUR, "81.2.69.10", "ann", "d1", "fake"),
        (-3 * HOUR, "81.2.69.11", "bob", "d1", "real"),
        (-2 * HOUR, "81.2.69.10", "ann", "d2", "fake"),
        (-90 * MINUTE, "81.2.69.12", None, "d1", "fake"),
        (-HOUR, "81.2.69.10", "cat", "d1", "suspicious"),
        (-3 * MINUTE, "81.2.69.10", "ann", None, "fake"),
        (0, "81.2.69.11", "ann", "d1", None),
        (0, "81.2.69.11", "bob", "d1", None),  # same millisecond: the id breaks the tie
    ]
    sessions = [
        await add(store, tenant, T0 + offset, ip, user=user, device=device, decision=decision)
        for offset, ip, user, device, decision in world
    ]
    await store.save_feedback(record(tenant, sessions[1], "fraud", T0))
    await store.save_feedback(record(tenant, sessions[4], "fraud", T0))
    for judged in sessions:
        request = small_limits_request(tenant, judged)
        answer = await store.judgement_history(request)
        alone = await asked_one_by_one(store, request)
        assert (answer.previous, answer.fraud, answer.counts) == (
            alone.previous, alone.fraud, alone.counts
        )  # fmt: skip
        assert sorted(answer.device_users) == sorted(alone.device_users)  # a set, in effect
    nothing = await store.judgement_history(HistoryRequest(tenant, "x", T0))
    assert (nothing.previous, nothing.fraud, nothing.device_users, nothing.counts) == (
        {}, [], [], {}
    )  # fmt: skip


def small_limits_request(tenant: str, session: Session) -> HistoryRequest:
    """Every question the session allows, with limits small enough to cut answers short."""
    created = rfc3339_to_ms(session.created_at)
    prefix = ip_prefix(session.ip)
    owners: list[tuple[HistoryColumn, str | None]] = [
        ("user_id", session.user.id if session.user else None),
        ("device_id", session.device_id),
    ]
    present = tuple((column, value) for column, value in owners if value is not None)
    assert session.ip is not None and prefix is not None
    windows = (created - 5 * MINUTE, created - HOUR, created - 24 * HOUR)
    return HistoryRequest(
        tenant=tenant,
        session_id=session.id,
        created_ms=created,
        previous_of=present,
        fraud_near=Recent(prefix, created - 48 * HOUR, 2),
        device_users=Recent(session.device_id, created - 48 * HOUR, 2)
        if session.device_id
        else None,
        counted=Counted((("ip", session.ip), *present), windows, 3),
    )


async def asked_one_by_one(store: Store, request: HistoryRequest) -> HistoryAnswer:
    tenant, created, own_id = request.tenant, request.created_ms, request.session_id
    previous = {}
    for column, value in request.previous_of:
        found = await store.previous_session(tenant, column, value, Cursor(created, own_id))
        if found is not None:
            previous[column] = found.doc
    fraud, users, counts = [], [], {}
    if request.fraud_near is not None:
        near = request.fraud_near
        fraud = await store.fraud_sightings(
            tenant, near.value, near.since_ms, created, own_id, near.limit
        )
    if request.device_users is not None:
        device = request.device_users
        users = await store.device_users(
            tenant, device.value, device.since_ms, created, own_id, device.limit
        )
    if request.counted is not None:
        counted = request.counted
        for column, value in counted.subjects:
            counts[column] = await store.session_counts(
                tenant, column, value, counted.since_ms, created, own_id, counted.limit
            )
    return HistoryAnswer(previous, fraud, users, counts)
