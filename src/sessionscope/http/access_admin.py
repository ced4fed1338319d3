"""Admin API v1: a site's access model — entitlements, bundles, meters, credits, grants and
the default bundle of each user state (admin scope; `?site=` picks the site)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sessionscope.access import admin
from sessionscope.access.errors import AccessError
from sessionscope.access.model import (
    KINDS,
    PAGE_OF,
    STORED_KIND,
    AccessDefaults,
    Definition,
    Grant,
    GrantCreate,
    GrantPage,
)
from sessionscope.clock import now_ms
from sessionscope.http.body import json_response, read_json
from sessionscope.http.errors import ApiError, reject_unknown_parameters
from sessionscope.http.guard import authenticate, site_for
from sessionscope.http.native import parse_limit
from sessionscope.http.openapi import ErrorEnvelope, Operation, Parameter
from sessionscope.http.router import NativeRouter
from sessionscope.http.state import AppState
from sessionscope.store.access_records import GrantFilter

_TEXT = {"type": "string"}
_SITE = Parameter("site", "query", _TEXT, "the site (slug); default: the key's, else the default")
_LIMIT = Parameter(
    "limit",
    "query",
    {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
    "page size",
)
_CURSOR = Parameter("cursor", "query", _TEXT, "next_cursor of the previous page")
_ID = Parameter("id", "path", _TEXT, "the definition's id", True)
_ERRORS: dict[int, tuple[str, Any]] = {
    400: ("invalid request: the field is named in details.field", ErrorEnvelope),
    401: ("missing, unknown or revoked key", ErrorEnvelope),
    403: ("the key lacks the admin scope or the site", ErrorEnvelope),
    404: ("no such site or definition", ErrorEnvelope),
}


def access_error(error: AccessError) -> ApiError:
    return ApiError(error.status, error.code, error.message, error.details)


def _definition_operations(url_name: str, kind: type[Definition]) -> list[Operation]:
    base = f"/v1/access/{url_name}"
    name = STORED_KIND[kind]
    tag = "access"
    return [
        Operation(
            "get",
            base,
            f"List the site's {url_name}",
            tag,
            {200: (f"a page of {url_name}", PAGE_OF[kind]), **_ERRORS},
            parameters=(_SITE, _LIMIT, _CURSOR),
        ),
        Operation(
            "post",
            base,
            f"Create a {name}",
            tag,
            {201: (f"the {name}", kind), 409: ("the id is taken", ErrorEnvelope), **_ERRORS},
            request=kind,
            parameters=(_SITE,),
        ),
        Operation(
            "get",
            base + "/{id}",
            f"Get a {name}",
            tag,
            {200: (f"the {name}", kind), **_ERRORS},
            parameters=(_ID, _SITE),
        ),
        Operation(
            "put",
            base + "/{id}",
            f"Replace a {name}",
            tag,
            {200: (f"the {name}", kind), **_ERRORS},
            request=kind,
            parameters=(_ID, _SITE),
        ),
        Operation(
            "delete",
            base + "/{id}",
            f"Delete a {name} no other definition, default or grant uses",
            tag,
            {204: ("deleted", None), 409: ("still in use", ErrorEnvelope), **_ERRORS},
            parameters=(_ID, _SITE),
        ),
    ]


def _other_operations() -> list[Operation]:
    grant_id = Parameter("id", "path", _TEXT, "the grant's id", True)
    user = Parameter("user_id", "query", _TEXT, "only this user's grants")
    bundle = Parameter("bundle", "query", _TEXT, "only grants of this bundle")
    return [
        Operation(
            "get",
            "/v1/access/grants",
            "List grants of bundles to users",
            "access",
            {200: ("a page of grants", GrantPage), **_ERRORS},
            parameters=(_SITE, user, bundle, _LIMIT, _CURSOR),
        ),
        Operation(
            "post",
            "/v1/access/grants",
            "Grant a bundle to a user",
            "access",
            {201: ("the grant", Grant), 409: ("already granted", ErrorEnvelope), **_ERRORS},
            request=GrantCreate,
            parameters=(_SITE,),
        ),
        Operation(
            "delete",
            "/v1/access/grants/{id}",
            "Take a grant back",
            "access",
            {204: ("deleted", None), **_ERRORS},
            parameters=(grant_id, _SITE),
        ),
        Operation(
            "get",
            "/v1/access/defaults",
            "The default bundle of each user state",
            "access",
            {200: ("the defaults", AccessDefaults), **_ERRORS},
            parameters=(_SITE,),
        ),
        Operation(
            "put",
            "/v1/access/defaults",
            "Set the default bundle of each user state",
            "access",
            {200: ("the defaults", AccessDefaults), **_ERRORS},
            request=AccessDefaults,
            parameters=(_SITE,),
        ),
    ]


class AccessAdmin(NativeRouter):
    operations: tuple[Operation, ...] = tuple(
        op for url_name, kind in KINDS.items() for op in _definition_operations(url_name, kind)
    ) + tuple(_other_operations())

    def __init__(self, state: AppState) -> None:
        self.state = state

    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = [
            Route("/v1/access/grants", self.list_grants, methods=["GET"]),
            Route("/v1/access/grants", self.create_grant, methods=["POST"]),
            Route("/v1/access/grants/{id}", self.delete_grant, methods=["DELETE"]),
            Route("/v1/access/defaults", self.get_defaults, methods=["GET"]),
            Route("/v1/access/defaults", self.set_defaults, methods=["PUT"]),
        ]
        for url_name, kind in KINDS.items():
            base = f"/v1/access/{url_name}"
            routes += [
                Route(base, partial(self.list_definitions, kind), methods=["GET"]),
                Route(base, partial(self.create_definition, kind), methods=["POST"]),
                Route(base + "/{id}", partial(self.get_definition, kind), methods=["GET"]),
                Route(base + "/{id}", partial(self.replace_definition, kind), methods=["PUT"]),
                Route(base + "/{id}", partial(self.delete_definition, kind), methods=["DELETE"]),
            ]
        return routes

    async def _site(self, request: Request, allowed: frozenset[str]) -> tuple[str, str]:
        """(tenant, site) of an admin request whose query holds only `allowed` names."""
        principal = await authenticate(self.state, request.headers, "admin")
        params: Mapping[str, str] = request.query_params
        reject_unknown_parameters(params.keys(), allowed | {"site"})
        site = await site_for(self.state, principal, params.get("site"))
        return principal.tenant, site.slug

    # definitions -----------------------------------------------------------------
    async def list_definitions(self, kind: type[Definition], request: Request) -> Response:
        tenant, site = await self._site(request, frozenset({"limit", "cursor"}))
        limit = parse_limit(request.query_params.get("limit"))
        after = request.query_params.get("cursor")
        page, cursor = await admin.list_definitions(
            self.state.store, tenant, site, kind, after, limit
        )
        return json_response(PAGE_OF[kind](page, cursor))

    async def create_definition(self, kind: type[Definition], request: Request) -> Response:
        tenant, site = await self._site(request, frozenset())
        body: Definition = await read_json(request, self.state.settings.max_body_bytes, kind)
        try:
            made = await admin.create_definition(self.state.store, tenant, site, body, now_ms())
        except AccessError as error:
            raise access_error(error) from None
        return json_response(made, 201)

    async def get_definition(self, kind: type[Definition], request: Request) -> Response:
        tenant, site = await self._site(request, frozenset())
        object_id = request.path_params["id"]
        try:
            found = await admin.get_definition(self.state.store, tenant, site, kind, object_id)
        except AccessError as error:
            raise access_error(error) from None
        return json_response(found)

    async def replace_definition(self, kind: type[Definition], request: Request) -> Response:
        tenant, site = await self._site(request, frozenset())
        body: Definition = await read_json(request, self.state.settings.max_body_bytes, kind)
        object_id = request.path_params["id"]
        try:
            saved = await admin.replace_definition(
                self.state.store, tenant, site, object_id, body, now_ms()
            )
        except AccessError as error:
            raise access_error(error) from None
        return json_response(saved)

    async def delete_definition(self, kind: type[Definition], request: Request) -> Response:
        tenant, site = await self._site(request, frozenset())
        try:
            await admin.delete_definition(
                self.state.store, tenant, site, kind, request.path_params["id"]
            )
        except AccessError as error:
            raise access_error(error) from None
        return Response(status_code=204)

    # grants and defaults -----------------------------------------------------------
    async def list_grants(self, request: Request) -> Response:
        allowed = frozenset({"user_id", "bundle", "limit", "cursor"})
        tenant, site = await self._site(request, allowed)
        params = request.query_params
        where = GrantFilter(tenant, site, params.get("user_id"), params.get("bundle"))
        page, cursor = await admin.list_grants(
            self.state.store, where, params.get("cursor"), parse_limit(params.get("limit"))
        )
        return json_response(GrantPage(page, cursor))

    async def create_grant(self, request: Request) -> Response:
        tenant, site = await self._site(request, frozenset())
        body = await read_json(request, self.state.settings.max_body_bytes, GrantCreate)
        try:
            grant = await admin.grant_bundle(self.state.store, tenant, site, body, now_ms())
        except AccessError as error:
            raise access_error(error) from None
        return json_response(grant, 201)

    async def delete_grant(self, request: Request) -> Response:
        tenant, site = await self._site(request, frozenset())
        try:
            await admin.revoke_grant(self.state.store, tenant, site, request.path_params["id"])
        except AccessError as error:
            raise access_error(error) from None
        return Response(status_code=204)

    async def get_defaults(self, request: Request) -> Response:
        tenant, site = await self._site(request, frozenset())
        return json_response(await admin.get_defaults(self.state.store, tenant, site))

    async def set_defaults(self, request: Request) -> Response:
        tenant, site = await self._site(request, frozenset())
        body = await read_json(request, self.state.settings.max_body_bytes, AccessDefaults)
        try:
            saved = await admin.set_defaults(self.state.store, tenant, site, body, now_ms())
        except AccessError as error:
            raise access_error(error) from None
        return json_response(saved)
