"""Embedded store on SQLite: WAL, one writer thread with group commit.

Reads run on the caller's thread through a per-thread connection: a primary-key
read takes microseconds and WAL readers never wait for the writer. Writes are
queued to one thread that commits every waiting write in a single transaction
(group commit); one failing write spoils no other (see _Writer).
A write is acknowledged only after its transaction has committed.
"""

from __future__ import annotations

import asyncio
import json
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from sessionscope.judge.records import (
    FeedbackRecord,
    FraudSighting,
    HistoryAnswer,
    HistoryColumn,
    HistoryRequest,
    VerdictCount,
)
from sessionscope.lists.model import IPListEntry, IPListRecord, TenantIPList
from sessionscope.model import ApiKey, Session, Site, SiteSettings, Tenant
from sessionscope.store import (
    access_sql,
    devices_sql,
    judge_sql,
    nonce_log,
    nonce_table,
    sql,
    user_list_cache,
)
from sessionscope.store import iplists_sql as lists_sql
from sessionscope.store.access_records import AccessRecord, GrantFilter, GrantRecord
from sessionscope.store.allowance import (
    ConsumePlan,
    Consumption,
    UsageKey,
    UsageRow,
    current_usage,
    settle,
)
from sessionscope.store.base import (
    Conflict,
    Cursor,
    NotFound,
    SessionQuery,
    SiteCache,
    StoredSession,
    StoreError,
    decode_settings,
    encode_settings,
    is_active,
    session_columns,
)
from sessionscope.store.devices_sql import KnownDevice
from sessionscope.store.nonce_table import NonceTable
from sessionscope.store.schema import migrations_for
from sessionscope.store.session_cache import (
    CachedSession,
    ChangeMarks,
    SessionCache,
    SessionWatch,
    cached_entry,
)
from sessionscope.store.user_list_cache import UserList, UserListCache, user_mark_key

T = TypeVar("T")
WriteFn = Callable[[sqlite3.Connection], Any]
_BATCH_LIMIT = 512
_MMAP_BYTES = 1 << 30
_encoder = msgspec.json.Encoder()


def sqlite_path(url: str) -> str:
    """`sqlite:///relative/or/absolute.db` → the file path."""
    if not url.startswith("sqlite:///"):
        raise ValueError("a SQLite URL looks like sqlite:///path/to/file.db")
    path = url.removeprefix("sqlite:///")
    if not path:
        raise ValueError("the SQLite URL names no file")
    return path


def _connect(path: str, durability: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={'FULL' if durability == 'strict' else 'NORMAL'}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    # Map the file instead of copying pages into SQLite's small cache on every read.
    conn.execute(f"PRAGMA mmap_size={_MMAP_BYTES}")
    return conn


class _Writer:
    """One thread owning the write connection; commits queued writes in groups.

    Writes submitted during one pass of an event loop are handed to the thread together,
    once the pass is over: one hand-over (and one wake of the thread) per pass rather than
    per write, and the thread sees the whole pass's writes as one group.

    A group runs in one transaction. If any write in it fails, the transaction is rolled
    back and the group is run again with a savepoint per write, so the failure reaches
    only its own caller. A write function may therefore run twice: it must do nothing
    but SQL on the connection it is given.

    With a `watch`, the sessions a group changed get fresh change marks after its commit
    and before any caller hears that its write is done (store/session_cache.py).
    """

    def __init__(self, path: str, durability: str, watch: SessionWatch | None = None) -> None:
        self._conn = _connect(path, durability)
        self._watch = watch
        self._queue: queue.Queue[list[_Job] | None] = queue.Queue()
        self._pending: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
        self._thread = threading.Thread(target=self._run, name="sqlite-writer", daemon=True)
        self._thread.start()

    def submit(self, fn: WriteFn) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        waiting = self._pending.setdefault(loop, [])
        if not waiting:
            loop.call_soon(self._hand_over, loop)
        waiting.append(_Job(fn, loop, future))
        return future

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        jobs = self._pending.pop(loop, None)
        if jobs:
            self._queue.put(jobs)

    def stop(self) -> None:
        for loop in list(self._pending):
            self._hand_over(loop)
        self._queue.put(None)
        self._thread.join()
        self._conn.close()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = list(first)
            stop_after = False
            while len(batch) < _BATCH_LIMIT:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop_after = True
                    break
                batch.extend(item)
            _settle(batch, self._commit(batch))
            if stop_after:
                return

    def _commit(self, batch: list[_Job]) -> list[tuple[bool, Any]]:
        try:
            return self._transaction(batch, isolated=False)
        except _GroupFailed:
            pass
        try:
            return self._transaction(batch, isolated=True)
        except (sqlite3.Error, _GroupFailed) as error:
            failure = StoreError(f"SQLite commit failed: {error}")
            return [(False, failure) for _ in batch]

    def rewatch(self) -> None:
        """After a schema change: the next group puts the session watch's triggers back,
        which the change may have dropped with their table."""
        if self._watch is not None:
            self._watch.reinstall()

    def _transaction(self, batch: list[_Job], isolated: bool) -> list[tuple[bool, Any]]:
        try:
            if self._watch is not None:
                self._watch.install(self._conn)
            self._conn.execute("BEGIN IMMEDIATE")
            outcomes = [
                self._isolated(job.fn) if isolated else (True, job.fn(self._conn)) for job in batch
            ]
            self._conn.execute("COMMIT")
        except Exception as error:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            if self._watch is not None:
                self._watch.rewind()
            raise _GroupFailed(str(error)) from error
        if self._watch is not None:
            self._watch.publish()
        return outcomes

    def _isolated(self, fn: WriteFn) -> tuple[bool, Any]:
        noted = self._watch.noted() if self._watch is not None else 0
        self._conn.execute("SAVEPOINT one_write")
        try:
            value = fn(self._conn)
        except Exception as error:  # handed to the waiting caller, not lost
            self._conn.execute("ROLLBACK TO one_write")
            self._conn.execute("RELEASE one_write")
            if self._watch is not None:
                self._watch.rewind(noted)
            return False, _translate(error)
        self._conn.execute("RELEASE one_write")
        return True, value


class _GroupFailed(Exception):
    """A write of the group failed; the group is retried write by write."""


@dataclass(frozen=True, slots=True)
class _Job:
    fn: WriteFn
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]


def _settle(batch: list[_Job], outcomes: list[tuple[bool, Any]]) -> None:
    """Wake each waiting event loop once per group, not once per write."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
    for job, (ok, value) in zip(batch, outcomes, strict=True):
        by_loop.setdefault(job.loop, []).append((job.future, ok, value))
    for loop, results in by_loop.items():
        if not loop.is_closed():
            loop.call_soon_threadsafe(_resolve, results)


def _resolve(results: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in results:
        if future.done():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


def _visible(entry: CachedSession | None, sites: tuple[str, ...] | None) -> StoredSession | None:
    """The cached session, if it is on one of `sites` (None: any site of its tenant)."""
    if entry is None or (sites is not None and entry.site not in sites):
        return None
    return entry.stored


def _translate(error: Exception) -> Exception:
    if isinstance(error, sqlite3.IntegrityError):
        return Conflict(str(error))
    if isinstance(error, sqlite3.Error):
        return StoreError(str(error))
    return error


class _NonceFile:
    """The HMAC nonces, in a database file of their own beside the store's (`<file>-nonces`).

    Every instance on the store opens the same file, so a nonce stays single-use across
    them. Nonces are written on every signed request, and a file of their own keeps those
    commits away from the store's: there each would make every reader drop its memory map
    of the whole file and fault it in again on its next read, and would queue behind the
    session writes.

    A batch is written on the event loop's own thread when the file's write lock is free:
    a commit that does not wait for the disk (durability `normal`: no fsync in WAL mode)
    takes microseconds, far less than a round trip through a writer thread, whose every
    statement must win the GIL back from the busy loop. When the lock is taken (another
    instance writing, a purge) or durability is `strict`, the batch goes to this file's
    writer thread, which waits for the lock. Checkpoints run on a worker thread.
    """

    def __init__(self, store_path: str, durability: str) -> None:
        self.path = store_path + "-nonces"
        self.log = nonce_log.NonceLog()
        self._durability = durability
        self._writer: _Writer | None = None
        self._direct: sqlite3.Connection | None = None  # the loop's: it never waits
        self._has_table = False
        self._commits = 0
        self._checkpointing: asyncio.Task[None] | None = None

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn` in one transaction, at once if the write lock is free, else on the thread."""
        if self._direct is not None:
            try:
                return self._write_now(self._direct, fn)
            except _LockTaken:
                pass
        return await self.write_on_thread(fn)

    async def write_on_thread(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._writer is None:
            self._writer = _Writer(self.path, self._durability)
        job = fn if self._has_table else _after_nonce_table(fn)
        result: T = await self._writer.submit(job)
        self._has_table = True
        if self._direct is None and self._durability != "strict":
            self._direct = _connect(self.path, self._durability)
            self._direct.execute("PRAGMA busy_timeout=0")
            self._direct.execute("PRAGMA wal_autocheckpoint=0")  # see _checkpoint_soon
        return result

    def _write_now(self, conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn` in a transaction on this thread; _LockTaken, all undone, if it would wait."""
        try:
            conn.execute("BEGIN IMMEDIATE")
            result = fn(conn)
            conn.execute("COMMIT")
        except sqlite3.Error as error:
            _roll_back(conn)
            if getattr(error, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY:
                raise _LockTaken from None
            raise _translate(error) from error
        except BaseException:
            _roll_back(conn)
            raise
        self._checkpoint_soon()
        return result

    def _checkpoint_soon(self) -> None:
        """Every so many commits, copy the log into the file on a worker thread: a
        checkpoint syncs the file to disk, which the loop must not wait for."""
        self._commits += 1
        if self._commits >= _NONCE_COMMITS_PER_CHECKPOINT and self._checkpointing is None:
            self._commits = 0
            self._checkpointing = asyncio.ensure_future(self._run_checkpoint())

    async def _run_checkpoint(self) -> None:
        try:
            await asyncio.to_thread(_checkpoint, self.path, self._durability)
        except sqlite3.Error:
            pass  # the writers held it off for 30 s; the next one copies the rest
        finally:
            self._checkpointing = None

    def close(self) -> None:
        if self._direct is not None:
            self._direct.close()
            self._direct = None
        if self._writer is not None:
            self._writer.stop()
            self._writer = None
        self._has_table = False
        self.log = nonce_log.NonceLog()


_NONCE_COMMITS_PER_CHECKPOINT = 500


def _mapped_nonce_table(store_path: str, size_bytes: int) -> NonceTable:
    """The table file beside the store's (`<file>-nonce-table`), made if new."""
    path = store_path + "-nonce-table"
    try:
        return NonceTable(path, nonce_table.slots_for(size_bytes))
    except (OSError, nonce_table.NonceTableError) as error:
        raise StoreError(f"cannot map the nonce table {path}: {error}") from error


class _LockTaken(Exception):
    """Another connection holds the nonce file's write lock."""


def _after_nonce_table(fn: Callable[[sqlite3.Connection], T]) -> Callable[[sqlite3.Connection], T]:
    """`fn`, after making the nonce table if the file does not have it yet (idempotent)."""

    def first_write(conn: sqlite3.Connection) -> T:
        for statement in nonce_log.SCHEMA:
            conn.execute(statement)
        return fn(conn)

    return first_write


def _roll_back(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _checkpoint(path: str, durability: str) -> None:
    """Copy the nonce file's log into it, and have the next writer start the log over.

    A passive checkpoint never finishes while nonces keep coming (each commit appends to
    the log as it copies), and the log is only started over after one that finished: under
    steady load the `-wal` file grew by hundreds of megabytes a minute. RESTART holds new
    writers back for the copy; the loop's connection, which never waits, hands its batch to
    the writer thread.
    """
    conn = _connect(path, durability)
    try:
        conn.execute("PRAGMA wal_checkpoint(RESTART)")
    finally:
        conn.close()


class SQLiteStore:
    url_scheme = "sqlite"

    def __init__(
        self,
        url: str,
        durability: str = "normal",
        read_cache_bytes: int = 0,
        nonce_table_bytes: int = 0,
    ) -> None:
        """`read_cache_bytes`: the documents this process may keep of sessions read by id
        (0: none). Whatever it is, writes mark what they change for other processes' caches.
        `nonce_table_bytes`: the size of the nonce table file, if this call makes it (0: no
        table, every nonce is logged; so with durability `strict`, whose log commits wait
        for the disk, which the table's writes do not)."""
        self.path = sqlite_path(url)
        self.durability = durability
        self._local = threading.local()
        self._writer: _Writer | None = None
        self._sites = SiteCache()
        self._nonces = _NonceFile(self.path, durability)
        self._nonce_table_bytes = nonce_table_bytes if durability != "strict" else 0
        self._nonce_table: NonceTable | None = None
        self._read_cache_bytes = read_cache_bytes
        self._marks: ChangeMarks | None = None
        self._cache: SessionCache | None = None
        self._user_lists: UserListCache | None = None
        self._watch: SessionWatch | None = None

    async def open(self) -> None:
        parent = Path(self.path).parent
        parent.mkdir(parents=True, exist_ok=True)
        self._marks = ChangeMarks(self.path)
        self._watch = SessionWatch(self._marks)
        self._writer = _Writer(self.path, self.durability, self._watch)
        if self._read_cache_bytes > 0:
            self._cache = SessionCache(self._read_cache_bytes)
            self._user_lists = UserListCache()

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.stop()
            self._writer = None
        self._nonces.close()
        if self._nonce_table is not None:
            self._nonce_table.close()
            self._nonce_table = None
        self._cache = None
        self._user_lists = None
        if self._marks is not None:
            self._marks.close()
            self._marks = None
        self._watch = None

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path, self.durability)
            self._local.conn = conn
        return conn

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._writer is None:
            raise StoreError("the store is not open")
        result: T = await self._writer.submit(fn)
        return result

    def _read(self, statement: str, params: list[Any] | tuple[Any, ...]) -> list[Any]:
        try:
            return self._reader().execute(statement, params).fetchall()
        except sqlite3.Error as error:
            raise StoreError(str(error)) from error

    # schema ------------------------------------------------------------------
    async def migrate(self) -> list[int]:
        applied: list[int] = await self._write(_apply_migrations)
        if self._writer is not None:
            self._writer.rewatch()
        return applied

    async def ping(self) -> None:
        self._read("SELECT 1", ())

    # tenancy -----------------------------------------------------------------
    async def create_tenant(self, tenant: Tenant) -> None:
        await self._write(
            lambda c: c.execute(
                "INSERT INTO tenants (slug, created_at) VALUES (?, ?)",
                (tenant.slug, tenant.created_at),
            )
        )

    async def get_tenant(self, slug: str) -> Tenant | None:
        rows = self._read("SELECT slug, created_at FROM tenants WHERE slug = ?", (slug,))
        return Tenant(slug=rows[0][0], created_at=rows[0][1]) if rows else None

    async def list_tenants(self) -> list[Tenant]:
        rows = self._read("SELECT slug, created_at FROM tenants ORDER BY slug", ())
        return [Tenant(slug=row[0], created_at=row[1]) for row in rows]

    async def create_site(self, site: Site) -> None:
        def insert(conn: sqlite3.Connection) -> None:
            if site.is_default:
                conn.execute("UPDATE sites SET is_default = 0 WHERE tenant = ?", (site.tenant,))
            conn.execute(
                "INSERT INTO sites (tenant, slug, uuid, is_default, created_at, settings)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    site.tenant,
                    site.slug,
                    site.uuid,
                    int(site.is_default),
                    site.created_at,
                    encode_settings(site.settings),
                ),
            )

        await self._write(insert)
        self._sites.forget(site.tenant)

    async def set_default_site(self, tenant: str, slug: str) -> None:
        def update(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE sites SET is_default = (slug = ?) WHERE tenant = ?", (slug, tenant)
            )

        await self._write(update)
        self._sites.forget(tenant)

    async def update_site_settings(self, tenant: str, slug: str, settings: SiteSettings) -> bool:
        def update(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE sites SET settings = ? WHERE tenant = ? AND slug = ?",
                (encode_settings(settings), tenant, slug),
            )
            return cursor.rowcount == 1

        changed = await self._write(update)
        self._sites.forget(tenant)
        return changed

    async def get_site(self, tenant: str, slug: str) -> Site | None:
        cached = self._sites.get(tenant, slug)
        if cached is not None:
            return cached
        rows = self._read(_SITE_SELECT + " WHERE tenant = ? AND slug = ?", (tenant, slug))
        return self._sites.put(tenant, slug, _site(rows[0]) if rows else None)

    async def get_default_site(self, tenant: str) -> Site | None:
        cached = self._sites.get(tenant, None)
        if cached is not None:
            return cached
        rows = self._read(_SITE_SELECT + " WHERE tenant = ? AND is_default = 1", (tenant,))
        return self._sites.put(tenant, None, _site(rows[0]) if rows else None)

    async def list_sites(self, tenant: str) -> list[Site]:
        rows = self._read(_SITE_SELECT + " WHERE tenant = ? ORDER BY slug", (tenant,))
        return [_site(row) for row in rows]

    # keys --------------------------------------------------------------------
    async def create_key(self, key: ApiKey) -> None:
        await self._write(lambda c: c.execute(_KEY_INSERT, _key_params(key)))

    async def find_key(self, digest: str) -> ApiKey | None:
        rows = self._read(_KEY_SELECT + " WHERE digest = ?", (digest,))
        return _key(rows[0]) if rows else None

    async def list_keys(self, tenant: str | None) -> list[ApiKey]:
        if tenant is None:
            rows = self._read(_KEY_SELECT + " ORDER BY tenant, created_at, id", ())
        else:
            rows = self._read(_KEY_SELECT + " WHERE tenant = ? ORDER BY created_at, id", (tenant,))
        return [_key(row) for row in rows]

    async def revoke_key(self, tenant: str, key_id: str, revoked_at: str) -> bool:
        def revoke(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE tenant = ? AND id = ?"
                " AND revoked_at IS NULL",
                (revoked_at, tenant, key_id),
            )
            return cursor.rowcount == 1

        return await self._write(revoke)

    # sessions ----------------------------------------------------------------
    async def insert_session(self, session: Session) -> bytes:
        doc = _encoder.encode(session)
        values = sql.column_values(session_columns(session), doc)
        statement = sql.insert_session_sql(sql.qmark)
        watch, user = self._watch, session.user

        def insert(conn: sqlite3.Connection) -> None:
            conn.execute(statement, values)
            if watch is not None and user is not None:
                watch.note_user(session.tenant, user.id)  # a new session joins its user's list

        await self._write(insert)
        return doc

    async def get_session(
        self, tenant: str, session_id: str, sites: tuple[str, ...] | None = None
    ) -> StoredSession | None:
        if self._cache is None or self._marks is None:
            statement, params = sql.get_session_sql(sql.qmark, tenant, session_id, sites)
            rows = self._read(statement, params)
            return StoredSession(*rows[0]) if rows else None
        return _visible(
            self._read_through_cache(self._cache, self._marks, tenant, session_id), sites
        )

    def cached_session(
        self, tenant: str, session_id: str, sites: tuple[str, ...] | None = None
    ) -> StoredSession | None:
        if self._cache is None or self._marks is None:
            return None
        return _visible(self._cache.get(tenant, session_id, self._marks.mark_of(session_id)), sites)

    def _read_through_cache(
        self, cache: SessionCache, marks: ChangeMarks, tenant: str, session_id: str
    ) -> CachedSession | None:
        mark = marks.mark_of(session_id)  # before the row: see store/session_cache.py
        entry = cache.get(tenant, session_id, mark)
        if entry is None:
            rows = self._read(sql.SITE_AND_SESSION_BY_ID, (tenant, session_id))
            if not rows:
                return None
            entry = cached_entry(mark, tenant, session_id, rows[0])
            cache.put(entry)
        return entry

    async def active_user_sessions(
        self, tenant: str, site: str, user_id: str, limit: int, now_ms: int
    ) -> list[StoredSession]:
        found = []
        for session_id in self._active_user_session_ids(tenant, site, user_id, limit, now_ms):
            stored = await self.get_session(tenant, session_id, (site,))
            if stored is not None and is_active(stored, now_ms):
                found.append(stored)
        return found

    def cached_active_user_sessions(
        self, tenant: str, site: str, user_id: str, limit: int, now_ms: int
    ) -> list[StoredSession] | None:
        if self._user_lists is None or self._marks is None:
            return None
        mark = self._marks.mark_of(user_mark_key(tenant, user_id))
        ids = self._user_lists.get((tenant, user_id, site), mark, limit, now_ms)
        if ids is None:
            return None
        found = []
        for session_id in ids:
            stored = self.cached_session(tenant, session_id, (site,))
            if stored is None:
                return None
            if is_active(stored, now_ms):
                found.append(stored)
        return found

    def _active_user_session_ids(
        self, tenant: str, site: str, user_id: str, limit: int, now_ms: int
    ) -> list[str]:
        """From the process's lists when current (store/user_list_cache.py), else the file."""
        params = (tenant, user_id, site, now_ms, limit)
        if self._user_lists is None or self._marks is None:
            return [row[0] for row in self._read(user_list_cache.ACTIVE_IDS_SQL, params)]
        key = (tenant, user_id, site)
        mark = self._marks.mark_of(user_mark_key(tenant, user_id))  # before the rows
        ids = self._user_lists.get(key, mark, limit, now_ms)
        if ids is None:
            rows = self._read(user_list_cache.ACTIVE_IDS_SQL, params)
            self._user_lists.put(key, UserList(mark, limit, tuple(rows)))
            ids = [row[0] for row in rows]
        return ids

    async def replace_session(self, session: Session, expected_version: int) -> bool:
        values = sql.column_values(session_columns(session), _encoder.encode(session))
        statement = sql.replace_session_sql(sql.qmark)

        def replace(conn: sqlite3.Connection) -> bool:
            return (
                conn.execute(
                    statement, sql.replace_session_params(values, expected_version)
                ).rowcount
                == 1
            )

        return await self._write(replace)

    async def list_sessions(
        self, query: SessionQuery, after: Cursor | None, limit: int, now_ms: int
    ) -> list[StoredSession]:
        statement, params = sql.list_sessions_sql(sql.qmark, query, after, limit, now_ms)
        return [StoredSession(*row) for row in self._read(statement, params)]

    # per-tenant IP lists (issue 3) -------------------------------------------
    async def create_ip_list(self, record: IPListRecord) -> None:
        params = lists_sql.insert_list_params(record)
        await self._write(lambda c: c.execute(lists_sql.insert_list(sql.qmark), params))

    async def get_ip_list(self, tenant: str, name: str) -> IPListRecord | None:
        rows = self._read(lists_sql.select_list(sql.qmark), (tenant, name))
        return lists_sql.list_record(rows[0]) if rows else None

    async def list_ip_lists(self, tenant: str) -> list[IPListRecord]:
        rows = self._read(lists_sql.select_lists(sql.qmark), (tenant,))
        return [lists_sql.list_record(row) for row in rows]

    async def delete_ip_list(self, tenant: str, name: str) -> bool:
        def delete(conn: sqlite3.Connection) -> bool:
            conn.execute(lists_sql.delete_entries_of_list(sql.qmark), (tenant, name))
            return conn.execute(lists_sql.delete_list(sql.qmark), (tenant, name)).rowcount == 1

        return await self._write(delete)

    async def add_ip_list_entries(
        self, tenant: str, name: str, cidrs: list[str], note: str | None, at: str
    ) -> int:
        rows = [(tenant, name, cidr, note, at) for cidr in cidrs]
        statement = lists_sql.insert_entry(sql.qmark)
        return await self._write(
            lambda c: _change_entries(c, tenant, name, at, lambda: c.executemany(statement, rows))
        )

    async def remove_ip_list_entries(
        self, tenant: str, name: str, cidrs: list[str], at: str
    ) -> int:
        rows = [(tenant, name, cidr) for cidr in cidrs]
        statement = lists_sql.delete_entry(sql.qmark)
        return await self._write(
            lambda c: _change_entries(c, tenant, name, at, lambda: c.executemany(statement, rows))
        )

    async def ip_list_entries(
        self, tenant: str, name: str, after: str | None, limit: int
    ) -> list[IPListEntry]:
        statement, params = lists_sql.select_entries(sql.qmark, after, limit)
        return [lists_sql.entry(row) for row in self._read(statement, [tenant, name, *params])]

    async def load_ip_lists(self, tenant: str) -> list[TenantIPList]:
        rows = self._read(lists_sql.select_all_entries(sql.qmark), (tenant,))
        return lists_sql.tenant_lists(rows)

    # HMAC nonces of the compatible APIs (issue 6) ----------------------------
    async def remember_nonces(self, nonces: list[tuple[str, str, int]], now_ms: int) -> list[bool]:
        """Appended to the nonce file's log (store/nonce_log.py)."""
        self._require_open()
        log = self._nonces.log
        claim = await self._nonces.write(lambda c: log.claim(c, nonces, now_ms))
        log.absorb(claim, now_ms)
        return claim.answers

    async def purge_nonces(self, now_ms: int) -> int:
        """On the nonce file's thread: a purge may delete many rows."""
        self._require_open()
        return await self._nonces.write_on_thread(lambda c: nonce_log.purge(c, now_ms))

    def claim_nonce_now(self, key_id: str, nonce: str, expires_ms: int, now_ms: int) -> bool | None:
        """In the nonce table every process maps (store/nonce_table.py), made or mapped on
        first use; None without a table, or when the table cannot take it (then the log)."""
        self._require_open()
        if self._nonce_table is None:
            if self._nonce_table_bytes <= 0:
                return None
            self._nonce_table = _mapped_nonce_table(self.path, self._nonce_table_bytes)
        try:
            return self._nonce_table.claim(nonce_log.tag(key_id, nonce), expires_ms, now_ms)
        except OSError as error:
            raise StoreError(f"cannot lock the nonce table: {error}") from error

    def _require_open(self) -> None:
        if self._writer is None:
            raise StoreError("the store is not open")

    # device identity (issue 4) -------------------------------------------------
    async def find_device_by_token(
        self, tenant: str, site: str, token_digest: str
    ) -> KnownDevice | None:
        rows = self._read(devices_sql.by_token_sql(sql.qmark), (tenant, site, token_digest))
        return devices_sql.device_from_row(rows[0]) if rows else None

    async def device_candidates(
        self, tenant: str, site: str, bucket: str, limit: int
    ) -> list[KnownDevice]:
        rows = self._read(devices_sql.candidates_sql(sql.qmark), (tenant, site, bucket, limit))
        return [devices_sql.device_from_row(row) for row in rows]

    async def save_device(self, device: KnownDevice) -> None:
        statement = devices_sql.save_sql(sql.qmark)
        values = devices_sql.device_values(device)
        await self._write(lambda c: c.execute(statement, values))

    # judgement: history and feedback (issue 5) ---------------------------------
    async def previous_session(
        self, tenant: str, column: HistoryColumn, value: str, before: Cursor
    ) -> StoredSession | None:
        rows = self._read(*judge_sql.previous_session(sql.qmark, tenant, column, value, before))
        return StoredSession(*rows[0]) if rows else None

    async def fraud_sightings(
        self, tenant: str, ip_prefix: str, since_ms: int, until_ms: int, exclude_id: str, limit: int
    ) -> list[FraudSighting]:
        window = (tenant, ip_prefix, since_ms, until_ms, exclude_id, limit)
        judged = self._read(*judge_sql.fake_sessions_near(sql.qmark, *window))
        labelled = self._read(*judge_sql.fraud_labels_near(sql.qmark, *window))
        return judge_sql.merge_sightings(labelled, judged, limit)

    async def device_users(
        self, tenant: str, device_id: str, since_ms: int, until_ms: int, exclude_id: str, limit: int
    ) -> list[str]:
        statement = judge_sql.device_users(
            sql.qmark, tenant, device_id, since_ms, until_ms, exclude_id, limit
        )
        return [row[0] for row in self._read(*statement)]

    async def session_counts(
        self,
        tenant: str,
        column: HistoryColumn,
        value: str,
        since_ms: tuple[int, ...],
        until_ms: int,
        exclude_id: str,
        limit: int,
    ) -> list[int]:
        statement = judge_sql.session_counts(
            sql.qmark, tenant, column, value, since_ms, until_ms, exclude_id, limit
        )
        return [int(count) for count in self._read(*statement)[0]]

    async def judgement_history(self, request: HistoryRequest) -> HistoryAnswer:
        rows = self._read(*judge_sql.history(judge_sql.SQLITE_HISTORY, request))
        return judge_sql.history_answer(request, rows[0])

    async def save_feedback(self, record: FeedbackRecord) -> None:
        statement, params = judge_sql.save_feedback(sql.qmark, record)
        await self._write(lambda c: c.execute(statement, params))

    async def verdict_counts(
        self, tenant: str, sites: tuple[str, ...] | None, since_ms: int | None, until_ms: int | None
    ) -> list[VerdictCount]:
        rows = self._read(*judge_sql.verdict_counts(sql.qmark, tenant, sites, since_ms, until_ms))
        return [
            VerdictCount(site, label, decision, None if is_bot is None else bool(is_bot), count)
            for site, label, decision, is_bot, count in rows
        ]

    # session lifecycle and access model (issue 7) ------------------------------
    async def purge_sessions(self, tenant: str, site: str, cutoff_ms: int, limit: int) -> int:
        expired = access_sql.purge_expired_sessions(sql.qmark, tenant, site, cutoff_ms, limit)
        ended = access_sql.purge_ended_sessions(sql.qmark, tenant, site, cutoff_ms, limit)

        def purge(conn: sqlite3.Connection) -> int:
            deleted = [row[0] for statement in (expired, ended) for row in conn.execute(*statement)]
            if deleted:
                conn.execute(*judge_sql.forget_feedback(sql.qmark, tenant, deleted))
            return len(deleted)

        return await self._write(purge)

    async def purge_usage(self, now_ms: int, limit: int) -> int:
        usage = access_sql.purge_usage(sql.qmark, "access_usage", now_ms, limit)
        content = access_sql.purge_usage(sql.qmark, "access_content", now_ms, limit)

        def purge(conn: sqlite3.Connection) -> int:
            return conn.execute(*usage).rowcount + conn.execute(*content).rowcount

        return await self._write(purge)

    async def save_access_object(self, record: AccessRecord, create: bool) -> bool:
        build = access_sql.insert_object if create else access_sql.replace_object
        statement = build(sql.qmark, record)
        return await self._write(lambda c: c.execute(*statement).rowcount == 1)

    async def list_access_objects(
        self,
        tenant: str,
        site: str,
        kind: str | None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[AccessRecord]:
        statement = access_sql.select_objects(
            sql.qmark, tenant, site, kind, after=after, limit=limit
        )
        return [access_sql.object_record(row) for row in self._read(*statement)]

    async def get_access_object(
        self, tenant: str, site: str, kind: str, object_id: str
    ) -> AccessRecord | None:
        rows = self._read(*access_sql.select_objects(sql.qmark, tenant, site, kind, object_id))
        return access_sql.object_record(rows[0]) if rows else None

    async def delete_access_object(self, tenant: str, site: str, kind: str, object_id: str) -> bool:
        statement = access_sql.delete_object(sql.qmark, tenant, site, kind, object_id)
        return await self._write(lambda c: c.execute(*statement).rowcount == 1)

    async def create_grant(self, grant: GrantRecord) -> None:
        statement = access_sql.insert_grant(sql.qmark, grant)
        await self._write(lambda c: c.execute(*statement))

    async def list_grants(
        self, where: GrantFilter, after: str | None, limit: int
    ) -> list[GrantRecord]:
        rows = self._read(*access_sql.select_grants(sql.qmark, where, after, limit))
        return [access_sql.grant_record(row) for row in rows]

    async def delete_grant(self, tenant: str, site: str, grant_id: str) -> bool:
        statement = access_sql.delete_grant(sql.qmark, tenant, site, grant_id)
        return await self._write(lambda c: c.execute(*statement).rowcount == 1)

    async def consume_allowance(self, key: UsageKey, plan: ConsumePlan) -> Consumption:
        # One write function: the writer thread runs it alone, so check and consume are atomic.
        return await self._write(lambda c: _consume(c, key, plan))

    async def usage_of(
        self, tenant: str, site: str, subject: str, sources: tuple[str, ...]
    ) -> list[UsageRow]:
        if not sources:
            return []
        where = (sql.qmark, tenant, site, subject, sources)
        usage = self._read(*access_sql.select_subject_usage(*where))
        content = self._read(*access_sql.select_subject_content(*where))
        return access_sql.usage_rows(usage, content)


def _consume(conn: sqlite3.Connection, key: UsageKey, plan: ConsumePlan) -> Consumption:
    row = conn.execute(*access_sql.select_usage(sql.qmark, key, for_update=False)).fetchone()
    stored = access_sql.usage_of(row) if row is not None else None
    current, _ = current_usage(stored, plan)
    counted = conn.execute(
        *access_sql.content_counted(sql.qmark, key, current.period_start_ms, plan.content_id)
    ).fetchone()
    outcome = settle(stored, plan, counted is not None)
    for statement in access_sql.consumption_writes(sql.qmark, key, plan, outcome):
        conn.execute(*statement)
    return outcome


def _change_entries(
    conn: sqlite3.Connection,
    tenant: str,
    name: str,
    at: str,
    change: Callable[[], sqlite3.Cursor],
) -> int:
    """Run `change` on an existing list; stamp the list when rows changed."""
    if conn.execute(lists_sql.lock_list(sql.qmark), (tenant, name)).fetchone() is None:
        raise NotFound(f"no list {name!r}")
    changed = change().rowcount
    if changed:
        conn.execute(lists_sql.touch_list(sql.qmark), (at, tenant, name))
    return changed


_SITE_SELECT = "SELECT tenant, slug, uuid, is_default, created_at, settings FROM sites"
_KEY_COLUMNS = (
    "id, tenant, site, kind, scopes, origins, prefix, digest, created_at, revoked_at,"
    " secret_ciphertext"
)
_KEY_SELECT = f"SELECT {_KEY_COLUMNS} FROM api_keys"
_KEY_INSERT = f"INSERT INTO api_keys ({_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def _site(row: tuple[Any, ...]) -> Site:
    return Site(
        tenant=row[0],
        slug=row[1],
        uuid=row[2],
        is_default=bool(row[3]),
        created_at=row[4],
        settings=decode_settings(row[5]),
    )


def _key_params(key: ApiKey) -> tuple[Any, ...]:
    return (
        key.id,
        key.tenant,
        key.site,
        key.kind,
        json.dumps(key.scopes),
        json.dumps(key.origins),
        key.prefix,
        key.digest,
        key.created_at,
        key.revoked_at,
        key.secret_ciphertext,
    )


def _key(row: tuple[Any, ...]) -> ApiKey:
    return ApiKey(
        id=row[0],
        tenant=row[1],
        site=row[2],
        kind=row[3],
        scopes=json.loads(row[4]),
        origins=json.loads(row[5]),
        prefix=row[6],
        digest=row[7],
        created_at=row[8],
        revoked_at=row[9],
        secret_ciphertext=row[10],
    )


def _apply_migrations(conn: sqlite3.Connection) -> list[int]:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations"
        " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    applied = []
    for migration in migrations_for("sqlite"):
        if migration.version in done:
            continue
        for statement in _statements(migration.sql):
            conn.execute(statement)
        conn.execute(
            "INSERT INTO schema_migrations VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ'))",
            (migration.version, migration.name),
        )
        applied.append(migration.version)
    return applied


def _statements(script: str) -> list[str]:
    """Split a migration into statements (our files keep one statement per `;` line end)."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";\n") if part.strip(" \n;")]
