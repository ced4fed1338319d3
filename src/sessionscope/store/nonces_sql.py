"""SQL of the HMAC nonce memory on PostgreSQL (migration 0004): a nonce is new when no
unexpired row holds it; an expired row is taken over. A batch is one statement, one round
trip. (SQLite logs nonces in a file of its own: store/nonce_log.py.)
"""

from __future__ import annotations

from collections.abc import Sequence

from sessionscope.store.sql import Placeholder

Nonce = tuple[str, str, int]  # key_id, nonce, expires_ms

# PostgreSQL: inserts (or takes over) each nonce of the batch, returning those it wrote.
# Params: key ids, nonces, expiries (as arrays, without repeats), now_ms.
POSTGRES_REMEMBER_NONCES = (
    "INSERT INTO hmac_nonces (key_id, nonce, expires_ms)"
    " SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])"
    " ON CONFLICT (key_id, nonce) DO UPDATE SET expires_ms = excluded.expires_ms"
    " WHERE hmac_nonces.expires_ms <= $4"
    " RETURNING key_id, nonce"
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
