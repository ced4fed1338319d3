"""Granian's RSGI interface, bridged to ASGI for the routes that are not served natively.

RSGI hands a request to Python with less work per request than ASGI (no message dicts,
one call to answer), which matters for the reads that do little else. The app answers its
hottest read natively and passes every other request through `call_asgi`, which presents
the request as ASGI scope, receive and send, so Starlette's routes run unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from starlette.types import ASGIApp, Message

from sessionscope.http.body import read_limited

_ASGI_VERSION = {"version": "3.0", "spec_version": "2.3"}


class RsgiHeaders(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...

    def items(self) -> list[tuple[str, str]]: ...


class RsgiScope(Protocol):
    proto: str
    http_version: str
    server: str
    client: str
    scheme: str
    method: str
    path: str  # percent-decoded by Granian, as ASGI's `path` is
    query_string: str
    headers: RsgiHeaders


class RsgiStream(Protocol):
    async def send_bytes(self, data: bytes) -> None: ...


class RsgiProtocol(Protocol):
    async def __call__(self) -> bytes: ...

    def __aiter__(self) -> AsyncIterator[bytes]: ...

    async def client_disconnect(self) -> None: ...

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None: ...

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> RsgiStream: ...


async def body_chunks(protocol: RsgiProtocol) -> AsyncIterator[bytes]:
    """The request body as it arrives (Granian lets the protocol be iterated only once, so
    this is the one place that does)."""
    async for chunk in protocol:
        yield chunk


async def body_within(protocol: RsgiProtocol, declared: str | None, limit: int) -> bytes:
    """The request body, at most `limit` bytes (else a 413): in one await when Content-Length
    promises no more than that (the server reads exactly that many bytes as the body), else
    chunk by chunk, so that an endless body is cut off at the limit."""
    if declared is not None and declared.isdigit() and int(declared) <= limit:
        return await protocol()
    return await read_limited(body_chunks(protocol), declared, limit)


def host_and_port(address: str) -> tuple[str, int]:
    """`127.0.0.1:8080` or `[::1]:8080` as ASGI's (host, port)."""
    host, _, port = address.rpartition(":")
    return host.removeprefix("[").removesuffix("]"), int(port)


def asgi_scope(scope: RsgiScope) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": _ASGI_VERSION,
        "http_version": scope.http_version,
        "method": scope.method,
        "scheme": scope.scheme,
        "path": scope.path,
        "query_string": scope.query_string.encode("latin-1"),
        "root_path": "",
        "headers": [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, value in scope.headers.items()
        ],
        "client": host_and_port(scope.client),
        "server": host_and_port(scope.server),
    }


class _Exchange:
    """One request's ASGI receive and send over an RSGI protocol object."""

    def __init__(self, protocol: RsgiProtocol) -> None:
        self.protocol = protocol
        self.chunks = body_chunks(protocol)
        self.body_done = False
        self.status = 500
        self.headers: list[tuple[str, str]] = []
        self.stream: RsgiStream | None = None
        self.answered = False

    async def receive(self) -> Message:
        if self.body_done:
            await self.protocol.client_disconnect()
            return {"type": "http.disconnect"}
        try:
            chunk = await self.chunks.__anext__()
        except StopAsyncIteration:
            self.body_done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = [
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in message.get("headers", ())
            ]
        elif message["type"] == "http.response.body":
            await self._body(message.get("body", b""), message.get("more_body", False))

    async def _body(self, body: bytes, more: bool) -> None:
        if self.stream is None and not more:
            self.protocol.response_bytes(self.status, self.headers, body)
            self.answered = True
            return
        if self.stream is None:
            self.stream = self.protocol.response_stream(self.status, self.headers)
            self.answered = True
        if body:
            await self.stream.send_bytes(body)


async def call_asgi(app: ASGIApp, scope: RsgiScope, protocol: RsgiProtocol) -> None:
    """Serve one RSGI HTTP request with an ASGI app."""
    exchange = _Exchange(protocol)
    await app(asgi_scope(scope), exchange.receive, exchange.send)
    if not exchange.answered:  # an app that returned without answering: never leave it hanging
        protocol.response_bytes(500, [], b"")
