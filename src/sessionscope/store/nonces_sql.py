"""SQL of the HMAC nonce memory (migration 0004), shared by both backends."""

from __future__ import annotations

from sessionscope.store.sql import Placeholder


def remember_nonce_sql(mark: Placeholder) -> str:
    """Insert a nonce, or take over its row once expired; one row touched means it was new.

    Params: key_id, nonce, expires_ms, now_ms.
    """
    return (
        "INSERT INTO hmac_nonces (key_id, nonce, expires_ms)"
        f" VALUES ({mark(1)}, {mark(2)}, {mark(3)})"
        " ON CONFLICT (key_id, nonce) DO UPDATE SET expires_ms = excluded.expires_ms"
        f" WHERE hmac_nonces.expires_ms <= {mark(4)}"
    )


def purge_nonces_sql(mark: Placeholder) -> str:
    """Params: now_ms."""
    return f"DELETE FROM hmac_nonces WHERE expires_ms <= {mark(1)}"
