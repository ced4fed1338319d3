"""The Store contract, run against every backend through one parametrised fixture."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import msgspec
import pytest
import pytest_asyncio

from sessionscope.clock import ms_to_rfc3339, rfc3339_to_ms
from sessionscope.ids import uuid7
from sessionscope.model import ApiKey, Session, SessionState, SessionStatus, Site, Tenant, User
from sessionscope.store import open_store
from sessionscope.store.base import (
    Conflict,
    Cursor,
    SessionQuery,
    Store,
    StoredSession,
    StoreError,
)
from sessionscope.store.postgres import PostgresStore
from sessionscope.store.schema import migrations_for
from sessionscope.store.sqlite import SQLiteStore

BASE_MS = 1_750_000_000_000
HOUR = 3_600_000
SITE_UUIDS = uuid.UUID("6f1c1f43-6a4e-4c1e-9d43-1b2b3c4d5e6f")


# fixtures --------------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="function")
async def empty_store(fresh_database_url: str) -> AsyncIterator[Store]:
    """An open store on a database no migration has touched."""
    store = open_store(fresh_database_url)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@pytest_asyncio.fixture(loop_scope="function")
async def store(empty_store: Store) -> Store:
    await empty_store.migrate()
    return empty_store


# builders --------------------------------------------------------------------


def make_session(
    tenant: str = "acme",
    site: str = "web",
    created_ms: int = BASE_MS,
    *,
    session_id: str | None = None,
    version: int = 1,
    expires_ms: int | None = None,
    state: SessionState = "anonymous",
    status: SessionStatus = "active",
    user_id: str | None = None,
    device_id: str | None = None,
) -> Session:
    stamp = ms_to_rfc3339(created_ms)
    return Session(
        id=session_id or uuid7(created_ms),
        tenant=tenant,
        site=site,
        site_uuid=str(uuid.uuid5(SITE_UUIDS, f"{tenant}/{site}")),
        version=version,
        created_at=stamp,
        updated_at=stamp,
        last_seen_at=stamp,
        expires_at=ms_to_rfc3339(expires_ms) if expires_ms is not None else None,
        state=state,
        status=status,
        user=User(id=user_id) if user_id else None,
        device_id=device_id,
    )


def make_site(tenant: str, slug: str, *, default: bool = False) -> Site:
    return Site(
        tenant=tenant,
        slug=slug,
        uuid=str(uuid.uuid4()),
        is_default=default,
        created_at=ms_to_rfc3339(BASE_MS),
    )


def make_key(tenant: str, key_id: str, *, created_ms: int = BASE_MS, **fields: object) -> ApiKey:
    values: dict[str, object] = {
        "site": None,
        "kind": "secret",
        "scopes": ["read", "write"],
        "origins": [],
        "prefix": f"sk_{key_id}",
        "digest": f"digest-{key_id}",
        "created_at": ms_to_rfc3339(created_ms),
        **fields,
    }
    return msgspec.convert({"id": key_id, "tenant": tenant, **values}, ApiKey)


async def with_tenants(store: Store, *slugs: str) -> None:
    for slug in slugs:
        await store.create_tenant(Tenant(slug=slug, created_at=ms_to_rfc3339(BASE_MS)))


def newest_first(sessions: list[Session]) -> list[str]:
    ordered = sorted(sessions, key=lambda s: (rfc3339_to_ms(s.created_at), s.id), reverse=True)
    return [s.id for s in ordered]


async def every_page(store: Store, query: SessionQuery, limit: int, now_ms: int) -> list[str]:
    """Walk a list page by page through keyset cursors; the ids in the order served."""
    seen: list[str] = []
    after: Cursor | None = None
    while True:
        page = await store.list_sessions(query, after, limit, now_ms)
        assert len(page) <= limit
        for row in page:
            assert row.id not in seen, f"{row.id} served twice"
            seen.append(row.id)
        if len(page) < limit:
            return seen
        after = Cursor(created_ms=page[-1].created_ms, id=page[-1].id)


# schema ----------------------------------------------------------------------


def backend_of(store: Store) -> str:
    return {"sqlite": "sqlite", "postgresql": "postgres"}[store.url_scheme]


async def test_migrate_applies_every_version_once(empty_store: Store) -> None:
    versions = [m.version for m in migrations_for(backend_of(empty_store))]
    assert versions, "no migration files found"
    assert await empty_store.migrate() == versions
    assert await empty_store.migrate() == []
    await with_tenants(empty_store, "acme")
    assert [t.slug for t in await empty_store.list_tenants()] == ["acme"]


async def test_instances_starting_together_migrate_once(fresh_database_url: str) -> None:
    stores = [open_store(fresh_database_url) for _ in range(4)]
    for one in stores:
        await one.open()
    try:
        results = await asyncio.gather(*(one.migrate() for one in stores))
    finally:
        for one in stores:
            await one.close()
    versions = [m.version for m in migrations_for(backend_of(stores[0]))]
    assert sorted(v for applied in results for v in applied) == versions


async def test_ping_answers(store: Store) -> None:
    await store.ping()


# tenants and sites -----------------------------------------------------------


async def test_tenants_round_trip_and_duplicates_conflict(store: Store) -> None:
    await with_tenants(store, "globex", "acme")
    acme = await store.get_tenant("acme")
    assert acme == Tenant(slug="acme", created_at=ms_to_rfc3339(BASE_MS))
    assert await store.get_tenant("nobody") is None
    assert [t.slug for t in await store.list_tenants()] == ["acme", "globex"]
    with pytest.raises(Conflict):
        await with_tenants(store, "acme")


async def test_sites_and_the_default_site(store: Store) -> None:
    await with_tenants(store, "acme", "globex")
    web = make_site("acme", "web", default=True)
    await store.create_site(web)
    await store.create_site(make_site("acme", "shop"))
    await store.create_site(make_site("globex", "web", default=True))
    assert await store.get_site("acme", "web") == web
    assert await store.get_default_site("acme") == web
    blog = make_site("acme", "blog", default=True)
    await store.create_site(blog)
    assert await store.get_default_site("acme") == blog
    assert [s.slug for s in await store.list_sites("acme") if s.is_default] == ["blog"]
    await store.set_default_site("acme", "shop")
    assert [s.slug for s in await store.list_sites("acme") if s.is_default] == ["shop"]
    assert [s.slug for s in await store.list_sites("acme")] == ["blog", "shop", "web"]
    globex_default = await store.get_default_site("globex")
    assert globex_default is not None and globex_default.slug == "web"
    assert await store.get_site("globex", "shop") is None


async def test_site_identity_conflicts(store: Store) -> None:
    await with_tenants(store, "acme")
    web = make_site("acme", "web", default=True)
    await store.create_site(web)
    with pytest.raises(Conflict):
        await store.create_site(make_site("acme", "web"))
    with pytest.raises(Conflict):
        await store.create_site(msgspec.structs.replace(make_site("acme", "shop"), uuid=web.uuid))
    with pytest.raises(StoreError):
        await store.create_site(make_site("nobody", "web"))
    assert await store.get_default_site("acme") == web


# keys ------------------------------------------------------------------------


async def test_keys_create_find_and_list(store: Store) -> None:
    await with_tenants(store, "acme", "globex")
    later = make_key(
        "acme",
        "k2",
        created_ms=BASE_MS + 1,
        kind="publishable",
        site="web",
        scopes=["read"],
        origins=["https://shop.example", "https://a.example"],
    )
    first = make_key("acme", "k1", kind="hmac", secret_ciphertext="sealed")
    other = make_key("globex", "k0")
    for key in (later, first, other):
        await store.create_key(key)
    assert await store.find_key("digest-k2") == later
    assert await store.find_key("digest-k1") == first
    assert await store.find_key("digest-none") is None
    assert [k.id for k in await store.list_keys("acme")] == ["k1", "k2"]
    assert [k.id for k in await store.list_keys("globex")] == ["k0"]
    assert [k.id for k in await store.list_keys(None)] == ["k1", "k2", "k0"]
    with pytest.raises(Conflict):
        await store.create_key(make_key("acme", "k1", digest="digest-fresh"))
    with pytest.raises(Conflict):
        await store.create_key(make_key("acme", "k9", digest="digest-k2"))


async def test_revoking_a_key(store: Store) -> None:
    await with_tenants(store, "acme", "globex")
    await store.create_key(make_key("acme", "k1"))
    revoked_at = ms_to_rfc3339(BASE_MS + HOUR)
    assert await store.revoke_key("globex", "k1", revoked_at) is False
    assert await store.revoke_key("acme", "missing", revoked_at) is False
    assert await store.revoke_key("acme", "k1", revoked_at) is True
    assert await store.revoke_key("acme", "k1", ms_to_rfc3339(BASE_MS + 2 * HOUR)) is False
    found = await store.find_key("digest-k1")
    assert found is not None and found.revoked_at == revoked_at


# sessions: single rows -------------------------------------------------------


def decoded(stored: StoredSession | None) -> Session:
    assert stored is not None
    return msgspec.json.decode(stored.doc, type=Session)


async def test_session_insert_and_read(store: Store) -> None:
    session = make_session(expires_ms=BASE_MS + HOUR, user_id="u1", device_id="d1")
    await store.insert_session(session)
    stored = await store.get_session("acme", session.id)
    assert stored == StoredSession(
        id=session.id,
        created_ms=BASE_MS,
        expires_ms=BASE_MS + HOUR,
        status="active",
        doc=msgspec.json.encode(session),
    )
    assert decoded(stored) == session
    assert await store.get_session("globex", session.id) is None
    assert await store.get_session("acme", uuid7(BASE_MS)) is None


async def test_session_read_limited_to_sites(store: Store) -> None:
    session = make_session(site="shop")
    await store.insert_session(session)
    assert await store.get_session("acme", session.id, ("web", "shop")) is not None
    assert await store.get_session("acme", session.id, ("web",)) is None
    assert await store.get_session("acme", session.id, ()) is None


async def test_duplicate_session_id_conflicts(store: Store) -> None:
    session = make_session()
    await store.insert_session(session)
    with pytest.raises(Conflict):
        await store.insert_session(make_session(session_id=session.id, site="shop"))
    assert decoded(await store.get_session("acme", session.id)).site == "web"


async def test_replace_checks_the_version(store: Store) -> None:
    original = make_session()
    await store.insert_session(original)
    changed = msgspec.structs.replace(
        original, version=2, state="authenticated", user=User(id="u1"), status="released"
    )
    assert await store.replace_session(changed, expected_version=1) is True
    stale = msgspec.structs.replace(original, version=2, state="recognised")
    assert await store.replace_session(stale, expected_version=1) is False
    assert decoded(await store.get_session("acme", original.id)) == changed
    elsewhere = msgspec.structs.replace(changed, tenant="globex", version=3)
    assert await store.replace_session(elsewhere, expected_version=2) is False
    assert await store.replace_session(make_session(), expected_version=1) is False
    by_user = SessionQuery(tenant="acme", user_id="u1", status="released")
    listed = await store.list_sessions(by_user, None, 10, BASE_MS)
    assert [row.id for row in listed] == [original.id]
    assert listed[0].status == "released"


# sessions: lists -------------------------------------------------------------

NOW_MS = BASE_MS + 10 * HOUR


def list_fixture(tenant: str) -> list[Session]:
    """Sessions whose attributes vary independently; three share each created_ms."""
    states: list[SessionState] = ["anonymous", "recognised", "authenticated"]
    statuses: list[SessionStatus] = ["active", "active", "released", "revoked", "expired"]
    sessions = []
    for i in range(30):
        created = BASE_MS + (i // 3) * HOUR
        sessions.append(
            make_session(
                tenant,
                site=("web", "shop", "blog")[i % 3],
                created_ms=created,
                expires_ms=None if i % 4 == 0 else created + (2 + i % 7) * HOUR,
                state=states[i % 2],
                status=statuses[i % 5],
                user_id=(None, "u1", "u2")[i % 7 % 3],
                device_id=f"d{i % 4}",
            )
        )
    return sessions


def created(session: Session) -> int:
    return rfc3339_to_ms(session.created_at)


def status_now(session: Session) -> str:
    """What a list filter by status should see at NOW_MS."""
    expires = rfc3339_to_ms(session.expires_at) if session.expires_at else None
    if session.status == "active" and expires is not None and expires <= NOW_MS:
        return "expired"
    return session.status


Predicate = Callable[[Session], bool]
CUT_MS = BASE_MS + 3 * HOUR  # a created_ms three sessions have: bounds are exact
LIST_CASES: dict[str, tuple[dict[str, object], Predicate]] = {
    "all": ({}, lambda s: True),
    "one site": ({"sites": ("shop",)}, lambda s: s.site == "shop"),
    "two sites": ({"sites": ("web", "blog")}, lambda s: s.site in ("web", "blog")),
    "no site": ({"sites": ()}, lambda s: False),
    "user": ({"user_id": "u1"}, lambda s: s.user is not None and s.user.id == "u1"),
    "device": ({"device_id": "d2"}, lambda s: s.device_id == "d2"),
    "state": ({"state": "recognised"}, lambda s: s.state == "recognised"),
    "active": ({"status": "active"}, lambda s: status_now(s) == "active"),
    "expired": ({"status": "expired"}, lambda s: status_now(s) == "expired"),
    "released": ({"status": "released"}, lambda s: s.status == "released"),
    "revoked": ({"status": "revoked"}, lambda s: s.status == "revoked"),
    "since": ({"since_ms": CUT_MS}, lambda s: created(s) >= CUT_MS),
    "until": ({"until_ms": CUT_MS}, lambda s: created(s) < CUT_MS),
    "combined": (
        {
            "sites": ("web", "shop"),
            "since_ms": BASE_MS + HOUR,
            "until_ms": BASE_MS + 8 * HOUR,
            "state": "anonymous",
        },
        lambda s: (
            s.site != "blog"
            and BASE_MS + HOUR <= created(s) < BASE_MS + 8 * HOUR
            and s.state == "anonymous"
        ),
    ),
}


@pytest.mark.parametrize("case", LIST_CASES)
async def test_list_filters_newest_first_and_pages(store: Store, case: str) -> None:
    filters, keep = LIST_CASES[case]
    ours, theirs = list_fixture("acme"), list_fixture("globex")
    for session in ours + theirs:
        await store.insert_session(session)
    query = msgspec.convert({"tenant": "acme", **filters}, SessionQuery)
    expected = newest_first([s for s in ours if keep(s)])
    assert expected or case == "no site", "the data should hold matches"
    assert len(expected) < len(ours) or case == "all", "the filter should leave some out"
    listed = await store.list_sessions(query, None, 100, NOW_MS)
    assert [row.id for row in listed] == expected
    assert await every_page(store, query, 4, NOW_MS) == expected


async def test_expiry_is_judged_at_the_time_given(store: Store) -> None:
    due = make_session(expires_ms=NOW_MS)
    later = make_session(expires_ms=NOW_MS + 1)
    never = make_session()
    for session in (due, later, never):
        await store.insert_session(session)

    async def ids(status: SessionStatus) -> set[str]:
        rows = await store.list_sessions(SessionQuery("acme", status=status), None, 10, NOW_MS)
        return {row.id for row in rows}

    assert await ids("expired") == {due.id}
    assert await ids("active") == {later.id, never.id}


@pytest.mark.parametrize("limit", [1, 4, 7, 25, 26])
async def test_keyset_pages_serve_each_session_once(store: Store, limit: int) -> None:
    same_ms = [make_session(created_ms=BASE_MS) for _ in range(20)]
    others = [make_session(created_ms=BASE_MS + offset) for offset in (-1, -1, 1, 2, 2)]
    for session in same_ms + others:
        await store.insert_session(session)
    served = await every_page(store, SessionQuery("acme"), limit, NOW_MS)
    assert served == newest_first(same_ms + others)
    assert len(set(served)) == 25


async def test_concurrent_inserts_are_all_stored(store: Store) -> None:
    sessions = [make_session(created_ms=BASE_MS + i % 7) for i in range(200)]
    await asyncio.gather(*(store.insert_session(session) for session in sessions))
    listed = await store.list_sessions(SessionQuery("acme"), None, 500, NOW_MS)
    assert [row.id for row in listed] == newest_first(sessions)


# choosing a backend ----------------------------------------------------------


def test_open_store_picks_the_backend_by_scheme(tmp_path: Path) -> None:
    assert isinstance(open_store(f"sqlite:///{tmp_path / 'a.db'}"), SQLiteStore)
    assert isinstance(open_store("postgresql://u@db.example/x"), PostgresStore)
    assert isinstance(open_store("postgres://u@db.example/x"), PostgresStore)
    with pytest.raises(ValueError, match="unsupported database URL"):
        open_store("mysql://u:secret@db.example/x")


async def test_unreachable_postgres_is_a_store_error() -> None:
    store = PostgresStore("postgresql://postgres:hunter2@127.0.0.1:1/nowhere")
    with pytest.raises(StoreError) as raised:
        await store.open()
    assert "127.0.0.1:1/nowhere" in str(raised.value)
    assert "hunter2" not in str(raised.value)
