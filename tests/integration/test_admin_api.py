"""Sites and keys over HTTP with admin keys."""

from __future__ import annotations

import httpx

from sessionscope.clock import rfc3339_to_ms
from tests.conftest import Stack
from tests.server import init_tenant

GOOD = {"ip": "81.2.69.142", "user_agent": "Mozilla/5.0"}


def test_sites_list_and_create(acme: httpx.Client) -> None:
    sites = {s["slug"]: s for s in acme.get("/v1/sites").json()["data"]}
    assert sites["web"]["is_default"] is True
    assert sites["web"]["sub_tenant_id"] == "acme|web"
    assert acme.post("/v1/sites", json={"slug": "web"}).status_code == 409
    bad = acme.post("/v1/sites", json={"slug": "Not OK"})
    assert bad.status_code == 400 and bad.json()["error"]["details"]["field"] == "slug"


def test_new_default_site_receives_sessions_without_a_site(stack: Stack) -> None:
    made = init_tenant(stack.server.database_url, f"dflt{stack.backend}", "first")
    with stack.client(made["secret_key"]) as client:
        assert client.post("/v1/sites", json={"slug": "second", "default": True}).status_code == 201
        defaults = [s["slug"] for s in client.get("/v1/sites").json()["data"] if s["is_default"]]
        assert defaults == ["second"]
        assert client.post("/v1/sessions", json=GOOD).json()["site"] == "second"


def test_keys_are_shown_once_and_revocation_is_immediate(stack: Stack, acme: httpx.Client) -> None:
    issued = acme.post("/v1/keys", json={"kind": "secret", "scopes": ["read"]})
    assert issued.status_code == 201
    key = issued.json()
    assert key["key"].startswith("ss_sk_") and key["scopes"] == ["read"]
    listed = {k["id"]: k for k in acme.get("/v1/keys").json()["data"]}
    assert listed[key["id"]]["prefix"] == key["key"][:12]
    assert "key" not in listed[key["id"]] and "digest" not in listed[key["id"]]
    with stack.client(key["key"]) as reader:
        assert reader.get("/v1/sessions").status_code == 200
        assert acme.delete(f"/v1/keys/{key['id']}").status_code == 204
        assert reader.get("/v1/sessions").status_code == 401
    assert acme.delete(f"/v1/keys/{key['id']}").status_code == 404
    revoked = {k["id"]: k for k in acme.get("/v1/keys").json()["data"]}[key["id"]]
    assert revoked["revoked_at"] is not None


def test_key_kinds_and_their_rules(acme: httpx.Client, globex: httpx.Client) -> None:
    hmac = acme.post("/v1/keys", json={"kind": "hmac"}).json()
    assert hmac["access_key"].startswith("ss_ak_") and hmac["secret_key"].startswith("ss_hs_")
    assert hmac["key"] is None
    publishable = acme.post(
        "/v1/keys", json={"kind": "publishable", "site": "web", "origins": ["https://Shop.Example"]}
    )
    assert publishable.status_code == 201
    assert publishable.json()["origins"] == ["https://shop.example"]
    for body, code in (
        ({"kind": "publishable", "scopes": ["read"]}, "invalid_scopes"),
        ({"kind": "publishable", "origins": ["ftp://x"]}, "invalid_origin"),
        ({"kind": "secret", "origins": ["https://a.b"]}, "invalid_origins"),
    ):
        answer = acme.post("/v1/keys", json=body)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == code
    unknown_site = acme.post("/v1/keys", json={"kind": "secret", "site": "nowhere"})
    assert unknown_site.status_code == 404
    assert acme.post("/v1/keys", json={"kind": "root"}).status_code == 400
    theirs = globex.get("/v1/keys").json()["data"]
    assert hmac["id"] not in {k["id"] for k in theirs}
    assert globex.delete(f"/v1/keys/{hmac['id']}").status_code == 404


def test_site_settings_change_and_apply(stack: Stack) -> None:
    made = init_tenant(stack.server.database_url, f"settings{stack.backend}", "web")
    with stack.client(made["secret_key"]) as client:
        site = client.get("/v1/sites/web").json()
        assert site["settings"]["session_lifetime_days"] is None
        changed = client.patch("/v1/sites/web", json={"settings": {"session_lifetime_days": 2}})
        assert changed.status_code == 200
        assert changed.json()["settings"]["session_lifetime_days"] == 2
        session = client.post("/v1/sessions", json=GOOD).json()
        days = (_ms(session["expires_at"]) - _ms(session["created_at"])) / 86_400_000
        assert days == 2
        for body, code in (
            ({"settings": {"colour": 1}}, "invalid_settings"),
            ({"settings": {"session_lifetime_days": 0}}, "invalid_settings"),
            ({"default": False}, "invalid_field"),
        ):
            answer = client.patch("/v1/sites/web", json=body)
            assert answer.status_code == 400 and answer.json()["error"]["code"] == code
        assert client.get("/v1/sites/web").json()["settings"]["session_lifetime_days"] == 2
        assert client.patch("/v1/sites/nope", json={"default": True}).status_code == 404
        client.post("/v1/sites", json={"slug": "other"})
        assert client.patch("/v1/sites/other", json={"default": True}).json()["is_default"]
        assert client.get("/v1/sites/web").json()["is_default"] is False


def _ms(text: str) -> int:
    return rfc3339_to_ms(text)
