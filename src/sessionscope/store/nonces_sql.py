"""SQL of the HMAC nonce memory (migration 0004 on PostgreSQL; on SQLite a file of its own).

A nonce is new when no unexpired row holds it; an expired row is taken over. SQLite writes a
batch one statement per nonce (in order, so a nonce repeated within the batch is new at most
once), on the event loop's thread where a statement costs no thread hop. PostgreSQL writes a
batch in one statement, one round trip.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from sessionscope.store.sql import Placeholder

Nonce = tuple[str, str, int]  # key_id, nonce, expires_ms

# The SQLite store keeps nonces in a file of their own (store/sqlite.py, `_NonceFile`),
# which has this one table; the key is the table itself (no rowid, one B-tree less).
SQLITE_NONCE_FILE_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS hmac_nonces (key_id TEXT NOT NULL, nonce TEXT NOT NULL,"
    " expires_ms INTEGER NOT NULL, PRIMARY KEY (key_id, nonce)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS hmac_nonces_expiry ON hmac_nonces (expires_ms)",
)

# PostgreSQL: inserts (or takes over) each nonce of the batch, returning those it wrote.
# Params: key ids, nonces, expiries (as arrays, without repeats), now_ms.
POSTGRES_REMEMBER_NONCES = (
    "INSERT INTO hmac_nonces (key_id, nonce, expires_ms)"
    " SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])"
    " ON CONFLICT (key_id, nonce) DO UPDATE SET expires_ms = excluded.expires_ms"
    " WHERE hmac_nonces.expires_ms <= $4"
    " RETURNING key_id, nonce"
)


@functools.cache  # built once per placeholder style: the driver then reuses its prepared form
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


def first_places(nonces: Sequence[Nonce]) -> list[bool]:
    """For each nonce of a batch, whether it is the first of its key in the batch."""
    seen: set[tuple[str, str]] = set()
    firsts = []
    for key_id, nonce, _ in nonces:
        firsts.append((key_id, nonce) not in seen)
        seen.add((key_id, nonce))
    return firsts


def purge_nonces_sql(mark: Placeholder) -> str:
    """Params: now_ms."""
    return f"DELETE FROM hmac_nonces WHERE expires_ms <= {mark(1)}"
