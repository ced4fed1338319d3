"""Use-cases of per-tenant IP lists: create, change, read, delete (the /v1/lists API)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Final

from sessionscope.clock import ms_to_rfc3339, now_ms
from sessionscope.enrich.iplists import LIST_NAME, IPLists
from sessionscope.lists.model import (
    EntriesAdd,
    EntriesRemove,
    IPListCreate,
    IPListEntry,
    IPListRecord,
    IPListView,
    tenant_list_view,
)
from sessionscope.store.base import Conflict, NotFound, Store

MAX_LISTS_PER_TENANT: Final = 100
MAX_ENTRIES_PER_LIST: Final = 100_000


class ListError(Exception):
    """A list request that cannot be carried out; `code` is stable, `field` names the culprit."""

    def __init__(
        self, code: str, message: str, status: int = 400, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.field = field


def check_name(name: str) -> str:
    if not LIST_NAME.fullmatch(name):  # fullmatch: `$` alone would let a final newline through
        raise ListError(
            "invalid_list_name",
            f"list name {name!r} must be 1-63 characters of a-z, 0-9, '-' and '_'",
            field="name",
        )
    return name


def _network(text: str, strict: bool) -> str | None:
    """Canonical text of a network; IPv4-mapped IPv6 (`::ffff:192.0.2.1`) is written as IPv4,
    as it is matched, so that it can be found and removed under either spelling."""
    try:
        network = ipaddress.ip_network(text, strict=strict)
    except ValueError:
        return None
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:
            return f"{mapped}/{network.prefixlen - 96}"
    return network.compressed


def normalise_entry(text: str, index: int) -> str:
    """The canonical network of an entry (`203.0.113.7` becomes `203.0.113.7/32`)."""
    field = f"entries.{index}"
    stripped = text.strip()
    if "%" in stripped:  # an IPv6 zone names an interface, not a network
        network = None
    else:
        network = _network(stripped, strict=True)
        if network is not None:
            return network
        network = _network(stripped, strict=False)
    if network is None:
        message = f"{field}: {text!r} is not an IP address or CIDR network"
    else:
        message = f"{field}: {text!r} has host bits set; the network is {network}"
    raise ListError("invalid_entry", message, field=field)


def normalise_entries(entries: Sequence[str]) -> list[str]:
    """Canonical, de-duplicated networks; ListError names the index of the first bad one."""
    return list(dict.fromkeys(normalise_entry(text, i) for i, text in enumerate(entries)))


def not_found(name: str) -> ListError:
    return ListError(
        "list_not_found",
        f"this tenant has no list {name!r} (global lists are read-only; create one with"
        " POST /v1/lists to add to them)",
        404,
    )


async def require_list(store: Store, tenant: str, name: str) -> IPListRecord:
    record = await store.get_ip_list(tenant, check_name(name))
    if record is None:
        raise not_found(name)
    return record


async def create_list(store: Store, tenant: str, payload: IPListCreate) -> IPListRecord:
    if len(await store.list_ip_lists(tenant)) >= MAX_LISTS_PER_TENANT:
        raise ListError("too_many_lists", f"a tenant has at most {MAX_LISTS_PER_TENANT} lists", 409)
    stamp = ms_to_rfc3339(now_ms())
    record = IPListRecord(
        tenant=tenant,
        name=check_name(payload.name),
        description=payload.description,
        created_at=stamp,
        updated_at=stamp,
    )
    try:
        await store.create_ip_list(record)
    except Conflict:
        raise ListError(
            "list_exists", f"list {payload.name!r} exists already", 409, field="name"
        ) from None
    return record


async def add_entries(
    store: Store, tenant: str, name: str, payload: EntriesAdd
) -> tuple[int, IPListRecord]:
    """Add networks (those present already are left as they are); (added, the list after)."""
    cidrs = normalise_entries(payload.entries)
    record = await require_list(store, tenant, name)
    if record.size + len(cidrs) > MAX_ENTRIES_PER_LIST:
        raise ListError(
            "list_full",
            f"list {name!r} holds {record.size} entries; a list holds at most"
            f" {MAX_ENTRIES_PER_LIST}",
            409,
            field="entries",
        )
    try:
        added = await store.add_ip_list_entries(
            tenant, name, cidrs, payload.note, ms_to_rfc3339(now_ms())
        )
    except (NotFound, Conflict):  # deleted meanwhile
        raise not_found(name) from None
    return added, await require_list(store, tenant, name)


async def remove_entries(
    store: Store, tenant: str, name: str, payload: EntriesRemove
) -> tuple[int, IPListRecord]:
    """Remove networks (absent ones are ignored); (removed, the list after)."""
    cidrs = normalise_entries(payload.entries)
    await require_list(store, tenant, name)
    try:
        removed = await store.remove_ip_list_entries(tenant, name, cidrs, ms_to_rfc3339(now_ms()))
    except NotFound:
        raise not_found(name) from None
    return removed, await require_list(store, tenant, name)


async def delete_list(store: Store, tenant: str, name: str) -> None:
    if not await store.delete_ip_list(tenant, check_name(name)):
        raise not_found(name)


async def entries_page(
    store: Store, tenant: str, name: str, after: str | None, limit: int
) -> tuple[IPListRecord, list[IPListEntry], bool]:
    """The list, up to `limit` entries after `after`, and whether more follow."""
    record = await require_list(store, tenant, name)
    rows = await store.ip_list_entries(tenant, name, after, limit + 1)
    return record, rows[:limit], len(rows) > limit


def global_views(lists: IPLists) -> list[IPListView]:
    """The lists loaded from SESSIONSCOPE_LISTS_DIR, as read-only views."""
    return [
        IPListView(
            name=info.name,
            scope="global",
            read_only=True,
            size=info.size,
            source=info.source,
            updated_at=info.updated_at,
        )
        for info in lists.info()
    ]


async def all_views(store: Store, tenant: str, global_lists: IPLists) -> list[IPListView]:
    """The tenant's own lists, then the global ones."""
    own = [tenant_list_view(record) for record in await store.list_ip_lists(tenant)]
    return own + global_views(global_lists)
