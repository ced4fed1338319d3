"""The Python floor: the smallest app, served by Granian exactly as ours is (RSGI, uvloop).

Every request gets the same stored document (the file named by BENCH_FLOOR_DOC)
with no routing, no auth and no store. Measured next to nginx and to our GET,
it splits the gap in two: what Granian + uvloop cost, and what our code costs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_BODY = Path(os.environ.get("BENCH_FLOOR_DOC", "/dev/null")).read_bytes()
_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(_BODY)).encode()),
    ],
}
_BODY_MESSAGE = {"type": "http.response.body", "body": _BODY}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http":
        await send(_START)
        await send(_BODY_MESSAGE)


_RSGI_HEADERS = [("content-type", "application/json")]


class RsgiFloor:
    """The same answer over RSGI, the interface `sessionscope serve` uses."""

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        protocol.response_bytes(200, _RSGI_HEADERS, _BODY)


rsgi_app = RsgiFloor()
