"""What an API module hands the app: routes, their OpenAPI operations, its error envelope."""

from __future__ import annotations

from typing import Any, Protocol

from starlette.responses import Response
from starlette.routing import BaseRoute

from sessionscope.http.errors import ApiError, native_body
from sessionscope.http.openapi import Operation


def native_error_response(error: ApiError) -> Response:
    headers = {"retry-after": str(error.retry_after)} if error.retry_after is not None else None
    return Response(native_body(error), error.status, headers, "application/json")


class Router(Protocol):
    """One API family or feature. Errors under `prefix` use this router's envelope."""

    prefix: str
    operations: tuple[Operation, ...]
    security: dict[str, Any]

    def routes(self) -> list[BaseRoute]: ...

    def error_response(self, error: ApiError) -> Response: ...


class NativeRouter:
    """Defaults for native API modules: no prefix of their own, the native envelope."""

    prefix = ""
    operations: tuple[Operation, ...] = ()
    security: dict[str, Any] = {}

    def routes(self) -> list[BaseRoute]:
        return []

    def error_response(self, error: ApiError) -> Response:
        return native_error_response(error)
