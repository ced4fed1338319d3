"""Embedded store on SQLite: WAL, one writer thread with group commit.

Reads run on the caller's thread through a per-thread connection: a primary-key
read takes microseconds and WAL readers never wait for the writer. Writes are
queued to one thread that commits every waiting write in a single transaction
(group commit), each inside its own savepoint so one failure spoils no other.
A write is acknowledged only after its transaction has committed.
"""

from __future__ import annotations

import asyncio
import json
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from sessionscope.model import ApiKey, Session, Site, SiteSettings, Tenant
from sessionscope.store import sql
from sessionscope.store.base import (
    Conflict,
    Cursor,
    SessionQuery,
    StoredSession,
    StoreError,
    decode_settings,
    encode_settings,
    session_columns,
)
from sessionscope.store.schema import migrations_for

T = TypeVar("T")
WriteFn = Callable[[sqlite3.Connection], Any]
_BATCH_LIMIT = 512
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
    return conn


class _Writer:
    """One thread owning the write connection; commits queued writes in groups."""

    def __init__(self, path: str, durability: str) -> None:
        self._conn = _connect(path, durability)
        self._queue: queue.Queue[tuple[WriteFn, Future[Any]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="sqlite-writer", daemon=True)
        self._thread.start()

    def submit(self, fn: WriteFn) -> Future[Any]:
        future: Future[Any] = Future()
        self._queue.put((fn, future))
        return future

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._conn.close()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop_after = False
            while len(batch) < _BATCH_LIMIT:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop_after = True
                    break
                batch.append(item)
            self._commit(batch)
            if stop_after:
                return

    def _commit(self, batch: list[tuple[WriteFn, Future[Any]]]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            for fn, _ in batch:
                outcomes.append(self._apply(fn))
            self._conn.execute("COMMIT")
        except sqlite3.Error as error:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            for _, future in batch:
                future.set_exception(StoreError(f"SQLite commit failed: {error}"))
            return
        for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def _apply(self, fn: WriteFn) -> tuple[bool, Any]:
        self._conn.execute("SAVEPOINT one_write")
        try:
            value = fn(self._conn)
        except Exception as error:  # handed to the waiting caller, not lost
            self._conn.execute("ROLLBACK TO one_write")
            self._conn.execute("RELEASE one_write")
            return False, _translate(error)
        self._conn.execute("RELEASE one_write")
        return True, value


def _translate(error: Exception) -> Exception:
    if isinstance(error, sqlite3.IntegrityError):
        return Conflict(str(error))
    if isinstance(error, sqlite3.Error):
        return StoreError(str(error))
    return error


class SQLiteStore:
    url_scheme = "sqlite"

    def __init__(self, url: str, durability: str = "normal") -> None:
        self.path = sqlite_path(url)
        self.durability = durability
        self._local = threading.local()
        self._writer: _Writer | None = None

    async def open(self) -> None:
        parent = Path(self.path).parent
        parent.mkdir(parents=True, exist_ok=True)
        self._writer = _Writer(self.path, self.durability)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.stop()
            self._writer = None

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path, self.durability)
            self._local.conn = conn
        return conn

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._writer is None:
            raise StoreError("the store is not open")
        result: T = await asyncio.wrap_future(self._writer.submit(fn))
        return result

    def _read(self, statement: str, params: list[Any] | tuple[Any, ...]) -> list[Any]:
        try:
            return self._reader().execute(statement, params).fetchall()
        except sqlite3.Error as error:
            raise StoreError(str(error)) from error

    # schema ------------------------------------------------------------------
    async def migrate(self) -> list[int]:
        return await self._write(_apply_migrations)

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

    async def set_default_site(self, tenant: str, slug: str) -> None:
        def update(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE sites SET is_default = (slug = ?) WHERE tenant = ?", (slug, tenant)
            )

        await self._write(update)

    async def update_site_settings(self, tenant: str, slug: str, settings: SiteSettings) -> bool:
        def update(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE sites SET settings = ? WHERE tenant = ? AND slug = ?",
                (encode_settings(settings), tenant, slug),
            )
            return cursor.rowcount == 1

        return await self._write(update)

    async def get_site(self, tenant: str, slug: str) -> Site | None:
        rows = self._read(_SITE_SELECT + " WHERE tenant = ? AND slug = ?", (tenant, slug))
        return _site(rows[0]) if rows else None

    async def get_default_site(self, tenant: str) -> Site | None:
        rows = self._read(_SITE_SELECT + " WHERE tenant = ? AND is_default = 1", (tenant,))
        return _site(rows[0]) if rows else None

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
    async def insert_session(self, session: Session) -> None:
        values = sql.column_values(session_columns(session), _encoder.encode(session))
        statement = sql.insert_session_sql(sql.qmark)
        await self._write(lambda c: c.execute(statement, values))

    async def get_session(
        self, tenant: str, session_id: str, sites: tuple[str, ...] | None = None
    ) -> StoredSession | None:
        statement, params = sql.get_session_sql(sql.qmark, tenant, session_id, sites)
        rows = self._read(statement, params)
        return StoredSession(*rows[0]) if rows else None

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
