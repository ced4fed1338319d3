"""Throw-away PostgreSQL databases for tests: each created fresh and dropped after.

The server is `postgresql://postgres@127.0.0.1:5432/postgres` unless
SESSIONSCOPE_TEST_POSTGRES_URL names another (a URL of a database the user may
create databases from). The helpers are synchronous so that sync and async
fixtures alike can call them; the asyncpg work runs on a thread of its own.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]

ENV_URL = "SESSIONSCOPE_TEST_POSTGRES_URL"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
NAME_PREFIX = "sessionscope_test_"

T = TypeVar("T")


class PostgresUnavailableError(RuntimeError):
    """The test PostgreSQL server cannot be reached."""


def server_url() -> str:
    return os.environ.get(ENV_URL) or DEFAULT_URL


def create_test_database() -> str:
    """Create an empty database with a random name; return its URL."""
    name = NAME_PREFIX + secrets.token_hex(6)
    _run(lambda conn: conn.execute(f'CREATE DATABASE "{name}"'))
    return _with_database(server_url(), name)


def drop_test_database(url: str) -> None:
    """Drop a database made by create_test_database, ending sessions still on it."""
    name = urlsplit(url).path.lstrip("/")
    if not name.startswith(NAME_PREFIX) or not name.removeprefix(NAME_PREFIX).isalnum():
        raise ValueError(f"refusing to drop {name!r}: not a test database")

    async def drop(conn: Any) -> None:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')

    _run(drop)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _run(work: Callable[[Any], Awaitable[T]]) -> T:
    """Run `work` on an admin connection, on a thread with its own event loop."""

    async def session() -> T:
        conn = await _connect_admin()
        try:
            return await work(conn)
        finally:
            await conn.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, session()).result()


async def _connect_admin() -> Any:
    url = server_url()
    try:
        return await asyncpg.connect(url, timeout=10)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        parts = urlsplit(url)
        raise PostgresUnavailableError(
            f"PostgreSQL for the tests is not reachable at {parts.hostname}:{parts.port or 5432}"
            f" ({type(error).__name__}: {error}). Start it, or point {ENV_URL} at a server"
            " where the user may create databases."
        ) from error
