"""Production store on PostgreSQL through an asyncpg connection pool.

The SQL stays within what PostgreSQL-compatible distributed databases accept
(CockroachDB, YugabyteDB, Citus with `tenant` as the distribution column): no
PL/pgSQL, no triggers, no sequences, and the one PostgreSQL-only call (the
migration advisory lock) is skipped where the database lacks it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import asyncpg  # type: ignore[import-untyped]
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
from sessionscope.store.schema import Migration, migrations_for

_encoder = msgspec.json.Encoder()

# Any fixed number will do; every instance of the service must use the same one.
_MIGRATION_LOCK_KEY = 0x5E55_1055_C09E

_MIGRATIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
)


def _where(url: str) -> str:
    """host:port/database of a URL, without the credentials it may carry."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.hostname or 'localhost'}{port}{parts.path or '/'}"
    except ValueError:
        return "the configured database URL"


@contextmanager
def _translated(action: str) -> Iterator[None]:
    """Turn driver and network errors into the store's own exceptions."""
    try:
        yield
    except asyncpg.IntegrityConstraintViolationError as error:
        # The SQLite store reports every integrity failure as a conflict; so do we.
        raise Conflict(f"{action}: {error}") from error
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as error:
        raise StoreError(f"PostgreSQL could not {action}: {error}") from error


def _row_count(status: str) -> int:
    """Rows touched, from a command tag such as `UPDATE 1`."""
    return int(status.rsplit(" ", 1)[-1])


class PostgresStore:
    url_scheme = "postgresql"

    def __init__(self, url: str, pool_min: int = 1, pool_max: int = 10) -> None:
        self.url = url
        self.pool_min = pool_min
        self.pool_max = pool_max
        self._pool: Any = None

    async def open(self) -> None:
        with _translated(f"connect to {_where(self.url)}"):
            self._pool = await asyncpg.create_pool(
                self.url, min_size=self.pool_min, max_size=self.pool_max
            )

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    def _ready(self) -> Any:
        if self._pool is None:
            raise StoreError("the store is not open")
        return self._pool

    async def _execute(self, action: str, statement: str, *args: Any) -> int:
        with _translated(action):
            status: str = await self._ready().execute(statement, *args)
        return _row_count(status)

    async def _fetch(self, action: str, statement: str, *args: Any) -> list[Any]:
        with _translated(action):
            rows: list[Any] = await self._ready().fetch(statement, *args)
        return rows

    async def _fetch_one(self, action: str, statement: str, *args: Any) -> Any:
        rows = await self._fetch(action, statement, *args)
        return rows[0] if rows else None

    # schema ------------------------------------------------------------------
    async def migrate(self) -> list[int]:
        applied: list[int] = []
        for migration in migrations_for("postgres"):
            with _translated(f"apply migration {migration.version:04d}_{migration.name}"):
                async with self._ready().acquire() as conn:
                    if await _apply_migration(conn, migration):
                        applied.append(migration.version)
        return applied

    async def ping(self) -> None:
        await self._fetch("answer a ping", "SELECT 1")

    # tenancy -----------------------------------------------------------------
    async def create_tenant(self, tenant: Tenant) -> None:
        await self._execute(
            f"create tenant {tenant.slug!r}",
            "INSERT INTO tenants (slug, created_at) VALUES ($1, $2)",
            tenant.slug,
            tenant.created_at,
        )

    async def get_tenant(self, slug: str) -> Tenant | None:
        row = await self._fetch_one(
            "read a tenant", "SELECT slug, created_at FROM tenants WHERE slug = $1", slug
        )
        return Tenant(slug=row["slug"], created_at=row["created_at"]) if row is not None else None

    async def list_tenants(self) -> list[Tenant]:
        rows = await self._fetch(
            "list tenants", "SELECT slug, created_at FROM tenants ORDER BY slug"
        )
        return [Tenant(slug=row["slug"], created_at=row["created_at"]) for row in rows]

    async def create_site(self, site: Site) -> None:
        with _translated(f"create site {site.tenant}/{site.slug}"):
            async with self._ready().acquire() as conn, conn.transaction():
                await _lock_tenant(conn, site.tenant)
                if site.is_default:
                    await conn.execute(
                        "UPDATE sites SET is_default = FALSE WHERE tenant = $1", site.tenant
                    )
                await conn.execute(
                    "INSERT INTO sites (tenant, slug, uuid, is_default, created_at, settings)"
                    " VALUES ($1, $2, $3, $4, $5, $6)",
                    site.tenant,
                    site.slug,
                    site.uuid,
                    site.is_default,
                    site.created_at,
                    encode_settings(site.settings),
                )

    async def update_site_settings(self, tenant: str, slug: str, settings: SiteSettings) -> bool:
        changed = await self._execute(
            f"change the settings of site {tenant}/{slug}",
            "UPDATE sites SET settings = $1 WHERE tenant = $2 AND slug = $3",
            encode_settings(settings),
            tenant,
            slug,
        )
        return changed == 1

    async def set_default_site(self, tenant: str, slug: str) -> None:
        with _translated(f"make {tenant}/{slug} the default site"):
            async with self._ready().acquire() as conn, conn.transaction():
                await _lock_tenant(conn, tenant)
                await conn.execute(
                    "UPDATE sites SET is_default = (slug = $1) WHERE tenant = $2", slug, tenant
                )

    async def get_site(self, tenant: str, slug: str) -> Site | None:
        row = await self._fetch_one(
            "read a site", _SITE_SELECT + " WHERE tenant = $1 AND slug = $2", tenant, slug
        )
        return _site(row) if row is not None else None

    async def get_default_site(self, tenant: str) -> Site | None:
        row = await self._fetch_one(
            "read the default site", _SITE_SELECT + " WHERE tenant = $1 AND is_default", tenant
        )
        return _site(row) if row is not None else None

    async def list_sites(self, tenant: str) -> list[Site]:
        rows = await self._fetch(
            "list sites", _SITE_SELECT + " WHERE tenant = $1 ORDER BY slug", tenant
        )
        return [_site(row) for row in rows]

    # keys --------------------------------------------------------------------
    async def create_key(self, key: ApiKey) -> None:
        await self._execute(f"create key {key.id}", _KEY_INSERT, *_key_params(key))

    async def find_key(self, digest: str) -> ApiKey | None:
        row = await self._fetch_one("find a key", _KEY_SELECT + " WHERE digest = $1", digest)
        return _key(row) if row is not None else None

    async def list_keys(self, tenant: str | None) -> list[ApiKey]:
        if tenant is None:
            rows = await self._fetch("list keys", _KEY_SELECT + " ORDER BY tenant, created_at, id")
        else:
            rows = await self._fetch(
                "list keys", _KEY_SELECT + " WHERE tenant = $1 ORDER BY created_at, id", tenant
            )
        return [_key(row) for row in rows]

    async def revoke_key(self, tenant: str, key_id: str, revoked_at: str) -> bool:
        count = await self._execute(
            f"revoke key {key_id}",
            "UPDATE api_keys SET revoked_at = $1 WHERE tenant = $2 AND id = $3"
            " AND revoked_at IS NULL",
            revoked_at,
            tenant,
            key_id,
        )
        return count == 1

    # sessions ----------------------------------------------------------------
    async def insert_session(self, session: Session) -> None:
        values = sql.column_values(session_columns(session), _encoder.encode(session))
        await self._execute(
            f"insert session {session.id}", sql.insert_session_sql(sql.dollar), *values
        )

    async def get_session(
        self, tenant: str, session_id: str, sites: tuple[str, ...] | None = None
    ) -> StoredSession | None:
        statement, params = sql.get_session_sql(sql.dollar, tenant, session_id, sites)
        row = await self._fetch_one("read a session", statement, *params)
        return _stored(row) if row is not None else None

    async def replace_session(self, session: Session, expected_version: int) -> bool:
        values = sql.column_values(session_columns(session), _encoder.encode(session))
        count = await self._execute(
            f"update session {session.id}",
            sql.replace_session_sql(sql.dollar),
            *sql.replace_session_params(values, expected_version),
        )
        return count == 1

    async def list_sessions(
        self, query: SessionQuery, after: Cursor | None, limit: int, now_ms: int
    ) -> list[StoredSession]:
        statement, params = sql.list_sessions_sql(sql.dollar, query, after, limit, now_ms)
        return [_stored(row) for row in await self._fetch("list sessions", statement, *params)]


async def _apply_migration(conn: Any, migration: Migration) -> bool:
    """Apply one migration in its own transaction; False when it was applied before."""
    async with conn.transaction():
        await _take_migration_lock(conn)
        await conn.execute(_MIGRATIONS_TABLE)
        done = await conn.fetchval(
            "SELECT count(*) FROM schema_migrations WHERE version = $1", migration.version
        )
        if done:
            return False
        await conn.execute(migration.sql)
        await conn.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            migration.version,
            migration.name,
        )
    return True


async def _take_migration_lock(conn: Any) -> None:
    """Serialise migrations of instances starting together, where the database can.

    The call runs in a savepoint: on a database without advisory locks the
    failure must not abort the migration's transaction. A lock taken inside a
    released savepoint is held until the outer transaction ends.
    """
    try:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK_KEY)
    except (asyncpg.UndefinedFunctionError, asyncpg.FeatureNotSupportedError):
        pass


async def _lock_tenant(conn: Any, tenant: str) -> None:
    """Row-lock the tenant so concurrent default-site changes cannot leave two defaults."""
    await conn.execute("SELECT slug FROM tenants WHERE slug = $1 FOR UPDATE", tenant)


_SITE_SELECT = "SELECT tenant, slug, uuid, is_default, created_at, settings FROM sites"
_KEY_COLUMNS = (
    "id, tenant, site, kind, scopes, origins, prefix, digest, created_at, revoked_at,"
    " secret_ciphertext"
)
_KEY_SELECT = f"SELECT {_KEY_COLUMNS} FROM api_keys"
_KEY_INSERT = (
    f"INSERT INTO api_keys ({_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
)


def _site(row: Any) -> Site:
    return Site(
        tenant=row["tenant"],
        slug=row["slug"],
        uuid=row["uuid"],
        is_default=row["is_default"],
        created_at=row["created_at"],
        settings=decode_settings(row["settings"]),
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


def _key(row: Any) -> ApiKey:
    return ApiKey(
        id=row["id"],
        tenant=row["tenant"],
        site=row["site"],
        kind=row["kind"],
        scopes=json.loads(row["scopes"]),
        origins=json.loads(row["origins"]),
        prefix=row["prefix"],
        digest=row["digest"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
        secret_ciphertext=row["secret_ciphertext"],
    )


def _stored(row: Any) -> StoredSession:
    return StoredSession(
        id=row["id"],
        created_ms=row["created_ms"],
        expires_ms=row["expires_ms"],
        status=row["status"],
        doc=row["doc"],
    )
