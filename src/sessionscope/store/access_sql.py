"""SQL of session purging and the access model (issue 7), shared by both backends.

Each builder returns the statement text and its parameters; only the placeholder style
differs between SQLite (`?`) and PostgreSQL (`$n`).
"""

from __future__ import annotations

from typing import Any

from sessionscope.store.access_records import AccessRecord, GrantFilter, GrantRecord
from sessionscope.store.allowance import ConsumePlan, Consumption, Usage, UsageKey, UsageRow
from sessionscope.store.sql import Params, Placeholder

Statement = tuple[str, list[Any]]


# ---- purge ---------------------------------------------------------------------


def purge_expired_sessions(
    mark: Placeholder, tenant: str, site: str, cutoff_ms: int, limit: int
) -> Statement:
    """Delete up to `limit` sessions of a site whose expiry passed before `cutoff_ms`;
    returns the ids deleted.

    The condition is repeated outside the subquery so that a row changed meanwhile is
    judged again as it is now. (Placeholders are handed out in text order: SQLite's `?`
    bind by position.)
    """
    p = Params(mark)
    outer = f"tenant = {p(tenant)} AND expires_ms < {p(cutoff_ms)}"
    inner = (
        f"SELECT id FROM sessions WHERE tenant = {p(tenant)} AND site = {p(site)}"
        f" AND expires_ms < {p(cutoff_ms)} LIMIT {p(limit)}"
    )
    return f"DELETE FROM sessions WHERE {outer} AND id IN ({inner}) RETURNING id", p.values


def purge_ended_sessions(
    mark: Placeholder, tenant: str, site: str, cutoff_ms: int, limit: int
) -> Statement:
    """Delete up to `limit` released or revoked sessions of a site unchanged since `cutoff_ms`;
    returns the ids deleted."""
    p = Params(mark)
    ended = "status IN ('released', 'revoked')"
    outer = f"tenant = {p(tenant)} AND {ended} AND updated_ms < {p(cutoff_ms)}"
    inner = (
        f"SELECT id FROM sessions WHERE tenant = {p(tenant)} AND site = {p(site)}"
        f" AND {ended} AND updated_ms < {p(cutoff_ms)} LIMIT {p(limit)}"
    )
    return f"DELETE FROM sessions WHERE {outer} AND id IN ({inner}) RETURNING id", p.values


def purge_usage(mark: Placeholder, table: str, now_ms: int, limit: int) -> Statement:
    """Delete up to `limit` rows of `table` (access_usage or access_content) whose period
    has ended: the next use starts a fresh period anyway."""
    p = Params(mark)
    key = _USAGE_KEY if table == "access_usage" else _CONTENT_KEY
    outer = f"period_end_ms < {p(now_ms)}"
    inner = f"SELECT {key} FROM {table} WHERE period_end_ms < {p(now_ms)} LIMIT {p(limit)}"
    return f"DELETE FROM {table} WHERE {outer} AND ({key}) IN ({inner})", p.values


_USAGE_KEY = "tenant, site, subject, source"
_CONTENT_KEY = "tenant, site, subject, source, period_start_ms, content_id"


# ---- definitions -----------------------------------------------------------------

_OBJECT_COLUMNS = "tenant, site, kind, id, doc, created_at, updated_at"


def insert_object(mark: Placeholder, record: AccessRecord) -> Statement:
    p = Params(mark)
    values = p.each(
        (
            record.tenant,
            record.site,
            record.kind,
            record.id,
            record.doc,
            record.created_at,
            record.updated_at,
        )
    )
    return f"INSERT INTO access_objects ({_OBJECT_COLUMNS}) VALUES ({values})", p.values


def replace_object(mark: Placeholder, record: AccessRecord) -> Statement:
    p = Params(mark)
    return (
        f"UPDATE access_objects SET doc = {p(record.doc)}, updated_at = {p(record.updated_at)}"
        f" WHERE tenant = {p(record.tenant)} AND site = {p(record.site)}"
        f" AND kind = {p(record.kind)} AND id = {p(record.id)}",
        p.values,
    )


def select_objects(
    mark: Placeholder,
    tenant: str,
    site: str,
    kind: str | None,
    object_id: str | None = None,
    after: str | None = None,
    limit: int | None = None,
) -> Statement:
    p = Params(mark)
    where = [f"tenant = {p(tenant)}", f"site = {p(site)}"]
    if kind is not None:
        where.append(f"kind = {p(kind)}")
    if object_id is not None:
        where.append(f"id = {p(object_id)}")
    if after is not None:
        where.append(f"id > {p(after)}")
    sql = f"SELECT {_OBJECT_COLUMNS} FROM access_objects WHERE {' AND '.join(where)}"
    sql += " ORDER BY kind, id"
    if limit is not None:
        sql += f" LIMIT {p(limit)}"
    return sql, p.values


def delete_object(
    mark: Placeholder, tenant: str, site: str, kind: str, object_id: str
) -> Statement:
    p = Params(mark)
    return (
        f"DELETE FROM access_objects WHERE tenant = {p(tenant)} AND site = {p(site)}"
        f" AND kind = {p(kind)} AND id = {p(object_id)}",
        p.values,
    )


def object_record(row: Any) -> AccessRecord:
    return AccessRecord(*(row[i] for i in range(7)))


# ---- grants ----------------------------------------------------------------------

_GRANT_COLUMNS = "tenant, site, id, user_id, bundle_id, expires_ms, created_at"


def insert_grant(mark: Placeholder, grant: GrantRecord) -> Statement:
    p = Params(mark)
    values = ", ".join(
        p(value)
        for value in (
            grant.tenant,
            grant.site,
            grant.id,
            grant.user_id,
            grant.bundle_id,
            grant.expires_ms,
            grant.created_at,
        )
    )
    return f"INSERT INTO access_grants ({_GRANT_COLUMNS}) VALUES ({values})", p.values


def select_grants(
    mark: Placeholder, where: GrantFilter, after: str | None, limit: int
) -> Statement:
    p = Params(mark)
    conditions = [f"tenant = {p(where.tenant)}", f"site = {p(where.site)}"]
    if where.user_id is not None:
        conditions.append(f"user_id = {p(where.user_id)}")
    if where.bundle_id is not None:
        conditions.append(f"bundle_id = {p(where.bundle_id)}")
    if after is not None:
        conditions.append(f"id > {p(after)}")
    return (
        f"SELECT {_GRANT_COLUMNS} FROM access_grants WHERE {' AND '.join(conditions)}"
        f" ORDER BY id LIMIT {p(limit)}",
        p.values,
    )


def delete_grant(mark: Placeholder, tenant: str, site: str, grant_id: str) -> Statement:
    p = Params(mark)
    return (
        f"DELETE FROM access_grants WHERE tenant = {p(tenant)} AND site = {p(site)}"
        f" AND id = {p(grant_id)}",
        p.values,
    )


def grant_record(row: Any) -> GrantRecord:
    return GrantRecord(*(row[i] for i in range(7)))


# ---- usage -----------------------------------------------------------------------


def _key_condition(p: Params, key: UsageKey) -> str:
    return (
        f"tenant = {p(key.tenant)} AND site = {p(key.site)}"
        f" AND subject = {p(key.subject)} AND source = {p(key.source)}"
    )


def select_usage(mark: Placeholder, key: UsageKey, for_update: bool) -> Statement:
    p = Params(mark)
    lock = " FOR UPDATE" if for_update else ""
    return (
        "SELECT used, period_start_ms, period_end_ms FROM access_usage"
        f" WHERE {_key_condition(p, key)}{lock}",
        p.values,
    )


def usage_of(row: Any) -> Usage:
    return Usage(int(row[0]), int(row[1]), None if row[2] is None else int(row[2]))


def ensure_usage(mark: Placeholder, key: UsageKey, fresh: Usage) -> Statement:
    """A row to lock, at zero use, unless the visitor has one."""
    return _insert_usage(mark, key, fresh, " ON CONFLICT DO NOTHING")


def write_usage(mark: Placeholder, key: UsageKey, usage: Usage) -> Statement:
    return _insert_usage(
        mark,
        key,
        usage,
        " ON CONFLICT (tenant, site, subject, source) DO UPDATE SET used = excluded.used,"
        " period_start_ms = excluded.period_start_ms, period_end_ms = excluded.period_end_ms",
    )


def _insert_usage(mark: Placeholder, key: UsageKey, usage: Usage, conflict: str) -> Statement:
    p = Params(mark)
    values = ", ".join(
        p(value)
        for value in (
            key.tenant,
            key.site,
            key.subject,
            key.source,
            usage.used,
            usage.period_start_ms,
            usage.period_end_ms,
        )
    )
    return (
        "INSERT INTO access_usage (tenant, site, subject, source, used, period_start_ms,"
        f" period_end_ms) VALUES ({values}){conflict}",
        p.values,
    )


def content_counted(
    mark: Placeholder, key: UsageKey, period_start_ms: int, content: str
) -> Statement:
    p = Params(mark)
    return (
        f"SELECT 1 FROM access_content WHERE {_key_condition(p, key)}"
        f" AND period_start_ms = {p(period_start_ms)} AND content_id = {p(content)}",
        p.values,
    )


def forget_other_periods(mark: Placeholder, key: UsageKey, period_start_ms: int) -> Statement:
    p = Params(mark)
    return (
        f"DELETE FROM access_content WHERE {_key_condition(p, key)}"
        f" AND period_start_ms <> {p(period_start_ms)}",
        p.values,
    )


def count_content(
    mark: Placeholder, key: UsageKey, usage: Usage, content: str, at_ms: int
) -> Statement:
    p = Params(mark)
    values = ", ".join(
        p(value)
        for value in (
            key.tenant,
            key.site,
            key.subject,
            key.source,
            usage.period_start_ms,
            content,
            usage.period_end_ms,
            at_ms,
        )
    )
    return (
        "INSERT INTO access_content (tenant, site, subject, source, period_start_ms, content_id,"
        f" period_end_ms, counted_ms) VALUES ({values}) ON CONFLICT DO NOTHING",
        p.values,
    )


def select_subject_usage(
    mark: Placeholder, tenant: str, site: str, subject: str, sources: tuple[str, ...]
) -> Statement:
    p = Params(mark)
    return (
        "SELECT source, used, period_start_ms, period_end_ms FROM access_usage"
        f" WHERE tenant = {p(tenant)} AND site = {p(site)} AND subject = {p(subject)}"
        f" AND source IN ({p.each(sources)})",
        p.values,
    )


def select_subject_content(
    mark: Placeholder, tenant: str, site: str, subject: str, sources: tuple[str, ...]
) -> Statement:
    p = Params(mark)
    return (
        "SELECT source, period_start_ms, content_id FROM access_content"
        f" WHERE tenant = {p(tenant)} AND site = {p(site)} AND subject = {p(subject)}"
        f" AND source IN ({p.each(sources)}) ORDER BY counted_ms, content_id",
        p.values,
    )


def usage_rows(usage: list[Any], content: list[Any]) -> list[UsageRow]:
    """Usage rows joined with the content ids of each one's current period."""
    rows = []
    for row in usage:
        current = Usage(int(row[1]), int(row[2]), None if row[3] is None else int(row[3]))
        ids = [c[2] for c in content if c[0] == row[0] and int(c[1]) == current.period_start_ms]
        rows.append(UsageRow(source=row[0], usage=current, content_ids=ids))
    return rows


def consumption_writes(
    mark: Placeholder, key: UsageKey, plan: ConsumePlan, outcome: Consumption
) -> list[Statement]:
    """The writes a settled consumption needs: the usage row, a new period's clean slate,
    and the content id it counted."""
    writes: list[Statement] = []
    if outcome.changed:
        writes.append(write_usage(mark, key, outcome.usage))
    if outcome.rolled_over:
        writes.append(forget_other_periods(mark, key, outcome.usage.period_start_ms))
    if outcome.allowed and outcome.changed:
        writes.append(count_content(mark, key, outcome.usage, plan.content_id, plan.now_ms))
    return writes
