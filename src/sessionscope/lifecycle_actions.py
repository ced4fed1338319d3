"""Lifecycle use-cases on one session: apply an event, revoke.

Each goes through `ingest.update_session` (optimistic concurrency; `version` grows with
every change) and refreshes what depends on who the visitor is: test groups and access.
"""

from __future__ import annotations

from sessionscope import ingest
from sessionscope.access.decide import refresh_access
from sessionscope.clock import now_ms
from sessionscope.experiments import assign_test_groups
from sessionscope.lifecycle import LoginEvent, SessionEvent, apply_event, revoke, timers_for
from sessionscope.model import Session, SiteSettings
from sessionscope.pipeline import Pipeline
from sessionscope.store.base import Store
from sessionscope.user_sessions import enforce_session_limit


async def site_settings(store: Store, session: Session) -> SiteSettings:
    site = await store.get_site(session.tenant, session.site)
    return site.settings if site is not None else SiteSettings()


async def record_event(
    store: Store,
    pipeline: Pipeline,
    target: tuple[str, str, tuple[str, ...] | None],
    event: SessionEvent,
    default_days: int,
) -> Session | None:
    """Apply `event` to the session `target` = (tenant, id, visible sites); None if missing."""
    tenant, session_id, sites = target
    limits: list[int | None] = []

    async def change(session: Session) -> None:
        settings = await site_settings(store, session)
        at_ms = now_ms()
        outcome = apply_event(session, event, timers_for(settings, default_days), at_ms)
        if outcome.identity_changed:
            assign_test_groups(session, settings.experiments, keep_given=False)
            await refresh_access(store, session, at_ms)
        await pipeline.process(session)
        limits.append(settings.max_active_sessions_per_user)

    session = await ingest.update_session(store, tenant, session_id, sites, change)
    if session is not None and isinstance(event, LoginEvent):
        await enforce_session_limit(store, session, limits[-1])
    return session


async def revoke_session(
    store: Store, tenant: str, session_id: str, sites: tuple[str, ...] | None
) -> Session | None:
    return await ingest.update_session(
        store, tenant, session_id, sites, lambda session: revoke(session, now_ms())
    )
