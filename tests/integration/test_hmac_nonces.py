"""Nonce memory of signed requests: in each store, and in real Redis."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid
from pathlib import Path

import pytest
from redis.asyncio import Redis

from sessionscope.auth.nonces import RedisNonces, StoreNonces
from sessionscope.store import nonce_log, nonce_table, open_store
from sessionscope.store import sqlite as sqlite_store
from sessionscope.store.base import Store

NOW = 1_750_000_000_000
WINDOW = 300_000


@pytest.fixture
def store(fresh_store: Store) -> Store:
    return fresh_store


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


class PurgeCounting:
    """A store whose purges are counted."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.purges = 0

    async def purge_nonces(self, now_ms: int) -> int:
        self.purges += 1
        return await self.store.purge_nonces(now_ms)

    async def remember_nonces(self, nonces: list[tuple[str, str, int]], now_ms: int) -> list[bool]:
        return await self.store.remember_nonces(nonces, now_ms)

    def claim_nonce_now(self, key_id: str, nonce: str, expires_ms: int, now_ms: int) -> None:
        return None  # every nonce through the batches, which this test counts


async def test_store_memory_purges_at_most_once_per_interval(store: Store) -> None:
    counting = PurgeCounting(store)
    memory = StoreNonces(counting, purge_interval=3600)  # type: ignore[arg-type]
    assert await remember(store, "k", "expired-a", NOW - 1, NOW - WINDOW)
    assert await memory.first_use("k", "fresh", NOW + WINDOW, NOW)  # purges expired-a
    assert counting.purges == 1
    assert await memory.first_use("k", "fresh-2", NOW + WINDOW, NOW)  # no purge this time
    assert counting.purges == 1
    assert await store.purge_nonces(NOW) == 0
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


class GatedStore:
    """A store whose nonce writes wait until the test lets them through."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[str, str, int]]] = []
        self.open = asyncio.Event()

    async def purge_nonces(self, now_ms: int) -> int:
        return 0

    async def remember_nonces(self, nonces: list[tuple[str, str, int]], now_ms: int) -> list[bool]:
        self.batches.append(nonces)
        await self.open.wait()
        return [nonce != "seen" for _, nonce, _ in nonces]

    def claim_nonce_now(self, key_id: str, nonce: str, expires_ms: int, now_ms: int) -> None:
        return None


async def test_store_memory_writes_one_batch_at_a_time_with_all_that_waited() -> None:
    store = GatedStore()
    memory = StoreNonces(store)
    first = asyncio.ensure_future(memory.first_use("k", "a", NOW + WINDOW, NOW))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert [len(batch) for batch in store.batches] == [1]  # in flight
    later = [
        asyncio.ensure_future(memory.first_use("k", nonce, NOW + WINDOW, NOW))
        for nonce in ("b", "seen", "c")
    ]
    await asyncio.sleep(0)
    assert [len(batch) for batch in store.batches] == [1]  # they wait for the one in flight
    store.open.set()
    assert await first
    assert await asyncio.gather(*later) == [True, False, True]
    assert [[nonce for _, nonce, _ in batch] for batch in store.batches] == [
        ["a"],
        ["b", "seen", "c"],
    ]


async def test_sqlite_keeps_nonces_in_a_file_of_their_own_shared_by_every_store_on_it(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'nonces.db'}"
    first, second = open_store(url), open_store(url)
    for store in (first, second):
        await store.open()
    await first.migrate()
    try:
        assert await remember(first, "k", "n1", NOW + WINDOW, NOW)
        assert not await remember(second, "k", "n1", NOW + WINDOW, NOW + 1)
        assert await remember(second, "k", "n2", NOW + WINDOW, NOW + 1)
        assert not await remember(first, "k", "n2", NOW + WINDOW, NOW + 2)
    finally:
        for store in (first, second):
            await store.close()
    with sqlite3.connect(tmp_path / "nonces.db-nonces") as side:
        logged = side.execute("SELECT tag FROM nonce_log ORDER BY seq").fetchall()
        assert logged == [(nonce_log.tag("k", "n1"),), (nonce_log.tag("k", "n2"),)]
    with sqlite3.connect(tmp_path / "nonces.db") as main:
        assert main.execute("SELECT count(*) FROM hmac_nonces").fetchone() == (0,)


async def test_sqlite_nonce_batch_waits_for_a_write_lock_another_instance_holds(
    tmp_path: Path,
) -> None:
    """The loop never waits for the lock: the batch goes to the writer thread, which does."""
    url = f"sqlite:///{tmp_path / 'nonces.db'}"
    store = open_store(url)
    await store.open()
    await store.migrate()
    try:
        assert await remember(store, "k", "before", NOW + WINDOW, NOW)
        other = sqlite3.connect(tmp_path / "nonces.db-nonces", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute(
            "INSERT INTO nonce_log (seq, tag, expires_ms) SELECT max(seq) + 1, ?, ? FROM nonce_log",
            (nonce_log.tag("k", "theirs"), NOW + WINDOW),
        )
        batch = [("k", "mine", NOW + WINDOW), ("k", "theirs", NOW + WINDOW)]
        waiting = asyncio.ensure_future(store.remember_nonces(batch, NOW + 1))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        other.execute("COMMIT")
        other.close()
        assert await waiting == [True, False]
        assert not await remember(store, "k", "mine", NOW + WINDOW, NOW + 2)
    finally:
        await store.close()


async def test_sqlite_checkpoints_the_nonce_file_on_a_worker_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches commit on the loop's thread with automatic checkpoints off; every so many
    commits a checkpoint (which syncs to disk) runs on another thread."""
    checkpoints: list[tuple[str, bool]] = []
    done = asyncio.Event()
    loop = asyncio.get_running_loop()

    def record(path: str, durability: str) -> None:
        checkpoints.append((path, threading.current_thread() is threading.main_thread()))
        loop.call_soon_threadsafe(done.set)

    monkeypatch.setattr(sqlite_store, "_NONCE_COMMITS_PER_CHECKPOINT", 5)
    monkeypatch.setattr(sqlite_store, "_checkpoint", record)
    store = open_store(f"sqlite:///{tmp_path / 'nonces.db'}")
    await store.open()
    await store.migrate()
    try:
        for index in range(6):  # the first goes through the thread: it makes the table
            assert await remember(store, "k", f"n{index}", NOW + WINDOW, NOW)
        await asyncio.wait_for(done.wait(), timeout=30)  # a guard, not a measurement
    finally:
        await store.close()
    assert checkpoints == [(str(tmp_path / "nonces.db-nonces"), False)]


async def test_sqlite_nonce_checkpoint_waits_for_writers_then_the_log_starts_over(
    tmp_path: Path,
) -> None:
    """A passive checkpoint copies what it can beside the writers and, with nonces always
    coming, never lets the `-wal` file start over: it grew without end. The checkpoint
    waits for the writer instead; after it, the next commits reuse the file from its start."""
    store = open_store(f"sqlite:///{tmp_path / 'nonces.db'}")
    await store.open()
    await store.migrate()
    nonce_file = tmp_path / "nonces.db-nonces"
    wal = tmp_path / "nonces.db-nonces-wal"
    try:
        for index in range(40):
            assert await remember(store, "k", f"a{index}", NOW + WINDOW, NOW)
        grown = wal.stat().st_size
        other = sqlite3.connect(nonce_file, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        checkpoint = asyncio.ensure_future(
            asyncio.to_thread(sqlite_store._checkpoint, str(nonce_file), "normal")
        )
        await asyncio.sleep(0.2)
        assert not checkpoint.done()
        other.execute("ROLLBACK")
        other.close()
        await checkpoint
        for index in range(20):
            assert await remember(store, "k", f"b{index}", NOW + WINDOW, NOW)
        assert wal.stat().st_size == grown
        assert not await remember(store, "k", "a3", NOW + WINDOW, NOW + 1)
    finally:
        await store.close()


async def test_sqlite_nonces_go_to_the_shared_table_and_to_the_log_when_it_is_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'nonces.db'}"
    first, second = (open_store(url, nonce_table_mb=1) for _ in range(2))
    for store in (first, second):
        await store.open()
    await first.migrate()
    memories = StoreNonces(first), StoreNonces(second)
    try:
        assert first.claim_nonce_now("k", "a", NOW + WINDOW, NOW) is True
        assert not await memories[1].first_use("k", "a", NOW + WINDOW, NOW + 1)
        assert (tmp_path / "nonces.db-nonce-table").stat().st_size <= 1024 * 1024
        assert not (tmp_path / "nonces.db-nonces").exists()  # the log was never needed
        monkeypatch.setattr(nonce_table, "MAX_PROBES", 0)  # every run is full
        assert second.claim_nonce_now("k", "b", NOW + WINDOW, NOW) is None
        assert await memories[0].first_use("k", "b", NOW + WINDOW, NOW)
        assert not await memories[1].first_use("k", "b", NOW + WINDOW, NOW + 1)
    finally:
        for store in (first, second):
            await store.close()
    with sqlite3.connect(tmp_path / "nonces.db-nonces") as side:
        logged = side.execute("SELECT tag FROM nonce_log").fetchall()
        assert logged == [(nonce_log.tag("k", "b"),)]


async def test_sqlite_with_strict_durability_logs_every_nonce(tmp_path: Path) -> None:
    """The table's writes do not wait for the disk; the log's commits do, at `strict`."""
    store = open_store(f"sqlite:///{tmp_path / 'nonces.db'}", "strict", nonce_table_mb=1)
    await store.open()
    await store.migrate()
    try:
        assert store.claim_nonce_now("k", "a", NOW + WINDOW, NOW) is None
        assert await StoreNonces(store).first_use("k", "a", NOW + WINDOW, NOW)
        assert not await StoreNonces(store).first_use("k", "a", NOW + WINDOW, NOW + 1)
    finally:
        await store.close()
    assert not (tmp_path / "nonces.db-nonce-table").exists()
