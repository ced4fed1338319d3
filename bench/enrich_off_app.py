"""The service with its enrichment step skipped: the reference for POST throughput.

Served by Granian exactly like `sessionscope.http.app:create_app`, with the same
settings, so that the two POST runs differ only in the lookups enrichment makes.
Every other pipeline step still runs, on empty evidence.
"""

from __future__ import annotations

from sessionscope.config import load_settings
from sessionscope.enrich.geo import GeoResult
from sessionscope.enrich.iplists import IPLists, ListMatches
from sessionscope.enrich.service import Enricher, Evidence
from sessionscope.enrich.ua import UserAgentInfo
from sessionscope.http.app import SessionscopeApp
from sessionscope.model import Browser, Device, Session
from sessionscope.runtime import build_state


class SkippingEnricher(Enricher):
    """Finds nothing and changes nothing."""

    def examine(self, session: Session, extra_lists: IPLists | None = None) -> Evidence:
        return Evidence(
            user_agent=UserAgentInfo(device=Device(), browser=Browser()),
            hints=None,
            geo=GeoResult(),
            lists=ListMatches(),
        )

    def apply(self, session: Session, evidence: Evidence) -> None:
        return None


def create_app() -> SessionscopeApp:
    state = build_state(load_settings())
    enricher = state.pipeline.enricher
    state.pipeline.enricher = SkippingEnricher(enricher.geo, enricher.lists)
    state.pipeline.tenant_lists = None
    return SessionscopeApp(state)
