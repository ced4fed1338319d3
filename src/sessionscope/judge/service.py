"""The judgement step of the pipeline: read the past, judge, write the verdict.

This is the only impure part of judgement: it reads the site's settings and the history
from the store (and Redis), and writes `risk`, `bot` and `location.true_country_code`
into the session. Everything it decides is decided by the pure functions of `decision`.
"""

from __future__ import annotations

from typing import Any

from sessionscope.config import Settings
from sessionscope.enrich.geo import GeoIP, GeoResult
from sessionscope.enrich.service import Evidence
from sessionscope.judge.case import Case
from sessionscope.judge.decision import judge
from sessionscope.judge.history import load_history
from sessionscope.judge.policy import IPNetwork, Policy
from sessionscope.judge.velocity import RedisVelocity, StoreVelocity, VelocityCounter
from sessionscope.model import Session, SiteSettings
from sessionscope.proxyheaders import parse_address
from sessionscope.store.base import Store


class Judge:
    def __init__(
        self,
        store: Store,
        velocity: VelocityCounter,
        geo: GeoIP | None = None,
        trusted_proxies: tuple[IPNetwork, ...] = (),
    ) -> None:
        self.store = store
        self.velocity = velocity
        self.geo = geo
        self.trusted_proxies = trusted_proxies

    @classmethod
    def from_settings(cls, settings: Settings, store: Store, redis: Any, geo: GeoIP) -> Judge:
        """Velocity in Redis when the service has it (shared by instances), else the store."""
        velocity: VelocityCounter = (
            RedisVelocity(redis, settings.redis_prefix)
            if redis is not None
            else StoreVelocity(store)
        )
        return cls(store, velocity, geo, settings.trusted_proxies)

    async def judge(self, session: Session, evidence: Evidence) -> None:
        site = await self.store.get_site(session.tenant, session.site)
        policy = Policy.for_site(site.settings if site else SiteSettings(), self.trusted_proxies)
        history = await load_history(self.store, self.velocity, session, policy)
        case = Case(session, evidence, history, policy, self._public_ip_geo(session))
        verdict = judge(case)
        session.risk = verdict.risk
        session.bot = verdict.bot
        session.location.true_country_code = verdict.true_country_code

    def _public_ip_geo(self, session: Session) -> GeoResult | None:
        """Where the public IP the browser reported is, when it is not the request's IP."""
        public_ip = session.signals.public_ip
        if self.geo is None or not public_ip:  # most sessions: no address to parse
            return None
        reported = parse_address(public_ip)
        if reported is None or str(reported) == session.ip:
            return None
        if not reported.is_global:
            return None
        return self.geo.lookup(str(reported))
