"""The access admin API over HTTP on both stores: definitions, defaults, grants, checks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Stack
from tests.paywall import create
from tests.sites import fresh_site, unique

DAILY = {"kind": "calendar", "unit": "day", "time_zone": "Europe/London"}


def model(client: httpx.Client, site: str) -> None:
    """premium ← meter `daily` (2 a day) ← bundle `free` ⊂ bundle `plus` (+ video outright)."""
    create(client, site, "entitlements", {"id": "premium", "name": "Premium articles"})
    create(client, site, "entitlements", {"id": "video", "name": "Video"})
    create(
        client,
        site,
        "meters",
        {"id": "daily", "name": "Daily", "entitlements": ["premium"], "size": 2, "period": DAILY},
    )
    create(client, site, "bundles", {"id": "free", "name": "Free", "meters": ["daily"]})
    create(
        client,
        site,
        "bundles",
        {"id": "plus", "name": "Plus", "entitlements": ["video"], "bundles": ["free"]},
    )


def test_definitions_round_trip(acme: httpx.Client) -> None:
    site = fresh_site(acme)
    model(acme, site)
    named = create(acme, site, "entitlements", {"name": "No id given"})
    assert named["id"] and named["description"] is None
    meter = acme.get("/v1/access/meters/daily", params={"site": site}).json()
    assert meter == {
        "id": "daily",
        "name": "Daily",
        "description": None,
        "entitlements": ["premium"],
        "size": 2,
        "period": DAILY,
        "counting": "page_views",
        "content_id_transform": None,
    }
    changed = acme.put(
        "/v1/access/meters/daily",
        params={"site": site},
        json={**meter, "size": 5, "counting": "unique_content"},
    )
    assert changed.status_code == 200 and changed.json()["size"] == 5
    assert acme.get("/v1/access/meters/daily", params={"site": site}).json()["size"] == 5
    listed = [
        e["id"] for e in acme.get("/v1/access/entitlements", params={"site": site}).json()["data"]
    ]
    assert listed == sorted(["premium", "video", named["id"]])
    removed = acme.delete(f"/v1/access/entitlements/{named['id']}", params={"site": site})
    assert removed.status_code == 204
    gone = acme.get(f"/v1/access/entitlements/{named['id']}", params={"site": site})
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "entitlement_not_found"


def test_lists_are_keyset_pages(acme: httpx.Client) -> None:
    site = fresh_site(acme)
    made = sorted(create(acme, site, "entitlements", {"name": f"e{i}"})["id"] for i in range(7))
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"site": site, "limit": "3", **({"cursor": cursor} if cursor else {})}
        page = acme.get("/v1/access/entitlements", params=params).json()
        seen += [e["id"] for e in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made


@pytest.mark.parametrize(
    ("kind", "body", "code", "field"),
    [
        ("meters", {"name": "m", "entitlements": ["nope"], "size": 1, "period": DAILY},
         "unknown_reference", "entitlements"),
        ("meters", {"name": "m", "entitlements": ["premium"], "size": 0, "period": DAILY},
         "invalid_field", "size"),
        ("meters", {"name": "m", "entitlements": ["premium"], "size": 1,
                    "period": {"kind": "calendar", "unit": "day", "time_zone": "Mars/Base"}},
         "invalid_field", "period"),
        ("meters", {"name": "m", "entitlements": ["premium"], "size": 1,
                    "period": {"kind": "relative", "length": 0, "unit": "days"}},
         "invalid_field", "period.length"),
        ("meters", {"name": "m", "entitlements": ["premium"], "size": 1,
                    "period": {"kind": "yearly"}}, "invalid_field", "period.kind"),
        ("meters", {"name": "m", "entitlements": [], "size": 1, "period": DAILY},
         "invalid_field", "entitlements"),
        ("credits", {"name": "c", "entitlements": ["premium"], "size": 1, "counting": "all"},
         "invalid_field", "counting"),
        ("bundles", {"name": "b", "credits": ["nope"]}, "unknown_reference", "credits"),
        ("bundles", {"id": "loop", "name": "b", "bundles": ["loop"]}, "bundle_cycle", "bundles"),
        ("bundles", {"id": "bad id!", "name": "b"}, "invalid_field", "id"),
        ("entitlements", {"id": "premium", "name": "again"}, "premium", "id"),
        ("entitlements", {"name": ""}, "invalid_field", "name"),
        ("entitlements", {"name": "x", "colour": "red"}, "invalid_field", "colour"),
    ],
)  # fmt: skip
def test_bad_definitions_are_refused_and_write_nothing(
    acme: httpx.Client, kind: str, body: dict[str, Any], code: str, field: str
) -> None:
    site = fresh_site(acme)
    model(acme, site)
    before = acme.get(f"/v1/access/{kind}", params={"site": site}).json()["data"]
    answer = acme.post(f"/v1/access/{kind}", params={"site": site}, json=body)
    expected_code = "entitlement_exists" if code == "premium" else code
    assert answer.status_code in (400, 409), answer.text
    error = answer.json()["error"]
    assert error["code"] == expected_code and error["details"]["field"] == field
    assert acme.get(f"/v1/access/{kind}", params={"site": site}).json()["data"] == before


def test_nesting_cannot_make_a_cycle_through_others(acme: httpx.Client) -> None:
    site = fresh_site(acme)
    model(acme, site)
    free = acme.get("/v1/access/bundles/free", params={"site": site}).json()
    answer = acme.put(
        "/v1/access/bundles/free", params={"site": site}, json={**free, "bundles": ["plus"]}
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["details"]["cycle"] == ["free", "plus", "free"]
    mismatch = acme.put("/v1/access/bundles/free", params={"site": site}, json={**free, "id": "x"})
    assert mismatch.status_code == 400 and mismatch.json()["error"]["details"]["field"] == "id"
    unnamed = {key: value for key, value in free.items() if key != "id"}
    assert (
        acme.put("/v1/access/bundles/nope", params={"site": site}, json=unnamed).status_code == 404
    )


def test_what_is_used_cannot_be_deleted(acme: httpx.Client) -> None:
    site = fresh_site(acme)
    model(acme, site)
    acme.put("/v1/access/defaults", params={"site": site}, json={"registered": "plus"})
    for path, users in (
        ("entitlements/premium", ["meter:daily"]),
        ("meters/daily", ["bundle:free"]),
        ("bundles/free", ["bundle:plus"]),
        ("bundles/plus", ["defaults"]),
    ):
        answer = acme.delete(f"/v1/access/{path}", params={"site": site})
        assert answer.status_code == 409, answer.text
        assert answer.json()["error"] == {
            "code": "in_use",
            "message": answer.json()["error"]["message"],
            "details": {"used_by": users},
        }
    acme.put("/v1/access/defaults", params={"site": site}, json={})
    grant = acme.post(
        "/v1/access/grants", params={"site": site}, json={"user_id": "u1", "bundle": "plus"}
    ).json()
    used = acme.delete("/v1/access/bundles/plus", params={"site": site})
    assert used.json()["error"]["details"]["used_by"] == ["grants"]
    assert acme.delete(f"/v1/access/grants/{grant['id']}", params={"site": site}).status_code == 204
    assert acme.delete("/v1/access/bundles/plus", params={"site": site}).status_code == 204
    assert acme.delete("/v1/access/bundles/plus", params={"site": site}).status_code == 404


def test_defaults_and_grants(acme: httpx.Client) -> None:
    site = fresh_site(acme)
    model(acme, site)
    assert acme.get("/v1/access/defaults", params={"site": site}).json() == {
        "anonymous": None,
        "registered": None,
    }
    put = acme.put("/v1/access/defaults", params={"site": site}, json={"anonymous": "free"})
    assert put.status_code == 200
    assert acme.get("/v1/access/defaults", params={"site": site}).json()["anonymous"] == "free"
    unknown = acme.put("/v1/access/defaults", params={"site": site}, json={"registered": "gold"})
    assert (
        unknown.status_code == 400 and unknown.json()["error"]["details"]["field"] == "registered"
    )
    user = unique("u")
    made = acme.post(
        "/v1/access/grants",
        params={"site": site},
        json={"user_id": user, "bundle": "plus", "expires_at": "2030-01-01T00:00:00+01:00"},
    )
    assert made.status_code == 201, made.text
    grant = made.json()
    assert grant["expires_at"] == "2029-12-31T23:00:00.000Z" and grant["bundle"] == "plus"
    twice = acme.post(
        "/v1/access/grants", params={"site": site}, json={"user_id": user, "bundle": "plus"}
    )
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "grant_exists"
    acme.post("/v1/access/grants", params={"site": site}, json={"user_id": "x", "bundle": "free"})
    mine = acme.get("/v1/access/grants", params={"site": site, "user_id": user}).json()
    assert mine == {"data": [grant], "next_cursor": None}
    by_bundle = acme.get("/v1/access/grants", params={"site": site, "bundle": "free"}).json()
    assert [g["user_id"] for g in by_bundle["data"]] == ["x"]
    for body, field in (
        ({"user_id": user, "bundle": "gold"}, "bundle"),
        ({"user_id": user, "bundle": "free", "expires_at": "2030-01-01T00:00:00"}, "expires_at"),
        ({"bundle": "free"}, "user_id"),
    ):
        bad = acme.post("/v1/access/grants", params={"site": site}, json=body)
        assert bad.status_code == 400 and bad.json()["error"]["details"]["field"] == field
    assert acme.delete("/v1/access/grants/nope", params={"site": site}).status_code == 404


def test_access_definitions_belong_to_one_site_and_tenant(
    stack: Stack, acme: httpx.Client, globex: httpx.Client
) -> None:
    site, other = fresh_site(acme), fresh_site(acme)
    model(acme, site)
    assert acme.get("/v1/access/bundles/plus", params={"site": other}).status_code == 404
    assert acme.get("/v1/access/bundles", params={"site": other}).json()["data"] == []
    assert globex.get("/v1/access/bundles/plus", params={"site": site}).status_code == 404
    assert globex.get("/v1/access/bundles/plus").status_code == 404
    bound = acme.post("/v1/keys", json={"kind": "secret", "site": other, "scopes": ["admin"]})
    with stack.client(bound.json()["key"]) as client:
        assert client.get("/v1/access/bundles").json()["data"] == []
        refused = client.get("/v1/access/bundles", params={"site": site})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "site_forbidden"
    writer = acme.post("/v1/keys", json={"kind": "secret", "scopes": ["read", "write"]})
    with stack.client(writer.json()["key"]) as client:
        assert client.get("/v1/access/bundles", params={"site": site}).status_code == 403
    unknown = acme.get("/v1/access/bundles", params={"site": site, "colour": "red"})
    assert unknown.status_code == 400 and unknown.json()["error"]["details"]["field"] == "colour"


def test_every_access_endpoint_is_documented(stack: Stack) -> None:
    with stack.client() as client:
        paths = client.get("/openapi.json").json()["paths"]
    for kind in ("entitlements", "bundles", "meters", "credits"):
        assert set(paths[f"/v1/access/{kind}"]) == {"get", "post"}
        assert set(paths[f"/v1/access/{kind}/{{id}}"]) == {"get", "put", "delete"}
    assert set(paths["/v1/access/grants"]) == {"get", "post"}
    assert set(paths["/v1/access/defaults"]) == {"get", "put"}
    for path in (
        "/v1/sessions/{id}/events",
        "/v1/sessions/{id}/revoke",
        "/v1/sessions/{id}/access-decisions",
        "/v1/users/{user_id}/sessions/release",
    ):
        assert "post" in paths[path]
    assert "get" in paths["/v1/users/{user_id}/sessions"]
