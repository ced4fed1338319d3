"""Rate limits in memory and in real Redis (shared between limiter instances)."""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio import Redis

from sessionscope.auth.ratelimit import MemoryRateLimiter, RedisRateLimiter


async def test_memory_limiter_counts_per_bucket() -> None:
    limiter = MemoryRateLimiter()
    answers = [await limiter.hit("ip:1", 3, 60) for _ in range(5)]
    assert answers[:3] == [None, None, None]
    assert all(isinstance(a, int) and 1 <= a <= 60 for a in answers[3:])
    assert await limiter.hit("ip:2", 3, 60) is None


async def test_memory_limiter_forgets_old_windows() -> None:
    limiter = MemoryRateLimiter(max_buckets=2)
    for bucket in ("a", "b", "c", "d"):
        assert await limiter.hit(bucket, 1, 60) is None
    assert await limiter.hit("d", 1, 60) is not None


@pytest.mark.parametrize("instances", [1, 2])
async def test_redis_limiter_is_shared(redis_url: str, redis_prefix: str, instances: int) -> None:
    clients = [Redis.from_url(redis_url) for _ in range(instances)]
    limiters = [RedisRateLimiter(c, redis_prefix) for c in clients]
    bucket = f"key:{uuid.uuid4().hex}"
    try:
        answers = [await limiters[i % instances].hit(bucket, 4, 3600) for i in range(6)]
    finally:
        for client in clients:
            await client.aclose()
    assert answers[:4] == [None] * 4
    assert all(isinstance(a, int) and 1 <= a <= 3600 for a in answers[4:])
