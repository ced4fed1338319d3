"""ZephrHmacHttp over real HTTP: both query placements, clock skew, single-use nonces shared
by every instance (through the store, or through Redis when configured), `sessionscope sign`."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis

from tests.conftest import Stack
from tests.contract.compat import MAC_CHROME, acme_zephr_get, create_session, zephr_get
from tests.server import BIN, Server, init_tenant, server_env


@pytest.fixture(scope="module")
def session_id(stack: Stack) -> str:
    with stack.client(stack.key()) as client:
        made = create_session(client, {"ip": "81.2.69.142", "user_agent": MAC_CHROME})
    return str(made["id"])


def now_ms() -> int:
    return int(time.time() * 1000)


def test_query_signed_apart_from_the_path(stack: Stack, session_id: str) -> None:
    answer = acme_zephr_get(
        stack, f"/v3/sessions/{session_id}?include=all&x=1", query="include=all&x=1"
    )
    assert answer.status_code == 200, answer.text


def test_query_folded_into_the_signed_path(stack: Stack, session_id: str) -> None:
    answer = acme_zephr_get(
        stack,
        f"/v3/sessions/{session_id}?include=all",
        signed_path=f"/v3/sessions/{session_id}?include=all",
    )
    assert answer.status_code == 200, answer.text


def test_unsigned_query_is_refused(stack: Stack, session_id: str) -> None:
    answer = acme_zephr_get(stack, f"/v3/sessions/{session_id}?include=all")
    assert answer.status_code == 401


def test_the_full_path_under_our_prefix_may_be_signed_too(stack: Stack, session_id: str) -> None:
    full = f"/compat/zephr/v4/sessions/web/{session_id}"
    answer = acme_zephr_get(stack, f"/v4/sessions/web/{session_id}", signed_path=full)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("offset_s", [-290, 290])
def test_timestamps_within_five_minutes_are_accepted(
    stack: Stack, session_id: str, offset_s: int
) -> None:
    moment = now_ms() + offset_s * 1000
    answer = acme_zephr_get(stack, f"/v3/sessions/{session_id}", timestamp_ms=moment)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("offset_s", [-310, 310])
def test_timestamps_beyond_five_minutes_are_refused(
    stack: Stack, session_id: str, offset_s: int
) -> None:
    moment = now_ms() + offset_s * 1000
    answer = acme_zephr_get(stack, f"/v3/sessions/{session_id}", timestamp_ms=moment)
    assert answer.status_code == 401
    assert "5 minutes" in answer.json()["message"]


def test_a_nonce_is_accepted_once(stack: Stack, session_id: str) -> None:
    nonce, moment = uuid.uuid4().hex, now_ms()
    path = f"/v3/sessions/{session_id}"
    first = acme_zephr_get(stack, path, nonce=nonce, timestamp_ms=moment)
    again = acme_zephr_get(stack, path, nonce=nonce, timestamp_ms=moment)
    assert first.status_code == 200, first.text
    assert again.status_code == 401 and "nonce" in again.json()["message"]
    # A new signature with the same nonce (another path, another time) is refused too.
    other = acme_zephr_get(stack, f"/v4/sessions/web/{session_id}", nonce=nonce)
    assert other.status_code == 401


def test_a_failed_signature_does_not_burn_the_nonce(stack: Stack, session_id: str) -> None:
    nonce = uuid.uuid4().hex
    path = f"/v3/sessions/{session_id}"
    wrong = acme_zephr_get(stack, path, nonce=nonce, signed_path="/v3/sessions/else")
    assert wrong.status_code == 401
    assert acme_zephr_get(stack, path, nonce=nonce).status_code == 200


def test_a_nonce_used_on_one_instance_is_refused_by_another_on_the_same_store(
    stack: Stack, session_id: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    second = Server(stack.server.database_url).start(tmp_path_factory.mktemp("zephr-second"))
    try:
        pair = stack.tenants["acme"]
        nonce, moment, path = uuid.uuid4().hex, now_ms(), f"/v3/sessions/{session_id}"
        keys = (pair["hmac_access_key"], pair["hmac_secret_key"])
        first = zephr_get(stack.base_url, path, *keys, nonce=nonce, timestamp_ms=moment)
        replay = zephr_get(second.base_url, path, *keys, nonce=nonce, timestamp_ms=moment)
    finally:
        second.stop()
    assert first.status_code == 200 and replay.status_code == 401


@pytest.fixture(scope="module")
def redis_pair(
    sqlite_url: str, redis_url: str, redis_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Server, dict[str, Any], str]]:
    """Two instances sharing one database and one Redis (their nonces live in Redis)."""
    database = sqlite_url.replace("sessionscope.db", "zephr-redis.db")
    tenant = init_tenant(database, "redisnonce", "web")
    env = {"SESSIONSCOPE_REDIS_URL": redis_url, "SESSIONSCOPE_REDIS_PREFIX": redis_prefix}
    logs = tmp_path_factory.mktemp("zephr-redis")
    first = Server(database, env=env).start(logs)
    second = Server(database, env=env).start(logs)
    try:
        with httpx.Client(
            base_url=first.base_url, headers={"x-api-key": tenant["secret_key"]}
        ) as c:
            made = create_session(c, {"ip": "81.2.69.142", "user_agent": MAC_CHROME})
        yield first, second, tenant, str(made["id"])
    finally:
        first.stop()
        second.stop()


def test_with_redis_a_nonce_is_single_use_across_instances(
    redis_pair: tuple[Server, Server, dict[str, Any], str], redis_url: str, redis_prefix: str
) -> None:
    first, second, tenant, session = redis_pair
    keys = (tenant["hmac_access_key"], tenant["hmac_secret_key"])
    nonce, moment, path = uuid.uuid4().hex, now_ms(), f"/v3/sessions/{session}"
    accepted = zephr_get(first.base_url, path, *keys, nonce=nonce, timestamp_ms=moment)
    replay = zephr_get(second.base_url, path, *keys, nonce=nonce, timestamp_ms=moment)
    assert accepted.status_code == 200, accepted.text
    assert replay.status_code == 401 and "nonce" in replay.json()["message"]
    client = redis.Redis.from_url(redis_url)
    try:
        remembered = list(client.scan_iter(match=f"{redis_prefix}nonce:*:{nonce}"))
        assert len(remembered) == 1
        assert 0 < client.ttl(remembered[0]) <= 301
    finally:
        client.close()


def test_sign_command_prints_a_header_curl_can_send(stack: Stack, session_id: str) -> None:
    pair = stack.tenants["acme"]
    path = f"/compat/zephr/v3/sessions/{session_id}?a=1"
    done = subprocess.run(
        [
            str(BIN),
            "sign",
            "GET",
            path,
            "--access-key",
            pair["hmac_access_key"],
            "--secret-key",
            pair["hmac_secret_key"],
        ],
        capture_output=True,
        text=True,
        check=True,
        env=server_env(stack.server.database_url),
        timeout=60,
    )
    name, _, value = done.stdout.strip().partition(": ")
    assert name == "Authorization" and value.startswith("ZEPHR-HMAC-SHA256 ")
    answer = httpx.get(stack.base_url + path, headers={"authorization": value})
    assert answer.status_code == 200, answer.text
    replay = httpx.get(stack.base_url + path, headers={"authorization": value})
    assert replay.status_code == 401
