"""Sessions read by id, kept in memory and checked against marks shared by every process.

A SQLite store is served by several worker processes on one machine, and any of them (or
the CLI) may change a session. Each process keeps the sessions it read lately (`SessionCache`)
and trusts an entry only while the session's *change mark* is the one it saw before
reading the row (`ChangeMarks`).

The marks live in a file beside the database (`<file>-marks`), mapped into every process: a
table of 64-bit slots, a session id choosing its slot by CRC-32. After every commit that
updated or deleted a session row, the writer stores a fresh random token in that session's
slot, and only then tells the waiting callers that their writes are done. So:

- a reader that checks the mark after a write was acknowledged sees a token it has never
  cached against, and reads the row again (read-your-writes across processes);
- an entry is filled with the mark read *before* the row, so a write landing between the
  two only makes the entry look stale, never fresh;
- a token is written once, by one commit, so a slot never goes back to a token a reader
  holds, however the stores of several processes interleave; sessions that share a slot
  only make each other's entries be read again.

Checking an entry costs one CRC-32 and one 8-byte read of shared memory: no system call,
no SQLite statement (each of which lets the GIL go and waits to win it back).
"""

from __future__ import annotations

import mmap
import os
import sqlite3
import sys
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from sessionscope.store.base import StoredSession
from sessionscope.store.user_list_cache import user_mark_key

MARK_SLOTS = 1 << 20  # 8 MiB of marks: a few sessions per slot at millions of active ones
_MARK_BYTES = 8
# What an entry costs beyond its document, as tracemalloc counts it (tests/unit/
# test_session_cache_memory.py holds this to the truth): the key tuple, the entry, the
# StoredSession with its numbers, the bytes object's header and the dictionary's share.
# Ids, site slugs and status words are shared, not copied (see `cached_entry`).
ENTRY_OVERHEAD = 544


class ChangeMarks:
    """The shared table of change marks of one SQLite database."""

    def __init__(self, store_path: str, slots: int = MARK_SLOTS) -> None:
        self.path = store_path + "-marks"
        self._mask = slots - 1
        size = slots * _MARK_BYTES
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < size:
                os.ftruncate(fd, size)  # every process asks for the same size: idempotent
            self._map = mmap.mmap(fd, size, mmap.MAP_SHARED)
        finally:
            os.close(fd)
        self._marks = memoryview(self._map).cast("Q")

    def mark_of(self, session_id: str) -> int:
        return self._marks[zlib.crc32(session_id.encode()) & self._mask]

    def touch(self, session_ids: Iterable[str]) -> None:
        """Give each session's slot a token no reader can hold yet: call after the commit."""
        token = int.from_bytes(os.urandom(_MARK_BYTES), "little")
        for session_id in session_ids:
            self._marks[zlib.crc32(session_id.encode()) & self._mask] = token

    def close(self) -> None:
        self._marks.release()
        self._map.close()


class CachedSession(NamedTuple):
    mark: int
    tenant: str
    site: str
    stored: StoredSession


def cached_entry(mark: int, tenant: str, session_id: str, row: Sequence[Any]) -> CachedSession:
    """An entry from a row of `sql.SITE_AND_SESSION_BY_ID`, sharing what it can: the id
    object of the cache's key, and one copy per process of each tenant and site slug and
    status word."""
    site, _, created_ms, expires_ms, status, doc = row
    stored = StoredSession(session_id, created_ms, expires_ms, sys.intern(status), doc)
    return CachedSession(mark, sys.intern(tenant), sys.intern(site), stored)


class SessionCache:
    """The sessions this process read lately, least recently used first out, within a budget
    of document bytes. Only the event loop's thread uses it.

    Entries are keyed by the session id alone, the tenant checked in the entry: a key of
    one string is found with one hash and one comparison, where a (tenant, id) tuple made
    for every read costs twice that, on every read. Two tenants' sessions of one id (ids a
    client chose) take turns in the one place, each read as a miss of the other.
    """

    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = budget_bytes
        self.used_bytes = 0
        self._entries: OrderedDict[str, CachedSession] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, tenant: str, session_id: str, mark: int) -> CachedSession | None:
        entry = self._entries.get(session_id)
        if entry is None or entry.tenant != tenant:
            return None
        if entry.mark != mark:
            self._drop(session_id, entry)
            return None
        self._entries.move_to_end(session_id)
        return entry

    def put(self, entry: CachedSession) -> None:
        key = entry.stored.id
        size = _size(entry)
        if size > self.budget_bytes:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self.used_bytes -= _size(old)
        self._entries[key] = entry
        self.used_bytes += size
        while self.used_bytes > self.budget_bytes:
            oldest_key, oldest = next(iter(self._entries.items()))
            self._drop(oldest_key, oldest)

    def _drop(self, key: str, entry: CachedSession) -> None:
        del self._entries[key]
        self.used_bytes -= _size(entry)


def _size(entry: CachedSession) -> int:
    return len(entry.stored.doc) + ENTRY_OVERHEAD


class SessionWatch:
    """Notes the ids of the sessions whose rows one connection's statements update or delete,
    whichever statement does it: temporary triggers (this connection's alone, not in the
    schema) hand each such row's id to this object. A new row needs no mark, as no cache can
    hold a row before it exists; `recursive_triggers` makes the rows an `INSERT OR REPLACE`
    deletes count as deleted. The user of every session updated or deleted (before and after
    the change) is noted too, for the lists of a user's sessions; the user of a new session
    is noted by the write that inserts it (`note_user`), since a trigger calling Python on
    every insert would make each POST's write win the GIL back while it holds the file's
    write lock, which every other worker then waits for.

    The writer takes the ids of a committed group with `publish`, which moves their marks,
    and forgets those of writes that were rolled back with `rewind`.
    """

    def __init__(self, marks: ChangeMarks) -> None:
        self.marks = marks
        self._installed = False
        self._changed: list[str] = []  # session ids, and users' keys (store/user_list_cache.py)

    def install(self, conn: sqlite3.Connection) -> None:
        """Put the triggers on `conn` once the sessions table exists; outside a transaction."""
        if self._installed:
            return
        if conn.execute(_SESSIONS_TABLE_EXISTS).fetchone() is None:
            return  # not migrated yet: no session to watch
        conn.create_function(_CHANGED_FUNCTION, -1, self._note_rows)
        conn.execute("PRAGMA recursive_triggers = ON")
        for statement in _WATCH_SCHEMA:
            conn.execute(statement)
        self._installed = True

    def note_user(self, tenant: str, user_id: str | None) -> None:
        """Note a user whose list of sessions a statement of this group changed."""
        if user_id is not None:
            self._changed.append(user_mark_key(tenant, user_id))

    def _note_rows(self, *rows: str | None) -> None:
        """(id, tenant, user id) of each row a trigger saw: one call per row changed."""
        for start in range(0, len(rows), 3):
            session_id, tenant, user_id = rows[start : start + 3]
            if session_id is not None and tenant is not None:  # both NOT NULL columns
                self._changed.append(session_id)
                self.note_user(tenant, user_id)

    def reinstall(self) -> None:
        """After a schema change, which may have dropped the triggers with their table."""
        self._installed = False

    def noted(self) -> int:
        """How many ids are noted so far: a point to `rewind` to."""
        return len(self._changed)

    def rewind(self, to: int = 0) -> None:
        """Forget the ids noted since `to`: their statements were rolled back."""
        del self._changed[to:]

    def publish(self) -> None:
        """After a commit: fresh marks for every session it changed."""
        if self._changed:
            self.marks.touch(self._changed)
            self._changed.clear()


_CHANGED_FUNCTION = "sessionscope_session_changed"
_SESSIONS_TABLE_EXISTS = (
    "SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = 'sessions'"
)
# One call per row (each call from SQLite into Python takes the GIL): the id, tenant and user
# of the row before the change, and after it for an update.
_WATCH_SCHEMA = (
    "CREATE TEMP TRIGGER IF NOT EXISTS sessions_updated AFTER UPDATE ON main.sessions"
    f" BEGIN SELECT {_CHANGED_FUNCTION}(OLD.id, OLD.tenant, OLD.user_id,"
    " NEW.id, NEW.tenant, NEW.user_id); END",
    "CREATE TEMP TRIGGER IF NOT EXISTS sessions_deleted AFTER DELETE ON main.sessions"
    f" BEGIN SELECT {_CHANGED_FUNCTION}(OLD.id, OLD.tenant, OLD.user_id); END",
)
