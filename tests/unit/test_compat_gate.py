"""The compatible APIs' gate: its path matching, and one answer over ASGI and over RSGI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from sessionscope.dialects.gate import CompatGate
from sessionscope.dialects.shared import AtOnceHandler, CompatRequest, CompatRouter, Handler
from sessionscope.http.errors import ApiError
from sessionscope.store.base import StoreError
from tests.rsgi_fakes import FakeHeaders, FakeScope

PREFIX = "/compat/fake"


class FakeApi(CompatRouter):
    """Two routes that echo what the handler was given, or raise what the path asks for;
    the first has a synchronous handler too, which answers only the things it names."""

    prefix = PREFIX
    operations = ()
    security: dict[str, Any] = {}

    def direct_routes(self) -> list[tuple[str, Handler]]:
        return [(PREFIX + "/v1/things/{id}", self.thing), (PREFIX + "/v1/{a}/x/{b}", self.pair)]

    def at_once_handlers(self) -> dict[str, AtOnceHandler]:
        return {PREFIX + "/v1/things/{id}": self.thing_at_once}

    def envelope(self, error: ApiError) -> bytes:
        return f"{error.status} {error.code}".encode()

    def thing_at_once(self, request: CompatRequest) -> bytes | None:
        if request.params["id"] == "over-limit":
            raise ApiError(429, "rate_limited", "counted at once", retry_after=3)
        return b"from the caches" if request.params["id"] == "cached" else None

    async def thing(self, request: CompatRequest) -> bytes:
        failure = {
            "limited": ApiError(429, "rate_limited", "slow down", retry_after=7),
            "store": StoreError("down"),
            "bug": RuntimeError("boom"),
        }.get(request.params["id"])
        if failure is not None:
            raise failure
        headers = sorted(request.headers.items())
        seen = (request.method, request.path, request.query_string, headers)
        return repr((request.params, seen)).encode()

    async def pair(self, request: CompatRequest) -> bytes:
        return repr(sorted(request.params.items())).encode()


class Fallback:
    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.paths.append(scope["path"])


@dataclass
class Answer:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


async def asgi_get(gate: CompatGate, path: str, headers: list[tuple[bytes, bytes]]) -> Answer:
    answer = Answer()

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        else:
            answer.body += message["body"]

    path_only, _, query = path.partition("?")
    scope = {
        "type": "http",
        "method": "GET",
        "path": path_only,
        "raw_path": path_only.encode(),
        "query_string": query.encode(),
        "headers": headers,
    }
    await gate(scope, receive, send)
    return answer


class RsgiProtocol:
    def __init__(self) -> None:
        self.answers: list[Answer] = []

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.answers.append(Answer(status, dict(headers), body))


async def rsgi_get(
    gate: CompatGate, path: str, headers: list[tuple[str, str]], method: str = "GET"
) -> Answer | None:
    path_only, _, query = path.partition("?")
    protocol = RsgiProtocol()
    scope = FakeScope(path_only, query, FakeHeaders(headers), method)
    if not await gate.rsgi(scope, protocol):
        return None
    [answer] = protocol.answers
    return answer


@pytest.fixture
def fallback() -> Fallback:
    return Fallback()


@pytest.fixture
def gate(fallback: Fallback) -> CompatGate:
    return CompatGate([FakeApi()], fallback)


CREDENTIALS = [("authorization", "Bearer one"), ("x-api-key", "k"), ("authorization", "two")]


async def test_a_route_gets_its_parameters_query_and_only_the_headers_it_reads(
    gate: CompatGate,
) -> None:
    headers = [*CREDENTIALS, ("x-other", "not read")]
    path = PREFIX + "/v1/things/abc?q=1"
    expected = repr(
        (
            {"id": "abc"},
            (
                "GET",
                PREFIX + "/v1/things/abc",
                "q=1",
                [("authorization", "Bearer one"), ("x-api-key", "k")],
            ),
        )
    ).encode()
    over_asgi = await asgi_get(gate, path, [(k.encode(), v.encode()) for k, v in headers])
    over_rsgi = await rsgi_get(gate, path, headers)
    assert over_asgi == Answer(
        200, {"content-type": "application/json", "content-length": str(len(expected))}, expected
    )
    assert over_rsgi == Answer(200, {"content-type": "application/json"}, expected)


async def test_templates_match_segment_by_segment(gate: CompatGate) -> None:
    answer = await rsgi_get(gate, PREFIX + "/v1/left/x/right", [])
    assert answer is not None and answer.body == b"[('a', 'left'), ('b', 'right')]"


@pytest.mark.parametrize(
    "path",
    [
        PREFIX + "/v1/things/",  # an empty parameter
        PREFIX + "/v1/things/abc/",  # one segment more
        PREFIX + "/v1/things",
        PREFIX + "/v2/things/abc",
        PREFIX + "/v1/left/y/right",
        "/compat/other/v1/things/abc",
        "/compat/",
    ],
)
async def test_what_no_route_takes_fully_goes_on_to_the_app(
    gate: CompatGate, fallback: Fallback, path: str
) -> None:
    assert await rsgi_get(gate, path, []) is None
    await asgi_get(gate, path, [])
    assert fallback.paths == [path]


async def test_other_methods_go_on_to_the_app(gate: CompatGate) -> None:
    assert await rsgi_get(gate, PREFIX + "/v1/things/abc", [], method="HEAD") is None


async def assert_answered_both_ways(
    gate: CompatGate, path: str, status: int, body: bytes, retry_after: str | None
) -> None:
    """The same answer over RSGI and over ASGI."""
    for answer in (await rsgi_get(gate, path, []), await asgi_get(gate, path, [])):
        assert answer is not None
        assert (answer.status, answer.body) == (status, body)
        assert answer.headers.get("retry-after") == retry_after


@pytest.mark.parametrize(
    ("thing", "status", "body", "retry_after"),
    [
        ("limited", 429, b"429 rate_limited", "7"),
        ("store", 503, b"503 store_unavailable", None),
        ("bug", 500, b"500 internal_error", None),
    ],
)
async def test_errors_are_answered_in_the_apis_envelope(
    gate: CompatGate, thing: str, status: int, body: bytes, retry_after: str | None
) -> None:
    await assert_answered_both_ways(gate, f"{PREFIX}/v1/things/{thing}", status, body, retry_after)


@pytest.mark.parametrize(
    ("thing", "status", "body", "retry_after"),
    [
        ("cached", 200, b"from the caches", None),
        ("over-limit", 429, b"429 rate_limited", "3"),
    ],
)
async def test_a_synchronous_handler_answers_first_and_its_errors_in_the_envelope(
    gate: CompatGate, thing: str, status: int, body: bytes, retry_after: str | None
) -> None:
    """What it answers the async handler never sees (that one would echo the request)."""
    await assert_answered_both_ways(gate, f"{PREFIX}/v1/things/{thing}", status, body, retry_after)
