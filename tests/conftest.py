"""Shared fixtures: a served app on each store, with two tenants."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import redis

from sessionscope.store import open_store
from sessionscope.store.base import Store
from tests.pg import PostgresUnavailableError, create_test_database, drop_test_database
from tests.server import Server, init_tenant

BACKENDS = ["sqlite", "postgres"]


@dataclass
class Stack:
    """A running server on one store, with tenants `acme` (sites web, shop) and `globex`."""

    backend: str
    server: Server
    tenants: dict[str, dict[str, Any]]

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def key(self, tenant: str = "acme") -> str:
        key: str = self.tenants[tenant]["secret_key"]
        return key

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"x-api-key": key} if key else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'sessionscope.db'}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database on the local server for the whole run, dropped at the end."""
    url = create_test_database()
    yield url
    drop_test_database(url)


@pytest.fixture(params=BACKENDS)
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each backend for one test; a PostgreSQL one is dropped after."""
    with empty_database(request.param, tmp_path) as url:
        yield url


@contextlib.contextmanager
def empty_database(backend: str, directory: Path) -> Iterator[str]:
    """The URL of a new, empty database of `backend` (SQLite's in `directory`); a PostgreSQL
    one is dropped after. A PostgreSQL server that cannot be reached fails the test."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'store.db'}"
        return
    try:
        url = create_test_database()
    except PostgresUnavailableError as error:
        pytest.fail(str(error), pytrace=False)
    try:
        yield url
    finally:
        drop_test_database(url)


@pytest.fixture(params=BACKENDS)
def run_database_url(request: pytest.FixtureRequest) -> str:
    """The run's own database of each backend, shared by tests that use tenants of their own."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@contextlib.asynccontextmanager
async def migrated_store(url: str) -> AsyncIterator[Store]:
    """An open, migrated store on `url`, closed after (SQLite's with its read cache)."""
    store = open_store(url, read_cache_mb=8)
    await store.open()
    try:
        await store.migrate()
        yield store
    finally:
        await store.close()


@pytest_asyncio.fixture(loop_scope="function")
async def fresh_store(fresh_database_url: str) -> AsyncIterator[Store]:
    async with migrated_store(fresh_database_url) as store:
        yield store


@pytest_asyncio.fixture(loop_scope="function")
async def run_store(run_database_url: str) -> AsyncIterator[Store]:
    async with migrated_store(run_database_url) as store:
        yield store


# What a server needs to answer reads from its caches (the tests' servers keep no key).
KEYS_KEPT_A_MINUTE = {"SESSIONSCOPE_KEY_CACHE_SECONDS": "60"}


@contextlib.contextmanager
def served_stack(url: str, log_dir: Path, env: dict[str, str] | None = None) -> Iterator[Stack]:
    """A server on the empty database `url`, with `env` over the tests' settings, and the
    tenants `acme` (sites web, shop) and `globex`; stopped after."""
    tenants = {"acme": init_tenant(url, "acme", "web"), "globex": init_tenant(url, "globex", "web")}
    server = Server(url, env=env or {}).start(log_dir)
    try:
        stack = Stack("sqlite" if url.startswith("sqlite") else "postgres", server, tenants)
        with stack.client(stack.key("acme")) as admin:
            made = admin.post("/v1/sites", json={"slug": "shop"})
            assert made.status_code == 201, made.text
        yield stack
    finally:
        server.stop()


@pytest.fixture(scope="session", params=BACKENDS)
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    backend: str = request.param
    url: str = request.getfixturevalue(f"{backend}_url")
    with served_stack(url, tmp_path_factory.mktemp(f"logs-{backend}")) as stack:
        yield stack


@pytest.fixture
def acme(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client(stack.key("acme")) as client:
        yield client


@pytest.fixture
def globex(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client(stack.key("globex")) as client:
        yield client


def artifacts_dir() -> Path:
    path = Path(__file__).parent / "artifacts"
    path.mkdir(exist_ok=True)
    return path


REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="session")
def redis_prefix() -> Iterator[str]:
    """A key prefix of this run's own on the local Redis; its keys are deleted after."""
    url = os.environ.get("SESSIONSCOPE_TEST_REDIS_URL", REDIS_URL)
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis at {url} does not answer ({error}); set SESSIONSCOPE_TEST_REDIS_URL")
    prefix = f"sessionscope-test-{uuid.uuid4().hex[:12]}:"
    yield prefix
    for key in client.scan_iter(match=prefix + "*", count=1000):
        client.delete(key)
    client.close()


@pytest.fixture(scope="session")
def redis_url(redis_prefix: str) -> str:
    return os.environ.get("SESSIONSCOPE_TEST_REDIS_URL", REDIS_URL)
