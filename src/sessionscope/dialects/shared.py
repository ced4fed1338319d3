"""What the compatible APIs share: their requests, keys, rate limits, reading a session, errors.

Each dialect serves its GETs through `CompatRouter`: handlers take a `CompatRequest` and
return the answer's bytes. The gate (gate.py) calls them straight from the ASGI scope; the
Starlette routes the router also lists call the same handlers (HEAD, and the 404/405 of
the app's own routing). A route may also have a synchronous handler that answers from this
process's caches alone (`read_at_once`); the gate tries it first.

Errors are raised as `ApiError` with these codes; each dialect's envelope renders them in
its own vocabulary: `unauthorized` (401), `forbidden` (403), `session_not_found` (404),
`invalid_parameter` (400), `rate_limited` (429), plus the app's own (`route_not_found`,
`method_not_allowed`, `payload_too_large`, `internal_error`, `store_unavailable`).
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from msgspec import UNSET, UnsetType
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Scope

from sessionscope.auth.keys import Principal
from sessionscope.auth.ratelimit import MemoryRateLimiter
from sessionscope.http.body import raw_json
from sessionscope.http.errors import ApiError
from sessionscope.http.openapi import Operation
from sessionscope.http.rsgi import RsgiScope
from sessionscope.http.state import AppState
from sessionscope.ids import canonical_uuid
from sessionscope.ingest import expired_since_stored
from sessionscope.model import SessionStatus
from sessionscope.store.base import StoredSession

T = TypeVar("T")
RATE_WINDOW_SECONDS = 60
JSON = "application/json"
# The only headers a compatible GET reads: decoding just these is all the parsing it needs.
READ_HEADER_NAMES = ("x-api-key", "authorization", "x-organization-id")
READ_HEADERS = tuple(name.encode("latin-1") for name in READ_HEADER_NAMES)


class CompatRequest:
    """A GET of a compatible API, whichever interface brought it: the headers the dialects
    read, the path parameters, the query and the path as the client signed them."""

    __slots__ = ("headers", "method", "params", "path", "query_string")

    def __init__(
        self,
        method: str,
        path: str,
        query_string: str,
        headers: Mapping[str, str],
        params: Mapping[str, str],
    ) -> None:
        self.method = method
        self.path = path  # as sent (percent-encoded where the interface keeps it), no query
        self.query_string = query_string
        self.headers = headers
        self.params = params

    @classmethod
    def from_asgi(cls, scope: Scope, params: Mapping[str, str]) -> CompatRequest:
        raw: bytes | None = scope.get("raw_path")
        path = raw.decode("latin-1").partition("?")[0] if raw else url_path(scope["path"])
        query: bytes = scope.get("query_string", b"")
        return cls(scope["method"], path, query.decode("latin-1"), read_headers(scope), params)

    @classmethod
    def from_rsgi(cls, scope: RsgiScope, params: Mapping[str, str]) -> CompatRequest:
        """RSGI hands over the decoded path only, as ASGI's `path` (no `raw_path`)."""
        headers = {}
        for name in READ_HEADER_NAMES:
            value = scope.headers.get(name)
            if value is not None:
                headers[name] = value
        return cls(scope.method, url_path(scope.path), scope.query_string, headers, params)


def url_path(decoded: str) -> str:
    """A decoded path as a URL carries it: what Starlette's `request.url.path` gives."""
    return decoded.replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")


def read_headers(scope: Scope) -> dict[str, str]:
    """The headers of READ_HEADERS that an ASGI request has; the first of a repeated one."""
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        if name in READ_HEADERS:
            found.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return found


Handler = Callable[[CompatRequest], Awaitable[bytes]]
# The body from this process's caches, or None to go the whole way (`Handler`); may raise ApiError.
AtOnceHandler = Callable[[CompatRequest], bytes | None]


class CompatRouter(abc.ABC):
    """A compatible API: its GET handlers by path, and its error envelope."""

    prefix: str
    operations: tuple[Operation, ...]
    security: dict[str, Any]

    @abc.abstractmethod
    def direct_routes(self) -> list[tuple[str, Handler]]:
        """(path template, handler) of each GET, `{name}` standing for one path segment."""

    def at_once_handlers(self) -> Mapping[str, AtOnceHandler]:
        """The synchronous handlers of the direct routes that have one, by path template."""
        return {}

    @abc.abstractmethod
    def envelope(self, error: ApiError) -> bytes:
        """The error's body in this API's own words."""

    def routes(self) -> list[BaseRoute]:
        return [
            Route(path, starlette_endpoint(handler), methods=["GET"])
            for path, handler in self.direct_routes()
        ]

    def error_response(self, error: ApiError) -> Response:
        return error_json(self.envelope(error), error)


def starlette_endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return raw_json(await handler(CompatRequest.from_asgi(request.scope, request.path_params)))

    return endpoint


def known(value: T | None) -> T | UnsetType:
    """A value Sessionscope knows, or UNSET so that the field is left out of the answer."""
    return UNSET if value is None else value


def error_json(body: bytes, error: ApiError) -> Response:
    """An error answer: the dialect's body, with Retry-After when rate-limited."""
    headers = {"retry-after": str(error.retry_after)} if error.retry_after is not None else None
    return Response(body, error.status, headers, JSON)


def unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "session_not_found", message)


def presented_secret(headers: Mapping[str, str], bearer: bool) -> str | None:
    """The secret key of `x-api-key`, else (where the dialect allows it) of a Bearer header."""
    token = headers.get("x-api-key", "").strip()
    if token:
        return token
    if not bearer:
        return None
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


async def secret_principal(
    state: AppState, headers: Mapping[str, str], *, bearer: bool, forbidden_status: int
) -> Principal:
    """The caller of a secret-key dialect, with the read scope, within its rate limit."""
    token = presented_secret(headers, bearer)
    if token is None:
        where = "x-api-key or Authorization: Bearer" if bearer else "the x-api-key header"
        raise unauthorized(f"send a secret key in {where}")
    principal = await state.verifier.principal(token)
    if principal is None or principal.kind != "secret":
        raise unauthorized("the key is unknown, revoked, or not a secret key")
    await admit(state, principal, forbidden_status)
    return principal


def secret_principal_at_once(
    state: AppState, headers: Mapping[str, str], *, bearer: bool
) -> Principal | None:
    """The caller as `secret_principal` finds it, from the key cache alone: a secret key with
    the read scope, else None (the whole way then gives the exact 401 or 403)."""
    token = presented_secret(headers, bearer)
    principal = state.verifier.cached_principal(token) if token else None
    if principal is None or principal.kind != "secret" or not principal.allows("read"):
        return None
    return principal


async def admit(state: AppState, principal: Principal, forbidden_status: int) -> None:
    """Check the read scope, then count the request against the key's rate limit."""
    if not principal.allows("read"):
        code = "forbidden" if forbidden_status == 403 else "unauthorized"
        raise ApiError(forbidden_status, code, "the key lacks the read scope")
    limit = state.settings.compat_rate_limit
    refuse_over_limit(
        await state.limiter.hit(rate_bucket(principal), limit, RATE_WINDOW_SECONDS), limit
    )


def rate_bucket(principal: Principal) -> str:
    return "compat:" + principal.key_id


def refuse_over_limit(retry_after: int | None, limit: int) -> None:
    """429 when the request just counted went over the key's limit."""
    if retry_after is not None:
        raise ApiError(
            429,
            "rate_limited",
            f"over {limit} requests a minute for this key",
            retry_after=retry_after,
        )


def read_at_once(
    state: AppState,
    headers: Mapping[str, str],
    *,
    bearer: bool,
    find: Callable[[Principal], StoredSession | None],
    answer: Callable[[Principal, StoredSession], bytes],
) -> bytes | None:
    """A secret-key GET from this process's caches, without waiting, or None to go the whole
    way. Whatever can still say None (a limit counted in Redis, the key, `find` the session)
    is settled before the request is counted: once counted it is answered here, by `answer`
    or an ApiError (429 first), so the whole way never counts it a second time."""
    limiter = state.limiter
    if not isinstance(limiter, MemoryRateLimiter):
        return None
    principal = secret_principal_at_once(state, headers, bearer=bearer)
    if principal is None:
        return None
    stored = find(principal)
    if stored is None:
        return None
    count_at_once(state, limiter, principal)
    return answer(principal, stored)


def count_at_once(state: AppState, limiter: MemoryRateLimiter, principal: Principal) -> None:
    """Count the request against the key's limit in this process; 429 when over it."""
    limit = state.settings.compat_rate_limit
    refuse_over_limit(
        limiter.hit_at_once(rate_bucket(principal), limit, RATE_WINDOW_SECONDS), limit
    )


def session_id_of(raw: str) -> str | None:
    try:
        return canonical_uuid(raw)
    except ValueError:
        return None


async def find_stored(
    state: AppState, tenant: str, raw_id: str, sites: tuple[str, ...] | None
) -> StoredSession | None:
    """The stored session, or None: a malformed id is simply not found."""
    session_id = session_id_of(raw_id)
    if session_id is None:
        return None
    return await state.store.get_session(tenant, session_id, sites)


def cached_stored(
    state: AppState, tenant: str, raw_id: str, sites: tuple[str, ...] | None
) -> StoredSession | None:
    """`find_stored` from this process's caches alone: None also for a session not held."""
    session_id = session_id_of(raw_id)
    return state.store.cached_session(tenant, session_id, sites) if session_id else None


def current_status(status: SessionStatus, stored: StoredSession, at_ms: int) -> SessionStatus:
    """The status as of `at_ms`: an active session whose time has run out reads as expired
    (as `ingest.current_session` has it), though nothing has rewritten it yet."""
    return "expired" if expired_since_stored(status, stored.expires_ms, at_ms) else status


def uuid_text(raw: bytes, version: int) -> str:
    """16 bytes (random, or a name's hash) as the text of a UUID of `version`, the RFC 4122
    variant: what uuid.UUID(bytes=raw, version=version) prints, without the object."""
    value = bytearray(raw[:16])
    value[6] = value[6] & 0x0F | version << 4
    value[8] = value[8] & 0x3F | 0x80
    text = value.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
