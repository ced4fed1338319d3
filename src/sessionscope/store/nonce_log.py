"""The SQLite store's HMAC nonce memory: an append-only log in the nonce file, and a copy of
the live part of it in each process.

A table keyed by the nonce puts each random nonce into a random page of its B-tree, and a
commit then writes that whole page to the log: about 12 KB of WAL and 30-45 µs per nonce.
Appending keeps a batch's rows in the last page or two.

A batch is claimed in one write transaction. First the rows other processes appended since
this one last looked are read (the write lock orders all writers, so none is missed); then
each nonce is checked against them, the process's memory and the batch's earlier nonces;
the fresh ones are appended. Memory takes in what the transaction read and wrote only once
it has committed (`absorb`), so a transaction may be run again after a failure.

A row is a 64-bit tag of (key id, nonce), its expiry, and a number that only grows: the
expiry shifted left by ten bits, or the last number plus one when that is larger. So every
row numbered below `(now + 1) << 10` has expired, and a purge deletes one range at the front.
Two different nonces of a key share a tag with a chance of one in 2^64 per live nonce; the
later would be refused once, as a replay.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

Nonce = tuple[str, str, int]  # key_id, nonce, expires_ms
Row = tuple[int, int, int]  # seq, tag, expires_ms

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS nonce_log (seq INTEGER PRIMARY KEY, tag INTEGER NOT NULL,"
    " expires_ms INTEGER NOT NULL)",
    # The table of earlier versions, keyed by nonce; its rows lived five minutes at most.
    "DROP TABLE IF EXISTS hmac_nonces",
)
_SEQ_SHIFT = 10
_CATCH_UP = "SELECT seq, tag, expires_ms FROM nonce_log WHERE seq > ? ORDER BY seq"
_APPEND = "INSERT INTO nonce_log (seq, tag, expires_ms) VALUES (?, ?, ?)"
_PURGE = "DELETE FROM nonce_log WHERE seq < ?"
_MINUTE_MS = 60_000


def tag(key_id: str, nonce: str) -> int:
    """The 64-bit tag a nonce of a key is logged and remembered by (a signed SQLite integer)."""
    digest = hashlib.blake2b(f"{key_id}\0{nonce}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def purge(conn: sqlite3.Connection, now_ms: int) -> int:
    """Delete the rows that have certainly expired; how many."""
    return conn.execute(_PURGE, ((now_ms + 1) << _SEQ_SHIFT,)).rowcount


@dataclass(frozen=True, slots=True)
class Claim:
    """What one transaction found: an answer per nonce, and the rows it read and wrote."""

    answers: list[bool]
    rows: list[Row]


class NonceLog:
    """One process's view of the log: the live tags with their expiry, and how far it has read."""

    def __init__(self) -> None:
        self._expiry: dict[int, int] = {}
        self._due: dict[int, list[int]] = {}  # expiry minute -> tags to look at then
        self._cursor = 0

    def claim(self, conn: sqlite3.Connection, nonces: Sequence[Nonce], now_ms: int) -> Claim:
        """In a write transaction on `conn`: SQL only, memory only read."""
        rows: list[Row] = conn.execute(_CATCH_UP, (self._cursor,)).fetchall()
        theirs = {row[1]: row[2] for row in rows}
        last = rows[-1][0] if rows else self._cursor
        answers = []
        written: list[Row] = []
        for key_id, nonce, expires_ms in nonces:
            tagged = tag(key_id, nonce)
            fresh = max(theirs.get(tagged, 0), self._expiry.get(tagged, 0)) <= now_ms
            if fresh:
                last = max(expires_ms << _SEQ_SHIFT, last + 1)
                written.append((last, tagged, expires_ms))
                theirs[tagged] = expires_ms
            answers.append(fresh)
        conn.executemany(_APPEND, written)
        return Claim(answers, rows + written)

    def absorb(self, claim: Claim, now_ms: int) -> None:
        """Once the claim's transaction has committed: remember its rows, forget a few of
        the expired ones (at least as many as were added, so memory keeps pace)."""
        for seq, tagged, expires_ms in claim.rows:
            self._cursor = max(self._cursor, seq)
            if expires_ms > now_ms:
                self._expiry[tagged] = expires_ms
                self._due.setdefault(expires_ms // _MINUTE_MS, []).append(tagged)
        self._forget_expired(now_ms, budget=2 * len(claim.rows) + 16)

    def __len__(self) -> int:
        return len(self._expiry)

    def _forget_expired(self, now_ms: int, budget: int) -> None:
        minute = now_ms // _MINUTE_MS
        while budget > 0 and self._due:
            oldest = min(self._due)
            if oldest >= minute:
                return
            tags = self._due[oldest]
            while tags and budget > 0:
                tagged = tags.pop()
                if self._expiry.get(tagged, now_ms + 1) <= now_ms:
                    del self._expiry[tagged]
                budget -= 1
            if not tags:
                del self._due[oldest]
