"""The RSGI to ASGI bridge: scope translation, streamed bodies, one-piece and streamed answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from sessionscope.http.rsgi import asgi_scope, call_asgi, host_and_port
from tests.rsgi_fakes import FakeHeaders, FakeScope


def posted_scope(method: str = "POST") -> FakeScope:
    """A request with a path to decode, a query, a repeated header and an IPv6 client."""
    headers = FakeHeaders([("x-thing", "one"), ("x-thing", "two")])
    return FakeScope("/v1/things/a b", "x=%20y&z=1", headers, method, client="[::1]:50123")


class Stream:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    async def send_bytes(self, data: bytes) -> None:
        self.sent.append(data)


class FakeProtocol:
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.answers: list[tuple[str, int, list[tuple[str, str]], Any]] = []
        self.disconnected = asyncio.Event()

    def __aiter__(self) -> AsyncIterator[bytes]:
        async def chunks() -> AsyncIterator[bytes]:
            for chunk in self.chunks:
                yield chunk

        return chunks()

    async def client_disconnect(self) -> None:
        await self.disconnected.wait()

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.answers.append(("bytes", status, headers, body))

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> Stream:
        stream = Stream()
        self.answers.append(("stream", status, headers, stream))
        return stream


@pytest.mark.parametrize(
    ("address", "expected"),
    [("127.0.0.1:8080", ("127.0.0.1", 8080)), ("[::1]:50123", ("::1", 50123))],
)
def test_addresses_become_host_and_port(address: str, expected: tuple[str, int]) -> None:
    assert host_and_port(address) == expected


def test_scope_keeps_path_query_and_repeated_headers() -> None:
    scope = asgi_scope(posted_scope())
    assert scope["type"] == "http" and scope["method"] == "POST"
    assert scope["path"] == "/v1/things/a b" and scope["query_string"] == b"x=%20y&z=1"
    assert scope["headers"] == [(b"x-thing", b"one"), (b"x-thing", b"two")]
    assert scope["client"] == ("::1", 50123) and scope["server"] == ("127.0.0.1", 8080)


async def test_body_arrives_in_chunks_and_a_single_answer_is_sent_whole() -> None:
    received: list[dict[str, Any]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while not received or received[-1]["more_body"]:
            received.append(await receive())
        await send({"type": "http.response.start", "status": 201, "headers": [(b"a", b"1")]})
        await send({"type": "http.response.body", "body": b"done"})

    protocol = FakeProtocol([b"he", b"llo"])
    await call_asgi(app, posted_scope(), protocol)
    assert b"".join(message["body"] for message in received) == b"hello"
    assert received[-1] == {"type": "http.request", "body": b"", "more_body": False}
    assert protocol.answers == [("bytes", 201, [("a", "1")], b"done")]


async def test_a_body_in_parts_is_streamed() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"one", "more_body": True})
        await send({"type": "http.response.body", "body": b"two", "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    protocol = FakeProtocol([])
    await call_asgi(app, posted_scope("GET"), protocol)
    [(kind, status, _, stream)] = protocol.answers
    assert (kind, status, stream.sent) == ("stream", 200, [b"one", b"two"])


async def test_after_the_body_receive_waits_for_the_client_to_leave() -> None:
    protocol = FakeProtocol([])
    messages: list[dict[str, Any]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        messages.append(await receive())
        waiting = asyncio.ensure_future(receive())
        await asyncio.sleep(0)
        assert not waiting.done()
        protocol.disconnected.set()
        messages.append(await waiting)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    await call_asgi(app, posted_scope("GET"), protocol)
    assert messages[-1] == {"type": "http.disconnect"}
    assert protocol.answers == [("bytes", 204, [], b"")]


async def test_an_app_that_never_answers_still_gets_a_500() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    protocol = FakeProtocol([])
    await call_asgi(app, posted_scope("GET"), protocol)
    assert protocol.answers == [("bytes", 500, [], b"")]
