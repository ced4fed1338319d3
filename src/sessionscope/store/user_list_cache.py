"""Which sessions of a user are active on a site: remembered per process, checked against the
shared change marks (store/session_cache.py).

Zephr's session view lists the user's other active sessions, and a SQLite query for that
cost more than the rest of a cached read. Writers give a user's mark slot a fresh token
after every commit that inserted, updated or deleted a session of that user (the watch's
triggers note the user of the old and of the new row of an update or delete, the insert of
a session its own), so a list is trusted while the mark read before its query is unchanged.
Only ids and expiries are kept; the documents come from the session cache. An entry holding
a session whose expiry has passed is read again.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple

MAX_LISTS = 65_536  # about 500 bytes a list of one session (tracemalloc): 33 MB when full
# The active sessions of a user on a site, newest first (index sessions_by_user).
ACTIVE_IDS_SQL = (
    "SELECT id, expires_ms FROM sessions WHERE tenant = ? AND user_id = ? AND site = ?"
    " AND status = 'active' AND (expires_ms IS NULL OR expires_ms > ?)"
    " ORDER BY created_ms DESC, id DESC LIMIT ?"
)

Entry = tuple[str, int | None]  # session id, expires_ms


def user_mark_key(tenant: str, user_id: str) -> str:
    """What a user's mark slot is chosen by; never a session id (no id holds a NUL)."""
    return f"{tenant}\0{user_id}"


class UserList(NamedTuple):
    mark: int
    limit: int
    entries: tuple[Entry, ...]


class UserListCache:
    """Lists by (tenant, user, site), least recently used first out. The event loop's only."""

    def __init__(self, max_lists: int = MAX_LISTS) -> None:
        self._lists: OrderedDict[tuple[str, str, str], UserList] = OrderedDict()
        self._max_lists = max_lists

    def __len__(self) -> int:
        return len(self._lists)

    def get(
        self, key: tuple[str, str, str], mark: int, limit: int, now_ms: int
    ) -> list[str] | None:
        """The ids, if the list is current: same mark, same limit, none of them expired."""
        found = self._lists.get(key)
        if found is None:
            return None
        if found.mark != mark or found.limit != limit or _any_expired(found.entries, now_ms):
            del self._lists[key]
            return None
        self._lists.move_to_end(key)
        return [session_id for session_id, _ in found.entries]

    def put(self, key: tuple[str, str, str], entry: UserList) -> None:
        self._lists[key] = entry
        self._lists.move_to_end(key)
        if len(self._lists) > self._max_lists:
            self._lists.popitem(last=False)


def _any_expired(entries: tuple[Entry, ...], now_ms: int) -> bool:
    return any(expires is not None and expires <= now_ms for _, expires in entries)
