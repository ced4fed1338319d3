"""Zephr's answers as this process last rendered them, reused while nothing they were made from
has changed.

Zephr clients ask for a session on every page view, and the decode and render of its view
cost more than the rest of a cached read. The read cache (store/session_cache.py) hands out
one `StoredSession` object per current row, so a view is kept by that object: it is current
while the object it was made from is the one the cache holds, and while the user's other
active sessions are the very documents it listed (a change, a new session, an expiry or a
release of one makes a new document, or a new list). A view goes when its session leaves
the read cache (a weak reference), so there are never more views than cached sessions; each
costs about 1 KB (its answer, about 600 bytes, and its bookkeeping).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import NamedTuple

from sessionscope.store.base import StoredSession

Owner = tuple[str, str, str]  # tenant, site, user id


class ZephrView(NamedTuple):
    owner: Owner | None  # None: an anonymous visitor, who lists no other session
    others: tuple[bytes, ...]  # the documents of the user's other sessions it lists, in order
    body: bytes

    def lists(self, others: Sequence[StoredSession]) -> bool:
        """Whether `others` are, one for one, the documents this view was rendered with."""
        if len(others) != len(self.others):
            return False
        return all(mine is theirs.doc for mine, theirs in zip(self.others, others, strict=True))


class _Source(weakref.ref[StoredSession]):
    __slots__ = ("key",)
    key: int


class ZephrViews:
    """Views by the stored session they were rendered from. The event loop's only."""

    def __init__(self) -> None:
        self._views: dict[int, tuple[_Source, ZephrView]] = {}

    def __len__(self) -> int:
        return len(self._views)

    def get(self, stored: StoredSession) -> ZephrView | None:
        found = self._views.get(id(stored))
        return found[1] if found is not None and found[0]() is stored else None

    def put(self, stored: StoredSession, view: ZephrView) -> None:
        source = _Source(stored, self._forget)
        source.key = id(stored)
        self._views[source.key] = (source, view)

    def _forget(self, source: weakref.ref[StoredSession]) -> None:
        """The session left memory: its view goes (unless a newer one took the place)."""
        key: int | None = getattr(source, "key", None)
        found = self._views.get(key) if key is not None else None
        if key is not None and found is not None and found[0] is source:
            del self._views[key]
