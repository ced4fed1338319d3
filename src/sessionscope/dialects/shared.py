"""What the compatible APIs share: keys, rate limits, reading a session, error answers.

Errors are raised as `ApiError` with these codes; each dialect's envelope renders them in
its own vocabulary: `unauthorized` (401), `forbidden` (403), `session_not_found` (404),
`invalid_parameter` (400), `rate_limited` (429), plus the app's own (`route_not_found`,
`method_not_allowed`, `payload_too_large`, `internal_error`, `store_unavailable`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from msgspec import UNSET, UnsetType
from starlette.responses import Response

from sessionscope import ingest
from sessionscope.auth.keys import Principal, principal_of
from sessionscope.clock import now_ms
from sessionscope.http.errors import ApiError
from sessionscope.http.state import AppState
from sessionscope.ids import canonical_uuid
from sessionscope.model import Session

T = TypeVar("T")
RATE_WINDOW_SECONDS = 60
JSON = "application/json"


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
    key = await state.verifier.verify(token)
    if key is None or key.kind != "secret":
        raise unauthorized("the key is unknown, revoked, or not a secret key")
    principal = principal_of(key)
    await admit(state, principal, forbidden_status)
    return principal


async def admit(state: AppState, principal: Principal, forbidden_status: int) -> None:
    """Check the read scope, then count the request against the key's rate limit."""
    if not principal.allows("read"):
        code = "forbidden" if forbidden_status == 403 else "unauthorized"
        raise ApiError(forbidden_status, code, "the key lacks the read scope")
    retry_after = await state.limiter.hit(
        f"compat:{principal.key_id}", state.settings.compat_rate_limit, RATE_WINDOW_SECONDS
    )
    if retry_after is not None:
        raise ApiError(
            429,
            "rate_limited",
            f"over {state.settings.compat_rate_limit} requests a minute for this key",
            retry_after=retry_after,
        )


def session_id_of(raw: str) -> str | None:
    try:
        return canonical_uuid(raw)
    except ValueError:
        return None


async def find_session(
    state: AppState, tenant: str, raw_id: str, sites: tuple[str, ...] | None
) -> Session | None:
    """The session as of now (expiry applied), or None: a malformed id is simply not found."""
    session_id = session_id_of(raw_id)
    if session_id is None:
        return None
    stored = await state.store.get_session(tenant, session_id, sites)
    return ingest.current_session(stored, now_ms()) if stored is not None else None


def visible_sites(principal: Principal) -> tuple[str, ...] | None:
    return (principal.site,) if principal.site is not None else None
