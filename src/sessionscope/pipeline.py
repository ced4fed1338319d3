"""What happens to a session between the request and the store: enrich, then judge.

Each step is a function of the session, the evidence gathered for it and, where a step
needs the past, an explicit read of the store. Steps never touch HTTP.
"""

from __future__ import annotations

from sessionscope.enrich.service import Enricher, Evidence
from sessionscope.enrich.signals import apply_signals
from sessionscope.identify import DeviceIdentifier
from sessionscope.judge.service import Judge
from sessionscope.lists.cache import TenantListCache
from sessionscope.model import Session


class Pipeline:
    def __init__(
        self,
        enricher: Enricher,
        tenant_lists: TenantListCache | None = None,
        identifier: DeviceIdentifier | None = None,
        judge: Judge | None = None,
    ) -> None:
        self.enricher = enricher
        self.tenant_lists = tenant_lists  # each tenant's own IP lists (issue 3)
        self.identifier = identifier  # device identity (issue 4)
        self.judge = judge  # risk, bot and decision (issue 5); last: it reads the device id

    async def process(self, session: Session) -> Evidence:
        lists = self.tenant_lists
        own_lists = await lists.get(session.tenant) if lists is not None else None
        evidence = self.enricher.examine(session, own_lists)
        self.enricher.apply(session, evidence)
        apply_signals(session)
        if self.identifier is not None:
            await self.identifier.identify(session)
        if self.judge is not None:
            await self.judge.judge(session, evidence)
        return evidence
