"""The two hottest native routes, answered without Starlette: GET /v1/sessions/{id} and
POST /v1/sessions. Each gives status, headers and body, with errors in the native envelope,
for the app to send over RSGI in one call (or over ASGI in two messages)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from sessionscope.http.errors import failure_of, native_body
from sessionscope.http.native import create_session, read_session, read_session_at_once
from sessionscope.http.state import AppState

SESSIONS_PATH = "/v1/sessions"
SESSION_PREFIX = SESSIONS_PATH + "/"
CREDENTIAL_NAMES = ("x-api-key", "authorization")
JSON = ("content-type", "application/json")

Headers = list[tuple[str, str]]
Answer = tuple[int, Headers, bytes]


def session_id_in(path: str) -> str | None:
    """The id in `/v1/sessions/{id}`, or None for any other path."""
    if path.startswith(SESSION_PREFIX) and "/" not in path[len(SESSION_PREFIX) :]:
        return path[len(SESSION_PREFIX) :]
    return None


def credentials(header: Callable[[str], str | None]) -> dict[str, str]:
    """Just the headers that carry a key, looked up by name: all authentication reads."""
    found = {name: header(name) for name in CREDENTIAL_NAMES}
    return {name: value for name, value in found.items() if value is not None}


def read_answer_at_once(
    state: AppState, header: Callable[[str], str | None], raw_id: str
) -> Answer | None:
    """The answer from this process's caches, or None: then `read_answer`."""
    doc = read_session_at_once(state, header, raw_id)
    return (200, [JSON], doc) if doc is not None else None


async def read_answer(state: AppState, headers: Mapping[str, str], raw_id: str) -> Answer:
    try:
        return 200, [JSON], await read_session(state, headers, raw_id)
    except Exception as error:
        return _failure_answer(error)


async def create_answer(
    state: AppState, headers: Mapping[str, str], body: Callable[[], Awaitable[bytes]]
) -> Answer:
    try:
        created = await create_session(state, headers, body)
    except Exception as error:
        return _failure_answer(error)
    return 201, [JSON, ("location", created.location)], created.doc


def _failure_answer(error: Exception) -> Answer:
    failure = failure_of(error)
    headers = [JSON]
    if failure.retry_after is not None:
        headers.append(("retry-after", str(failure.retry_after)))
    return failure.status, headers, native_body(failure)
