"""The SQLite store's nonce table (store/nonce_table.py) on real files: single use per key
until expiry, across mappings and across processes; the two live windows; a stale table
emptied; a full run left to the log; the file's header."""

from __future__ import annotations

import mmap
import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest

from sessionscope.store import nonce_table
from sessionscope.store.nonce_log import tag
from sessionscope.store.nonce_table import (
    MAX_PROBES,
    SLOT_MULTIPLE,
    WINDOW_MS,
    NonceTable,
    NonceTableError,
)

WINDOW_START = 2_900 * WINDOW_MS  # a moment at the start of a window
NOW = WINDOW_START + 1_000
FIVE_MINUTES = 300_000
SLOTS = 4 * SLOT_MULTIPLE


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "nonce-table"


@pytest.fixture
def table(path: Path) -> Iterator[NonceTable]:
    opened = NonceTable(str(path), SLOTS)
    yield opened
    opened.close()


def test_a_nonce_is_fresh_once_per_key_until_it_expires(table: NonceTable) -> None:
    expires = NOW + FIVE_MINUTES
    assert table.claim(tag("k", "a"), expires, NOW) is True
    assert table.claim(tag("k", "a"), expires, NOW + 1) is False
    assert table.claim(tag("j", "a"), expires, NOW) is True
    assert table.claim(tag("k", "a"), expires + FIVE_MINUTES, expires) is True  # it expired


def test_a_nonce_live_in_the_current_window_is_refused_for_the_next(table: NonceTable) -> None:
    late = WINDOW_START + WINDOW_MS - 10_000  # the current window's last seconds
    assert table.claim(tag("k", "a"), late, NOW) is True
    # The same nonce signed again with a later timestamp: its expiry is in the next window.
    assert table.claim(tag("k", "a"), late + FIVE_MINUTES, late - 1) is False


def test_two_mappings_of_one_file_agree(path: Path, table: NonceTable) -> None:
    other = NonceTable(str(path), SLOTS)
    try:
        assert table.claim(tag("k", "x"), NOW + FIVE_MINUTES, NOW) is True
        assert other.claim(tag("k", "x"), NOW + FIVE_MINUTES, NOW) is False
        assert other.claim(tag("k", "y"), NOW + FIVE_MINUTES, NOW) is True
        assert table.claim(tag("k", "y"), NOW + FIVE_MINUTES, NOW) is False
    finally:
        other.close()


def claim_all(
    path: str,
    nonces: list[str],
    start: multiprocessing.synchronize.Barrier,
    results: multiprocessing.Queue[int],
) -> None:
    """In a process of its own: claim every nonce; put which were fresh, as bits."""
    table = NonceTable(path, SLOTS * 64)
    start.wait()
    won = 0
    for position, nonce in enumerate(nonces):
        if table.claim(tag("k", nonce), NOW + FIVE_MINUTES, NOW):
            won |= 1 << position
    table.close()
    results.put(won)


def test_processes_claiming_the_same_nonces_at_once_each_win_different_ones(path: Path) -> None:
    nonces = [f"n{index}" for index in range(4_000)]
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(3), context.Queue()
    workers = [
        context.Process(target=claim_all, args=(str(path), nonces, start, results))
        for _ in range(3)
    ]
    for worker in workers:
        worker.start()
    won = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    assert won[0] & won[1] == won[0] & won[2] == won[1] & won[2] == 0
    assert won[0] | won[1] | won[2] == (1 << len(nonces)) - 1


def tags_in_file(path: Path) -> set[int]:
    words = memoryview(path.read_bytes()).cast("q")
    return {words[index] for index in range(512, len(words), 2)} - {0}


def test_a_table_is_emptied_when_its_next_window_comes(path: Path, table: NonceTable) -> None:
    assert table.claim(tag("k", "old"), NOW + FIVE_MINUTES, NOW) is True
    assert tag("k", "old") in tags_in_file(path)
    later = NOW + 2 * WINDOW_MS  # the old window's table now holds the next window
    assert table.claim(tag("k", "new"), later + FIVE_MINUTES + WINDOW_MS, later) is True
    assert tags_in_file(path) == {tag("k", "new")}


def test_a_table_is_emptied_by_writing_zeros_without_hole_punching(
    path: Path, table: NonceTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(mmap, "MADV_REMOVE")
    assert table.claim(tag("k", "old"), NOW + FIVE_MINUTES, NOW) is True
    later = NOW + 2 * WINDOW_MS
    assert table.claim(tag("k", "new"), later + FIVE_MINUTES + WINDOW_MS, later) is True
    assert tags_in_file(path) == {tag("k", "new")}


def test_a_full_run_is_left_to_the_log_and_stays_full(table: NonceTable) -> None:
    expires = NOW + FIVE_MINUTES
    run = [7 + SLOTS * step for step in range(1, MAX_PROBES + 1)]  # one home entry for all
    assert [table.claim(one, expires, NOW) for one in run] == [True] * MAX_PROBES
    beyond = 7 + SLOTS * (MAX_PROBES + 1)
    assert table.claim(beyond, expires, NOW) is None
    assert table.claim(beyond, expires, NOW + 1) is None  # nothing was written
    assert table.claim(run[-1], expires, NOW) is False


def test_an_expiry_outside_the_two_windows_is_not_decided(table: NonceTable) -> None:
    assert table.claim(tag("k", "a"), NOW + 2 * WINDOW_MS, NOW) is None
    assert table.claim(tag("k", "a"), NOW - WINDOW_MS, NOW) is None


def test_a_file_keeps_the_size_it_was_made_with(path: Path, table: NonceTable) -> None:
    again = NonceTable(str(path), SLOTS * 2)
    try:
        assert again.slots == SLOTS
    finally:
        again.close()
    assert path.stat().st_size == nonce_table.file_bytes(SLOTS)


def test_a_file_its_maker_left_without_a_header_is_made_again(path: Path) -> None:
    path.write_bytes(bytes(100))
    made = NonceTable(str(path), SLOTS)
    try:
        assert made.claim(tag("k", "a"), NOW + FIVE_MINUTES, NOW) is True
    finally:
        made.close()


def test_another_file_is_refused(path: Path) -> None:
    path.write_bytes(b"SQLite format 3\0" + bytes(4096))
    with pytest.raises(NonceTableError, match="not a nonce table"):
        NonceTable(str(path), SLOTS)


def test_sizes_round_to_whole_pages() -> None:
    assert nonce_table.slots_for(96 * 1024 * 1024) % SLOT_MULTIPLE == 0
    assert nonce_table.file_bytes(nonce_table.slots_for(96 * 1024 * 1024)) <= 96 * 1024 * 1024
    assert nonce_table.slots_for(0) == SLOT_MULTIPLE
