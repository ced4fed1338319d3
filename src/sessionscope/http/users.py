"""Native API v1: a user's sessions, and logging a user out everywhere else."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta, Struct
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sessionscope.clock import now_ms
from sessionscope.http.body import json_response, raw_json, read_json
from sessionscope.http.errors import invalid_parameter, reject_unknown_parameters
from sessionscope.http.guard import authenticate, site_for, visible_sites
from sessionscope.http.native import decode_cursor, page_body, parse_limit, session_id_parameter
from sessionscope.http.openapi import ErrorEnvelope, Operation, Parameter
from sessionscope.http.router import NativeRouter
from sessionscope.http.state import AppState
from sessionscope.model import SessionId, SessionPage, SessionStatus, Slug
from sessionscope.store.base import SessionQuery
from sessionscope.user_sessions import release_all_except

# The status filter's values; `all` filters nothing.
STATUS_FILTERS: dict[str, SessionStatus | None] = {
    "active": "active",
    "expired": "expired",
    "released": "released",
    "revoked": "revoked",
    "all": None,
}
LIST_PARAMETERS = frozenset({"status", "site", "limit", "cursor"})
_MAX_USER_ID = 256


class ReleaseRequest(Struct, forbid_unknown_fields=True, kw_only=True):
    """Release every active session of the user but those listed in `except`."""

    keep: Annotated[list[SessionId], Meta(max_length=100)] = msgspec.field(
        default_factory=list, name="except"
    )
    site: Slug | None = None


class ReleaseResult(Struct):
    released: list[str]


_USER_ID = Parameter("user_id", "path", {"type": "string", "maxLength": 256}, "the user's id")
_ERRORS: dict[int, tuple[str, object]] = {
    400: ("invalid request: the field is named in details.field", ErrorEnvelope),
    401: ("missing, unknown or revoked key", ErrorEnvelope),
    403: ("the key lacks the scope or the site", ErrorEnvelope),
    404: ("no such site", ErrorEnvelope),
}


def user_id_parameter(raw: str) -> str:
    if not 1 <= len(raw) <= _MAX_USER_ID:
        raise invalid_parameter("user_id", f"must be 1 to {_MAX_USER_ID} characters")
    return raw


def status_parameter(raw: str | None) -> SessionStatus | None:
    """The status filter; active unless asked, None for `all`."""
    value = raw or "active"
    if value not in STATUS_FILTERS:
        raise invalid_parameter("status", f"must be one of {', '.join(STATUS_FILTERS)}")
    return STATUS_FILTERS[value]


class UserSessions(NativeRouter):
    operations: tuple[Operation, ...] = (
        Operation(
            "get",
            "/v1/users/{user_id}/sessions",
            "A user's sessions, newest first (active ones unless asked)",
            "lifecycle",
            {200: ("a page of sessions", SessionPage), **_ERRORS},
            parameters=(
                _USER_ID,
                Parameter(
                    "status",
                    "query",
                    {"enum": list(STATUS_FILTERS), "default": "active"},
                    "only this status, as of now (`all`: any)",
                ),
                Parameter("site", "query", {"type": "string"}, "only this site (slug)"),
                Parameter(
                    "limit",
                    "query",
                    {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
                    "page size",
                ),
                Parameter("cursor", "query", {"type": "string"}, "next_cursor of the last page"),
            ),
        ),
        Operation(
            "post",
            "/v1/users/{user_id}/sessions/release",
            "Log a user out everywhere but the sessions in `except`",
            "lifecycle",
            {200: ("the sessions released now", ReleaseResult), **_ERRORS},
            request=ReleaseRequest,
            parameters=(_USER_ID,),
        ),
    )

    def __init__(self, state: AppState) -> None:
        self.state = state

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/v1/users/{user_id}/sessions", self.list, methods=["GET"]),
            Route("/v1/users/{user_id}/sessions/release", self.release, methods=["POST"]),
        ]

    async def list(self, request: Request) -> Response:
        principal = await authenticate(self.state, request.headers, "read")
        user_id = user_id_parameter(request.path_params["user_id"])
        params = request.query_params
        reject_unknown_parameters(params.keys(), LIST_PARAMETERS)
        sites = visible_sites(principal)
        if "site" in params:
            sites = ((await site_for(self.state, principal, params["site"])).slug,)
        query = SessionQuery(
            tenant=principal.tenant,
            sites=sites,
            user_id=user_id,
            status=status_parameter(params.get("status")),
        )
        limit = parse_limit(params.get("limit"))
        after = decode_cursor(params["cursor"]) if "cursor" in params else None
        moment = now_ms()
        rows = await self.state.store.list_sessions(query, after, limit + 1, moment)
        return raw_json(page_body(rows, limit, moment))

    async def release(self, request: Request) -> Response:
        principal = await authenticate(self.state, request.headers, "write")
        user_id = user_id_parameter(request.path_params["user_id"])
        body = await read_json(request, self.state.settings.max_body_bytes, ReleaseRequest)
        keep = {session_id_parameter(raw, "except") for raw in body.keep}
        sites = visible_sites(principal)
        if body.site is not None:
            sites = ((await site_for(self.state, principal, body.site)).slug,)
        released = await release_all_except(
            self.state.store, principal.tenant, sites, user_id, keep
        )
        return json_response(ReleaseResult(released=released))
