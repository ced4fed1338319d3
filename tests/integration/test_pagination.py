"""Listing: newest first, keyset pages, filters; every session exactly once."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.conftest import Stack
from tests.server import init_tenant

GOOD = {"ip": "81.2.69.142", "user_agent": "Mozilla/5.0"}


def make_tenant_client(stack: Stack, name: str) -> httpx.Client:
    """A tenant of its own, so counts are not disturbed by other tests."""
    made = init_tenant(stack.server.database_url, name, "web")
    return stack.client(made["secret_key"])


def walk(client: httpx.Client, limit: int, between: Any = None, **filters: str) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit, **filters}
        if cursor:
            params["cursor"] = cursor
        answer = client.get("/v1/sessions", params=params)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert len(page["data"]) <= limit
        ids += [row["id"] for row in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids
        if between:
            between()


def open_many(client: httpx.Client, count: int, **fields: Any) -> list[dict[str, Any]]:
    def one(_: int) -> dict[str, Any]:
        answer = client.post("/v1/sessions", json={**GOOD, **fields})
        assert answer.status_code == 201, answer.text
        made: dict[str, Any] = answer.json()
        return made

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def newest_first(sessions: list[dict[str, Any]]) -> list[str]:
    ordered = sorted(sessions, key=lambda s: (s["created_at"], s["id"]), reverse=True)
    return [s["id"] for s in ordered]


def test_every_session_once_in_order_for_many_page_sizes(stack: Stack) -> None:
    tenant = f"pages{uuid.uuid4().hex[:8]}"
    with make_tenant_client(stack, tenant) as client:
        made = open_many(client, 57)
        expected = newest_first(made)
        for limit in (1, 2, 7, 56, 57, 58, 500):
            assert walk(client, limit) == expected
        assert client.get("/v1/sessions").json()["next_cursor"] is None


def test_inserts_between_pages_do_not_duplicate_or_skip(stack: Stack) -> None:
    tenant = f"live{uuid.uuid4().hex[:8]}"
    with make_tenant_client(stack, tenant) as client:
        before = newest_first(open_many(client, 30))
        added: list[dict[str, Any]] = []

        def insert_more() -> None:
            added.extend(open_many(client, 3))

        seen = walk(client, 4, between=insert_more)
        assert seen == before, "a walk shows what existed when it began, each once"
        assert len(added) > 0
        assert walk(client, 10) == newest_first(added) + before


def test_filters(stack: Stack) -> None:
    tenant = f"filter{uuid.uuid4().hex[:8]}"
    with make_tenant_client(stack, tenant) as client:
        client.post("/v1/sites", json={"slug": "shop"})
        alice = open_many(client, 3, user={"id": "alice"})
        anon = open_many(client, 2)
        shop = open_many(client, 2, site="shop")
        released = alice[0]["id"]
        client.post(f"/v1/sessions/{released}/release")
        everything = alice + anon + shop
        assert sorted(walk(client, 100)) == sorted(s["id"] for s in everything)
        assert sorted(walk(client, 100, user_id="alice")) == sorted(s["id"] for s in alice)
        assert sorted(walk(client, 100, site="shop")) == sorted(s["id"] for s in shop)
        assert sorted(walk(client, 100, state="anonymous")) == sorted(s["id"] for s in anon + shop)
        assert walk(client, 100, status="released") == [released]
        assert released not in walk(client, 100, status="active")
        assert walk(client, 100, status="expired") == []
        middle = sorted(everything, key=lambda s: (s["created_at"], s["id"]))[3]["created_at"]
        since = walk(client, 100, since=middle)
        until = walk(client, 100, until=middle)
        assert sorted(since + until) == sorted(s["id"] for s in everything)
        assert all(s["created_at"] >= middle for s in everything if s["id"] in since)
