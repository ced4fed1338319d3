"""Reading request bodies within the size limit, and JSON responses."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sessionscope.http.errors import ApiError, validation_error

T = TypeVar("T")
_encoder = msgspec.json.Encoder()
# \u0000 in JSON text that is not itself an escaped backslash followed by "u0000".
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
JSON = "application/json"


# A refused body is read (and dropped) up to this many times the limit before the
# answer, so that clients still sending see the 413 rather than a reset connection.
_DRAIN_FACTOR = 16


async def read_body(request: Request, limit: int) -> bytes:
    return await read_limited(request.stream(), request.headers.get("content-length"), limit)


async def read_limited(stream: AsyncIterator[bytes], declared: str | None, limit: int) -> bytes:
    """A request body of at most `limit` bytes from its chunks; `declared` is Content-Length."""
    if declared is not None and not declared.isdigit():
        raise ApiError(400, "invalid_content_length", "Content-Length must be a number")
    if declared is not None and int(declared) > limit:
        await _drain(stream, limit * _DRAIN_FACTOR)
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if size > limit:
            await _drain(stream, limit * _DRAIN_FACTOR - size)
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def _drain(stream: AsyncIterator[bytes], budget: int) -> None:
    async for chunk in stream:
        budget -= len(chunk)
        if budget <= 0:
            return


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413, "payload_too_large", f"request body is over {limit} bytes", {"limit": limit}
    )


async def read_json(request: Request, limit: int, kind: type[T]) -> T:
    """Decode the body as JSON into `kind`, whatever Content-Type says (curl's default
    form type included): the body must be JSON either way."""
    return decode_json(await read_body(request, limit), kind)


def decode_json(body: bytes, kind: type[T]) -> T:
    if b"\\u0000" in body and _ESCAPED_NUL.search(body):
        raise ApiError(400, "invalid_json", "strings must not contain NUL (\\u0000)")
    if not body.strip():
        raise ApiError(400, "invalid_json", "request body is empty; send a JSON object")
    try:
        return msgspec.json.decode(body, type=kind)
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise validation_error(error) from None


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return raw_json(_encoder.encode(payload), status, headers)


def raw_json(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type=JSON, headers=headers)
