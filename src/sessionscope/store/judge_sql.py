"""SQL of judgement's history queries and of feedback, shared by both backends.

Every history query is tenant-scoped, served by an index of migration 0007 or 0001, and
bounded by LIMIT, so its cost does not grow with a tenant's traffic.
"""

from __future__ import annotations

from typing import Any, get_args

from sessionscope.judge.records import FeedbackRecord, FraudSighting, HistoryColumn
from sessionscope.store.base import Cursor
from sessionscope.store.sql import SESSION_READ_COLUMNS, Params, Placeholder

Statement = tuple[str, list[Any]]
_HISTORY_COLUMNS = frozenset(get_args(HistoryColumn))


def _column(column: HistoryColumn) -> str:
    if column not in _HISTORY_COLUMNS:
        raise ValueError(f"{column!r} is not a history column")
    return column


def previous_session(
    mark: Placeholder, tenant: str, column: HistoryColumn, value: str, before: Cursor
) -> Statement:
    p = Params(mark)
    sql = (
        f"SELECT {SESSION_READ_COLUMNS} FROM sessions"
        f" WHERE tenant = {p(tenant)} AND {_column(column)} = {p(value)}"
        f" AND (created_ms, id) < ({p(before.created_ms)}, {p(before.id)})"
        " ORDER BY created_ms DESC, id DESC LIMIT 1"
    )
    return sql, p.values


def fake_sessions_near(
    mark: Placeholder,
    tenant: str,
    prefix: str,
    since_ms: int,
    until_ms: int,
    exclude: str,
    limit: int,
) -> Statement:
    p = Params(mark)
    sql = (
        "SELECT id, ip, created_ms FROM sessions"
        f" WHERE tenant = {p(tenant)} AND ip_prefix = {p(prefix)} AND decision = 'fake'"
        f" AND created_ms >= {p(since_ms)} AND created_ms <= {p(until_ms)} AND id <> {p(exclude)}"
        f" ORDER BY created_ms DESC LIMIT {p(limit)}"
    )
    return sql, p.values


def fraud_labels_near(
    mark: Placeholder,
    tenant: str,
    prefix: str,
    since_ms: int,
    until_ms: int,
    exclude: str,
    limit: int,
) -> Statement:
    p = Params(mark)
    sql = (
        "SELECT session_id, ip, session_created_ms FROM feedback"
        f" WHERE tenant = {p(tenant)} AND ip_prefix = {p(prefix)} AND label = 'fraud'"
        f" AND session_created_ms >= {p(since_ms)} AND session_created_ms <= {p(until_ms)}"
        f" AND session_id <> {p(exclude)}"
        f" ORDER BY session_created_ms DESC LIMIT {p(limit)}"
    )
    return sql, p.values


def device_users(
    mark: Placeholder,
    tenant: str,
    device_id: str,
    since_ms: int,
    until_ms: int,
    exclude: str,
    limit: int,
) -> Statement:
    p = Params(mark)
    sql = (
        "SELECT DISTINCT user_id FROM (SELECT user_id FROM sessions"
        f" WHERE tenant = {p(tenant)} AND device_id = {p(device_id)} AND user_id IS NOT NULL"
        f" AND created_ms >= {p(since_ms)} AND created_ms <= {p(until_ms)} AND id <> {p(exclude)}"
        f" ORDER BY created_ms DESC LIMIT {p(limit)}) recent"
    )
    return sql, p.values


def session_counts(
    mark: Placeholder,
    tenant: str,
    column: HistoryColumn,
    value: str,
    since_ms: tuple[int, ...],
    until_ms: int,
    exclude: str,
    limit: int,
) -> Statement:
    """One row: for each `since`, the sessions created in [since, until] (newest `limit`)."""
    p = Params(mark)
    counts = ", ".join(
        f"COALESCE(SUM(CASE WHEN created_ms >= {p(since)} THEN 1 ELSE 0 END), 0)"
        for since in since_ms
    )
    sql = (
        f"SELECT {counts} FROM (SELECT created_ms FROM sessions"
        f" WHERE tenant = {p(tenant)} AND {_column(column)} = {p(value)}"
        f" AND created_ms >= {p(min(since_ms))} AND created_ms <= {p(until_ms)}"
        f" AND id <> {p(exclude)} ORDER BY created_ms DESC LIMIT {p(limit)}) recent"
    )
    return sql, p.values


def merge_sightings(labelled: list[Any], judged: list[Any], limit: int) -> list[FraudSighting]:
    """Rows of `fraud_labels_near` and `fake_sessions_near`, newest first, each session once."""
    found: dict[str, FraudSighting] = {}
    for rows, was_labelled in ((labelled, True), (judged, False)):
        for session_id, ip, created_ms in rows:
            if session_id not in found:
                found[session_id] = FraudSighting(session_id, ip, created_ms, was_labelled)
    newest = sorted(found.values(), key=lambda seen: seen.created_ms, reverse=True)
    return newest[:limit]


FEEDBACK_COLUMNS = (
    "tenant",
    "session_id",
    "site",
    "label",
    "note",
    "ip",
    "ip_prefix",
    "session_created_ms",
    "labelled_ms",
)


def save_feedback(mark: Placeholder, record: FeedbackRecord) -> Statement:
    p = Params(mark)
    values = [getattr(record, name) for name in FEEDBACK_COLUMNS]
    sql = (
        f"INSERT INTO feedback ({', '.join(FEEDBACK_COLUMNS)})"
        f" VALUES ({', '.join(p(value) for value in values)})"
        " ON CONFLICT (tenant, session_id) DO UPDATE SET label = excluded.label,"
        " note = excluded.note, labelled_ms = excluded.labelled_ms"
    )
    return sql, p.values


def verdict_counts(
    mark: Placeholder,
    tenant: str,
    sites: tuple[str, ...] | None,
    since_ms: int | None,
    until_ms: int | None,
) -> Statement:
    p = Params(mark)
    where = [f"f.tenant = {p(tenant)}"]
    if sites is not None:
        where.append(f"f.site IN ({', '.join(p(site) for site in sites)})" if sites else "1 = 0")
    if since_ms is not None:
        where.append(f"f.labelled_ms >= {p(since_ms)}")
    if until_ms is not None:
        where.append(f"f.labelled_ms < {p(until_ms)}")
    sql = (
        "SELECT f.site, f.label, s.decision, s.is_bot, COUNT(*) FROM feedback f"
        " JOIN sessions s ON s.tenant = f.tenant AND s.id = f.session_id"
        f" WHERE {' AND '.join(where)}"
        " GROUP BY f.site, f.label, s.decision, s.is_bot"
        " ORDER BY f.site, f.label"
    )
    return sql, p.values
