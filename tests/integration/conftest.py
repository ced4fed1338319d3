"""Fixtures of the integration tests that more than one module uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from sessionscope.store.sqlite import SQLiteStore
from tests.integration.test_store_contract import with_tenants

MB = 1024 * 1024


@pytest_asyncio.fixture(loop_scope="function")
async def two_stores(tmp_path: Path) -> AsyncIterator[tuple[SQLiteStore, SQLiteStore]]:
    """Two SQLite stores with read caches on one file, tenants acme and globex: two
    processes of one deployment, each with its own caches and the shared change marks."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first, second = SQLiteStore(url, read_cache_bytes=MB), SQLiteStore(url, read_cache_bytes=MB)
    for store in (first, second):
        await store.open()
        await store.migrate()
    await with_tenants(first, "acme", "globex")
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()
