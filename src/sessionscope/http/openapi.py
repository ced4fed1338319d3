"""OpenAPI 3.1 generated from the msgspec types the handlers really use."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import msgspec

from sessionscope.model import (
    IssuedKey,
    KeyCreate,
    KeyView,
    Session,
    SessionCreate,
    SessionPage,
    SessionPatch,
    SiteCreate,
    SitePatch,
    SiteView,
)


class ErrorDetail(msgspec.Struct):
    code: str
    message: str
    details: dict[str, Any]


class ErrorEnvelope(msgspec.Struct):
    """The native API's error body."""

    error: ErrorDetail


class Health(msgspec.Struct):
    status: str


class SiteList(msgspec.Struct):
    data: list[SiteView]


class KeyList(msgspec.Struct):
    data: list[KeyView]


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path | query | header
    schema: dict[str, Any]
    description: str
    required: bool = False


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    tag: str
    responses: dict[int, tuple[str, Any]]
    request: Any = None
    parameters: tuple[Parameter, ...] = ()
    security: tuple[str, ...] = ("secretKey",)
    extra: dict[str, Any] = field(default_factory=dict)


SESSION_ID = Parameter("id", "path", {"type": "string", "format": "uuid"}, "session id", True)
SITE_SLUG = Parameter("slug", "path", {"type": "string"}, "site slug", True)
_NATIVE_ERRORS: dict[int, tuple[str, Any]] = {
    400: ("invalid request: the field is named in details.field", ErrorEnvelope),
    401: ("missing, unknown or revoked key", ErrorEnvelope),
    403: ("the key lacks the scope or the site", ErrorEnvelope),
}


def _list_parameters() -> tuple[Parameter, ...]:
    text = {"type": "string"}
    return (
        Parameter("site", "query", text, "only this site (slug)"),
        Parameter("user_id", "query", text, "only sessions of this user"),
        Parameter("device_id", "query", text, "only sessions of this device"),
        Parameter(
            "state",
            "query",
            {"enum": ["anonymous", "recognised", "partially_registered", "authenticated"]},
            "only this state",
        ),
        Parameter(
            "status",
            "query",
            {"enum": ["active", "expired", "released", "revoked"]},
            "only this status, as of now",
        ),
        Parameter(
            "since", "query", {"type": "string", "format": "date-time"}, "created at or after"
        ),
        Parameter("until", "query", {"type": "string", "format": "date-time"}, "created before"),
        Parameter(
            "limit",
            "query",
            {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
            "page size",
        ),
        Parameter("cursor", "query", text, "next_cursor of the previous page"),
    )


NATIVE_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "post",
        "/v1/sessions",
        "Open a session",
        "sessions",
        {
            201: ("the new session", Session),
            404: ("no such site in the tenant (site_not_found)", ErrorEnvelope),
            409: ("the id is taken", ErrorEnvelope),
            413: ("body too large", ErrorEnvelope),
            **_NATIVE_ERRORS,
        },
        request=SessionCreate,
    ),
    Operation(
        "get",
        "/v1/sessions",
        "List sessions, newest first",
        "sessions",
        {
            200: ("a page of sessions", SessionPage),
            404: ("no such site in the tenant (site_not_found)", ErrorEnvelope),
            **_NATIVE_ERRORS,
        },
        parameters=_list_parameters(),
    ),
    Operation(
        "get",
        "/v1/sessions/{id}",
        "Get a session",
        "sessions",
        {200: ("the session", Session), 404: ("no such session", ErrorEnvelope), **_NATIVE_ERRORS},
        parameters=(SESSION_ID,),
    ),
    Operation(
        "patch",
        "/v1/sessions/{id}",
        "Change a session's user, state or site data",
        "sessions",
        {
            200: ("the changed session", Session),
            404: ("no such session", ErrorEnvelope),
            409: ("the session is no longer active", ErrorEnvelope),
            **_NATIVE_ERRORS,
        },
        request=SessionPatch,
        parameters=(SESSION_ID,),
    ),
    Operation(
        "post",
        "/v1/sessions/{id}/release",
        "Release (end) a session",
        "sessions",
        {
            200: ("the released session", Session),
            404: ("no such session", ErrorEnvelope),
            **_NATIVE_ERRORS,
        },
        parameters=(SESSION_ID,),
    ),
    Operation(
        "get",
        "/v1/sites",
        "List the tenant's sites",
        "admin",
        {200: ("sites", SiteList), **_NATIVE_ERRORS},
    ),
    Operation(
        "post",
        "/v1/sites",
        "Create a site",
        "admin",
        {201: ("the site", SiteView), 409: ("the slug is taken", ErrorEnvelope), **_NATIVE_ERRORS},
        request=SiteCreate,
    ),
    Operation(
        "get",
        "/v1/sites/{slug}",
        "Get a site and its settings",
        "admin",
        {200: ("the site", SiteView), 404: ("no such site", ErrorEnvelope), **_NATIVE_ERRORS},
        parameters=(SITE_SLUG,),
    ),
    Operation(
        "patch",
        "/v1/sites/{slug}",
        "Make a site the default, or change some of its settings",
        "admin",
        {200: ("the site", SiteView), 404: ("no such site", ErrorEnvelope), **_NATIVE_ERRORS},
        request=SitePatch,
        parameters=(SITE_SLUG,),
    ),
    Operation(
        "get",
        "/v1/keys",
        "List the tenant's keys (never their secrets)",
        "admin",
        {200: ("keys", KeyList), **_NATIVE_ERRORS},
    ),
    Operation(
        "post",
        "/v1/keys",
        "Create a key; its secret is shown only in this answer",
        "admin",
        {
            201: ("the key with its secret", IssuedKey),
            404: ("no such site in the tenant (site_not_found)", ErrorEnvelope),
            **_NATIVE_ERRORS,
        },
        request=KeyCreate,
    ),
    Operation(
        "delete",
        "/v1/keys/{id}",
        "Revoke a key",
        "admin",
        {204: ("revoked", None), 404: ("no such live key", ErrorEnvelope), **_NATIVE_ERRORS},
        parameters=(Parameter("id", "path", {"type": "string"}, "key id", True),),
    ),
    Operation("get", "/healthz", "Liveness", "operations", {200: ("alive", Health)}, security=()),
    Operation(
        "get",
        "/readyz",
        "Readiness: the store answers",
        "operations",
        {200: ("ready", Health), 503: ("the store does not answer", ErrorEnvelope)},
        security=(),
    ),
)

NATIVE_SECURITY: dict[str, Any] = {
    "secretKey": {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
        "description": "a secret key; `Authorization: Bearer <key>` works too",
    },
}


def build_document(
    operations: tuple[Operation, ...], security_schemes: dict[str, Any]
) -> dict[str, Any]:
    types = sorted({kind for op in operations for kind in _types_of(op)}, key=_type_name)
    schemas, components = msgspec.json.schema_components(
        types, ref_template="#/components/schemas/{name}"
    )
    refs = dict(zip(types, schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Sessionscope",
            "version": "1",
            "description": "Session intelligence: native API and compatible read APIs.",
        },
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": security_schemes},
    }


def _type_name(kind: Any) -> str:
    """A sort key for a Struct, or for a union of them (a tagged request body)."""
    return getattr(kind, "__name__", None) or repr(kind)


def _types_of(op: Operation) -> list[Any]:
    found = [kind for _, kind in op.responses.values() if kind is not None]
    return found + ([op.request] if op.request is not None else [])


def _operation(op: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "summary": op.summary,
        "tags": [op.tag],
        "operationId": f"{op.method}_{op.path}".replace("/", "_").replace("{", "").replace("}", ""),
        "security": [{name: []} for name in op.security],
        "parameters": [
            {
                "name": p.name,
                "in": p.location,
                "required": p.required or p.location == "path",
                "schema": p.schema,
                "description": p.description,
            }
            for p in op.parameters
        ],
        "responses": {
            str(status): _response(text, kind, refs)
            for status, (text, kind) in op.responses.items()
        },
        **op.extra,
    }
    if op.request is not None:
        body["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[op.request]}},
        }
    return body


def _response(text: str, kind: Any, refs: dict[Any, Any]) -> dict[str, Any]:
    if kind is None:
        return {"description": text}
    return {"description": text, "content": {"application/json": {"schema": refs[kind]}}}


def docs_page(document: dict[str, Any]) -> str:
    """A self-contained reference page (no scripts from elsewhere)."""
    rows = []
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            statuses = ", ".join(op["responses"])
            params = ", ".join(p["name"] for p in op["parameters"]) or "none"
            rows.append(
                f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code>"
                f"</td><td>{html.escape(op['summary'])}</td><td>{html.escape(params)}</td>"
                f"<td>{statuses}</td></tr>"
            )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Sessionscope API</title>"
        "<style>body{font:15px system-ui;margin:2em;max-width:70em}td,th{padding:.3em .6em;"
        "border-bottom:1px solid #ddd;text-align:left}code{font-size:13px}</style></head><body>"
        "<h1>Sessionscope API</h1><p>The machine-readable document is "
        "<a href='/openapi.json'>/openapi.json</a> (OpenAPI 3.1); load it into any OpenAPI "
        "viewer or client generator.</p><table><tr><th>method</th><th>path</th><th>what</th>"
        "<th>parameters</th><th>answers</th></tr>" + "".join(rows) + "</table></body></html>"
    )
