"""A direct path for GETs of the compatible APIs: their few routes, matched on the path's
segments and answered straight through ASGI, without Starlette's routing, request and
response objects, which cost more than the work of a read itself.

A route with a synchronous handler (`CompatRouter.at_once_handlers`) is first answered from
this process's caches without an await when it can be; else its async handler answers.

A request none of these routes takes fully (another path, another method) goes on to the
app's own routing, which answers 404 and 405 in the dialect's envelope as usual.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

from sessionscope.dialects.shared import AtOnceHandler, CompatRequest, CompatRouter, Handler
from sessionscope.http.errors import failure_of
from sessionscope.http.router import Router
from sessionscope.http.rsgi import RsgiProtocol, RsgiScope

PREFIX = "/compat/"
_JSON = (b"content-type", b"application/json")
_RSGI_JSON = [("content-type", "application/json")]

Reply = tuple[int, bytes, int | None]  # status, body, Retry-After seconds


class DirectRoute:
    """One GET path template: its fixed segments must be equal, each `{name}` non-empty
    (what Starlette's `{name}` matches: one segment of at least one character)."""

    def __init__(
        self,
        template: str,
        handler: Handler,
        at_once: AtOnceHandler | None,
        router: CompatRouter,
    ) -> None:
        parts = template.split("/")
        self.size = len(parts)
        self.api = parts[2]  # "/compat/<api>/...": the segment that tells the APIs apart
        self.fixed = tuple((i, part) for i, part in enumerate(parts) if not part.startswith("{"))
        self.names = tuple((i, part[1:-1]) for i, part in enumerate(parts) if part.startswith("{"))
        self.handler = handler
        self.at_once = at_once
        self.router = router

    def match(self, parts: list[str]) -> dict[str, str] | None:
        for index, part in self.fixed:
            if parts[index] != part:
                return None
        params = {name: parts[index] for index, name in self.names}
        return params if all(params.values()) else None


class CompatGate:
    """Serves the compatible GETs from an ASGI scope (`__call__`) or an RSGI one (`rsgi`)."""

    def __init__(self, routers: Sequence[Router], fallback: ASGIApp) -> None:
        self._routes: dict[tuple[int, str], list[DirectRoute]] = {}
        for router in routers:
            if isinstance(router, CompatRouter) and router.prefix.startswith(PREFIX):
                at_once = router.at_once_handlers()
                for template, handler in router.direct_routes():
                    route = DirectRoute(template, handler, at_once.get(template), router)
                    self._routes.setdefault((route.size, route.api), []).append(route)
        self._fallback = fallback

    def find(self, method: str, path: str) -> tuple[DirectRoute, dict[str, str]] | None:
        """The route that takes this request fully, with its path parameters."""
        if method != "GET":
            return None
        parts = path.split("/")
        for route in self._routes.get((len(parts), parts[2] if len(parts) > 2 else ""), ()):
            params = route.match(parts)
            if params is not None:
                return route, params
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.find(scope["method"], scope["path"])
        if found is None:
            await self._fallback(scope, receive, send)
            return
        route, params = found
        request = CompatRequest.from_asgi(scope, params)
        status, body, retry_after = answer_at_once(route, request) or await answer(route, request)
        headers = [_JSON, (b"content-length", str(len(body)).encode())]
        if retry_after is not None:
            headers.append((b"retry-after", str(retry_after).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def rsgi(self, scope: RsgiScope, protocol: RsgiProtocol) -> bool:
        """Answer an RSGI request if one of the routes takes it fully; False if none does
        (the caller then goes on through ASGI, as for any other request)."""
        found = self.find(scope.method, scope.path)
        if found is None:
            return False
        route, params = found
        request = CompatRequest.from_rsgi(scope, params)
        status, body, retry_after = answer_at_once(route, request) or await answer(route, request)
        headers = (
            _RSGI_JSON if retry_after is None else [*_RSGI_JSON, ("retry-after", str(retry_after))]
        )
        protocol.response_bytes(status, headers, body)
        return True


def answer_at_once(route: DirectRoute, request: CompatRequest) -> Reply | None:
    """The answer from this process's caches, or None: then `answer`."""
    if route.at_once is None:
        return None
    try:
        body = route.at_once(request)
    except Exception as error:
        return failure_reply(route, error)
    return (200, body, None) if body is not None else None


async def answer(route: DirectRoute, request: CompatRequest) -> Reply:
    """The answer the whole way; errors in the API's envelope."""
    try:
        return 200, await route.handler(request), None
    except Exception as error:
        return failure_reply(route, error)


def failure_reply(route: DirectRoute, error: Exception) -> Reply:
    failure = failure_of(error)
    return failure.status, route.router.envelope(failure), failure.retry_after
