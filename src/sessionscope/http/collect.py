"""POST /v1/collect: the browser script's reports, under a publishable key and CORS.

The key comes in `x-api-key` or the `key` query parameter (the script uses the query, so
that its `text/plain` posts and beacons need no preflight). The page's Origin must be on
the key's allow-list; only allowed origins get CORS headers. Limits apply per visitor IP
(before the key is even looked up) and per key.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sessionscope import collect, ingest
from sessionscope.auth.keys import Principal, principal_of
from sessionscope.http.body import json_response, read_json
from sessionscope.http.client_ip import client_ip
from sessionscope.http.errors import ApiError
from sessionscope.http.guard import site_for
from sessionscope.http.native import ingest_error, not_found
from sessionscope.http.openapi import ErrorEnvelope, Operation, Parameter
from sessionscope.http.router import NativeRouter, native_error_response
from sessionscope.http.state import AppState
from sessionscope.model import Session, Site
from sessionscope.store.base import Store

# A report is about 2 KB; anything far larger did not come from the script.
COLLECT_BODY_LIMIT = 16_384
RATE_WINDOW_SECONDS = 60
PREFLIGHT_MAX_AGE_SECONDS = 600
ORIGIN_INDEX_TTL_SECONDS = 10.0
ALLOWED_HEADERS = "content-type, x-api-key"
PUBLISHABLE_SECURITY = ("publishableKey", "publishableKeyQuery")


def presented_key(request: Request) -> str | None:
    token = request.headers.get("x-api-key") or request.query_params.get("key")
    return token.strip() if token and token.strip() else None


async def publishable_principal(state: AppState, request: Request) -> Principal:
    token = presented_key(request)
    if token is None:
        raise ApiError(
            401, "unauthorized", "send a publishable key in x-api-key or the key query parameter"
        )
    key = await state.verifier.verify(token)
    if key is None or key.kind != "publishable":
        raise ApiError(401, "unauthorized", "the key is unknown, revoked, or not a publishable key")
    return principal_of(key)


def allowed_origin(principal: Principal, origin: str | None) -> str:
    """The page origin when the key allows it; a 403 otherwise."""
    if not origin:
        raise ApiError(403, "origin_required", "the request has no Origin header (pages send one)")
    if origin.lower() not in principal.origins:
        raise ApiError(
            403,
            "origin_not_allowed",
            f"origin {origin!r} is not on this key's allow-list",
            {"origin": origin},
        )
    return origin


def with_cors(response: Response, origin: str | None) -> Response:
    response.headers["vary"] = "Origin"
    if origin is not None:
        response.headers["access-control-allow-origin"] = origin
    return response


def visitor_ip(state: AppState, request: Request) -> str:
    peer = request.client.host if request.client else None
    found = client_ip(peer, request.headers, state.settings.trusted_proxies)
    if found is None:
        raise ApiError(400, "unknown_client", "the visitor's IP address cannot be told")
    return found


async def within_limit(state: AppState, bucket: str, limit: int) -> None:
    wait = await state.limiter.hit(bucket, limit, RATE_WINDOW_SECONDS)
    if wait is not None:
        raise ApiError(
            429,
            "rate_limited",
            f"over {limit} reports a minute; retry in {wait} s",
            {"limit": limit, "window_seconds": RATE_WINDOW_SECONDS},
            retry_after=wait,
        )


class OriginIndex:
    """Every origin some live publishable key allows, re-read after a short time.

    A preflight of a request that carries its key in a header cannot show the key, so
    only this union can be checked; the request itself is then checked against its key.
    """

    def __init__(self, store: Store, ttl: float = ORIGIN_INDEX_TTL_SECONDS) -> None:
        self._store = store
        self._ttl = ttl
        self._origins: frozenset[str] = frozenset()
        self._expires = 0.0

    async def allows(self, origin: str) -> bool:
        if time.monotonic() >= self._expires:
            keys = await self._store.list_keys(None)
            self._origins = frozenset(
                allowed
                for key in keys
                if key.kind == "publishable" and key.revoked_at is None
                for allowed in key.origins
            )
            self._expires = time.monotonic() + self._ttl
        return origin.lower() in self._origins


class CollectApi(NativeRouter):
    security: dict[str, Any] = {
        "publishableKey": {
            "type": "apiKey",
            "in": "header",
            "name": "x-api-key",
            "description": "a publishable key (browser script); the page Origin must be allowed",
        },
        "publishableKeyQuery": {
            "type": "apiKey",
            "in": "query",
            "name": "key",
            "description": "a publishable key in the query string (what sdk.js sends)",
        },
    }

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.origins = OriginIndex(state.store)
        self.operations = collect_operations()

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/v1/collect", self.receive, methods=["POST"]),
            Route("/v1/collect", self.preflight, methods=["OPTIONS"]),
        ]

    async def receive(self, request: Request) -> Response:
        origin: str | None = None
        try:
            settings = self.state.settings
            ip = visitor_ip(self.state, request)
            await within_limit(self.state, f"collect:ip:{ip}", settings.collect_rate_per_ip)
            principal = await publishable_principal(self.state, request)
            origin = allowed_origin(principal, request.headers.get("origin"))
            await within_limit(
                self.state, f"collect:key:{principal.key_id}", settings.collect_rate_per_key
            )
            response = await self._report(request, principal, ip)
        except ApiError as error:
            response = native_error_response(error)
        return with_cors(response, origin)

    async def _report(self, request: Request, principal: Principal, ip: str) -> Response:
        payload = await read_json(request, COLLECT_BODY_LIMIT, collect.CollectInput)
        site = await site_for(self.state, principal, None)
        visit = collect.Visit(
            ip=ip,
            user_agent=request.headers.get("user-agent", ""),
            accept_language=request.headers.get("accept-language"),
            headers=collect.evidence_headers(dict(request.headers)),
        )
        created = payload.session_id is None
        session = await self._apply(site, payload, visit)
        return json_response(collect.answer(session), 201 if created else 200)

    async def _apply(
        self, site: Site, payload: collect.CollectInput, visit: collect.Visit
    ) -> Session:
        store, pipeline = self.state.store, self.state.pipeline
        try:
            if payload.session_id is None:
                lifetime = self.state.settings.session_lifetime_days
                return await collect.open_collected(store, pipeline, site, payload, visit, lifetime)
            session = await collect.refresh_collected(store, pipeline, site, payload, visit)
        except ingest.IngestError as error:
            raise ingest_error(error) from None
        if session is None:
            raise not_found(payload.session_id)
        return session

    async def preflight(self, request: Request) -> Response:
        origin = request.headers.get("origin")
        if not origin or "access-control-request-method" not in request.headers:
            raise ApiError(400, "not_a_preflight", "OPTIONS here answers CORS preflights only")
        if not await self._preflight_allows(request, origin):
            raise ApiError(
                403,
                "origin_not_allowed",
                f"origin {origin!r} is not on the key's allow-list",
                {"origin": origin},
            )
        response = Response(status_code=204)
        response.headers["access-control-allow-methods"] = "POST"
        response.headers["access-control-allow-headers"] = ALLOWED_HEADERS
        response.headers["access-control-max-age"] = str(PREFLIGHT_MAX_AGE_SECONDS)
        return with_cors(response, origin)

    async def _preflight_allows(self, request: Request, origin: str) -> bool:
        if request.query_params.get("key"):
            principal = await publishable_principal(self.state, request)
            return origin.lower() in principal.origins
        return await self.origins.allows(origin)


def collect_operations() -> tuple[Operation, ...]:
    errors: dict[int, tuple[str, Any]] = {
        400: ("invalid report: the field is named in details.field", ErrorEnvelope),
        401: ("missing, unknown or revoked publishable key", ErrorEnvelope),
        403: ("the page origin is not on the key's allow-list", ErrorEnvelope),
        404: ("session_id names no session of this site", ErrorEnvelope),
        409: ("the session has ended; start a new one", ErrorEnvelope),
        413: ("report too large", ErrorEnvelope),
        429: ("too many reports from this IP or key; see Retry-After", ErrorEnvelope),
    }
    key = Parameter("key", "query", {"type": "string"}, "the publishable key (or x-api-key)")
    return (
        Operation(
            "post",
            "/v1/collect",
            "Report a page's device signals and behaviour (browser script)",
            "collect",
            {
                201: ("the new session", collect.CollectAnswer),
                200: ("the session, updated", collect.CollectAnswer),
                **errors,
            },
            request=collect.CollectInput,
            parameters=(key,),
            security=PUBLISHABLE_SECURITY,
            extra={
                "description": "The body may be sent as text/plain (navigator.sendBeacon). "
                "Without session_id a session is opened; with it, that session is updated."
            },
        ),
        Operation(
            "options",
            "/v1/collect",
            "CORS preflight: allowed for origins on a publishable key's allow-list",
            "collect",
            {
                204: ("allowed: Access-Control-Allow-* headers for this origin", None),
                400: ("not a CORS preflight", ErrorEnvelope),
                403: ("origin not allowed", ErrorEnvelope),
            },
            parameters=(key,),
            security=(),
        ),
    )
