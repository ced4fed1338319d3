"""Per-tenant IP lists over /v1/lists, on both stores, and their effect on enrichment."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import Stack
from tests.server import init_tenant

LONDON = "81.2.69.142"


@dataclass
class Tenant:
    name: str
    client: httpx.Client


def fresh_tenant(stack: Stack, role: str) -> Tenant:
    """A tenant of its own: its lists change enrichment, so no other test may share it."""
    name = f"lists-{role}-{uuid.uuid4().hex[:10]}"
    keys = init_tenant(stack.server.database_url, name, "web")
    return Tenant(name, stack.client(keys["secret_key"]))


@pytest.fixture
def tenant(stack: Stack) -> Iterator[Tenant]:
    made = fresh_tenant(stack, "own")
    yield made
    made.client.close()


@pytest.fixture
def tenants(tenant: Tenant, stack: Stack) -> Iterator[tuple[Tenant, Tenant]]:
    other = fresh_tenant(stack, "other")
    yield tenant, other
    other.client.close()


def ok(answer: httpx.Response, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json() if answer.content else None


def error_of(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    found: dict[str, Any] = answer.json()["error"]
    return found


def make_list(client: httpx.Client, name: str, *entries: str) -> dict[str, Any]:
    made: dict[str, Any] = ok(client.post("/v1/lists", json={"name": name}), 201)
    if entries:
        made = ok(client.post(f"/v1/lists/{name}/entries", json={"entries": list(entries)}))
    return made


def connection_type(client: httpx.Client, ip: str) -> str | None:
    session = ok(client.post("/v1/sessions", json={"ip": ip, "user_agent": "Mozilla/5.0"}), 201)
    found: str | None = session["network"]["connection_type"]
    return found


def create_key(client: httpx.Client, **body: object) -> str:
    key: str = ok(client.post("/v1/keys", json=body), 201)["key"]
    return key


def test_create_add_page_remove_delete(tenant: Tenant) -> None:
    client = tenant.client
    made = ok(client.post("/v1/lists", json={"name": "partners", "description": "offices"}), 201)
    assert made["scope"] == "tenant" and made["read_only"] is False and made["size"] == 0
    assert made["description"] == "offices" and made["created_at"] == made["updated_at"]
    added = ok(
        client.post(
            "/v1/lists/partners/entries",
            json={"entries": ["192.0.2.7", "2001:db8::/48", "198.51.100.0/24"], "note": "HQ"},
        )
    )
    assert added["added"] == 3 and added["list"]["size"] == 3
    again = ok(client.post("/v1/lists/partners/entries", json={"entries": ["192.0.2.7/32"]}))
    assert again["added"] == 0 and again["list"]["size"] == 3
    page = ok(client.get("/v1/lists/partners"))
    assert page["list"]["name"] == "partners" and page["next_cursor"] is None
    cidrs = [entry["cidr"] for entry in page["entries"]]
    assert sorted(cidrs) == ["192.0.2.7/32", "198.51.100.0/24", "2001:db8::/48"]
    assert {entry["note"] for entry in page["entries"]} == {"HQ"}
    removed = ok(
        client.request(
            "DELETE", "/v1/lists/partners/entries", json={"entries": ["192.0.2.7", "203.0.113.9"]}
        )
    )
    assert removed["removed"] == 1 and removed["list"]["size"] == 2
    assert removed["list"]["updated_at"] >= made["updated_at"]
    assert client.delete("/v1/lists/partners").status_code == 204
    assert error_of(client.get("/v1/lists/partners"), 404)["code"] == "list_not_found"
    assert error_of(client.delete("/v1/lists/partners"), 404)["code"] == "list_not_found"


def test_entries_are_keyset_pages(tenant: Tenant) -> None:
    client = tenant.client
    networks = [f"10.{n}.0.0/16" for n in range(7)]
    make_list(client, "pages", *networks)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = ok(client.get("/v1/lists/pages", params=params))
        assert len(page["entries"]) <= 3
        seen += [entry["cidr"] for entry in page["entries"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(networks) and len(seen) == len(set(seen))
    assert error_of(client.get("/v1/lists/pages", params={"cursor": "x"}), 400)["details"] == {
        "field": "cursor"
    }
    assert error_of(client.get("/v1/lists/pages", params={"limit": "0"}), 400)["code"] == (
        "invalid_parameter"
    )
    assert error_of(client.get("/v1/lists/pages", params={"sort": "a"}), 400)["details"] == {
        "field": "sort"
    }


def test_bad_entries_name_their_index_and_write_nothing(tenant: Tenant) -> None:
    client = tenant.client
    make_list(client, "strict", "192.0.2.1")
    for entries, index in ((["192.0.2.9", "300.1.1.1"], 1), (["10.0.0.1/8"], 0), (["", "x"], 0)):
        answer = client.post("/v1/lists/strict/entries", json={"entries": entries})
        found = error_of(answer, 400)
        assert found["code"] == "invalid_entry"
        assert found["details"] == {"field": f"entries.{index}"}
        assert f"entries.{index}" in found["message"]
    assert error_of(client.post("/v1/lists/strict/entries", json={"entries": []}), 400)[
        "details"
    ] == {"field": "entries"}
    assert ok(client.get("/v1/lists/strict"))["list"]["size"] == 1
    for body, field in (({"name": "Bad Name"}, "name"), ({"name": "x", "extra": 1}, "extra")):
        assert error_of(client.post("/v1/lists", json=body), 400)["details"] == {"field": field}
    assert error_of(client.post("/v1/lists", json={"name": "strict"}), 409)["code"] == "list_exists"
    assert error_of(client.get("/v1/lists/NOT_A_NAME"), 400)["details"] == {"field": "name"}
    missing = client.post("/v1/lists/tor_exit/entries", json={"entries": ["192.0.2.1"]})
    assert error_of(missing, 404)["code"] == "list_not_found"
    names = [view["name"] for view in ok(client.get("/v1/lists"))["data"]]
    assert names == ["strict"]


def test_another_tenants_list_is_invisible_and_untouchable(
    tenants: tuple[Tenant, Tenant],
) -> None:
    own, other = tenants
    make_list(own.client, "secret", "192.0.2.0/24")
    assert ok(other.client.get("/v1/lists"))["data"] == []
    theirs = other.client.get("/v1/lists/secret")
    nothing = other.client.get("/v1/lists/never-made")
    assert theirs.status_code == nothing.status_code == 404
    assert theirs.json()["error"]["code"] == nothing.json()["error"]["code"]
    body = {"entries": ["203.0.113.1"]}
    assert other.client.post("/v1/lists/secret/entries", json=body).status_code == 404
    assert other.client.request("DELETE", "/v1/lists/secret/entries", json=body).status_code == 404
    assert other.client.delete("/v1/lists/secret").status_code == 404
    made = ok(other.client.post("/v1/lists", json={"name": "secret"}), 201)
    assert made["size"] == 0
    assert ok(own.client.get("/v1/lists/secret"))["entries"][0]["cidr"] == "192.0.2.0/24"


def test_a_tenant_datacenter_entry_changes_only_that_tenants_sessions(
    tenants: tuple[Tenant, Tenant],
) -> None:
    own, other = tenants
    assert connection_type(own.client, LONDON) != "hosting"
    make_list(own.client, "datacenter", f"{LONDON}/32")
    assert connection_type(own.client, LONDON) == "hosting"
    assert connection_type(other.client, LONDON) != "hosting"
    make_list(other.client, "private_relay", "81.2.69.0/24")
    assert connection_type(other.client, LONDON) == "private_relay"
    assert connection_type(own.client, LONDON) == "hosting"
    own.client.request("DELETE", "/v1/lists/datacenter/entries", json={"entries": [LONDON]})
    assert connection_type(own.client, LONDON) != "hosting"


def test_site_bound_keys_read_lists_but_only_tenant_wide_keys_change_them(
    stack: Stack, tenant: Tenant
) -> None:
    client = tenant.client
    make_list(client, "shared", "192.0.2.1")
    bound = create_key(client, kind="secret", site="web", scopes=["admin"])
    reader = create_key(client, kind="secret", scopes=["read", "write"])
    with stack.client(bound) as site_admin, stack.client(reader) as plain:
        assert [v["name"] for v in ok(site_admin.get("/v1/lists"))["data"]] == ["shared"]
        assert ok(site_admin.get("/v1/lists/shared"))["list"]["size"] == 1
        change = site_admin.post("/v1/lists/shared/entries", json={"entries": ["192.0.2.2"]})
        assert error_of(change, 403)["code"] == "forbidden"
        assert error_of(site_admin.delete("/v1/lists/shared"), 403)["code"] == "forbidden"
        assert error_of(plain.get("/v1/lists"), 403)["details"] == {"required_scope": "admin"}
    assert ok(client.get("/v1/lists/shared"))["list"]["size"] == 1
    with stack.client() as anonymous:
        assert error_of(anonymous.get("/v1/lists"), 401)["code"] == "unauthorized"


def test_every_lists_operation_is_in_the_openapi_document(stack: Stack) -> None:
    with stack.client() as client:
        paths = ok(client.get("/openapi.json"))["paths"]
    assert set(paths["/v1/lists"]) == {"get", "post"}
    assert set(paths["/v1/lists/{name}"]) == {"get", "delete"}
    assert set(paths["/v1/lists/{name}/entries"]) == {"post", "delete"}
    request = paths["/v1/lists/{name}/entries"]["post"]["requestBody"]
    assert request["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/EntriesAdd"
    }
