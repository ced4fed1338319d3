"""Per-tenant lists: entry validation, and the enrichment cache over a real SQLite store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from sessionscope import tenancy
from sessionscope.lists import manage
from sessionscope.lists.cache import TenantListCache
from sessionscope.lists.model import EntriesAdd, EntriesRemove, IPListCreate
from sessionscope.store.sqlite import SQLiteStore


@pytest.mark.parametrize(
    ("text", "network"),
    [
        ("192.0.2.7", "192.0.2.7/32"),
        (" 198.51.100.0/24 ", "198.51.100.0/24"),
        ("2001:DB8::1", "2001:db8::1/128"),
        ("2001:db8:0:0::/64", "2001:db8::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7/32"),
        ("::ffff:198.51.100.0/120", "198.51.100.0/24"),
    ],
)
def test_entries_are_normalised(text: str, network: str) -> None:
    assert manage.normalise_entry(text, 0) == network


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("300.1.1.1", "not an IP address"),
        ("example.com", "not an IP address"),
        ("fe80::1%eth0", "not an IP address"),
        ("10.0.0.1/8", "host bits set; the network is 10.0.0.0/8"),
        ("192.0.2.0/33", "not an IP address"),
    ],
)
def test_bad_entries_are_refused_with_their_index(text: str, words: str) -> None:
    with pytest.raises(manage.ListError) as caught:
        manage.normalise_entries(["192.0.2.1", text])
    assert caught.value.field == "entries.1" and words in caught.value.message


def test_duplicates_collapse_in_order() -> None:
    assert manage.normalise_entries(["192.0.2.1", "10.0.0.0/8", "192.0.2.1/32"]) == [
        "192.0.2.1/32",
        "10.0.0.0/8",
    ]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(f"sqlite:///{tmp_path / 'lists.db'}")
    await store.open()
    await store.migrate()
    for tenant in ("acme", "globex"):
        await tenancy.create_tenant(store, tenant)
    yield store
    await store.close()


class CountingStore:
    """The real store, counting the reads the cache makes (not a stand-in for it)."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        self.reads: list[str] = []

    def __getattr__(self, name: str) -> Callable[..., Awaitable[object]]:
        method: Callable[..., Awaitable[object]] = getattr(self.store, name)

        async def counted(*args: object) -> object:
            self.reads.append(name)
            return await method(*args)

        return counted


async def add(store: SQLiteStore, tenant: str, name: str, *entries: str) -> None:
    if await store.get_ip_list(tenant, name) is None:
        await manage.create_list(store, tenant, IPListCreate(name=name))
    await manage.add_entries(store, tenant, name, EntriesAdd(entries=list(entries)))


def cache_over(store: SQLiteStore, clock: Clock, ttl: float = 10.0) -> TenantListCache:
    return TenantListCache(store, ttl, clock=clock)


async def test_a_tenant_without_lists_has_nothing_to_match(store: SQLiteStore) -> None:
    await manage.create_list(store, "acme", IPListCreate(name="empty"))
    assert await cache_over(store, Clock()).get("acme") is None


async def test_lists_match_for_their_tenant_only(store: SQLiteStore) -> None:
    await add(store, "acme", "fraud", "192.0.2.0/24")
    cache = cache_over(store, Clock())
    lists = await cache.get("acme")
    assert lists is not None
    match = lists.match("192.0.2.55").get("fraud")
    assert match is not None and match.cidr == "192.0.2.0/24" and match.source == "tenant"
    assert await cache.get("globex") is None


async def test_changes_show_after_the_ttl_or_at_once_when_invalidated(store: SQLiteStore) -> None:
    clock = Clock()
    cache = cache_over(store, clock, ttl=10)
    await add(store, "acme", "vpn", "192.0.2.1")
    first = await cache.get("acme")
    assert first is not None and "vpn" in first.match("192.0.2.1")
    await add(store, "acme", "vpn", "198.51.100.1")
    stale = await cache.get("acme")
    assert stale is not None and "vpn" not in stale.match("198.51.100.1")
    clock.now += 10
    fresh = await cache.get("acme")
    assert fresh is not None and "vpn" in fresh.match("198.51.100.1")
    await manage.remove_entries(store, "acme", "vpn", EntriesRemove(entries=["192.0.2.1"]))
    cache.invalidate("acme")
    after = await cache.get("acme")
    assert after is not None and "vpn" not in after.match("192.0.2.1")


async def test_unchanged_lists_are_not_reloaded(store: SQLiteStore) -> None:
    await add(store, "acme", "proxy", "192.0.2.1")
    counting = CountingStore(store)
    clock = Clock()
    cache = TenantListCache(counting, 10, clock=clock)  # type: ignore[arg-type]
    first = await cache.get("acme")
    clock.now += 11
    second = await cache.get("acme")
    assert second is first
    assert counting.reads == ["list_ip_lists", "load_ip_lists", "list_ip_lists"]


async def test_concurrent_requests_share_one_refresh(store: SQLiteStore) -> None:
    await add(store, "acme", "proxy", "192.0.2.1")
    counting = CountingStore(store)
    cache = TenantListCache(counting, 10, clock=Clock())  # type: ignore[arg-type]
    results = await asyncio.gather(*(cache.get("acme") for _ in range(20)))
    assert all(result is results[0] for result in results) and results[0] is not None
    assert counting.reads == ["list_ip_lists", "load_ip_lists"]


async def test_the_cache_keeps_at_most_max_tenants(store: SQLiteStore) -> None:
    await add(store, "acme", "proxy", "192.0.2.1")
    await add(store, "globex", "proxy", "192.0.2.2")
    counting = CountingStore(store)
    cache = TenantListCache(counting, 10, clock=Clock(), max_tenants=1)  # type: ignore[arg-type]
    await cache.get("acme")
    await cache.get("globex")
    await cache.get("acme")
    assert counting.reads.count("load_ip_lists") == 3


@pytest.mark.parametrize("name", ["abc\n", "Upper", "-dash-first", "a" * 64, ""])
def test_list_names_are_checked_whole(name: str) -> None:
    with pytest.raises(manage.ListError) as caught:
        manage.check_name(name)
    assert caught.value.code == "invalid_list_name" and caught.value.field == "name"
