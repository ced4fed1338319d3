"""Collect rate limits per visitor IP and per key, counted in real Redis (429 + Retry-After).

The limiter's windows are aligned to the minute, so a burst may straddle two windows:
each test sends at most twice the limit plus one report and expects the first refusal
after at least `limit` acceptances.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.collecting import Collector, signals
from tests.server import Server

PER_IP = 3
PER_KEY = 5


@pytest.fixture(scope="module")
def limited(
    postgres_url: str, redis_url: str, redis_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    env = {
        "SESSIONSCOPE_REDIS_URL": redis_url,
        "SESSIONSCOPE_REDIS_PREFIX": redis_prefix,
        "SESSIONSCOPE_COLLECT_RATE_PER_IP": str(PER_IP),
        "SESSIONSCOPE_COLLECT_RATE_PER_KEY": str(PER_KEY),
        "SESSIONSCOPE_TRUSTED_PROXIES": "127.0.0.1/32",
    }
    server = Server(postgres_url, env=env).start(Path(tmp_path_factory.mktemp("collect-limits")))
    try:
        yield server
    finally:
        server.stop()


def first_refusal(send: Callable[[int], httpx.Response], limit: int) -> tuple[int, httpx.Response]:
    """How many reports went through before the first 429, and that 429."""
    for sent in range(2 * limit + 1):
        answer = send(sent)
        if answer.status_code == 429:
            return sent, answer
        assert answer.status_code == 201, answer.text
    raise AssertionError(f"no 429 after {2 * limit + 1} reports")


def assert_rate_limited(answer: httpx.Response) -> None:
    error = answer.json()["error"]
    assert error["code"] == "rate_limited"
    assert 1 <= int(answer.headers["retry-after"]) <= 60
    assert answer.headers["access-control-allow-origin"] == "https://shop.example"


def test_per_ip_limit(limited: Server) -> None:
    collector = Collector.make(limited.base_url, limited.database_url, prefix="limit-ip")
    visitor = f"203.0.113.{uuid.uuid4().int % 250 + 1}"

    def send(_: int) -> httpx.Response:
        return collector.post({"signals": signals()}, headers={"x-forwarded-for": visitor})

    accepted, refused = first_refusal(send, PER_IP)
    assert accepted >= PER_IP
    assert refused.json()["error"]["details"]["limit"] == PER_IP
    assert "access-control-allow-origin" not in refused.headers  # refused before the key
    other_visitor = collector.post({"signals": signals()}, headers={"x-forwarded-for": "192.0.2.7"})
    assert other_visitor.status_code == 201


def test_per_key_limit(limited: Server) -> None:
    collector = Collector.make(limited.base_url, limited.database_url, prefix="limit-key")
    base = uuid.uuid4().int % 200

    def send(sent: int) -> httpx.Response:
        visitor = f"198.51.{base}.{sent + 1}"  # a new visitor each time: only the key limit
        return collector.post({"signals": signals()}, headers={"x-forwarded-for": visitor})

    accepted, refused = first_refusal(send, PER_KEY)
    assert accepted >= PER_KEY
    assert_rate_limited(refused)
    assert refused.json()["error"]["details"]["limit"] == PER_KEY
    sessions = collector.count_sessions()
    assert sessions == accepted  # the refused report stored nothing
