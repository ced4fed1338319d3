"""The SQLite store's fast HMAC nonce memory: a hash table in a file every process maps.

The log (store/nonce_log.py) needs a write transaction for each batch of nonces, and a
request must wait for its batch. Here a nonce is claimed at once, in a few microseconds:
under an exclusive `flock` of the file (the kernel drops it when its holder dies; taken with
the GIL held, see `_lock`), look the tag up and write it into the shared mapping. Each
process maps the file itself, so every instance on the store sees every claim as soon as
the lock is released.

Layout: a 4 KiB header (a magic number, the entries per table, the window each table
holds), then three tables of entries of two int64: a 64-bit tag of (key, nonce), 0 when
empty, and its expiry in epoch ms.

A nonce of timestamp `ts` expires at `ts` + 5 minutes, and a timestamp is accepted within
5 minutes of the clock, so at any moment every live entry lies in one of two ten-minute
windows: the current one or the next. Window `w` lives in table `w % 3`; the third table
holds a window whose entries have all expired, and it is emptied when its next window is
first needed. Nothing is ever deleted from a table that holds its window, so a probe (linear,
at most 64 entries) that once passed an entry passes it again.

A nonce whose 64 entries are all taken is not claimed here (`None`): the caller logs it
instead. The table of its expiry only fills further, so the same request sent again (same
timestamp, same window) finds its run full again, and the log refuses it.

Durability: the mapping is shared with the page cache, so a claim outlives the process that
made it at once; the kernel writes it to disk in the background, as it does the log's
commits at durability `normal`.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import mmap
import os
import threading

MAGIC = int.from_bytes(b"SSNONCE1", "little", signed=True)
TABLES = 3
WINDOW_MS = 600_000  # a nonce expires within ten minutes of the clock: see above
MAX_PROBES = 64
SLOT_MULTIPLE = 256  # 256 entries of 16 bytes: every table starts on a page boundary
ENTRY_BYTES = 16
_HEADER_BYTES = 4096
_HEADER_WORDS = _HEADER_BYTES // 8
_SLOTS_WORD = 1
_WINDOW_WORDS = 2  # then one word per table: the window it holds, -1 for none yet
_ZERO_CHUNK = bytes(1 << 20)
# libc's flock called with the GIL held: `fcntl.flock` lets the GIL go around the system
# call, and winning it back from the server's threads cost more than the whole claim.
# (Python ints pass as C ints; declared argument types would double the cost of a call.)
_flock_holding_gil = ctypes.PyDLL(None, use_errno=True).flock
_TRY_EXCLUSIVE = fcntl.LOCK_EX | fcntl.LOCK_NB


class NonceTableError(Exception):
    """The file is not a nonce table this version can use."""


def slots_for(size_bytes: int) -> int:
    """The entries per table that a file of about `size_bytes` holds (at least 256)."""
    per_table = max(0, size_bytes - _HEADER_BYTES) // TABLES // ENTRY_BYTES
    return max(SLOT_MULTIPLE, per_table // SLOT_MULTIPLE * SLOT_MULTIPLE)


def file_bytes(slots: int) -> int:
    return _HEADER_BYTES + TABLES * slots * ENTRY_BYTES


class NonceTable:
    """One process's mapping of the table file. A file made earlier keeps its own size;
    `slots` applies when this call creates it."""

    def __init__(self, path: str, slots: int) -> None:
        if slots <= 0 or slots % SLOT_MULTIPLE:
            raise ValueError(f"slots must be a positive multiple of {SLOT_MULTIPLE}")
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                self._map, self.slots = _map_prepared(self._fd, path, slots)
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        except BaseException:
            os.close(self._fd)
            raise
        self._words = memoryview(self._map).cast("q")
        self._bases = [_HEADER_WORDS + table * self.slots * 2 for table in range(TABLES)]
        self._threads = threading.Lock()  # the flock does not exclude this process's threads

    def claim(self, tag: int, expires_ms: int, now_ms: int) -> bool | None:
        """True: the tag was not live, and now is until `expires_ms`. False: it is live (a
        replay). None: not decided here (its run is full, or the expiry is out of the two
        windows); nothing was written."""
        current = now_ms // WINDOW_MS
        window = expires_ms // WINDOW_MS
        if not current <= window <= current + 1:
            return None
        tag = tag or 1  # 0 marks an empty entry
        other = current + 1 if window == current else current
        with self._threads:
            _lock(self._fd)
            try:
                if self._is_live(other, tag, now_ms):
                    return False
                base = self._table_for(window)
                return None if base is None else self._insert(base, tag, expires_ms, now_ms)
            finally:
                _flock_holding_gil(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self._words.release()
        self._map.close()
        os.close(self._fd)

    def _base(self, window: int) -> int:
        """The word where `window`'s table starts."""
        return self._bases[window % TABLES]

    def _is_live(self, window: int, tag: int, now_ms: int) -> bool:
        if self._words[_WINDOW_WORDS + window % TABLES] != window:
            return False  # that table holds an older window: all of it has expired
        index = self._find(self._base(window), tag)
        return index is not None and self._words[index] == tag and self._words[index + 1] > now_ms

    def _table_for(self, window: int) -> int | None:
        """Where `window`'s table starts, after emptying it if it held an older window;
        None if it holds a later one (a clock far behind the other processes')."""
        header = _WINDOW_WORDS + window % TABLES
        held = self._words[header]
        if held > window:
            return None
        base = self._base(window)
        if held < window:
            self._empty(base)
            self._words[header] = window  # after the emptying: a crash midway redoes it
        return base

    def _insert(self, base: int, tag: int, expires_ms: int, now_ms: int) -> bool | None:
        words = self._words
        index = self._find(base, tag)
        if index is None:
            return None
        if words[index] == tag and words[index + 1] > now_ms:
            return False
        words[index + 1] = expires_ms
        words[index] = tag
        return True

    def _find(self, base: int, tag: int) -> int | None:
        """The word of `tag`'s entry, or of the empty entry ending its run; None if the run
        of MAX_PROBES entries holds neither."""
        words = self._words
        slots = self.slots
        slot = tag % slots
        for _ in range(MAX_PROBES):
            index = base + 2 * slot
            held = words[index]
            if held in (tag, 0):
                return index
            slot = slot + 1 if slot + 1 < slots else 0
        return None

    def _empty(self, base: int) -> None:
        start = base * 8
        length = self.slots * ENTRY_BYTES
        try:
            self._map.madvise(mmap.MADV_REMOVE, start, length)  # frees the pages at once
        except (AttributeError, OSError, ValueError):  # no hole punching here (or 64K pages)
            for offset in range(start, start + length, len(_ZERO_CHUNK)):
                chunk = min(len(_ZERO_CHUNK), start + length - offset)
                self._map[offset : offset + chunk] = _ZERO_CHUNK[:chunk]


def _lock(fd: int) -> None:
    """The file's exclusive lock: at once if free, else waiting without the GIL."""
    if _flock_holding_gil(fd, _TRY_EXCLUSIVE) == 0:
        return
    if ctypes.get_errno() not in (errno.EWOULDBLOCK, errno.EINTR):
        raise OSError(ctypes.get_errno(), "cannot lock the nonce table")
    fcntl.flock(fd, fcntl.LOCK_EX)


def _map_prepared(fd: int, path: str, slots: int) -> tuple[mmap.mmap, int]:
    """The file mapped, its header written if it had none yet; with the file locked."""
    fresh = os.pread(fd, 8, 0) in (b"", bytes(8))  # new, or its maker died before the magic
    if fresh:
        os.ftruncate(fd, 0)
        os.ftruncate(fd, file_bytes(slots))
    size = os.fstat(fd).st_size
    mapped = mmap.mmap(fd, size)
    words = memoryview(mapped).cast("q")
    try:
        if fresh:
            _write_header(words, slots)
        slots = words[_SLOTS_WORD]
        whole = words[0] == MAGIC and slots > 0 and file_bytes(slots) == size
    finally:
        words.release()
    if not whole:
        mapped.close()
        raise NonceTableError(
            f"{path} is not a nonce table of this version: remove it while no instance runs"
        )
    return mapped, slots


def _write_header(words: memoryview, slots: int) -> None:
    words[_SLOTS_WORD] = slots
    for table in range(TABLES):
        words[_WINDOW_WORDS + table] = -1
    words[0] = MAGIC  # last: a file with the magic is whole
