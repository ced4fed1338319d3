"""The SQLite nonce log (store/nonce_log.py) on real files: what each process remembers,
what it learns from the others, and what a purge and memory forget."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from sessionscope.store import nonce_log
from sessionscope.store.nonce_log import NonceLog

NOW = 1_750_000_000_000
WINDOW = 300_000


@pytest.fixture
def path(tmp_path: Path) -> Iterator[Path]:
    file = tmp_path / "nonces"
    with sqlite3.connect(file, isolation_level=None) as conn:
        for statement in nonce_log.SCHEMA:
            conn.execute(statement)
    yield file


def connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def claim(
    log: NonceLog, conn: sqlite3.Connection, nonces: Sequence[nonce_log.Nonce], now_ms: int
) -> list[bool]:
    """One committed claim, as the store makes it."""
    conn.execute("BEGIN IMMEDIATE")
    found = log.claim(conn, nonces, now_ms)
    conn.execute("COMMIT")
    log.absorb(found, now_ms)
    return found.answers


def test_a_nonce_is_fresh_once_per_key_until_it_expires(path: Path) -> None:
    log, conn = NonceLog(), connect(path)
    batch = [("k", "a", NOW + WINDOW), ("k", "a", NOW + WINDOW), ("j", "a", NOW + WINDOW)]
    assert claim(log, conn, batch, NOW) == [True, False, True]
    assert claim(log, conn, [("k", "a", NOW + WINDOW)], NOW + 1) == [False]
    assert claim(log, conn, [("k", "a", NOW + 2 * WINDOW)], NOW + WINDOW) == [True]


def test_each_process_learns_the_others_nonces_under_the_write_lock(path: Path) -> None:
    first, second = NonceLog(), NonceLog()
    one, two = connect(path), connect(path)
    assert claim(first, one, [("k", "x", NOW + WINDOW)], NOW) == [True]
    assert claim(second, two, [("k", "x", NOW + WINDOW), ("k", "y", NOW + WINDOW)], NOW) == [
        False,
        True,
    ]
    assert claim(first, one, [("k", "y", NOW + WINDOW)], NOW) == [False]
    assert len(first) == len(second) == 2


def test_an_undone_claim_leaves_memory_and_log_as_they_were(path: Path) -> None:
    log, conn = NonceLog(), connect(path)
    conn.execute("BEGIN IMMEDIATE")
    assert log.claim(conn, [("k", "z", NOW + WINDOW)], NOW).answers == [True]
    conn.execute("ROLLBACK")
    assert len(log) == 0
    assert claim(log, conn, [("k", "z", NOW + WINDOW)], NOW) == [True]


def test_numbers_only_grow_and_a_purge_takes_only_expired_rows(path: Path) -> None:
    log, conn = NonceLog(), connect(path)
    expiries = [NOW + WINDOW, NOW + 10, NOW + 10, NOW + 2 * WINDOW, NOW + 20]
    claim(log, conn, [("k", f"n{i}", expiry) for i, expiry in enumerate(expiries)], NOW)
    rows = conn.execute("SELECT seq, expires_ms FROM nonce_log ORDER BY rowid").fetchall()
    seqs = [seq for seq, _ in rows]
    assert seqs == sorted(set(seqs))
    assert all(seq >> 10 >= expires for seq, expires in rows)
    assert nonce_log.purge(conn, NOW + 5) == 0  # n1 and n2 are numbered after n0
    assert nonce_log.purge(conn, NOW + WINDOW) == 3
    assert nonce_log.purge(conn, NOW + 2 * WINDOW) == 2


def test_memory_forgets_expired_nonces_as_it_takes_new_ones(path: Path) -> None:
    log, conn = NonceLog(), connect(path)
    claim(log, conn, [("k", f"old{i}", NOW + 1_000) for i in range(50)], NOW)
    assert len(log) == 50
    later = NOW + 5 * 60_000
    claim(log, conn, [("k", f"new{i}", later + WINDOW) for i in range(20)], later)
    assert len(log) == 20


def test_tags_tell_keys_and_nonces_apart() -> None:
    assert nonce_log.tag("k", "ab") != nonce_log.tag("k", "a")
    assert nonce_log.tag("ka", "b") != nonce_log.tag("k", "ab")
    assert -(2**63) <= nonce_log.tag("k", "n") < 2**63
