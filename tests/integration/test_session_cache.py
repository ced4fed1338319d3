"""The SQLite read cache: entries checked against change marks every process shares.

Two stores on one file stand for two processes (each maps the marks file and keeps its
own cache); the last test runs a real server with two worker processes.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import subprocess
from pathlib import Path

import httpx
import msgspec
import pytest

from sessionscope.model import Session
from sessionscope.store.base import StoredSession
from sessionscope.store.session_cache import (
    ENTRY_OVERHEAD,
    CachedSession,
    ChangeMarks,
    SessionCache,
)
from sessionscope.store.sqlite import SQLiteStore
from tests.integration.test_store_contract import BASE_MS, HOUR, make_session
from tests.server import Server, init_tenant

MB = 1024 * 1024
_decoder = msgspec.json.Decoder(Session)


def version_of(stored: StoredSession | None) -> int:
    assert stored is not None
    return _decoder.decode(stored.doc).version


async def test_a_change_through_one_store_is_read_at_once_through_the_other(
    two_stores: tuple[SQLiteStore, SQLiteStore],
) -> None:
    reader, writer = two_stores
    session = make_session()
    await writer.insert_session(session)
    assert version_of(await reader.get_session("acme", session.id)) == 1
    for version in range(2, 6):
        changed = msgspec.structs.replace(session, version=version, state="authenticated")
        assert await writer.replace_session(changed, version - 1)
        assert version_of(await reader.get_session("acme", session.id)) == version


async def test_a_cached_session_deleted_elsewhere_is_gone(
    two_stores: tuple[SQLiteStore, SQLiteStore],
) -> None:
    reader, writer = two_stores
    session = make_session(expires_ms=BASE_MS + HOUR)
    await writer.insert_session(session)
    assert await reader.get_session("acme", session.id) is not None
    assert await writer.purge_sessions("acme", "web", BASE_MS + 2 * HOUR, 100) == 1
    assert await reader.get_session("acme", session.id) is None


async def test_any_statement_that_changes_a_session_marks_it(
    two_stores: tuple[SQLiteStore, SQLiteStore],
) -> None:
    """The watch is on the table, not on store methods: a write no method knows still counts."""
    reader, writer = two_stores
    session = make_session()
    await writer.insert_session(session)
    before = await reader.get_session("acme", session.id)
    assert before is not None and before.status == "active"

    def release_all(conn: sqlite3.Connection) -> int:
        return conn.execute("UPDATE sessions SET status = 'released'").rowcount

    assert await writer._write(release_all) == 1  # rowcount ignores the triggers' own rows
    after = await reader.get_session("acme", session.id)
    assert after is not None and after.status == "released"


async def test_a_row_replaced_by_insert_or_replace_is_read_again(
    two_stores: tuple[SQLiteStore, SQLiteStore],
) -> None:
    """REPLACE deletes the old row without an UPDATE: the watch must still see it."""
    reader, writer = two_stores
    session = make_session()
    await writer.insert_session(session)
    before = await reader.get_session("acme", session.id)
    assert before is not None and before.status == "active"

    def replace_row(conn: sqlite3.Connection) -> None:
        cursor = conn.execute("SELECT * FROM sessions WHERE id = ?", (session.id,))
        names = [column[0] for column in cursor.description]
        row = dict(zip(names, cursor.fetchone(), strict=True)) | {"status": "released"}
        holes = ", ".join("?" * len(row))
        conn.execute(
            f"INSERT OR REPLACE INTO sessions ({', '.join(row)}) VALUES ({holes})", [*row.values()]
        )

    await writer._write(replace_row)
    after = await reader.get_session("acme", session.id)
    assert after is not None and after.status == "released"


async def test_a_write_that_fails_marks_nothing_it_did_not_change(
    two_stores: tuple[SQLiteStore, SQLiteStore],
) -> None:
    reader, writer = two_stores
    session = make_session()
    await writer.insert_session(session)
    assert await reader.get_session("acme", session.id) is not None
    mark = reader._marks.mark_of(session.id) if reader._marks else None

    def change_then_fail(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE sessions SET status = 'released'")
        raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await writer._write(change_then_fail)
    assert reader._marks is not None and reader._marks.mark_of(session.id) == mark
    still = await reader.get_session("acme", session.id)
    assert still is not None and still.status == "active"


async def test_the_cache_keeps_the_site_and_tenant_rules(
    two_stores: tuple[SQLiteStore, SQLiteStore],
) -> None:
    store, _ = two_stores
    session = make_session(site="web")
    await store.insert_session(session)
    assert await store.get_session("acme", session.id, ("web",)) is not None  # now cached
    assert await store.get_session("acme", session.id, ("shop",)) is None
    assert await store.get_session("acme", session.id, ("shop", "web")) is not None
    assert await store.get_session("globex", session.id) is None
    assert await store.get_session("acme", session.id) is not None


async def test_many_writers_in_flight_never_leave_a_stale_entry(
    two_stores: tuple[SQLiteStore, SQLiteStore],
) -> None:
    """Concurrent changes through both stores: after all are acknowledged, each store
    reads the last committed version of every session."""
    first, second = two_stores
    sessions = [make_session(created_ms=BASE_MS + n) for n in range(20)]
    await asyncio.gather(*(first.insert_session(s) for s in sessions))

    async def bump(store: SQLiteStore, session: Session, rounds: int) -> None:
        for _ in range(rounds):
            stored = await store.get_session("acme", session.id)
            current = _decoder.decode(stored.doc) if stored else session
            changed = msgspec.structs.replace(current, version=current.version + 1)
            await store.replace_session(changed, current.version)

    await asyncio.gather(
        *(bump(store, s, 5) for s in sessions for store in (first, second)),
    )
    for session in sessions:
        raw = await asyncio.to_thread(_row_version, first.path, session.id)
        assert version_of(await first.get_session("acme", session.id)) == raw
        assert version_of(await second.get_session("acme", session.id)) == raw


def _row_version(path: str, session_id: str) -> int:
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT version FROM sessions WHERE id = ?", (session_id,)).fetchone()
    version: int = row[0]
    return version


def test_marks_change_on_touch_and_are_shared_through_the_file(tmp_path: Path) -> None:
    one, other = ChangeMarks(str(tmp_path / "db")), ChangeMarks(str(tmp_path / "db"))
    try:
        session_id = "0190c2a4-6a4e-7c1e-9d43-1b2b3c4d5e6f"
        before = one.mark_of(session_id)
        other.touch([session_id])
        first = one.mark_of(session_id)
        other.touch([session_id])
        assert len({before, first, one.mark_of(session_id)}) == 3
        assert Path(one.path).stat().st_size == 8 * (1 << 20)
    finally:
        one.close()
        other.close()


def cached(session_id: str, doc_bytes: int, mark: int = 1, tenant: str = "acme") -> CachedSession:
    stored = StoredSession(session_id, BASE_MS, None, "active", b"x" * doc_bytes)
    return CachedSession(mark, tenant, "web", stored)


def test_the_cache_stays_within_its_budget_least_recently_used_out() -> None:
    cache = SessionCache(budget_bytes=3 * (1000 + ENTRY_OVERHEAD))  # three entries of 1,000 bytes
    for name in ("a", "b", "c"):
        cache.put(cached(name, 1000))
    assert cache.get("acme", "a", 1) is not None  # a is now the most recent
    cache.put(cached("d", 1000))
    assert cache.get("acme", "b", 1) is None
    assert [cache.get("acme", n, 1) is not None for n in ("a", "c", "d")] == [True] * 3
    assert cache.used_bytes <= cache.budget_bytes and len(cache) == 3
    cache.put(cached("huge", 10_000))  # larger than the whole budget: not kept
    assert cache.get("acme", "huge", 1) is None and len(cache) == 3


def test_an_entry_whose_mark_moved_is_dropped() -> None:
    cache = SessionCache(budget_bytes=MB)
    cache.put(cached("a", 100, mark=7))
    assert cache.get("acme", "a", 8) is None
    assert cache.get("acme", "a", 7) is None  # dropped, not kept for the old mark
    assert len(cache) == 0 and cache.used_bytes == 0


def test_one_id_in_two_tenants_is_two_sessions() -> None:
    cache = SessionCache(budget_bytes=MB)
    cache.put(cached("a", 100, tenant="acme"))
    assert cache.get("globex", "a", 1) is None
    assert cache.get("acme", "a", 1) is not None
    cache.put(cached("a", 200, tenant="globex"))  # takes the id's place
    assert cache.get("acme", "a", 1) is None
    entry = cache.get("globex", "a", 1)
    assert entry is not None and len(entry.stored.doc) == 200
    assert len(cache) == 1 and cache.used_bytes == 200 + ENTRY_OVERHEAD


def test_two_workers_serve_every_change_at_once(tmp_path: Path) -> None:
    """A real server with two worker processes and a new connection per read, so that both
    answer: each change is read back at once by whichever worker takes the read."""
    url = f"sqlite:///{tmp_path / 'two-workers.db'}"
    keys = init_tenant(url, "acme", "web")
    server = Server(url, env={"SESSIONSCOPE_WORKERS": "2"}).start(tmp_path)
    headers = {"x-api-key": keys["secret_key"]}
    try:
        created = httpx.post(
            f"{server.base_url}/v1/sessions",
            json={"ip": "203.0.113.9", "user_agent": "Mozilla/5.0"},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        path = f"{server.base_url}/v1/sessions/{created.json()['id']}"
        answered_by: set[int] = set()
        for n in range(30):
            value = {"round": n}
            changed = httpx.patch(path, json={"metadata": value}, headers=headers)
            assert changed.status_code == 200, changed.text
            for _ in range(3):
                with httpx.Client() as client:
                    read = client.get(path, headers=headers)
                    answered_by.add(_worker_holding_the_connection(server.port))
                assert read.status_code == 200 and read.json()["metadata"] == value
        assert len(answered_by) == 2, "the reads did not reach both workers"
    finally:
        server.stop()


def _worker_holding_the_connection(port: int) -> int:
    """The pid of the process on the server side of the one open connection to `port`."""
    listing = subprocess.run(
        ["ss", "-Htnp", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pids = set(re.findall(r"pid=(\d+)", listing))
    assert len(pids) == 1, listing
    return int(pids.pop())
