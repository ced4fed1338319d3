"""The native error envelope: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Iterable
from typing import Any

import msgspec

from sessionscope.store.base import StoreError

log = logging.getLogger("sessionscope")
_encoder = msgspec.json.Encoder()
_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_NAMED = re.compile(r"(?:unknown|missing required) field `(?P<name>[^`]*)`")


class ApiError(Exception):
    """An error answer. Each API family renders it in its own envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.retry_after = retry_after


def failure_of(error: Exception) -> ApiError:
    """The answer to an exception a handler raised: an ApiError as it is, 503 for a store
    that did not answer, 500 for anything else (logged with its traceback)."""
    if isinstance(error, ApiError):
        return error
    if isinstance(error, StoreError):
        log.error("store error: %s", error)
        return ApiError(503, "store_unavailable", "the store did not answer; retry")
    log.exception("unhandled error", exc_info=error)
    return ApiError(500, "internal_error", "unexpected error; it has been logged")


def native_body(error: ApiError) -> bytes:
    return _encoder.encode(
        {"error": {"code": error.code, "message": error.message, "details": error.details}}
    )


def field_of(path: str) -> str:
    """msgspec's `$.user.id` / `$[0]` path as a dotted field name."""
    return path.lstrip(".").replace("[", ".").replace("]", "") or "body"


def validation_error(error: msgspec.ValidationError | msgspec.DecodeError) -> ApiError:
    text = str(error)
    match = _PATH.search(text)
    if isinstance(error, msgspec.ValidationError):
        field = field_of(match.group("path")) if match else "body"
        message = _PATH.sub("", text)
        unknown = _NAMED.search(message)
        if unknown:
            field = f"{field}.{unknown.group('name')}" if field != "body" else unknown.group("name")
        return ApiError(400, "invalid_field", f"{field}: {message}", {"field": field})
    return ApiError(400, "invalid_json", f"request body is not valid JSON: {text}")


def invalid_parameter(name: str, message: str) -> ApiError:
    return ApiError(400, "invalid_parameter", f"{name}: {message}", {"field": name})


def reject_unknown_parameters(names: Iterable[str], allowed: Collection[str]) -> None:
    """A query parameter this endpoint does not take is a mistake worth saying so."""
    unknown = sorted(set(names) - set(allowed))
    if unknown:
        raise invalid_parameter(unknown[0], "unknown query parameter")
