"""Persistence: the Store protocol and the backend chosen by the database URL."""

from __future__ import annotations

from sessionscope.store.base import Store
from sessionscope.store.postgres import PostgresStore
from sessionscope.store.sqlite import SQLiteStore


def open_store(url: str, durability: str = "normal") -> Store:
    """Build (not open) the store a URL names; callers `await store.open()`.

    `durability` applies to SQLite only: PostgreSQL's is the server's setting.
    """
    if url.startswith("sqlite:///"):
        return SQLiteStore(url, durability)
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresStore(url)
    scheme = url.partition(":")[0] or url
    raise ValueError(
        f"unsupported database URL scheme {scheme!r}: use sqlite:///path/to/file.db"
        " or postgresql://user@host:port/database"
    )
