"""Session use-cases: open, change, release. Orchestrates; owns no enrichment rules."""

from __future__ import annotations

import inspect
import ipaddress
from collections.abc import Awaitable, Callable

import msgspec

from sessionscope.clock import ms_to_rfc3339, now_ms, rfc3339_to_ms
from sessionscope.enrich.iplists import compressed_ipv6, is_dotted_ipv4
from sessionscope.ids import canonical_uuid, uuid7
from sessionscope.model import (
    Behaviour,
    Browser,
    BrowserSignals,
    Session,
    SessionCreate,
    SessionPatch,
    SessionState,
    Site,
    User,
)
from sessionscope.pipeline import Pipeline
from sessionscope.session_setup import prepare_new
from sessionscope.store.base import Conflict, Store, StoredSession

DAY_MS = 86_400_000
_MAX_UPDATE_ATTEMPTS = 5
_decoder = msgspec.json.Decoder(Session)
_encoder = msgspec.json.Encoder()


class IngestError(Exception):
    """A request the use-case refuses; `code` is stable, `field` names the culprit."""

    def __init__(self, code: str, message: str, status: int = 400, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.field = field


def normalise_ip(text: str, field: str = "ip") -> str:
    candidate = text.strip()
    if is_dotted_ipv4(candidate):
        return candidate  # already as ipaddress would write it
    compressed = compressed_ipv6(candidate)
    if compressed is not None:
        return compressed
    try:
        return ipaddress.ip_address(candidate).compressed
    except ValueError:
        raise IngestError(
            "invalid_ip", f"{field} {text!r} is not an IP address", field=field
        ) from None


def check_state(state: SessionState, user: User | None) -> None:
    if state == "anonymous" and user is not None:
        raise IngestError("invalid_state", "an anonymous session has no user", field="state")
    if state != "anonymous" and user is None:
        raise IngestError("invalid_state", f"state {state!r} needs a user", field="user")


def new_session(payload: SessionCreate, site: Site, lifetime_days: int, at_ms: int) -> Session:
    """The session document a create request describes, before enrichment."""
    state: SessionState = payload.state or ("authenticated" if payload.user else "anonymous")
    check_state(state, payload.user)
    stamp = ms_to_rfc3339(at_ms)
    behaviour = (
        msgspec.convert(msgspec.to_builtins(payload.behaviour), Behaviour)
        if payload.behaviour
        else Behaviour()
    )
    return Session(
        id=canonical_uuid(payload.id) if payload.id else uuid7(at_ms),
        tenant=site.tenant,
        site=site.slug,
        site_uuid=site.uuid,
        version=1,
        created_at=stamp,
        updated_at=stamp,
        last_seen_at=stamp,
        expires_at=ms_to_rfc3339(at_ms + lifetime_days * DAY_MS),
        state=state,
        status="active",
        user=payload.user,
        account_ids=list(dict.fromkeys(payload.account_ids)),
        ip=normalise_ip(payload.ip),
        user_agent=payload.user_agent,
        page_url=payload.page_url,
        referrer=payload.referrer,
        accept_language=payload.accept_language,
        headers={name.lower(): value for name, value in (payload.headers or {}).items()},
        browser=Browser(user_agent=payload.user_agent),
        behaviour=behaviour,
        signals=payload.signals or BrowserSignals(),
        session_variables=payload.session_variables,
        test_groups=payload.test_groups,
        second_party_data=payload.second_party_data,
        metadata=payload.metadata,
    )


async def open_session(
    store: Store, pipeline: Pipeline, payload: SessionCreate, site: Site, lifetime_days: int
) -> tuple[Session, bytes]:
    """Build, judge and store a new session: the session and its stored JSON document."""
    lifetime = site.settings.session_lifetime_days or lifetime_days
    session = new_session(payload, site, lifetime, now_ms())
    await pipeline.process(session)
    await prepare_new(store, session, site, lifetime_days)
    try:
        doc = await store.insert_session(session)
    except Conflict:
        raise IngestError(
            "session_exists", f"session {session.id} exists already", 409, field="id"
        ) from None
    return session, doc


def expired_since_stored(status: str, expires_ms: int | None, at_ms: int) -> bool:
    """Whether time has expired an active session since it was written (nothing rewrites a
    row when its time runs out: the status is read this way)."""
    return status == "active" and expires_ms is not None and expires_ms <= at_ms


def current_view(stored: StoredSession, at_ms: int) -> bytes:
    """The stored bytes, unless time has expired the session since it was written."""
    if not expired_since_stored(stored.status, stored.expires_ms, at_ms):
        return stored.doc
    session = _decoder.decode(stored.doc)
    session.status = "expired"
    return _encoder.encode(session)


def current_session(stored: StoredSession, at_ms: int) -> Session:
    session = _decoder.decode(stored.doc)
    if expired_since_stored(session.status, stored.expires_ms, at_ms):
        session.status = "expired"
    return session


def apply_patch(session: Session, patch: SessionPatch) -> None:
    if session.status != "active":
        raise IngestError(
            "session_inactive", f"session is {session.status}; it can no longer change", 409
        )
    if not isinstance(patch.user, msgspec.UnsetType):
        session.user = patch.user
    if not isinstance(patch.state, msgspec.UnsetType):
        session.state = patch.state
    elif not isinstance(patch.user, msgspec.UnsetType):
        session.state = "authenticated" if patch.user else "anonymous"
    check_state(session.state, session.user)
    if not isinstance(patch.account_ids, msgspec.UnsetType):
        session.account_ids = list(dict.fromkeys(patch.account_ids))
    for name in ("session_variables", "test_groups", "second_party_data", "metadata"):
        value = getattr(patch, name)
        if not isinstance(value, msgspec.UnsetType):
            setattr(session, name, value)


async def apply_patch_judged(session: Session, patch: SessionPatch, pipeline: Pipeline) -> None:
    """`apply_patch`; who is behind a session is evidence, so a change of it re-judges."""
    identity = (session.user, session.account_ids)
    apply_patch(session, patch)
    if (session.user, session.account_ids) != identity:
        await pipeline.process(session)


def mark_released(session: Session) -> None:
    if session.status == "revoked":
        raise IngestError("session_revoked", "a revoked session cannot be released", 409)
    if session.status != "released":
        session.status = "released"
        session.released_at = ms_to_rfc3339(now_ms())


async def update_session(
    store: Store,
    tenant: str,
    session_id: str,
    sites: tuple[str, ...] | None,
    change: Callable[[Session], Awaitable[None] | None],
) -> Session | None:
    """Read, change and write back under optimistic concurrency; None if not found.

    A change that leaves the document as it was writes nothing and keeps the version.
    `change` may be a coroutine function (e.g. one that re-runs the pipeline).
    """
    for _ in range(_MAX_UPDATE_ATTEMPTS):
        stored = await store.get_session(tenant, session_id, sites)
        if stored is None:
            return None
        at_ms = now_ms()
        session = current_session(stored, at_ms)
        before = _encoder.encode(session)
        outcome = change(session)
        if inspect.isawaitable(outcome):
            await outcome
        if _encoder.encode(session) == before:
            return session
        expected = session.version
        session.version += 1
        session.updated_at = ms_to_rfc3339(max(at_ms, rfc3339_to_ms(session.updated_at)))
        if await store.replace_session(session, expected):
            return session
    raise IngestError("write_conflict", "the session kept changing; try again", 409)
