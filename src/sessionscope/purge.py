"""Retention: sessions that ended longer ago than their site keeps them are deleted, and
so is the usage of meter periods that have ended.

`purge` is one pass (the `sessionscope purge` command); `PurgeTask` runs passes every few
minutes inside the service. Passes are idempotent, so several instances may run them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Final

from sessionscope.clock import now_ms
from sessionscope.lifecycle import DAY_MS
from sessionscope.store.base import Store

log = logging.getLogger("sessionscope.purge")
BATCH: Final = 1000


@dataclass(frozen=True, slots=True)
class PurgeReport:
    sessions: int
    usage_rows: int


async def purge(store: Store, at_ms: int, batch: int = BATCH) -> PurgeReport:
    """Delete, in batches, what retention no longer keeps as of `at_ms`."""
    sessions = 0
    for tenant in await store.list_tenants():
        for site in await store.list_sites(tenant.slug):
            days = site.settings.retention_days
            if days is not None:
                cutoff = at_ms - days * DAY_MS
                sessions += await _drain(
                    partial(store.purge_sessions, tenant.slug, site.slug, cutoff, batch)
                )
    usage = await _drain(partial(store.purge_usage, at_ms, batch))
    return PurgeReport(sessions=sessions, usage_rows=usage)


async def _drain(step: Callable[[], Awaitable[int]]) -> int:
    """Repeat a batched delete until it finds nothing more."""
    total = 0
    while deleted := await step():
        total += deleted
    return total


class PurgeTask:
    """A purge pass every `interval_seconds` (0: never) while the service runs."""

    def __init__(self, store: Store, interval_seconds: int) -> None:
        self.store = store
        self.interval_seconds = interval_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> PurgeTask:
        if self.interval_seconds > 0:
            self._task = asyncio.create_task(self._run(), name="sessionscope-purge")
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_seconds)
            try:
                report = await purge(self.store, now_ms())
            except Exception:  # a failed pass is logged and retried at the next one
                log.exception("purge pass failed")
                continue
            if report.sessions or report.usage_rows:
                log.info("purged %d sessions, %d usage rows", report.sessions, report.usage_rows)
