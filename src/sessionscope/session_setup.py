"""What a new session gets from its site before it is stored: its expiry by the site's
timers, its test groups, and its `access` part."""

from __future__ import annotations

from sessionscope.access.decide import refresh_access
from sessionscope.clock import rfc3339_to_ms
from sessionscope.experiments import assign_test_groups
from sessionscope.lifecycle import refresh_expiry, timers_for
from sessionscope.model import Session, Site
from sessionscope.store.base import Store


async def prepare_new(store: Store, session: Session, site: Site, default_days: int) -> None:
    refresh_expiry(session, timers_for(site.settings, default_days))
    assign_test_groups(session, site.settings.experiments, keep_given=True)
    await refresh_access(store, session, rfc3339_to_ms(session.created_at))
