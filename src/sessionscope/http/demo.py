"""GET /demo: a page that loads the browser script with the demo site's key, and
GET /demo/session: that page's own session, as the site's backend would read it.

Both answer only when SESSIONSCOPE_DEMO_SITE names the demo site (`sessionscope demo`
sets it). The session read needs the demo key and the session id, reads only that
site's sessions, and is checked against the key's origins when the browser sends one.
"""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from sessionscope import demo, ingest
from sessionscope.auth.keys import Principal
from sessionscope.clock import now_ms
from sessionscope.http.body import raw_json
from sessionscope.http.collect import allowed_origin, publishable_principal
from sessionscope.http.errors import ApiError
from sessionscope.http.native import not_found, session_id_parameter
from sessionscope.http.openapi import ErrorEnvelope, Operation, Parameter
from sessionscope.http.router import NativeRouter
from sessionscope.http.sdk import static_bytes
from sessionscope.http.state import AppState
from sessionscope.model import Session

KEY_PLACEHOLDER = "{{PUBLISHABLE_KEY}}"
SITE_PLACEHOLDER = "{{SITE}}"


def _disabled() -> ApiError:
    return ApiError(
        404, "demo_disabled", "the demo is not set up here (run: sessionscope demo)", {}
    )


class DemoPage(NativeRouter):
    operations: tuple[Operation, ...] = (
        Operation(
            "get",
            "/demo",
            "Demo page: loads the browser script and shows the session it opened",
            "demo",
            {200: ("the page (text/html)", None), 404: ("no demo here", ErrorEnvelope)},
            security=(),
        ),
        Operation(
            "get",
            "/demo/session",
            "The demo page's own session (demo key and session id)",
            "demo",
            {
                200: ("the session", Session),
                401: ("not the demo key", ErrorEnvelope),
                403: ("origin not allowed", ErrorEnvelope),
                404: ("no such session of the demo site, or no demo", ErrorEnvelope),
            },
            parameters=(
                Parameter("id", "query", {"type": "string", "format": "uuid"}, "session id", True),
            ),
            security=("publishableKey",),
        ),
    )

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.template = static_bytes("demo.html").decode()

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/demo", self.page, methods=["GET"]),
            Route("/demo/session", self.session, methods=["GET"]),
        ]

    def _demo_site(self) -> tuple[str, str]:
        configured = self.state.settings.demo_site
        if configured is None or self.state.box is None:
            raise _disabled()
        tenant, _, site = configured.partition("|")
        return tenant, site

    async def page(self, _: Request) -> Response:
        tenant, site = self._demo_site()
        assert self.state.box is not None
        key = await demo.open_demo_key(self.state.store, self.state.box, tenant, site)
        if key is None:
            raise _disabled()
        page = self.template.replace(KEY_PLACEHOLDER, html.escape(key, quote=True))
        page = page.replace(SITE_PLACEHOLDER, html.escape(f"{tenant}|{site}"))
        return HTMLResponse(page, headers={"cache-control": "no-store"})

    async def session(self, request: Request) -> Response:
        tenant, site = self._demo_site()
        principal = await publishable_principal(self.state, request)
        self._require_demo_key(principal, tenant, site)
        origin = request.headers.get("origin")
        if origin is not None:  # same-origin GETs carry none
            allowed_origin(principal, origin)
        session_id = session_id_parameter(request.query_params.get("id", ""))
        stored = await self.state.store.get_session(tenant, session_id, (site,))
        if stored is None:
            raise not_found(session_id)
        return raw_json(
            ingest.current_view(stored, now_ms()), headers={"cache-control": "no-store"}
        )

    @staticmethod
    def _require_demo_key(principal: Principal, tenant: str, site: str) -> None:
        if principal.tenant != tenant or principal.site != site:
            raise ApiError(401, "unauthorized", "only the demo site's key reads demo sessions")
