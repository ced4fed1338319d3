"""GET /sdk.js: the browser script, cacheable, loadable from any page.

The file is read once; its ETag is a digest of its bytes, so a deployment that changes
the script changes the tag and revalidating browsers fetch the new one.
"""

from __future__ import annotations

import hashlib
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sessionscope.http.openapi import Operation
from sessionscope.http.router import NativeRouter

SDK_CACHE_SECONDS = 3600


def static_bytes(name: str) -> bytes:
    return resources.files("sessionscope").joinpath("static", name).read_bytes()


class ScriptAsset:
    """One static script with its validator and caching headers."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        self.headers = {
            "etag": self.etag,
            "cache-control": f"public, max-age={SDK_CACHE_SECONDS}",
            # any page may load it, also under Cross-Origin-Embedder-Policy or with SRI
            "access-control-allow-origin": "*",
            "cross-origin-resource-policy": "cross-origin",
            "x-content-type-options": "nosniff",
        }

    def response(self, request: Request) -> Response:
        if self.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=self.headers)
        return Response(self.body, headers=self.headers, media_type="text/javascript")


class SdkScript(NativeRouter):
    operations: tuple[Operation, ...] = (
        Operation(
            "get",
            "/sdk.js",
            "The browser script (load it with a data-key attribute)",
            "collect",
            {
                200: ("the script (text/javascript), cacheable for an hour", None),
                304: ("not modified (If-None-Match matched the ETag)", None),
            },
            security=(),
        ),
    )

    def __init__(self) -> None:
        self.script = ScriptAsset(static_bytes("sdk.js"))

    def routes(self) -> list[BaseRoute]:
        return [Route("/sdk.js", self.serve, methods=["GET", "HEAD"])]

    async def serve(self, request: Request) -> Response:
        return self.script.response(request)
