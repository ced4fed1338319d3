"""Persistence: the Store protocol and the backend chosen by the database URL."""

from __future__ import annotations

from sessionscope.store.base import Store
from sessionscope.store.postgres import PostgresStore
from sessionscope.store.sqlite import SQLiteStore


def open_store(
    url: str, durability: str = "normal", read_cache_mb: int = 0, nonce_table_mb: int = 0
) -> Store:
    """Build (not open) the store a URL names; callers `await store.open()`.

    `durability`, `read_cache_mb` and `nonce_table_mb` apply to SQLite only: PostgreSQL's
    durability is the server's setting, and its rows may be changed from other machines.
    """
    if url.startswith("sqlite:///"):
        return SQLiteStore(
            url, durability, read_cache_mb * 1024 * 1024, nonce_table_mb * 1024 * 1024
        )
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresStore(url)
    scheme = url.partition(":")[0] or url
    raise ValueError(
        f"unsupported database URL scheme {scheme!r}: use sqlite:///path/to/file.db"
        " or postgresql://user@host:port/database"
    )
