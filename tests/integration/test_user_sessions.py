"""A user's sessions over HTTP: listing, logging out everywhere else, the concurrency limit."""

from __future__ import annotations

import httpx

from tests.conftest import Stack
from tests.sites import event, fresh_site, open_session, unique, visitor_ip


def ids(page: dict[str, object]) -> list[str]:
    return [session["id"] for session in page["data"]]  # type: ignore[attr-defined, index]


def walk(client: httpx.Client, user: str, limit: int, **params: str) -> list[str]:
    found: list[str] = []
    cursor: str | None = None
    while True:
        query = {"limit": str(limit), **params, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/v1/users/{user}/sessions", params=query)
        assert page.status_code == 200, page.text
        found += ids(page.json())
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return found


def test_a_users_sessions_active_by_default_newest_first(acme: httpx.Client) -> None:
    slug, other = fresh_site(acme), fresh_site(acme)
    user = unique("u")
    mine = [open_session(acme, slug, user={"id": user})["id"] for _ in range(5)]
    elsewhere = open_session(acme, other, user={"id": user})["id"]
    open_session(acme, slug, user={"id": unique("u")})
    acme.post(f"/v1/sessions/{mine[0]}/release")
    acme.post(f"/v1/sessions/{mine[1]}/revoke")
    newest_first = [elsewhere, *reversed(mine[2:])]
    assert walk(acme, user, 2) == newest_first
    assert walk(acme, user, 100, site=slug) == list(reversed(mine[2:]))
    assert walk(acme, user, 1, status="released") == [mine[0]]
    assert walk(acme, user, 1, status="revoked") == [mine[1]]
    assert walk(acme, user, 3, status="all") == [elsewhere, *reversed(mine)]
    assert walk(acme, unique("nobody"), 10) == []


def test_user_session_queries_refuse_bad_parameters(acme: httpx.Client) -> None:
    for params, field in (
        ({"status": "zombie"}, "status"),
        ({"limit": "0"}, "limit"),
        ({"cursor": "%%%"}, "cursor"),
        ({"colour": "red"}, "colour"),
    ):
        answer = acme.get("/v1/users/someone/sessions", params=params)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["details"]["field"] == field
    long = acme.get(f"/v1/users/{'u' * 300}/sessions")
    assert long.status_code == 400 and long.json()["error"]["details"]["field"] == "user_id"
    assert acme.get("/v1/users/someone/sessions", params={"site": "nope"}).status_code == 404


def test_release_everywhere_but_here(acme: httpx.Client, globex: httpx.Client) -> None:
    slug = fresh_site(acme)
    user = unique("u")
    sessions = [open_session(acme, slug, user={"id": user})["id"] for _ in range(4)]
    stranger = open_session(acme, slug, user={"id": unique("u")})["id"]
    theirs = globex.post(
        "/v1/sessions",
        json={"ip": visitor_ip(), "user_agent": "Mozilla/5.0", "user": {"id": user}},
    ).json()["id"]
    keep = sessions[2]
    answer = acme.post(f"/v1/users/{user}/sessions/release", json={"except": [keep]})
    assert answer.status_code == 200, answer.text
    assert sorted(answer.json()["released"]) == sorted(set(sessions) - {keep})
    assert walk(acme, user, 10) == [keep]
    for session_id in sessions:
        status = acme.get(f"/v1/sessions/{session_id}").json()["status"]
        assert status == ("active" if session_id == keep else "released")
    assert acme.get(f"/v1/sessions/{stranger}").json()["status"] == "active"
    assert globex.get(f"/v1/sessions/{theirs}").json()["status"] == "active"
    again = acme.post(f"/v1/users/{user}/sessions/release", json={}).json()
    assert again["released"] == [keep]


def test_release_refuses_bad_bodies(acme: httpx.Client) -> None:
    slug = fresh_site(acme)
    user = unique("u")
    made = open_session(acme, slug, user={"id": user})["id"]
    for body, field in (
        ({"except": ["not-a-uuid"]}, "except.0"),
        ({"except": "x"}, "except"),
        ({"except": [made] * 101}, "except"),
        ({"keep": []}, "keep"),
        ({"site": "Not A Slug"}, "site"),
    ):
        answer = acme.post(f"/v1/users/{user}/sessions/release", json=body)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["details"]["field"] == field
    assert acme.post(f"/v1/users/{user}/sessions/release", content=b"").status_code == 400
    assert acme.get(f"/v1/sessions/{made}").json()["status"] == "active"


def test_a_read_key_cannot_release(stack: Stack, acme: httpx.Client) -> None:
    reader = acme.post("/v1/keys", json={"kind": "secret", "scopes": ["read"]}).json()["key"]
    with stack.client(reader) as client:
        assert client.get("/v1/users/someone/sessions").status_code == 200
        refused = client.post("/v1/users/someone/sessions/release", json={})
        assert refused.status_code == 403


def test_the_oldest_sessions_go_beyond_the_limit(acme: httpx.Client) -> None:
    slug = fresh_site(acme, max_active_sessions_per_user=2)
    user = {"id": unique("u")}
    first = open_session(acme, slug, user=user)["id"]
    second = open_session(acme, slug, user=user)["id"]
    anonymous = open_session(acme, slug)["id"]
    third = open_session(acme, slug, user=user)["id"]
    assert walk(acme, user["id"], 10) == [third, second]
    assert acme.get(f"/v1/sessions/{first}").json()["status"] == "released"
    # Logging in counts too, and the session that logs in stays even when it is the oldest.
    logged_in = event(acme, anonymous, type="login", user=user)
    assert logged_in.status_code == 200
    assert walk(acme, user["id"], 10) == [third, anonymous]
    assert acme.get(f"/v1/sessions/{second}").json()["status"] == "released"
    other_user = open_session(acme, slug, user={"id": unique("u")})["id"]
    assert acme.get(f"/v1/sessions/{other_user}").json()["status"] == "active"
