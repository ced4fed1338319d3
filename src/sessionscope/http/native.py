"""Native API v1: sessions."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple, get_args

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sessionscope import ingest
from sessionscope.clock import now_ms, rfc3339_to_ms
from sessionscope.http.body import decode_json, json_response, raw_json, read_json
from sessionscope.http.errors import ApiError, invalid_parameter, reject_unknown_parameters
from sessionscope.http.guard import (
    authenticate,
    lets_through,
    presented_token,
    site_for,
    visible_sites,
)
from sessionscope.http.router import NativeRouter
from sessionscope.http.state import AppState
from sessionscope.ids import canonical_uuid
from sessionscope.model import Session, SessionCreate, SessionPatch, SessionState, SessionStatus
from sessionscope.store.base import Cursor, SessionQuery, StoredSession
from sessionscope.user_sessions import enforce_session_limit

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
LIST_PARAMETERS = frozenset(
    {"site", "user_id", "device_id", "state", "status", "since", "until", "limit", "cursor"}
)
_encoder = msgspec.json.Encoder()


def session_id_parameter(raw: str, name: str = "id") -> str:
    try:
        return canonical_uuid(raw)
    except ValueError:
        raise invalid_parameter(name, f"{raw!r} is not a session id (a UUID)") from None


def ingest_error(error: ingest.IngestError) -> ApiError:
    details = {"field": error.field} if error.field else {}
    return ApiError(error.status, error.code, error.message, details)


def not_found(session_id: str) -> ApiError:
    return ApiError(404, "session_not_found", f"no session {session_id}", {"id": session_id})


def read_session_at_once(
    state: AppState, header: Callable[[str], str | None], raw_id: str
) -> bytes | None:
    """GET /v1/sessions/{id} from this process's caches alone, without waiting: the answer
    when the key was looked up lately and the session's current row is held, else None, and
    `read_session` goes the whole way (and gives every error). Most reads end here."""
    token = presented_token(header)
    principal = state.verifier.cached_principal(token) if token else None
    if principal is None or not lets_through(principal, "read"):
        return None
    try:
        session_id = canonical_uuid(raw_id)
    except ValueError:
        return None
    stored = state.store.cached_session(principal.tenant, session_id, visible_sites(principal))
    return ingest.current_view(stored, now_ms()) if stored is not None else None


async def read_session(state: AppState, headers: Mapping[str, str], raw_id: str) -> bytes:
    """The shared core of GET /v1/sessions/{id}: auth, scope, read, expiry view."""
    principal = await authenticate(state, headers, "read")
    session_id = session_id_parameter(raw_id)
    stored = await state.store.get_session(principal.tenant, session_id, visible_sites(principal))
    if stored is None:
        raise not_found(session_id)
    return ingest.current_view(stored, now_ms())


class Created(NamedTuple):
    doc: bytes  # the stored JSON document
    location: str


async def create_session(
    state: AppState, headers: Mapping[str, str], body: Callable[[], Awaitable[bytes]]
) -> Created:
    """The shared core of POST /v1/sessions: auth first, then the body, open, limit."""
    principal = await authenticate(state, headers, "write")
    payload = decode_json(await body(), SessionCreate)
    site = await site_for(state, principal, payload.site)
    try:
        session, doc = await ingest.open_session(
            state.store, state.pipeline, payload, site, state.settings.session_lifetime_days
        )
    except ingest.IngestError as error:
        raise ingest_error(error) from None
    await enforce_session_limit(state.store, session, site.settings.max_active_sessions_per_user)
    return Created(doc, f"/v1/sessions/{session.id}")


class NativeSessions(NativeRouter):
    def __init__(self, state: AppState) -> None:
        self.state = state

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/v1/sessions", self.list, methods=["GET"]),
            Route("/v1/sessions/{id}", self.patch, methods=["PATCH"]),
            Route("/v1/sessions/{id}/release", self.release, methods=["POST"]),
        ]

    async def patch(self, request: Request) -> Response:
        principal = await authenticate(self.state, request.headers, "write")
        session_id = session_id_parameter(request.path_params["id"])
        patch = await read_json(request, self.state.settings.max_body_bytes, SessionPatch)
        return await self._change(
            principal.tenant,
            session_id,
            principal.site,
            lambda session: ingest.apply_patch_judged(session, patch, self.state.pipeline),
        )

    async def release(self, request: Request) -> Response:
        principal = await authenticate(self.state, request.headers, "write")
        session_id = session_id_parameter(request.path_params["id"])
        return await self._change(
            principal.tenant, session_id, principal.site, ingest.mark_released
        )

    async def _change(
        self,
        tenant: str,
        session_id: str,
        site: str | None,
        change: Callable[[Session], Awaitable[None] | None],
    ) -> Response:
        sites = (site,) if site is not None else None
        try:
            session = await ingest.update_session(
                self.state.store, tenant, session_id, sites, change
            )
        except ingest.IngestError as error:
            raise ingest_error(error) from None
        if session is None:
            raise not_found(session_id)
        return json_response(session)

    async def list(self, request: Request) -> Response:
        principal = await authenticate(self.state, request.headers, "read")
        params = request.query_params
        reject_unknown_parameters(params.keys(), LIST_PARAMETERS)
        sites = visible_sites(principal)
        if "site" in params:
            sites = ((await site_for(self.state, principal, params["site"])).slug,)
        query = SessionQuery(
            tenant=principal.tenant,
            sites=sites,
            user_id=params.get("user_id") or None,
            device_id=params.get("device_id") or None,
            state=_choice(params, "state", SessionState),
            status=_choice(params, "status", SessionStatus),
            since_ms=_timestamp(params, "since"),
            until_ms=_timestamp(params, "until"),
        )
        limit = parse_limit(params.get("limit"))
        after = decode_cursor(params["cursor"]) if "cursor" in params else None
        moment = now_ms()
        rows = await self.state.store.list_sessions(query, after, limit + 1, moment)
        return raw_json(page_body(rows, limit, moment))


def page_body(rows: list[StoredSession], limit: int, at_ms: int) -> bytes:
    """`{"data": [...], "next_cursor": ...}` built from the stored bytes, unparsed."""
    page = rows[:limit]
    more = len(rows) > limit
    cursor = encode_cursor(Cursor(page[-1].created_ms, page[-1].id)) if more and page else None
    documents = b",".join(ingest.current_view(row, at_ms) for row in page)
    return b'{"data":[' + documents + b'],"next_cursor":' + _encoder.encode(cursor) + b"}"


def parse_limit(raw: str | None, default: int = DEFAULT_LIMIT, name: str = "limit") -> int:
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise invalid_parameter(name, f"must be an integer from 1 to {MAX_LIMIT}")
    return int(raw)


def encode_cursor(cursor: Cursor) -> str:
    raw = _encoder.encode([cursor.created_ms, cursor.id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        created_ms, session_id = msgspec.json.decode(raw, type=tuple[int, str])
        return Cursor(created_ms, canonical_uuid(session_id))
    except (binascii.Error, msgspec.DecodeError, msgspec.ValidationError, ValueError):
        raise invalid_parameter("cursor", "not a cursor this API returned") from None


def _choice(params: Mapping[str, str], name: str, kind: Any) -> Any:
    value = params.get(name)
    if value is None:
        return None
    allowed = get_args(kind)
    if value not in allowed:
        raise invalid_parameter(name, f"must be one of {', '.join(allowed)}")
    return value


def _timestamp(params: Mapping[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        return rfc3339_to_ms(value)
    except ValueError:
        raise invalid_parameter(name, "must be an RFC 3339 timestamp with a UTC offset") from None
