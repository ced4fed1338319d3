"""Native API v1: a session's lifecycle events, and revocation by an administrator."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sessionscope import ingest
from sessionscope.http.body import json_response, read_body
from sessionscope.http.errors import ApiError, validation_error
from sessionscope.http.guard import authenticate, visible_sites
from sessionscope.http.native import ingest_error, not_found, session_id_parameter
from sessionscope.http.openapi import SESSION_ID, ErrorEnvelope, Operation
from sessionscope.http.router import NativeRouter
from sessionscope.http.state import AppState
from sessionscope.lifecycle import LifecycleError, SessionEvent
from sessionscope.lifecycle_actions import record_event, revoke_session
from sessionscope.model import Session

_event_decoder: msgspec.json.Decoder[SessionEvent] = msgspec.json.Decoder(SessionEvent)
_ERRORS: dict[int, tuple[str, object]] = {
    400: ("invalid request: the field is named in details.field", ErrorEnvelope),
    401: ("missing, unknown or revoked key", ErrorEnvelope),
    403: ("the key lacks the scope or the site", ErrorEnvelope),
    404: ("no such session", ErrorEnvelope),
}


def lifecycle_error(error: LifecycleError) -> ApiError:
    return ApiError(error.status, error.code, error.message, dict(error.details))


async def read_event(request: Request, limit: int) -> SessionEvent:
    body = await read_body(request, limit)
    if not body.strip():
        raise ApiError(400, "invalid_json", "request body is empty; send a JSON object")
    try:
        return _event_decoder.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise validation_error(error) from None


class SessionEvents(NativeRouter):
    operations: tuple[Operation, ...] = (
        Operation(
            "post",
            "/v1/sessions/{id}/events",
            "Record a lifecycle event: recognise, register_partial, login, logout, pageview,"
            " heartbeat",
            "lifecycle",
            {
                200: ("the session after the event", Session),
                409: ("illegal transition, or the session has ended", ErrorEnvelope),
                413: ("body too large", ErrorEnvelope),
                **_ERRORS,
            },
            request=SessionEvent,
            parameters=(SESSION_ID,),
        ),
        Operation(
            "post",
            "/v1/sessions/{id}/revoke",
            "Revoke a session (admin): it ends at once, for good",
            "lifecycle",
            {200: ("the revoked session", Session), **_ERRORS},
            parameters=(SESSION_ID,),
        ),
    )

    def __init__(self, state: AppState) -> None:
        self.state = state

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/v1/sessions/{id}/events", self.event, methods=["POST"]),
            Route("/v1/sessions/{id}/revoke", self.revoke, methods=["POST"]),
        ]

    async def event(self, request: Request) -> Response:
        principal = await authenticate(self.state, request.headers, "write")
        session_id = session_id_parameter(request.path_params["id"])
        event = await read_event(request, self.state.settings.max_body_bytes)
        target = (principal.tenant, session_id, visible_sites(principal))
        try:
            session = await record_event(
                self.state.store,
                self.state.pipeline,
                target,
                event,
                self.state.settings.session_lifetime_days,
            )
        except LifecycleError as error:
            raise lifecycle_error(error) from None
        except ingest.IngestError as error:
            raise ingest_error(error) from None
        if session is None:
            raise not_found(session_id)
        return json_response(session)

    async def revoke(self, request: Request) -> Response:
        principal = await authenticate(self.state, request.headers, "admin")
        session_id = session_id_parameter(request.path_params["id"])
        try:
            session = await revoke_session(
                self.state.store, principal.tenant, session_id, visible_sites(principal)
            )
        except ingest.IngestError as error:
            raise ingest_error(error) from None
        if session is None:
            raise not_found(session_id)
        return json_response(session)
