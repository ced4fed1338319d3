"""Per-tenant IP lists: stored records, API inputs and views (msgspec, like model.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct, field

ListName = Annotated[
    str,
    Meta(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$",
        description="lower-case letters, digits, _ and -; the global names (tor_exit,"
        " datacenter, vpn, proxy, private_relay, fraud) add to the global list of that name",
    ),
]
Description = Annotated[str, Meta(max_length=512)]
Note = Annotated[str, Meta(max_length=256)]
EntryText = Annotated[str, Meta(max_length=64, description="an IP address or CIDR network")]
MAX_ENTRIES_PER_REQUEST = 10_000
Entries = Annotated[list[EntryText], Meta(min_length=1, max_length=MAX_ENTRIES_PER_REQUEST)]
ListScope = Literal["tenant", "global"]


class IPListRecord(Struct, kw_only=True):
    """A tenant's list as stored, with its current number of entries."""

    tenant: str
    name: str
    description: str | None
    created_at: str
    updated_at: str
    size: int = 0


class IPListEntry(Struct, kw_only=True):
    """One network of a tenant's list; `cidr` is normalised (`203.0.113.7/32`)."""

    cidr: str
    note: str | None
    added_at: str


class TenantIPList(Struct, kw_only=True):
    """Every network of one tenant list, as the enrichment cache loads it."""

    name: str
    updated_at: str
    cidrs: list[str]


# ---- inputs ----------------------------------------------------------------


class IPListCreate(Struct, forbid_unknown_fields=True, kw_only=True):
    name: ListName
    description: Description | None = None


class EntriesAdd(Struct, forbid_unknown_fields=True, kw_only=True):
    """Networks to add; `note` is kept with each of them (e.g. why they were added)."""

    entries: Entries
    note: Note | None = None


class EntriesRemove(Struct, forbid_unknown_fields=True, kw_only=True):
    entries: Entries


# ---- views -----------------------------------------------------------------


class IPListView(Struct, kw_only=True):
    """A list as GET /v1/lists shows it. Global lists (files of SESSIONSCOPE_LISTS_DIR)
    are read-only here; `source` says where their data comes from."""

    name: str
    scope: ListScope
    read_only: bool
    size: int
    description: str | None = None
    source: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class IPListIndex(Struct):
    data: list[IPListView]


class IPListPage(Struct, kw_only=True):
    """A tenant list and one page of its entries, in CIDR text order."""

    ip_list: IPListView = field(name="list")
    entries: list[IPListEntry]
    next_cursor: str | None


class EntriesAdded(Struct, kw_only=True):
    added: int
    ip_list: IPListView = field(name="list")


class EntriesRemoved(Struct, kw_only=True):
    removed: int
    ip_list: IPListView = field(name="list")


def tenant_list_view(record: IPListRecord) -> IPListView:
    return IPListView(
        name=record.name,
        scope="tenant",
        read_only=False,
        size=record.size,
        description=record.description,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )
