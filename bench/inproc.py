"""In-process measurements: a call's cost next to a no-op measured in the same run.

These need no data set and no server. Later ones (enrichment in-process against
a no-op enricher) follow the same shape: build inputs once, `measure` a
zero-argument callable, and return `micro_result`.
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import random
from typing import Any

import msgspec

from bench.context import Context
from bench.load import create_body, random_ip
from bench.micro import Micro, measure
from bench.registry import Result, measurement
from sessionscope import ingest
from sessionscope.clock import now_ms
from sessionscope.config import load_settings
from sessionscope.model import SessionCreate, Site


def micro_result(name: str, description: str, micro: Micro, reference: str = "noop") -> Result:
    return Result(
        name=name,
        description=description,
        value=micro.ns,
        unit="ns/call",
        reference=reference,
        reference_value=micro.reference_ns,
        ratio=micro.ratio,
        details={
            "net_ns": micro.net_ns,
            "loops": micro.loops,
            "rounds": micro.rounds,
            "clock": micro.clock,
        },
    )


def _sample_site() -> Site:
    return Site(
        tenant="bench",
        slug="web",
        uuid="3f0c1a52-8a59-4a4e-9a55-0d6e2d1c6b10",
        is_default=True,
        created_at="2024-01-01T00:00:00.000Z",
    )


def _sample_payload() -> SessionCreate:
    rng = random.Random(3)
    return msgspec.convert(create_body(rng, random_ip(rng)), SessionCreate)


@measurement("new_session", "ingest.new_session: build a document from a create request")
def new_session(ctx: Context) -> Result:
    payload, site, at = _sample_payload(), _sample_site(), now_ms()
    micro = measure(lambda: ingest.new_session(payload, site, 365, at))
    return micro_result("new_session", "ingest.new_session (in-process)", micro)


@measurement("encode_session", "msgspec JSON encoding of a session document")
def encode_session(ctx: Context) -> Result:
    session = ingest.new_session(_sample_payload(), _sample_site(), 365, now_ms())
    encode = msgspec.json.Encoder().encode
    micro = measure(lambda: encode(session))
    return micro_result("encode_session", "encode a session to JSON (in-process)", micro)


@measurement("asgi_get", "the app's GET /v1/sessions/{id} called in-process (no HTTP server)")
def asgi_get(ctx: Context) -> Result:
    """What our code costs per GET, next to a do-nothing ASGI app driven the same way.

    Both run on one event loop through `run_until_complete`, so the ratio is the app's
    work (auth, id check, store read) over the bare ASGI call; the difference between
    this and the server's CPU per request is what Granian and the network add.
    """
    data = ctx.dataset()
    keys = ctx.keys()
    app_module = importlib.import_module("sessionscope.http.app")
    settings = load_settings().with_overrides(database_url=ctx.database_url)
    app = app_module.create_app(settings)
    shuffled = list(data.ids)
    random.Random(5).shuffle(shuffled)
    ids = itertools.cycle(shuffled)
    headers = [(b"host", b"127.0.0.1"), (b"x-api-key", keys.secret_key.encode())]
    body = data.typical_doc
    statuses: dict[int, int] = {}

    def scope() -> dict[str, Any]:
        return {
            "type": "http",
            "method": "GET",
            "path": f"/v1/sessions/{next(ids)}",
            "headers": headers,
            "query_string": b"",
        }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses[message["status"]] = statuses.get(message["status"], 0) + 1

    async def bare(_: dict[str, Any], __: Any, send_: Any) -> None:
        length = str(len(body)).encode()
        await send_({"type": "http.response.start", "status": 200, "headers": [length]})
        await send_({"type": "http.response.body", "body": body})

    loop = asyncio.new_event_loop()
    try:
        micro = measure(
            lambda: loop.run_until_complete(app(scope(), receive, send)),
            lambda: loop.run_until_complete(bare(scope(), receive, send)),
        )
    finally:
        loop.run_until_complete(app.state.store.close())
        loop.close()
    ours = {status: n for status, n in statuses.items()}
    if set(ours) != {200}:
        raise RuntimeError(f"in-process GETs answered {ours}, not only 200")
    return micro_result("asgi_get", "GET in-process, vs a bare ASGI call", micro, "bare ASGI")
