"""Lifecycle events over HTTP on both stores: every transition, activity, timers, revocation."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import msgspec
import pytest

from sessionscope.clock import rfc3339_to_ms
from sessionscope.experiments import variant_for
from sessionscope.model import Experiment, Variant
from tests.conftest import Stack
from tests.sites import event, fresh_site, open_session, unique

STATES = ["anonymous", "recognised", "partially_registered", "authenticated"]
MOVES = {
    "recognise": "recognised",
    "register_partial": "partially_registered",
    "login": "authenticated",
    "logout": "anonymous",
}
LEGAL = {
    ("anonymous", "recognised"),
    ("anonymous", "partially_registered"),
    ("anonymous", "authenticated"),
    ("recognised", "partially_registered"),
    ("recognised", "authenticated"),
    ("recognised", "anonymous"),
    ("partially_registered", "authenticated"),
    ("partially_registered", "anonymous"),
    ("authenticated", "anonymous"),
}
MINUTE = 60_000


@pytest.fixture(scope="module")
def site(stack: Stack) -> str:
    with stack.client(stack.key("acme")) as client:
        return fresh_site(client)


def session_in(client: httpx.Client, site: str, state: str) -> dict[str, Any]:
    if state == "anonymous":
        return open_session(client, site)
    return open_session(client, site, state=state, user={"id": unique("u")})


def move_body(move: str) -> dict[str, Any]:
    return {"type": move} if move == "logout" else {"type": move, "user": {"id": "alice"}}


CASES = list(itertools.product(STATES, MOVES))


@pytest.mark.parametrize(("state", "move"), CASES, ids=[f"{s}-{m}" for s, m in CASES])
def test_every_transition_over_http(acme: httpx.Client, site: str, state: str, move: str) -> None:
    made = session_in(acme, site, state)
    answer = event(acme, made["id"], **move_body(move))
    target = MOVES[move]
    if (state, target) in LEGAL:
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["state"] == target and body["version"] == made["version"] + 1
        assert body["user"] == (
            None
            if target == "anonymous"
            else {"id": "alice", "name": None, "url": None, "email": None}
        )
        assert body["access"]["user_state"] == (
            "registered" if target == "authenticated" else "anonymous"
        )
    else:
        assert answer.status_code == 409, answer.text
        error = answer.json()["error"]
        assert error["code"] == "illegal_transition"
        assert error["details"] == {"from": state, "to": target, "event": move}
        assert acme.get(f"/v1/sessions/{made['id']}").json()["version"] == made["version"]


def test_activity_counts_page_views_and_bumps_the_version(acme: httpx.Client, site: str) -> None:
    made = open_session(acme, site)
    viewed = event(
        acme, made["id"], type="pageview", page_url="https://x.example/a", content_id="a"
    )
    assert viewed.status_code == 200, viewed.text
    body = viewed.json()
    assert body["behaviour"]["page_views"] == 1 and body["page_url"] == "https://x.example/a"
    assert body["version"] == made["version"] + 1
    assert rfc3339_to_ms(body["last_seen_at"]) >= rfc3339_to_ms(made["last_seen_at"])
    beat = event(acme, made["id"], type="heartbeat").json()
    assert beat["version"] == body["version"] + 1
    assert beat["behaviour"]["page_views"] == 1
    stored = acme.get(f"/v1/sessions/{made['id']}").json()
    assert stored["version"] == beat["version"] and stored["last_seen_at"] == beat["last_seen_at"]


def test_idle_timeout_slides_with_activity(acme: httpx.Client) -> None:
    idle = fresh_site(acme, idle_timeout_minutes=30)
    made = open_session(acme, idle)
    assert rfc3339_to_ms(made["expires_at"]) == rfc3339_to_ms(made["created_at"]) + 30 * MINUTE
    beat = event(acme, made["id"], type="heartbeat").json()
    assert rfc3339_to_ms(beat["expires_at"]) == rfc3339_to_ms(beat["last_seen_at"]) + 30 * MINUTE
    assert beat["expires_at"] >= made["expires_at"]


def test_lifetimes_follow_the_state(acme: httpx.Client) -> None:
    timed = fresh_site(acme, session_lifetime_days=10, anonymous_lifetime_days=1)
    made = open_session(acme, timed)
    created = rfc3339_to_ms(made["created_at"])
    assert rfc3339_to_ms(made["expires_at"]) == created + 86_400_000
    logged_in = event(acme, made["id"], type="login", user={"id": unique("u")}).json()
    assert rfc3339_to_ms(logged_in["expires_at"]) == created + 10 * 86_400_000
    authenticated = open_session(acme, timed, user={"id": unique("u")})
    assert rfc3339_to_ms(authenticated["expires_at"]) == (
        rfc3339_to_ms(authenticated["created_at"]) + 10 * 86_400_000
    )


def test_logout_releases_when_the_site_says_so(acme: httpx.Client) -> None:
    releasing = fresh_site(acme, logout="release")
    user = {"id": unique("u")}
    made = open_session(acme, releasing, user=user)
    out = event(acme, made["id"], type="logout").json()
    assert out["status"] == "released" and out["released_at"] is not None
    assert out["state"] == "authenticated" and out["user"]["id"] == user["id"]
    late = event(acme, made["id"], type="heartbeat")
    assert late.status_code == 409 and late.json()["error"]["code"] == "session_inactive"
    staying = open_session(acme, fresh_site(acme), user={"id": unique("u")})
    back = event(acme, staying["id"], type="logout").json()
    assert back["status"] == "active" and back["state"] == "anonymous" and back["user"] is None


def test_test_groups_stick_to_the_user(acme: httpx.Client) -> None:
    split = Experiment(name="paywall", variants=[Variant(name=n) for n in ("a", "b", "c")])
    slug = fresh_site(acme, experiments=[msgspec.to_builtins(split)])
    user = unique("u")
    anonymous = open_session(acme, slug)
    assert anonymous["test_groups"] == {
        "paywall": variant_for(split, f"acme|{slug}", f"session:{anonymous['id']}")
    }
    given = open_session(acme, slug, test_groups={"paywall": "mine", "other": 1})
    assert given["test_groups"] == {"paywall": "mine", "other": 1}
    expected = variant_for(split, f"acme|{slug}", f"user:{user}")
    for _ in range(3):
        made = open_session(acme, slug)
        logged_in = event(acme, made["id"], type="login", user={"id": user}).json()
        assert logged_in["test_groups"] == {"paywall": expected}
    assert open_session(acme, slug, user={"id": user})["test_groups"] == {"paywall": expected}
    spread = {
        open_session(acme, slug, user={"id": unique("u")})["test_groups"]["paywall"]
        for _ in range(24)
    }
    assert len(spread) > 1, "different users should not all land in one variant"


def test_revoke_is_for_admins_and_final(stack: Stack, acme: httpx.Client, site: str) -> None:
    made = open_session(acme, site, user={"id": unique("u")})
    writer_key = acme.post("/v1/keys", json={"kind": "secret", "scopes": ["read", "write"]})
    with stack.client(writer_key.json()["key"]) as writer:
        refused = writer.post(f"/v1/sessions/{made['id']}/revoke")
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    revoked = acme.post(f"/v1/sessions/{made['id']}/revoke")
    assert revoked.status_code == 200
    body = revoked.json()
    assert body["status"] == "revoked" and body["released_at"] is not None
    assert body["version"] == made["version"] + 1
    again = acme.post(f"/v1/sessions/{made['id']}/revoke").json()
    assert again["version"] == body["version"]
    assert acme.post(f"/v1/sessions/{made['id']}/release").json()["error"]["code"] == (
        "session_revoked"
    )
    assert event(acme, made["id"], type="heartbeat").status_code == 409
    listed = acme.get("/v1/sessions", params={"site": site, "status": "revoked"}).json()
    assert made["id"] in [s["id"] for s in listed["data"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "teleport"}, "type"),
        ({}, "type"),
        ({"type": "login"}, "user"),
        ({"type": "login", "user": {}}, "user.id"),
        ({"type": "login", "user": {"id": ""}}, "user.id"),
        ({"type": "logout", "user": {"id": "a"}}, "user"),
        ({"type": "pageview", "content_id": 7}, "content_id"),
        ({"type": "pageview", "page_url": "x" * 5000}, "page_url"),
        ({"type": "heartbeat", "extra": 1}, "extra"),
    ],
)
def test_bad_events_are_refused_and_write_nothing(
    acme: httpx.Client, site: str, body: dict[str, Any], field: str
) -> None:
    made = open_session(acme, site)
    answer = event(acme, made["id"], **body)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_field" and error["details"]["field"] == field
    assert acme.get(f"/v1/sessions/{made['id']}").json()["version"] == made["version"]


def test_event_requests_that_name_no_session(
    acme: httpx.Client, globex: httpx.Client, site: str
) -> None:
    made = open_session(acme, site)
    empty = acme.post(f"/v1/sessions/{made['id']}/events", content=b"")
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "invalid_json"
    bad_id = event(acme, "not-a-uuid", type="heartbeat")
    assert bad_id.status_code == 400 and bad_id.json()["error"]["details"]["field"] == "id"
    missing = event(acme, "0190f5e4-0000-7000-8000-00000000abcd", type="heartbeat")
    theirs = event(globex, made["id"], type="login", user={"id": "mallory"})
    assert missing.status_code == theirs.status_code == 404
    assert theirs.json()["error"]["code"] == "session_not_found"
    assert globex.post(f"/v1/sessions/{made['id']}/revoke").status_code == 404
    assert acme.get(f"/v1/sessions/{made['id']}").json()["version"] == made["version"]
