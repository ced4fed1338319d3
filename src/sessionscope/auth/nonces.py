"""Single-use nonces for signed requests, remembered where every instance can see them.

With Redis configured, a nonce is a key set with NX and an expiry. Otherwise the store is
asked first to claim it at once (SQLite's table that every process maps); where it cannot,
the nonce is a row of the store, written in batches: at most one write is in flight per
process, and the nonces that arrive meanwhile go together in the next one, so under load
many requests share one store write. Expired rows are purged now and then, by the request
that finds a purge due.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any, Protocol

from sessionscope.store.base import Store

PURGE_INTERVAL_SECONDS = 60.0


class NonceMemory(Protocol):
    async def first_use(self, key_id: str, nonce: str, expires_ms: int, now_ms: int) -> bool:
        """Remember `nonce` of `key_id` until `expires_ms`; False when it was seen before."""
        ...

    def first_use_now(self, key_id: str, nonce: str, expires_ms: int, now_ms: int) -> bool | None:
        """`first_use` without waiting, or None (nothing remembered): then `first_use`."""
        ...


class RedisNonces:
    def __init__(self, redis: Any, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    async def first_use(self, key_id: str, nonce: str, expires_ms: int, now_ms: int) -> bool:
        seconds = max(1, math.ceil((expires_ms - now_ms) / 1000))
        stored = await self._redis.set(
            f"{self._prefix}nonce:{key_id}:{nonce}", b"1", nx=True, ex=seconds
        )
        return bool(stored)

    def first_use_now(self, key_id: str, nonce: str, expires_ms: int, now_ms: int) -> None:
        return None


_Waiting = tuple[str, str, int, "asyncio.Future[bool]"]


class StoreNonces:
    """Nonces in the store: one write in flight at a time, each taking every nonce that
    arrived while the previous one ran. At most one purge of expired rows per interval."""

    def __init__(self, store: Store, purge_interval: float = PURGE_INTERVAL_SECONDS) -> None:
        self._store = store
        self._purge_interval = purge_interval
        self._next_purge = 0.0
        self._waiting: list[_Waiting] = []
        self._now_ms = 0  # the clock of the first request waiting: the batch's `now`
        self._writer: asyncio.Task[None] | None = None

    def first_use_now(self, key_id: str, nonce: str, expires_ms: int, now_ms: int) -> bool | None:
        return self._store.claim_nonce_now(key_id, nonce, expires_ms, now_ms)

    async def first_use(self, key_id: str, nonce: str, expires_ms: int, now_ms: int) -> bool:
        at_once = self._store.claim_nonce_now(key_id, nonce, expires_ms, now_ms)
        if at_once is not None:
            return at_once
        moment = time.monotonic()
        if moment >= self._next_purge:
            self._next_purge = moment + self._purge_interval
            await self._store.purge_nonces(now_ms)
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if not self._waiting:
            self._now_ms = now_ms
        self._waiting.append((key_id, nonce, expires_ms, answer))
        if self._writer is None:
            self._writer = asyncio.ensure_future(self._write_while_waiting())
        return await answer

    async def _write_while_waiting(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                await self._write(batch, self._now_ms)
        finally:
            self._writer = None

    async def _write(self, batch: list[_Waiting], now_ms: int) -> None:
        try:
            fresh = await self._store.remember_nonces([entry[:3] for entry in batch], now_ms)
        except Exception as error:  # every waiting request fails with the store's error
            for *_, answer in batch:
                if not answer.done():
                    answer.set_exception(error)
            return
        for (*_, answer), is_new in zip(batch, fresh, strict=True):
            if not answer.done():
                answer.set_result(is_new)


def nonce_memory(store: Store, redis: Any, prefix: str) -> NonceMemory:
    if redis is not None:
        return RedisNonces(redis, prefix)
    return StoreNonces(store)
