"""A user's sessions: finding the active ones, logging out everywhere else, and the site's
limit on concurrent sessions (the oldest go first)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from sessionscope import ingest
from sessionscope.clock import now_ms
from sessionscope.model import Session, SessionState
from sessionscope.store.base import Cursor, SessionQuery, Store

_PAGE: Final = 500
_MOST: Final = 10_000  # a user with more live sessions than this is an attack, not a user


async def active_session_ids(
    store: Store,
    tenant: str,
    sites: tuple[str, ...] | None,
    user_id: str,
    state: SessionState | None = None,
) -> list[str]:
    """The user's active sessions, newest first."""
    query = SessionQuery(tenant=tenant, sites=sites, user_id=user_id, state=state, status="active")
    found: list[str] = []
    after: Cursor | None = None
    while len(found) < _MOST:
        rows = await store.list_sessions(query, after, _PAGE, now_ms())
        found.extend(row.id for row in rows)
        if len(rows) < _PAGE:
            break
        after = Cursor(rows[-1].created_ms, rows[-1].id)
    return found


def _release_if_active(session: Session) -> None:
    if session.status == "active":
        ingest.mark_released(session)


async def release_sessions(
    store: Store, tenant: str, sites: tuple[str, ...] | None, session_ids: Iterable[str]
) -> list[str]:
    """Release each session that is still active; the ids of those released now."""
    released = []
    for session_id in session_ids:
        try:
            session = await ingest.update_session(
                store, tenant, session_id, sites, _release_if_active
            )
        except ingest.IngestError:
            continue  # it kept changing under us; its owner is active and it stays
        if session is not None and session.status == "released":
            released.append(session_id)
    return released


async def release_all_except(
    store: Store, tenant: str, sites: tuple[str, ...] | None, user_id: str, keep: set[str]
) -> list[str]:
    """Log the user out everywhere but the sessions in `keep`."""
    active = await active_session_ids(store, tenant, sites, user_id)
    return await release_sessions(store, tenant, sites, [i for i in active if i not in keep])


async def enforce_session_limit(store: Store, session: Session, limit: int | None) -> list[str]:
    """Keep `session` and the user's newest other logged-in sessions up to `limit`;
    release the rest."""
    if limit is None or session.user is None or session.state != "authenticated":
        return []
    sites = (session.site,)
    active = await active_session_ids(
        store, session.tenant, sites, session.user.id, "authenticated"
    )
    others = [session_id for session_id in active if session_id != session.id]
    return await release_sessions(store, session.tenant, sites, others[limit - 1 :])
