"""Access decisions, and the `access` part of a session computed from the same rules.

A visitor holds the default bundle of their user state plus, once logged in, the bundles
granted to their user. An entitlement is delivered directly by a held bundle, else by the
first held meter (in id order) with a unit left, else by the first such credit. Meters and
credits are counted per visitor: the user, else the device, else the session.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from sessionscope.access.catalog import Catalog, Holdings
from sessionscope.access.catalog_cache import catalog_cache
from sessionscope.access.errors import AccessError
from sessionscope.access.model import (
    CalendarPeriod,
    ContentIdTransform,
    Credit,
    DecisionRequest,
    DeliveredBy,
    Meter,
    UserState,
)
from sessionscope.access.periods import period_bounds
from sessionscope.clock import ms_to_rfc3339
from sessionscope.lifecycle import visitor_key
from sessionscope.model import Access, CreditState, DeliveredEntitlement, MeterState, Session
from sessionscope.store.access_records import GrantFilter
from sessionscope.store.allowance import ConsumePlan, Usage, UsageKey, UsageRow
from sessionscope.store.base import Store

MAX_GRANTS: Final = 500


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    delivered_by: DeliveredBy | None
    source: str | None
    remaining_credits: int | None
    refresh_time: str | None


DENIED: Final = Verdict(False, None, None, None, None)


def user_state(session: Session) -> UserState:
    return "registered" if session.state == "authenticated" else "anonymous"


async def load_catalog(store: Store, tenant: str, site: str) -> Catalog:
    """The site's catalog as stored now (what a change is checked against)."""
    return Catalog.from_records(await store.list_access_objects(tenant, site, None))


async def current_catalog(store: Store, tenant: str, site: str) -> Catalog:
    """The site's catalog, from memory when read in the last moment (see catalog_cache).

    Shared with other readers: never change it.
    """
    cache = catalog_cache(store)
    catalog = cache.get(tenant, site)
    if catalog is None:
        changes = cache.changes()
        catalog = await load_catalog(store, tenant, site)
        cache.put(tenant, site, catalog, changes)
    return catalog


async def held_bundles(store: Store, catalog: Catalog, session: Session, at_ms: int) -> list[str]:
    """The user state's default bundle, then the user's live grants (logged-in users only)."""
    registered = user_state(session) == "registered"
    default = catalog.defaults.registered if registered else catalog.defaults.anonymous
    held = [default] if default is not None else []
    if registered and session.user is not None:
        where = GrantFilter(session.tenant, session.site, user_id=session.user.id)
        grants = await store.list_grants(where, None, MAX_GRANTS)
        live = {g.bundle_id for g in grants if g.expires_ms is None or g.expires_ms > at_ms}
        held.extend(sorted(live - set(held)))
    return held


def transform_content(content_id: str, transform: ContentIdTransform | None) -> str:
    if transform == "lowercase":
        return content_id.lower()
    if transform == "strip_query":
        return content_id.split("#", 1)[0].split("?", 1)[0]
    return content_id


def source_key(allowance: Meter | Credit) -> str:
    kind = "meter" if isinstance(allowance, Meter) else "credit"
    return f"{kind}:{allowance.id}"


# ---- decisions -------------------------------------------------------------------


async def decide(
    store: Store, catalog: Catalog, session: Session, request: DecisionRequest, at_ms: int
) -> Verdict:
    """Allow or deny `request`; a meter or credit that delivers it is consumed atomically."""
    if request.entitlement not in catalog.entitlements:
        raise AccessError(
            400,
            "unknown_entitlement",
            f"entitlement: no entitlement {request.entitlement!r} on site {session.site!r}",
            {"field": "entitlement"},
        )
    holdings = catalog.expand(await held_bundles(store, catalog, session, at_ms))
    bundle = holdings.direct.get(request.entitlement)
    if bundle is not None:
        return Verdict(True, "direct", bundle, None, None)
    allowances: list[Meter | Credit] = [catalog.meters[m] for m in holdings.meters]
    allowances += [catalog.credits[c] for c in holdings.credits]
    for allowance in allowances:
        if request.entitlement in allowance.entitlements:
            verdict = await _consume(store, session, allowance, request.content_id, at_ms)
            if verdict.allowed:
                return verdict
    return DENIED


async def _consume(
    store: Store, session: Session, allowance: Meter | Credit, content_id: str, at_ms: int
) -> Verdict:
    if isinstance(allowance, Meter):
        start, end = period_bounds(allowance.period, at_ms)
        fresh: tuple[int, int | None] = (start, end)
    else:
        fresh = (at_ms, None)
    plan = ConsumePlan(
        size=allowance.size,
        unique_content=allowance.counting == "unique_content",
        content_id=transform_content(content_id, allowance.content_id_transform),
        fresh_start_ms=fresh[0],
        fresh_end_ms=fresh[1],
        now_ms=at_ms,
    )
    key = UsageKey(session.tenant, session.site, source_key(allowance), visitor_key(session))
    outcome = await store.consume_allowance(key, plan)
    if not outcome.allowed:
        return DENIED
    assert allowance.id is not None
    return Verdict(
        True,
        "meter" if isinstance(allowance, Meter) else "credit",
        allowance.id,
        allowance.size - outcome.usage.used,
        _time_or_none(outcome.usage.period_end_ms),
    )


# ---- the session's access part ---------------------------------------------------


async def access_part(store: Store, catalog: Catalog, session: Session, at_ms: int) -> Access:
    state = user_state(session)
    if catalog.is_empty():
        return Access(user_state=state)
    bundles = await held_bundles(store, catalog, session, at_ms)
    holdings = catalog.expand(bundles)
    held: list[Meter | Credit] = [catalog.meters[m] for m in holdings.meters]
    held += [catalog.credits[c] for c in holdings.credits]
    sources = tuple(source_key(allowance) for allowance in held)
    rows = await store.usage_of(session.tenant, session.site, visitor_key(session), sources)
    usage = {row.source: row for row in rows}
    meters = {
        m: _meter_state(catalog.meters[m], usage.get(f"meter:{m}"), at_ms) for m in holdings.meters
    }
    credits = {
        c: _credit_state(catalog.credits[c], usage.get(f"credit:{c}")) for c in holdings.credits
    }
    return Access(
        user_state=state,
        granted_bundles=bundles,
        delivered_entitlements=_delivered(catalog, holdings, meters, credits),
        meters=meters,
        credits=credits,
        jwt_bundles=[],
    )


async def refresh_access(store: Store, session: Session, at_ms: int) -> None:
    catalog = await current_catalog(store, session.tenant, session.site)
    session.access = await access_part(store, catalog, session, at_ms)


def _live(row: UsageRow | None, at_ms: int) -> tuple[Usage | None, list[str]]:
    """The row's usage and content ids while its period runs; None once it has ended."""
    if row is None or (row.usage.period_end_ms is not None and row.usage.period_end_ms <= at_ms):
        return None, []
    return row.usage, row.content_ids


def _meter_state(meter: Meter, row: UsageRow | None, at_ms: int) -> MeterState:
    usage, content_ids = _live(row, at_ms)
    if usage is not None:
        used, refresh = usage.used, usage.period_end_ms
    else:
        # A calendar period runs whether or not it is used; a relative one starts at first use.
        used = 0
        refresh = (
            period_bounds(meter.period, at_ms)[1]
            if isinstance(meter.period, CalendarPeriod)
            else None
        )
    return MeterState(
        refresh_time=_time_or_none(refresh),
        meter_size=meter.size,
        remaining_credits=max(0, meter.size - used),
        content_ids=content_ids,
        content_id_transform=meter.content_id_transform,
    )


def _credit_state(credit: Credit, row: UsageRow | None) -> CreditState:
    used = row.usage.used if row is not None else 0
    return CreditState(
        remaining_credits=max(0, credit.size - used),
        content_ids=row.content_ids if row is not None else [],
        content_id_transform=credit.content_id_transform,
    )


def _delivered(
    catalog: Catalog,
    holdings: Holdings,
    meters: dict[str, MeterState],
    credits: dict[str, CreditState],
) -> list[DeliveredEntitlement]:
    """Entitlements the visitor can use now: outright, or through a meter or credit with
    units left."""
    metered = _givers(
        (m, catalog.meters[m].entitlements, state.remaining_credits) for m, state in meters.items()
    )
    credited = _givers(
        (c, catalog.credits[c].entitlements, state.remaining_credits)
        for c, state in credits.items()
    )
    names = (set(holdings.direct) | set(metered) | set(credited)) & set(catalog.entitlements)
    return [
        DeliveredEntitlement(
            id=name,
            direct=name in holdings.direct,
            metered_by=metered.get(name, []),
            credited_by=credited.get(name, []),
        )
        for name in sorted(names)
    ]


def _givers(allowances: Iterable[tuple[str, list[str], int]]) -> dict[str, list[str]]:
    """entitlement → the allowances (id order) that still have units to deliver it."""
    givers: dict[str, list[str]] = {}
    for source_id, entitlements, remaining in sorted(allowances):
        if remaining > 0:
            for entitlement in entitlements:
                givers.setdefault(entitlement, []).append(source_id)
    return givers


def _time_or_none(ms: int | None) -> str | None:
    return ms_to_rfc3339(ms) if ms is not None else None
