"""Native API v1: feedback labels on sessions, and how the verdicts fare against them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sessionscope import feedback
from sessionscope.clock import rfc3339_to_ms
from sessionscope.http.body import json_response, read_json
from sessionscope.http.errors import invalid_parameter, reject_unknown_parameters
from sessionscope.http.guard import authenticate, site_for, visible_sites
from sessionscope.http.native import not_found, session_id_parameter
from sessionscope.http.openapi import SESSION_ID, ErrorEnvelope, Operation, Parameter
from sessionscope.http.router import NativeRouter
from sessionscope.http.state import AppState

STATS_PARAMETERS = frozenset({"site", "since", "until"})
_ERRORS: dict[int, tuple[str, Any]] = {
    400: ("invalid request: the field is named in details.field", ErrorEnvelope),
    401: ("missing, unknown or revoked key", ErrorEnvelope),
    403: ("the key lacks the scope or the site", ErrorEnvelope),
}
_TIME = {"type": "string", "format": "date-time"}

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "post",
        "/v1/sessions/{id}/feedback",
        "Label a session fraud, legit, bot or human (a later label replaces it)",
        "feedback",
        {
            200: ("the stored label", feedback.FeedbackView),
            404: ("no such session", ErrorEnvelope),
            413: ("body too large", ErrorEnvelope),
            **_ERRORS,
        },
        request=feedback.FeedbackCreate,
        parameters=(SESSION_ID,),
    ),
    Operation(
        "get",
        "/v1/stats/feedback",
        "Precision and recall of the verdicts against the labels, per site",
        "feedback",
        {
            200: ("one entry per site", feedback.FeedbackStats),
            404: ("no such site", ErrorEnvelope),
            **_ERRORS,
        },
        parameters=(
            Parameter("site", "query", {"type": "string"}, "only this site (slug)"),
            Parameter("since", "query", _TIME, "labels given at or after"),
            Parameter("until", "query", _TIME, "labels given before"),
        ),
    ),
)


class FeedbackApi(NativeRouter):
    operations = OPERATIONS

    def __init__(self, state: AppState) -> None:
        self.state = state

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/v1/sessions/{id}/feedback", self.label, methods=["POST"]),
            Route("/v1/stats/feedback", self.stats, methods=["GET"]),
        ]

    async def label(self, request: Request) -> Response:
        principal = await authenticate(self.state, request.headers, "write")
        session_id = session_id_parameter(request.path_params["id"])
        body = await read_json(request, self.state.settings.max_body_bytes, feedback.FeedbackCreate)
        view = await feedback.label_session(
            self.state.store, principal.tenant, session_id, visible_sites(principal), body
        )
        if view is None:
            raise not_found(session_id)
        return json_response(view)

    async def stats(self, request: Request) -> Response:
        principal = await authenticate(self.state, request.headers, "read")
        params = request.query_params
        reject_unknown_parameters(params.keys(), STATS_PARAMETERS)
        since, until = _time(params, "since"), _time(params, "until")
        if "site" in params or principal.site is not None:
            sites = [(await site_for(self.state, principal, params.get("site"))).slug]
        else:
            sites = [site.slug for site in await self.state.store.list_sites(principal.tenant)]
        result = await feedback.feedback_stats(
            self.state.store, principal.tenant, sites, since, until
        )
        return json_response(result)


def _time(params: Mapping[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        return rfc3339_to_ms(value)
    except ValueError:
        raise invalid_parameter(name, "must be an RFC 3339 timestamp with a UTC offset") from None
