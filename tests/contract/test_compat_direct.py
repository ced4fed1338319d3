"""Every compatible GET answers the same whichever way it comes in: the gate's RSGI entry,
the gate under ASGI, and Starlette's own routes (HEAD, and any request the gate passes on).

In-process, on a fresh SQLite store, so that the three paths see the very same data. Keys
are kept a minute: a GET whose key and session are cached is answered from the caches
(`read_at_once`), the others the whole way, and every way must answer alike.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from sessionscope.auth.zephr_hmac import authorization
from sessionscope.clock import now_ms, set_offset_ms
from sessionscope.config import load_settings
from sessionscope.dialects.shared import CompatRequest
from sessionscope.http.app import SessionscopeApp, create_app
from sessionscope.tenancy import InitResult, init_tenant
from tests.contract.compat import MAC_CHROME, PROFILES

Answer = tuple[int, dict[str, Any] | None, str | None]  # status, JSON body, Retry-After


@dataclass
class Local:
    app: SessionscopeApp
    tenant: InitResult
    ids: dict[str, str]


@pytest_asyncio.fixture(loop_scope="function")
async def local(tmp_path: Path) -> AsyncIterator[Local]:
    url = f"sqlite:///{tmp_path / 'sessionscope.db'}"
    app = create_app(
        load_settings({"SESSIONSCOPE_DATABASE_URL": url, "SESSIONSCOPE_KEY_CACHE_SECONDS": "60"})
    )
    await app.state.store.open()
    await app.state.store.migrate()
    try:
        tenant = await init_tenant(app.state.store, app.state.box, "acme", "web")
        ids = {}
        async with client(app, {"x-api-key": tenant.secret_key}) as native:
            for name in ("desktop", "authenticated", "anonymous"):
                made = await native.post("/v1/sessions", json=PROFILES[name])
                assert made.status_code == 201, made.text
                ids[name] = made.json()["id"]
            again = {**PROFILES["authenticated"], "user_agent": MAC_CHROME}
            assert (await native.post("/v1/sessions", json=again)).status_code == 201
        yield Local(app, tenant, ids)
    finally:
        await app.state.store.close()


def client(app: Any, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers)


class RsgiHeaders:
    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers

    def get(self, key: str, default: Any = None) -> Any:
        return self.headers.get(key, default)

    def items(self) -> list[tuple[str, str]]:
        return list(self.headers.items())


@dataclass
class RsgiScope:
    path: str
    query_string: str
    headers: RsgiHeaders
    method: str = "GET"
    proto: str = "http"


class RsgiProtocol:
    def __init__(self) -> None:
        self.answer: Answer | None = None

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.answer = (status, json.loads(body), dict(headers).get("retry-after"))


async def over_rsgi(app: SessionscopeApp, path: str, headers: dict[str, str]) -> Answer:
    path_only, _, query = path.partition("?")
    protocol = RsgiProtocol()
    taken = await app.compat.rsgi(RsgiScope(path_only, query, RsgiHeaders(headers)), protocol)
    assert taken and protocol.answer is not None
    return protocol.answer


async def over_asgi(app: Any, path: str, headers: dict[str, str]) -> Answer:
    async with client(app) as asgi:
        answer = await asgi.get(path, headers=headers)
    return answer.status_code, answer.json(), answer.headers.get("retry-after")


def without_request_id(answer: Answer) -> Answer:
    status, body, retry_after = answer
    return status, {k: v for k, v in (body or {}).items() if k != "request_id"}, retry_after


async def three_ways(local: Local, path: str, headers: dict[str, str]) -> list[Answer]:
    return [
        without_request_id(await over_rsgi(local.app, path, headers)),
        without_request_id(await over_asgi(local.app, path, headers)),
        without_request_id(await over_asgi(local.app.starlette, path, headers)),
    ]


SECRET_KEY_GETS = [
    ("/compat/isnotai/v1/sessions/{id}", "authorization"),
    ("/compat/verisoul/session/{id}", "x-api-key"),
    ("/compat/mobilenext/api/v1/sessions/{id}", "authorization"),
    ("/compat/mobilenext/api/v1/sessions?limit=2", "x-api-key"),
]


@pytest.mark.parametrize(("template", "header"), SECRET_KEY_GETS)
@pytest.mark.parametrize("profile", ["desktop", "authenticated", "missing", "bad key"])
async def test_secret_key_apis_answer_alike_every_way(
    local: Local, template: str, header: str, profile: str
) -> None:
    key = "ss_sk_unknown" if profile == "bad key" else local.tenant.secret_key
    value = f"Bearer {key}" if header == "authorization" else key
    session_id = local.ids.get(profile, "01976a9b-3a1e-7c3d-9f00-0123456789ab")
    path = template.format(id=session_id)
    first, *others = await three_ways(local, path, {header: value})
    assert all(other == first for other in others)
    expected = {"desktop": 200, "authenticated": 200, "missing": 404, "bad key": 401}[profile]
    if "verisoul" in path and profile == "missing":
        expected = 400  # Verisoul's own answer for a missing session
    if "?" in path and profile == "missing":
        expected = 200  # the list has no session id
    assert first[0] == expected, first


@pytest.mark.parametrize(("template", "header"), SECRET_KEY_GETS[:3])
async def test_a_read_once_cached_is_answered_from_the_caches_as_the_whole_way_does(
    local: Local, template: str, header: str
) -> None:
    key = local.tenant.secret_key
    headers = {header: f"Bearer {key}" if header == "authorization" else key}
    path = template.format(id=local.ids["authenticated"])
    whole_way = await over_asgi(local.app.starlette, path, headers)
    found = local.app.compat.find("GET", path)
    assert found is not None and found[0].at_once is not None
    route, params = found
    at_once = route.at_once(CompatRequest("GET", path, "", headers, params))
    assert at_once is not None
    assert without_request_id((200, json.loads(at_once), None)) == without_request_id(whole_way)


def signed(local: Local, path: str) -> dict[str, str]:
    signature = authorization(
        local.tenant.hmac_access_key,
        local.tenant.hmac_secret_key,
        "GET",
        path,
        timestamp_ms=now_ms(),
        nonce=secrets.token_hex(8),
    )
    return {"authorization": signature}


@pytest.mark.parametrize("version", ["v4/sessions/web", "v3/sessions"])
@pytest.mark.parametrize("profile", ["desktop", "authenticated", "missing"])
async def test_zephr_answers_alike_every_way(local: Local, version: str, profile: str) -> None:
    session_id = local.ids.get(profile, "01976a9b-3a1e-7c3d-9f00-0123456789ab")
    path = f"/compat/zephr/{version}/{session_id}"
    answers = [
        await over_rsgi(local.app, path, signed(local, path)),
        await over_asgi(local.app, path, signed(local, path)),
        await over_asgi(local.app.starlette, path, signed(local, path)),
    ]
    assert all(answer == answers[0] for answer in answers)
    assert answers[0][0] == (404 if profile == "missing" else 200)
    if profile == "authenticated":
        assert [s["supplied"] for s in answers[0][1]["sessions"]] == [True, False]


async def test_zephr_refuses_a_replay_whichever_way_it_comes(local: Local) -> None:
    path = f"/compat/zephr/v3/sessions/{local.ids['desktop']}"
    headers = signed(local, path)
    assert (await over_rsgi(local.app, path, headers))[0] == 200
    assert (await over_asgi(local.app, path, headers))[0] == 401
    assert (await over_asgi(local.app.starlette, path, headers))[0] == 401


async def test_isnotai_reads_a_session_whose_time_has_run_out_as_closed(local: Local) -> None:
    path = f"/compat/isnotai/v1/sessions/{local.ids['desktop']}"
    headers = {"x-api-key": local.tenant.secret_key}
    assert (await over_rsgi(local.app, path, headers))[1]["data"]["status"] == "active"
    set_offset_ms(400 * 86_400_000)  # past the session's lifetime: nothing has rewritten it
    try:
        for answer in await three_ways(local, path, headers):
            assert answer[1]["data"]["status"] == "closed"
    finally:
        set_offset_ms(0)
