"""Native session API over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.conftest import Stack

MAC_CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/137.0.0.0 Safari/537.36"
)


def open_session(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"ip": "81.2.69.142", "user_agent": MAC_CHROME, **fields}
    answer = client.post("/v1/sessions", json=body)
    assert answer.status_code == 201, answer.text
    session: dict[str, Any] = answer.json()
    return session


def test_create_returns_the_whole_document_and_reads_back(acme: httpx.Client) -> None:
    made = open_session(
        acme,
        user={"id": "UU1", "name": "Ada", "email": "ada@example.com"},
        account_ids=["john-doe", "john-doe", "jd2"],
        page_url="https://shop.example/p/1",
        session_variables={"plan": "pro"},
        behaviour={"mouse_num_events": 84, "click_num_events": 2},
        headers={"Sec-CH-UA-Platform": '"macOS"'},
    )
    assert uuid.UUID(made["id"]).version == 7
    assert made["tenant"] == "acme" and made["site"] == "web"
    assert made["state"] == "authenticated" and made["status"] == "active"
    assert made["version"] == 1
    assert made["account_ids"] == ["john-doe", "jd2"]
    assert made["behaviour"]["mouse_num_events"] == 84
    assert made["headers"] == {"sec-ch-ua-platform": '"macOS"'}
    assert made["created_at"].endswith("Z") and len(made["created_at"]) == 24
    assert made["risk"]["decision"] in ("real", "suspicious") and made["bot"]["is_bot"] is False
    read = acme.get(f"/v1/sessions/{made['id']}")
    assert read.status_code == 200
    assert read.headers["content-type"] == "application/json"
    assert read.json() == made


def test_bearer_header_works_like_x_api_key(stack: Stack, acme: httpx.Client) -> None:
    made = open_session(acme)
    with stack.client() as bare:
        answer = bare.get(
            f"/v1/sessions/{made['id']}", headers={"Authorization": f"Bearer {stack.key()}"}
        )
    assert answer.status_code == 200 and answer.json()["id"] == made["id"]


def test_client_chosen_id_is_kept_and_cannot_be_reused(acme: httpx.Client) -> None:
    chosen = str(uuid.uuid4())
    assert open_session(acme, id=chosen.upper())["id"] == chosen
    again = acme.post("/v1/sessions", json={"ip": "1.2.3.4", "user_agent": "x", "id": chosen})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "session_exists"


def test_session_on_another_site_of_the_tenant(acme: httpx.Client) -> None:
    made = open_session(acme, site="shop")
    assert made["site"] == "shop"
    missing = acme.post("/v1/sessions", json={"ip": "1.2.3.4", "user_agent": "x", "site": "nope"})
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "code": "site_not_found",
        "message": "no site 'nope' in this tenant",
        "details": {"field": "site"},
    }


def test_patch_changes_only_given_fields_and_bumps_version(acme: httpx.Client) -> None:
    made = open_session(acme, metadata={"keep": True})
    changed = acme.patch(
        f"/v1/sessions/{made['id']}",
        json={"user": {"id": "UU9", "name": "Grace"}, "session_variables": {"a": 1}},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["version"] == 2
    assert body["state"] == "authenticated" and body["user"]["id"] == "UU9"
    assert body["session_variables"] == {"a": 1} and body["metadata"] == {"keep": True}
    assert body["updated_at"] >= made["updated_at"]
    logged_out = acme.patch(f"/v1/sessions/{made['id']}", json={"user": None}).json()
    assert logged_out["state"] == "anonymous" and logged_out["user"] is None
    assert logged_out["version"] == 3
    same = acme.patch(f"/v1/sessions/{made['id']}", json={"user": None}).json()
    assert same["version"] == 3, "a change to nothing is not a new version"


def test_patch_refuses_inconsistent_state(acme: httpx.Client) -> None:
    made = open_session(acme)
    answer = acme.patch(f"/v1/sessions/{made['id']}", json={"state": "authenticated"})
    assert answer.status_code == 400
    assert answer.json()["error"]["details"] == {"field": "user"}
    assert acme.get(f"/v1/sessions/{made['id']}").json()["version"] == 1


def test_release_ends_the_session_once(acme: httpx.Client) -> None:
    made = open_session(acme)
    released = acme.post(f"/v1/sessions/{made['id']}/release")
    assert released.status_code == 200
    body = released.json()
    assert body["status"] == "released" and body["released_at"] is not None
    assert body["version"] == 2
    again = acme.post(f"/v1/sessions/{made['id']}/release").json()
    assert again["version"] == 2 and again["released_at"] == body["released_at"]
    frozen = acme.patch(f"/v1/sessions/{made['id']}", json={"metadata": {"x": 1}})
    assert frozen.status_code == 409
    assert frozen.json()["error"]["code"] == "session_inactive"


def test_unknown_session_is_404_in_the_envelope(acme: httpx.Client) -> None:
    missing = str(uuid.uuid4())
    for answer in (
        acme.get(f"/v1/sessions/{missing}"),
        acme.patch(f"/v1/sessions/{missing}", json={"metadata": {}}),
        acme.post(f"/v1/sessions/{missing}/release"),
    ):
        assert answer.status_code == 404
        assert answer.json() == {
            "error": {
                "code": "session_not_found",
                "message": f"no session {missing}",
                "details": {"id": missing},
            }
        }


def test_health_readiness_and_docs(stack: Stack) -> None:
    with stack.client() as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").json() == {"status": "ready"}
        spec = client.get("/openapi.json").json()
        assert spec["openapi"].startswith("3.1")
        assert {"post", "get"} <= set(spec["paths"]["/v1/sessions"])
        assert "Session" in spec["components"]["schemas"]
        page = client.get("/docs")
        assert page.status_code == 200 and "/v1/sessions/{id}" in page.text
