"""Mobile Next: `GET /api/v1/sessions` (newest first, `before` cursor) and
`GET /api/v1/sessions/{sessionId}`.

The organization is a site: `X-Organization-Id` (site slug, site UUID or `tenant|site`),
else the key's own site, else the tenant's default site. A site the key cannot see
answers 403. Keys: `Authorization: Bearer` or `x-api-key`.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Mapping
from typing import Any, Literal

import msgspec
from msgspec import UNSET, Struct, UnsetType
from starlette.datastructures import QueryParams

from sessionscope.auth.keys import Principal
from sessionscope.clock import now_ms
from sessionscope.dialects import timestamp_cursor
from sessionscope.dialects.shared import (
    AtOnceHandler,
    CompatRequest,
    CompatRouter,
    Handler,
    cached_stored,
    find_stored,
    not_found,
    read_at_once,
    secret_principal,
    uuid_text,
)
from sessionscope.http.errors import ApiError
from sessionscope.http.openapi import Operation, Parameter
from sessionscope.http.state import AppState
from sessionscope.model import Device, Session
from sessionscope.store.base import SessionQuery, StoredSession

PREFIX = "/compat/mobilenext"
LIST_PATH = PREFIX + "/api/v1/sessions"
SESSION_PATH = PREFIX + "/api/v1/sessions/{sessionId}"
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
ORGANIZATION_HEADER = "x-organization-id"
MAX_CACHED_TENANTS = 10_000
# Fixed forever: the users' UUIDs are derived from it.
USER_NAMESPACE = uuid.UUID("8f0c6d3e-56b1-4c8e-9a57-3c1d2b7e4f10")


# ---- the view ---------------------------------------------------------------------------


class MobileNextDevice(Struct, kw_only=True):
    """Strings Sessionscope does not know are empty: the fields are required and not nullable."""

    id: str
    platform: str
    type: Literal["real", "emulator"]
    name: str
    os_version: str = msgspec.field(name="osVersion")


class MobileNextSession(Struct, kw_only=True):
    id: str
    organization: str
    user: str
    device: MobileNextDevice
    created_at: str = msgspec.field(name="createdAt")
    released_at: str | None = msgspec.field(name="releasedAt")


class MobileNextSessionList(Struct, kw_only=True):
    object: Literal["list"] = "list"
    data: list[MobileNextSession]
    next_cursor: str | UnsetType = msgspec.field(default=UNSET, name="nextCursor")


class MobileNextErrorDetail(Struct):
    code: str
    message: str


class MobileNextError(Struct):
    error: MobileNextErrorDetail


# ---- rendering --------------------------------------------------------------------------


class _User(Struct):
    id: str


class MobileNextSource(Struct, kw_only=True):
    """The fields of the native session this view reads; the rest of the document is skipped."""

    id: str
    tenant: str
    site_uuid: str
    created_at: str
    released_at: str | None = None
    user: _User | None = None
    device_id: str | None = None
    device: Device = msgspec.field(default_factory=Device)


Source = Session | MobileNextSource
_source = msgspec.json.Decoder(MobileNextSource)
_NAMESPACE_BYTES = USER_NAMESPACE.bytes


def user_uuid(session: Source) -> str:
    """A stable UUIDv5 of the tenant and the user, else the device, else the session."""
    if session.user is not None:
        name = f"{session.tenant}|user|{session.user.id}"
    elif session.device_id is not None:
        name = f"{session.tenant}|device|{session.device_id}"
    else:
        name = f"{session.tenant}|session|{session.id}"
    # uuid.uuid5(USER_NAMESPACE, name), without building UUID objects
    return uuid_text(hashlib.sha1(_NAMESPACE_BYTES + name.encode()).digest(), 5)


def device(session: Source) -> MobileNextDevice:
    machine = session.device
    return MobileNextDevice(
        id=session.device_id or "",
        platform=machine.platform or "",
        type="emulator" if machine.emulated else "real",
        name=machine.name or "",
        os_version=machine.os_version or "",
    )


def render(session: Source) -> MobileNextSession:
    return MobileNextSession(
        id=session.id,
        organization=session.site_uuid,
        user=user_uuid(session),
        device=device(session),
        created_at=session.created_at,
        released_at=session.released_at,
    )


# ---- routes -----------------------------------------------------------------------------

_encoder = msgspec.json.Encoder()
_ORGANIZATION = Parameter(
    "X-Organization-Id",
    "header",
    {"type": "string"},
    "the site: its slug, its UUID or `tenant|site` (default: the key's site, else the"
    " tenant's default site)",
)
_COMMON_ERRORS: dict[int, tuple[str, Any]] = {
    401: ("missing or unknown key", MobileNextError),
    403: ("the key cannot see this organization (site), or lacks the read scope", MobileNextError),
    429: ("too many requests for this key; see Retry-After", MobileNextError),
}
OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "get",
        LIST_PATH,
        "Mobile Next: list sessions, newest first",
        "compat: mobilenext",
        {
            200: ("a page of sessions", MobileNextSessionList),
            400: ("limit or before is invalid", MobileNextError),
            **_COMMON_ERRORS,
        },
        parameters=(
            Parameter(
                "limit",
                "query",
                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
                "maximum sessions to return",
            ),
            Parameter(
                "before",
                "query",
                {"type": "string", "format": "date-time"},
                "sessions created strictly before this RFC 3339 timestamp (nextCursor)",
            ),
            _ORGANIZATION,
        ),
        security=("mobilenextBearer", "mobilenextApiKey"),
    ),
    Operation(
        "get",
        SESSION_PATH,
        "Mobile Next: get a session",
        "compat: mobilenext",
        {
            200: ("the session", MobileNextSession),
            404: ("no such session in this organization", MobileNextError),
            **_COMMON_ERRORS,
        },
        parameters=(
            Parameter("sessionId", "path", {"type": "string", "format": "uuid"}, "session id"),
            _ORGANIZATION,
        ),
        security=("mobilenextBearer", "mobilenextApiKey"),
    ),
)
SECURITY: dict[str, Any] = {
    "mobilenextBearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "a Sessionscope secret key with the read scope",
    },
    "mobilenextApiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
}


def envelope(error: ApiError) -> bytes:
    return _encoder.encode(MobileNextError(MobileNextErrorDetail(error.code, error.message)))


def session_body(stored: StoredSession) -> bytes:
    return _encoder.encode(render(_source.decode(stored.doc)))


def requested_organization(headers: Mapping[str, str]) -> str | None:
    """`X-Organization-Id` when it names something (a blank one selects the default)."""
    return headers.get(ORGANIZATION_HEADER, "").strip() or None


def forbidden_site(value: str) -> ApiError:
    return ApiError(403, "forbidden", f"this key cannot act on organization {value!r}")


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApiError(400, "invalid_parameter", f"limit must be an integer from 1 to {MAX_LIMIT}")
    return int(raw)


class MobileNextApi(CompatRouter):
    prefix = PREFIX
    operations: tuple[Operation, ...] = OPERATIONS
    security: dict[str, Any] = SECURITY

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.defaults: dict[str, tuple[float, str]] = {}

    def direct_routes(self) -> list[tuple[str, Handler]]:
        return [(LIST_PATH, self.list), (SESSION_PATH, self.get)]

    def at_once_handlers(self) -> dict[str, AtOnceHandler]:
        return {SESSION_PATH: self.get_at_once}

    def envelope(self, error: ApiError) -> bytes:
        return envelope(error)

    async def get(self, request: CompatRequest) -> bytes:
        principal = await secret_principal(
            self.state, request.headers, bearer=True, forbidden_status=403
        )
        site = await self.organization(principal, requested_organization(request.headers))
        stored = await find_stored(
            self.state, principal.tenant, request.params["sessionId"], (site,)
        )
        if stored is None:
            raise not_found("no such session in this organization")
        return session_body(stored)

    def get_at_once(self, request: CompatRequest) -> bytes | None:
        """Only for the organization chosen without a header: a requested one needs the
        tenant's sites from the store."""
        if requested_organization(request.headers) is not None:
            return None
        raw_id = request.params["sessionId"]
        return read_at_once(
            self.state,
            request.headers,
            bearer=True,
            find=lambda caller: self.cached_in_own_site(caller, raw_id),
            answer=lambda _, stored: session_body(stored),
        )

    def cached_in_own_site(self, principal: Principal, raw_id: str) -> StoredSession | None:
        """The cached session of the key's site, else of the default site if that is cached."""
        site = principal.site
        if site is None:
            site = self.cached_default_site(principal.tenant)
        return cached_stored(self.state, principal.tenant, raw_id, (site,)) if site else None

    async def list(self, request: CompatRequest) -> bytes:
        principal = await secret_principal(
            self.state, request.headers, bearer=True, forbidden_status=403
        )
        params = QueryParams(request.query_string)
        limit = parse_limit(params.get("limit"))
        before = None
        if params.get("before"):
            try:
                before = timestamp_cursor.decode(params["before"])
            except ValueError:
                raise ApiError(
                    400, "invalid_parameter", "before must be an RFC 3339 timestamp"
                ) from None
        site = await self.organization(principal, requested_organization(request.headers))
        query = SessionQuery(tenant=principal.tenant, sites=(site,))
        rows = await self.state.store.list_sessions(query, before, limit + 1, now_ms())
        answer = MobileNextSessionList(
            data=[render(_source.decode(row.doc)) for row in rows[:limit]]
        )
        if len(rows) > limit:
            last = rows[limit - 1]
            answer.next_cursor = timestamp_cursor.encode(last.created_ms, last.id)
        return _encoder.encode(answer)

    async def organization(self, principal: Principal, requested: str | None) -> str:
        """The slug of the site the request acts on; 403 for one the key cannot see."""
        if requested is not None:
            return await self.requested_site(principal, requested)
        if principal.site is not None:
            return principal.site
        return await self.default_site(principal.tenant)

    async def requested_site(self, principal: Principal, value: str) -> str:
        """`X-Organization-Id`: a site slug, a site UUID or `tenant|site`."""
        tenant, bar, slug = value.partition("|")
        if bar and tenant != principal.tenant:
            raise forbidden_site(value)
        names = {slug} if bar else {value, value.lower()}
        candidates = await self.state.store.list_sites(principal.tenant)
        site = next((s for s in candidates if names & {s.slug, s.uuid}), None)
        if site is None or principal.site not in (None, site.slug):
            raise forbidden_site(value)
        return site.slug

    async def default_site(self, tenant: str) -> str:
        """The tenant's default site, remembered as briefly as verified keys are."""
        cached = self.cached_default_site(tenant)
        if cached is not None:
            return cached
        moment = time.monotonic()
        site = await self.state.store.get_default_site(tenant)
        if site is None:
            raise forbidden_site("default")
        ttl = self.state.settings.key_cache_seconds
        if ttl > 0:
            if len(self.defaults) >= MAX_CACHED_TENANTS:
                self.defaults.clear()
            self.defaults[tenant] = (moment + ttl, site.slug)
        return site.slug

    def cached_default_site(self, tenant: str) -> str | None:
        """The tenant's default site if it is remembered and still fresh, else None."""
        cached = self.defaults.get(tenant)
        return cached[1] if cached is not None and cached[0] > time.monotonic() else None
