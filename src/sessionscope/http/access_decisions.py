"""Native API v1: may this session's visitor see this content? (write scope: a meter or
credit that delivers the entitlement is consumed)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sessionscope import ingest
from sessionscope.access.catalog import Catalog
from sessionscope.access.decide import Verdict, access_part, decide, load_catalog
from sessionscope.access.errors import AccessError
from sessionscope.access.model import AccessDecision, DecisionRequest
from sessionscope.clock import now_ms
from sessionscope.http.access_admin import access_error
from sessionscope.http.body import json_response, read_json
from sessionscope.http.events import lifecycle_error
from sessionscope.http.guard import authenticate, visible_sites
from sessionscope.http.native import not_found, session_id_parameter
from sessionscope.http.openapi import SESSION_ID, ErrorEnvelope, Operation
from sessionscope.http.router import NativeRouter
from sessionscope.http.state import AppState
from sessionscope.lifecycle import LifecycleError, require_active
from sessionscope.model import Access, Session
from sessionscope.store.base import Store


async def store_access(
    store: Store, catalog: Catalog, session: Session, sites: tuple[str, ...] | None
) -> Access:
    """Recompute the session's `access` part and write it back.

    A use is already counted whatever happens here: when concurrent writes keep winning,
    or the session ended meanwhile, the answer carries the part without storing it, and
    the session's next write stores it.
    """

    async def change(current: Session) -> None:
        require_active(current)
        current.access = await access_part(store, catalog, current, now_ms())

    try:
        written = await ingest.update_session(store, session.tenant, session.id, sites, change)
    except (ingest.IngestError, LifecycleError):
        written = None
    if written is not None:
        return written.access
    return await access_part(store, catalog, session, now_ms())


def decision_view(request: DecisionRequest, verdict: Verdict, access: Access) -> AccessDecision:
    return AccessDecision(
        decision="allow" if verdict.allowed else "deny",
        entitlement=request.entitlement,
        content_id=request.content_id,
        delivered_by=verdict.delivered_by,
        source=verdict.source,
        remaining_credits=verdict.remaining_credits,
        refresh_time=verdict.refresh_time,
        access=access,
    )


class AccessDecisions(NativeRouter):
    operations: tuple[Operation, ...] = (
        Operation(
            "post",
            "/v1/sessions/{id}/access-decisions",
            "Decide access to content; consumes the meter or credit that delivers it",
            "access",
            {
                200: ("allow or deny, and what delivered the entitlement", AccessDecision),
                400: ("invalid request or unknown entitlement", ErrorEnvelope),
                401: ("missing, unknown or revoked key", ErrorEnvelope),
                403: ("the key lacks the write scope", ErrorEnvelope),
                404: ("no such session", ErrorEnvelope),
                409: ("the session has ended", ErrorEnvelope),
            },
            request=DecisionRequest,
            parameters=(SESSION_ID,),
        ),
    )

    def __init__(self, state: AppState) -> None:
        self.state = state

    def routes(self) -> list[BaseRoute]:
        return [Route("/v1/sessions/{id}/access-decisions", self.decide, methods=["POST"])]

    async def decide(self, request: Request) -> Response:
        principal = await authenticate(self.state, request.headers, "write")
        session_id = session_id_parameter(request.path_params["id"])
        body = await read_json(request, self.state.settings.max_body_bytes, DecisionRequest)
        sites = visible_sites(principal)
        store = self.state.store
        stored = await store.get_session(principal.tenant, session_id, sites)
        if stored is None:
            raise not_found(session_id)
        at_ms = now_ms()
        session = ingest.current_session(stored, at_ms)
        try:
            require_active(session)
            catalog = await load_catalog(store, session.tenant, session.site)
            verdict = await decide(store, catalog, session, body, at_ms)
        except LifecycleError as error:
            raise lifecycle_error(error) from None
        except AccessError as error:
            raise access_error(error) from None
        access = await store_access(store, catalog, session, sites)
        return json_response(decision_view(body, verdict, access))
