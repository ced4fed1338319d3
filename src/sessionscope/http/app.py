"""The ASGI application: Starlette routing, plus direct paths for the hottest routes."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator

import msgspec
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from sessionscope.config import Settings, load_settings
from sessionscope.dialects import compat_routers
from sessionscope.dialects.gate import PREFIX as COMPAT_PREFIX
from sessionscope.dialects.gate import CompatGate
from sessionscope.http.access_admin import AccessAdmin
from sessionscope.http.access_decisions import AccessDecisions
from sessionscope.http.admin import AdminApi
from sessionscope.http.body import json_response, raw_json, read_limited
from sessionscope.http.collect import CollectApi
from sessionscope.http.demo import DemoPage
from sessionscope.http.errors import ApiError, failure_of
from sessionscope.http.events import SessionEvents
from sessionscope.http.feedback import FeedbackApi
from sessionscope.http.hot_routes import (
    SESSIONS_PATH,
    Answer,
    create_answer,
    credentials,
    read_answer,
    read_answer_at_once,
    session_id_in,
)
from sessionscope.http.lists import ListsApi
from sessionscope.http.native import NativeSessions
from sessionscope.http.openapi import NATIVE_OPERATIONS, NATIVE_SECURITY, build_document, docs_page
from sessionscope.http.router import NativeRouter, Router
from sessionscope.http.rsgi import RsgiProtocol, RsgiScope, body_within, call_asgi
from sessionscope.http.sdk import SdkScript
from sessionscope.http.state import AppState
from sessionscope.http.users import UserSessions
from sessionscope.purge import PurgeTask
from sessionscope.runtime import build_state
from sessionscope.store.base import StoreError

# No store keeps NUL in text (PostgreSQL refuses it), so no request may carry one.
_NUL_REFUSED = ApiError(400, "invalid_parameter", "the path and query must not contain NUL (%00)")


def _has_nul(scope: Scope) -> bool:
    query: bytes = scope["query_string"]
    return "\x00" in scope["path"] or b"%00" in query or b"\x00" in query


def _rsgi_has_nul(path: str, query: str) -> bool:
    """As `_has_nul`; such a request goes through ASGI, which refuses it in its envelope."""
    return "\x00" in path or "%00" in query or "\x00" in query


async def _send(send: Send, answer: Answer) -> None:
    status, headers, body = answer
    raw = [(name.encode(), value.encode()) for name, value in headers]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def api_routers(state: AppState) -> list[Router]:
    """Every API module of the service. A new one is one line here."""
    return [
        NativeSessions(state),
        AdminApi(state),
        ListsApi(state),
        *compat_routers(state),
        CollectApi(state),
        SdkScript(),
        DemoPage(state),
        FeedbackApi(state),
        SessionEvents(state),
        UserSessions(state),
        AccessAdmin(state),
        AccessDecisions(state),
    ]


class SessionscopeApp:
    """Routes the hottest requests straight to their handlers; all else through Starlette."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.routers = api_routers(state)
        self.native = NativeRouter()
        operations = NATIVE_OPERATIONS + tuple(op for r in self.routers for op in r.operations)
        security = {k: v for r in self.routers for k, v in r.security.items()}
        self.openapi = build_document(operations, {**NATIVE_SECURITY, **security})
        self.starlette = Starlette(
            routes=self._routes(),
            exception_handlers={
                ApiError: self._api_error,
                HTTPException: self._http_error,
                StoreError: self._failure,
                Exception: self._failure,
            },
            lifespan=self._lifespan,
        )
        self.compat = CompatGate(self.routers, self.starlette)
        self._running: contextlib.AbstractAsyncContextManager[None] | None = None

    def _routes(self) -> list[BaseRoute]:
        own: list[BaseRoute] = [
            Route("/healthz", self._healthz, methods=["GET"]),
            Route("/readyz", self._readyz, methods=["GET"]),
            Route("/openapi.json", self._openapi, methods=["GET"]),
            Route("/docs", self._docs, methods=["GET"]),
        ]
        return own + [route for router in self.routers for route in router.routes()]

    def _router_for(self, path: str) -> Router:
        """The router whose prefix is the longest match: its envelope renders the error."""
        owners = [r for r in self.routers if r.prefix and path.startswith(r.prefix)]
        return max(owners, key=lambda r: len(r.prefix)) if owners else self.native

    def _render(self, request: Request, error: ApiError) -> Response:
        return self._router_for(request.url.path).error_response(error)

    async def _api_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return self._render(request, exc)

    async def _http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "route_not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        return self._render(request, ApiError(exc.status_code, code, str(exc.detail)))

    async def _failure(self, request: Request, exc: Exception) -> Response:
        return self._render(request, failure_of(exc))

    @contextlib.asynccontextmanager
    async def _lifespan(self, _: Starlette) -> AsyncIterator[None]:
        await self.state.store.open()
        self.state.pipeline.enricher.warm()
        # Long-lived start-up objects (parsers, geo data) need no cyclic-GC scans.
        gc.collect()
        gc.freeze()
        purging = PurgeTask(self.state.store, self.state.settings.purge_interval_seconds).start()
        try:
            yield
        finally:
            await purging.stop()
            await self.state.store.close()
            if self.state.redis is not None:
                await self.state.redis.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            method: str = scope["method"]
            path: str = scope["path"]
            if _has_nul(scope):
                await self._router_for(path).error_response(_NUL_REFUSED)(scope, receive, send)
                return
            if method == "GET":
                if (session_id := session_id_in(path)) is not None:
                    header = Headers(scope=scope).get
                    answer = read_answer_at_once(self.state, header, session_id)
                    if answer is None:
                        answer = await read_answer(self.state, credentials(header), session_id)
                    await _send(send, answer)
                    return
                if path.startswith(COMPAT_PREFIX):
                    await self.compat(scope, receive, send)
                    return
            elif method == "POST" and path == SESSIONS_PATH:
                await _send(send, await self._create_over_asgi(Request(scope, receive)))
                return
        await self.starlette(scope, receive, send)

    async def _create_over_asgi(self, request: Request) -> Answer:
        limit = self.state.settings.max_body_bytes
        declared = request.headers.get("content-length")
        return await create_answer(
            self.state, request.headers, lambda: read_limited(request.stream(), declared, limit)
        )

    # RSGI (what `sessionscope serve` runs): the hot routes natively, all else through ASGI.
    async def __rsgi__(self, scope: RsgiScope, protocol: RsgiProtocol) -> None:
        path = scope.path
        if scope.proto == "http" and not _rsgi_has_nul(path, scope.query_string):
            method = scope.method
            if method == "GET":
                if (session_id := session_id_in(path)) is not None:
                    header = scope.headers.get
                    answer = read_answer_at_once(self.state, header, session_id)
                    if answer is None:
                        answer = await read_answer(self.state, credentials(header), session_id)
                    protocol.response_bytes(*answer)
                    return
                if path.startswith(COMPAT_PREFIX) and await self.compat.rsgi(scope, protocol):
                    return
            elif method == "POST" and path == SESSIONS_PATH:
                protocol.response_bytes(*await self._create_over_rsgi(scope, protocol))
                return
        await call_asgi(self, scope, protocol)

    async def _create_over_rsgi(self, scope: RsgiScope, protocol: RsgiProtocol) -> Answer:
        limit = self.state.settings.max_body_bytes
        declared: str | None = scope.headers.get("content-length")
        return await create_answer(
            self.state,
            credentials(scope.headers.get),
            lambda: body_within(protocol, declared, limit),
        )

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start-up, run by Granian before its loop serves (the lifespan ASGI would run)."""
        self._running = self._lifespan(self.starlette)
        loop.run_until_complete(self._running.__aenter__())

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._running is not None:
            loop.run_until_complete(self._running.__aexit__(None, None, None))
            self._running = None

    async def _healthz(self, _: Request) -> Response:
        return json_response({"status": "ok"})

    async def _readyz(self, _: Request) -> Response:
        try:
            await self.state.store.ping()
        except StoreError as error:
            raise ApiError(
                503, "store_unavailable", f"the store does not answer: {error}"
            ) from None
        return json_response({"status": "ready"})

    async def _openapi(self, _: Request) -> Response:
        return raw_json(msgspec.json.encode(self.openapi))

    async def _docs(self, _: Request) -> Response:
        return HTMLResponse(docs_page(self.openapi))


def create_app(settings: Settings | None = None) -> SessionscopeApp:
    return SessionscopeApp(build_state(settings or load_settings()))
