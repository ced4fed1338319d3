"""Fixtures of the integration tests that more than one module uses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from sessionscope.store.sqlite import SQLiteStore
from tests.conftest import BACKENDS, KEYS_KEPT_A_MINUTE, Stack, empty_database, served_stack
from tests.integration.test_store_contract import with_tenants

MB = 1024 * 1024
RATE_LIMIT = 5  # of `limited_stack`: low enough for a test to reach


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


# The at-once tests (test_compat_at_once.py, test_zephr_at_once.py): one server per backend
# for each module (each test makes its own keys and sessions), keys kept for a minute, and
# one more whose rate limit is low enough to reach.
@pytest.fixture(scope="module", params=BACKENDS)
def keys_kept_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    yield from module_stack(request.param, tmp_path_factory.mktemp("keys-kept"), {})


@pytest.fixture(scope="module", params=BACKENDS)
def limited_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    limit = {"SESSIONSCOPE_COMPAT_RATE_LIMIT": str(RATE_LIMIT)}
    yield from module_stack(request.param, tmp_path_factory.mktemp("keys-kept-limited"), limit)


def module_stack(backend: str, directory: Path, env: dict[str, str]) -> Iterator[Stack]:
    with (
        empty_database(backend, directory) as url,
        served_stack(url, directory, {**KEYS_KEPT_A_MINUTE, **env}) as stack,
    ):
        yield stack
