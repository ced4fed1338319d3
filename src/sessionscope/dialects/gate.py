"""A direct path for GETs of the compatible APIs: their few routes, without the app's full
routing and middleware, which cost more than the work of a read itself.

A request none of these routes takes fully (another path, another method) goes on to the
app's own routing, which answers 404 and 405 in the dialect's envelope as usual.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from sessionscope.http.errors import ApiError
from sessionscope.http.router import Router
from sessionscope.store.base import StoreError

PREFIX = "/compat/"
log = logging.getLogger("sessionscope")


class CompatGate:
    def __init__(self, routers: Sequence[Router], fallback: ASGIApp) -> None:
        self._routes = [
            (route, router)
            for router in routers
            if router.prefix.startswith(PREFIX)
            for route in router.routes()
            if isinstance(route, Route)
        ]
        self._fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        for route, router in self._routes:
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope.update(child_scope)
                response = await answer(route, router, Request(scope, receive))
                await response(scope, receive, send)
                return
        await self._fallback(scope, receive, send)


async def answer(route: Route, router: Router, request: Request) -> Response:
    try:
        response: Response = await route.endpoint(request)
    except ApiError as error:
        return router.error_response(error)
    except StoreError as error:
        log.error("store error: %s", error)
        failure = ApiError(503, "store_unavailable", "the store did not answer; retry")
        return router.error_response(failure)
    except Exception as error:  # the envelope still applies; the traceback goes to the log
        log.exception("unhandled error", exc_info=error)
        failure = ApiError(500, "internal_error", "unexpected error; it has been logged")
        return router.error_response(failure)
    return response
