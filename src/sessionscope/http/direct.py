"""Calling an endpoint directly, past Starlette's routing and middleware.

The hottest routes cost less to serve than the routing and middleware layers would add,
so the app hands them straight to their endpoint. Errors still render in the envelope
of the router the route belongs to, exactly as through the full stack.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from sessionscope.http.errors import ApiError
from sessionscope.http.router import Router
from sessionscope.store.base import StoreError

Endpoint = Callable[[Request], Awaitable[Response]]
log = logging.getLogger("sessionscope")


async def answer_directly(endpoint: Endpoint, router: Router, request: Request) -> Response:
    try:
        return await endpoint(request)
    except ApiError as error:
        return router.error_response(error)
    except StoreError as error:
        log.error("store error: %s", error)
        failure = ApiError(503, "store_unavailable", "the store did not answer; retry")
        return router.error_response(failure)
    except Exception as error:  # the envelope still applies; the traceback goes to the log
        log.exception("unhandled error", exc_info=error)
        failure = ApiError(500, "internal_error", "unexpected error; it has been logged")
        return router.error_response(failure)
