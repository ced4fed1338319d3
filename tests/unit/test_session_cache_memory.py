"""The read cache's byte budget counts what its entries really take.

SESSIONSCOPE_READ_CACHE_MB promises a bound on memory, so the overhead the cache adds to
each document must not be less than what Python allocates for an entry, nor so much more
that the cache holds far fewer sessions than its budget allows.
"""

from __future__ import annotations

import os
import tracemalloc
import uuid

from sessionscope.store.session_cache import SessionCache, cached_entry

ENTRIES = 5000
DOC_BYTES = 3100
SLACK_BYTES = 160


def fresh_row(index: int) -> tuple[object, ...]:
    """A row as SQLite hands it over: a new object for every value, even repeated words."""
    site = "".join(["w", "eb"])
    status = "".join(["act", "ive"])
    created_ms = 1_796_000_000_000 + index
    return (
        site,
        str(uuid.uuid4()),
        created_ms,
        created_ms + 86_400_000,
        status,
        os.urandom(DOC_BYTES),
    )


def test_budget_counts_at_least_what_entries_allocate() -> None:
    cache = SessionCache(budget_bytes=1 << 40)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for index in range(ENTRIES):
            # the id, as the request's path gives it: once the request is answered, the
            # cache's key is what keeps it
            session_id = str(uuid.uuid4())
            cache.put(cached_entry(index, "tenant", session_id, fresh_row(index)))
        allocated = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    per_entry_allocated = allocated / ENTRIES
    per_entry_counted = cache.used_bytes / ENTRIES
    assert len(cache) == ENTRIES
    assert per_entry_counted >= per_entry_allocated, (per_entry_counted, per_entry_allocated)
    assert per_entry_counted - per_entry_allocated < SLACK_BYTES, (
        per_entry_counted,
        per_entry_allocated,
    )


def test_entries_share_site_and_status_words() -> None:
    first = cached_entry(1, "".join(["ac", "me"]), "a", fresh_row(1))
    second = cached_entry(2, "".join(["acm", "e"]), "b", fresh_row(2))
    assert first.tenant is second.tenant and first.site is second.site
    assert first.stored.status is second.stored.status
    assert first.stored.id == "a"
