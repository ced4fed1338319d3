"""Admin API v1: the tenant's own IP lists, and the global ones read-only (admin scope).

Every key of the tenant with the admin scope sees its lists; only tenant-wide keys change
them, since a list applies to every site of the tenant. A change reaches this process's
enrichment at once and other instances within SESSIONSCOPE_TENANT_LISTS_TTL_SECONDS.
"""

from __future__ import annotations

import base64

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sessionscope.auth.keys import Principal
from sessionscope.http.body import json_response, read_json
from sessionscope.http.errors import ApiError, invalid_parameter, reject_unknown_parameters
from sessionscope.http.guard import authenticate
from sessionscope.http.native import parse_limit
from sessionscope.http.openapi import ErrorEnvelope, Operation, Parameter
from sessionscope.http.router import NativeRouter
from sessionscope.http.state import AppState
from sessionscope.lists import manage
from sessionscope.lists.model import (
    EntriesAdd,
    EntriesAdded,
    EntriesRemove,
    EntriesRemoved,
    IPListCreate,
    IPListIndex,
    IPListPage,
    IPListView,
    tenant_list_view,
)

PAGE_PARAMETERS = frozenset({"limit", "cursor"})
_encoder = msgspec.json.Encoder()


def list_error(error: manage.ListError) -> ApiError:
    details = {"field": error.field} if error.field else {}
    return ApiError(error.status, error.code, error.message, details)


def encode_entry_cursor(cidr: str) -> str:
    return base64.urlsafe_b64encode(_encoder.encode([cidr])).decode().rstrip("=")


def decode_entry_cursor(text: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        (cidr,) = msgspec.json.decode(raw, type=tuple[str])
        return manage.normalise_entry(cidr, 0)
    # ValueError covers binascii.Error and base64's refusal of text that is not ASCII.
    except (ValueError, msgspec.DecodeError, manage.ListError):
        raise invalid_parameter("cursor", "not a cursor this API returned") from None


def _tenant_wide(principal: Principal) -> None:
    if principal.site is not None:
        raise ApiError(
            403,
            "forbidden",
            "a key bound to one site cannot change the tenant's lists (they apply to every site)",
        )


LIST_NAME_PARAMETER = Parameter(
    "name", "path", {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,62}$"}, "list name", True
)
_ERRORS: dict[int, tuple[str, object]] = {
    400: ("invalid request: the field is named in details.field", ErrorEnvelope),
    401: ("missing, unknown or revoked key", ErrorEnvelope),
    403: ("the key lacks the admin scope, or is bound to a site (changes)", ErrorEnvelope),
}
_NO_LIST: dict[int, tuple[str, object]] = {404: ("the tenant has no such list", ErrorEnvelope)}
_TOO_LARGE: dict[int, tuple[str, object]] = {413: ("body too large", ErrorEnvelope)}

LIST_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "get",
        "/v1/lists",
        "The tenant's IP lists, then the global ones (read-only)",
        "lists",
        {200: ("lists with their sizes", IPListIndex), **_ERRORS},
    ),
    Operation(
        "post",
        "/v1/lists",
        "Create an empty list of the tenant",
        "lists",
        {
            201: ("the list", IPListView),
            409: ("the name is taken, or the tenant has too many lists", ErrorEnvelope),
            **_TOO_LARGE,
            **_ERRORS,
        },
        request=IPListCreate,
    ),
    Operation(
        "get",
        "/v1/lists/{name}",
        "A list of the tenant and a page of its entries (CIDR order)",
        "lists",
        {200: ("the list and entries", IPListPage), **_NO_LIST, **_ERRORS},
        parameters=(
            LIST_NAME_PARAMETER,
            Parameter(
                "limit",
                "query",
                {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
                "page size",
            ),
            Parameter("cursor", "query", {"type": "string"}, "next_cursor of the previous page"),
        ),
    ),
    Operation(
        "delete",
        "/v1/lists/{name}",
        "Delete a list of the tenant and its entries",
        "lists",
        {204: ("deleted", None), **_NO_LIST, **_ERRORS},
        parameters=(LIST_NAME_PARAMETER,),
    ),
    Operation(
        "post",
        "/v1/lists/{name}/entries",
        "Add IP addresses or CIDR networks to a list (present ones are kept as they are)",
        "lists",
        {
            200: ("how many were new, and the list", EntriesAdded),
            409: ("the list would grow past its limit", ErrorEnvelope),
            **_NO_LIST,
            **_TOO_LARGE,
            **_ERRORS,
        },
        request=EntriesAdd,
        parameters=(LIST_NAME_PARAMETER,),
    ),
    Operation(
        "delete",
        "/v1/lists/{name}/entries",
        "Remove IP addresses or CIDR networks from a list",
        "lists",
        {
            200: ("how many were there, and the list", EntriesRemoved),
            **_NO_LIST,
            **_TOO_LARGE,
            **_ERRORS,
        },
        request=EntriesRemove,
        parameters=(LIST_NAME_PARAMETER,),
    ),
)


class ListsApi(NativeRouter):
    operations = LIST_OPERATIONS

    def __init__(self, state: AppState) -> None:
        self.state = state

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/v1/lists", self.index, methods=["GET"]),
            Route("/v1/lists", self.create, methods=["POST"]),
            Route("/v1/lists/{name}", self.show, methods=["GET"]),
            Route("/v1/lists/{name}", self.delete, methods=["DELETE"]),
            Route("/v1/lists/{name}/entries", self.add_entries, methods=["POST"]),
            Route("/v1/lists/{name}/entries", self.remove_entries, methods=["DELETE"]),
        ]

    async def _admin(self, request: Request) -> Principal:
        return await authenticate(self.state, request.headers, "admin")

    async def _writer(self, request: Request) -> Principal:
        principal = await self._admin(request)
        _tenant_wide(principal)
        return principal

    def _changed(self, tenant: str) -> None:
        if self.state.pipeline.tenant_lists is not None:
            self.state.pipeline.tenant_lists.invalidate(tenant)

    async def index(self, request: Request) -> Response:
        principal = await self._admin(request)
        views = await manage.all_views(
            self.state.store, principal.tenant, self.state.pipeline.enricher.lists
        )
        return json_response(IPListIndex(views))

    async def create(self, request: Request) -> Response:
        principal = await self._writer(request)
        payload = await read_json(request, self.state.settings.max_body_bytes, IPListCreate)
        try:
            record = await manage.create_list(self.state.store, principal.tenant, payload)
        except manage.ListError as error:
            raise list_error(error) from None
        return json_response(
            tenant_list_view(record), 201, {"location": f"/v1/lists/{record.name}"}
        )

    async def show(self, request: Request) -> Response:
        principal = await self._admin(request)
        params = request.query_params
        reject_unknown_parameters(params.keys(), PAGE_PARAMETERS)
        limit = parse_limit(params.get("limit"))
        after = decode_entry_cursor(params["cursor"]) if "cursor" in params else None
        try:
            record, entries, more = await manage.entries_page(
                self.state.store, principal.tenant, self._name(request), after, limit
            )
        except manage.ListError as error:
            raise list_error(error) from None
        cursor = encode_entry_cursor(entries[-1].cidr) if more and entries else None
        page = IPListPage(ip_list=tenant_list_view(record), entries=entries, next_cursor=cursor)
        return json_response(page)

    async def delete(self, request: Request) -> Response:
        principal = await self._writer(request)
        try:
            await manage.delete_list(self.state.store, principal.tenant, self._name(request))
        except manage.ListError as error:
            raise list_error(error) from None
        self._changed(principal.tenant)
        return Response(status_code=204)

    async def add_entries(self, request: Request) -> Response:
        principal = await self._writer(request)
        name = self._name(request)
        payload = await read_json(request, self.state.settings.max_body_bytes, EntriesAdd)
        try:
            added, record = await manage.add_entries(
                self.state.store, principal.tenant, name, payload
            )
        except manage.ListError as error:
            raise list_error(error) from None
        self._changed(principal.tenant)
        return json_response(EntriesAdded(added=added, ip_list=tenant_list_view(record)))

    async def remove_entries(self, request: Request) -> Response:
        principal = await self._writer(request)
        name = self._name(request)
        payload = await read_json(request, self.state.settings.max_body_bytes, EntriesRemove)
        try:
            removed, record = await manage.remove_entries(
                self.state.store, principal.tenant, name, payload
            )
        except manage.ListError as error:
            raise list_error(error) from None
        self._changed(principal.tenant)
        return json_response(EntriesRemoved(removed=removed, ip_list=tenant_list_view(record)))

    @staticmethod
    def _name(request: Request) -> str:
        name: str = request.path_params["name"]
        try:
            return manage.check_name(name)
        except manage.ListError as error:
            raise invalid_parameter("name", error.message) from None
