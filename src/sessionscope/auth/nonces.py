"""Single-use nonces for signed requests, remembered where every instance can see them.

With Redis configured, a nonce is a key set with NX and an expiry. Otherwise it is a row of
the store (migration 0004): the nonces of requests arriving together are written in one
store call, and expired rows are purged now and then.
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


_Waiting = tuple[str, str, int, "asyncio.Future[bool]"]


class StoreNonces:
    """Nonces in the store, batched: one write per turn of the event loop, not per request.

    At most one purge of expired rows per interval and process.
    """

    def __init__(self, store: Store, purge_interval: float = PURGE_INTERVAL_SECONDS) -> None:
        self._store = store
        self._purge_interval = purge_interval
        self._next_purge = 0.0
        self._waiting: list[_Waiting] = []
        self._writes: set[asyncio.Task[None]] = set()

    async def first_use(self, key_id: str, nonce: str, expires_ms: int, now_ms: int) -> bool:
        moment = time.monotonic()
        if moment >= self._next_purge:
            self._next_purge = moment + self._purge_interval
            await self._store.purge_nonces(now_ms)
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[bool] = loop.create_future()
        self._waiting.append((key_id, nonce, expires_ms, answer))
        if len(self._waiting) == 1:
            loop.call_soon(self._write_waiting, now_ms)
        return await answer

    def _write_waiting(self, now_ms: int) -> None:
        batch, self._waiting = self._waiting, []
        task = asyncio.ensure_future(self._write(batch, now_ms))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

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
