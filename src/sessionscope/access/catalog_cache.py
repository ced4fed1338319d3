"""Each site's access catalog kept in memory for a moment: every new session reads it.

A change made through this process (`access.admin`, behind the admin API and the CLI)
forgets the site's catalog at once; one made by another process (another worker, the CLI
against a running server) is seen within `TTL_SECONDS`. One cache per store object, so
two stores in one process (tests) never share entries. A cached catalog is shared by
every reader: it is for reading, never for changing.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import Final

from sessionscope.access.catalog import Catalog
from sessionscope.store.base import Store

TTL_SECONDS: Final = 2.0
_ENTRY_LIMIT: Final = 10_000


class CatalogCache:
    def __init__(
        self, ttl: float = TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[tuple[str, str], tuple[float, Catalog]] = {}
        self._changes = 0

    def get(self, tenant: str, site: str) -> Catalog | None:
        entry = self._entries.get((tenant, site))
        if entry is None or entry[0] <= self.clock():
            return None
        return entry[1]

    def changes(self) -> int:
        """A mark to take before reading a catalog from the store and to hand to `put`."""
        return self._changes

    def put(self, tenant: str, site: str, catalog: Catalog, changes_before_read: int) -> None:
        """Remember a catalog, unless a change was forgotten while it was read: it may
        predate that change."""
        if changes_before_read != self._changes:
            return
        if len(self._entries) >= _ENTRY_LIMIT:
            self._entries.clear()
        self._entries[(tenant, site)] = (self.clock() + self.ttl, catalog)

    def forget(self, tenant: str, site: str) -> None:
        self._changes += 1
        self._entries.pop((tenant, site), None)


_caches: weakref.WeakKeyDictionary[Store, CatalogCache] = weakref.WeakKeyDictionary()


def catalog_cache(store: Store) -> CatalogCache:
    cache = _caches.get(store)
    if cache is None:
        cache = _caches[store] = CatalogCache()
    return cache


def forget_catalog(store: Store, tenant: str, site: str) -> None:
    """Call after every change of a site's access definitions or defaults."""
    catalog_cache(store).forget(tenant, site)
