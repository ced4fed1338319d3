"""Zephr Admin API: `GET /v4/sessions/{site}/{sessionId}` and `GET /v3/sessions/{id}`.

Signed with ZephrHmacHttp (auth/zephr_hmac.py); each nonce is accepted once within the
clock-skew window (auth/nonces.py). Dates look like Zephr's own example,
"2024-02-08 14:29 PM UTC": a 24-hour clock followed by the AM/PM of that hour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from msgspec import UNSET, Struct, UnsetType
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sessionscope import ingest
from sessionscope.auth.keys import Principal, principal_of
from sessionscope.auth.nonces import nonce_memory
from sessionscope.auth.secretbox import SecretBox
from sessionscope.auth.zephr_hmac import (
    MAX_SKEW_MS,
    HmacCredentials,
    parse_authorization,
    verify,
    within_skew,
)
from sessionscope.clock import ms_to_rfc3339, now_ms, rfc3339_to_ms
from sessionscope.dialects.shared import admit, error_json, find_session, known, unauthorized
from sessionscope.dialects.shared import not_found as session_not_found
from sessionscope.dialects.shared import visible_sites as key_sites
from sessionscope.http.body import raw_json
from sessionscope.http.errors import ApiError
from sessionscope.http.openapi import Operation, Parameter
from sessionscope.http.state import AppState
from sessionscope.model import ApiKey, Session, SessionState
from sessionscope.store.base import SessionQuery

PREFIX = "/compat/zephr"
NOT_FOUND = "No session found. The site or the session ID is invalid."
MAX_USER_SESSIONS = 100
MAX_OPEN_SECRETS = 1000

# Native device category -> Zephr's device vocabulary.
DEVICES: Mapping[str, str] = {
    "desktop": "pc",
    "mobile": "mobile",
    "tablet": "tablet",
    "smarttv": "tv",
    "console": "console",
    "wearable": "wearable",
    "embedded": "embedded",
    "other": "other",
}
# Native platform -> Zephr's operating-system names; platforms not listed keep their name.
OPERATING_SYSTEMS: Mapping[str, str] = {
    "macOS": "Mac OSX",
    "ChromeOS": "Chrome OS",
    "Windows Phone": "Windows Phone",
}


# ---- the view ---------------------------------------------------------------------------


class ZephrDeliveredEntitlement(Struct, kw_only=True):
    id: str
    direct: bool
    metered_by: list[str] = msgspec.field(name="meteredBy")
    credited_by: list[str] = msgspec.field(name="creditedBy")


class ZephrAccessModel(Struct, kw_only=True):
    """Meters look like {refreshTime, meterSize, remainingCredits, contentIds,
    contentIdTransform}; credits like {remainingCredits, contentIds, contentIdTransform}."""

    meters: dict[str, Any]
    credits: dict[str, Any]
    delivered_entitlements: list[ZephrDeliveredEntitlement]
    granted_bundles: list[str]
    jwt_bundles: list[str]
    user_state: str | UnsetType = UNSET


class ZephrSessionEntry(Struct, kw_only=True):
    supplied: bool
    expiry_date: str | UnsetType = msgspec.field(default=UNSET, name="expiryDate")
    start_date: str = msgspec.field(name="startDate")
    state: SessionState
    device: str | UnsetType = UNSET
    browser: str | UnsetType = UNSET
    os: str | UnsetType = UNSET
    city: str | UnsetType = UNSET
    geo_state: str | UnsetType = msgspec.field(default=UNSET, name="geoState")
    device_name: str | UnsetType = msgspec.field(default=UNSET, name="deviceName")
    country: str | UnsetType = UNSET
    session_id: str


class ZephrSession(Struct, kw_only=True):
    tenant_id: str = msgspec.field(name="tenantId")
    sub_tenant_id: str = msgspec.field(name="subTenantId")
    authenticated: bool
    v: int
    session_variables: dict[str, Any]
    user_id: str | UnsetType = UNSET
    sessions: list[ZephrSessionEntry]
    access_model: ZephrAccessModel
    last_updated: int
    test_groups: dict[str, Any]
    second_party_data: dict[str, Any]


class ZephrError(Struct):
    message: str


# ---- rendering --------------------------------------------------------------------------


def zephr_date(text: str) -> str:
    """RFC 3339 -> "2024-02-08 14:29 PM UTC"."""
    if len(text) != len("2024-02-08T14:29:05.123Z") or text[-1] != "Z":
        text = ms_to_rfc3339(rfc3339_to_ms(text))  # our stamps already have this UTC form
    hour = text[11:13]
    return f"{text[:10]} {hour}:{text[14:16]} {'AM' if hour < '12' else 'PM'} UTC"


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def camel_keys(entries: Mapping[str, Any]) -> dict[str, Any]:
    """Each meter or credit with its snake_case field names in Zephr's camelCase."""
    return {
        entry_id: {camel(k): v for k, v in value.items()} if isinstance(value, Mapping) else value
        for entry_id, value in entries.items()
    }


def operating_system(platform: str | None) -> str | None:
    return OPERATING_SYSTEMS.get(platform, platform) if platform is not None else None


def session_entry(session: Session, supplied: bool) -> ZephrSessionEntry:
    ended = session.released_at if session.status == "released" else session.expires_at
    category = session.device.category
    return ZephrSessionEntry(
        supplied=supplied,
        expiry_date=known(zephr_date(ended) if ended else None),
        start_date=zephr_date(session.created_at),
        state=session.state,
        device=known(DEVICES.get(category) if category else None),
        browser=known(session.browser.type),
        os=known(operating_system(session.device.platform)),
        city=known(session.location.city),
        geo_state=known(session.location.state),
        device_name=known(session.device.name),
        country=known(session.location.country_code),
        session_id=session.id,
    )


def access_model(session: Session) -> ZephrAccessModel:
    access = msgspec.to_builtins(session.access)
    return ZephrAccessModel(
        meters=camel_keys(access.get("meters") or {}),
        credits=camel_keys(access.get("credits") or {}),
        delivered_entitlements=[
            ZephrDeliveredEntitlement(
                id=item.id,
                direct=item.direct,
                metered_by=list(item.metered_by),
                credited_by=list(item.credited_by),
            )
            for item in session.access.delivered_entitlements
        ],
        granted_bundles=list(session.access.granted_bundles),
        jwt_bundles=list(session.access.jwt_bundles),
        user_state=known(session.access.user_state),
    )


def render(session: Session, user_sessions: Sequence[Session]) -> ZephrSession:
    """The requested session first (`supplied`), then the user's other active sessions."""
    others = [other for other in user_sessions if other.id != session.id]
    return ZephrSession(
        tenant_id=session.tenant,
        sub_tenant_id=f"{session.tenant}|{session.site}",
        authenticated=session.state == "authenticated",
        v=session.version,
        session_variables=session.session_variables,
        user_id=known(session.user.id if session.user else None),
        sessions=[session_entry(session, True)] + [session_entry(s, False) for s in others],
        access_model=access_model(session),
        last_updated=rfc3339_to_ms(session.updated_at),
        test_groups=session.test_groups,
        second_party_data=session.second_party_data,
    )


# ---- routes -----------------------------------------------------------------------------

_encoder = msgspec.json.Encoder()
_ERRORS: dict[int, tuple[str, Any]] = {
    401: ("missing, malformed, stale, replayed or wrong signature", ZephrError),
    404: (NOT_FOUND, ZephrError),
    429: ("too many requests for this key; see Retry-After", ZephrError),
}
_SESSION_ID = Parameter("sessionId", "path", {"type": "string"}, "session id", True)
OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "get",
        PREFIX + "/v4/sessions/{site}/{sessionId}",
        "Zephr v4: look up a session under a given site",
        "compat: zephr",
        {200: ("the session", ZephrSession), **_ERRORS},
        parameters=(
            Parameter("site", "path", {"type": "string"}, "site slug within the tenant", True),
            _SESSION_ID,
        ),
        security=("zephrHmac",),
    ),
    Operation(
        "get",
        PREFIX + "/v3/sessions/{id}",
        "Zephr v3: retrieve a session",
        "compat: zephr",
        {200: ("the session", ZephrSession), **_ERRORS},
        parameters=(Parameter("id", "path", {"type": "string"}, "session id", True),),
        security=("zephrHmac",),
    ),
)
SECURITY: dict[str, Any] = {
    "zephrHmac": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`ZEPHR-HMAC-SHA256 {accessKey}:{timestamp}:{nonce}:{hash}`: hash is the"
        " lowercase hex SHA-256 of secretKey + body + path + query + METHOD + timestamp + nonce"
        " (`sessionscope sign` prints one)",
    }
}


def envelope(error: ApiError) -> bytes:
    message = NOT_FOUND if error.code == "session_not_found" else error.message
    return _encoder.encode(ZephrError(message))


class ZephrApi:
    prefix = PREFIX
    operations: tuple[Operation, ...] = OPERATIONS
    security: dict[str, Any] = SECURITY

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.nonces = nonce_memory(state.store, state.redis, state.settings.redis_prefix)
        self.secrets: dict[str, str] = {}

    def routes(self) -> list[BaseRoute]:
        return [
            Route(PREFIX + "/v4/sessions/{site}/{sessionId}", self.by_site, methods=["GET"]),
            Route(PREFIX + "/v3/sessions/{id}", self.by_id, methods=["GET"]),
        ]

    def error_response(self, error: ApiError) -> Response:
        return error_json(envelope(error), error)

    async def by_site(self, request: Request) -> Response:
        principal = await self.signed_principal(request)
        site = request.path_params["site"]
        if principal.site not in (None, site):
            raise session_not_found(NOT_FOUND)
        found = await find_session(
            self.state, principal.tenant, request.path_params["sessionId"], (site,)
        )
        return await self.answer(found)

    async def by_id(self, request: Request) -> Response:
        principal = await self.signed_principal(request)
        found = await find_session(
            self.state, principal.tenant, request.path_params["id"], key_sites(principal)
        )
        return await self.answer(found)

    async def answer(self, session: Session | None) -> Response:
        if session is None:
            raise session_not_found(NOT_FOUND)
        return raw_json(_encoder.encode(render(session, await self.user_sessions(session))))

    async def user_sessions(self, session: Session) -> list[Session]:
        """The user's active sessions on the session's site (none for an anonymous visitor)."""
        if session.user is None:
            return []
        moment = now_ms()
        query = SessionQuery(
            tenant=session.tenant, sites=(session.site,), user_id=session.user.id, status="active"
        )
        rows = await self.state.store.list_sessions(query, None, MAX_USER_SESSIONS, moment)
        return [ingest.current_session(row, moment) for row in rows]

    async def signed_principal(self, request: Request) -> Principal:
        """The key pair that signed this request; each check failing is a 401."""
        credentials = fresh_credentials(request.headers.get("authorization"), now_ms())
        key = await self.key_pair(credentials.access_key)
        secret = self.secret_of(key.secret_ciphertext or "", self.state.box)
        query = request.scope.get("query_string", b"").decode("latin-1")
        if not verify(credentials, secret, request.method, signed_paths(request), query):
            raise unauthorized("the signature does not match the request")
        expires_ms = credentials.timestamp_ms + MAX_SKEW_MS
        if not await self.nonces.first_use(key.id, credentials.nonce, expires_ms, now_ms()):
            raise unauthorized("the nonce has been used before")
        principal = principal_of(key)
        await admit(self.state, principal, forbidden_status=401)
        return principal

    async def key_pair(self, access_key: str) -> ApiKey:
        key = await self.state.verifier.verify(access_key)
        if key is None or key.kind != "hmac" or not key.secret_ciphertext:
            raise unauthorized("the access key is unknown or revoked")
        return key

    def secret_of(self, ciphertext: str, box: SecretBox | None) -> str:
        """The key pair's secret, opened once per process rather than on every request."""
        secret = self.secrets.get(ciphertext)
        if secret is None:
            if box is None:
                raise ApiError(500, "internal_error", "no master key to open key pair secrets")
            if len(self.secrets) >= MAX_OPEN_SECRETS:
                self.secrets.clear()
            secret = self.secrets[ciphertext] = box.open(ciphertext)
        return secret


def fresh_credentials(header: str | None, moment_ms: int) -> HmacCredentials:
    credentials = parse_authorization(header)
    if credentials is None:
        raise unauthorized("send Authorization: ZEPHR-HMAC-SHA256 accessKey:timestamp:nonce:hash")
    if not within_skew(credentials.timestamp_ms, moment_ms):
        raise unauthorized("the timestamp is more than 5 minutes away from the server's clock")
    return credentials


def signed_paths(request: Request) -> list[str]:
    """The path as sent, and without our prefix (a client may sign Zephr's own path)."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1").partition("?")[0] if raw else request.url.path
    return [path, path.removeprefix(PREFIX)] if path.startswith(PREFIX + "/") else [path]
