"""SQL of judgement's history queries and of feedback, shared by both backends.

Every history query is tenant-scoped, served by an index of migration 0007 or 0001, and
bounded by LIMIT, so its cost does not grow with a tenant's traffic.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, get_args

import msgspec

from sessionscope.judge.records import (
    FeedbackRecord,
    FraudSighting,
    HistoryAnswer,
    HistoryColumn,
    HistoryRequest,
)
from sessionscope.store import sql
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


# ---- the whole history of one judgement in one statement ---------------------------


@dataclass(frozen=True, slots=True)
class HistoryDialect:
    """What the history statement needs to know of a backend's SQL."""

    mark: Placeholder  # numbered: a value used in several places is bound once
    array: str  # the function making a JSON array of its arguments
    rows: str  # the aggregate making a JSON array of its input rows


SQLITE_HISTORY = HistoryDialect(lambda n: f"?{n}", "json_array", "json_group_array")
POSTGRES_HISTORY = HistoryDialect(sql.dollar, "json_build_array", "json_agg")
_sightings = msgspec.json.Decoder(list[tuple[str, str | None, int]])
_user_ids = msgspec.json.Decoder(list[str])
_counts = msgspec.json.Decoder(list[int])


class _Shape(NamedTuple):
    """What a request asks, leaving out the values: requests of one shape share a statement."""

    previous_of: tuple[HistoryColumn, ...]
    fraud: bool
    device_users: bool
    counted: tuple[HistoryColumn, ...]
    windows: int


def history(dialect: HistoryDialect, request: HistoryRequest) -> Statement:
    """One row: a column per question of `request` (see `history_answer`).

    Each question is a scalar subquery of its own, served by the same index as the query
    that asks it alone; rows come back as JSON arrays.
    """
    statement, names = _history_statement(dialect, _shape(request))
    values = _history_values(request)
    return statement, [values[name] for name in names]


def history_answer(request: HistoryRequest, row: Sequence[Any]) -> HistoryAnswer:
    """The row of `history` read back, column by column in the order it asked."""
    columns = iter(row)
    previous = {column: next(columns) for column, _ in request.previous_of}
    fraud: list[FraudSighting] = []
    if request.fraud_near is not None:
        judged, labelled = _rows(next(columns)), _rows(next(columns))
        fraud = merge_sightings(labelled, judged, request.fraud_near.limit)
    users: list[str] = []
    if request.device_users is not None:
        users = _user_ids.decode(next(columns) or "[]")
    counted = request.counted.subjects if request.counted is not None else ()
    counts = {column: _counts.decode(next(columns)) for column, _ in counted}
    found = {column: doc for column, doc in previous.items() if doc is not None}
    return HistoryAnswer(previous=found, fraud=fraud, device_users=users, counts=counts)


def _rows(text: str | None) -> list[tuple[str, str | None, int]]:
    """A JSON array of rows; PostgreSQL's `json_agg` of no rows is NULL."""
    return _sightings.decode(text) if text is not None else []


def _shape(request: HistoryRequest) -> _Shape:
    counted = request.counted
    return _Shape(
        previous_of=tuple(column for column, _ in request.previous_of),
        fraud=request.fraud_near is not None,
        device_users=request.device_users is not None,
        counted=tuple(column for column, _ in counted.subjects) if counted else (),
        windows=len(counted.since_ms) if counted else 0,
    )


def _history_values(request: HistoryRequest) -> dict[str, Any]:
    values: dict[str, Any] = {
        "tenant": request.tenant,
        "session": request.session_id,
        "created": request.created_ms,
    }
    for column, value in request.previous_of:
        values[f"previous:{column}"] = value
    for name, recent in (("fraud", request.fraud_near), ("users", request.device_users)):
        if recent is not None:
            values |= {name: recent.value, f"{name}:since": recent.since_ms}
            values[f"{name}:limit"] = recent.limit
    if request.counted is not None:
        for column, value in request.counted.subjects:
            values[f"count:{column}"] = value
        for index, since in enumerate(request.counted.since_ms):
            values[f"since:{index}"] = since
        values["count:since"] = min(request.counted.since_ms)
        values["count:limit"] = request.counted.limit
    return values


class _Named:
    """Hands out numbered placeholders by name: a name used again gets its number again."""

    def __init__(self, mark: Placeholder) -> None:
        self.mark = mark
        self.names: list[str] = []

    def __call__(self, name: str) -> str:
        if name not in self.names:
            self.names.append(name)
        return self.mark(self.names.index(name) + 1)


@functools.cache
def _history_statement(dialect: HistoryDialect, shape: _Shape) -> tuple[str, tuple[str, ...]]:
    """The statement of one shape of request, and the names of its values in bind order."""
    previous_of, fraud, device_users, counted, windows = shape
    p = _Named(dialect.mark)
    mine = f"tenant = {p('tenant')}"
    until_session = f"created_ms <= {p('created')} AND id <> {p('session')}"
    parts = [
        f"(SELECT doc FROM sessions WHERE {mine} AND {_column(column)} = {p(f'previous:{column}')}"
        f" AND (created_ms, id) < ({p('created')}, {p('session')})"
        " ORDER BY created_ms DESC, id DESC LIMIT 1)"
        for column in previous_of
    ]
    if fraud:
        near = f"ip_prefix = {p('fraud')}"
        parts.append(
            f"(SELECT {dialect.rows}({dialect.array}(id, ip, created_ms)) FROM"
            f" (SELECT id, ip, created_ms FROM sessions WHERE {mine} AND {near}"
            f" AND decision = 'fake' AND created_ms >= {p('fraud:since')} AND {until_session}"
            f" ORDER BY created_ms DESC LIMIT {p('fraud:limit')}) judged)"
        )
        parts.append(
            f"(SELECT {dialect.rows}({dialect.array}(session_id, ip, session_created_ms)) FROM"
            f" (SELECT session_id, ip, session_created_ms FROM feedback WHERE {mine} AND {near}"
            f" AND label = 'fraud' AND session_created_ms >= {p('fraud:since')}"
            f" AND session_created_ms <= {p('created')} AND session_id <> {p('session')}"
            f" ORDER BY session_created_ms DESC LIMIT {p('fraud:limit')}) labelled)"
        )
    if device_users:
        parts.append(
            f"(SELECT {dialect.rows}(user_id) FROM (SELECT DISTINCT user_id FROM"
            f" (SELECT user_id FROM sessions WHERE {mine} AND device_id = {p('users')}"
            f" AND user_id IS NOT NULL AND created_ms >= {p('users:since')} AND {until_session}"
            f" ORDER BY created_ms DESC LIMIT {p('users:limit')}) recent) users)"
        )
    # The session itself can only have been created at `created`: comparing ids only there
    # spares a table read per counted row where the index lacks `id` (sessions_by_ip).
    others = (
        f"created_ms <= {p('created')} AND (created_ms < {p('created')} OR id <> {p('session')})"
    )
    sums = ", ".join(
        f"COALESCE(SUM(CASE WHEN created_ms >= {p(f'since:{index}')} THEN 1 ELSE 0 END), 0)"
        for index in range(windows)
    )
    parts.extend(
        f"(SELECT {dialect.array}({sums}) FROM (SELECT created_ms FROM sessions"
        f" WHERE {mine} AND {_column(column)} = {p(f'count:{column}')}"
        f" AND created_ms >= {p('count:since')} AND {others}"
        f" ORDER BY created_ms DESC LIMIT {p('count:limit')}) recent)"
        for column in counted
    )
    if not parts:
        return "SELECT NULL", ()
    return f"SELECT {', '.join(parts)}", tuple(p.names)


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


def forget_feedback(mark: Placeholder, tenant: str, session_ids: Sequence[str]) -> Statement:
    """Delete the labels of these sessions: purged with them, as they hold their IP."""
    p = Params(mark)
    mine = f"tenant = {p(tenant)}"  # before the ids: SQLite's `?` bind in text order
    listed = ", ".join(p(session_id) for session_id in session_ids)
    return f"DELETE FROM feedback WHERE {mine} AND session_id IN ({listed})", p.values


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
