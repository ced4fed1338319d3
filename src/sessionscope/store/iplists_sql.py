"""SQL of the per-tenant IP lists, shared by the backends; only the placeholder differs."""

from __future__ import annotations

from typing import Any

from sessionscope.lists.model import IPListEntry, IPListRecord, TenantIPList
from sessionscope.store.sql import Placeholder


def _marks(mark: Placeholder, count: int) -> list[str]:
    return [mark(position) for position in range(1, count + 1)]


def insert_list(mark: Placeholder) -> str:
    values = ", ".join(_marks(mark, 5))
    return (
        "INSERT INTO ip_lists (tenant, name, description, created_at, updated_at)"
        f" VALUES ({values})"
    )


def insert_list_params(record: IPListRecord) -> list[Any]:
    return [record.tenant, record.name, record.description, record.created_at, record.updated_at]


_LIST_COLUMNS = (
    "l.tenant, l.name, l.description, l.created_at, l.updated_at,"
    " (SELECT count(*) FROM ip_list_entries e WHERE e.tenant = l.tenant AND e.name = l.name)"
)


def select_lists(mark: Placeholder) -> str:
    return f"SELECT {_LIST_COLUMNS} FROM ip_lists l WHERE l.tenant = {mark(1)} ORDER BY l.name"


def select_list(mark: Placeholder) -> str:
    return (
        f"SELECT {_LIST_COLUMNS} FROM ip_lists l WHERE l.tenant = {mark(1)} AND l.name = {mark(2)}"
    )


def list_record(row: Any) -> IPListRecord:
    return IPListRecord(
        tenant=row[0],
        name=row[1],
        description=row[2],
        created_at=row[3],
        updated_at=row[4],
        size=int(row[5]),
    )


def lock_list(mark: Placeholder) -> str:
    """The list's row, to check it exists before its entries change (PostgreSQL adds FOR UPDATE)."""
    return f"SELECT name FROM ip_lists WHERE tenant = {mark(1)} AND name = {mark(2)}"


def touch_list(mark: Placeholder) -> str:
    return (
        f"UPDATE ip_lists SET updated_at = {mark(1)} WHERE tenant = {mark(2)} AND name = {mark(3)}"
    )


def delete_entries_of_list(mark: Placeholder) -> str:
    return f"DELETE FROM ip_list_entries WHERE tenant = {mark(1)} AND name = {mark(2)}"


def delete_list(mark: Placeholder) -> str:
    return f"DELETE FROM ip_lists WHERE tenant = {mark(1)} AND name = {mark(2)}"


def insert_entry(mark: Placeholder) -> str:
    values = ", ".join(_marks(mark, 5))
    return (
        "INSERT INTO ip_list_entries (tenant, name, cidr, note, added_at)"
        f" VALUES ({values}) ON CONFLICT (tenant, name, cidr) DO NOTHING"
    )


def delete_entry(mark: Placeholder) -> str:
    return (
        f"DELETE FROM ip_list_entries WHERE tenant = {mark(1)} AND name = {mark(2)}"
        f" AND cidr = {mark(3)}"
    )


def select_entries(mark: Placeholder, after: str | None, limit: int) -> tuple[str, list[Any]]:
    """A keyset page of entries in CIDR text order; params after tenant and name."""
    params: list[Any] = [limit]
    where, limit_mark = "", mark(3)
    if after is not None:
        params = [after, limit]
        where, limit_mark = f" AND cidr > {mark(3)}", mark(4)
    sql = (
        "SELECT cidr, note, added_at FROM ip_list_entries"
        f" WHERE tenant = {mark(1)} AND name = {mark(2)}{where} ORDER BY cidr LIMIT {limit_mark}"
    )
    return sql, params


def entry(row: Any) -> IPListEntry:
    return IPListEntry(cidr=row[0], note=row[1], added_at=row[2])


def select_all_entries(mark: Placeholder) -> str:
    return (
        "SELECT e.name, l.updated_at, e.cidr FROM ip_list_entries e"
        " JOIN ip_lists l ON l.tenant = e.tenant AND l.name = e.name"
        f" WHERE e.tenant = {mark(1)} ORDER BY e.name"
    )


def tenant_lists(rows: list[Any]) -> list[TenantIPList]:
    """Rows of `select_all_entries` grouped into one record per list."""
    lists: dict[str, TenantIPList] = {}
    for name, updated_at, cidr in rows:
        found = lists.get(name)
        if found is None:
            found = lists[name] = TenantIPList(name=name, updated_at=updated_at, cidrs=[])
        found.cidrs.append(cidr)
    return list(lists.values())


# PostgreSQL takes a whole batch of networks as one array parameter.
PG_INSERT_ENTRIES = (
    "INSERT INTO ip_list_entries (tenant, name, cidr, note, added_at)"
    " SELECT $1, $2, cidr, $3, $4 FROM unnest($5::text[]) AS batch (cidr)"
    " ON CONFLICT (tenant, name, cidr) DO NOTHING"
)
PG_DELETE_ENTRIES = (
    "DELETE FROM ip_list_entries WHERE tenant = $1 AND name = $2 AND cidr = ANY($3::text[])"
)
