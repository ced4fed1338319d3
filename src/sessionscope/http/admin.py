"""Admin API v1: sites and keys of the caller's tenant (admin scope)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sessionscope import tenancy
from sessionscope.auth.keys import Principal
from sessionscope.clock import ms_to_rfc3339, now_ms
from sessionscope.http.body import json_response, read_json
from sessionscope.http.errors import ApiError
from sessionscope.http.guard import authenticate
from sessionscope.http.router import NativeRouter
from sessionscope.http.state import AppState
from sessionscope.model import KeyCreate, SiteCreate, SitePatch, key_view, site_view


def tenancy_error(error: tenancy.TenancyError) -> ApiError:
    return ApiError(error.status, error.code, error.message)


def _tenant_wide(principal: Principal) -> None:
    if principal.site is not None:
        raise ApiError(403, "forbidden", "a key bound to one site cannot manage the tenant's sites")


class AdminApi(NativeRouter):
    def __init__(self, state: AppState) -> None:
        self.state = state

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/v1/sites", self.list_sites, methods=["GET"]),
            Route("/v1/sites", self.create_site, methods=["POST"]),
            Route("/v1/sites/{slug}", self.get_site, methods=["GET"]),
            Route("/v1/sites/{slug}", self.update_site, methods=["PATCH"]),
            Route("/v1/keys", self.list_keys, methods=["GET"]),
            Route("/v1/keys", self.create_key, methods=["POST"]),
            Route("/v1/keys/{id}", self.revoke_key, methods=["DELETE"]),
        ]

    async def _admin(self, request: Request) -> Principal:
        return await authenticate(self.state, request.headers, "admin")

    async def list_sites(self, request: Request) -> Response:
        principal = await self._admin(request)
        sites = await self.state.store.list_sites(principal.tenant)
        visible = [s for s in sites if principal.site in (None, s.slug)]
        return json_response({"data": [site_view(site) for site in visible]})

    async def create_site(self, request: Request) -> Response:
        principal = await self._admin(request)
        _tenant_wide(principal)
        body = await read_json(request, self.state.settings.max_body_bytes, SiteCreate)
        try:
            site = await tenancy.create_site(
                self.state.store, principal.tenant, body.slug, body.default
            )
        except tenancy.TenancyError as error:
            raise tenancy_error(error) from None
        return json_response(site_view(site), 201)

    async def get_site(self, request: Request) -> Response:
        principal = await self._admin(request)
        slug = request.path_params["slug"]
        site = await self.state.store.get_site(principal.tenant, slug)
        if site is None or principal.site not in (None, slug):
            raise ApiError(404, "site_not_found", f"no site {slug!r} in this tenant")
        return json_response(site_view(site))

    async def update_site(self, request: Request) -> Response:
        principal = await self._admin(request)
        _tenant_wide(principal)
        patch = await read_json(request, self.state.settings.max_body_bytes, SitePatch)
        try:
            site = await tenancy.update_site(
                self.state.store, principal.tenant, request.path_params["slug"], patch
            )
        except tenancy.TenancyError as error:
            raise tenancy_error(error) from None
        return json_response(site_view(site))

    async def list_keys(self, request: Request) -> Response:
        principal = await self._admin(request)
        keys = await self.state.store.list_keys(principal.tenant)
        visible = [k for k in keys if principal.site in (None, k.site)]
        return json_response({"data": [key_view(key) for key in visible]})

    async def create_key(self, request: Request) -> Response:
        principal = await self._admin(request)
        body = await read_json(request, self.state.settings.max_body_bytes, KeyCreate)
        if principal.site is not None and body.site != principal.site:
            raise ApiError(
                403,
                "site_forbidden",
                f"this key may only create keys bound to site {principal.site!r}",
                {"field": "site"},
            )
        try:
            issued = await tenancy.create_key(
                self.state.store,
                self.state.box,
                tenant=principal.tenant,
                kind=body.kind,
                site=body.site,
                scopes=body.scopes,
                origins=body.origins,
            )
        except tenancy.TenancyError as error:
            raise tenancy_error(error) from None
        return json_response(issued, 201)

    async def revoke_key(self, request: Request) -> Response:
        principal = await self._admin(request)
        key_id = request.path_params["id"]
        keys = await self.state.store.list_keys(principal.tenant)
        target = next(
            (k for k in keys if k.id == key_id and principal.site in (None, k.site)), None
        )
        if target is None or target.revoked_at is not None:
            raise ApiError(404, "key_not_found", f"no live key {key_id}", {"id": key_id})
        await self.state.store.revoke_key(principal.tenant, key_id, ms_to_rfc3339(now_ms()))
        self.state.verifier.forget(key_id)
        return Response(status_code=204)
