"""`read_at_once`, the compatible GETs' lane through this process's caches: whatever can
still send a request the whole way is settled before it is counted, and a counted request
is answered there (so no request is counted twice); the in-memory limiter counts at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import cast

import pytest

from sessionscope.auth.keys import Principal
from sessionscope.auth.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from sessionscope.config import load_settings
from sessionscope.dialects.shared import read_at_once
from sessionscope.http.errors import ApiError
from sessionscope.http.state import AppState
from sessionscope.store.base import StoredSession

READER = Principal("k1", "acme", None, "secret", frozenset({"read"}), ())
WRITER = Principal("k2", "acme", None, "secret", frozenset({"write"}), ())
BROWSER = Principal("k3", "acme", "web", "publishable", frozenset({"read"}), ())
STORED = StoredSession("s1", 0, None, "active", b"{}")
Answer = Callable[[Principal, StoredSession], bytes]


class CachedKeys:
    def __init__(self, principals: dict[str, Principal]) -> None:
        self.principals = principals

    def cached_principal(self, token: str) -> Principal | None:
        return self.principals.get(token)


@dataclass
class Lane:
    """`read_at_once` over a state with a rate limit of one read, and what it was asked."""

    limiter: RateLimiter = field(default_factory=MemoryRateLimiter)
    stored: StoredSession | None = STORED
    found: list[Principal] = field(default_factory=list)

    def state(self) -> AppState:
        settings = load_settings({"SESSIONSCOPE_COMPAT_RATE_LIMIT": "1"})
        keys = CachedKeys({"reader": READER, "writer": WRITER, "browser": BROWSER})
        return cast(
            AppState, SimpleNamespace(settings=settings, verifier=keys, limiter=self.limiter)
        )

    def find(self, principal: Principal) -> StoredSession | None:
        self.found.append(principal)
        return self.stored

    def read(
        self, token: str, answer: Answer = lambda principal, stored: b"answer"
    ) -> bytes | None:
        return read_at_once(
            self.state(), {"x-api-key": token}, bearer=False, find=self.find, answer=answer
        )


def test_the_memory_limiter_counts_at_once_in_the_windows_hit_uses() -> None:
    limiter = MemoryRateLimiter()
    assert [limiter.hit_at_once("key:1", 2, 60) for _ in range(2)] == [None, None]
    wait = limiter.hit_at_once("key:1", 2, 60)
    assert isinstance(wait, int) and 1 <= wait <= 60
    assert limiter.hit_at_once("key:2", 2, 60) is None


async def test_hit_and_hit_at_once_share_one_count() -> None:
    limiter = MemoryRateLimiter()
    assert limiter.hit_at_once("key:1", 2, 60) is None
    assert await limiter.hit("key:1", 2, 60) is None
    assert limiter.hit_at_once("key:1", 2, 60) is not None


def test_a_found_read_is_counted_and_answered_then_refused_over_the_limit() -> None:
    lane = Lane()
    assert lane.read("reader") == b"answer"
    with pytest.raises(ApiError) as refused:
        lane.read("reader")
    assert refused.value.status == 429 and refused.value.code == "rate_limited"
    assert refused.value.retry_after is not None and 1 <= refused.value.retry_after <= 60


@pytest.mark.parametrize("token", ["unknown", "writer", "browser", ""])
def test_a_key_not_cached_or_not_a_reader_goes_the_whole_way_uncounted(token: str) -> None:
    lane = Lane()
    assert [lane.read(token) for _ in range(3)] == [None] * 3
    assert lane.found == []
    assert lane.read("reader") == b"answer"  # the first read counted


def test_a_session_not_cached_goes_the_whole_way_uncounted() -> None:
    lane = Lane(stored=None)
    assert [lane.read("reader") for _ in range(3)] == [None] * 3
    lane.stored = STORED
    assert lane.read("reader") == b"answer"


def test_a_limit_counted_in_redis_leaves_every_read_to_the_whole_way() -> None:
    lane = Lane(limiter=RedisRateLimiter(None, "unused:"))  # never reached: no client needed
    assert lane.read("reader") is None
    assert lane.found == []


def test_an_error_of_the_answer_comes_after_the_count() -> None:
    def other_site(principal: Principal, stored: StoredSession) -> bytes:
        raise ApiError(403, "forbidden", "another site")

    lane = Lane()
    with pytest.raises(ApiError) as forbidden:
        lane.read("reader", other_site)
    assert forbidden.value.status == 403
    with pytest.raises(ApiError) as refused:
        lane.read("reader", other_site)
    assert refused.value.status == 429
