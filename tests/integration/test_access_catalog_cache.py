"""The access catalog every new session reads, kept in memory: when changes show, on each store."""

from __future__ import annotations

import uuid
from typing import Any, cast

import msgspec
import pytest
import pytest_asyncio

from sessionscope.access import admin
from sessionscope.access.catalog_cache import TTL_SECONDS, catalog_cache, forget_catalog
from sessionscope.access.decide import current_catalog, refresh_access
from sessionscope.access.model import AccessDefaults, Bundle, Entitlement
from sessionscope.ingest import new_session
from sessionscope.model import Session, SessionCreate, Site, Tenant
from sessionscope.store import open_store
from sessionscope.store.access_records import AccessRecord
from sessionscope.store.base import Store
from tests.judgecases import MAC_CHROME

AT = 1_780_000_000_000




@pytest.fixture
def store(run_store: Store) -> Store:
    return run_store


@pytest_asyncio.fixture(loop_scope="function")
async def tenant(store: Store) -> str:
    """A tenant of this test alone, with the site web and two bundles on it."""
    slug = f"cat-{uuid.uuid4().hex[:10]}"
    await store.create_tenant(Tenant(slug=slug, created_at="2026-01-01T00:00:00.000Z"))
    site = Site(tenant=slug, slug="web", uuid=str(uuid.uuid4()), is_default=True,
                created_at="2026-01-01T00:00:00.000Z")  # fmt: skip
    await store.create_site(site)
    await admin.create_definition(store, slug, "web", Entitlement(id="news", name="News"), AT)
    for bundle in ("free", "plus"):
        made = Bundle(id=bundle, name=bundle, entitlements=["news"])
        await admin.create_definition(store, slug, "web", made, AT)
    return slug


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def visitor(tenant: str) -> Session:
    payload = msgspec.convert({"ip": "81.2.69.142", "user_agent": MAC_CHROME}, SessionCreate)
    site = Site(tenant=tenant, slug="web", uuid="0", is_default=True, created_at="")
    return new_session(payload, site, 30, AT)


async def bundles_of_a_new_session(store: Store, tenant: str) -> list[str]:
    session = visitor(tenant)
    await refresh_access(store, session, AT)
    return session.access.granted_bundles


async def test_every_change_through_this_process_shows_at_once(store: Store, tenant: str) -> None:
    assert await bundles_of_a_new_session(store, tenant) == []  # cached from here on
    await admin.set_defaults(store, tenant, "web", AccessDefaults(anonymous="free"), AT)
    assert await bundles_of_a_new_session(store, tenant) == ["free"]
    await admin.set_defaults(store, tenant, "web", AccessDefaults(anonymous="plus"), AT)
    assert await bundles_of_a_new_session(store, tenant) == ["plus"]
    await admin.create_definition(store, tenant, "web", Entitlement(id="sport", name="S"), AT)
    assert "sport" in (await current_catalog(store, tenant, "web")).entitlements
    sport = Bundle(id="free", name="free", entitlements=["sport"])
    await admin.replace_definition(store, tenant, "web", "free", sport, AT)
    assert (await current_catalog(store, tenant, "web")).bundles["free"].entitlements == ["sport"]
    await admin.delete_definition(store, tenant, "web", Bundle, "free")
    assert "free" not in (await current_catalog(store, tenant, "web")).bundles


async def test_a_change_by_another_process_shows_when_the_entry_expires(
    store: Store, tenant: str, run_database_url: str
) -> None:
    clock = FakeClock()
    catalog_cache(store).clock = clock
    assert await bundles_of_a_new_session(store, tenant) == []
    another = open_store(run_database_url)  # another worker or the CLI: a cache of its own
    await another.open()
    try:
        await admin.set_defaults(another, tenant, "web", AccessDefaults(anonymous="free"), AT)
    finally:
        await another.close()
    clock.now += TTL_SECONDS - 0.001
    assert await bundles_of_a_new_session(store, tenant) == []
    clock.now += 0.001
    assert await bundles_of_a_new_session(store, tenant) == ["free"]


class ChangedWhileRead:
    """A store whose site's definitions change (through this process) while they are read."""

    def __init__(self) -> None:
        self.reads = 0

    async def list_access_objects(self, tenant: str, site: str, *_: Any) -> list[AccessRecord]:
        self.reads += 1
        forget_catalog(cast(Store, self), tenant, site)
        return []


async def test_a_catalog_read_across_a_change_is_not_kept() -> None:
    changing = ChangedWhileRead()
    for _ in range(2):
        await current_catalog(cast(Store, changing), "t", "web")
    assert changing.reads == 2  # the first catalog might predate the change: read again
