"""Enrichment of one session: user agent, geo-IP, IP lists and network, from one place.

`Enricher.examine` gathers the evidence (pure lookups, all cached); `apply` writes the
session's `device`, `browser`, `location` and `network` parts from it. Judgement reads the
same `Evidence`, so nothing is looked up twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

import msgspec

from sessionscope.config import Settings
from sessionscope.enrich.geo import GeoConfig, GeoIP, GeoResult
from sessionscope.enrich.iplists import IPLists, ListMatches
from sessionscope.enrich.network import classify_network
from sessionscope.enrich.ua import (
    ClientHints,
    UserAgentInfo,
    client_hints_from_headers,
    client_hints_from_ua_data,
    parse_user_agent,
)
from sessionscope.model import Browser, Device, Session, UserAgentData


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the lookups found about one session's request."""

    user_agent: UserAgentInfo
    hints: ClientHints | None
    geo: GeoResult
    lists: ListMatches


def session_hints(session: Session) -> ClientHints | None:
    """Client hints from the browser script's userAgentData, else from request headers."""
    ua_data = session.signals.ua_data
    if ua_data is not None:
        hints = client_hints_from_ua_data(_ua_data_mapping(ua_data))
        if hints is not None:
            return hints
    return client_hints_from_headers(session.headers)


def _ua_data_mapping(ua_data: UserAgentData) -> dict[str, Any]:
    """userAgentData in the browser's own camelCase names, as the hints parser reads it."""
    return {
        "brands": ua_data.brands,
        "fullVersionList": ua_data.full_version_list,
        "mobile": ua_data.mobile,
        "platform": ua_data.platform,
        "platformVersion": ua_data.platform_version,
        "model": ua_data.model,
        "formFactors": ua_data.form_factors,
    }


# The fields of `device` and `browser` that the user-agent parse fills; the others are
# reported (by the browser, or by identification) and kept over the parse.
_LOOKED_UP: Final = frozenset(
    {"type", "brand", "model", "name", "os", "os_version", "platform", "category", "version"}
)
_REPORTED_DEVICE: Final = tuple(f for f in Device.__struct_fields__ if f not in _LOOKED_UP)
_REPORTED_BROWSER: Final = tuple(f for f in Browser.__struct_fields__ if f not in _LOOKED_UP)
_TRUE_COUNTRY: Final = ("true_country_code",)  # judgement's, not the geo lookup's

S = TypeVar("S", bound=msgspec.Struct)


def kept_over(base: S, part: S, names: tuple[str, ...]) -> S:
    """A copy of `base` with each of the fields `names` that `part` has (not null) laid over
    it."""
    return msgspec.structs.replace(
        base, **{name: value for name in names if (value := getattr(part, name)) is not None}
    )


class Enricher:
    def __init__(self, geo: GeoIP, lists: IPLists) -> None:
        self.geo = geo
        self.lists = lists

    @classmethod
    def from_settings(cls, settings: Settings) -> Enricher:
        """Open the configured databases and lists; errors name the setting at fault."""
        interval = settings.data_check_seconds
        geo = GeoIP(GeoConfig.from_settings(settings), check_interval=interval)
        lists = IPLists(check_interval=interval)
        if settings.lists_dir:
            lists.load_dir(Path(settings.lists_dir))
        return cls(geo, lists)

    def warm(self) -> None:
        if self.geo.uses_fallback:
            self.geo.warm()

    def examine(self, session: Session, extra_lists: IPLists | None = None) -> Evidence:
        hints = session_hints(session)
        ip = session.ip or ""
        matches = self.lists.match(ip) if ip else ListMatches()
        if extra_lists is not None and ip:
            matches = ListMatches(matches=[*matches.matches, *extra_lists.match(ip).matches])
        return Evidence(
            user_agent=parse_user_agent(session.user_agent or "", hints),
            hints=hints,
            geo=self.geo.lookup(ip) if ip else GeoResult(),
            lists=matches,
        )

    def apply(self, session: Session, evidence: Evidence) -> None:
        """Fill the looked-up parts; what the browser reported directly is kept."""
        agent = evidence.user_agent
        session.device = kept_over(agent.device, session.device, _REPORTED_DEVICE)
        session.browser = kept_over(agent.browser, session.browser, _REPORTED_BROWSER)
        session.location = kept_over(evidence.geo.location, session.location, _TRUE_COUNTRY)
        if session.ip:
            session.network = classify_network(session.ip, evidence.geo, evidence.lists)
