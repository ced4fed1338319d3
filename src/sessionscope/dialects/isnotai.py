"""Not AI (isnotai): `GET /v1/sessions/{sessionId}` answering `{"data": {...}}`.

Keys: `Authorization: Bearer` or `x-api-key`. A key bound to one site (integration) that
asks for a session of another site of its tenant gets 403, as isnotai answers for a
session of another integration; another tenant's session is simply not found.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from msgspec import UNSET, Struct, UnsetType

from sessionscope.clock import now_ms
from sessionscope.dialects.shared import (
    AtOnceHandler,
    CompatRequest,
    CompatRouter,
    Handler,
    cached_stored,
    current_status,
    find_stored,
    known,
    not_found,
    read_at_once,
    secret_principal,
)
from sessionscope.http.errors import ApiError
from sessionscope.http.openapi import Operation, Parameter
from sessionscope.http.state import AppState
from sessionscope.model import Bot, Browser, Device, Session, SessionStatus, User
from sessionscope.store.base import StoredSession

PREFIX = "/compat/isnotai"
SESSION_PATH = PREFIX + "/v1/sessions/{sessionId}"
# Our error codes in isnotai's upper-case vocabulary; others are upper-cased as they are.
ERROR_CODES = {
    "unauthorized": "INVALID_API_KEY",
    "forbidden": "FORBIDDEN",
    "session_not_found": "SESSION_NOT_FOUND",
    "rate_limited": "RATE_LIMITED",
}


# ---- the view ---------------------------------------------------------------------------


class IsnotaiSession(Struct, kw_only=True):
    id: str
    created_at: str = msgspec.field(name="createdAt")
    updated_at: str = msgspec.field(name="updatedAt")
    status: Literal["active", "closed"]
    bot_score: float | UnsetType = msgspec.field(default=UNSET, name="botScore")
    detection_flags: list[str] = msgspec.field(name="detectionFlags")
    page_url: str | UnsetType = msgspec.field(default=UNSET, name="pageUrl")
    user_agent_summary: str | UnsetType = msgspec.field(default=UNSET, name="userAgentSummary")
    user_id: str | UnsetType = msgspec.field(default=UNSET, name="userId")
    user_name: str | UnsetType = msgspec.field(default=UNSET, name="userName")
    user_url: str | UnsetType = msgspec.field(default=UNSET, name="userUrl")


class IsnotaiSessionResponse(Struct):
    data: IsnotaiSession


class IsnotaiErrorDetail(Struct):
    code: str
    message: str
    details: dict[str, Any]


class IsnotaiError(Struct):
    error: IsnotaiErrorDetail


# ---- rendering --------------------------------------------------------------------------


class IsnotaiSource(Struct, kw_only=True):
    """The fields of the native session this view reads; the rest of the document is skipped.
    Fields are in the document's order, which msgspec matches fastest."""

    id: str
    site: str
    created_at: str
    updated_at: str
    status: SessionStatus
    user: User | None = None
    page_url: str | None = None
    device: Device = msgspec.field(default_factory=Device)
    browser: Browser = msgspec.field(default_factory=Browser)
    bot: Bot = msgspec.field(default_factory=Bot)


_source = msgspec.json.Decoder(IsnotaiSource)


def user_agent_summary(session: Session | IsnotaiSource) -> str | None:
    """ "Chrome 137 on macOS": browser, its major version, the platform, as far as known."""
    name = session.browser.type
    if name is None:
        return None
    major = (session.browser.version or "").split(".")[0]
    text = f"{name} {major}" if major else name
    platform = session.device.platform
    return f"{text} on {platform}" if platform else text


def render(session: Session | IsnotaiSource) -> IsnotaiSessionResponse:
    user = session.user
    return IsnotaiSessionResponse(
        IsnotaiSession(
            id=session.id,
            created_at=session.created_at,
            updated_at=session.updated_at,
            status="active" if session.status == "active" else "closed",
            bot_score=known(session.bot.score),
            detection_flags=session.bot.flags,
            page_url=known(session.page_url),
            user_agent_summary=known(user_agent_summary(session)),
            user_id=known(user.id if user else None),
            user_name=known(user.name if user else None),
            user_url=known(user.url if user else None),
        )
    )


# ---- routes -----------------------------------------------------------------------------

_encoder = msgspec.json.Encoder()
OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "get",
        SESSION_PATH,
        "isnotai: get a single tracking session by id",
        "compat: isnotai",
        {
            200: ("the session", IsnotaiSessionResponse),
            401: ("INVALID_API_KEY", IsnotaiError),
            403: ("the session belongs to another integration (site)", IsnotaiError),
            404: ("SESSION_NOT_FOUND", IsnotaiError),
            429: ("RATE_LIMITED; see Retry-After", IsnotaiError),
        },
        parameters=(Parameter("sessionId", "path", {"type": "string"}, "session id", True),),
        security=("isnotaiBearer", "isnotaiApiKey"),
    ),
)
SECURITY: dict[str, Any] = {
    "isnotaiBearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "a Sessionscope secret key with the read scope",
    },
    "isnotaiApiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
}


def envelope(error: ApiError) -> bytes:
    code = ERROR_CODES.get(error.code, error.code.upper())
    return _encoder.encode(IsnotaiError(IsnotaiErrorDetail(code, error.message, error.details)))


def session_body(stored: StoredSession, key_site: str | None) -> bytes:
    """The session as of now; 403 for a key bound to another site of the tenant."""
    session = _source.decode(stored.doc)
    if key_site not in (None, session.site):
        raise ApiError(403, "forbidden", "the session belongs to another integration (site)")
    session.status = current_status(session.status, stored, now_ms())
    return _encoder.encode(render(session))


class IsnotaiApi(CompatRouter):
    prefix = PREFIX
    operations: tuple[Operation, ...] = OPERATIONS
    security: dict[str, Any] = SECURITY

    def __init__(self, state: AppState) -> None:
        self.state = state

    def direct_routes(self) -> list[tuple[str, Handler]]:
        return [(SESSION_PATH, self.get)]

    def at_once_handlers(self) -> dict[str, AtOnceHandler]:
        return {SESSION_PATH: self.get_at_once}

    def envelope(self, error: ApiError) -> bytes:
        return envelope(error)

    async def get(self, request: CompatRequest) -> bytes:
        principal = await secret_principal(
            self.state, request.headers, bearer=True, forbidden_status=403
        )
        raw_id = request.params["sessionId"]
        stored = await find_stored(self.state, principal.tenant, raw_id, None)
        if stored is None:
            raise not_found("no such session")
        return session_body(stored, principal.site)

    def get_at_once(self, request: CompatRequest) -> bytes | None:
        raw_id = request.params["sessionId"]
        return read_at_once(
            self.state,
            request.headers,
            bearer=True,
            find=lambda caller: cached_stored(self.state, caller.tenant, raw_id, None),
            answer=lambda caller, stored: session_body(stored, caller.site),
        )
