"""Zephr's rendered views (dialects/zephr_views.py): kept by the very stored session they were
made from, current only while the other sessions they list are the same documents, gone when
their session leaves memory."""

from __future__ import annotations

from sessionscope.dialects.zephr_views import ZephrView, ZephrViews
from sessionscope.store.base import StoredSession

OWNER = ("acme", "web", "u1")


def stored(session_id: str, doc: bytes) -> StoredSession:
    return StoredSession(session_id, 1, None, "active", doc)


def test_a_view_is_found_only_by_the_object_it_was_made_from() -> None:
    views = ZephrViews()
    first = stored("s1", b'{"v":1}')
    views.put(first, ZephrView(None, (), b"body"))
    assert views.get(first) == ZephrView(None, (), b"body")
    assert views.get(stored("s1", b'{"v":1}')) is None  # the same row read again: a new object


def test_a_view_lists_the_same_documents_not_equal_ones() -> None:
    other = stored("s2", b'{"other":1}')
    view = ZephrView(OWNER, (other.doc,), b"body")
    assert view.lists([other])
    assert not view.lists([stored("s2", bytes(bytearray(b'{"other":1}')))])
    assert not view.lists([])
    assert not view.lists([other, other])


def test_a_view_goes_with_its_session() -> None:
    views = ZephrViews()
    kept, dropped = stored("s1", b"{}"), stored("s2", b"{}")
    views.put(kept, ZephrView(None, (), b"one"))
    views.put(dropped, ZephrView(None, (), b"two"))
    assert len(views) == 2
    del dropped  # the read cache let go of it
    assert len(views) == 1
    assert views.get(kept) == ZephrView(None, (), b"one")
