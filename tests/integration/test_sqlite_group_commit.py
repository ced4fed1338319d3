"""Group commit: concurrent writes share transactions, yet one failure spoils no other."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sessionscope.clock import ms_to_rfc3339, now_ms
from sessionscope.ids import uuid7
from sessionscope.model import Session
from sessionscope.store.base import Conflict
from sessionscope.store.sqlite import SQLiteStore


def session(session_id: str) -> Session:
    stamp = ms_to_rfc3339(now_ms())
    return Session(
        id=session_id,
        tenant="t",
        site="web",
        site_uuid="u",
        version=1,
        created_at=stamp,
        updated_at=stamp,
        last_seen_at=stamp,
        expires_at=None,
        state="anonymous",
        status="active",
    )


async def test_a_failing_write_reaches_only_its_caller(tmp_path: Path) -> None:
    store = SQLiteStore(f"sqlite:///{tmp_path / 'group.db'}")
    await store.open()
    try:
        await store.migrate()
        taken = uuid7()
        await store.insert_session(session(taken))
        ids = [uuid7() for _ in range(200)]
        attempts = [store.insert_session(session(i)) for i in ids]
        attempts.insert(100, store.insert_session(session(taken)))
        outcomes = await asyncio.gather(*attempts, return_exceptions=True)
        assert isinstance(outcomes[100], Conflict)
        stored = [o for i, o in enumerate(outcomes) if i != 100]
        assert all(isinstance(doc, bytes) for doc in stored) and len(stored) == 200
        for session_id, doc in zip(ids, stored, strict=True):
            found = await store.get_session("t", session_id)
            assert found is not None and found.doc == doc
    finally:
        await store.close()


async def test_a_conflict_leaves_the_writer_working(tmp_path: Path) -> None:
    store = SQLiteStore(f"sqlite:///{tmp_path / 'loop.db'}")
    await store.open()
    try:
        await store.migrate()
        first = uuid7()
        await store.insert_session(session(first))
        with pytest.raises(Conflict):
            await store.insert_session(session(first))
        second = uuid7()
        await store.insert_session(session(second))
        assert await store.get_session("t", second) is not None
    finally:
        await store.close()
