"""SQL text shared by the backends; only the placeholder style differs."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sessionscope.store.base import Cursor, SessionColumns, SessionQuery

SESSION_READ_COLUMNS = "id, created_ms, expires_ms, status, doc"
# The read by id of a cache that filters by site itself (SQLite's placeholders).
SITE_AND_SESSION_BY_ID = (
    f"SELECT site, {SESSION_READ_COLUMNS} FROM sessions WHERE tenant = ? AND id = ?"
)

SESSION_WRITE_COLUMNS = (
    "tenant",
    "id",
    "site",
    "version",
    "created_ms",
    "updated_ms",
    "expires_ms",
    "user_id",
    "device_id",
    "ip",
    "state",
    "status",
    "bot_score",
    "risk_score",
    "country_code",
    "ip_prefix",
    "decision",
    "is_bot",
    "doc",
)

Placeholder = Callable[[int], str]


def qmark(_: int) -> str:
    return "?"


def dollar(position: int) -> str:
    return f"${position}"


def column_values(columns: SessionColumns, doc: bytes) -> list[Any]:
    return [
        columns.tenant,
        columns.id,
        columns.site,
        columns.version,
        columns.created_ms,
        columns.updated_ms,
        columns.expires_ms,
        columns.user_id,
        columns.device_id,
        columns.ip,
        columns.state,
        columns.status,
        columns.bot_score,
        columns.risk_score,
        columns.country_code,
        columns.ip_prefix,
        columns.decision,
        columns.is_bot,
        doc,
    ]


def insert_session_sql(mark: Placeholder) -> str:
    values = ", ".join(mark(i + 1) for i in range(len(SESSION_WRITE_COLUMNS)))
    return f"INSERT INTO sessions ({', '.join(SESSION_WRITE_COLUMNS)}) VALUES ({values})"


def replace_session_sql(mark: Placeholder) -> str:
    """UPDATE of every copied column; params come from `replace_session_params`."""
    changed = SESSION_WRITE_COLUMNS[2:]
    assignments = ", ".join(f"{name} = {mark(i + 1)}" for i, name in enumerate(changed))
    n = len(changed)
    return (
        f"UPDATE sessions SET {assignments} "
        f"WHERE tenant = {mark(n + 1)} AND id = {mark(n + 2)} AND version = {mark(n + 3)}"
    )


def replace_session_params(values: list[Any], expected_version: int) -> list[Any]:
    """`column_values` reordered for `replace_session_sql`: changed columns, then the key."""
    return [*values[2:], values[0], values[1], expected_version]


class Params:
    """Collects parameters and hands out their placeholders in the order they appear."""

    def __init__(self, mark: Placeholder) -> None:
        self.mark = mark
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return self.mark(len(self.values))

    def each(self, values: tuple[Any, ...]) -> str:
        return ", ".join(self(value) for value in values)


def get_session_sql(
    mark: Placeholder, tenant: str, session_id: str, sites: tuple[str, ...] | None
) -> tuple[str, list[Any]]:
    statement = _get_session_statement(mark, None if sites is None else len(sites))
    return statement, [tenant, session_id] if sites is None else [tenant, session_id, *sites]


@functools.cache
def _get_session_statement(mark: Placeholder, site_count: int | None) -> str:
    """The read by id, built once per placeholder style and number of sites (the hot read)."""
    params = Params(mark)
    where = [f"tenant = {params('tenant')}", f"id = {params('id')}"]
    if site_count is not None:
        where.append(_in_list("site", ("site",) * site_count, params))
    return f"SELECT {SESSION_READ_COLUMNS} FROM sessions WHERE {' AND '.join(where)}"


def list_sessions_sql(
    mark: Placeholder, query: SessionQuery, after: Cursor | None, limit: int, now_ms: int
) -> tuple[str, list[Any]]:
    params = Params(mark)
    where = [f"tenant = {params(query.tenant)}"]
    if query.sites is not None:
        where.append(_in_list("site", query.sites, params))
    for column, value in (
        ("user_id", query.user_id),
        ("device_id", query.device_id),
        ("state", query.state),
    ):
        if value is not None:
            where.append(f"{column} = {params(value)}")
    if query.status is not None:
        where.append(_status_condition(query.status, now_ms, params))
    if query.since_ms is not None:
        where.append(f"created_ms >= {params(query.since_ms)}")
    if query.until_ms is not None:
        where.append(f"created_ms < {params(query.until_ms)}")
    if after is not None:
        where.append(f"(created_ms, id) < ({params(after.created_ms)}, {params(after.id)})")
    sql = (
        f"SELECT {SESSION_READ_COLUMNS} FROM sessions WHERE {' AND '.join(where)} "
        f"ORDER BY created_ms DESC, id DESC LIMIT {params(limit)}"
    )
    return sql, params.values


def _in_list(column: str, values: tuple[str, ...], params: Params) -> str:
    if not values:
        return "1 = 0"
    return f"{column} IN ({params.each(values)})"


def _status_condition(status: str, now_ms: int, params: Params) -> str:
    """Status as of now: an active row whose expiry has passed counts as expired."""
    if status == "active":
        now = params(now_ms)
        return f"(status = 'active' AND (expires_ms IS NULL OR expires_ms > {now}))"
    if status == "expired":
        now = params(now_ms)
        return f"(status = 'expired' OR (status = 'active' AND expires_ms <= {now}))"
    return f"status = {params(status)}"
