"""Nonce memory of signed requests: in each store, and in real Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from sessionscope.auth.nonces import RedisNonces, StoreNonces
from sessionscope.store import open_store
from sessionscope.store.base import Store
from tests.pg import create_test_database, drop_test_database

NOW = 1_750_000_000_000
WINDOW = 300_000


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'nonces.db'}"
    url = create_test_database()
    request.addfinalizer(lambda: drop_test_database(url))
    return url


@pytest_asyncio.fixture(loop_scope="function")
async def store(database_url: str) -> AsyncIterator[Store]:
    opened = open_store(database_url)
    await opened.open()
    await opened.migrate()
    try:
        yield opened
    finally:
        await opened.close()


async def remember(store: Store, key_id: str, nonce: str, expires_ms: int, now_ms: int) -> bool:
    [fresh] = await store.remember_nonces([(key_id, nonce, expires_ms)], now_ms)
    return fresh


async def test_a_nonce_is_new_once_per_key_until_it_expires(store: Store) -> None:
    assert await remember(store, "key1", "n1", NOW + WINDOW, NOW)
    assert not await remember(store, "key1", "n1", NOW + WINDOW, NOW + 1)
    assert await remember(store, "key2", "n1", NOW + WINDOW, NOW + 1)
    # Once expired, the row is taken over (and the nonce would fail the clock check anyway).
    assert await remember(store, "key1", "n1", NOW + 2 * WINDOW, NOW + WINDOW)
    assert not await remember(store, "key1", "n1", NOW + 2 * WINDOW, NOW + WINDOW + 1)


async def test_one_batch_answers_each_nonce_in_order(store: Store) -> None:
    assert await remember(store, "k", "seen", NOW + WINDOW, NOW)
    batch = [("k", "a", NOW + WINDOW), ("k", "seen", NOW + WINDOW), ("k", "a", NOW + WINDOW)]
    assert await store.remember_nonces(batch, NOW + 1) == [True, False, False]
    assert await store.remember_nonces([], NOW + 1) == []


async def test_purge_forgets_only_expired_nonces(store: Store) -> None:
    for index in range(3):
        assert await remember(store, "k", f"old{index}", NOW, NOW - WINDOW)
    assert await remember(store, "k", "live", NOW + WINDOW, NOW)
    assert await store.purge_nonces(NOW) == 3
    assert await store.purge_nonces(NOW) == 0
    assert not await remember(store, "k", "live", NOW + WINDOW, NOW + 1)


async def test_store_memory_purges_at_most_once_per_interval(store: Store) -> None:
    memory = StoreNonces(store, purge_interval=3600)
    assert await remember(store, "k", "expired-a", NOW - 1, NOW - WINDOW)
    assert await memory.first_use("k", "fresh", NOW + WINDOW, NOW)  # purges expired-a
    assert await remember(store, "k", "expired-b", NOW - 1, NOW - WINDOW)
    assert await memory.first_use("k", "fresh-2", NOW + WINDOW, NOW)  # no purge this time
    assert await store.purge_nonces(NOW) == 1
    assert not await memory.first_use("k", "fresh", NOW + WINDOW, NOW + 5)


async def test_store_memory_answers_concurrent_requests_each_their_own(store: Store) -> None:
    memory = StoreNonces(store)
    nonces = [f"n{index % 5}" for index in range(20)]  # each nonce four times at once
    answers = await asyncio.gather(
        *(memory.first_use("k", nonce, NOW + WINDOW, NOW) for nonce in nonces)
    )
    assert sum(answers) == 5
    assert {nonce for nonce, fresh in zip(nonces, answers, strict=True) if fresh} == set(nonces)


async def test_redis_memory_is_shared_and_expires(redis_url: str, redis_prefix: str) -> None:
    clients = [Redis.from_url(redis_url), Redis.from_url(redis_url)]
    first, second = (RedisNonces(client, redis_prefix) for client in clients)
    nonce = uuid.uuid4().hex
    try:
        assert await first.first_use("key", nonce, NOW + 2_000, NOW)
        assert not await second.first_use("key", nonce, NOW + 2_000, NOW)
        assert await second.first_use("other-key", nonce, NOW + 2_000, NOW)
        ttl = await clients[0].ttl(f"{redis_prefix}nonce:key:{nonce}")
        assert 0 < ttl <= 2
    finally:
        for client in clients:
            await client.aclose()
