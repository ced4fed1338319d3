"""No request can read or write another tenant's (or another site's) data."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import Stack

GOOD = {"ip": "81.2.69.142", "user_agent": "Mozilla/5.0"}


def create_key(client: httpx.Client, **body: object) -> str:
    answer = client.post("/v1/keys", json=body)
    assert answer.status_code == 201, answer.text
    key: str = answer.json()["key"]
    return key


@pytest.fixture
def acme_session(acme: httpx.Client) -> dict[str, str]:
    made: dict[str, str] = acme.post("/v1/sessions", json=GOOD).json()
    return made


def test_other_tenant_gets_exactly_the_missing_answer(
    acme_session: dict[str, str], globex: httpx.Client
) -> None:
    path = f"/v1/sessions/{acme_session['id']}"
    missing = "00000000-0000-7000-8000-000000000000"
    for method, suffix, body in (
        ("GET", "", None),
        ("PATCH", "", {"metadata": {"x": 1}}),
        ("POST", "/release", None),
    ):
        theirs = globex.request(method, path + suffix, json=body)
        nothing = globex.request(method, f"/v1/sessions/{missing}{suffix}", json=body)
        assert theirs.status_code == nothing.status_code == 404
        assert theirs.json()["error"]["code"] == nothing.json()["error"]["code"]
        assert set(theirs.headers) == set(nothing.headers)


def test_other_tenant_cannot_change_it(
    acme_session: dict[str, str], acme: httpx.Client, globex: httpx.Client
) -> None:
    globex.patch(f"/v1/sessions/{acme_session['id']}", json={"metadata": {"owned": True}})
    globex.post(f"/v1/sessions/{acme_session['id']}/release")
    after = acme.get(f"/v1/sessions/{acme_session['id']}").json()
    assert after["version"] == 1 and after["status"] == "active" and after["metadata"] == {}


def test_lists_never_show_another_tenant(
    acme_session: dict[str, str], globex: httpx.Client
) -> None:
    cursor = None
    seen: set[str] = set()
    while True:
        page = globex.get(
            "/v1/sessions", params={"limit": 500, **({"cursor": cursor} if cursor else {})}
        ).json()
        seen |= {row["id"] for row in page["data"]}
        assert all(row["tenant"] == "globex" for row in page["data"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert acme_session["id"] not in seen
    assert globex.get("/v1/sessions", params={"site": "shop"}).status_code == 404


def test_same_client_id_in_two_tenants_stays_separate(
    acme: httpx.Client, globex: httpx.Client
) -> None:
    shared = str(uuid.uuid4())
    first = acme.post("/v1/sessions", json={**GOOD, "id": shared, "metadata": {"who": "acme"}})
    second = globex.post("/v1/sessions", json={**GOOD, "id": shared, "metadata": {"who": "g"}})
    assert first.status_code == second.status_code == 201
    assert acme.get(f"/v1/sessions/{shared}").json()["metadata"] == {"who": "acme"}
    assert globex.get(f"/v1/sessions/{shared}").json()["metadata"] == {"who": "g"}


def test_site_bound_key_sees_only_its_site(stack: Stack, acme: httpx.Client) -> None:
    web_session = acme.post("/v1/sessions", json=GOOD).json()
    shop_key = create_key(acme, kind="secret", site="shop", scopes=["read", "write"])
    with stack.client(shop_key) as shop:
        assert shop.get(f"/v1/sessions/{web_session['id']}").status_code == 404
        made = shop.post("/v1/sessions", json=GOOD)
        assert made.status_code == 201 and made.json()["site"] == "shop"
        refused = shop.post("/v1/sessions", json={**GOOD, "site": "web"})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "site_forbidden"
        listed = shop.get("/v1/sessions", params={"limit": 500}).json()["data"]
        assert {row["site"] for row in listed} == {"shop"}
        assert shop.get("/v1/sessions", params={"site": "web"}).status_code == 403
        assert (
            shop.patch(f"/v1/sessions/{web_session['id']}", json={"metadata": {}}).status_code
            == 404
        )
        assert shop.get("/v1/sites").status_code == 403
    shop_admin = create_key(acme, kind="secret", site="shop", scopes=["admin"])
    with stack.client(shop_admin) as admin:
        assert [s["slug"] for s in admin.get("/v1/sites").json()["data"]] == ["shop"]
        assert {k["site"] for k in admin.get("/v1/keys").json()["data"]} == {"shop"}
        assert admin.post("/v1/sites", json={"slug": "more"}).status_code == 403
        assert admin.post("/v1/keys", json={"kind": "secret"}).status_code == 403


def test_scopes_are_enforced(stack: Stack, acme: httpx.Client) -> None:
    read_only = create_key(acme, kind="secret", scopes=["read"])
    write_only = create_key(acme, kind="secret", scopes=["write"])
    made = acme.post("/v1/sessions", json=GOOD).json()
    with stack.client(read_only) as reader, stack.client(write_only) as writer:
        assert reader.get(f"/v1/sessions/{made['id']}").status_code == 200
        denied = reader.post("/v1/sessions", json=GOOD)
        assert denied.status_code == 403
        assert denied.json()["error"] == {
            "code": "forbidden",
            "message": "the key lacks the 'write' scope",
            "details": {"required_scope": "write"},
        }
        assert reader.patch(f"/v1/sessions/{made['id']}", json={}).status_code == 403
        assert writer.get(f"/v1/sessions/{made['id']}").status_code == 403
        assert writer.post("/v1/sessions", json=GOOD).status_code == 201
        assert reader.get("/v1/keys").status_code == 403
        assert writer.post("/v1/sites", json={"slug": "x"}).status_code == 403
