"""Zephr Admin API: `GET /v4/sessions/{site}/{sessionId}` and `GET /v3/sessions/{id}`.

Signed with ZephrHmacHttp (auth/zephr_hmac.py); each nonce is accepted once within the
clock-skew window (auth/nonces.py). Dates look like Zephr's own example,
"2024-02-08 14:29 PM UTC": a 24-hour clock followed by the AM/PM of that hour.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec
from msgspec import UNSET, Struct, UnsetType

from sessionscope.auth.keys import Principal
from sessionscope.auth.nonces import nonce_memory
from sessionscope.auth.ratelimit import MemoryRateLimiter
from sessionscope.auth.secretbox import SecretBox
from sessionscope.auth.zephr_hmac import (
    MAX_SKEW_MS,
    HmacCredentials,
    parse_authorization,
    verify,
    within_skew,
)
from sessionscope.clock import ms_to_rfc3339, now_ms, rfc3339_to_ms
from sessionscope.dialects.shared import (
    AtOnceHandler,
    CompatRequest,
    CompatRouter,
    Handler,
    admit,
    cached_stored,
    count_at_once,
    find_stored,
    known,
    unauthorized,
)
from sessionscope.dialects.shared import not_found as session_not_found
from sessionscope.dialects.zephr_views import Owner, ZephrView, ZephrViews
from sessionscope.http.errors import ApiError
from sessionscope.http.guard import visible_sites as key_sites
from sessionscope.http.openapi import Operation, Parameter
from sessionscope.http.state import AppState
from sessionscope.model import (
    Access,
    ApiKey,
    Browser,
    Device,
    Location,
    Session,
    SessionState,
    SessionStatus,
)
from sessionscope.store.base import StoredSession

PREFIX = "/compat/zephr"
BY_SITE_PATH = PREFIX + "/v4/sessions/{site}/{sessionId}"
BY_ID_PATH = PREFIX + "/v3/sessions/{id}"
NOT_FOUND = "No session found. The site or the session ID is invalid."
REPLAYED = "the nonce has been used before"
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


# ---- what is read of the native session ---------------------------------------------------


class ZephrEntrySource(Struct, kw_only=True):
    """What one entry of `sessions` reads; the rest of the document is skipped. Fields are
    in the document's order, which msgspec matches fastest."""

    id: str
    created_at: str
    expires_at: str | None
    released_at: str | None = None
    state: SessionState
    status: SessionStatus
    device: Device = msgspec.field(default_factory=Device)
    browser: Browser = msgspec.field(default_factory=Browser)
    location: Location = msgspec.field(default_factory=Location)


class _User(Struct):
    id: str


class ZephrSource(Struct, kw_only=True):
    """What the whole answer reads of the requested session (in the document's order)."""

    id: str
    tenant: str
    site: str
    version: int
    created_at: str
    updated_at: str
    expires_at: str | None
    released_at: str | None = None
    state: SessionState
    status: SessionStatus
    user: _User | None = None
    device: Device = msgspec.field(default_factory=Device)
    browser: Browser = msgspec.field(default_factory=Browser)
    location: Location = msgspec.field(default_factory=Location)
    access: Access = msgspec.field(default_factory=Access)
    session_variables: dict[str, Any] = {}
    test_groups: dict[str, Any] = {}
    second_party_data: dict[str, Any] = {}


Source = Session | ZephrSource
EntrySource = Source | ZephrEntrySource
_source = msgspec.json.Decoder(ZephrSource)
_entry_source = msgspec.json.Decoder(ZephrEntrySource)


# ---- rendering --------------------------------------------------------------------------


def zephr_date(text: str) -> str:
    """RFC 3339 -> "2024-02-08 14:29 PM UTC"."""
    if len(text) != len("2024-02-08T14:29:05.123Z") or text[-1] != "Z":
        text = ms_to_rfc3339(rfc3339_to_ms(text))  # our stamps already have this UTC form
    hour = text[11:13]
    return f"{text[:10]} {hour}:{text[14:16]} {'AM' if hour < '12' else 'PM'} UTC"


@functools.cache  # the few field names of meters and credits
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


def session_entry(session: EntrySource, supplied: bool) -> ZephrSessionEntry:
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


def access_model(session: Source) -> ZephrAccessModel:
    access = session.access
    return ZephrAccessModel(
        meters=camel_keys(msgspec.to_builtins(access.meters)) if access.meters else {},
        credits=camel_keys(msgspec.to_builtins(access.credits)) if access.credits else {},
        delivered_entitlements=[
            ZephrDeliveredEntitlement(
                id=item.id,
                direct=item.direct,
                metered_by=list(item.metered_by),
                credited_by=list(item.credited_by),
            )
            for item in access.delivered_entitlements
        ],
        granted_bundles=list(access.granted_bundles),
        jwt_bundles=list(access.jwt_bundles),
        user_state=known(access.user_state),
    )


def render(session: Source, user_sessions: Sequence[EntrySource]) -> ZephrSession:
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


class ZephrApi(CompatRouter):
    prefix = PREFIX
    operations: tuple[Operation, ...] = OPERATIONS
    security: dict[str, Any] = SECURITY

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.nonces = nonce_memory(state.store, state.redis, state.settings.redis_prefix)
        self.secrets: dict[str, str] = {}
        self.views = ZephrViews()

    def direct_routes(self) -> list[tuple[str, Handler]]:
        return [(BY_SITE_PATH, self.by_site), (BY_ID_PATH, self.by_id)]

    def at_once_handlers(self) -> dict[str, AtOnceHandler]:
        return {BY_SITE_PATH: self.by_site_at_once, BY_ID_PATH: self.by_id_at_once}

    def envelope(self, error: ApiError) -> bytes:
        return envelope(error)

    async def by_site(self, request: CompatRequest) -> bytes:
        principal = await self.signed_principal(request)
        site = request.params["site"]
        if principal.site not in (None, site):
            raise session_not_found(NOT_FOUND)
        found = await find_stored(
            self.state, principal.tenant, request.params["sessionId"], (site,)
        )
        return await self.answer(found)

    async def by_id(self, request: CompatRequest) -> bytes:
        principal = await self.signed_principal(request)
        found = await find_stored(
            self.state, principal.tenant, request.params["id"], key_sites(principal)
        )
        return await self.answer(found)

    async def answer(self, stored: StoredSession | None) -> bytes:
        if stored is None:
            raise session_not_found(NOT_FOUND)
        session = _source.decode(stored.doc)
        return _encoder.encode(render(session, await self.user_sessions(session)))

    async def user_sessions(self, session: ZephrSource) -> list[ZephrEntrySource]:
        """The user's other active sessions on the session's site (none for an anonymous
        visitor); the requested one, already read, is not decoded again."""
        if session.user is None:
            return []
        rows = await self.state.store.active_user_sessions(
            session.tenant, session.site, session.user.id, MAX_USER_SESSIONS, now_ms()
        )
        return [_entry_source.decode(row.doc) for row in rows if row.id != session.id]

    def by_site_at_once(self, request: CompatRequest) -> bytes | None:
        site = request.params["site"]
        raw_id = request.params["sessionId"]
        return self.read_at_once(
            request,
            lambda caller: (
                cached_stored(self.state, caller.tenant, raw_id, (site,))
                if caller.site in (None, site)
                else None
            ),
        )

    def by_id_at_once(self, request: CompatRequest) -> bytes | None:
        raw_id = request.params["id"]
        return self.read_at_once(
            request,
            lambda caller: cached_stored(self.state, caller.tenant, raw_id, key_sites(caller)),
        )

    def read_at_once(
        self, request: CompatRequest, find: Callable[[Principal], StoredSession | None]
    ) -> bytes | None:
        """A signed GET from this process's caches and the nonce table, without waiting, or
        None to go the whole way. As `read_at_once` of the secret-key dialects: whatever can
        still say None is settled before the nonce is used up and the request counted."""
        limiter = self.state.limiter
        if not isinstance(limiter, MemoryRateLimiter):
            return None
        credentials = fresh_credentials(request.headers.get("authorization"), now_ms())
        pair = self.state.verifier.cached_key_and_principal(credentials.access_key)
        if pair is None or not _may_read_signed(*pair):
            return None
        key, principal = pair
        stored = find(principal)
        body = None if stored is None else self.cached_body(stored)
        if body is None:
            return None
        self.check_signature(credentials, key, request)
        moment = now_ms()
        fresh = self.nonces.first_use_now(
            key.id, credentials.nonce, credentials.timestamp_ms + MAX_SKEW_MS, moment
        )
        if fresh is None:
            return None
        if not fresh:
            raise unauthorized(REPLAYED)
        count_at_once(self.state, limiter, principal)
        return body

    def cached_body(self, stored: StoredSession) -> bytes | None:
        """The answer from this process's memory: the view rendered last, if it lists the same
        other sessions, else one rendered now; None when the caches lack the user's sessions."""
        view = self.views.get(stored)
        if view is not None:
            others = self.cached_others(view.owner, stored.id)
            if others is None:
                return None
            if view.lists(others):
                return view.body
        session = _source.decode(stored.doc)
        owner = (session.tenant, session.site, session.user.id) if session.user else None
        others = self.cached_others(owner, stored.id)
        if others is None:
            return None
        entries = [_entry_source.decode(other.doc) for other in others]
        body = _encoder.encode(render(session, entries))
        self.views.put(stored, ZephrView(owner, tuple(other.doc for other in others), body))
        return body

    def cached_others(self, owner: Owner | None, session_id: str) -> list[StoredSession] | None:
        """The user's other active sessions from this process's caches alone (none for an
        anonymous visitor), or None."""
        if owner is None:
            return []
        tenant, site, user_id = owner
        rows = self.state.store.cached_active_user_sessions(
            tenant, site, user_id, MAX_USER_SESSIONS, now_ms()
        )
        return None if rows is None else [row for row in rows if row.id != session_id]

    async def signed_principal(self, request: CompatRequest) -> Principal:
        """The key pair that signed this request; each check failing is a 401."""
        credentials = fresh_credentials(request.headers.get("authorization"), now_ms())
        key, principal = await self.key_pair(credentials.access_key)
        self.check_signature(credentials, key, request)
        expires_ms = credentials.timestamp_ms + MAX_SKEW_MS
        if not await self.nonces.first_use(key.id, credentials.nonce, expires_ms, now_ms()):
            raise unauthorized(REPLAYED)
        await admit(self.state, principal, forbidden_status=401)
        return principal

    async def key_pair(self, access_key: str) -> tuple[ApiKey, Principal]:
        key, principal = await self.state.verifier.key_and_principal(access_key)
        if key is None or principal is None or key.kind != "hmac" or not key.secret_ciphertext:
            raise unauthorized("the access key is unknown or revoked")
        return key, principal

    def check_signature(
        self, credentials: HmacCredentials, key: ApiKey, request: CompatRequest
    ) -> None:
        secret = self.secret_of(key.secret_ciphertext or "", self.state.box)
        paths = signed_paths(request.path)
        if not verify(credentials, secret, request.method, paths, request.query_string):
            raise unauthorized("the signature does not match the request")

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


def _may_read_signed(key: ApiKey, principal: Principal) -> bool:
    """A key pair the whole way would let through to the nonce, with the read scope."""
    return key.kind == "hmac" and bool(key.secret_ciphertext) and principal.allows("read")


def fresh_credentials(header: str | None, moment_ms: int) -> HmacCredentials:
    credentials = parse_authorization(header)
    if credentials is None:
        raise unauthorized("send Authorization: ZEPHR-HMAC-SHA256 accessKey:timestamp:nonce:hash")
    if not within_skew(credentials.timestamp_ms, moment_ms):
        raise unauthorized("the timestamp is more than 5 minutes away from the server's clock")
    return credentials


def signed_paths(path: str) -> list[str]:
    """The path as sent, and without our prefix (a client may sign Zephr's own path)."""
    return [path, path.removeprefix(PREFIX)] if path.startswith(PREFIX + "/") else [path]
