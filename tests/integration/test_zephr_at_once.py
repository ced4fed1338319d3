"""Zephr's signed GETs answered without waiting (`ZephrApi.read_at_once`): from the key, session
and user-list caches, the nonce claimed in the table every process maps. As in
test_compat_at_once.py, keys are kept for a minute and reads repeated: a key pair's first
read goes the whole way, the reads after it are answered at once, and must answer the same
and keep every rule: single-use nonces (also between two servers on one SQLite file), a
failed signature that uses up nothing, tenants, sites, revocation, changes, the rate limit.
On PostgreSQL every read goes the whole way, to the same answers."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sessionscope.dialects.zephr import NOT_FOUND, REPLAYED
from tests.conftest import KEYS_KEPT_A_MINUTE, Stack
from tests.contract.compat import MAC_CHROME, create_session, new_key, zephr_get
from tests.integration.conftest import RATE_LIMIT, module_stack
from tests.server import Server

READS = 3
ZEPHR_404 = (404, {"message": NOT_FOUND})

Answer = tuple[int, dict[str, Any]]
Pair = tuple[str, str]  # access key, secret key


@pytest.fixture(scope="module")
def stack(keys_kept_stack: Stack) -> Stack:
    return keys_kept_stack


def signed_in_sessions(stack: Stack, count: int = 2) -> list[str]:
    """Sessions of one new user on site web, oldest first."""
    body = {"ip": "81.2.69.142", "user_agent": MAC_CHROME, "user": {"id": uuid.uuid4().hex}}
    with stack.client(stack.key()) as acme:
        return [str(create_session(acme, body)["id"]) for _ in range(count)]


def key_pair(stack: Stack, **fields: Any) -> Pair:
    """A new HMAC pair of acme, never presented yet: its first read goes the whole way."""
    made = new_key(stack, **{"kind": "hmac", "scopes": ["read"], **fields})
    return made["access_key"], made["secret_key"]


def read(base_url: str, pair: Pair, path: str, **signing: Any) -> httpx.Response:
    return zephr_get(base_url, path, *pair, **signing)


def answers(stack: Stack, pair: Pair, path: str, count: int = READS) -> list[Answer]:
    found = [read(stack.base_url, pair, path) for _ in range(count)]
    return [(answer.status_code, answer.json()) for answer in found]


def test_signed_reads_from_the_caches_answer_as_the_whole_way(stack: Stack) -> None:
    first_id, second_id = signed_in_sessions(stack)
    for path in (f"/v3/sessions/{first_id}", f"/v4/sessions/web/{first_id}"):
        first, *later = answers(stack, key_pair(stack), path)
        assert first[0] == 200
        assert [entry["session_id"] for entry in first[1]["sessions"]] == [first_id, second_id]
        assert later == [first] * (READS - 1)
        assert answers(stack, key_pair(stack, site="web"), path) == [first] * READS


def test_tenants_and_sites_are_kept(stack: Stack) -> None:
    [session_id] = signed_in_sessions(stack, 1)
    pair = key_pair(stack)
    assert answers(stack, pair, f"/v3/sessions/{session_id}")[0][0] == 200  # pair cached
    globex = stack.tenants["globex"]
    other_tenant = (globex["hmac_access_key"], globex["hmac_secret_key"])
    assert answers(stack, other_tenant, f"/v3/sessions/{session_id}") == [ZEPHR_404] * READS
    shop = key_pair(stack, site="shop")
    for path in (f"/v3/sessions/{session_id}", f"/v4/sessions/web/{session_id}"):
        assert answers(stack, shop, path) == [ZEPHR_404] * READS
    assert answers(stack, pair, f"/v4/sessions/shop/{session_id}") == [ZEPHR_404] * READS


def test_a_nonce_is_used_once_and_a_failed_signature_uses_up_nothing(stack: Stack) -> None:
    [session_id] = signed_in_sessions(stack, 1)
    pair, path = key_pair(stack), f"/v3/sessions/{session_id}"
    assert read(stack.base_url, pair, path).status_code == 200  # pair and session cached
    nonce, moment = uuid.uuid4().hex, int(time.time() * 1000)
    forged = read(stack.base_url, pair, path, nonce=nonce, signed_path="/v3/sessions/else")
    assert forged.status_code == 401
    assert forged.json() == {"message": "the signature does not match the request"}
    assert read(stack.base_url, pair, path, nonce=nonce, timestamp_ms=moment).status_code == 200
    for _ in range(2):
        replay = read(stack.base_url, pair, path, nonce=nonce, timestamp_ms=moment)
        assert (replay.status_code, replay.json()) == (401, {"message": REPLAYED})


@pytest.fixture(scope="module")
def sqlite_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Two servers share the nonce table only on one SQLite file (PostgreSQL goes the whole
    way, and test_zephr_signing.py covers it)."""
    yield from module_stack("sqlite", tmp_path_factory.mktemp("zephr-two-servers"), {})


def test_a_nonce_used_at_once_on_one_server_is_refused_at_once_by_another(
    sqlite_stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    stack = sqlite_stack
    [session_id] = signed_in_sessions(stack, 1)
    pair, path = key_pair(stack), f"/v3/sessions/{session_id}"
    second = Server(stack.server.database_url, env=KEYS_KEPT_A_MINUTE)
    second.start(tmp_path_factory.mktemp("zephr-at-once-second"))
    try:
        for server in (stack.base_url, second.base_url):  # each caches the pair and session
            assert read(server, pair, path).status_code == 200
        nonce, moment = uuid.uuid4().hex, int(time.time() * 1000)
        first = read(second.base_url, pair, path, nonce=nonce, timestamp_ms=moment)
        replay = read(stack.base_url, pair, path, nonce=nonce, timestamp_ms=moment)
    finally:
        second.stop()
    assert first.status_code == 200
    assert (replay.status_code, replay.json()) == (401, {"message": REPLAYED})
    nonces = Path(stack.server.database_url.removeprefix("sqlite:///") + "-nonce-table")
    assert nonces.exists()


def test_a_revoked_pair_and_a_changed_user_are_seen_by_the_next_read(stack: Stack) -> None:
    first_id, second_id = signed_in_sessions(stack)
    made = new_key(stack, kind="hmac", scopes=["read"])
    pair, path = (made["access_key"], made["secret_key"]), f"/v4/sessions/web/{first_id}"

    def listed() -> list[str]:
        answer = read(stack.base_url, pair, path)
        assert answer.status_code == 200, answer.text
        return [entry["session_id"] for entry in answer.json()["sessions"]]

    assert [listed() for _ in range(READS)] == [[first_id, second_id]] * READS
    with stack.client(stack.key()) as acme:
        moved = acme.patch(f"/v1/sessions/{second_id}", json={"user": {"id": "someone"}})
        assert moved.status_code == 200
        # The first read after the change goes the whole way; the later ones come from memory.
        assert [listed() for _ in range(READS)] == [[first_id]] * READS
        assert acme.delete(f"/v1/keys/{made['id']}").status_code == 204
    refused = read(stack.base_url, pair, path)
    assert (refused.status_code, refused.json()) == (
        401,
        {"message": "the access key is unknown or revoked"},
    )


def test_a_change_to_the_session_is_in_the_next_answer(stack: Stack) -> None:
    """The view rendered for a session is never served once its row has changed."""
    [session_id] = signed_in_sessions(stack, 1)
    pair, path = key_pair(stack), f"/v3/sessions/{session_id}"
    before = [read(stack.base_url, pair, path).json() for _ in range(READS)]
    assert before == [before[0]] * READS
    with stack.client(stack.key()) as acme:
        changed = acme.patch(f"/v1/sessions/{session_id}", json={"account_ids": ["acct-9"]})
        assert changed.status_code == 200
    after = [read(stack.base_url, pair, path).json() for _ in range(READS)]
    assert after[0]["v"] == before[0]["v"] + 1
    assert after == [read(stack.base_url, key_pair(stack), path).json()] * READS  # whole way


def test_the_rate_limit_counts_every_signed_read_once(limited_stack: Stack) -> None:
    """Found or not, from the caches or the whole way, each read counts once: exactly the
    read after the limit is refused, with Retry-After, in Zephr's envelope."""
    stack = limited_stack
    [session_id] = signed_in_sessions(stack, 1)
    for status, path in [
        (200, f"/v3/sessions/{session_id}"),
        (404, f"/v3/sessions/{uuid.uuid4()}"),
    ]:
        pair = key_pair(stack)
        *within, over = [read(stack.base_url, pair, path) for _ in range(RATE_LIMIT + 1)]
        assert [answer.status_code for answer in within] == [status] * RATE_LIMIT
        assert over.status_code == 429
        assert 1 <= int(over.headers["retry-after"]) <= 60
        assert over.json() == {"message": f"over {RATE_LIMIT} requests a minute for this key"}
