"""The browser script's use-case: open a session at page load, then keep it up to date.

The first report opens the session through the same use-case as POST /v1/sessions; later
reports with its id grow the behaviour counts (each counter keeps its highest value: the
script sends running totals), refresh the signals and re-run the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import msgspec
from msgspec import Meta, Struct

from sessionscope import ingest
from sessionscope.clock import ms_to_rfc3339, now_ms
from sessionscope.ids import canonical_uuid
from sessionscope.model import (
    BehaviourInput,
    BrowserSignals,
    LongText,
    Session,
    SessionCreate,
    SessionId,
    Site,
)
from sessionscope.pipeline import Pipeline
from sessionscope.store.base import Store

# Request headers kept on the session as evidence for judgement: client hints and proxies.
EVIDENCE_HEADERS = ("via", "forwarded", "x-forwarded-for", "x-real-ip")
_HINT_PREFIX = "sec-ch-"


class CollectInput(Struct, forbid_unknown_fields=True, kw_only=True):
    """What the browser script posts. The user agent and IP come from the request itself."""

    session_id: SessionId | None = None
    signals: BrowserSignals | None = None
    behaviour: BehaviourInput = msgspec.field(default_factory=BehaviourInput)
    page_url: LongText | None = None
    referrer: LongText | None = None


class CollectAnswer(Struct, kw_only=True):
    """What the page keeps: the session id for its backend, the device id if known."""

    session_id: Annotated[str, Meta(description="the session (UUID) to pass to the backend")]
    device_id: Annotated[str | None, Meta(description="the device, when identified")]


@dataclass(frozen=True, slots=True)
class Visit:
    """Facts of the request that carried the report."""

    ip: str
    user_agent: str
    accept_language: str | None
    headers: dict[str, str]


def evidence_headers(headers: dict[str, str]) -> dict[str, str]:
    """The request headers worth keeping (lower-case names), of a lower-cased mapping."""
    return {
        name: value
        for name, value in headers.items()
        if name.startswith(_HINT_PREFIX) or name in EVIDENCE_HEADERS
    }


def creation(payload: CollectInput, visit: Visit) -> SessionCreate:
    """The create request a first report stands for (validated like POST /v1/sessions)."""
    fields = {
        "ip": visit.ip,
        "user_agent": visit.user_agent,
        "accept_language": visit.accept_language,
        "headers": visit.headers,
        "page_url": payload.page_url,
        "referrer": payload.referrer,
        "signals": msgspec.to_builtins(payload.signals) if payload.signals else None,
        "behaviour": msgspec.to_builtins(payload.behaviour),
    }
    try:
        return msgspec.convert(fields, SessionCreate)
    except msgspec.ValidationError as error:
        raise ingest.IngestError(
            "invalid_header", f"a request header is unusable: {error}", field="headers"
        ) from None


def grow_behaviour(session: Session, reported: BehaviourInput) -> None:
    """Each counter keeps the larger of what is stored and what is reported."""
    for name in BehaviourInput.__struct_fields__:
        current = getattr(session.behaviour, name)
        setattr(session.behaviour, name, max(current, getattr(reported, name)))


async def open_collected(
    store: Store,
    pipeline: Pipeline,
    site: Site,
    payload: CollectInput,
    visit: Visit,
    lifetime_days: int,
) -> Session:
    create = creation(payload, visit)
    session, _ = await ingest.open_session(store, pipeline, create, site, lifetime_days)
    return session


async def refresh_collected(
    store: Store, pipeline: Pipeline, site: Site, payload: CollectInput, visit: Visit
) -> Session | None:
    """Apply a later report to its session; None when the site has no such session."""
    assert payload.session_id is not None
    ip = ingest.normalise_ip(visit.ip)

    async def refresh(session: Session) -> None:
        if session.status != "active":
            raise ingest.IngestError(
                "session_inactive", f"session is {session.status}; start a new one", 409
            )
        grow_behaviour(session, payload.behaviour)
        if payload.signals is not None:
            # a copy: the pipeline strips the device token, and a retry needs it again
            session.signals = msgspec.structs.replace(payload.signals)
        if payload.page_url is not None:
            session.page_url = payload.page_url
        session.ip = ip
        session.last_seen_at = ms_to_rfc3339(now_ms())
        await pipeline.process(session)

    session_id = canonical_uuid(payload.session_id)
    return await ingest.update_session(store, site.tenant, session_id, (site.slug,), refresh)


def answer(session: Session) -> CollectAnswer:
    return CollectAnswer(session_id=session.id, device_id=session.device_id)
