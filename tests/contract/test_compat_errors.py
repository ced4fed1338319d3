"""Every error of the compatible APIs, each in its own system's envelope (both stores)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import Stack
from tests.contract.compat import (
    MAC_CHROME,
    acme_zephr_get,
    create_session,
    new_key,
    zephr_get,
    zephr_signature,
)
from tests.contract.specs import ISNOTAI_ERROR, MOBILENEXT_ERROR, ZEPHR_ERROR, validate
from tests.server import Server, init_tenant

ZEPHR_404 = {"message": "No session found. The site or the session ID is invalid."}
VERISOUL_400 = {"statusCode": 400, "message": "Session ID not found"}
MISSING = "0190a000-0000-7000-8000-000000000000"


@pytest.fixture(scope="module")
def globex_session(stack: Stack) -> dict[str, Any]:
    with stack.client(stack.key("globex")) as client:
        return create_session(client, {"ip": "81.2.69.142", "user_agent": MAC_CHROME})


@pytest.fixture(scope="module")
def shop_session(stack: Stack) -> dict[str, Any]:
    with stack.client(stack.key()) as client:
        return create_session(
            client, {"ip": "81.2.69.142", "user_agent": MAC_CHROME, "site": "shop"}
        )


def get(stack: Stack, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.get(f"{stack.base_url}{path}", headers=headers or {}, timeout=30)


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def zephr_401(answer: httpx.Response, fragment: str) -> None:
    assert answer.status_code == 401, answer.text
    validate(answer.json(), ZEPHR_ERROR)
    assert fragment in answer.json()["message"]


# ---- Zephr -----------------------------------------------------------------------------


def test_zephr_without_authorization_is_401(stack: Stack) -> None:
    zephr_401(get(stack, f"/compat/zephr/v3/sessions/{MISSING}"), "ZEPHR-HMAC-SHA256")


def test_zephr_with_a_secret_key_instead_of_a_signature_is_401(stack: Stack) -> None:
    answer = get(stack, f"/compat/zephr/v3/sessions/{MISSING}", bearer(stack.key()))
    zephr_401(answer, "ZEPHR-HMAC-SHA256")


def test_zephr_with_a_malformed_header_is_401(stack: Stack) -> None:
    headers = {"authorization": "ZEPHR-HMAC-SHA256 onlythree:1:2"}
    zephr_401(get(stack, f"/compat/zephr/v3/sessions/{MISSING}", headers), "ZEPHR-HMAC-SHA256")


def test_zephr_with_an_unknown_access_key_is_401(stack: Stack) -> None:
    answer = zephr_get(stack.base_url, f"/v3/sessions/{MISSING}", "ss_ak_unknown", "secret")
    zephr_401(answer, "unknown or revoked")


def test_zephr_with_a_wrong_secret_is_401(stack: Stack) -> None:
    access = stack.tenants["acme"]["hmac_access_key"]
    answer = zephr_get(stack.base_url, f"/v3/sessions/{MISSING}", access, "ss_hs_wrong")
    zephr_401(answer, "signature does not match")


def test_zephr_signature_of_another_path_is_401(stack: Stack) -> None:
    answer = acme_zephr_get(stack, f"/v3/sessions/{MISSING}", signed_path="/v3/sessions/other")
    zephr_401(answer, "signature does not match")


def test_zephr_with_a_stale_timestamp_is_401(stack: Stack) -> None:
    stale = int(time.time() * 1000) - 6 * 60 * 1000
    answer = acme_zephr_get(stack, f"/v3/sessions/{MISSING}", timestamp_ms=stale)
    zephr_401(answer, "5 minutes")


def test_zephr_with_a_revoked_key_pair_is_401(stack: Stack) -> None:
    pair = new_key(stack, kind="hmac")
    with stack.client(stack.key()) as client:
        assert client.delete(f"/v1/keys/{pair['id']}").status_code == 204
    answer = zephr_get(
        stack.base_url, f"/v3/sessions/{MISSING}", pair["access_key"], pair["secret_key"]
    )
    zephr_401(answer, "unknown or revoked")


@pytest.mark.parametrize("version", ["v3", "v4"])
def test_zephr_unknown_session_is_404(stack: Stack, version: str) -> None:
    path = f"/v3/sessions/{MISSING}" if version == "v3" else f"/v4/sessions/web/{MISSING}"
    answer = acme_zephr_get(stack, path)
    assert answer.status_code == 404 and answer.json() == ZEPHR_404


@pytest.mark.parametrize("version", ["v3", "v4"])
def test_zephr_other_tenants_session_is_404(
    stack: Stack, globex_session: dict[str, Any], version: str
) -> None:
    session_id = globex_session["id"]
    path = f"/v3/sessions/{session_id}" if version == "v3" else f"/v4/sessions/web/{session_id}"
    answer = acme_zephr_get(stack, path)
    assert answer.status_code == 404 and answer.json() == ZEPHR_404


def test_zephr_v4_with_another_site_or_no_such_site_is_404(
    stack: Stack, shop_session: dict[str, Any]
) -> None:
    for site in ("web", "nosuchsite"):
        answer = acme_zephr_get(stack, f"/v4/sessions/{site}/{shop_session['id']}")
        assert answer.status_code == 404 and answer.json() == ZEPHR_404
    found = acme_zephr_get(stack, f"/v4/sessions/shop/{shop_session['id']}")
    assert found.status_code == 200


def test_zephr_site_bound_key_pair_sees_only_its_site(
    stack: Stack, shop_session: dict[str, Any]
) -> None:
    pair = new_key(stack, kind="hmac", site="web")
    for path in (f"/v3/sessions/{shop_session['id']}", f"/v4/sessions/shop/{shop_session['id']}"):
        answer = zephr_get(stack.base_url, path, pair["access_key"], pair["secret_key"])
        assert answer.status_code == 404 and answer.json() == ZEPHR_404


def test_zephr_key_pair_without_read_scope_is_401(stack: Stack) -> None:
    pair = new_key(stack, kind="hmac", scopes=["write"])
    answer = zephr_get(
        stack.base_url, f"/v3/sessions/{MISSING}", pair["access_key"], pair["secret_key"]
    )
    zephr_401(answer, "read scope")


def test_zephr_unknown_route_and_method_use_its_envelope(stack: Stack) -> None:
    missing = get(stack, "/compat/zephr/v9/nothing")
    assert missing.status_code == 404
    validate(missing.json(), ZEPHR_ERROR)
    headers = zephr_signature("a", "b", f"/v3/sessions/{MISSING}", method="POST")
    wrong = httpx.post(f"{stack.base_url}/compat/zephr/v3/sessions/{MISSING}", headers=headers)
    assert wrong.status_code == 405
    validate(wrong.json(), ZEPHR_ERROR)


# ---- Verisoul --------------------------------------------------------------------------


def verisoul(stack: Stack, session_id: str, headers: dict[str, str]) -> httpx.Response:
    return get(stack, f"/compat/verisoul/session/{session_id}", headers)


def verisoul_401(answer: httpx.Response) -> None:
    assert answer.status_code == 401, answer.text
    body = answer.json()
    assert set(body) == {"statusCode", "message"} and body["statusCode"] == 401


def test_verisoul_without_a_key_is_401(stack: Stack) -> None:
    verisoul_401(verisoul(stack, MISSING, {}))


def test_verisoul_with_an_unknown_key_is_401(stack: Stack) -> None:
    verisoul_401(verisoul(stack, MISSING, {"x-api-key": "ss_sk_unknown"}))


def test_verisoul_takes_its_key_only_in_x_api_key(stack: Stack) -> None:
    verisoul_401(verisoul(stack, MISSING, bearer(stack.key())))


def test_verisoul_refuses_a_publishable_key(stack: Stack) -> None:
    publishable = stack.tenants["acme"]["publishable_key"]
    verisoul_401(verisoul(stack, MISSING, {"x-api-key": publishable}))


def test_verisoul_key_without_read_scope_is_401(stack: Stack) -> None:
    writer = new_key(stack, kind="secret", scopes=["write"])
    verisoul_401(verisoul(stack, MISSING, {"x-api-key": writer["key"]}))


@pytest.mark.parametrize("session_id", [MISSING, "not-a-uuid"])
def test_verisoul_unknown_session_is_its_own_400(stack: Stack, session_id: str) -> None:
    answer = verisoul(stack, session_id, {"x-api-key": stack.key()})
    assert answer.status_code == 400 and answer.json() == VERISOUL_400


def test_verisoul_other_tenants_session_is_the_same_400(
    stack: Stack, globex_session: dict[str, Any]
) -> None:
    answer = verisoul(stack, globex_session["id"], {"x-api-key": stack.key()})
    assert answer.status_code == 400 and answer.json() == VERISOUL_400


def test_verisoul_site_bound_key_does_not_see_another_site(
    stack: Stack, shop_session: dict[str, Any]
) -> None:
    web_only = new_key(stack, kind="secret", site="web", scopes=["read"])
    answer = verisoul(stack, shop_session["id"], {"x-api-key": web_only["key"]})
    assert answer.status_code == 400 and answer.json() == VERISOUL_400


def test_verisoul_unknown_route_and_method_use_its_envelope(stack: Stack) -> None:
    missing = get(stack, "/compat/verisoul/sessions")
    assert missing.status_code == 404 and missing.json()["statusCode"] == 404
    wrong = httpx.delete(f"{stack.base_url}/compat/verisoul/session/{MISSING}")
    assert wrong.status_code == 405 and wrong.json()["statusCode"] == 405


# ---- Mobile Next -----------------------------------------------------------------------

MOBILENEXT = "/compat/mobilenext/api/v1/sessions"


def mobilenext_error(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    validate(answer.json(), MOBILENEXT_ERROR)
    assert answer.json()["error"]["code"] == code


@pytest.mark.parametrize("path", ["", f"/{MISSING}"])
def test_mobilenext_without_a_key_is_401(stack: Stack, path: str) -> None:
    mobilenext_error(get(stack, MOBILENEXT + path), 401, "unauthorized")


@pytest.mark.parametrize("path", ["", f"/{MISSING}"])
def test_mobilenext_with_an_unknown_key_is_401(stack: Stack, path: str) -> None:
    mobilenext_error(get(stack, MOBILENEXT + path, bearer("ss_sk_nope")), 401, "unauthorized")


@pytest.mark.parametrize("path", ["", f"/{MISSING}"])
def test_mobilenext_organization_the_key_cannot_see_is_403(stack: Stack, path: str) -> None:
    web_only = new_key(stack, kind="secret", site="web", scopes=["read"])
    for organization in ("shop", "acme|shop", "nosuchsite", "globex|web", str(uuid.uuid4())):
        headers = {**bearer(web_only["key"]), "x-organization-id": organization}
        mobilenext_error(get(stack, MOBILENEXT + path, headers), 403, "forbidden")


def test_mobilenext_another_tenants_organization_is_403(stack: Stack) -> None:
    headers = {**bearer(stack.key()), "x-organization-id": "globex|web"}
    mobilenext_error(get(stack, MOBILENEXT, headers), 403, "forbidden")


@pytest.mark.parametrize("path", ["", f"/{MISSING}"])
def test_mobilenext_key_without_read_scope_is_403(stack: Stack, path: str) -> None:
    writer = new_key(stack, kind="secret", scopes=["write"])
    mobilenext_error(get(stack, MOBILENEXT + path, bearer(writer["key"])), 403, "forbidden")


def test_mobilenext_unknown_session_is_404(stack: Stack) -> None:
    mobilenext_error(
        get(stack, f"{MOBILENEXT}/{MISSING}", bearer(stack.key())), 404, "session_not_found"
    )


def test_mobilenext_other_tenants_session_is_404(
    stack: Stack, globex_session: dict[str, Any]
) -> None:
    answer = get(stack, f"{MOBILENEXT}/{globex_session['id']}", bearer(stack.key()))
    mobilenext_error(answer, 404, "session_not_found")


def test_mobilenext_session_outside_the_selected_organization_is_404(
    stack: Stack, shop_session: dict[str, Any]
) -> None:
    answer = get(stack, f"{MOBILENEXT}/{shop_session['id']}", bearer(stack.key()))
    mobilenext_error(answer, 404, "session_not_found")
    site = shop_session["site_uuid"]
    for organization in ("shop", "acme|shop", site, site.upper()):
        headers = {**bearer(stack.key()), "x-organization-id": organization}
        assert get(stack, f"{MOBILENEXT}/{shop_session['id']}", headers).status_code == 200


@pytest.mark.parametrize("limit", ["0", "501", "-1", "ten", "1.5"])
def test_mobilenext_bad_limit_is_400(stack: Stack, limit: str) -> None:
    answer = get(stack, f"{MOBILENEXT}?limit={limit}", bearer(stack.key()))
    mobilenext_error(answer, 400, "invalid_parameter")
    assert "500" in answer.json()["error"]["message"]


@pytest.mark.parametrize("before", ["yesterday", "2025-06-10", "1749573921822"])
def test_mobilenext_bad_before_is_400(stack: Stack, before: str) -> None:
    answer = get(stack, f"{MOBILENEXT}?before={before}", bearer(stack.key()))
    mobilenext_error(answer, 400, "invalid_parameter")


def test_mobilenext_limit_500_is_accepted(stack: Stack) -> None:
    assert get(stack, f"{MOBILENEXT}?limit=500", bearer(stack.key())).status_code == 200


def test_mobilenext_unknown_route_and_method_use_its_envelope(stack: Stack) -> None:
    mobilenext_error(get(stack, "/compat/mobilenext/api/v2/devices"), 404, "route_not_found")
    wrong = httpx.post(f"{stack.base_url}{MOBILENEXT}", headers=bearer(stack.key()))
    mobilenext_error(wrong, 405, "method_not_allowed")


# ---- isnotai ---------------------------------------------------------------------------


def isnotai(stack: Stack, session_id: str, headers: dict[str, str]) -> httpx.Response:
    return get(stack, f"/compat/isnotai/v1/sessions/{session_id}", headers)


def isnotai_error(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    validate(answer.json(), ISNOTAI_ERROR)
    assert answer.json()["error"]["code"] == code


def test_isnotai_without_a_key_is_401(stack: Stack) -> None:
    isnotai_error(isnotai(stack, MISSING, {}), 401, "INVALID_API_KEY")


def test_isnotai_with_an_unknown_key_is_401(stack: Stack) -> None:
    isnotai_error(isnotai(stack, MISSING, bearer("aik_v1_nope")), 401, "INVALID_API_KEY")


def test_isnotai_key_without_read_scope_is_403(stack: Stack) -> None:
    writer = new_key(stack, kind="secret", scopes=["write"])
    isnotai_error(isnotai(stack, MISSING, {"x-api-key": writer["key"]}), 403, "FORBIDDEN")


def test_isnotai_unknown_session_is_404(stack: Stack) -> None:
    for session_id in (MISSING, "no-such-id"):
        isnotai_error(isnotai(stack, session_id, bearer(stack.key())), 404, "SESSION_NOT_FOUND")


def test_isnotai_other_tenants_session_is_404(stack: Stack, globex_session: dict[str, Any]) -> None:
    answer = isnotai(stack, globex_session["id"], bearer(stack.key()))
    isnotai_error(answer, 404, "SESSION_NOT_FOUND")


def test_isnotai_session_of_another_integration_is_403(
    stack: Stack, shop_session: dict[str, Any]
) -> None:
    web_only = new_key(stack, kind="secret", site="web", scopes=["read"])
    answer = isnotai(stack, shop_session["id"], bearer(web_only["key"]))
    isnotai_error(answer, 403, "FORBIDDEN")
    shop_only = new_key(stack, kind="secret", site="shop", scopes=["read"])
    assert isnotai(stack, shop_session["id"], bearer(shop_only["key"])).status_code == 200


def test_isnotai_unknown_route_and_method_use_its_envelope(stack: Stack) -> None:
    isnotai_error(get(stack, "/compat/isnotai/v1/nothing"), 404, "ROUTE_NOT_FOUND")
    wrong = httpx.put(f"{stack.base_url}/compat/isnotai/v1/sessions/{MISSING}")
    isnotai_error(wrong, 405, "METHOD_NOT_ALLOWED")


# ---- 429: a server of its own with a tiny per-key limit ----------------------------------

LIMIT = 2


@pytest.fixture(scope="module")
def limited(
    sqlite_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, dict[str, Any]]]:
    database = sqlite_url.replace("sessionscope.db", "limited.db")
    tenant = init_tenant(database, "limited", "web")
    server = Server(database, env={"SESSIONSCOPE_COMPAT_RATE_LIMIT": str(LIMIT)})
    server.start(tmp_path_factory.mktemp("compat-limited"))
    try:
        yield server, tenant
    finally:
        server.stop()


def fresh_key(server: Server, tenant: dict[str, Any], kind: str = "secret") -> dict[str, Any]:
    answer = httpx.post(
        f"{server.base_url}/v1/keys",
        json={"kind": kind},
        headers={"x-api-key": tenant["secret_key"]},
    )
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made


def over_the_limit(send: Any) -> httpx.Response:
    for _ in range(LIMIT):
        assert send().status_code != 429
    answer: httpx.Response = send()
    assert answer.status_code == 429, answer.text
    assert 1 <= int(answer.headers["retry-after"]) <= 60
    return answer


def test_zephr_over_the_rate_limit_is_429(limited: tuple[Server, dict[str, Any]]) -> None:
    server, tenant = limited
    pair = fresh_key(server, tenant, "hmac")
    path = f"/v3/sessions/{MISSING}"
    answer = over_the_limit(
        lambda: zephr_get(server.base_url, path, pair["access_key"], pair["secret_key"])
    )
    validate(answer.json(), ZEPHR_ERROR)


def test_verisoul_over_the_rate_limit_is_429(limited: tuple[Server, dict[str, Any]]) -> None:
    server, tenant = limited
    key = fresh_key(server, tenant)["key"]
    url = f"{server.base_url}/compat/verisoul/session/{MISSING}"
    answer = over_the_limit(lambda: httpx.get(url, headers={"x-api-key": key}))
    assert answer.json()["statusCode"] == 429


def test_mobilenext_over_the_rate_limit_is_429(limited: tuple[Server, dict[str, Any]]) -> None:
    server, tenant = limited
    key = fresh_key(server, tenant)["key"]
    url = f"{server.base_url}{MOBILENEXT}"
    answer = over_the_limit(lambda: httpx.get(url, headers=bearer(key)))
    mobilenext_error(answer, 429, "rate_limited")


def test_isnotai_over_the_rate_limit_is_429_and_limits_are_per_key(
    limited: tuple[Server, dict[str, Any]],
) -> None:
    server, tenant = limited
    key = fresh_key(server, tenant)["key"]
    url = f"{server.base_url}/compat/isnotai/v1/sessions/{MISSING}"
    answer = over_the_limit(lambda: httpx.get(url, headers=bearer(key)))
    isnotai_error(answer, 429, "RATE_LIMITED")
    other = fresh_key(server, tenant)["key"]
    assert httpx.get(url, headers=bearer(other)).status_code == 404
