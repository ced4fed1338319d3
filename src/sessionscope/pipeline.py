"""What happens to a session between the request and the store: enrich, then judge.

Each step is a function of the session, the evidence gathered for it and, where a step
needs the past, an explicit read of the store. Steps never touch HTTP.
"""

from __future__ import annotations

from sessionscope.enrich.service import Enricher, Evidence
from sessionscope.model import Session


class Pipeline:
    def __init__(self, enricher: Enricher) -> None:
        self.enricher = enricher

    async def process(self, session: Session) -> Evidence:
        evidence = self.enricher.examine(session)
        self.enricher.apply(session, evidence)
        return evidence
