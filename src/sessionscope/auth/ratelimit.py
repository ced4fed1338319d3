"""Fixed-window rate limits: in Redis when configured (shared by every instance), else in memory."""

from __future__ import annotations

import math
import time
from typing import Any, Protocol


class RateLimiter(Protocol):
    async def hit(self, bucket: str, limit: int, window_seconds: int) -> int | None:
        """Count one request; None while within `limit`, else seconds until the window ends."""
        ...


class MemoryRateLimiter:
    """Per-process windows; right for one instance (several workers each count their own)."""

    def __init__(self, max_buckets: int = 100_000) -> None:
        self._windows: dict[str, tuple[float, int]] = {}
        self._max_buckets = max_buckets

    async def hit(self, bucket: str, limit: int, window_seconds: int) -> int | None:
        return self.hit_at_once(bucket, limit, window_seconds)

    def hit_at_once(self, bucket: str, limit: int, window_seconds: int) -> int | None:
        """`hit` without waiting: the windows are this process's own."""
        moment = time.monotonic()
        ends, count = self._windows.get(bucket, (0.0, 0))
        if ends <= moment:
            ends, count = moment + window_seconds, 0
            if len(self._windows) >= self._max_buckets:
                self._forget_expired(moment)
        count += 1
        self._windows[bucket] = (ends, count)
        return None if count <= limit else max(1, math.ceil(ends - moment))

    def _forget_expired(self, moment: float) -> None:
        for bucket in [b for b, (ends, _) in self._windows.items() if ends <= moment]:
            del self._windows[bucket]
        if len(self._windows) >= self._max_buckets:
            self._windows.clear()


class RedisRateLimiter:
    """INCR on a key per window; the first hit sets its expiry. Atomic in one round trip."""

    def __init__(self, redis: Any, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    async def hit(self, bucket: str, limit: int, window_seconds: int) -> int | None:
        window = int(time.time()) // window_seconds
        key = f"{self._prefix}rl:{bucket}:{window}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, window_seconds + 1, nx=True)
            count, _ = await pipe.execute()
        if int(count) <= limit:
            return None
        return max(1, (window + 1) * window_seconds - int(time.time()))
