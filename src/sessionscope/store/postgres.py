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
from sessionscope.store import access_sql, devices_sql, judge_sql, nonces_sql, sql
from sessionscope.store import iplists_sql as lists_sql
from sessionscope.store.access_records import AccessRecord, GrantFilter, GrantRecord
from sessionscope.store.allowance import (
    ConsumePlan,
    Consumption,
    Usage,
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
    session_columns,
)
from sessionscope.store.devices_sql import KnownDevice
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
        self._sites = SiteCache()

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
        self._sites.forget(site.tenant)

    async def update_site_settings(self, tenant: str, slug: str, settings: SiteSettings) -> bool:
        changed = await self._execute(
            f"change the settings of site {tenant}/{slug}",
            "UPDATE sites SET settings = $1 WHERE tenant = $2 AND slug = $3",
            encode_settings(settings),
            tenant,
            slug,
        )
        self._sites.forget(tenant)
        return changed == 1

    async def set_default_site(self, tenant: str, slug: str) -> None:
        with _translated(f"make {tenant}/{slug} the default site"):
            async with self._ready().acquire() as conn, conn.transaction():
                await _lock_tenant(conn, tenant)
                await conn.execute(
                    "UPDATE sites SET is_default = (slug = $1) WHERE tenant = $2", slug, tenant
                )
        self._sites.forget(tenant)

    async def get_site(self, tenant: str, slug: str) -> Site | None:
        cached = self._sites.get(tenant, slug)
        if cached is not None:
            return cached
        row = await self._fetch_one(
            "read a site", _SITE_SELECT + " WHERE tenant = $1 AND slug = $2", tenant, slug
        )
        return self._sites.put(tenant, slug, _site(row) if row is not None else None)

    async def get_default_site(self, tenant: str) -> Site | None:
        cached = self._sites.get(tenant, None)
        if cached is not None:
            return cached
        row = await self._fetch_one(
            "read the default site", _SITE_SELECT + " WHERE tenant = $1 AND is_default", tenant
        )
        return self._sites.put(tenant, None, _site(row) if row is not None else None)

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
    async def insert_session(self, session: Session) -> bytes:
        doc = _encoder.encode(session)
        values = sql.column_values(session_columns(session), doc)
        await self._execute(
            f"insert session {session.id}", sql.insert_session_sql(sql.dollar), *values
        )
        return doc

    async def get_session(
        self, tenant: str, session_id: str, sites: tuple[str, ...] | None = None
    ) -> StoredSession | None:
        statement, params = sql.get_session_sql(sql.dollar, tenant, session_id, sites)
        row = await self._fetch_one("read a session", statement, *params)
        return _stored(row) if row is not None else None

    def cached_session(
        self, tenant: str, session_id: str, sites: tuple[str, ...] | None = None
    ) -> StoredSession | None:
        return None  # rows may change from other machines: nothing is kept (architecture.md)

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

    def cached_active_user_sessions(
        self, tenant: str, site: str, user_id: str, limit: int, now_ms: int
    ) -> None:
        """Sessions may change on other machines: `active_user_sessions` asks the server."""
        return None

    async def active_user_sessions(
        self, tenant: str, site: str, user_id: str, limit: int, now_ms: int
    ) -> list[StoredSession]:
        query = SessionQuery(tenant=tenant, sites=(site,), user_id=user_id, status="active")
        return await self.list_sessions(query, None, limit, now_ms)

    # per-tenant IP lists (issue 3) -------------------------------------------
    async def create_ip_list(self, record: IPListRecord) -> None:
        await self._execute(
            f"create list {record.name!r}",
            lists_sql.insert_list(sql.dollar),
            *lists_sql.insert_list_params(record),
        )

    async def get_ip_list(self, tenant: str, name: str) -> IPListRecord | None:
        row = await self._fetch_one("read a list", lists_sql.select_list(sql.dollar), tenant, name)
        return lists_sql.list_record(row) if row is not None else None

    async def list_ip_lists(self, tenant: str) -> list[IPListRecord]:
        rows = await self._fetch("list lists", lists_sql.select_lists(sql.dollar), tenant)
        return [lists_sql.list_record(row) for row in rows]

    async def delete_ip_list(self, tenant: str, name: str) -> bool:
        with _translated(f"delete list {name!r}"):
            async with self._ready().acquire() as conn, conn.transaction():
                await conn.execute(lists_sql.delete_entries_of_list(sql.dollar), tenant, name)
                status = await conn.execute(lists_sql.delete_list(sql.dollar), tenant, name)
        return _row_count(status) == 1

    async def add_ip_list_entries(
        self, tenant: str, name: str, cidrs: list[str], note: str | None, at: str
    ) -> int:
        return await self._change_entries(
            tenant, name, at, lists_sql.PG_INSERT_ENTRIES, note, at, cidrs
        )

    async def remove_ip_list_entries(
        self, tenant: str, name: str, cidrs: list[str], at: str
    ) -> int:
        return await self._change_entries(tenant, name, at, lists_sql.PG_DELETE_ENTRIES, cidrs)

    async def _change_entries(
        self, tenant: str, name: str, at: str, statement: str, *args: Any
    ) -> int:
        """Run `statement` on an existing list (row-locked); stamp the list if rows changed."""
        with _translated(f"change the entries of list {name!r}"):
            async with self._ready().acquire() as conn, conn.transaction():
                lock = lists_sql.lock_list(sql.dollar) + " FOR UPDATE"
                if await conn.fetchrow(lock, tenant, name) is None:
                    raise NotFound(f"no list {name!r}")
                changed = _row_count(await conn.execute(statement, tenant, name, *args))
                if changed:
                    await conn.execute(lists_sql.touch_list(sql.dollar), at, tenant, name)
        return changed

    async def ip_list_entries(
        self, tenant: str, name: str, after: str | None, limit: int
    ) -> list[IPListEntry]:
        statement, params = lists_sql.select_entries(sql.dollar, after, limit)
        rows = await self._fetch("read list entries", statement, tenant, name, *params)
        return [lists_sql.entry(row) for row in rows]

    async def load_ip_lists(self, tenant: str) -> list[TenantIPList]:
        statement = lists_sql.select_all_entries(sql.dollar)
        return lists_sql.tenant_lists(await self._fetch("load lists", statement, tenant))

    # HMAC nonces of the compatible APIs (issue 6) ----------------------------
    async def remember_nonces(self, nonces: list[tuple[str, str, int]], now_ms: int) -> list[bool]:
        firsts = nonces_sql.first_places(nonces)
        unique = [entry for entry, first in zip(nonces, firsts, strict=True) if first]
        if not unique:
            return firsts
        key_ids, values, expiries = (list(column) for column in zip(*unique, strict=True))
        statement = nonces_sql.POSTGRES_REMEMBER_NONCES
        rows = await self._fetch("remember nonces", statement, key_ids, values, expiries, now_ms)
        written = {(row[0], row[1]) for row in rows}
        return [
            first and (key_id, nonce) in written
            for (key_id, nonce, _), first in zip(nonces, firsts, strict=True)
        ]

    def claim_nonce_now(self, key_id: str, nonce: str, expires_ms: int, now_ms: int) -> None:
        """Every claim is a round trip to the server: `remember_nonces`."""
        return None

    async def purge_nonces(self, now_ms: int) -> int:
        return await self._execute(
            "forget expired nonces", nonces_sql.purge_nonces_sql(sql.dollar), now_ms
        )

    # device identity (issue 4) -------------------------------------------------
    async def find_device_by_token(
        self, tenant: str, site: str, token_digest: str
    ) -> KnownDevice | None:
        row = await self._fetch_one(
            "find a device by token",
            devices_sql.by_token_sql(sql.dollar),
            tenant,
            site,
            token_digest,
        )
        return devices_sql.device_from_row(row) if row is not None else None

    async def device_candidates(
        self, tenant: str, site: str, bucket: str, limit: int
    ) -> list[KnownDevice]:
        rows = await self._fetch(
            "read candidate devices",
            devices_sql.candidates_sql(sql.dollar),
            tenant,
            site,
            bucket,
            limit,
        )
        return [devices_sql.device_from_row(row) for row in rows]

    async def save_device(self, device: KnownDevice) -> None:
        await self._execute(
            f"save device {device.device_id}",
            devices_sql.save_sql(sql.dollar),
            *devices_sql.device_values(device),
        )

    # judgement: history and feedback (issue 5) ---------------------------------
    async def previous_session(
        self, tenant: str, column: HistoryColumn, value: str, before: Cursor
    ) -> StoredSession | None:
        statement, params = judge_sql.previous_session(sql.dollar, tenant, column, value, before)
        row = await self._fetch_one("read a previous session", statement, *params)
        return _stored(row) if row is not None else None

    async def fraud_sightings(
        self, tenant: str, ip_prefix: str, since_ms: int, until_ms: int, exclude_id: str, limit: int
    ) -> list[FraudSighting]:
        window = (tenant, ip_prefix, since_ms, until_ms, exclude_id, limit)
        judged_sql, judged_params = judge_sql.fake_sessions_near(sql.dollar, *window)
        labelled_sql, labelled_params = judge_sql.fraud_labels_near(sql.dollar, *window)
        judged = await self._fetch("read fake sessions nearby", judged_sql, *judged_params)
        labelled = await self._fetch("read fraud labels nearby", labelled_sql, *labelled_params)
        return judge_sql.merge_sightings(
            [tuple(row) for row in labelled], [tuple(row) for row in judged], limit
        )

    async def device_users(
        self, tenant: str, device_id: str, since_ms: int, until_ms: int, exclude_id: str, limit: int
    ) -> list[str]:
        statement, params = judge_sql.device_users(
            sql.dollar, tenant, device_id, since_ms, until_ms, exclude_id, limit
        )
        return [row[0] for row in await self._fetch("read a device's users", statement, *params)]

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
        statement, params = judge_sql.session_counts(
            sql.dollar, tenant, column, value, since_ms, until_ms, exclude_id, limit
        )
        row = await self._fetch_one("count recent sessions", statement, *params)
        return [int(count) for count in row]

    async def judgement_history(self, request: HistoryRequest) -> HistoryAnswer:
        statement, params = judge_sql.history(judge_sql.POSTGRES_HISTORY, request)
        row = await self._fetch_one("read a session's history", statement, *params)
        return judge_sql.history_answer(request, row)

    async def save_feedback(self, record: FeedbackRecord) -> None:
        statement, params = judge_sql.save_feedback(sql.dollar, record)
        await self._execute(f"label session {record.session_id}", statement, *params)

    async def verdict_counts(
        self, tenant: str, sites: tuple[str, ...] | None, since_ms: int | None, until_ms: int | None
    ) -> list[VerdictCount]:
        statement, params = judge_sql.verdict_counts(sql.dollar, tenant, sites, since_ms, until_ms)
        rows = await self._fetch("count verdicts against labels", statement, *params)
        return [VerdictCount(row[0], row[1], row[2], row[3], row[4]) for row in rows]

    # session lifecycle and access model (issue 7) ------------------------------
    async def purge_sessions(self, tenant: str, site: str, cutoff_ms: int, limit: int) -> int:
        deleted: list[str] = []
        with _translated(f"purge ended sessions of {tenant}/{site}"):
            async with self._ready().acquire() as conn, conn.transaction():
                for build in (access_sql.purge_expired_sessions, access_sql.purge_ended_sessions):
                    rows = await conn.fetch(
                        *_flat(build(sql.dollar, tenant, site, cutoff_ms, limit))
                    )
                    deleted.extend(row[0] for row in rows)
                if deleted:
                    forget = judge_sql.forget_feedback(sql.dollar, tenant, deleted)
                    await conn.execute(*_flat(forget))
        return len(deleted)

    async def purge_usage(self, now_ms: int, limit: int) -> int:
        deleted = 0
        for table in ("access_usage", "access_content"):
            statement, params = access_sql.purge_usage(sql.dollar, table, now_ms, limit)
            deleted += await self._execute("purge ended meter periods", statement, *params)
        return deleted

    async def save_access_object(self, record: AccessRecord, create: bool) -> bool:
        build = access_sql.insert_object if create else access_sql.replace_object
        statement, params = build(sql.dollar, record)
        return await self._execute(f"save {record.kind} {record.id}", statement, *params) == 1

    async def list_access_objects(
        self,
        tenant: str,
        site: str,
        kind: str | None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[AccessRecord]:
        statement, params = access_sql.select_objects(
            sql.dollar, tenant, site, kind, after=after, limit=limit
        )
        rows = await self._fetch("list access definitions", statement, *params)
        return [access_sql.object_record(row) for row in rows]

    async def get_access_object(
        self, tenant: str, site: str, kind: str, object_id: str
    ) -> AccessRecord | None:
        statement, params = access_sql.select_objects(sql.dollar, tenant, site, kind, object_id)
        row = await self._fetch_one("read an access definition", statement, *params)
        return access_sql.object_record(row) if row is not None else None

    async def delete_access_object(self, tenant: str, site: str, kind: str, object_id: str) -> bool:
        statement, params = access_sql.delete_object(sql.dollar, tenant, site, kind, object_id)
        return await self._execute(f"delete {kind} {object_id}", statement, *params) == 1

    async def create_grant(self, grant: GrantRecord) -> None:
        statement, params = access_sql.insert_grant(sql.dollar, grant)
        await self._execute("grant a bundle", statement, *params)

    async def list_grants(
        self, where: GrantFilter, after: str | None, limit: int
    ) -> list[GrantRecord]:
        statement, params = access_sql.select_grants(sql.dollar, where, after, limit)
        rows = await self._fetch("list grants", statement, *params)
        return [access_sql.grant_record(row) for row in rows]

    async def delete_grant(self, tenant: str, site: str, grant_id: str) -> bool:
        statement, params = access_sql.delete_grant(sql.dollar, tenant, site, grant_id)
        return await self._execute("delete a grant", statement, *params) == 1

    async def consume_allowance(self, key: UsageKey, plan: ConsumePlan) -> Consumption:
        # One transaction holding the usage row's lock: concurrent uses of the same
        # allowance wait for each other, so the check and the consumption are atomic.
        fresh = Usage(0, plan.fresh_start_ms, plan.fresh_end_ms)
        with _translated(f"consume {key.source}"):
            async with self._ready().acquire() as conn, conn.transaction():
                await conn.execute(*_flat(access_sql.ensure_usage(sql.dollar, key, fresh)))
                locked = access_sql.select_usage(sql.dollar, key, for_update=True)
                stored = access_sql.usage_of(await conn.fetchrow(locked[0], *locked[1]))
                current, _ = current_usage(stored, plan)
                counted = access_sql.content_counted(
                    sql.dollar, key, current.period_start_ms, plan.content_id
                )
                seen = await conn.fetchval(counted[0], *counted[1])
                outcome = settle(stored, plan, seen is not None)
                for statement, params in access_sql.consumption_writes(
                    sql.dollar, key, plan, outcome
                ):
                    await conn.execute(statement, *params)
        return outcome

    async def usage_of(
        self, tenant: str, site: str, subject: str, sources: tuple[str, ...]
    ) -> list[UsageRow]:
        if not sources:
            return []
        where = (sql.dollar, tenant, site, subject, sources)
        usage = await self._fetch(
            "read meter usage", *_flat(access_sql.select_subject_usage(*where))
        )
        content = await self._fetch(
            "read counted content", *_flat(access_sql.select_subject_content(*where))
        )
        return access_sql.usage_rows(usage, content)


def _flat(statement: tuple[str, list[Any]]) -> list[Any]:
    """A statement and its parameters as one argument list."""
    return [statement[0], *statement[1]]


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
