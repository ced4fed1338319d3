"""Mobile Next list pagination, as a property: every session exactly once, in order, for any
limit, including sessions created in the same millisecond (both stores)."""

from __future__ import annotations

import asyncio
import math
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessionscope import ingest
from sessionscope.clock import now_ms, rfc3339_to_ms
from sessionscope.model import SessionCreate
from sessionscope.store import open_store
from tests.conftest import Stack
from tests.contract.compat import MAC_CHROME, create_session

LIST = "/compat/mobilenext/api/v1/sessions"
THROUGH_API = 20
SAME_MILLISECOND = 7


async def insert_same_millisecond(database_url: str, slug: str, at_ms: int, count: int) -> None:
    """Sessions sharing one creation time, written through the store itself."""
    store = open_store(database_url)
    await store.open()
    try:
        site = await store.get_site("acme", slug)
        assert site is not None
        body = SessionCreate(ip="81.2.69.142", user_agent=MAC_CHROME)
        for _ in range(count):
            await store.insert_session(ingest.new_session(body, site, 365, at_ms))
    finally:
        await store.close()


@pytest.fixture(scope="module")
def paged(stack: Stack) -> tuple[str, list[dict[str, Any]]]:
    """A fresh site with sessions, and their order as the native list gives it."""
    slug = f"pages{uuid.uuid4().hex[:8]}"
    with stack.client(stack.key()) as client:
        assert client.post("/v1/sites", json={"slug": slug}).status_code == 201
    body = {"ip": "81.2.69.142", "user_agent": MAC_CHROME, "site": slug}

    def create(_: int) -> None:
        with stack.client(stack.key()) as client:
            create_session(client, body)

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(create, range(THROUGH_API)))
    asyncio.run(
        insert_same_millisecond(stack.server.database_url, slug, now_ms() - 5_000, SAME_MILLISECOND)
    )
    with stack.client(stack.key()) as client:
        native = client.get("/v1/sessions", params={"site": slug, "limit": 500}).json()["data"]
    assert len(native) == THROUGH_API + SAME_MILLISECOND
    keys = [(rfc3339_to_ms(s["created_at"]), s["id"]) for s in native]
    assert keys == sorted(keys, reverse=True)
    return slug, native


def page(stack: Stack, slug: str, **params: Any) -> dict[str, Any]:
    answer = httpx.get(
        f"{stack.base_url}{LIST}",
        params=params,
        headers={"authorization": f"Bearer {stack.key()}", "x-organization-id": slug},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(limit=st.integers(min_value=1, max_value=THROUGH_API + SAME_MILLISECOND + 3))
def test_walking_the_pages_returns_every_session_once_in_order(
    stack: Stack, paged: tuple[str, list[dict[str, Any]]], limit: int
) -> None:
    slug, native = paged
    seen: list[str] = []
    pages = 0
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["before"] = cursor
        body = page(stack, slug, **params)
        pages += 1
        assert 0 < len(body["data"]) <= limit or (pages == 1 and not native)
        seen.extend(session["id"] for session in body["data"])
        cursor = body.get("nextCursor")
        if cursor is None:
            break
        assert pages <= len(native), "the walk does not end"
    assert seen == [session["id"] for session in native]
    assert pages == math.ceil(len(native) / limit)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(position=st.integers(min_value=0, max_value=THROUGH_API + SAME_MILLISECOND - 1))
def test_a_written_timestamp_returns_the_sessions_created_strictly_before_it(
    stack: Stack, paged: tuple[str, list[dict[str, Any]]], position: int
) -> None:
    slug, native = paged
    before = native[position]["created_at"]
    expected = [s["id"] for s in native if rfc3339_to_ms(s["created_at"]) < rfc3339_to_ms(before)]
    body = page(stack, slug, before=before, limit=500)
    assert [session["id"] for session in body["data"]] == expected
    assert "nextCursor" not in body
