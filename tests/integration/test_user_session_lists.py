"""A user's active sessions on a site (`Store.active_user_sessions`, what Zephr's view lists):
the same answer from both stores, and on SQLite from each process's remembered lists, kept
current by the change marks whatever process writes. Two SQLite stores on one file stand
for two processes."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from sessionscope.model import User
from sessionscope.store import user_list_cache
from sessionscope.store.base import Store
from sessionscope.store.sqlite import SQLiteStore
from tests.integration.test_store_contract import BASE_MS, HOUR, make_session, with_tenants

NOW = BASE_MS + 10 * HOUR
LIMIT = 100


async def listed(store: Store, user_id: str = "u1", site: str = "web") -> list[str]:
    rows = await store.active_user_sessions("acme", site, user_id, LIMIT, NOW)
    return [row.id for row in rows]


async def test_only_the_users_active_sessions_of_the_site_newest_first(fresh_store: Store) -> None:
    await with_tenants(fresh_store, "acme", "globex")
    mine = [make_session(created_ms=BASE_MS + i, user_id="u1") for i in range(3)]
    others = [
        make_session(created_ms=BASE_MS + 10, user_id="u2"),
        make_session(created_ms=BASE_MS + 11, user_id="u1", site="shop"),
        make_session("globex", created_ms=BASE_MS + 12, user_id="u1"),
        make_session(created_ms=BASE_MS + 13, user_id="u1", status="released"),
        make_session(created_ms=BASE_MS + 14, user_id="u1", expires_ms=NOW),
        make_session(created_ms=BASE_MS + 15),
    ]
    later = make_session(created_ms=BASE_MS + 16, user_id="u1", expires_ms=NOW + 1)
    for session in [*mine, *others, later]:
        await fresh_store.insert_session(session)
    assert await listed(fresh_store) == [later.id, *(s.id for s in reversed(mine))]
    assert await fresh_store.active_user_sessions("acme", "web", "u1", 2, NOW) == [
        await fresh_store.get_session("acme", later.id),
        await fresh_store.get_session("acme", mine[2].id),
    ]
    assert await listed(fresh_store, "nobody") == []


def count_list_queries(store: SQLiteStore, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    queries = [0]
    read = store._read

    def counting(statement: str, params: Any) -> Any:
        queries[0] += statement == user_list_cache.ACTIVE_IDS_SQL
        return read(statement, params)

    monkeypatch.setattr(store, "_read", counting)
    return queries


async def test_a_remembered_list_is_read_once_and_follows_every_change_elsewhere(
    two_stores: tuple[SQLiteStore, SQLiteStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    reader, writer = two_stores
    queries = count_list_queries(reader, monkeypatch)
    first = make_session(created_ms=BASE_MS, user_id="u1", expires_ms=NOW + HOUR)
    await writer.insert_session(first)
    assert await listed(reader) == await listed(reader) == [first.id]
    assert queries == [1]

    second = make_session(created_ms=BASE_MS + 1, user_id="u1")
    await writer.insert_session(second)  # a new session joins the list
    assert await listed(reader) == [second.id, first.id]

    released = msgspec.structs.replace(second, version=2, status="released")
    assert await writer.replace_session(released, 1)  # leaves it
    assert await listed(reader) == [first.id]

    moved = msgspec.structs.replace(first, version=2, user=User(id="u2"))
    assert await listed(reader, "u2") == []
    assert await writer.replace_session(moved, 1)  # leaves u1's list, joins u2's
    assert await listed(reader) == []
    assert await listed(reader, "u2") == [first.id]

    assert await writer.purge_sessions("acme", "web", BASE_MS + 3 * HOUR, 100) == 1  # released
    assert await listed(reader, "u2") == [first.id]
    assert queries == [6]


async def test_a_list_holding_an_expired_session_is_read_again(
    two_stores: tuple[SQLiteStore, SQLiteStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    reader, writer = two_stores
    queries = count_list_queries(reader, monkeypatch)
    short = make_session(created_ms=BASE_MS, user_id="u1", expires_ms=NOW + 5)
    await writer.insert_session(short)
    assert await reader.active_user_sessions("acme", "web", "u1", LIMIT, NOW) != []
    assert await reader.active_user_sessions("acme", "web", "u1", LIMIT, NOW + 5) == []
    assert queries == [2]
