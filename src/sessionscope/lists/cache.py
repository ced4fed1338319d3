"""Each tenant's own IP lists, in memory for enrichment, kept close to the store.

A tenant's lists are read from the store on first use and then trusted for
`ttl_seconds`; after that, the next session of the tenant re-reads the list
records (one small query) and reloads the networks only if a list changed.
A change made through this process drops the tenant at once (`invalidate`);
other instances see it within the TTL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from sessionscope.enrich.iplists import IPLists, NewList
from sessionscope.lists.model import IPListRecord
from sessionscope.store.base import Store

MAX_TENANTS: Final = 10_000
TENANT_SOURCE: Final = "tenant"


@dataclass
class _Cached:
    lists: IPLists | None  # None: the tenant has no non-empty list
    signature: tuple[tuple[str, str, int], ...]
    checked_at: float


def signature_of(records: list[IPListRecord]) -> tuple[tuple[str, str, int], ...]:
    """Changes whenever a list is made, deleted or changed (updated_at and size)."""
    return tuple((record.name, record.updated_at, record.size) for record in records)


class TenantListCache:
    def __init__(
        self,
        store: Store,
        ttl_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_tenants: int = MAX_TENANTS,
    ) -> None:
        self.store = store
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._max_tenants = max_tenants
        self._cached: dict[str, _Cached] = {}
        self._pending: dict[str, asyncio.Future[IPLists | None]] = {}
        self._invalidations = 0

    async def get(self, tenant: str) -> IPLists | None:
        """The tenant's lists, or None when it has none to match."""
        cached = self._cached.get(tenant)
        if cached is not None and self._clock() - cached.checked_at < self.ttl_seconds:
            return cached.lists
        pending = self._pending.get(tenant)
        if pending is None:  # else another request of this tenant is refreshing already
            pending = asyncio.ensure_future(self._refresh(tenant, cached))
            self._pending[tenant] = pending
            pending.add_done_callback(lambda done: self._forget_pending(tenant, done))
        return await asyncio.shield(pending)

    def invalidate(self, tenant: str) -> None:
        """Forget the tenant's lists now (they changed through this process)."""
        self._invalidations += 1
        self._cached.pop(tenant, None)
        self._pending.pop(tenant, None)

    def _forget_pending(self, tenant: str, done: asyncio.Future[IPLists | None]) -> None:
        if self._pending.get(tenant) is done:
            del self._pending[tenant]
        if not done.cancelled():
            done.exception()  # seen here too, in case every waiter was cancelled

    async def _refresh(self, tenant: str, cached: _Cached | None) -> IPLists | None:
        invalidations = self._invalidations
        checked_at = self._clock()
        signature = signature_of(await self.store.list_ip_lists(tenant))
        if cached is not None and cached.signature == signature:
            lists = cached.lists
        else:
            lists = await self._load(tenant) if any(size for _, _, size in signature) else None
        if invalidations == self._invalidations:  # else what was read may predate a change
            self._remember(tenant, _Cached(lists, signature, checked_at))
        return lists

    async def _load(self, tenant: str) -> IPLists:
        lists = IPLists()
        lists.set_many(
            NewList(item.name, item.cidrs, source=TENANT_SOURCE, updated_at=item.updated_at)
            for item in await self.store.load_ip_lists(tenant)
        )
        return lists

    def _remember(self, tenant: str, cached: _Cached) -> None:
        self._cached.pop(tenant, None)
        if len(self._cached) >= self._max_tenants:
            del self._cached[next(iter(self._cached))]  # the least recently refreshed
        self._cached[tenant] = cached
